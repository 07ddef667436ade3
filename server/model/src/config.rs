//! `showrunner.yaml`: the project configuration (spec 1.1).
//!
//! Every key but `name` is optional and has a default. Unknown keys and unusable values are
//! warnings (SR014) that name the key; the project still loads with the default for that key.

use crate::diag::{Code, Diagnostic};
use crate::goals::{Date, GoalsConfig};
use crate::kind::{AttrType, KindSchema, Kinds};
use crate::yaml::{self, Node, Value};

pub const CONFIG_FILE: &str = "showrunner.yaml";
pub const DEFAULT_BUDGET_TOKENS: u32 = 6000;
/// Files larger than this are not indexed (SR015); `index: { max_file_mb: N }` changes it.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    pub name: String,
    pub base_url: Option<String>,
    /// The name of the environment variable holding the key; never the key itself.
    pub api_key_env: Option<String>,
    /// The most tokens one answer may have (`max_tokens` on every request); a small local model
    /// on a slow machine wants a small one.
    pub max_tokens: Option<u32>,
    /// At most this many requests at once from this process.
    pub max_concurrency: Option<u32>,
    /// Requests per minute.
    pub rpm: Option<u32>,
    /// Tokens per minute.
    pub tpm: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JudgeConfig {
    pub approve_above: f64,
    pub review_above: f64,
    pub sensitive_topics: Vec<String>,
}

impl Default for JudgeConfig {
    fn default() -> Self {
        JudgeConfig { approve_above: 0.90, review_above: 0.70, sensitive_topics: Vec::new() }
    }
}

/// `linking:`: what the SR003 name finder knows of the project's languages.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkingConfig {
    /// The languages the project is written in (`language: en` or `[en, fr]`); each with a
    /// built-in list of words that are no names ([`crate::names::builtin_list`]).
    pub languages: Vec<String>,
    /// Extra words that are no names, for every language (`words: [Thane, Laird]`) …
    pub words: Vec<String>,
    /// … and per language (`words: { en: [Thane], nl: [De, Het] }`), used while that language
    /// is among `languages`; a language without a built-in list gets its words this way.
    pub words_by_language: Vec<(String, Vec<String>)>,
}

impl Default for LinkingConfig {
    fn default() -> Self {
        LinkingConfig {
            languages: vec![crate::names::DEFAULT_LANGUAGE.to_string()],
            words: Vec::new(),
            words_by_language: Vec::new(),
        }
    }
}

impl LinkingConfig {
    /// The words that are no names, from the built-in lists of the languages and the project's own.
    pub fn not_names(&self) -> crate::names::NotNames {
        let in_use = |lang: &str| self.languages.iter().any(|l| l.eq_ignore_ascii_case(lang));
        let extra = self
            .words
            .iter()
            .chain(self.words_by_language.iter().filter(|(lang, _)| in_use(lang)).flat_map(|(_, words)| words.iter()));
        crate::names::NotNames::new(self.languages.iter().map(String::as_str), extra.map(String::as_str))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProjectConfig {
    pub name: String,
    pub default_model: Option<String>,
    pub providers: Vec<Provider>,
    pub budget_tokens: u32,
    /// `entities: { link_hints: … }` as written; `None` when the key is absent. Editors get the
    /// SR001 hints only when it is `true` ([`ProjectConfig::editor_hints`]); `check --hints`
    /// prints them unless it is `false` ([`ProjectConfig::check_hints`]).
    pub link_hints: Option<bool>,
    pub kinds: Kinds,
    pub judge: JudgeConfig,
    pub daily_tokens: Option<u64>,
    /// `batch: { concurrency }`: how many runs of a batch at once (`--jobs` wins).
    pub batch_concurrency: Option<usize>,
    pub max_file_bytes: u64,
    pub linking: LinkingConfig,
    /// `goals:`: the writer's word goals (none when the key is absent).
    pub goals: GoalsConfig,
    /// `title:` for exports (the title page, the running header, EPUB metadata); the project's
    /// `name` when absent ([`ProjectConfig::export_title`]).
    pub title: Option<String>,
    /// `author:` for exports: the byline and the surname in a manuscript's running header.
    pub author: Option<String>,
    /// `contact:` for exports: the title page's contact block (lines kept).
    pub contact: Option<String>,
    /// `manuscript: { font: times | courier }`: the typeface of a manuscript export.
    pub manuscript_font: ManuscriptFont,
    /// `manuscript: { paper: letter | a4 }`: the page size of docx and pdf exports.
    pub paper: Paper,
}

/// The paper an export is set on: US Letter (the default) or A4.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Paper {
    #[default]
    Letter,
    A4,
}

impl Paper {
    /// Width and height in points (1/72 inch).
    pub fn points(self) -> (f32, f32) {
        match self {
            Paper::Letter => (612.0, 792.0),
            Paper::A4 => (595.28, 841.89),
        }
    }
}

/// The typefaces standard manuscript format allows: Times New Roman (the default) or Courier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ManuscriptFont {
    #[default]
    Times,
    Courier,
}

impl ManuscriptFont {
    /// The font's name, as a word processor knows it.
    pub fn family(self) -> &'static str {
        match self {
            ManuscriptFont::Times => "Times New Roman",
            ManuscriptFont::Courier => "Courier New",
        }
    }
}

impl ProjectConfig {
    /// Whether the language server publishes SR001 hints (one per mention): only when the
    /// project asks with `entities: { link_hints: true }`. Editors see mentions through semantic
    /// tokens; a hint on every name would underline all of them.
    pub fn editor_hints(&self) -> bool {
        self.link_hints == Some(true)
    }

    /// Whether `showrunner check --hints` prints SR001 hints: unless the project turns them off
    /// with `entities: { link_hints: false }` (what `--hints` did before the editors' default
    /// became off).
    pub fn check_hints(&self) -> bool {
        self.link_hints != Some(false)
    }

    /// The configuration a project gets when `showrunner.yaml` says nothing.
    pub fn with_name(name: &str) -> ProjectConfig {
        ProjectConfig {
            name: name.to_string(),
            default_model: None,
            providers: Vec::new(),
            budget_tokens: DEFAULT_BUDGET_TOKENS,
            link_hints: None,
            kinds: Kinds::default(),
            judge: JudgeConfig::default(),
            daily_tokens: None,
            batch_concurrency: None,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            linking: LinkingConfig::default(),
            goals: GoalsConfig::default(),
            title: None,
            author: None,
            contact: None,
            manuscript_font: ManuscriptFont::Times,
            paper: Paper::Letter,
        }
    }

    /// The title an export carries: `title:`, else the project's `name`.
    pub fn export_title(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }
}

const TOP_KEYS: &[&str] = &[
    "name",
    "default_model",
    "providers",
    "context",
    "entities",
    "kinds",
    "judge",
    "budget",
    "batch",
    "index",
    "linking",
    "goals",
    "title",
    "author",
    "contact",
    "manuscript",
];

/// Parses `showrunner.yaml`. `fallback_name` (the folder name) is used when `name` is missing.
pub fn parse_config(text: &str, fallback_name: &str) -> (ProjectConfig, Vec<Diagnostic>) {
    let mut cfg = ProjectConfig::with_name(fallback_name);
    let mut diags = Vec::new();
    let parsed = yaml::parse(text);
    for e in &parsed.errors {
        diags.push(Diagnostic::new(Code::SR010, e.range.clone(), format!("YAML syntax error: {}", e.message)));
    }
    let Some(root) = parsed.root else {
        diags.push(Diagnostic::new(Code::SR014, 0..0, "showrunner.yaml is empty; `name` is required"));
        return (cfg, diags);
    };
    let Some(entries) = root.as_map() else {
        diags.push(Diagnostic::new(
            Code::SR014,
            root.span.clone(),
            format!("showrunner.yaml must be a mapping of keys, found {}", root.type_name()),
        ));
        return (cfg, diags);
    };
    let mut w = Warn { diags: &mut diags };
    let mut has_name = false;
    for (k, v) in entries {
        let key = k.scalar_text().unwrap_or_default();
        match key.as_str() {
            "name" => match v.scalar_text() {
                Some(n) if !n.trim().is_empty() => {
                    cfg.name = n;
                    has_name = true;
                }
                _ => w.bad(v, "`name` must be the project's title as text"),
            },
            "default_model" => cfg.default_model = w.text(v, "default_model"),
            "providers" => cfg.providers = providers(v, &mut w),
            "context" => w.map(v, "context", &["budget_tokens"], |key, v, w| {
                if key == "budget_tokens" {
                    if let Some(n) = w.positive(v, "context.budget_tokens") {
                        cfg.budget_tokens = n.min(u32::MAX as u64) as u32;
                    }
                }
            }),
            "entities" => w.map(v, "entities", &["link_hints"], |_, v, w| match v.value {
                Value::Bool(b) => cfg.link_hints = Some(b),
                _ => w.bad(v, "`entities.link_hints` must be true or false"),
            }),
            "kinds" => kinds(v, &mut cfg.kinds, &mut w),
            "judge" => {
                w.map(v, "judge", &["approve_above", "review_above", "sensitive_topics"], |key, v, w| match key {
                    "approve_above" => {
                        cfg.judge.approve_above = w.fraction(v, "judge.approve_above", cfg.judge.approve_above)
                    }
                    "review_above" => {
                        cfg.judge.review_above = w.fraction(v, "judge.review_above", cfg.judge.review_above)
                    }
                    _ => cfg.judge.sensitive_topics = w.text_list(v, "judge.sensitive_topics"),
                })
            }
            "budget" => w.map(v, "budget", &["daily_tokens"], |_, v, w| {
                cfg.daily_tokens = w.positive(v, "budget.daily_tokens");
            }),
            "batch" => w.map(v, "batch", &["concurrency"], |_, v, w| {
                cfg.batch_concurrency = w.positive(v, "batch.concurrency").map(|n| n.min(256) as usize);
            }),
            "index" => w.map(v, "index", &["max_file_mb"], |_, v, w| {
                if let Some(mb) = w.positive(v, "index.max_file_mb") {
                    cfg.max_file_bytes = mb.saturating_mul(1024 * 1024);
                }
            }),
            "linking" => cfg.linking = linking(v, &mut w),
            "goals" => cfg.goals = goals(v, &mut w),
            "title" => cfg.title = w.text(v, "title"),
            "author" => cfg.author = w.text(v, "author"),
            "contact" => cfg.contact = w.text(v, "contact"),
            "manuscript" => w.map(v, "manuscript", &["font", "paper"], |k, v, w| match k {
                "font" => match w.text(v, "manuscript.font").map(|f| f.trim().to_lowercase()).as_deref() {
                    Some("times" | "times new roman") => cfg.manuscript_font = ManuscriptFont::Times,
                    Some("courier" | "courier new") => cfg.manuscript_font = ManuscriptFont::Courier,
                    Some(other) => w.bad(
                        v,
                        &format!(
                            "`manuscript.font` is `times` or `courier` (standard manuscript format), not `{other}`"
                        ),
                    ),
                    None => {}
                },
                _ => match w.text(v, "manuscript.paper").map(|f| f.trim().to_lowercase()).as_deref() {
                    Some("letter" | "us letter" | "us-letter") => cfg.paper = Paper::Letter,
                    Some("a4") => cfg.paper = Paper::A4,
                    Some(other) => w.bad(v, &format!("`manuscript.paper` is `letter` or `a4`, not `{other}`")),
                    None => {}
                },
            }),
            _ => w.unknown(k, &key, "", TOP_KEYS),
        }
    }
    if !has_name {
        diags.push(Diagnostic::new(
            Code::SR014,
            root.span.start..root.span.start,
            format!("showrunner.yaml has no `name`; using \"{fallback_name}\""),
        ));
    }
    (cfg, diags)
}

fn providers(v: &Node, w: &mut Warn) -> Vec<Provider> {
    let mut out = Vec::new();
    let Some(entries) = v.as_map() else {
        w.bad(v, "`providers` must map provider names to `{ base_url, api_key_env }`");
        return out;
    };
    for (k, pv) in entries {
        let name = k.scalar_text().unwrap_or_default();
        let mut p = Provider {
            name: name.clone(),
            base_url: None,
            api_key_env: None,
            max_tokens: None,
            max_concurrency: None,
            rpm: None,
            tpm: None,
        };
        let prefix = format!("providers.{name}");
        let keys = ["base_url", "api_key_env", "max_tokens", "max_concurrency", "rpm", "tpm", "api_key"];
        w.map(pv, &prefix, &keys, |key, v, w| match key {
            "base_url" => p.base_url = w.text(v, "base_url"),
            "api_key_env" => p.api_key_env = w.text(v, "api_key_env"),
            "max_tokens" | "max_concurrency" | "rpm" | "tpm" => {
                let n = w.positive(v, &format!("providers.{name}.{key}")).map(|n| n.min(u64::from(u32::MAX)) as u32);
                match key {
                    "max_tokens" => p.max_tokens = n,
                    "max_concurrency" => p.max_concurrency = n,
                    "rpm" => p.rpm = n,
                    _ => p.tpm = n,
                }
            }
            // A literal key in a file would leak into history and backups: refuse it.
            _ => w.bad(v, "API keys are read from environment variables only: use `api_key_env: VAR_NAME`"),
        });
        out.push(p);
    }
    out
}

/// `linking: { language: en | [en, fr], words: [..] | { en: [..], nl: [..] } }`.
fn linking(v: &Node, w: &mut Warn) -> LinkingConfig {
    let mut cfg = LinkingConfig::default();
    let mut language_node = None;
    let mut word_keys: Vec<(String, Node)> = Vec::new();
    w.map(v, "linking", &["language", "words"], |key, v, w| match key {
        "language" => {
            let langs: Vec<String> = match &v.value {
                Value::Seq(_) => w.text_list(v, "linking.language"),
                _ => v.scalar_text().into_iter().collect(),
            };
            let langs: Vec<String> =
                langs.into_iter().map(|l| l.trim().to_lowercase()).filter(|l| !l.is_empty()).collect();
            if langs.is_empty() {
                w.bad(v, "`linking.language` must be a language code such as `en`, or a list of them");
            } else {
                cfg.languages = langs;
                language_node = Some(v.clone());
            }
        }
        _ => match &v.value {
            Value::Map(entries) => {
                for (lk, lv) in entries {
                    let lang = lk.scalar_text().unwrap_or_default().trim().to_lowercase();
                    let words = w.text_list(lv, &format!("linking.words.{lang}"));
                    word_keys.push((lang.clone(), lk.clone()));
                    cfg.words_by_language.push((lang, words));
                }
            }
            _ => cfg.words = w.text_list(v, "linking.words"),
        },
    });
    for (lang, key) in &word_keys {
        if !cfg.languages.contains(lang) {
            w.bad(
                key,
                &format!(
                    "words for `{lang}` apply only while `{lang}` is in `linking.language` (now: {})",
                    cfg.languages.join(", ")
                ),
            );
        }
    }
    if let Some(node) = language_node {
        let builtin: Vec<&str> = crate::names::builtin_languages().collect();
        for lang in &cfg.languages {
            let has_words = cfg.words_by_language.iter().any(|(l, words)| l == lang && !words.is_empty());
            if crate::names::builtin_list(lang).is_none() && !has_words {
                w.bad(
                    &node,
                    &format!(
                        "no built-in word list for language `{lang}` (built in: {}); add its words that are never names under `linking.words.{lang}`",
                        builtin.join(", ")
                    ),
                );
            }
        }
    }
    cfg
}

/// `goals: { project_words, deadline, daily_words, session_words }` (`project`, `daily` and
/// `session` are accepted for the `_words` keys).
fn goals(v: &Node, w: &mut Warn) -> GoalsConfig {
    const KEYS: &[&str] = &["project_words", "deadline", "daily_words", "session_words", "project", "daily", "session"];
    let mut g = GoalsConfig::default();
    if v.is_null() {
        return g;
    }
    w.map(v, "goals", KEYS, |key, v, w| match key.trim_end_matches("_words") {
        "deadline" => {
            let date = v.scalar_text().as_deref().and_then(Date::parse);
            if date.is_none() {
                w.bad(v, "`goals.deadline` must be a date written YYYY-MM-DD, such as 2027-03-01");
            }
            g.deadline = date;
        }
        "project" => g.project_words = w.positive(v, "goals.project_words"),
        "daily" => g.daily_words = w.positive(v, "goals.daily_words"),
        _ => g.session_words = w.positive(v, "goals.session_words"),
    });
    if g.deadline.is_some() && g.project_words.is_none() {
        w.bad(v, "`goals.deadline` needs `goals.project_words`: the deadline is when the project goal is due");
    }
    g
}

fn kinds(v: &Node, kinds: &mut Kinds, w: &mut Warn) {
    let Some(entries) = v.as_map() else {
        w.bad(v, "`kinds` must map kind names to `{ attributes: { name: type } }`");
        return;
    };
    for (k, kv) in entries {
        let name = k.scalar_text().unwrap_or_default();
        if !crate::id::is_valid_id(&name) {
            w.bad(k, &format!("kind `{name}` is not a valid name (letters, digits, - and _)"));
            continue;
        }
        let mut schema = KindSchema::default();
        let prefix = format!("kinds.{name}");
        if !kv.is_null() {
            w.map(kv, &prefix, &["attributes"], |_, attrs, w| {
                let Some(attrs) = attrs.as_map() else {
                    w.bad(attrs, "`attributes` must map attribute names to types");
                    return;
                };
                for (ak, av) in attrs {
                    let aname = ak.scalar_text().unwrap_or_default();
                    let ty = match &av.value {
                        Value::Seq(items) => {
                            Some(AttrType::OneOf(items.iter().filter_map(Node::scalar_text).collect()))
                        }
                        _ => av.scalar_text().and_then(|t| AttrType::parse(&t)),
                    };
                    match ty {
                        Some(ty) => {
                            schema.attributes.insert(aname, ty);
                        }
                        None => w.bad(
                            av,
                            "unknown attribute type: use text, number, integer, boolean, date, ref, refs, list or a list of allowed values",
                        ),
                    }
                }
            });
        }
        kinds.define(&name, schema);
    }
}

/// Collects SR014 warnings while reading the config.
struct Warn<'a> {
    diags: &'a mut Vec<Diagnostic>,
}

impl Warn<'_> {
    fn bad(&mut self, node: &Node, message: &str) {
        self.diags.push(Diagnostic::new(Code::SR014, node.span.clone(), message.to_string()));
    }

    fn unknown(&mut self, key: &Node, name: &str, prefix: &str, known: &[&str]) {
        let full = if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") };
        let hint = crate::id::closest(name, known.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        self.diags.push(Diagnostic::new(Code::SR014, key.span.clone(), format!("unknown key `{full}`{hint}")));
    }

    /// Walks a nested mapping, warning on keys outside `known`.
    fn map(&mut self, node: &Node, prefix: &str, known: &[&str], mut each: impl FnMut(&str, &Node, &mut Self)) {
        let Some(entries) = node.as_map() else {
            self.bad(node, &format!("`{prefix}` must be a mapping, found {}", node.type_name()));
            return;
        };
        for (k, v) in entries {
            let key = k.scalar_text().unwrap_or_default();
            if known.contains(&key.as_str()) {
                each(&key, v, self);
            } else {
                self.unknown(k, &key, prefix, known);
            }
        }
    }

    fn text(&mut self, v: &Node, key: &str) -> Option<String> {
        match v.as_str() {
            Some(s) => Some(s.to_string()),
            None if v.is_null() => None,
            None => {
                self.bad(v, &format!("`{key}` must be text"));
                None
            }
        }
    }

    fn text_list(&mut self, v: &Node, key: &str) -> Vec<String> {
        match &v.value {
            Value::Seq(items) => items.iter().filter_map(Node::scalar_text).collect(),
            Value::Null => Vec::new(),
            _ => {
                self.bad(v, &format!("`{key}` must be a list"));
                Vec::new()
            }
        }
    }

    fn positive(&mut self, v: &Node, key: &str) -> Option<u64> {
        match v.value {
            Value::Int(i) if i > 0 => Some(i as u64),
            _ => {
                self.bad(v, &format!("`{key}` must be a positive whole number"));
                None
            }
        }
    }

    fn fraction(&mut self, v: &Node, key: &str, default: f64) -> f64 {
        let x = match v.value {
            Value::Float(f) => f,
            Value::Int(i) => i as f64,
            _ => -1.0,
        };
        if (0.0..=1.0).contains(&x) {
            x
        } else {
            self.bad(v, &format!("`{key}` must be a number from 0 to 1"));
            default
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_config_reads_every_key() {
        let text = r#"name: The Lighthouse
default_model: local/llama3.1
providers:
  local:  { base_url: "http://127.0.0.1:11434/v1" }
  openai: { base_url: "https://api.example/v1", api_key_env: OPENAI_API_KEY, max_tokens: 512, max_concurrency: 8, rpm: 60, tpm: 90000 }
context: { budget_tokens: 6000 }
entities: { link_hints: false }
kinds:
  ship: { attributes: { tonnage: number, captain: ref } }
judge: { approve_above: 0.95, review_above: 0.5, sensitive_topics: [politics, "legal claims"] }
budget: { daily_tokens: 2000000 }
batch: { concurrency: 4 }
"#;
        let (cfg, diags) = parse_config(text, "x");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(cfg.name, "The Lighthouse");
        assert_eq!(cfg.providers[1].api_key_env.as_deref(), Some("OPENAI_API_KEY"));
        assert_eq!(cfg.providers[1].max_tokens, Some(512));
        assert_eq!(
            (cfg.providers[1].max_concurrency, cfg.providers[1].rpm, cfg.providers[1].tpm),
            (Some(8), Some(60), Some(90000))
        );
        assert_eq!(cfg.link_hints, Some(false));
        assert!(!cfg.editor_hints() && !cfg.check_hints());
        assert_eq!(cfg.kinds.get("ship").unwrap().attributes["captain"], AttrType::Ref);
        assert_eq!(cfg.judge.sensitive_topics, vec!["politics", "legal claims"]);
        assert_eq!(cfg.daily_tokens, Some(2_000_000));
        assert_eq!(cfg.batch_concurrency, Some(4));
    }

    #[test]
    fn link_hints_reach_editors_only_when_asked() {
        let hints = |text: &str| {
            let (cfg, diags) = parse_config(text, "x");
            assert!(diags.is_empty(), "{diags:?}");
            (cfg.link_hints, cfg.editor_hints(), cfg.check_hints())
        };
        // Not set: no SR001 in editors, `check --hints` prints them.
        assert_eq!(hints("name: X\n"), (None, false, true));
        assert_eq!(hints("name: X\nentities: { link_hints: true }\n"), (Some(true), true, true));
        assert_eq!(hints("name: X\nentities: { link_hints: false }\n"), (Some(false), false, false));
    }

    #[test]
    fn a_manuscript_in_courier_and_a_font_it_does_not_allow() {
        let (cfg, diags) = parse_config("name: n\nmanuscript: { font: Courier }\n", "x");
        assert_eq!(cfg.manuscript_font, ManuscriptFont::Courier);
        assert!(diags.is_empty(), "{diags:?}");
        let text = "name: n\nmanuscript:\n  font: Comic Sans\n";
        let (cfg, diags) = parse_config(text, "x");
        assert_eq!(cfg.manuscript_font, ManuscriptFont::Times);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].message.contains("`manuscript.font` is `times` or `courier`"), "{diags:?}");
        assert_eq!(&text[diags[0].range.clone()], "Comic Sans");
    }

    #[test]
    fn export_keys_author_contact_title() {
        let text = "name: lighthouse\ntitle: The Keeper's Daughter\nauthor: Zoë Łukasz-Brontë\ncontact: |\n  Zoë Łukasz-Brontë\n  zoe@example.com\nautor: typo\n";
        let (cfg, diags) = parse_config(text, "x");
        assert_eq!(cfg.export_title(), "The Keeper's Daughter");
        assert_eq!(cfg.author.as_deref(), Some("Zoë Łukasz-Brontë"));
        assert_eq!(cfg.contact.as_deref(), Some("Zoë Łukasz-Brontë\nzoe@example.com\n"));
        let msgs: Vec<_> = diags.iter().map(|d| d.message.clone()).collect();
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert!(msgs[0].contains("unknown key `autor`; did you mean `author`?"), "{msgs:?}");
        let (cfg, diags) = parse_config("name: X\nauthor: [a, b]\n", "x");
        assert_eq!(cfg.author, None);
        assert!(diags.iter().any(|d| d.code == Code::SR014 && d.message.contains("`author` must be text")));
        assert_eq!(cfg.export_title(), "X");
    }

    #[test]
    fn unknown_keys_and_bad_values_warn() {
        let text =
            "name: X\ncontxt: {}\ncontext: { budget_tokens: lots, extra: 1 }\nproviders:\n  p: { api_key: sk-123 }\n";
        let (cfg, diags) = parse_config(text, "x");
        let msgs: Vec<_> = diags.iter().map(|d| (d.code, d.message.clone())).collect();
        assert!(msgs.iter().all(|(c, _)| *c == Code::SR014), "{msgs:?}");
        assert!(msgs[0].1.contains("unknown key `contxt`; did you mean `context`?"), "{msgs:?}");
        assert!(msgs.iter().any(|(_, m)| m.contains("budget_tokens")));
        assert!(msgs.iter().any(|(_, m)| m.contains("unknown key `context.extra`")));
        assert!(msgs.iter().any(|(_, m)| m.contains("environment variables only")));
        assert_eq!(cfg.budget_tokens, DEFAULT_BUDGET_TOKENS);
        let at = &text[diags[0].range.clone()];
        assert_eq!(at, "contxt");
    }

    #[test]
    fn linking_languages_and_words() {
        let (cfg, diags) = parse_config("name: X\n", "x");
        assert!(diags.is_empty());
        assert_eq!(cfg.linking.languages, vec!["en"]);
        assert!(cfg.linking.not_names().is_edge_word("Upon"));

        let text = "name: X\nlinking: { language: [EN, fr], words: { en: [Thane, Laird.], fr: [Sieur] } }\n";
        let (cfg, diags) = parse_config(text, "x");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(cfg.linking.languages, vec!["en", "fr"]);
        let words = cfg.linking.not_names();
        assert!(words.is_edge_word("Thane") && words.is_edge_word("Sieur") && words.is_edge_word("Monsieur"));
        assert!(words.is_abbreviation("laird"));

        let (cfg, diags) = parse_config("name: X\nlinking: { words: [Thane] }\n", "x");
        assert!(diags.is_empty() && cfg.linking.not_names().is_edge_word("thane"));

        // A language with no built-in list needs words; words for a language not in use warn.
        let text = "name: X\nlinking: { language: nl, words: { de: [Herr] } }\n";
        let (cfg, diags) = parse_config(text, "x");
        let msgs: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(diags.len(), 2, "{msgs:?}");
        assert!(msgs
            .iter()
            .any(|m| m.contains("no built-in word list for language `nl`") && m.contains("linking.words.nl")));
        assert!(msgs.iter().any(|m| m.contains("words for `de` apply only while `de` is in `linking.language`")));
        assert_eq!(&text[diags.iter().find(|d| d.message.contains("`de`")).unwrap().range.clone()], "de");
        assert!(!cfg.linking.not_names().is_edge_word("Herr"));
        let (_, diags) = parse_config("name: X\nlinking: { language: nl, words: { nl: [De, Het] } }\n", "x");
        assert!(diags.is_empty(), "{diags:?}");
        let (_, diags) = parse_config("name: X\nlinking: { langage: en }\n", "x");
        assert!(diags[0].message.contains("did you mean `language`"), "{diags:?}");
    }

    #[test]
    fn goals_read_and_bad_values_warn() {
        let (cfg, diags) =
            parse_config("name: X\ngoals: { project_words: 90000, deadline: 2027-03-01, session_words: 500 }\n", "x");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(cfg.goals.project_words, Some(90_000));
        assert_eq!(cfg.goals.deadline.map(|d| d.to_string()).as_deref(), Some("2027-03-01"));
        assert_eq!((cfg.goals.daily_words, cfg.goals.session_words), (None, Some(500)));

        let text =
            "name: X\ngoals:\n  project_words: lots\n  deadline: 2027-02-30\n  dayly_words: 1000\n  session_words: -5\n";
        let (cfg, diags) = parse_config(text, "x");
        let msgs: Vec<(&str, &str)> = diags.iter().map(|d| (&text[d.range.clone()], d.message.as_str())).collect();
        assert!(diags.iter().all(|d| d.code == Code::SR014), "{msgs:?}");
        assert!(msgs.contains(&("lots", "`goals.project_words` must be a positive whole number")), "{msgs:?}");
        assert!(msgs.iter().any(|(at, m)| *at == "2027-02-30" && m.contains("YYYY-MM-DD")), "{msgs:?}");
        assert!(
            msgs.iter().any(|(at, m)| *at == "dayly_words"
                && m.contains("unknown key `goals.dayly_words`; did you mean `daily_words`?")),
            "{msgs:?}"
        );
        assert!(msgs.iter().any(|(at, m)| *at == "-5" && m.contains("goals.session_words")), "{msgs:?}");
        assert_eq!(cfg.goals, GoalsConfig::default());

        let (cfg, diags) = parse_config("name: X\ngoals: { project: 1000, daily: 10, session: 5 }\n", "x");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            (cfg.goals.project_words, cfg.goals.daily_words, cfg.goals.session_words),
            (Some(1000), Some(10), Some(5))
        );
        let (_, diags) = parse_config("name: X\ngoals: { deadline: 2027-03-01 }\n", "x");
        assert!(diags[0].message.contains("needs `goals.project_words`"), "{diags:?}");
        let (_, diags) = parse_config("name: X\ngoals: 500\n", "x");
        assert!(diags[0].message.contains("`goals` must be a mapping"), "{diags:?}");
    }

    #[test]
    fn missing_name_falls_back_to_folder() {
        let (cfg, diags) = parse_config("default_model: a/b\n", "my-story");
        assert_eq!(cfg.name, "my-story");
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.contains("no `name`"));
    }
}

//! Buckets: the universal container (spec 1.2), read from one YAML file each.
//!
//! [`parse_bucket`] never fails: it returns the best bucket it can make from the file and every
//! problem it found with a byte range. Checks that need the whole project (unknown references,
//! duplicate ids, structure) live in [`crate::analysis`].

use crate::diag::{Code, Diagnostic};
use crate::id;
use crate::kind::{AttrType, Kinds};
use crate::text::TextRange;
use crate::yaml::{self, Node, Value};

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub range: TextRange,
}

impl<T> Spanned<T> {
    pub fn new(value: T, range: TextRange) -> Self {
        Spanned { value, range }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub rel_type: String,
    pub target: Spanned<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub key: Spanned<String>,
    pub value: serde_json::Value,
    pub value_range: TextRange,
}

/// A timeline position: `{ main: 12 }` → `[("main", 12)]`.
pub type Positions = Vec<(String, i64)>;

#[derive(Debug, Clone, PartialEq)]
pub struct Progression {
    pub at: Positions,
    pub attributes: Vec<(String, serde_json::Value)>,
    pub summary: Option<String>,
    pub range: TextRange,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContextWindow {
    pub priority: Priority,
    pub max_tokens: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    pub id: Spanned<String>,
    pub kind: Spanned<String>,
    pub name: Spanned<String>,
    /// The range of the `name:` key, where go-to-definition lands.
    pub name_key: TextRange,
    pub aliases: Vec<Spanned<String>>,
    pub parent: Option<Spanned<String>>,
    pub tags: Vec<String>,
    pub summary: Option<String>,
    pub body: Option<String>,
    pub attributes: Vec<Attribute>,
    pub relations: Vec<Relation>,
    pub keywords: Vec<Spanned<String>>,
    pub sources: Vec<String>,
    pub progressions: Vec<Progression>,
    pub context_window: ContextWindow,
    pub timeline_positions: Positions,
    pub model_preference: Option<String>,
    pub version: Option<u64>,
}

impl Bucket {
    /// The name and every alias: the strings that link a mention to this bucket.
    pub fn names(&self) -> impl Iterator<Item = &Spanned<String>> {
        std::iter::once(&self.name).chain(self.aliases.iter())
    }

    pub fn attribute(&self, key: &str) -> Option<&serde_json::Value> {
        self.attributes.iter().find(|a| a.key.value == key).map(|a| &a.value)
    }
}

pub const BUCKET_KEYS: &[&str] = &[
    "id",
    "kind",
    "name",
    "aliases",
    "parent",
    "tags",
    "summary",
    "body",
    "attributes",
    "relations",
    "keywords",
    "sources",
    "progressions",
    "context_window",
    "timeline_positions",
    "model_preference",
    "version",
];

/// Parses one bucket file. `stem` is the file name without extension (the default id).
pub fn parse_bucket(text: &str, stem: &str, kinds: &Kinds) -> (Option<Bucket>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let parsed = yaml::parse(text);
    for e in &parsed.errors {
        diags.push(Diagnostic::new(Code::SR010, e.range.clone(), format!("YAML syntax error: {}", e.message)));
    }
    let root = match parsed.root {
        Some(root) => root,
        None => {
            if parsed.errors.is_empty() {
                diags.push(Diagnostic::new(
                    Code::SR011,
                    0..0,
                    "empty bucket file: a bucket needs at least `kind` and `name`",
                ));
            }
            return (None, diags);
        }
    };
    if root.as_map().is_none() {
        diags.push(Diagnostic::new(
            Code::SR011,
            root.span.clone(),
            format!("a bucket file must be a YAML mapping with `kind` and `name`, found {}", root.type_name()),
        ));
        return (None, diags);
    }
    let mut r = Reader { diags: &mut diags };

    let id = match root.get("id") {
        Some(v) if !v.is_null() => match v.scalar_text() {
            Some(s) if id::is_valid_id(&s) => Spanned::new(s, v.span.clone()),
            Some(s) => {
                let fallback = id::slugify(&s).or_else(|| id::slugify(stem)).unwrap_or_else(|| "bucket".into());
                r.err(
                    Code::SR011,
                    v,
                    format!("id `{s}` is not a valid id (letters, digits, - and _ only); read as `{fallback}`"),
                );
                Spanned::new(fallback, v.span.clone())
            }
            None => {
                r.err(Code::SR011, v, format!("`id` must be text, found {}", v.type_name()));
                Spanned::new(default_id(stem), v.span.clone())
            }
        },
        _ => Spanned::new(default_id(stem), 0..0),
    };

    let head = root.span.start..root.span.start;
    let kind = match root.get("kind") {
        Some(v) => match v.scalar_text() {
            Some(k) if kinds.contains(&k) => Spanned::new(k, v.span.clone()),
            Some(k) => {
                let known: Vec<&str> = kinds.names().collect();
                let hint =
                    id::closest(&k, known.iter().copied()).map(|s| format!("did you mean `{s}`? ")).unwrap_or_default();
                r.err(Code::SR011, v, format!("unknown kind `{k}`: {hint}known kinds are {}; add custom ones under `kinds:` in showrunner.yaml", known.join(", ")));
                Spanned::new(k, v.span.clone())
            }
            None => {
                r.err(Code::SR011, v, "`kind` must be text");
                Spanned::new("note".into(), v.span.clone())
            }
        },
        None => {
            r.diags.push(Diagnostic::new(Code::SR011, head.clone(), "bucket has no `kind`"));
            Spanned::new("note".into(), head.clone())
        }
    };

    let (name, name_key) = match root.entry("name") {
        Some((k, v)) => match v.scalar_text() {
            Some(n) if !n.trim().is_empty() => (Spanned::new(n.trim().to_string(), v.span.clone()), k.span.clone()),
            _ => {
                r.err(Code::SR011, v, "`name` must be non-empty text");
                (Spanned::new(id.value.clone(), v.span.clone()), k.span.clone())
            }
        },
        None => {
            r.diags.push(Diagnostic::new(Code::SR011, head.clone(), "bucket has no `name`"));
            (Spanned::new(id.value.clone(), head.clone()), head.clone())
        }
    };

    let mut bucket = Bucket {
        id,
        kind,
        name,
        name_key,
        aliases: Vec::new(),
        parent: None,
        tags: Vec::new(),
        summary: None,
        body: None,
        attributes: Vec::new(),
        relations: Vec::new(),
        keywords: Vec::new(),
        sources: Vec::new(),
        progressions: Vec::new(),
        context_window: ContextWindow::default(),
        timeline_positions: Vec::new(),
        model_preference: None,
        version: None,
    };

    for (k, v) in root.as_map().unwrap_or_default() {
        let key = k.scalar_text().unwrap_or_default();
        match key.as_str() {
            "id" | "kind" | "name" => {}
            "aliases" => {
                bucket.aliases = r.strings(v, "aliases").into_iter().filter(|a| !a.value.trim().is_empty()).collect()
            }
            "parent" => bucket.parent = r.opt_ref(v, "parent"),
            "tags" => bucket.tags = r.strings(v, "tags").into_iter().map(|s| s.value).collect(),
            "summary" => bucket.summary = r.opt_text(v, "summary"),
            "body" => bucket.body = r.opt_text(v, "body"),
            "attributes" => bucket.attributes = r.attributes(v),
            "relations" => bucket.relations = r.relations(v),
            "keywords" => bucket.keywords = r.strings(v, "keywords"),
            "sources" => bucket.sources = r.strings(v, "sources").into_iter().map(|s| s.value).collect(),
            "progressions" => bucket.progressions = r.progressions(v),
            "context_window" => bucket.context_window = r.context_window(v),
            "timeline_positions" => bucket.timeline_positions = r.positions(v, "timeline_positions"),
            "model_preference" => bucket.model_preference = r.opt_text(v, "model_preference"),
            "version" => match v.value {
                Value::Int(n) if n >= 0 => bucket.version = Some(n as u64),
                Value::Null => {}
                _ => r.err(Code::SR011, v, "`version` is maintained by Showrunner and must be a whole number"),
            },
            // Other keys are the writer's own notes; they are kept in the file and ignored here.
            _ => {}
        }
    }
    check_schema(&bucket, kinds, &mut diags);
    (Some(bucket), diags)
}

fn default_id(stem: &str) -> String {
    if id::is_valid_id(stem) {
        stem.to_string()
    } else {
        id::slugify(stem).unwrap_or_else(|| "bucket".into())
    }
}

/// SR013: attributes declared by the kind must have the declared type.
fn check_schema(bucket: &Bucket, kinds: &Kinds, diags: &mut Vec<Diagnostic>) {
    let Some(schema) = kinds.get(&bucket.kind.value) else { return };
    for attr in &bucket.attributes {
        let Some(ty) = schema.attributes.get(&attr.key.value) else { continue };
        if !value_fits(&attr.value, ty) {
            diags.push(Diagnostic::new(
                Code::SR013,
                attr.value_range.clone(),
                format!(
                    "attribute `{}` of a {} must be {}, found {}",
                    attr.key.value,
                    bucket.kind.value,
                    ty.describe(),
                    json_type_name(&attr.value)
                ),
            ));
        }
    }
    for p in &bucket.progressions {
        for (key, value) in &p.attributes {
            if let Some(ty) = schema.attributes.get(key) {
                if !value_fits(value, ty) {
                    diags.push(Diagnostic::new(
                        Code::SR013,
                        p.range.clone(),
                        format!(
                            "progression sets `{key}` to {}, but a {} needs {}",
                            json_type_name(value),
                            bucket.kind.value,
                            ty.describe()
                        ),
                    ));
                }
            }
        }
    }
}

/// Whether a value has a schema type. `null` always fits: it means "not known yet".
pub fn value_fits(v: &serde_json::Value, ty: &AttrType) -> bool {
    use serde_json::Value as J;
    match (ty, v) {
        (_, J::Null) => true,
        (AttrType::Text, J::String(_)) => true,
        (AttrType::Number, J::Number(_)) => true,
        (AttrType::Integer, J::Number(n)) => n.is_i64() || n.is_u64(),
        (AttrType::Boolean, J::Bool(_)) => true,
        (AttrType::Date, J::String(s)) => is_date(s),
        (AttrType::Date, J::Number(n)) => n.as_i64().is_some_and(|y| (0..=9999).contains(&y)),
        (AttrType::Ref, J::String(s)) => id::is_valid_id(s),
        (AttrType::List, J::Array(_)) => true,
        (AttrType::RefList, J::Array(items)) => items.iter().all(|i| i.as_str().is_some_and(id::is_valid_id)),
        (AttrType::OneOf(allowed), v) => {
            let text = match v {
                J::String(s) => s.clone(),
                other => other.to_string(),
            };
            allowed.contains(&text)
        }
        _ => false,
    }
}

fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let ok = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [y] => ok(y, 4),
        [y, m] => ok(y, 4) && ok(m, 2),
        [y, m, d] => ok(y, 4) && ok(m, 2) && ok(d, 2),
        _ => false,
    }
}

fn json_type_name(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "nothing".into(),
        serde_json::Value::Bool(b) => format!("`{b}`"),
        serde_json::Value::Number(n) => format!("the number {n}"),
        serde_json::Value::String(s) => format!("\"{s}\""),
        serde_json::Value::Array(_) => "a list".into(),
        serde_json::Value::Object(_) => "a mapping".into(),
    }
}

/// Reads typed fields, reporting SR011 for values of the wrong shape.
struct Reader<'a> {
    diags: &'a mut Vec<Diagnostic>,
}

impl Reader<'_> {
    fn err(&mut self, code: Code, node: &Node, message: impl Into<String>) {
        self.diags.push(Diagnostic::new(code, node.span.clone(), message));
    }

    fn opt_text(&mut self, v: &Node, key: &str) -> Option<String> {
        match &v.value {
            Value::Null => None,
            Value::Str(s) => Some(s.clone()),
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => v.scalar_text(),
            _ => {
                self.err(Code::SR011, v, format!("`{key}` must be text, found {}", v.type_name()));
                None
            }
        }
    }

    /// A reference to another bucket's id (validity of the target is checked project-wide).
    fn opt_ref(&mut self, v: &Node, key: &str) -> Option<Spanned<String>> {
        match v.scalar_text() {
            Some(s) if !s.is_empty() => Some(Spanned::new(s, v.span.clone())),
            _ if v.is_null() => None,
            _ => {
                self.err(Code::SR011, v, format!("`{key}` must be a bucket id, found {}", v.type_name()));
                None
            }
        }
    }

    /// A list of strings; a single string is read as a list of one.
    fn strings(&mut self, v: &Node, key: &str) -> Vec<Spanned<String>> {
        match &v.value {
            Value::Null => Vec::new(),
            Value::Seq(items) => items
                .iter()
                .filter_map(|i| match i.scalar_text() {
                    Some(s) => Some(Spanned::new(s, i.span.clone())),
                    None => {
                        self.err(Code::SR011, i, format!("items of `{key}` must be text, found {}", i.type_name()));
                        None
                    }
                })
                .collect(),
            _ => match v.scalar_text() {
                Some(s) => vec![Spanned::new(s, v.span.clone())],
                None => {
                    self.err(Code::SR011, v, format!("`{key}` must be a list, found {}", v.type_name()));
                    Vec::new()
                }
            },
        }
    }

    fn attributes(&mut self, v: &Node) -> Vec<Attribute> {
        match &v.value {
            Value::Null => Vec::new(),
            Value::Map(entries) => entries
                .iter()
                .map(|(k, v)| Attribute {
                    key: Spanned::new(k.scalar_text().unwrap_or_default(), k.span.clone()),
                    value: v.to_json(),
                    value_range: v.span.clone(),
                })
                .collect(),
            _ => {
                self.err(Code::SR011, v, format!("`attributes` must be a mapping, found {}", v.type_name()));
                Vec::new()
            }
        }
    }

    fn relations(&mut self, v: &Node) -> Vec<Relation> {
        let Some(items) = v.as_seq() else {
            if !v.is_null() {
                self.err(Code::SR011, v, "`relations` must be a list of `{ type, target }`");
            }
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let rel_type = item.get("type").and_then(Node::scalar_text);
            let target = item.get("target");
            match (rel_type, target.and_then(|t| t.scalar_text().map(|s| (s, t.span.clone())))) {
                (Some(rel_type), Some((target, range))) => {
                    out.push(Relation { rel_type, target: Spanned::new(target, range) })
                }
                _ => self.err(Code::SR011, item, "a relation needs `type` and `target` (a bucket id)"),
            }
        }
        out
    }

    fn positions(&mut self, v: &Node, key: &str) -> Positions {
        match &v.value {
            Value::Null => Vec::new(),
            Value::Map(entries) => entries
                .iter()
                .filter_map(|(k, v)| match v.value {
                    Value::Int(n) => Some((k.scalar_text().unwrap_or_default(), n)),
                    Value::Float(f) => Some((k.scalar_text().unwrap_or_default(), f as i64)),
                    _ => {
                        self.err(Code::SR011, v, format!("`{key}` positions must be numbers"));
                        None
                    }
                })
                .collect(),
            _ => {
                self.err(Code::SR011, v, format!("`{key}` must map timelines to positions, e.g. `{{ main: 3 }}`"));
                Vec::new()
            }
        }
    }

    fn progressions(&mut self, v: &Node) -> Vec<Progression> {
        let Some(items) = v.as_seq() else {
            if !v.is_null() {
                self.err(Code::SR011, v, "`progressions` must be a list of `{ at, attributes, summary }`");
            }
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let Some(at) = item.get("at") else {
                self.err(Code::SR011, item, "a progression needs `at`, e.g. `at: { main: 12 }`");
                continue;
            };
            let at = self.positions(at, "at");
            let attributes = match item.get("attributes") {
                Some(a) => a
                    .as_map()
                    .unwrap_or_default()
                    .iter()
                    .map(|(k, v)| (k.scalar_text().unwrap_or_default(), v.to_json()))
                    .collect(),
                None => Vec::new(),
            };
            let summary = item.get("summary").and_then(Node::scalar_text);
            out.push(Progression { at, attributes, summary, range: item.span.clone() });
        }
        out
    }

    fn context_window(&mut self, v: &Node) -> ContextWindow {
        let mut cw = ContextWindow::default();
        if v.is_null() {
            return cw;
        }
        let Some(entries) = v.as_map() else {
            self.err(Code::SR011, v, "`context_window` must be `{ priority, max_tokens }`");
            return cw;
        };
        for (k, v) in entries {
            match k.scalar_text().as_deref() {
                Some("priority") => match v.scalar_text().as_deref() {
                    Some("low") => cw.priority = Priority::Low,
                    Some("normal") => cw.priority = Priority::Normal,
                    Some("high") => cw.priority = Priority::High,
                    _ => self.err(Code::SR011, v, "`priority` must be low, normal or high"),
                },
                Some("max_tokens") => match v.value {
                    Value::Int(n) if n > 0 => cw.max_tokens = Some(n.min(u32::MAX as i64) as u32),
                    _ => self.err(Code::SR011, v, "`max_tokens` must be a positive whole number"),
                },
                _ => {}
            }
        }
        cw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Option<Bucket>, Vec<Diagnostic>) {
        parse_bucket(text, "stem", &Kinds::default())
    }

    #[test]
    fn every_field_is_read() {
        let text = r#"id: alice
kind: character
name: Alice Marlowe
aliases: [Alice, "the keeper's daughter"]
parent: null
tags: [protagonist]
summary: Seventeen, restless.
body: |
  Long text.
attributes: { age: 17, status: alive }
relations:
  - { type: daughter_of, target: tom }
keywords: [lamp oil]
sources: ["Report, 1893"]
progressions:
  - { at: { main: 12 }, attributes: { status: dead }, summary: Drowned. }
context_window: { priority: high, max_tokens: 400 }
timeline_positions: { main: 3 }
model_preference: openai/gpt-4o
version: 7
"#;
        let (b, diags) = parse(text);
        assert!(diags.is_empty(), "{diags:?}");
        let b = b.unwrap();
        assert_eq!(b.id.value, "alice");
        assert_eq!(&text[b.name_key.clone()], "name");
        assert_eq!(b.aliases[1].value, "the keeper's daughter");
        assert_eq!(b.relations[0].target.value, "tom");
        assert_eq!(b.progressions[0].at, vec![("main".to_string(), 12)]);
        assert_eq!(b.context_window, ContextWindow { priority: Priority::High, max_tokens: Some(400) });
        assert_eq!(b.version, Some(7));
        assert_eq!(b.body.as_deref(), Some("Long text.\n"));
        assert_eq!(b.attribute("age"), Some(&serde_json::json!(17)));
    }

    #[test]
    fn missing_kind_and_name_and_unknown_kind() {
        let (b, d) = parse("summary: x\n");
        assert!(b.is_some());
        assert_eq!(d.iter().filter(|d| d.code == Code::SR011).count(), 2);
        let (_, d) = parse("kind: charcter\nname: X\n");
        assert!(d[0].message.contains("did you mean `character`?"), "{d:?}");
    }

    #[test]
    fn non_mapping_buckets() {
        for text in ["- a\n- b\n", "just a string\n", "42\n", ""] {
            let (b, d) = parse(text);
            assert!(b.is_none(), "{text}");
            assert_eq!(d.len(), 1, "{text}: {d:?}");
            assert_eq!(d[0].code, Code::SR011);
        }
    }

    #[test]
    fn traversal_ids_are_refused() {
        let (b, d) = parse("id: ../../etc/passwd\nkind: note\nname: N\n");
        assert_eq!(b.unwrap().id.value, "etc-passwd");
        assert_eq!(d[0].code, Code::SR011);
    }

    #[test]
    fn schema_violations() {
        let mut kinds = Kinds::default();
        let mut ship = crate::kind::KindSchema::default();
        ship.attributes.insert("tonnage".into(), AttrType::Number);
        kinds.define("ship", ship);
        let text = "kind: ship\nname: Mary\nattributes: { tonnage: heavy }\n";
        let (_, d) = parse_bucket(text, "mary", &kinds);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::SR013);
        assert_eq!(&text[d[0].range.clone()], "heavy");
        let (_, d) = parse("kind: character\nname: A\nattributes: { age: seventeen }\n");
        assert_eq!(d[0].code, Code::SR013);
    }
}

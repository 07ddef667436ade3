//! Linking accuracy on real text (issue 20): `showrunner check --hints` on a public-domain play
//! and a public-domain novel, against hand-labelled names and an independent matcher.
//!
//! The fixtures live in `tests/fixtures/linking/`: a project per text (the text as scenes and
//! buckets for some of its people and places) and a `<project>.labels.yaml` beside it with every
//! proper name the text holds and how many mentions each bucket has. For each text this prints
//! - SR003 precision: the share of "possible unlinked name" flags that are names;
//! - SR003 recall: the share of names without a bucket, seen 3+ times, flagged at least once
//!   (a name only ever at a sentence start cannot be told from any capitalised word: it stays
//!   unflagged by design);
//! - mention precision and recall of the SR001 links against a plain reference matcher written
//!   here from SPEC §2 (Unicode letters and digits are the word characters).
//!
//! BENCHMARKS.md ("Linking accuracy") records the figures.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;
use showrunner_model::yaml::{self, Node, Value as Yaml};

/// The binary under test; `SHOWRUNNER_LINKING_BINARY` measures another build (an older one,
/// for the "before" figures in BENCHMARKS.md).
fn binary() -> PathBuf {
    match std::env::var_os("SHOWRUNNER_LINKING_BINARY").filter(|b| !b.is_empty()) {
        Some(b) => PathBuf::from(b),
        None => PathBuf::from(env!("CARGO_BIN_EXE_showrunner")),
    }
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/linking")
}

/// Copies a fixture project to a temporary folder (checking writes an index into the project).
fn copy_project(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let src = fixtures().join(name);
    for entry in walkdir::WalkDir::new(&src) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(&src).unwrap();
            showrunner_testkit::write_file(tmp.path(), rel.to_str().unwrap(), std::fs::read(entry.path()).unwrap());
        }
    }
    let dir = tmp.path().to_path_buf();
    (tmp, dir)
}

fn check_hints(dir: &Path) -> Vec<Value> {
    let out = showrunner_testkit::run_binary(&binary(), &["check", ".", "--hints", "--format", "json"], dir, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", showrunner_testkit::output_text(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    json["diagnostics"].as_array().unwrap().clone()
}

struct Labels {
    names: Vec<String>,
    mentions: BTreeMap<String, usize>,
}

fn labels(name: &str) -> Labels {
    let text = std::fs::read_to_string(fixtures().join(format!("{name}.labels.yaml"))).unwrap();
    let parsed = yaml::parse(&text);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let root = parsed.root.unwrap();
    let get = |key: &str| -> &Node {
        root.as_map().unwrap().iter().find(|(k, _)| k.scalar_text().as_deref() == Some(key)).map(|(_, v)| v).unwrap()
    };
    let Yaml::Seq(names) = &get("names").value else { panic!("names is a list") };
    let mentions = get("mentions")
        .as_map()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let Yaml::Int(n) = v.value else { panic!("a count") };
            (k.scalar_text().unwrap(), n as usize)
        })
        .collect();
    Labels { names: names.iter().filter_map(Node::scalar_text).collect(), mentions }
}

/// A bucket of a fixture: its id (file stem), name and aliases, read with the YAML parser only.
struct Bucket {
    id: String,
    name: String,
    aliases: Vec<String>,
}

fn buckets(dir: &Path) -> Vec<Bucket> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir.join("buckets")) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let root = yaml::parse(&text).root.unwrap();
        let field = |key: &str| root.as_map().unwrap().iter().find(|(k, _)| k.scalar_text().as_deref() == Some(key));
        let aliases = match field("aliases").map(|(_, v)| &v.value) {
            Some(Yaml::Seq(items)) => items.iter().filter_map(Node::scalar_text).collect(),
            _ => Vec::new(),
        };
        out.push(Bucket {
            id: entry.path().file_stem().unwrap().to_str().unwrap().to_string(),
            name: field("name").unwrap().1.scalar_text().unwrap(),
            aliases,
        });
    }
    out
}

/// The scene files of a fixture (path relative to the project, text).
fn scenes(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = walkdir::WalkDir::new(dir.join("story"))
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().to_str().unwrap().to_string();
            (rel, std::fs::read_to_string(e.path()).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// Start line, start column, end line, end column: 1-based, columns in characters.
type Span = (usize, usize, usize, usize);

/// SPEC §2, written plainly: at every word start, the longest alias that matches (case-sensitively
/// when it holds a capital, else in any case) and ends at a word boundary. Word characters are
/// Unicode letters and digits. Returns (start line, start column, end line, end column), 1-based,
/// columns in characters, and the bucket id.
fn reference_mentions(text: &str, buckets: &[Bucket]) -> Vec<(Span, String)> {
    let word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric());
    let mut aliases: Vec<(Vec<char>, bool, &str)> = buckets
        .iter()
        .flat_map(|b| std::iter::once(&b.name).chain(&b.aliases).map(move |a| (a, b.id.as_str())))
        .map(|(a, id)| (a.chars().collect(), a.chars().any(char::is_uppercase), id))
        .collect();
    aliases.sort_by_key(|(a, _, _)| std::cmp::Reverse(a.len()));
    let chars: Vec<char> = text.chars().collect();
    // Line and column of every char index.
    let mut at = Vec::with_capacity(chars.len() + 1);
    let (mut line, mut col) = (1, 1);
    for c in &chars {
        at.push((line, col));
        if *c == '\n' {
            (line, col) = (line + 1, 1);
        } else {
            col += 1;
        }
    }
    at.push((line, col));
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if i > 0 && word(chars.get(i - 1)) {
            i += 1;
            continue;
        }
        let found = aliases.iter().find(|(a, cased, _)| {
            let end = i + a.len();
            end <= chars.len()
                && !word(chars.get(end))
                && chars[i..end]
                    .iter()
                    .zip(a)
                    .all(|(t, p)| if *cased { t == p } else { t.to_lowercase().eq(p.to_lowercase()) })
        });
        match found {
            Some((a, _, id)) => {
                let (s, e) = (at[i], at[i + a.len()]);
                out.push(((s.0, s.1, e.0, e.1), id.to_string()));
                i += a.len();
            }
            None => i += 1,
        }
    }
    out
}

/// The words of a text: letters and digits, with apostrophes and hyphens inside a word, without
/// a possessive `'s`.
fn words(t: &str) -> Vec<String> {
    let chars: Vec<char> = t.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, c) in chars.iter().enumerate() {
        let inner = matches!(c, '\'' | '’' | '-')
            && i > 0
            && chars[i - 1].is_alphanumeric()
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if c.is_alphanumeric() || inner {
            cur.push(*c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    out.push(cur);
    out.retain(|w| !w.is_empty());
    for w in &mut out {
        for tail in ["'s", "’s"] {
            if w.len() > tail.len() && w.ends_with(tail) {
                w.truncate(w.len() - tail.len());
            }
        }
    }
    out
}

struct Figures {
    flags: usize,
    flag_precision: f64,
    flag_recall: f64,
    mention_precision: f64,
    mention_recall: f64,
}

fn measure(name: &str) -> Figures {
    let (_tmp, dir) = copy_project(name);
    let labels = labels(name);
    let buckets = buckets(&dir);
    let scenes = scenes(&dir);
    let all_text: String = scenes.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join("\n");
    let words_of = |t: &str| words(t);
    // Every labelled name is really in the text.
    let text_words: BTreeSet<String> = words_of(&all_text).into_iter().collect();
    for n in &labels.names {
        assert!(words_of(n).iter().all(|w| text_words.contains(w)), "{name}: label {n:?} is not in the text");
    }
    let name_words: BTreeSet<String> = labels.names.iter().flat_map(|n| words_of(n)).collect();

    let diags = check_hints(&dir);

    // SR003: the flagged name is the quoted text of the message.
    let flagged: Vec<String> = diags
        .iter()
        .filter(|d| d["code"] == "SR003")
        .map(|d| d["message"].as_str().unwrap().split('"').nth(1).unwrap().to_string())
        .collect();
    // A flag is right when it is a labelled name, or several words each from a labelled name
    // (`William Lucas` from `Sir William Lucas`).
    let right = |f: &str| {
        let w = words_of(f);
        labels.names.iter().any(|n| n == f) || (w.len() > 1 && w.iter().all(|w| name_words.contains(w)))
    };
    let wrong: BTreeMap<&str, usize> = flagged.iter().filter(|f| !right(f)).fold(BTreeMap::new(), |mut m, f| {
        *m.entry(f.as_str()).or_default() += 1;
        m
    });
    let wrong_count: usize = wrong.values().sum();
    let flag_precision = if flagged.is_empty() { 1.0 } else { 1.0 - wrong_count as f64 / flagged.len() as f64 };

    let linked: BTreeSet<&str> = buckets
        .iter()
        .flat_map(|b| std::iter::once(b.name.as_str()).chain(b.aliases.iter().map(String::as_str)))
        .collect();
    let occurrences = |n: &str| {
        let w: Vec<String> = words_of(n);
        words_of(&all_text).windows(w.len()).filter(|win| *win == w.as_slice()).count()
    };
    let wanted: Vec<&String> =
        labels.names.iter().filter(|n| !linked.contains(n.as_str()) && occurrences(n) >= 3).collect();
    // Found: some flag is the name or part of it (`William Lucas` for `Sir William Lucas`).
    let found = |n: &str| {
        let name = words_of(n);
        flagged.iter().any(|f| words_of(f).iter().all(|w| name.contains(w)))
    };
    let missed: Vec<&&String> = wanted.iter().filter(|n| !found(n)).collect();
    let flag_recall = 1.0 - missed.len() as f64 / wanted.len().max(1) as f64;

    // Mentions: the engine's SR001 links against the reference matcher, per file.
    let id_of_name: HashMap<&str, &str> = buckets.iter().map(|b| (b.name.as_str(), b.id.as_str())).collect();
    let mut engine: BTreeSet<(String, Span, String)> = BTreeSet::new();
    for d in diags.iter().filter(|d| d["code"] == "SR001") {
        let bucket_name = d["message"].as_str().unwrap().rsplit_once(" (").unwrap().0;
        let n = |k: &str| d[k].as_u64().unwrap() as usize;
        engine.insert((
            d["path"].as_str().unwrap().to_string(),
            (n("line"), n("column"), n("end_line"), n("end_column")),
            id_of_name[bucket_name].to_string(),
        ));
    }
    let mut reference = BTreeSet::new();
    for (path, text) in &scenes {
        for (range, id) in reference_mentions(text, &buckets) {
            reference.insert((path.clone(), range, id));
        }
    }
    let both = engine.intersection(&reference).count();
    let mention_precision = both as f64 / engine.len().max(1) as f64;
    let mention_recall = both as f64 / reference.len().max(1) as f64;
    let mut per_bucket: BTreeMap<String, usize> = BTreeMap::new();
    for (_, _, id) in &engine {
        *per_bucket.entry(id.clone()).or_default() += 1;
    }
    let absent: Vec<_> = reference.difference(&engine).take(5).collect();
    let extra: Vec<_> = engine.difference(&reference).take(5).collect();

    println!(
        "{name}: SR003 {} flags, precision {:.1}% ({} wrong: {wrong:?}), recall {:.1}% ({} of {} names; missed {missed:?}); \
         mentions {} linked, precision {:.1}%, recall {:.1}%",
        flagged.len(),
        flag_precision * 100.0,
        wrong_count,
        flag_recall * 100.0,
        wanted.len() - missed.len(),
        wanted.len(),
        engine.len(),
        mention_precision * 100.0,
        mention_recall * 100.0,
    );
    let others: Vec<&Value> = diags.iter().filter(|d| !matches!(d["code"].as_str(), Some("SR001" | "SR003"))).collect();
    assert!(others.is_empty(), "{name}: the fixture is clean but for hints: {others:#?}");
    assert_eq!(per_bucket, labels.mentions, "{name}: mentions per bucket");
    assert!(!flagged.iter().any(|f| f.contains(['_', '*'])), "{name}: emphasis kept in a name: {flagged:?}");
    assert!(absent.is_empty() && extra.is_empty(), "{name}: not linked {absent:?}; linked wrongly {extra:?}");
    Figures { flags: flagged.len(), flag_precision, flag_recall, mention_precision, mention_recall }
}

#[test]
fn a_play_in_verse_with_speaker_labels_and_italic_stage_directions() {
    let f = measure("hamlet");
    assert!(f.flags >= 50, "SR003 still finds the unlinked names ({} flags)", f.flags);
    assert!(f.flag_precision >= 0.80, "SR003 precision {:.3}", f.flag_precision);
    assert!(f.flag_recall >= 0.5, "SR003 recall {:.3}", f.flag_recall);
    assert_eq!((f.mention_precision, f.mention_recall), (1.0, 1.0));
}

#[test]
fn a_hard_wrapped_novel_chapter() {
    let f = measure("pride-and-prejudice");
    assert!(f.flags >= 30, "SR003 still finds the unlinked names ({} flags)", f.flags);
    assert!(f.flag_precision >= 0.80, "SR003 precision {:.3}", f.flag_precision);
    assert!(f.flag_recall >= 0.5, "SR003 recall {:.3}", f.flag_recall);
    assert_eq!((f.mention_precision, f.mention_recall), (1.0, 1.0));
}

#[test]
fn the_example_story_has_no_unlinked_names() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = showrunner_testkit::example_at(&binary(), tmp.path(), "http://127.0.0.1:9/v1");
    let diags = check_hints(&dir);
    assert!(diags.iter().any(|d| d["code"] == "SR001"), "the example links its mentions");
    let sr003: Vec<&Value> = diags.iter().filter(|d| d["code"] == "SR003").collect();
    assert!(sr003.is_empty(), "{sr003:#?}");
}

/// `showrunner.yaml` picks the word lists: another language's, and the project's own words.
#[test]
fn the_project_language_and_its_own_words() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let w = |rel: &str, text: &str| showrunner_testkit::write_file(root, rel, text);
    let scene = "Il parla avec Maître Łukasz et Docteur Zoë. Alors Maître Łukasz vit Docteur Zoë.\n\nEt Maître Łukasz revint avec Docteur Zoë et le Thane, le Thane et le Thane.\n";
    w("story/one.md", scene);
    let flagged = |diags: &[Value]| -> BTreeSet<String> {
        diags
            .iter()
            .filter(|d| d["code"] == "SR003")
            .map(|d| d["message"].as_str().unwrap().split('"').nth(1).unwrap().to_string())
            .collect()
    };
    let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<String>>();
    // English by default: French titles look like parts of the names.
    w("showrunner.yaml", "name: Le Phare\n");
    assert_eq!(flagged(&check_hints(root)), set(&["Docteur Zoë", "Maître Łukasz", "Thane"]));
    // In French, `Maître` and `Docteur` are titles, and `Il`, `Alors`, `Et` still start sentences.
    w("showrunner.yaml", "name: Le Phare\nlinking: { language: fr }\n");
    assert_eq!(flagged(&check_hints(root)), set(&["Thane", "Zoë", "Łukasz"]));
    // The project's own words, for one language in use.
    w("showrunner.yaml", "name: Le Phare\nlinking: { language: [fr, en], words: { fr: [Thane] } }\n");
    assert_eq!(flagged(&check_hints(root)), set(&["Zoë", "Łukasz"]));
    w("showrunner.yaml", "name: Le Phare\nlinking: { words: [Thane, Docteur, Maître] }\n");
    assert_eq!(flagged(&check_hints(root)), set(&["Zoë", "Łukasz"]));
    // A language without a built-in list and no words for it is a warning, naming the key.
    w("showrunner.yaml", "name: Le Phare\nlinking: { language: nl }\n");
    let out = showrunner_testkit::run_binary(&binary(), &["check", "."], root, &[]);
    let text = showrunner_testkit::output_text(&out);
    assert!(text.contains("warning[SR014]") && text.contains("linking.words.nl"), "{text}");
}

/// `_` is no word character in prose, but bucket ids keep theirs: completing `pov: tom_m`
/// replaces all of `tom_m`, completing `_Ali` in prose replaces only `Ali`; `_Tom Marlowe_`
/// links.
#[test]
fn underscores_in_ids_and_in_emphasis() {
    use serde_json::json;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let w = |rel: &str, text: &str| showrunner_testkit::write_file(&root, rel, text);
    w("showrunner.yaml", "name: Lighthouse\nentities: { link_hints: true }\n");
    w("buckets/characters/tom_marlowe.yaml", "kind: character\nname: Tom Marlowe\n");
    w("buckets/characters/alice.yaml", "kind: character\nname: Alice\n");
    w("story/one.md", "---\npov: tom_m\n---\n_Tom Marlowe_ and __Alice__ met. _Ali\n");
    let mut c = showrunner_testkit::Client::spawn(&binary(), &[]);
    c.initialize(&[&root], false);
    let u = c.open(&root.join("story/one.md"), "markdown");
    let d = c.diagnostics(&u, |d| d.iter().filter(|x| x["code"] == "SR001").count() == 2);
    let links: Vec<(u64, u64)> = d
        .iter()
        .filter(|x| x["code"] == "SR001")
        .map(|x| (x["range"]["start"]["character"].as_u64().unwrap(), x["range"]["end"]["character"].as_u64().unwrap()))
        .collect();
    assert_eq!(links, vec![(1, 12), (20, 25)], "{d:#?}");

    let complete = |c: &mut showrunner_testkit::Client, line: u64, character: u64| {
        let items = c.request(
            "textDocument/completion",
            json!({ "textDocument": { "uri": u }, "position": { "line": line, "character": character } }),
        );
        items.as_array().unwrap().clone()
    };
    let ids = complete(&mut c, 1, 10);
    let tom = ids.iter().find(|i| i["label"] == "tom_marlowe").unwrap_or_else(|| panic!("{ids:#?}"));
    assert_eq!(tom["textEdit"]["range"]["start"], json!({ "line": 1, "character": 5 }));
    let names = complete(&mut c, 3, 37);
    let alice = names.iter().find(|i| i["label"] == "Alice").unwrap_or_else(|| panic!("{names:#?}"));
    assert_eq!(alice["textEdit"]["range"]["start"], json!({ "line": 3, "character": 34 }));
    c.finish();
}

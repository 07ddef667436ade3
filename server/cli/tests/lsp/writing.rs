//! Writing features in the real server (issue 20, item 7): no prose quick actions in
//! frontmatter, quick-fix buckets in the project's own folders, fuzzy and diacritic-insensitive
//! workspace symbols, and renames that reach the prose of bucket files.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value};
use showrunner_testkit::{uri, Client};

use super::{codes, example, read};

fn start(dir: &Path) -> Client {
    let mut c = Client::spawn(Path::new(env!("CARGO_BIN_EXE_showrunner")), &[]);
    c.initialize(&[dir], false);
    c
}

/// A byte offset → an LSP UTF-16 position.
fn position(text: &str, at: usize) -> Value {
    let line = text[..at].matches('\n').count();
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    json!({ "line": line, "character": text[start..at].encode_utf16().count() })
}

/// An LSP UTF-16 position → a byte offset.
fn offset(text: &str, p: &Value) -> usize {
    let line = p["line"].as_u64().unwrap() as usize;
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let mut units = p["character"].as_u64().unwrap() as usize;
    let mut at = start;
    for c in text[start..].chars() {
        if units == 0 || c == '\n' {
            break;
        }
        units -= c.len_utf16();
        at += c.len_utf8();
    }
    at
}

/// Applies an LSP text-edit list to `text`.
fn apply(text: &str, edits: &[Value]) -> String {
    let mut spans: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| (offset(text, &e["range"]["start"]), offset(text, &e["range"]["end"]), e["newText"].as_str().unwrap()))
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (a, b, t) in spans {
        out.replace_range(a..b, t);
    }
    out
}

fn quick_action_titles(c: &mut Client, u: &str, text: &str, from: usize, to: usize) -> Vec<String> {
    let range = json!({ "start": position(text, from), "end": position(text, to) });
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": u }, "range": range, "context": { "diagnostics": [] } }),
    );
    actions.as_array().unwrap().iter().filter_map(|a| a["title"].as_str().map(str::to_string)).collect()
}

#[test]
fn no_prose_quick_actions_in_frontmatter() {
    let (_tmp, dir) = example();
    let scene = dir.join("story/ch01/01-arrival.md");
    let text = read(&scene).replacen("pov: alice\n", "pov: alice\ntitle: Łódź, Zoë and the rock\n", 1);
    std::fs::write(&scene, &text).unwrap();
    let mut c = start(&dir);
    let u = c.open(&scene, "markdown");
    c.diagnostics(&u, |_| true);
    let rewrite = "Showrunner: Rewrite".to_string();
    // In the prose: offered.
    let prose = text.find("The boat from Port Ainsley").unwrap();
    assert!(quick_action_titles(&mut c, &u, &text, prose, prose + 26).contains(&rewrite));
    // A selection inside the frontmatter, on its delimiter, or reaching from it into the prose:
    // none of the prose actions.
    let title = text.find("Łódź, Zoë").unwrap();
    for (from, to) in [(title, title + "Łódź, Zoë".len()), (0, 3), (title, prose + 10)] {
        let titles = quick_action_titles(&mut c, &u, &text, from, to);
        assert!(titles.iter().all(|t| !t.starts_with("Showrunner: ")), "{from}..{to}: {titles:?}");
    }
    c.finish();
}

#[test]
fn the_create_bucket_quick_fix_follows_the_project_layout() {
    let (_tmp, dir) = example();
    let scene = dir.join("story/ch01/02-the-hut.md");
    let text = read(&scene);
    let mut c = start(&dir);
    let u = c.open(&scene, "markdown");
    c.diagnostics(&u, |_| true);
    let line = text.lines().count();
    c.notify("textDocument/didChange", json!({
        "textDocument": { "uri": u, "version": 2 },
        "contentChanges": [{ "range": { "start": { "line": line, "character": 0 }, "end": { "line": line, "character": 0 } },
                             "text": "\nThey waited for Żaneta, and for Żaneta's boat, and then Żaneta came.\n" }]
    }));
    let d = c.diagnostics(&u, |d| codes(d).contains(&"SR003".to_string()));
    let sr003: Vec<Value> = d.into_iter().filter(|x| x["code"] == "SR003").take(1).collect();
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": u }, "range": sr003[0]["range"], "context": { "diagnostics": sr003 } }),
    );
    let actions = actions.as_array().unwrap();
    // The character fix: into `buckets/characters/`, where the example keeps its characters.
    let character = actions.iter().find(|a| a["command"]["arguments"][0]["kind"] == "character").unwrap();
    let cmd = &character["command"];
    let made =
        c.request("workspace/executeCommand", json!({ "command": cmd["command"], "arguments": cmd["arguments"] }));
    let id = made["id"].as_str().unwrap();
    let file = dir.join(format!("buckets/characters/{id}.yaml"));
    assert_eq!(made["uri"], uri(&file));
    let yaml = read(&file);
    assert!(yaml.contains("name: \"Żaneta\""), "{yaml}");
    assert!(!yaml.lines().any(|l| l.trim_end() == "summary:"), "no empty summary: {yaml}");
    assert!(!dir.join("buckets/character").exists());
    // The location fix for another name: where the example keeps its locations (`places`).
    let made = c.request(
        "workspace/executeCommand",
        json!({ "command": "showrunner.bucket.create", "arguments": [{ "kind": "location", "name": "Ørsted Reef" }] }),
    );
    let id = made["id"].as_str().unwrap();
    assert_eq!(made["uri"], uri(&dir.join(format!("buckets/places/{id}.yaml"))));
    // A kind the project has none of yet: `buckets/<kind>s/`.
    let made = c.request(
        "workspace/executeCommand",
        json!({ "command": "showrunner.bucket.create", "arguments": [{ "kind": "note", "name": "Ćma" }] }),
    );
    let id = made["id"].as_str().unwrap();
    assert_eq!(made["uri"], uri(&dir.join(format!("buckets/notes/{id}.yaml"))));
    c.finish();
}

#[test]
fn workspace_symbols_are_fuzzy_and_fold_diacritics() {
    let (_tmp, dir) = example();
    let mut c = start(&dir);
    let names = |c: &mut Client, q: &str| -> Vec<String> {
        let syms = c.request("workspace/symbol", json!({ "query": q }));
        syms.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names(&mut c, "lukas").first().map(String::as_str), Some("Łukasz Nowak"));
    assert_eq!(names(&mut c, "LUKASZ").first().map(String::as_str), Some("Łukasz Nowak"));
    assert_eq!(names(&mut c, "zoe").first().map(String::as_str), Some("Zoë Carrow"));
    assert_eq!(names(&mut c, "zoë").first().map(String::as_str), Some("Zoë Carrow"));
    // Fuzzy: the letters in order, not necessarily together.
    assert!(names(&mut c, "lknwk").contains(&"Łukasz Nowak".to_string()));
    assert!(names(&mut c, "qqqq").is_empty());
    // Ranked by score: a name that starts with the query before one that merely contains it.
    let al = names(&mut c, "ali");
    assert_eq!(al.first().map(String::as_str), Some("Alice Marlowe"), "{al:?}");
    c.finish();
}

/// Occurrences of `word` as a whole word in `text` that are not part of `longer`.
fn bare(text: &str, word: &str, longer: &str) -> usize {
    let word_char = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    text.match_indices(word)
        .filter(|(i, _)| {
            let before = text[..*i].chars().next_back();
            let after = text[i + word.len()..].chars().next();
            !word_char(before) && !word_char(after) && !text[*i..].starts_with(longer)
        })
        .count()
}

#[test]
fn rename_reaches_the_prose_of_buckets_and_the_ai_never_sees_the_old_name() {
    let (_tmp, dir) = example();
    let scene = dir.join("story/ch01/01-arrival.md");
    let text = read(&scene);
    let context = |dir: &Path| {
        let out = showrunner_testkit::run_binary(
            Path::new(env!("CARGO_BIN_EXE_showrunner")),
            &["context", "story/ch01/01-arrival.md", "--budget", "100000"],
            dir,
            &[],
        );
        assert!(out.status.success(), "{}", showrunner_testkit::output_text(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(bare(&context(&dir), "Alice", "Alice Marlowe") > 0, "the AI is given the alias before the rename");
    let errors_before = errors(&dir);
    let mut c = start(&dir);
    let u = c.open(&scene, "markdown");
    c.diagnostics(&u, |_| true);
    let at = text.find("Alice").unwrap();
    let edit = c.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": u }, "position": position(&text, at), "newName": "Alicja Żak" }),
    );
    let changes: HashMap<String, Vec<Value>> = serde_json::from_value(edit["changes"].clone()).unwrap();
    // The same workspace edit reaches the prose of other buckets: Tom's body, the chapters' summaries.
    let tom = uri(&dir.join("buckets/characters/tom.yaml"));
    assert!(changes[&tom].iter().all(|e| e["newText"] == "Alicja Żak"), "{:?}", changes[&tom]);
    let ch04 = uri(&dir.join("buckets/structure/ch04.yaml"));
    assert_eq!(changes[&ch04].len(), 2, "{:?}", changes[&ch04]);
    // Applied everywhere, no bucket file says `Alice` on its own any more, every one still
    // parses, and the context the AI gets has the new name only.
    for (u, edits) in &changes {
        let path = showrunner_testkit::uri_path(u);
        let next = apply(&read(Path::new(&path)), edits);
        std::fs::write(&path, next).unwrap();
    }
    c.finish();
    for e in walkdir::WalkDir::new(dir.join("buckets")).into_iter().flatten().filter(|e| e.file_type().is_file()) {
        let t = read(e.path());
        assert_eq!(bare(&t, "Alice", "Alice Marlowe"), 0, "{}:\n{t}", e.path().display());
    }
    assert_eq!(errors(&dir), errors_before, "the renamed files are still valid buckets");
    let ctx = context(&dir);
    assert_eq!(bare(&ctx, "Alice", "Alice Marlowe"), 0, "{ctx}");
    assert!(ctx.contains("Alicja Żak"), "{ctx}");
}

/// The error diagnostics of `showrunner check` (file, code, message).
fn errors(dir: &Path) -> Vec<(String, String, String)> {
    let out = showrunner_testkit::run_binary(
        Path::new(env!("CARGO_BIN_EXE_showrunner")),
        &["check", "--format", "json"],
        dir,
        &[],
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = report["diagnostics"].as_array().unwrap();
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    rows.iter()
        .filter(|r| r["severity"] == "error")
        .map(|r| (text(&r["path"]), text(&r["code"]), text(&r["message"])))
        .collect()
}

/// The frontmatter is one fold of kind `imports` (editors that close imports on open show the
/// prose first), ending on the closing `---`, with LF and CRLF; a bucket file has none.
#[test]
fn the_frontmatter_is_an_imports_fold() {
    let (_tmp, dir) = example();
    let scene = dir.join("story/ch01/01-arrival.md");
    let text = read(&scene);
    let closing = text.lines().skip(1).position(|l| l.trim_end() == "---").expect("a closing ---") + 1;
    let crlf = dir.join("story/ch01/09-crlf.md");
    std::fs::write(&crlf, "---\r\nid: crlf-scene\r\npov: alice\r\n---\r\nZoë waited.\r\n").unwrap();
    let mut c = start(&dir);
    for (path, end) in [(&scene, closing), (&crlf, 3)] {
        let u = c.open(path, "markdown");
        let folds = c.request("textDocument/foldingRange", json!({ "textDocument": { "uri": u } }));
        assert_eq!(folds.as_array().map(Vec::len), Some(1), "{folds}");
        assert_eq!(
            (folds[0]["startLine"].as_u64(), folds[0]["endLine"].as_u64()),
            (Some(0), Some(end as u64)),
            "{folds}"
        );
        assert_eq!(folds[0]["kind"], "imports");
    }
    let bucket = dir.join("buckets/characters/alice.yaml");
    if bucket.exists() {
        let u = c.open(&bucket, "yaml");
        let folds = c.request("textDocument/foldingRange", json!({ "textDocument": { "uri": u } }));
        assert!(folds.is_null() || folds.as_array().is_some_and(Vec::is_empty), "{folds}");
    }
    c.finish();
}

//! Mentions in editors (SPEC §10): they travel as semantic tokens. SR001 hints reach an editor
//! only when the project sets `entities: { link_hints: true }` (`check --hints` lists them
//! either way), and mentions are not document links.

use serde_json::{json, Value};
use showrunner_testkit::{uri, Client};

use super::{at, bin, pos, read};

fn sr001(diagnostics: &[Value]) -> usize {
    diagnostics.iter().filter(|d| d["code"] == "SR001").count()
}

/// The SR001 hints `showrunner check --hints` lists for the file `rel` of the project `dir`.
fn checked_hints(dir: &std::path::Path, rel: &str) -> usize {
    let out = showrunner_testkit::run_binary(bin(), &["check", "--hints", "--format", "json"], dir, &[]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    report["diagnostics"].as_array().unwrap().iter().filter(|d| d["code"] == "SR001" && d["path"] == rel).count()
}

#[test]
fn editors_get_link_hints_only_when_the_project_asks() {
    let (_tmp, dir) = super::example();
    let config = dir.join("showrunner.yaml");
    let plain = read(&config);
    assert!(!plain.lines().any(|l| l.starts_with("entities:")), "{plain}");
    let rel = "story/ch01/01-arrival.md";
    let hints = checked_hints(&dir, rel);
    assert!(hints > 10, "check --hints lists the mentions of a project that does not set link_hints: {hints}");

    let mut c = Client::spawn(bin(), &[]);
    c.initialize(&[&dir], false);
    let u = c.open(&dir.join(rel), "markdown");
    let d = c.diagnostics(&u, |_| true);
    assert_eq!(sr001(&d), 0, "no SR001 in the editor by default: {d:#?}");

    // `entities: { link_hints: true }`: the open scene gets one hint per mention, as `check --hints`.
    std::fs::write(&config, format!("{plain}entities: {{ link_hints: true }}\n")).unwrap();
    c.notify("workspace/didChangeWatchedFiles", json!({ "changes": [{ "uri": uri(&config), "type": 2 }] }));
    let d = c.diagnostics(&u, |d| sr001(d) > 0);
    assert_eq!(sr001(&d), hints, "{d:#?}");
    assert_eq!(checked_hints(&dir, rel), hints);

    // `link_hints: false`: none in the editor, and none from `check --hints` either.
    std::fs::write(&config, format!("{plain}entities: {{ link_hints: false }}\n")).unwrap();
    c.notify("workspace/didChangeWatchedFiles", json!({ "changes": [{ "uri": uri(&config), "type": 2 }] }));
    c.diagnostics(&u, |d| sr001(d) == 0);
    assert_eq!(checked_hints(&dir, rel), 0);
    c.finish();
}

#[test]
fn mentions_are_tokens_not_document_links() {
    // Even with the hints on: they are diagnostics, never links, and no part of the hover.
    let (_tmp, dir) = super::example_with_hints();
    let scene = dir.join("story/ch01/01-arrival.md");
    let text = read(&scene);
    let mut c = Client::spawn(bin(), &[]);
    let init = c.initialize(&[&dir], false);
    assert!(init["capabilities"].get("documentLinkProvider").is_none(), "{init:#}");
    let u = c.open(&scene, "markdown");
    c.diagnostics(&u, |d| sr001(d) > 0);

    // A client that asks anyway gets no link for a prose mention.
    let r = c.request_raw("textDocument/documentLink", json!({ "textDocument": { "uri": u } }));
    let links = r.get("result").and_then(Value::as_array).map_or(0, Vec::len);
    assert_eq!(links, 0, "{r}");

    // The mention is a semantic token (a character) and hovers as the bucket, with no SR001 line.
    let alice = pos(&text, "Alice", 0, false);
    let toks = c.request("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": u } }));
    let data: Vec<u64> = toks["data"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    let (mut line, mut col) = (0, 0);
    let mut found = None;
    for t in data.chunks(5) {
        col = if t[0] == 0 { col + t[1] } else { t[1] };
        line += t[0];
        if json!({ "line": line, "character": col }) == alice {
            found = Some((t[2], t[3]));
        }
    }
    assert_eq!(found, Some(("Alice".len() as u64, 0)), "a token on the first Alice");
    let h = c.request("textDocument/hover", at(&u, alice));
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(md.starts_with("**Alice Marlowe** · character"), "{md}");
    assert!(!md.contains("SR001") && !md.contains("(character)"), "{md}");
    c.finish();
}

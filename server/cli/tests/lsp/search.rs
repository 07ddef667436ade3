//! `showrunner.search` over stdio: the same hits as `showrunner search --format json`, the
//! editor's unsaved text searched as the session holds it, and readable errors.

use std::path::Path;

use serde_json::{json, Value};
use showrunner_testkit::Client;

fn command(c: &mut Client, args: Value) -> Value {
    c.request("workspace/executeCommand", json!({ "command": "showrunner.search", "arguments": [args] }))
}

fn cli_json(dir: &Path, args: &[&str]) -> Value {
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_showrunner")).args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn search_answers_what_the_cli_prints_and_sees_unsaved_text() {
    let (_tmp, dir) = super::example();
    let scene = dir.join("story/ch01/01-arrival.md");
    let (mut c, u) = super::opened(&dir, "story/ch01/01-arrival.md");

    // The result is checked against the protocol schema by the testkit, and equals the CLI's.
    let hits = command(&mut c, json!({ "uri": u, "query": "lamp room", "in": "story" }));
    assert!(!hits.as_array().unwrap().is_empty(), "{hits}");
    assert_eq!(hits, cli_json(&dir, &["search", "lamp room", "--in", "story", "--format", "json"]));
    let scenes = command(&mut c, json!({ "uri": u, "query": "telescope", "kinds": ["scene"], "limit": 2 }));
    let scenes = scenes.as_array().unwrap();
    assert!(!scenes.is_empty() && scenes.len() <= 2 && scenes.iter().all(|h| h["kind"] == "scene"), "{scenes:?}");

    // A word typed but not saved is found in the scene the editor holds.
    let text = std::fs::read_to_string(&scene).unwrap();
    let edited = format!("{text}\nA quokka watched from the rocks.\n");
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": u, "version": 2 }, "contentChanges": [{ "text": edited }] }),
    );
    let hits = command(&mut c, json!({ "uri": u, "query": "quokka" }));
    assert_eq!(hits[0]["path"], "story/ch01/01-arrival.md", "{hits}");
    assert!(hits[0]["snippet"].as_str().unwrap().contains("**quokka**"), "{hits}");
    assert_eq!(std::fs::read_to_string(&scene).unwrap(), text, "searching writes no file");

    // A bad day is a readable error.
    let r = c.request_raw(
        "workspace/executeCommand",
        json!({ "command": "showrunner.search", "arguments": [{ "uri": u, "query": "x", "since": "soon" }] }),
    );
    assert!(r["error"]["message"].as_str().unwrap().contains("YYYY-MM-DD"), "{r}");
    c.finish();
}

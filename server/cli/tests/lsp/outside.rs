//! Changes made outside the editor reach a session whose client watches nothing (Emacs/eglot,
//! Helix): the server's own watcher reloads them through the indexing's reader (a file that is
//! not UTF-8 is SR015, not text with replacement characters) and records them in the history; an
//! analysis update that panics leaves the previous analysis serving.

use std::path::Path;

use serde_json::{json, Value};
use showrunner_testkit::{uri, Client};

use super::bin;

fn log_events(dir: &Path, file: &str) -> Vec<Value> {
    let out = showrunner_testkit::run_binary(bin(), &["log", file, "--format", "json"], dir, &[]);
    assert!(out.status.success(), "{}", showrunner_testkit::output_text(&out));
    serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().cloned().unwrap_or_default()
}

fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics.iter().map(|d| d["code"].as_str().unwrap_or("").to_string()).collect()
}

#[test]
fn changes_on_disk_reach_a_client_that_watches_nothing_and_are_recorded() {
    let (_tmp, dir) = super::example();
    let mut c = Client::spawn(bin(), &[]);
    c.initialize_plain(&[&dir]);
    let scene = dir.join("story/ch01/01-arrival.md");
    let u = c.open(&scene, "markdown");
    c.diagnostics(&u, |_| true);

    // A bucket broken by another program: its diagnostics arrive with no notification sent.
    let alice = dir.join("buckets/characters/alice.yaml");
    let before = log_events(&dir, "buckets/characters/alice.yaml").len();
    std::fs::write(&alice, "id: alice\nname: [Alice, Zoë\nsummary: \"unclosed\n").unwrap();
    let alice_uri = uri(&alice);
    let d = c.diagnostics(&alice_uri, |d| !d.is_empty());
    assert!(d.iter().any(|x| x["severity"] == 1), "a YAML error: {d:?}");
    let events = log_events(&dir, "buckets/characters/alice.yaml");
    assert_eq!(events.len(), before + 1, "the outside change is in the history once: {events:?}");

    // A scene that is not UTF-8 is SR015 with its place, not a text full of U+FFFD.
    let supper = dir.join("story/ch01/03-supper.md");
    let mut bytes = std::fs::read(&supper).unwrap();
    bytes.extend_from_slice(b"\nZo\xeb at the table\n");
    std::fs::write(&supper, &bytes).unwrap();
    let d = c.diagnostics(&uri(&supper), |d| codes(d).contains(&"SR015".to_string()));
    let msg = d.iter().find(|x| x["code"] == "SR015").unwrap()["message"].as_str().unwrap().to_string();
    assert!(msg.contains("not valid UTF-8"), "{msg}");

    // Put right again, and a file removed: diagnostics follow.
    std::fs::write(&supper, &bytes[..bytes.len() - b"\nZo\xeb at the table\n".len()]).unwrap();
    c.diagnostics(&uri(&supper), |d| !codes(d).contains(&"SR015".to_string()));
    std::fs::remove_file(&alice).unwrap();
    c.diagnostics(&alice_uri, |d| d.is_empty());
    c.finish();
}

#[test]
fn an_outside_change_reported_by_both_watchers_is_taken_and_recorded_once() {
    let (_tmp, dir) = super::example();
    let mut c = Client::spawn(bin(), &[]);
    c.initialize(&[&dir], false);
    let place = dir.join("buckets/places/gannet-rock.yaml");
    let rel = "buckets/places/gannet-rock.yaml";
    let before = log_events(&dir, rel).len();
    let text = std::fs::read_to_string(&place).unwrap();
    // Broken by another program, reported by the client and seen by the server's watcher.
    std::fs::write(&place, format!("{text}\nrelations: [Łukasz, 李雷\n")).unwrap();
    let place_uri = uri(&place);
    c.notify("workspace/didChangeWatchedFiles", json!({ "changes": [{ "uri": place_uri, "type": 2 }] }));
    c.diagnostics(&place_uri, |d| !d.is_empty());
    // Put right, seen by the server's watcher alone: its batches come in order, so once this
    // one is published the first change has been taken from both sides.
    std::fs::write(&place, &text).unwrap();
    c.diagnostics(&place_uri, |d| d.is_empty());
    let events = log_events(&dir, rel);
    assert_eq!(events.len(), before + 2, "each change recorded once: {events:?}");
    c.finish();
}

#[test]
fn an_analysis_update_that_panics_leaves_the_previous_analysis_serving() {
    let (_tmp, dir) = super::example();
    let mut c = Client::spawn(bin(), &[("SHOWRUNNER_FAULT", "update-panic")]);
    c.initialize(&[&dir], false);
    let scene = dir.join("story/ch01/01-arrival.md");
    let text = std::fs::read_to_string(&scene).unwrap();
    let u = c.open(&scene, "markdown");
    let first = c.diagnostics_at(&u, 1);
    let change = |c: &mut Client, version: i64, text: &str| {
        c.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": u, "version": version }, "contentChanges": [{ "text": text }] }),
        );
    };
    let broken = format!("{text}\nSHOWRUNNER-FAULT-UPDATE-PANIC and Zoë, Zoë, Zoë.\n");
    change(&mut c, 2, &broken);
    // The session answers, from the analysis as it was: the Zoë of the change that failed is no
    // mention (the half-done update would have made it one).
    let line = broken.lines().count() - 1;
    let at = json!({ "line": line, "character": "SHOWRUNNER-FAULT-UPDATE-PANIC and ".len() + 1 });
    let h = c.request("textDocument/hover", json!({ "textDocument": { "uri": u }, "position": at }));
    assert!(h.is_null(), "{h}");
    let symbols = c.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": u } }));
    assert!(symbols.as_array().is_some_and(|s| !s.is_empty()), "{symbols}");
    let ctx = c.request(
        "workspace/executeCommand",
        json!({ "command": "showrunner.context.show", "arguments": [{ "uri": u }] }),
    );
    assert!(!ctx["items"].as_array().unwrap().is_empty(), "{ctx}");
    // The next change is taken as usual.
    change(&mut c, 3, &text);
    let third = c.diagnostics_at(&u, 3);
    assert_eq!(codes(&third), codes(&first));
    c.finish();
}

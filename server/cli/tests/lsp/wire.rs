//! What goes on the wire (issue 22): pull diagnostics for a client that pulls them and can be
//! asked to pull again — no pushes then —, push for every other client, and semantic tokens as
//! deltas.

use std::path::Path;

use serde_json::{json, Value};
use showrunner_testkit::{uri, Client};

use super::{bin, codes, read};

/// A client that pulls diagnostics and takes `workspace/diagnostic/refresh` (VS Code's
/// vscode-languageclient declares both).
fn pull_client(dir: &Path) -> (Client, Value) {
    let mut c = Client::spawn(bin(), &[]);
    let init = c.initialize_with(
        &[dir],
        false,
        json!({ "textDocument": { "diagnostic": { "dynamicRegistration": false } },
                "workspace": { "diagnostics": { "refreshSupport": true } } }),
    );
    (c, init)
}

fn pull(c: &mut Client, u: &str, previous: Option<&str>) -> Value {
    let mut p = json!({ "textDocument": { "uri": u } });
    if let Some(id) = previous {
        p["previousResultId"] = json!(id);
    }
    c.request("textDocument/diagnostic", p)
}

fn workspace(c: &mut Client, previous: &[(String, String)]) -> Vec<Value> {
    let ids: Vec<Value> = previous.iter().map(|(u, id)| json!({ "uri": u, "value": id })).collect();
    let r = c.request("workspace/diagnostic", json!({ "previousResultIds": ids }));
    r["items"].as_array().cloned().unwrap_or_default()
}

fn id(report: &Value) -> String {
    report["resultId"].as_str().unwrap_or_else(|| panic!("a resultId: {report}")).to_string()
}

fn items(report: &Value) -> Vec<Value> {
    assert_eq!(report["kind"], "full", "{report}");
    report["items"].as_array().cloned().unwrap_or_default()
}

fn change(c: &mut Client, u: &str, version: i64, line: u64, character: u64, text: &str) {
    let at = json!({ "line": line, "character": character });
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": u, "version": version },
                "contentChanges": [{ "range": { "start": at, "end": at }, "text": text }] }),
    );
}

/// The story files of a project on disk, as URIs.
fn story_files(dir: &Path) -> std::collections::BTreeSet<String> {
    fn walk(d: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut all = Vec::new();
    walk(dir, &mut all);
    all.iter()
        .filter(|p| {
            let rel = p.strip_prefix(dir).unwrap();
            rel == Path::new("showrunner.yaml") || rel.starts_with("story") || rel.starts_with("buckets")
        })
        .map(|p| uri(p))
        .collect()
}

fn pushes(received: &[Value]) -> Vec<&Value> {
    received.iter().filter(|v| v["method"] == "textDocument/publishDiagnostics").collect()
}

#[test]
fn a_pull_client_pulls_and_gets_no_pushes() {
    let (_tmp, dir) = super::example();
    let scene = dir.join("story/ch01/01-arrival.md");
    let (mut c, init) = pull_client(&dir);
    let provider = &init["capabilities"]["diagnosticProvider"];
    assert_eq!(provider["identifier"], "showrunner", "{init:#}");
    assert_eq!(provider["interFileDependencies"], true);
    assert_eq!(provider["workspaceDiagnostics"], true);
    let u = c.open(&scene, "markdown");

    // Full first, then `unchanged` for the same result.
    let first = pull(&mut c, &u, None);
    let r1 = id(&first);
    let before = items(&first);
    let again = pull(&mut c, &u, Some(&r1));
    assert_eq!(again["kind"], "unchanged", "{again}");
    assert_eq!(id(&again), r1);
    // An id the server never gave: the full report.
    assert_eq!(items(&pull(&mut c, &u, Some("stale-id"))), before);

    // An edit that changes no diagnostic keeps the result id: a word added to the last line.
    let text = read(&scene);
    let last = text.trim_end().lines().count() as u64 - 1;
    let width = text.trim_end().lines().last().unwrap().encode_utf16().count() as u64;
    change(&mut c, &u, 2, last, width, " Then nothing.");
    let same = pull(&mut c, &u, Some(&r1));
    assert_eq!(same["kind"], "unchanged", "{same}");

    // An unknown `pov:` id changes them: a new result id, with SR004.
    let pov = text.lines().position(|l| l.starts_with("pov: ")).unwrap() as u64;
    change(&mut c, &u, 3, pov, 5, "nobody-");
    let after = pull(&mut c, &u, Some(&r1));
    let r2 = id(&after);
    assert_ne!(r2, r1);
    let now = items(&after);
    assert!(codes(&now).contains(&"SR004".to_string()), "{now:#?}");
    assert_eq!(pull(&mut c, &u, Some(&r2))["kind"], "unchanged");

    // Back as it was: the first result id again (it names the diagnostics, not the moment).
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": u, "version": 4 },
                "contentChanges": [{ "range": { "start": { "line": pov, "character": 5 }, "end": { "line": pov, "character": 12 } }, "text": "" }] }),
    );
    assert_eq!(id(&pull(&mut c, &u, Some(&r2))), r1);

    // Nothing was pushed, at any point.
    c.request("workspace/symbol", json!({ "query": "" }));
    let received = c.take_received();
    assert!(pushes(&received).is_empty(), "{:#?}", pushes(&received));
    c.finish();
}

#[test]
fn another_file_changing_asks_the_client_to_pull_again() {
    let (_tmp, dir) = super::example();
    let scene = dir.join("story/ch01/01-arrival.md");
    let alice = dir.join("buckets/characters/alice.yaml");
    let (mut c, _) = pull_client(&dir);
    let su = c.open(&scene, "markdown");
    let r1 = id(&pull(&mut c, &su, None));
    let bu = c.open(&alice, "yaml");
    pull(&mut c, &bu, None);
    c.request("workspace/symbol", json!({ "query": "" }));
    c.take_received();

    // The bucket's id changes in the editor: the scene's `pov: alice` is unknown now. The
    // client pulls the bucket itself; for the scene it is asked to pull again.
    change(&mut c, &bu, 2, 0, 9, "-marlowe");
    c.wait_for("workspace/diagnostic/refresh", |v| {
        v["method"] == "workspace/diagnostic/refresh" && v.get("id").is_some()
    });
    let after = pull(&mut c, &su, Some(&r1));
    assert_ne!(id(&after), r1);
    assert!(codes(&items(&after)).contains(&"SR004".to_string()));

    // A file deleted outside the editor: asked again, and the next workspace pull reports it empty.
    let tom = dir.join("buckets/characters/tom.yaml");
    let before = workspace(&mut c, &[]);
    let tom_uri = uri(&tom);
    let held: Vec<(String, String)> = before.iter().map(|r| (r["uri"].as_str().unwrap().to_string(), id(r))).collect();
    assert!(held.iter().any(|(u, _)| *u == tom_uri));
    std::fs::remove_file(&tom).unwrap();
    c.notify("workspace/didChangeWatchedFiles", json!({ "changes": [{ "uri": tom_uri, "type": 3 }] }));
    c.wait_for("a refresh after the deletion", |v| v["method"] == "workspace/diagnostic/refresh");
    let next = workspace(&mut c, &held);
    let gone: Vec<&Value> = next.iter().filter(|r| r["uri"] == tom_uri.as_str()).collect();
    assert_eq!(gone.len(), 1, "{next:#?}");
    assert!(items(gone[0]).is_empty());
    assert!(workspace(&mut c, &held).iter().all(|r| r["uri"] != tom_uri.as_str()), "reported once");
    let received = c.take_received();
    assert!(pushes(&received).is_empty(), "{:#?}", pushes(&received));
    c.finish();
}

#[test]
fn a_workspace_pull_covers_every_file_then_only_what_changed() {
    let (_tmp, dir) = super::example();
    let scene = dir.join("story/ch01/01-arrival.md");
    // Diagnostics in two files the editor never opens: an unknown `pov:`, an unknown kind.
    let hut = dir.join("story/ch01/02-the-hut.md");
    let text = read(&hut);
    let pov = text.lines().find(|l| l.starts_with("pov: ")).unwrap();
    std::fs::write(&hut, text.replacen(pov, "pov: nobody", 1)).unwrap();
    showrunner_testkit::write_file(&dir, "buckets/characters/ghost.yaml", "kind: ghostly\nname: The Ghost\n");
    let (mut c, _) = pull_client(&dir);
    let first = workspace(&mut c, &[]);
    let uris: std::collections::BTreeSet<String> =
        first.iter().map(|r| r["uri"].as_str().unwrap().to_string()).collect();
    assert_eq!(uris.len(), first.len(), "each file once");
    assert_eq!(uris, story_files(&dir));
    assert!(first.iter().all(|r| r["kind"] == "full"));
    // What `check` finds is what the pull reports (no hints in editors by default).
    let out = showrunner_testkit::run_binary(bin(), &["check", "--format", "json"], &dir, &[]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let checked = report["diagnostics"].as_array().unwrap().len();
    let pulled: usize = first.iter().map(|r| items(r).len()).sum();
    assert!(checked >= 2, "{report:#}");
    assert_eq!(pulled, checked);

    // Asked again with the ids it holds: nothing changed, nothing to say (a client keeps what a
    // report leaves out; an idle editor's polls cost next to nothing).
    let held: Vec<(String, String)> = first.iter().map(|r| (r["uri"].as_str().unwrap().to_string(), id(r))).collect();
    let second = workspace(&mut c, &held);
    assert!(second.is_empty(), "{second:#?}");
    // A client that holds an old id for a file is told the current set.
    let mut stale = held.clone();
    stale[0].1 = "an-old-id".into();
    let third = workspace(&mut c, &stale);
    assert_eq!(third.len(), 1, "{third:#?}");
    assert_eq!(third[0]["uri"], stale[0].0.as_str());
    assert_eq!(third[0]["kind"], "full");

    // The scene opened and given an unknown `pov:`: that file alone is full, with its version.
    let u = c.open(&scene, "markdown");
    let pov = read(&scene).lines().position(|l| l.starts_with("pov: ")).unwrap() as u64;
    change(&mut c, &u, 2, pov, 5, "nobody-");
    let fourth = workspace(&mut c, &held);
    assert_eq!(fourth.len(), 1, "{fourth:#?}");
    assert_eq!(fourth[0]["uri"], u.as_str());
    assert_eq!(fourth[0]["kind"], "full");
    assert_eq!(fourth[0]["version"], 2);
    assert!(codes(&items(&fourth[0])).contains(&"SR004".to_string()));
    c.finish();
}

#[test]
fn clients_that_cannot_be_asked_to_pull_again_get_pushes() {
    // Neovim 0.11 declares `textDocument.diagnostic` but no refresh, and pulls only for the
    // buffers on screen: it is pushed to, as eglot and every client without pull.
    let (_tmp, dir) = super::example();
    let scene = dir.join("story/ch01/01-arrival.md");
    for more in [json!({ "textDocument": { "diagnostic": {} } }), json!({})] {
        let mut c = Client::spawn(bin(), &[]);
        let init = c.initialize_with(&[&dir], false, more);
        assert!(init["capabilities"].get("diagnosticProvider").is_none(), "{init:#}");
        let u = c.open(&scene, "markdown");
        c.published(&u, 1);
        c.finish();
    }
}

/// Applies semantic token edits to the integer array they were made for.
fn apply(data: &[u64], edits: &[Value]) -> Vec<u64> {
    let mut out = data.to_vec();
    let mut edits: Vec<&Value> = edits.iter().collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e["start"].as_u64().unwrap()));
    for e in edits {
        let start = e["start"].as_u64().unwrap() as usize;
        let delete = e["deleteCount"].as_u64().unwrap() as usize;
        let new: Vec<u64> = e["data"].as_array().into_iter().flatten().map(|v| v.as_u64().unwrap()).collect();
        out.splice(start..start + delete, new);
    }
    out
}

fn ints(v: &Value) -> Vec<u64> {
    v["data"].as_array().unwrap_or_else(|| panic!("data: {v}")).iter().map(|v| v.as_u64().unwrap()).collect()
}

#[test]
fn semantic_tokens_go_as_deltas() {
    let (_tmp, dir) = super::example();
    let scene = dir.join("story/ch01/01-arrival.md");
    let text = read(&scene);
    let mut c = Client::spawn(bin(), &[]);
    let init = c.initialize(&[&dir], false);
    assert_eq!(init["capabilities"]["semanticTokensProvider"]["full"]["delta"], true, "{init:#}");
    let u = c.open(&scene, "markdown");
    let doc = json!({ "textDocument": { "uri": u } });
    let full = c.request("textDocument/semanticTokens/full", doc.clone());
    let (t1, d1) = (id(&full), ints(&full));
    assert!(d1.len() > 50, "the scene's mentions: {}", d1.len());

    // One character typed at the start of a line holding a mention.
    let line = text.lines().position(|l| l.starts_with("There was one passenger")).unwrap() as u64 - 2;
    assert!(text.lines().nth(line as usize).unwrap().contains("Alice"));
    change(&mut c, &u, 2, line, 0, "A");
    let delta = c.request(
        "textDocument/semanticTokens/full/delta",
        json!({ "textDocument": { "uri": u }, "previousResultId": t1 }),
    );
    let t2 = id(&delta);
    assert_ne!(t2, t1);
    let edits = delta["edits"].as_array().unwrap_or_else(|| panic!("edits, not the whole array: {delta}"));
    let sent: usize = edits.iter().map(|e| e["data"].as_array().map_or(0, Vec::len)).sum();
    assert!(sent <= 5, "one token changed: {delta}");
    let d2 = apply(&d1, edits);
    let fresh = c.request("textDocument/semanticTokens/full", doc.clone());
    assert_eq!(d2, ints(&fresh), "the edits give what a full request gives");
    assert_ne!(d2, d1);

    // A delta on the newest result with nothing changed: no edits.
    let t3 = id(&fresh);
    let none = c.request(
        "textDocument/semanticTokens/full/delta",
        json!({ "textDocument": { "uri": u }, "previousResultId": t3 }),
    );
    assert_eq!(none["edits"], json!([]), "{none}");

    // An id the server does not keep (an older one, or none it gave): the whole array.
    for old in [t1.as_str(), "no-such-id"] {
        let r = c.request(
            "textDocument/semanticTokens/full/delta",
            json!({ "textDocument": { "uri": u }, "previousResultId": old }),
        );
        assert!(r.get("edits").is_none(), "{r}");
        assert_eq!(ints(&r), d2);
        assert!(r["resultId"].is_string());
    }
    c.finish();
}

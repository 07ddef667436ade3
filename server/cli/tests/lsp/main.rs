//! `showrunner lsp` end to end: the real binary over stdio, as an editor drives it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use showrunner_testkit::{uri, Client};

mod any_editor;
#[path = "../support/dated.rs"]
mod dated;
mod export;
mod glass;
mod hints;
mod hostile;
mod indexing;
mod logs;
mod outside;
mod pictures;
mod recall;
mod search;
mod wire;
mod writing;

fn example() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_showrunner"))
        .args(["init", "story", "--example"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let dir = tmp.path().join("story").canonicalize().unwrap();
    (tmp, dir)
}

/// The example story with SR001 hints published to editors (`entities: { link_hints: true }`),
/// for the tests that watch linking through them.
fn example_with_hints() -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = example();
    let cfg = std::fs::read_to_string(dir.join("showrunner.yaml")).unwrap();
    std::fs::write(dir.join("showrunner.yaml"), format!("{cfg}entities: {{ link_hints: true }}\n")).unwrap();
    (tmp, dir)
}

/// LSP position of the `nth` occurrence of `needle` in `text`, in UTF-16 or UTF-8 units.
fn pos(text: &str, needle: &str, nth: usize, utf8: bool) -> Value {
    let at = text.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("`{needle}` #{nth} not found")).0;
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..at].matches('\n').count();
    let prefix = &text[line_start..at];
    let character = if utf8 { prefix.len() } else { prefix.encode_utf16().count() };
    json!({ "line": line, "character": character })
}

fn at(uri: &str, position: Value) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": position })
}

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_showrunner"))
}

/// The example story, talking to the scripted model server `server`.
fn example_on(server: &showrunner_testkit::model_server::ModelServer) -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = example();
    let cfg = std::fs::read_to_string(dir.join("showrunner.yaml")).unwrap();
    std::fs::write(dir.join("showrunner.yaml"), cfg.replace("http://127.0.0.1:11434/v1", &server.url)).unwrap();
    (tmp, dir)
}

/// A session on the project `dir` with its scene `rel` open and first published: the client and
/// the scene's URI.
fn opened(dir: &Path, rel: &str) -> (Client, String) {
    let mut c = Client::spawn(bin(), &[]);
    c.initialize(&[dir], false);
    let u = c.open(&dir.join(rel), "markdown");
    c.diagnostics(&u, |_| true);
    (c, u)
}

/// Runs a `workspace/executeCommand`; its result (the test fails on an error).
fn command(c: &mut Client, name: &str, args: Value) -> Value {
    c.request("workspace/executeCommand", json!({ "command": name, "arguments": [args] }))
}

/// A byte offset → an LSP UTF-16 position.
fn position(text: &str, at: usize) -> Value {
    let line = text[..at].matches('\n').count();
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    json!({ "line": line, "character": text[start..at].encode_utf16().count() })
}

fn codes(diags: &[Value]) -> Vec<String> {
    diags.iter().map(|d| d["code"].as_str().unwrap_or("").to_string()).collect()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn encodings_are_negotiated_and_ranges_exact() {
    let (_tmp, dir) = example_with_hints();
    let scene = dir.join("story/ch01/01-arrival.md");
    // Put astral-plane and combining characters before a mention on one line.
    let text = read(&scene).replacen("The boat from Port Ainsley", "🌊🌊 Zoë̈ — The boat from Port Ainsley", 1);
    std::fs::write(&scene, &text).unwrap();
    for utf8 in [false, true] {
        let mut c = Client::spawn(Path::new(env!("CARGO_BIN_EXE_showrunner")), &[]);
        let init = c.initialize(&[&dir], utf8);
        assert_eq!(init["capabilities"]["positionEncoding"], if utf8 { "utf-8" } else { "utf-16" });
        let u = c.open(&scene, "markdown");
        let diags = c.diagnostics(&u, |d| !d.is_empty());
        let port = diags.iter().find(|d| d["message"] == "Port Ainsley (location)").expect("SR001 on Port Ainsley");
        assert_eq!(port["code"], "SR001");
        assert_eq!(port["severity"], 4);
        assert_eq!(port["range"]["start"], pos(&text, "Port Ainsley", 0, utf8));
        assert_eq!(
            port["range"]["end"]["character"].as_u64().unwrap() - port["range"]["start"]["character"].as_u64().unwrap(),
            12
        );
        // Hover right there answers with the same range.
        let h = c.request("textDocument/hover", at(&u, pos(&text, "Ainsley", 0, utf8)));
        assert_eq!(h["range"], port["range"]);
        c.finish();
    }
}

#[test]
fn hover_definition_references_tokens_symbols() {
    let (_tmp, dir) = example();
    let scene = dir.join("story/ch01/01-arrival.md");
    let text = read(&scene);
    let (mut c, u) = opened(&dir, "story/ch01/01-arrival.md");

    let h = c.request("textDocument/hover", at(&u, pos(&text, "Alice", 0, false)));
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(md.starts_with("**Alice Marlowe** · character"), "{md}");
    assert!(md.contains("Seventeen, restless"));
    assert!(md.contains("daughter of Tom Marlowe"));
    assert!(md.contains("mentioned in "));
    assert!(!md.contains("SR001"), "the hover repeats no diagnostic: {md}");

    let d = c.request("textDocument/definition", at(&u, pos(&text, "Alice", 0, false)));
    let bucket = dir.join("buckets/characters/alice.yaml");
    assert_eq!(d["uri"], uri(&bucket));
    assert_eq!(d["range"]["start"], pos(&read(&bucket), "name:", 0, false));

    // Definition from frontmatter: `pov: alice`.
    let d = c.request("textDocument/definition", at(&u, pos(&text, "alice", 0, false)));
    assert_eq!(d["uri"], uri(&bucket));

    let refs = c.request("textDocument/references", json!({ "textDocument": { "uri": u }, "position": pos(&text, "Alice", 0, false), "context": { "includeDeclaration": false } }));
    let refs = refs.as_array().unwrap();
    assert!(refs.len() > 20, "{}", refs.len());
    assert!(refs.iter().all(|r| r["uri"] != uri(&bucket)));
    let with_decl = c.request("textDocument/references", json!({ "textDocument": { "uri": u }, "position": pos(&text, "Alice", 0, false), "context": { "includeDeclaration": true } }));
    assert_eq!(with_decl.as_array().unwrap().len(), refs.len() + 1);
    // The same list from the bucket file itself.
    let bu = c.open(&bucket, "yaml");
    let from_bucket = c.request("textDocument/references", json!({ "textDocument": { "uri": bu }, "position": { "line": 0, "character": 0 }, "context": { "includeDeclaration": false } }));
    assert_eq!(from_bucket.as_array().unwrap().len(), refs.len());

    // One semantic token per mention: as many as `check --hints` lists SR001 hints in the scene.
    let out = showrunner_testkit::run_binary(bin(), &["check", "--hints", "--format", "json"], &dir, &[]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mentions = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "SR001" && d["path"] == "story/ch01/01-arrival.md")
        .count();
    assert!(mentions > 10, "{mentions}");
    let toks = c.request("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": u } }));
    assert_eq!(toks["data"].as_array().unwrap().len(), mentions * 5);

    let syms = c.request("workspace/symbol", json!({ "query": "łuk" }));
    assert_eq!(syms[0]["name"], "Łukasz Nowak");
    let fountain = dir.join("story/episode-01.fountain");
    let fu = c.open(&fountain, "fountain");
    let ds = c.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": fu } }));
    assert!(ds.as_array().unwrap().len() >= 4, "{ds}");
    let ds = c.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": bu } }));
    assert_eq!(ds[0]["name"], "Alice Marlowe");
    c.finish();
}

/// References over many mentions on long lines with accents, CJK, emoji and CRLF line ends: every
/// location of the scene where they were asked is where the text says, in UTF-16 and in UTF-8,
/// and the list is long enough to take the path that serialises it straight from its structs.
#[test]
fn references_over_many_mentions_in_multibyte_crlf_text() {
    let (_tmp, dir) = example();
    let scene = dir.join("story/ch01/04-many.md");
    let mut text = String::from("---\r\nid: many\r\nparent: ch01\r\n---\r\n");
    for i in 0..40 {
        text.push_str(&format!(
            "🕯️ Zoë met 李雷 by the lamp, line {i}; Zoë laughed — Łukasz and Zoë Carrow didn\u{2019}t. 😀🧑‍🚀\r\n\r\n"
        ));
    }
    std::fs::write(&scene, &text).unwrap();
    // Where each mention of Zoë is: the full name where it is written, else the short one.
    let spans: Vec<(usize, usize)> = text
        .match_indices("Zoë")
        .map(|(at, z)| (at, at + if text[at..].starts_with("Zoë Carrow") { "Zoë Carrow".len() } else { z.len() }))
        .collect();
    assert_eq!(spans.len(), 120);
    let place = |at: usize, utf8: bool| {
        let line = text[..at].matches('\n').count();
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let prefix = &text[start..at];
        json!({ "line": line, "character": if utf8 { prefix.len() } else { prefix.encode_utf16().count() } })
    };
    for utf8 in [false, true] {
        let mut c = Client::spawn(bin(), &[]);
        c.initialize(&[&dir], utf8);
        let u = c.open(&scene, "markdown");
        c.diagnostics(&u, |_| true);
        let refs = c.request(
            "textDocument/references",
            json!({ "textDocument": { "uri": u }, "position": pos(&text, "Zoë", 0, utf8), "context": { "includeDeclaration": true } }),
        );
        let refs = refs.as_array().unwrap();
        assert!(refs.len() > 120, "{}", refs.len());
        assert_eq!(refs[0]["uri"], uri(&dir.join("buckets/characters/zoe.yaml")), "the declaration comes first");
        let here: Vec<&Value> = refs.iter().filter(|r| r["uri"] == u.as_str()).map(|r| &r["range"]).collect();
        let want: Vec<Value> =
            spans.iter().map(|&(a, z)| json!({ "start": place(a, utf8), "end": place(z, utf8) })).collect();
        assert_eq!(here.len(), want.len(), "utf8: {utf8}");
        for (got, want) in here.iter().zip(&want) {
            assert_eq!(*got, want, "utf8: {utf8}");
        }
        c.finish();
    }
}

#[test]
fn rename_completion_lens_and_quick_fixes() {
    let (_tmp, dir) = example();
    let scene = dir.join("story/ch01/01-arrival.md");
    let text = read(&scene);
    let (mut c, u) = opened(&dir, "story/ch01/01-arrival.md");

    let prep = c.request("textDocument/prepareRename", at(&u, pos(&text, "Alice", 0, false)));
    assert_eq!(prep["placeholder"], "Alice");
    let edit = c.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": u }, "position": pos(&text, "Alice", 0, false), "newName": "Ally" }),
    );
    let changes = edit["changes"].as_object().unwrap();
    let bucket = uri(&dir.join("buckets/characters/alice.yaml"));
    assert_eq!(changes[&bucket][0]["newText"], "Ally");
    assert!(changes.len() > 5, "bucket and many scenes: {}", changes.len());
    assert!(changes[&u].as_array().unwrap().iter().all(|e| e["newText"] == "Ally"));
    // A name another bucket has is refused.
    let clash = c.request_raw(
        "textDocument/rename",
        json!({ "textDocument": { "uri": u }, "position": pos(&text, "Alice", 0, false), "newName": "Tom" }),
    );
    assert!(clash["error"]["message"].as_str().unwrap().contains("already a name or alias of `tom`"), "{clash}");

    // Completion: names in prose, ids in frontmatter.
    c.notify("textDocument/didChange", json!({
        "textDocument": { "uri": u, "version": 2 },
        "contentChanges": [{ "range": { "start": { "line": 8, "character": 0 }, "end": { "line": 8, "character": 0 } }, "text": "Łuk" }]
    }));
    let items = c.request("textDocument/completion", at(&u, json!({ "line": 8, "character": 3 })));
    let labels: Vec<&str> = items.as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap()).collect();
    assert!(labels.contains(&"Łukasz Nowak") && labels.contains(&"Łukasz"), "{labels:?}");
    let pov_line = text.lines().position(|l| l.starts_with("pov:")).unwrap();
    let items = c.request("textDocument/completion", at(&u, json!({ "line": pov_line, "character": 7 })));
    let labels: Vec<&str> = items.as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap()).collect();
    assert!(labels.contains(&"alice"), "{labels:?}");

    let lenses = c.request("textDocument/codeLens", json!({ "textDocument": { "uri": u } }));
    let title = lenses[0]["command"]["title"].as_str().unwrap();
    assert!(title.starts_with("Context: ") && title.contains(" tokens"), "{title}");
    assert_eq!(lenses[0]["command"]["command"], "showrunner.context.show");
    let ctx = c.request(
        "workspace/executeCommand",
        json!({ "command": "showrunner.context.show", "arguments": [{ "uri": u }] }),
    );
    assert!(ctx["items"].as_array().unwrap().len() > 3);
    assert!(ctx["used_tokens"].as_u64().unwrap() <= ctx["budget"].as_u64().unwrap());
    let models = c.request(
        "workspace/executeCommand",
        json!({ "command": "showrunner.models.resolve", "arguments": [{ "uri": u }] }),
    );
    assert_eq!(models["model"], "local/llama3.1", "the example pins no hosted model");
    assert_eq!(models["chain"].as_array().unwrap().len(), 6);

    // SR004 quick fix: a misspelt parent.
    let bad = text.replacen("parent: ch01", "parent: ch011", 1);
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": u, "version": 3 }, "contentChanges": [{ "text": bad }] }),
    );
    let diags = c.diagnostics(&u, |d| codes(d).contains(&"SR004".to_string()));
    let sr004: Vec<Value> = diags.into_iter().filter(|d| d["code"] == "SR004").collect();
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": u }, "range": sr004[0]["range"], "context": { "diagnostics": sr004 } }),
    );
    assert_eq!(actions[0]["title"], "Change to `ch01`");
    assert_eq!(actions[0]["edit"]["changes"][&u][0]["newText"], "ch01");
    c.finish();
}

#[test]
fn typing_relinks_and_buckets_update_open_scenes() {
    let (_tmp, dir) = example_with_hints();
    let scene = dir.join("story/ch01/02-the-hut.md");
    let text = read(&scene);
    let mut c = Client::spawn(Path::new(env!("CARGO_BIN_EXE_showrunner")), &[]);
    c.initialize(&[&dir], false);
    let u = c.open(&scene, "markdown");
    c.diagnostics(&u, |_| true);
    // Three mid-sentence mentions of an unknown name: SR003.
    let line = text.lines().count();
    c.notify("textDocument/didChange", json!({
        "textDocument": { "uri": u, "version": 2 },
        "contentChanges": [{ "range": { "start": { "line": line, "character": 0 }, "end": { "line": line, "character": 0 } },
                             "text": "\nThey waited for Quillan, and for Quillan's boat, and then Quillan came.\n" }]
    }));
    let d = c.diagnostics(&u, |d| codes(d).contains(&"SR003".to_string()));
    assert_eq!(codes(&d).iter().filter(|c| *c == "SR003").count(), 3);
    // SR003 quick fix creates the bucket; the scene is re-linked at once.
    let sr003: Vec<Value> = d.into_iter().filter(|x| x["code"] == "SR003").take(1).collect();
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": u }, "range": sr003[0]["range"], "context": { "diagnostics": sr003 } }),
    );
    let cmd = &actions[0]["command"];
    assert_eq!(cmd["command"], "showrunner.bucket.create");
    let created =
        c.request("workspace/executeCommand", json!({ "command": cmd["command"], "arguments": cmd["arguments"] }));
    assert_eq!(created["id"], "quillan");
    assert!(dir.join("buckets/characters/quillan.yaml").is_file());
    let d = c.diagnostics(&u, |d| d.iter().any(|x| x["message"] == "Quillan (character)"));
    assert!(!codes(&d).contains(&"SR003".to_string()), "{d:?}");

    // Editing a bucket in the editor (a new alias) re-links the open scene.
    let bucket = dir.join("buckets/characters/alice.yaml");
    let bu = c.open(&bucket, "yaml");
    let btext = read(&bucket);
    let new = btext.replacen("aliases: [Alice,", "aliases: [Alice, waited,", 1);
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": bu, "version": 2 }, "contentChanges": [{ "text": new }] }),
    );
    c.diagnostics(&u, |d| {
        d.iter().any(|x| {
            x["message"] == "Alice Marlowe (character)" && {
                let s = &x["range"]["start"];
                s["line"].as_u64() == Some(line as u64 + 1)
            }
        })
    });

    // A bucket file appearing on disk (outside the editor) re-links too.
    std::fs::write(dir.join("buckets/boat.yaml"), "kind: item\nname: boat\n").unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": uri(&dir.join("buckets/boat.yaml")), "type": 1 }] }),
    );
    c.diagnostics(&u, |d| d.iter().any(|x| x["message"] == "boat (item)"));
    // …and the outside change is in the history.
    let out = Command::new(env!("CARGO_BIN_EXE_showrunner"))
        .args(["log", "buckets/boat.yaml", "--format", "json"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log[0]["type"], "snapshot", "{log}");
    c.finish();
}

/// A file of a project the server has not loaded (outside the workspace folders, or opened while
/// the workspace is still being indexed): requests right after opening it are answered from its
/// project, loaded for them, never refused.
#[test]
fn requests_right_after_opening_a_file_of_an_unloaded_project_wait_for_it() {
    let (_tmp, dir) = example();
    let elsewhere = tempfile::tempdir().unwrap();
    let mut c = Client::spawn(Path::new(env!("CARGO_BIN_EXE_showrunner")), &[]);
    c.initialize(&[elsewhere.path()], false);
    let scene = dir.join("story/ch01/03-supper.md");
    let u = c.open(&scene, "markdown");
    // No waiting for its diagnostics: the command comes at once.
    let ctx = c.request(
        "workspace/executeCommand",
        json!({ "command": "showrunner.context.show", "arguments": [{ "uri": u }] }),
    );
    assert!(!ctx["items"].as_array().unwrap().is_empty(), "{ctx}");
    let text = std::fs::read_to_string(&scene).unwrap();
    let at_tom = text.find("Tom Marlowe").unwrap();
    let line = text[..at_tom].matches('\n').count();
    let h = c.request("textDocument/hover", at(&u, json!({ "line": line, "character": 1 })));
    assert!(h["contents"]["value"].as_str().unwrap().contains("Tom Marlowe"), "{h}");
    c.finish();
}

#[test]
fn a_command_naming_no_project_right_after_initialized_answers_from_the_workspace_project() {
    let (_tmp, dir) = example();
    let mut c = Client::spawn(Path::new(env!("CARGO_BIN_EXE_showrunner")), &[]);
    c.initialize(&[&dir], false);
    // The workspace is still being indexed: the command waits for it instead of refusing.
    let list =
        c.request("workspace/executeCommand", json!({ "command": "showrunner.timeline.list", "arguments": [{}] }));
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["main"], "{list}");
    c.finish();
}

#[test]
fn multi_root_outside_files_and_bad_requests() {
    let (_tmp, dir) = example();
    let other = tempfile::tempdir().unwrap();
    let od = other.path().canonicalize().unwrap();
    std::fs::write(od.join("showrunner.yaml"), "name: Other\nentities: { link_hints: true }\n").unwrap();
    std::fs::create_dir_all(od.join("buckets")).unwrap();
    std::fs::create_dir_all(od.join("story")).unwrap();
    std::fs::write(od.join("buckets/bob.yaml"), "kind: character\nname: Bob\n").unwrap();
    std::fs::write(od.join("story/s.md"), "---\npov: alice\n---\nBob and Alice.\n").unwrap();
    std::fs::write(od.join("notes.md"), "Alice, outside any scene folder.\n").unwrap();
    let loose = tempfile::tempdir().unwrap();
    std::fs::write(loose.path().join("loose.md"), "Alice has no project here.\n").unwrap();

    let mut c = Client::spawn(Path::new(env!("CARGO_BIN_EXE_showrunner")), &[]);
    c.initialize(&[&dir, &od], false);
    // Projects are isolated: `alice` is unknown in the other project, Alice is not linked there.
    let su = c.open(&od.join("story/s.md"), "markdown");
    let d = c.diagnostics(&su, |d| !d.is_empty());
    assert!(codes(&d).contains(&"SR004".to_string()));
    assert!(d.iter().any(|x| x["message"] == "Bob (character)"));
    assert!(!d.iter().any(|x| x["message"].as_str().unwrap().contains("Alice")));
    // Files outside any project, or not story files: nothing, and no error.
    let lu = c.open(&loose.path().join("loose.md"), "markdown");
    let h = c.request("textDocument/hover", at(&lu, json!({ "line": 0, "character": 1 })));
    assert!(h.is_null());
    let nu = c.open(&od.join("notes.md"), "markdown");
    assert!(c.request("textDocument/hover", at(&nu, json!({ "line": 0, "character": 1 }))).is_null());
    // Malformed requests get errors; the server lives on.
    let bad = c.request_raw("textDocument/hover", json!({ "nonsense": true }));
    assert!(bad["error"].is_object(), "{bad}");
    let bad = c.request_raw(
        "workspace/executeCommand",
        json!({ "command": "showrunner.context.show", "arguments": [{ "uri": 42 }] }),
    );
    assert!(bad["error"]["message"].as_str().unwrap().contains("bad arguments"), "{bad}");
    let bad = c.request_raw("workspace/executeCommand", json!({ "command": "showrunner.nope", "arguments": [] }));
    assert_eq!(bad["error"]["code"], -32601);
    c.send_raw(b"{ this is not json");
    let syms = c.request("workspace/symbol", json!({ "query": "bob" }));
    assert_eq!(syms[0]["name"], "Bob");
    c.finish();
}

#[test]
fn exit_without_shutdown_exits_with_1_and_nested_projects_are_isolated() {
    let (_tmp, dir) = example();
    // A nested project inside the example: its scene sees only its own buckets.
    let nested = dir.join("spinoff");
    std::fs::create_dir_all(nested.join("story")).unwrap();
    std::fs::create_dir_all(nested.join("buckets")).unwrap();
    std::fs::write(nested.join("showrunner.yaml"), "name: Spinoff\nentities: { link_hints: true }\n").unwrap();
    std::fs::write(nested.join("buckets/mo.yaml"), "kind: character\nname: Mo\n").unwrap();
    std::fs::write(nested.join("story/a.md"), "Mo met Alice.\n").unwrap();
    let mut c = Client::spawn(Path::new(env!("CARGO_BIN_EXE_showrunner")), &[]);
    c.initialize(&[&dir], false);
    let u = c.open(&nested.join("story/a.md"), "markdown");
    let d = c.diagnostics(&u, |d| !d.is_empty());
    let messages: Vec<&str> = d.iter().map(|x| x["message"].as_str().unwrap()).collect();
    assert_eq!(messages, ["Mo (character)"]);
    c.notify("exit", Value::Null);
    assert_eq!(c.wait_exit(), Some(1));
}

#[test]
fn timelines_and_history_from_the_editor() {
    let (_tmp, dir) = example();
    let scene = dir.join("story/ch01/01-arrival.md");
    let original = read(&scene);
    let (mut c, u) = opened(&dir, "story/ch01/01-arrival.md");
    let cmd = |c: &mut Client, name: &str, args: Value| {
        c.request("workspace/executeCommand", json!({ "command": name, "arguments": [args] }))
    };
    let t = cmd(&mut c, "showrunner.timeline.create", json!({ "name": "what-if", "uri": u }));
    assert_eq!(t["name"], "what-if");
    // An unsaved edit in the editor, then a switch: the edit is recorded on main first.
    c.notify("textDocument/didChange", json!({ "textDocument": { "uri": u, "version": 2 }, "contentChanges": [{ "text": "Unsaved draft, Zoë 😀.\n" }] }));
    c.diagnostics_at(&u, 2);
    let r = cmd(&mut c, "showrunner.timeline.switch", json!({ "name": "what-if", "uri": u }));
    assert_eq!(r["timeline"], "what-if");
    assert_eq!(read(&scene), original);
    // The editor is told to show the what-if text.
    let edit = c.wait_for("applyEdit", |v| v["method"] == "workspace/applyEdit");
    assert_eq!(edit["params"]["edit"]["changes"][&u][0]["newText"], original.as_str());
    let list = cmd(&mut c, "showrunner.timeline.list", json!({ "uri": u }));
    let current: Vec<&str> =
        list.as_array().unwrap().iter().filter(|t| t["current"] == true).map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(current, ["what-if"]);
    let r = cmd(&mut c, "showrunner.timeline.switch", json!({ "name": "main", "uri": u }));
    assert_eq!(r["timeline"], "main");
    assert_eq!(read(&scene), "Unsaved draft, Zoë 😀.\n");
    let h = cmd(&mut c, "showrunner.history", json!({ "uri": u }));
    assert!(h.as_array().unwrap().len() >= 2);
    let h = cmd(&mut c, "showrunner.history", json!({ "bucket": "alice", "uri": u }));
    assert_eq!(h[0]["path"], "buckets/characters/alice.yaml");
    c.finish();
}

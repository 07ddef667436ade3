//! `showrunner.graph` and `showrunner.stats` over stdio: the same JSON as the command line,
//! filters and text formats, unsaved text counted, mistakes answered with readable errors.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use showrunner_testkit::Client;

fn cli(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_showrunner")).args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn cli_json(dir: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&cli(dir, args)).unwrap()
}

fn command(c: &mut Client, name: &str, args: Value) -> Value {
    c.request("workspace/executeCommand", json!({ "command": name, "arguments": [args] }))
}

#[test]
fn graph_and_stats_commands_answer_what_the_cli_prints() {
    let (_tmp, dir) = super::example();
    let scene = dir.join("story/ch01/01-arrival.md");
    let mut c = Client::spawn(Path::new(env!("CARGO_BIN_EXE_showrunner")), &[]);
    let init = c.initialize(&[&dir], false);
    let offered: Vec<&str> = init["capabilities"]["executeCommandProvider"]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(offered.contains(&"showrunner.graph") && offered.contains(&"showrunner.stats"), "{offered:?}");
    let u = c.open(&scene, "markdown");
    c.diagnostics(&u, |_| true);

    // `{uri?, format?, kind?, around?, depth?, gap?}` → the JSON of `--format json`.
    let cases: &[(&str, Value, &[&str])] = &[
        ("showrunner.graph", json!({ "uri": u }), &["graph", "--format", "json"]),
        ("showrunner.graph", json!({}), &["graph", "--format", "json"]),
        (
            "showrunner.graph",
            json!({ "uri": u, "kind": ["character", "location"] }),
            &["graph", "--format", "json", "--kind", "character,location"],
        ),
        (
            "showrunner.graph",
            json!({ "uri": u, "kind": "character", "around": "alice", "depth": 2 }),
            &["graph", "--format", "json", "--kind", "character", "--around", "alice", "--depth", "2"],
        ),
        (
            "showrunner.graph",
            json!({ "uri": u, "around": "arrival" }),
            &["graph", "--format", "json", "--around", "arrival"],
        ),
        ("showrunner.stats", json!({ "uri": u }), &["stats", "--format", "json"]),
        ("showrunner.stats", json!({ "uri": u, "gap": 0 }), &["stats", "--format", "json", "--gap", "0"]),
    ];
    for (name, args, cli_args) in cases {
        let got = command(&mut c, name, args.clone());
        assert_eq!(got, cli_json(&dir, cli_args), "{name} {args}");
    }
    // Text formats come back as `{format, text}` holding exactly what the CLI prints.
    for (name, format, cli_args) in [
        ("showrunner.graph", "mermaid", &["graph", "--format", "mermaid"][..]),
        ("showrunner.graph", "dot", &["graph", "--format", "dot"]),
        ("showrunner.stats", "text", &["stats"]),
    ] {
        let got = command(&mut c, name, json!({ "uri": u, "format": format }));
        assert_eq!(got["format"], format);
        assert_eq!(got["text"], cli(&dir, cli_args), "{name} {format}");
    }

    // Unsaved text counts: two more mentions of Zoë in the open scene, nothing on disk.
    let before = command(&mut c, "showrunner.stats", json!({ "uri": u }));
    let zoe = |s: &Value| s["entities"].as_array().unwrap().iter().find(|e| e["id"] == "zoe").unwrap().clone();
    let text = std::fs::read_to_string(&scene).unwrap() + "\nZoë Carrow waved. Zoë waved back.\n";
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": u, "version": 2 }, "contentChanges": [{ "text": text }] }),
    );
    c.diagnostics_at(&u, 2);
    let after = command(&mut c, "showrunner.stats", json!({ "uri": u }));
    assert_eq!(zoe(&after)["mentions"].as_u64().unwrap(), zoe(&before)["mentions"].as_u64().unwrap() + 2);
    assert_eq!(zoe(&after)["first"], "arrival");
    assert_eq!(after["scenes"][0]["words"].as_u64().unwrap(), before["scenes"][0]["words"].as_u64().unwrap() + 6);

    // Mistakes are errors with a readable message; the server lives on.
    for (name, args, needle) in [
        ("showrunner.graph", json!({ "uri": u, "around": "alicee" }), "did you mean `alice`?"),
        ("showrunner.graph", json!({ "uri": u, "kind": "charactr" }), "did you mean `character`?"),
        ("showrunner.graph", json!({ "uri": u, "format": "png" }), "unknown format `png`"),
        ("showrunner.graph", json!({ "uri": u, "depth": 2 }), "`depth` needs `around`"),
        ("showrunner.stats", json!({ "uri": u, "format": "dot" }), "unknown format `dot`"),
        ("showrunner.stats", json!({ "uri": u, "gap": "three" }), "bad arguments"),
    ] {
        let r = c.request_raw("workspace/executeCommand", json!({ "command": name, "arguments": [args] }));
        let message = r["error"]["message"].as_str().unwrap_or_else(|| panic!("{name} {args}: {r}"));
        assert!(message.contains(needle), "{name} {args}: {message}");
    }
    let g = command(&mut c, "showrunner.graph", json!({ "uri": u, "kind": "chapter" }));
    assert_eq!(g["nodes"].as_array().unwrap().len(), 4);
    c.finish();
}

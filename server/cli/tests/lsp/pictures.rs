//! `showrunner.graph` and `showrunner.stats` over stdio: the same JSON as the command line,
//! filters and text formats, unsaved text counted, mistakes answered with readable errors.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use showrunner_testkit::Client;

use super::dated::save_dated;

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
        let mut got = command(&mut c, name, args.clone());
        if *name == "showrunner.stats" {
            // The words of the scene at `uri`: the command line is not asked about one scene.
            assert_eq!(got["goals"]["scene_words"], got["scenes"][0]["words"], "{got}");
            got["goals"]["scene_words"] = Value::Null;
        }
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

#[test]
fn stats_goals_count_saved_history_unsaved_text_and_the_selection() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap();
    showrunner_testkit::write_file(
        &dir,
        "showrunner.yaml",
        "name: Goals\ngoals: { project_words: 1000, daily_words: 10, session_words: 4 }\n",
    );
    let head = "---\ntitle: Ça commence\n---\n";
    save_dated(&dir, "story/one.md", &format!("{head}Zoë’s naïve café stood.\n"), "2027-02-25T20:00:00Z");
    let text = format!("{head}Zoë’s naïve café stood where Łukasz waited.\n");
    save_dated(&dir, "story/one.md", &text, "2027-02-26T11:50:00Z");

    let env = [("SHOWRUNNER_NOW", "2027-02-26T12:00:00Z"), ("TZ", "UTC")];
    let mut c = Client::spawn(Path::new(env!("CARGO_BIN_EXE_showrunner")), &env);
    c.initialize(&[&dir], false);
    let u = c.open(&dir.join("story/one.md"), "markdown");
    c.diagnostics(&u, |_| true);
    let g = command(&mut c, "showrunner.stats", json!({ "uri": u, "only": "goals" }));
    assert_eq!(g.as_object().unwrap().len(), 1, "only the goals: {g}");
    let g = &g["goals"];
    // Yesterday ended at 4 words; the session began with the save at 11:50.
    assert_eq!((g["words"].as_u64(), g["today"].as_i64(), g["session"].as_i64()), (Some(7), Some(3), Some(3)), "{g:#}");
    assert_eq!(g["session_started"].as_i64(), showrunner_store::progress::parse_utc("2027-02-26T11:50:00Z"));
    assert_eq!(
        (g["daily_goal"].as_u64(), g["today_percent"].as_u64(), g["session_percent"].as_u64()),
        (Some(10), Some(30), Some(75))
    );
    assert_eq!((g["scene_words"].as_u64(), g["selection_words"].clone()), (Some(7), Value::Null));

    // Unsaved text counts; a range counts the words selected (in UTF-16 positions).
    let typed = text.replace("waited.", "waited. Æsa sang, „leise“.");
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": u, "version": 2 }, "contentChanges": [{ "text": typed }] }),
    );
    c.diagnostics_at(&u, 2);
    let start = super::pos(&typed, "Łukasz", 0, false);
    let end = super::pos(&typed, "“", 0, false);
    let range = json!({ "start": start, "end": end });
    let s = command(&mut c, "showrunner.stats", json!({ "uri": u, "range": range }));
    let g = &s["goals"];
    assert_eq!(
        (g["words"].as_u64(), g["today"].as_i64(), g["session"].as_i64()),
        (Some(10), Some(6), Some(6)),
        "{g:#}"
    );
    assert_eq!((g["today_percent"].as_u64(), g["session_percent"].as_u64()), (Some(60), Some(150)));
    assert_eq!((g["scene_words"].as_u64(), g["selection_words"].as_u64()), (Some(10), Some(5)), "{g:#}");
    assert_eq!(s["words"], 10);
    let t = command(&mut c, "showrunner.stats", json!({ "uri": u, "format": "text" }));
    let t = t["text"].as_str().unwrap();
    assert!(t.contains("  Today     6 of 10 (60%) words  (2027-02-26)\n"), "{t}");
    assert!(t.contains("  Session   6 of 4 (150%) words\n"), "{t}");

    for (args, needle) in [
        (json!({ "range": range }), "`range` needs `uri`"),
        (json!({ "uri": u, "only": "heatmap" }), "unknown `only` value `heatmap`"),
    ] {
        let r =
            c.request_raw("workspace/executeCommand", json!({ "command": "showrunner.stats", "arguments": [args] }));
        let message = r["error"]["message"].as_str().unwrap_or_else(|| panic!("{args}: {r}"));
        assert!(message.contains(needle), "{args}: {message}");
    }
    c.finish();
}

//! Line ends as the LSP specification has them (issue 20, item 10): `\r\n`, `\n` and a lone `\r`
//! all end a line, in the language server (diagnostics, hover, incremental edits) and in
//! `showrunner check`, through the real binary.

use std::path::Path;

use serde_json::{json, Value};
use showrunner_testkit::Client;

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_showrunner"))
}

/// A small project whose scene is written with old Mac line ends (a lone `\r`), one line of it
/// ended by `\r\n` and one by `\n`.
fn project(root: &Path) -> &'static str {
    let w = |rel: &str, text: &str| showrunner_testkit::write_file(root, rel, text);
    w("showrunner.yaml", "name: Zoë's Lighthouse\nentities: { link_hints: true }\n");
    w("buckets/characters/zoe.yaml", "kind: character\nname: Zoë Łukasz\naliases: [Zoë]\nsummary: Keeps the lamp.\n");
    let scene = "---\rpov: nobody\r---\r# Night\rThe storm came in.\r\nThen 李雷 saw Zoë by the lamp.\n😀 Later, Zoë Łukasz slept.\r";
    w("story/night.md", scene);
    scene
}

/// `(line, character)` (0-based, UTF-16) of each diagnostic with `code`.
fn at(diags: &[Value], code: &str) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = diags
        .iter()
        .filter(|d| d["code"] == code)
        .map(|d| (d["range"]["start"]["line"].as_u64().unwrap(), d["range"]["start"]["character"].as_u64().unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn a_lone_cr_ends_a_line_in_the_language_server() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    project(&root);
    let mut c = Client::spawn(binary(), &[]);
    c.initialize(&[&root], false);
    let u = c.open(&root.join("story/night.md"), "markdown");
    // Lines: 0 `---`, 1 `pov: nobody`, 2 `---`, 3 `# Night`, 4 `The storm…`, 5 `Then 李雷 saw Zoë…`,
    // 6 `😀 Later, Zoë Łukasz slept.`
    let d = c.diagnostics(&u, |d| d.iter().any(|x| x["code"] == "SR001"));
    assert_eq!(at(&d, "SR004"), vec![(1, 5)], "{d:#?}");
    // `Zoë` after `Then 李雷 saw ` (UTF-16: 12); `Zoë Łukasz` after `😀 Later, ` (😀 is two units).
    assert_eq!(at(&d, "SR001"), vec![(5, 12), (6, 10)], "{d:#?}");
    let long = d.iter().find(|x| x["code"] == "SR001" && x["range"]["start"]["line"] == 6).unwrap();
    assert_eq!(long["range"]["end"], json!({ "line": 6, "character": 20 }));

    let hover = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": u }, "position": { "line": 5, "character": 14 } }),
    );
    let md = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(md.contains("Zoë Łukasz") && md.contains("Keeps the lamp"), "{hover}");
    assert_eq!(hover["range"]["start"], json!({ "line": 5, "character": 12 }));

    // Incremental edits addressed in lone-CR lines: a `\n` typed right after the `\r` that ends
    // line 3 (one `\r\n` line end now: no new line), then a new line before line 4.
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": u, "version": 2 },
            "contentChanges": [
                { "range": { "start": { "line": 4, "character": 0 }, "end": { "line": 4, "character": 0 } },
                  "text": "\n" },
                { "range": { "start": { "line": 4, "character": 0 }, "end": { "line": 4, "character": 0 } },
                  "text": "Zoë waited.\r" },
            ]
        }),
    );
    let d = c.diagnostics_at(&u, 2);
    assert_eq!(at(&d, "SR001"), vec![(4, 0), (6, 12), (7, 10)], "{d:#?}");
    // Replacing the whole of line 6's content stops at its line end.
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": u, "version": 3 },
            "contentChanges": [
                { "range": { "start": { "line": 6, "character": 0 }, "end": { "line": 6, "character": 999 } },
                  "text": "Nobody." },
            ]
        }),
    );
    let d = c.diagnostics_at(&u, 3);
    assert_eq!(at(&d, "SR001"), vec![(4, 0), (7, 10)], "{d:#?}");
    c.finish();
}

#[test]
fn a_lone_cr_ends_a_line_in_check() {
    let tmp = tempfile::tempdir().unwrap();
    project(tmp.path());
    let out = showrunner_testkit::run_binary(binary(), &["check", ".", "--hints", "--format", "json"], tmp.path(), &[]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut got: Vec<(String, u64, u64)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].as_str().unwrap().to_string(), d["line"].as_u64().unwrap(), d["column"].as_u64().unwrap()))
        .collect();
    got.sort();
    // 1-based lines and columns in characters: the same places the server reports.
    let want = [("SR001", 6, 13), ("SR001", 7, 10), ("SR004", 2, 6)];
    assert_eq!(got, want.map(|(c, l, col)| (c.to_string(), l, col)).to_vec(), "{json:#}");
}

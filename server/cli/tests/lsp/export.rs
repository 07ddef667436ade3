//! `showrunner.export` over stdio: the file written from the saved text (an unsaved edit in the
//! editor is not exported), its path in the result, and readable refusals.

use serde_json::{json, Value};
use showrunner_testkit::Client;

fn export(c: &mut Client, args: Value) -> Value {
    c.request_raw("workspace/executeCommand", json!({ "command": "showrunner.export", "arguments": [args] }))
}

#[test]
fn export_writes_saved_text_and_returns_the_path() {
    let (_tmp, dir) = super::example();
    let scene = dir.join("story/ch01/01-arrival.md");
    let (mut c, u) = super::opened(&dir, "story/ch01/01-arrival.md");
    let text = std::fs::read_to_string(&scene).unwrap();
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": u, "version": 2 }, "contentChanges": [{ "text": format!("{text}\nUNSAVED AI PARAGRAPH.\n") }] }),
    );

    let r = export(&mut c, json!({ "uri": u, "format": "md", "target": "ch01" }));
    let res = &r["result"];
    let path = res["path"].as_str().unwrap_or_else(|| panic!("{r}"));
    assert!(path.ends_with("exports/ch01.md"), "{r}");
    assert_eq!(res["scenes"], 4, "{r}");
    assert!(res["uri"].as_str().unwrap().starts_with("file://"), "{r}");
    let md = std::fs::read_to_string(path).unwrap();
    assert!(md.contains("The boat from Port Ainsley came round the point"), "{md}");
    assert!(!md.contains("UNSAVED AI PARAGRAPH"), "unsaved editor text is not exported");
    assert!(!md.contains("pov: alice"));

    // The scene itself as the target (its URI), to a chosen file inside the project.
    let r = export(
        &mut c,
        json!({ "uri": u, "format": "fountain", "target": u, "output": "drafts-out/arrival.fountain.txt" }),
    );
    assert!(r["error"]["message"].as_str().unwrap().contains("does not exist"), "{r}");
    std::fs::create_dir(dir.join("drafts-out")).unwrap();
    let r = export(&mut c, json!({ "uri": u, "format": "md", "target": u, "output": "drafts-out/arrival.md" }));
    assert_eq!(r["result"]["scenes"], 1, "{r}");
    assert!(std::fs::read_to_string(dir.join("drafts-out/arrival.md")).unwrap().starts_with("# Arrival\n"));

    for (args, says) in [
        (json!({ "uri": u, "format": "md", "output": "story/ch01/01-arrival.md" }), "into story/"),
        (json!({ "uri": u, "format": "md", "output": "../../../etc/book.md" }), "leaves the project"),
        (json!({ "uri": u, "format": "md", "target": "nowhere" }), "nothing called `nowhere`"),
        (json!({ "uri": u, "format": "rtf" }), "unknown export format `rtf`"),
    ] {
        let r = export(&mut c, args);
        let m = r["error"]["message"].as_str().unwrap_or_else(|| panic!("{r}"));
        assert!(m.contains(says), "{m}");
    }
    assert_eq!(std::fs::read_to_string(&scene).unwrap(), text, "the scene on disk is untouched");

    // The last export open in the editor (default path, then a chosen one): not replaced under it.
    let exported = dir.join("exports/ch01.md");
    let before = std::fs::read_to_string(&exported).unwrap();
    let e = c.open(&exported, "markdown");
    for args in [
        json!({ "uri": u, "format": "md", "target": "ch01" }),
        json!({ "uri": u, "format": "md", "target": "ch02", "output": "exports/ch01.md" }),
    ] {
        let r = export(&mut c, args);
        let m = r["error"]["message"].as_str().unwrap_or_else(|| panic!("{r}"));
        assert!(m.contains("it is open in the editor"), "{m}");
    }
    assert_eq!(std::fs::read_to_string(&exported).unwrap(), before);
    c.notify("textDocument/didClose", json!({ "textDocument": { "uri": e } }));
    assert_eq!(export(&mut c, json!({ "uri": u, "format": "md", "target": "ch01" }))["result"]["scenes"], 4);
    c.finish();
}

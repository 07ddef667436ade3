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

#[test]
fn a_pdf_export_goes_by_as_work_done_progress() {
    let (_tmp, dir) = super::example();
    let (mut c, u) = super::opened(&dir, "story/ch01/01-arrival.md");
    let r = export(&mut c, json!({ "uri": u, "format": "PDF" }));
    let res = &r["result"];
    let path = res["path"].as_str().unwrap_or_else(|| panic!("{r}"));
    assert!(path.ends_with("exports/the-lighthouse.pdf") && res["format"] == "pdf", "{r}");
    assert!(std::fs::read(path).unwrap().starts_with(b"%PDF-"));
    // Created, begun, each chapter, the writing, the end: in that order, on one token.
    let create = c.wait_for("the progress token", |v| {
        v["method"] == "window/workDoneProgress/create"
            && v["params"]["token"].as_str().is_some_and(|t| t.starts_with("showrunner/export/"))
    });
    let token = create["params"]["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("showrunner/export/"), "{create}");
    let mut said = Vec::new();
    loop {
        let v = c.wait_for("the export's progress", |v| {
            v["method"] == "$/progress" && v["params"]["token"] == token.as_str()
        });
        let value = &v["params"]["value"];
        said.push(format!(
            "{} {}",
            value["kind"].as_str().unwrap(),
            value["message"].as_str().or(value["title"].as_str()).unwrap_or("")
        ));
        if value["kind"] == "end" {
            break;
        }
    }
    assert_eq!(said[0], "begin Showrunner: export pdf");
    assert_eq!(said[1], "report chapter 1 of 4", "{said:?}");
    assert!(said.iter().any(|s| s == "report chapter 4 of 4"), "{said:?}");
    assert!(said[said.len() - 2].starts_with("report writing ") && said[said.len() - 2].ends_with(" KB"), "{said:?}");
    assert!(
        said.last().unwrap().starts_with("end wrote ") && said.last().unwrap().ends_with("(13 scenes)"),
        "{said:?}"
    );
    c.finish();
}

#[test]
fn an_export_is_not_held_up_by_a_client_that_never_answers_for_its_progress() {
    let (_tmp, dir) = super::example();
    let (mut c, u) = super::opened(&dir, "story/ch01/01-arrival.md");
    // The client declared work-done progress, and now leaves the server's token requests hanging.
    c.never_answer("window/workDoneProgress/create");
    let r = export(&mut c, json!({ "uri": u, "format": "md", "target": "ch01" }));
    assert_eq!(r["result"]["scenes"], 4, "{r}");
    let seen = c.take_received();
    let export_token = |v: &Value| v["params"]["token"].as_str().is_some_and(|t| t.starts_with("showrunner/export/"));
    assert!(seen.iter().any(|v| v["method"] == "window/workDoneProgress/create" && export_token(v)), "it was asked");
    assert!(!seen.iter().any(|v| v["method"] == "$/progress" && export_token(v)), "no progress without a token");
    c.finish();
}

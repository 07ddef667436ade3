//! Gates and run endings in an editor with neither code lenses nor `window/showDocument` (eglot,
//! Helix): the server asks with `window/showMessageRequest`, offers the decisions as code actions
//! on the review document, and tells how a run ended with `window/showMessage`.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use showrunner_testkit::model_server::{ModelServer, Reply};
use showrunner_testkit::{uri, Client};

use super::{bin, command, example_on, position};

/// A client as eglot or Helix come: no lenses, no showDocument, no applyEdit, no progress.
fn start_plain(dir: &Path) -> Client {
    let mut c = Client::spawn(bin(), &[("XDG_CONFIG_HOME", dir.join(".no-user-config").to_str().unwrap())]);
    c.initialize_plain(&[dir]);
    c
}

/// The next question the server asks by message.
fn asked(c: &mut Client) -> Value {
    c.wait_for("showMessageRequest", |v| v["method"] == "window/showMessageRequest")["params"].clone()
}

/// The next `window/showMessage` about a rewrite.
fn told(c: &mut Client) -> Value {
    c.wait_for("showMessage", |v| {
        v["method"] == "window/showMessage"
            && v["params"]["message"].as_str().is_some_and(|m| m.starts_with("Showrunner: rewrite-selection"))
    })["params"]
        .clone()
}

/// The review file a question names.
fn review_file(question: &Value) -> PathBuf {
    let message = question["message"].as_str().unwrap();
    PathBuf::from(message.rsplit_once("Review file: ").expect("the question names the review file").1)
}

fn titles(v: &Value, key: &str) -> Vec<String> {
    v.as_array().unwrap().iter().filter_map(|a| a[key].as_str().map(str::to_string)).collect()
}

const SENTENCE: &str = "The boat stood off, rose, fell, stood off again.";
const REWRITTEN: &str = "Das Boot hielt Abstand — stieg, fiel; «hielt».";

/// Starts `rewrite-selection` on [`SENTENCE`] in `scene` (whose text is `text`); the run's id.
fn rewrite_sentence(c: &mut Client, scene: &Path, text: &str) -> String {
    let at = text.find(SENTENCE).unwrap();
    let range = json!({ "start": position(text, at), "end": position(text, at + SENTENCE.len()) });
    let started = command(
        c,
        "showrunner.pipeline.run",
        json!({ "pipeline": "rewrite-selection", "uri": uri(scene), "range": range }),
    );
    started["run"].as_str().unwrap().to_string()
}

#[test]
fn a_client_without_lenses_or_show_document_approves_both_gates_by_message() {
    let server = ModelServer::start(vec![Reply::tokens(&["Das Boot hielt Abstand — ", "stieg, fiel; «hielt»."])]);
    let (_tmp, dir) = example_on(&server);
    let scene = dir.join("story/ch01/01-arrival.md");
    let text = std::fs::read_to_string(&scene).unwrap();
    let mut c = start_plain(&dir);
    // The writer picks "Approve" every time they are asked.
    c.answer("window/showMessageRequest", json!({ "title": "Approve" }));
    // The scene is not open (the editor takes no edits from the server): the approved text is
    // written to the file.
    let run = rewrite_sentence(&mut c, &scene, &text);

    // Gate 1, the prompt: asked with the five decisions, naming the review file.
    let q = asked(&mut c);
    assert_eq!(titles(&q["actions"], "title"), ["Approve", "Edit", "Skip", "Reject", "Open review file"]);
    let message = q["message"].as_str().unwrap();
    let review = dir.join(".showrunner/runs").join(&run).join("review.md");
    assert!(message.contains("Review the prompt"), "{message}");
    assert!(message.contains(review.to_str().unwrap()), "the question names the review file: {message}");
    // Gate 2, the output, after the model answered the approved prompt.
    let q = asked(&mut c);
    let message = q["message"].as_str().unwrap();
    assert!(message.contains("Approve the output"), "{message}");
    assert!(message.contains("Approving: replaces the selection"), "the question says what approving does: {message}");
    assert!(server.requests().iter().any(|r| r.path.ends_with("/chat/completions")), "the prompt went out");

    // The run ends, and the writer is told so in a message.
    let end = told(&mut c);
    assert_eq!(end["type"], 3, "{end}");
    assert!(end["message"].as_str().unwrap().contains("rewrite-selection finished"), "{end}");
    assert_eq!(std::fs::read_to_string(&scene).unwrap(), text.replace(SENTENCE, REWRITTEN));
    let status = command(&mut c, "showrunner.run.status", json!({ "run": run }));
    assert_eq!(status["state"], "succeeded", "{status}");
    c.finish();
}

#[test]
fn the_review_document_offers_the_decisions_as_code_actions_and_a_failure_is_told() {
    let server = ModelServer::start(vec![Reply::tokens(&["Ein Boot, ", "das nicht bleiben will."])]);
    let (_tmp, dir) = example_on(&server);
    let scene = dir.join("story/ch01/01-arrival.md");
    let text = std::fs::read_to_string(&scene).unwrap();
    let mut c = start_plain(&dir);
    // The writer answers "Edit": told where the review file is, the gate waits for its code actions.
    c.answer("window/showMessageRequest", json!({ "title": "Edit" }));
    let run = rewrite_sentence(&mut c, &scene, &text);
    let review = review_file(&asked(&mut c));
    assert_eq!(review, dir.join(".showrunner/runs").join(&run).join("review.md"));
    let hint = c.wait_for("where to edit", |v| v["method"] == "window/showMessage")["params"].clone();
    let hint = hint["message"].as_str().unwrap();
    assert!(hint.contains(&format!("Edit {}", review.display())) && hint.contains("code actions"), "{hint}");
    let status = command(&mut c, "showrunner.run.status", json!({ "run": run }));
    assert_eq!(status["state"], "waiting", "Edit decides nothing: {status}");
    let actions = |c: &mut Client, review: &Path| {
        c.request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri(review) }, "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } }, "context": { "diagnostics": [] } }),
        )
    };
    let offered = actions(&mut c, &review);
    let names = titles(&offered, "title");
    for t in ["Showrunner: Approve", "Showrunner: Skip", "Showrunner: Reject", "Showrunner: Change model"] {
        assert!(names.contains(&t.to_string()), "{names:?}");
    }
    // Each runs the command the lenses run.
    let approve = offered.as_array().unwrap().iter().find(|a| a["title"] == "Showrunner: Approve").unwrap();
    assert_eq!(approve["command"]["command"], "showrunner.gate.resolve");
    assert_eq!(approve["isPreferred"], true);
    let r = command(&mut c, "showrunner.gate.resolve", approve["command"]["arguments"][0].clone());
    assert_eq!((r["decision"].as_str(), r["open"].as_bool()), (Some("approve"), Some(false)), "{r}");
    // The output gate: its review document now offers the same; Reject ends the run.
    let output = review_file(&asked(&mut c));
    assert_eq!(output, dir.join(".showrunner/runs").join(&run).join("approve.md"));
    let offered = actions(&mut c, &output);
    let reject = offered.as_array().unwrap().iter().find(|a| a["title"] == "Showrunner: Reject").unwrap();
    assert_eq!(reject["command"]["arguments"][0]["step"], "approve", "{reject}");
    command(&mut c, "showrunner.gate.resolve", reject["command"]["arguments"][0].clone());
    let end = told(&mut c);
    assert_eq!(end["type"], 1, "a failure is an error message: {end}");
    assert!(end["message"].as_str().unwrap().contains("rewrite-selection failed"), "{end}");
    assert_eq!(std::fs::read_to_string(&scene).unwrap(), text, "nothing applied");
    // No gate left: the review document offers nothing.
    let offered = actions(&mut c, &output);
    assert!(offered.is_null() || offered.as_array().is_some_and(|a| a.is_empty()), "{offered}");
    c.finish();
}

#[test]
fn a_client_with_a_review_ui_of_its_own_is_not_asked_by_message() {
    let server = ModelServer::start(vec![Reply::tokens(&["Still."])]);
    let (_tmp, dir) = example_on(&server);
    let scene = dir.join("story/ch01/01-arrival.md");
    let text = std::fs::read_to_string(&scene).unwrap();
    // A plain client that says it has a review UI of its own (the Neovim plugin does).
    let mut c = Client::spawn(bin(), &[("XDG_CONFIG_HOME", dir.join(".no-user-config").to_str().unwrap())]);
    c.request(
        "initialize",
        json!({ "capabilities": {}, "initializationOptions": { "reviewUi": true }, "workspaceFolders": [{ "uri": uri(&dir), "name": "w" }] }),
    );
    c.notify("initialized", json!({}));
    let at = text.find(SENTENCE).unwrap();
    let range = json!({ "start": position(&text, at), "end": position(&text, at + SENTENCE.len()) });
    let run = command(
        &mut c,
        "showrunner.pipeline.run",
        json!({ "pipeline": "rewrite-selection", "uri": uri(&scene), "range": range }),
    )["run"]
        .as_str()
        .unwrap()
        .to_string();
    let gate = c.wait_for("gate", |v| v["method"] == "showrunner/runProgress" && v["params"]["event"] == "gate");
    assert_eq!(gate["params"]["run"], run.as_str());
    command(&mut c, "showrunner.run.cancel", json!({ "run": run }));
    // Between the gate and the run's end: no question by message (it would come first).
    let next = c.wait_for("a question or the end", |v| {
        v["method"] == "window/showMessageRequest"
            || v["method"] == "window/showMessage"
            || (v["method"] == "showrunner/runProgress" && v["params"]["event"] == "done")
    });
    assert_eq!(next["method"], "showrunner/runProgress", "{next}");
    assert_eq!(next["params"]["state"], "cancelled", "{next}");
    c.finish();
}

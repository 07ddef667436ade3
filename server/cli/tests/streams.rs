//! Real model servers' stream shapes through a whole run: nothing but the answer reaches the
//! manuscript. Reasoning opened in the chat template is kept in the record and shown at the gate,
//! never applied; a stream cut short is retried and, when it stays cut, fails the run resumably
//! with nothing applied; an answer cut at the token limit is flagged at the gate; the model that
//! answered (behind a router) is recorded, and a replay names the recorded model.

use showrunner_testkit::{example_on, output_text as text};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::{json, Value};
use showrunner_testkit::model_server::{chunk, sse, ModelServer, Reply};

fn showrunner(args: &[&str], cwd: &Path) -> Output {
    showrunner_testkit::run_binary(Path::new(env!("CARGO_BIN_EXE_showrunner")), args, cwd, &[])
}

/// The run record as the run store keeps it.
fn record(dir: &Path, id: &str) -> Value {
    let db = rusqlite_free_load(dir, id);
    serde_json::from_str(&db).unwrap()
}

/// Reads a run's JSON from `.showrunner/runs.db` through the CLI's own store code path: the
/// `sqlite3` shell is not assumed, so the test asks the store crate.
fn rusqlite_free_load(dir: &Path, id: &str) -> String {
    let runs = showrunner_store::runs::Runs::open(dir).unwrap();
    runs.load(id).unwrap().expect("the run is recorded").to_string()
}

const SCENE: &str = "story/ch01/03-supper.md";

#[test]
fn reasoning_from_the_chat_template_is_kept_and_shown_but_never_applied() {
    let server = ModelServer::start(vec![Reply::Stream(vec![
        (Duration::ZERO, chunk(json!({ "content": " Okay, the user wants Tom" }))),
        (Duration::ZERO, chunk(json!({ "content": " at supper.\n</th" }))),
        (Duration::ZERO, chunk(json!({ "content": "ink>\n\nTom ate in silence." }))),
        (
            Duration::ZERO,
            sse(
                &json!({ "model": "deepseek-r1-distill", "choices": [{ "index": 0, "delta": {}, "finish_reason": "stop" }] }),
            ),
        ),
        (Duration::ZERO, "data: [DONE]\n\n".into()),
    ])]);
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    let before = std::fs::read_to_string(dir.join(SCENE)).unwrap();
    let out = showrunner(&["run", "draft-scene", SCENE, "--yes", "--model", "local/r1"], &dir);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let after = std::fs::read_to_string(dir.join(SCENE)).unwrap();
    assert_eq!(after, format!("{}\n\nTom ate in silence.\n", before.trim_end()));
    assert!(!after.contains("Okay") && !after.contains("think"), "{after}");
    // Shown at the gate, apart from the answer.
    assert!(
        t.contains("The model's reasoning (not part of the answer):\n  │ Okay, the user wants Tom at supper."),
        "{t}"
    );
    assert!(t.contains("(answered by deepseek-r1-distill)"), "{t}");
    let id = text(&showrunner(&["runs"], &dir)).split_whitespace().next().unwrap().to_string();
    let run = record(&dir, &id);
    let draft = run["exchanges"].as_array().unwrap().iter().find(|e| e["step"] == "draft").unwrap();
    assert_eq!(draft["response"], "\n\nTom ate in silence.");
    assert_eq!(draft["reasoning"], " Okay, the user wants Tom at supper.\n");
    assert_eq!(draft["served_by"], "deepseek-r1-distill");
    assert_eq!(draft["model"], "local/r1");
    // Recorded pieces add up to the answer alone, so a replay streams no reasoning.
    let chunks: String = draft["chunks"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(chunks, "\n\nTom ate in silence.");
    // A replay names the model that answered then, whatever the config says now.
    std::fs::write(dir.join(SCENE), &before).unwrap();
    let replay = showrunner(&["run", "draft-scene", SCENE, "--yes", "--replay", &id], &dir);
    let r = text(&replay);
    assert!(replay.status.success(), "{r}");
    assert!(r.contains("draft        generate         succeeded · local/r1"), "{r}");
    assert!(!r.contains("Okay, the user wants Tom at supper.\n</"), "{r}");
}

#[test]
fn a_stream_cut_short_is_retried_and_when_it_stays_cut_nothing_is_applied_until_resume() {
    let cut = || Reply::Cut(vec![(Duration::ZERO, chunk(json!({ "content": "Tom put down his " })))]);
    let server = ModelServer::start(vec![cut(), cut(), cut(), cut()]);
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    let before = std::fs::read_to_string(dir.join(SCENE)).unwrap();
    let out = showrunner(&["run", "draft-scene", SCENE, "--yes", "--model", "local/x"], &dir);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("ended early after 1 tokens"), "{t}");
    assert_eq!(server.requests().len(), 4, "retried like a 5xx");
    assert_eq!(std::fs::read_to_string(dir.join(SCENE)).unwrap(), before, "nothing partial was applied");
    // The run failed resumably: the server recovers, `resume` finishes it, once.
    server.push(Reply::tokens(&["Tom put down his fork."]));
    let id = text(&showrunner(&["runs"], &dir)).split_whitespace().next().unwrap().to_string();
    let out = showrunner(&["resume", &id, "--yes"], &dir);
    assert!(out.status.success(), "{}", text(&out));
    let after = std::fs::read_to_string(dir.join(SCENE)).unwrap();
    assert_eq!(after, format!("{}\n\nTom put down his fork.\n", before.trim_end()));
}

#[test]
fn an_answer_cut_at_the_token_limit_is_flagged_at_the_gate() {
    let server = ModelServer::start(vec![Reply::Stream(vec![
        (Duration::ZERO, chunk(json!({ "content": "Tom looked at the lamp and" }))),
        (Duration::ZERO, sse(&json!({ "choices": [{ "index": 0, "delta": {}, "finish_reason": "length" }] }))),
        (Duration::ZERO, "data: [DONE]\n\n".into()),
    ])]);
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    let out = showrunner(&["run", "draft-scene", SCENE, "--yes", "--model", "local/x"], &dir);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("Note: The answer was cut at the model's token limit"), "{t}");
}

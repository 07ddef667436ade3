//! The verifier's memory in the editor: a scene's past defect reports (a `verify` step's, kept in
//! `runs.db`) are in its context view and lens as its next run gets them, read when a run writes
//! the run store, and never read from SQLite while the writer types.

use serde_json::{json, Value};
use showrunner_testkit::model_server::{ModelServer, Reply};
use showrunner_testkit::Client;

use super::{bin, command, read};

fn defects(ctx: &Value) -> Vec<Value> {
    ctx["items"].as_array().unwrap().iter().filter(|i| i["kind"] == "defect").cloned().collect()
}

/// The context lens's title (the first lens on line 0).
fn lens(c: &mut Client, u: &str) -> String {
    let lenses = c.request("textDocument/codeLens", json!({ "textDocument": { "uri": u } }));
    lenses[0]["command"]["title"].as_str().unwrap().to_string()
}

/// The context lens shows the view's token count.
fn assert_lens_counts(c: &mut Client, u: &str, ctx: &Value) {
    let title = lens(c, u);
    let used = showrunner_model::text::group_digits(ctx["used_tokens"].as_u64().unwrap() as usize);
    assert!(title.contains(&format!("· {used}/")), "{title} vs {used}");
}

#[test]
fn the_context_view_and_lens_list_a_past_defect_and_typing_reads_no_sqlite() {
    let server = ModelServer::start(vec![
        // The draft names a stranger: verify reports it, and the retry fixes it.
        Reply::tokens(&["Alice met Quillan at the door, and Quillan smiled; later Quillan left."]),
        Reply::tokens(&["Alice climbed the stairs and said nothing."]),
    ]);
    let (_tmp, dir) = super::example_on(&server);
    let scene = dir.join("story/ch01/03-supper.md");
    let text = read(&scene);
    let mut c = Client::spawn(bin(), &[]);
    c.initialize_with(&[&dir], false, json!({ "workspace": { "codeLens": { "refreshSupport": true } } }));
    let u = c.open(&scene, "markdown");
    c.diagnostics(&u, |_| true);
    let before = command(&mut c, "showrunner.context.show", json!({ "uri": u }));
    assert!(defects(&before).is_empty(), "{before}");
    assert!(!lens(&mut c, &u).contains("past defect"));

    // A run in a terminal whose verify step finds a stranger: its report is in runs.db. (Its
    // draft is not written: the scene is open here.)
    let out = showrunner_testkit::run_binary(
        bin(),
        &["run", "draft-scene", "story/ch01/03-supper.md", "--yes", "--model", "local/llama3.1"],
        &dir,
        &[],
    );
    let t = showrunner_testkit::output_text(&out);
    assert!(t.contains("story/ch01/03-supper.md is open in an editor"), "{t}");
    // The server saw runs.db written, read the scene's recalled defects again and asks the
    // editor for fresh lenses.
    c.wait_for("a code lens refresh", |v| v["method"] == "workspace/codeLens/refresh");

    let ctx = command(&mut c, "showrunner.context.show", json!({ "uri": u }));
    let found = defects(&ctx);
    assert_eq!(found.len(), 1, "{ctx}");
    let reason = found[0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("past defect from run draft-scene-"), "{ctx}");
    assert!(found[0]["text"].as_str().unwrap().contains("Quillan"), "{ctx}");
    assert!(found[0]["tokens"].as_u64().unwrap() > 0);
    // What `showrunner context` (and so a run) gets: the same items.
    let cli =
        showrunner_testkit::run_binary(bin(), &["context", "story/ch01/03-supper.md", "--format", "json"], &dir, &[]);
    let cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(defects(&cli), found);
    // The lens counts its tokens: the view's total, defect included.
    assert_lens_counts(&mut c, &u, &ctx);

    // Typing reads only what the server keeps: with the run store gone from where SQLite would
    // look (moved away, which the server's watcher does not take for a write), the view after
    // every edit still lists the defect and the lens still counts it.
    let runs = dir.join(".showrunner/runs.db");
    std::fs::rename(&runs, dir.join(".showrunner/runs.db.kept")).unwrap();
    let words = ["The", "lamp", "burned", "low."];
    for i in 0..words.len() {
        let edited = format!("{text}\n{}\n", words[..=i].join(" "));
        c.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": u, "version": 2 + i }, "contentChanges": [{ "text": edited }] }),
        );
        let ctx = command(&mut c, "showrunner.context.show", json!({ "uri": u }));
        assert_eq!(defects(&ctx), found, "after typing {:?}: {ctx}", words[i]);
        assert_lens_counts(&mut c, &u, &ctx);
    }
    assert!(!runs.exists(), "nothing created a run store");
    c.finish();
}

#[test]
fn a_run_of_the_editor_whose_verify_finds_a_stranger_is_recalled_in_the_context_view() {
    let server = ModelServer::start(vec![
        Reply::tokens(&["Alice met Quillan at the door, and Quillan smiled; later Quillan left."]),
        Reply::tokens(&["Alice climbed the stairs and said nothing."]),
    ]);
    let (_tmp, dir) = super::example_on(&server);
    let scene = dir.join("story/ch01/03-supper.md");
    let mut c = Client::spawn(bin(), &[]);
    c.initialize_with(&[&dir], false, json!({ "workspace": { "codeLens": { "refreshSupport": true } } }));
    let u = c.open(&scene, "markdown");
    c.diagnostics(&u, |_| true);
    let started = command(
        &mut c,
        "showrunner.pipeline.run",
        json!({ "pipeline": "draft-scene", "uri": u, "model": "local/llama3.1" }),
    );
    let run = started["run"].as_str().unwrap().to_string();
    // Every gate approved until the run ends.
    loop {
        let p = c.wait_for("a gate or the end", |v| {
            v["method"] == "showrunner/runProgress"
                && v["params"]["run"] == run.as_str()
                && (v["params"]["event"] == "gate" || v["params"]["event"] == "done")
        })["params"]
            .clone();
        if p["event"] == "done" {
            assert_eq!(p["state"], "succeeded", "{p}");
            break;
        }
        let step = p["gate"]["step"].as_str().unwrap();
        command(&mut c, "showrunner.gate.resolve", json!({ "run": run, "step": step, "decision": "approve" }));
    }
    c.wait_for("a code lens refresh", |v| v["method"] == "workspace/codeLens/refresh");
    let ctx = command(&mut c, "showrunner.context.show", json!({ "uri": u }));
    let found = defects(&ctx);
    assert_eq!(found.len(), 1, "{ctx}");
    assert_eq!(found[0]["reason"], format!("past defect from run {run}"), "{ctx}");
    assert_lens_counts(&mut c, &u, &ctx);
    c.finish();
}

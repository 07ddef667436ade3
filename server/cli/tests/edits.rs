//! What a writer approves is exactly what changes, from the terminal: the gate shows the edit in
//! words and as a diff, and that diff is what lands on disk byte for byte; every pipeline puts
//! its output where it says; selection pipelines need a selection; an answer that is not JSON is
//! never lost; and a run that crashes at any point of its edit applies it exactly once.

use showrunner_testkit::{example_on, output_text as text};
use std::path::Path;
use std::process::Output;

use serde_json::Value;
use showrunner_pipeline::edit::apply_unified_diff;
use showrunner_testkit::model_server::{ModelServer, Reply};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_showrunner"))
}

fn showrunner(args: &[&str], cwd: &Path) -> Output {
    showrunner_testkit::run_binary(bin(), args, cwd, &[])
}

/// The diff a `--yes` gate printed: from its `--- a/` line to the end of the hunk.
fn printed_diff(out: &str) -> String {
    let start = out.find("--- a/").expect("a diff was shown");
    let mut diff = String::new();
    for (i, line) in out[start..].lines().enumerate() {
        if i >= 3 && !line.starts_with([' ', '-', '+', '\\']) {
            break;
        }
        diff.push_str(line);
        diff.push('\n');
    }
    diff
}

fn log(dir: &Path, path: &str) -> Vec<Value> {
    let out = showrunner(&["log", path, "--format", "json"], dir);
    serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().unwrap().clone()
}

fn last_prompt(server: &ModelServer) -> String {
    let r = server.requests();
    r.last().unwrap().body["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string()
}

#[test]
fn a_draft_on_a_scene_with_prose_says_it_appends_and_its_diff_is_what_lands() {
    let server =
        ModelServer::start(vec![Reply::tokens(&["Tom ", "slept badly, ", "and the glass fell.\n\nThe wind rose."])]);
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    let scene = "story/ch01/03-supper.md";
    let before = std::fs::read_to_string(dir.join(scene)).unwrap();
    let out = showrunner(&["run", "draft-scene", scene, "--yes", "--model", "local/x"], &dir);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let last = before.trim_end().lines().count();
    assert!(
        t.contains(&format!("Approving: will be added after line {last} of 03-supper.md, at the end of the scene")),
        "{t}"
    );
    let after = std::fs::read_to_string(dir.join(scene)).unwrap();
    assert_eq!(apply_unified_diff(&before, &printed_diff(&t)).as_deref(), Some(after.as_str()), "{t}");
    assert_eq!(after, format!("{}\n\nTom slept badly, and the glass fell.\n\nThe wind rose.\n", before.trim_end()));
    let events = log(&dir, scene);
    assert_eq!(events.iter().filter(|e| e["type"] == "apply_edit").count(), 1);
}

#[test]
fn summarize_scene_sets_the_summary_field_and_keeps_the_rest_byte_for_byte() {
    let server = ModelServer::start(vec![
        Reply::tokens(&["Li Lei takes ", "Zoë's messages; ", "the weather turns."]),
        Reply::tokens(&["Tom faces \"the inspector\" ", "over supper."]),
    ]);
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    // No summary yet: a new line before the closing `---`.
    let scene = "story/ch01/02-the-hut.md";
    let before = std::fs::read_to_string(dir.join(scene)).unwrap();
    let out = showrunner(&["run", "summarize-scene", scene, "--yes", "--model", "local/x"], &dir);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("Approving: sets `summary:` as a new line 7 of 02-the-hut.md"), "{t}");
    let after = std::fs::read_to_string(dir.join(scene)).unwrap();
    assert_eq!(
        after,
        before.replacen(
            "timeline: { main: 2 }\n",
            "timeline: { main: 2 }\nsummary: \"Li Lei takes Zoë's messages; the weather turns.\"\n",
            1
        )
    );
    assert_eq!(apply_unified_diff(&before, &printed_diff(&t)).as_deref(), Some(after.as_str()));
    // The analysis reads it back as the scene's summary.
    let check = showrunner(&["check"], &dir);
    assert!(check.status.success(), "{}", text(&check));
    // A summary already there is replaced, CRLF kept, the prose untouched.
    let crlf = "story/ch01/03-supper.md";
    let original = std::fs::read_to_string(dir.join(crlf)).unwrap();
    let with_summary = original.replacen("pov: tom\n", "pov: tom\nsummary: An old one.\n", 1).replace('\n', "\r\n");
    std::fs::write(dir.join(crlf), &with_summary).unwrap();
    let out = showrunner(&["run", "summarize-scene", crlf, "--yes", "--model", "local/x"], &dir);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(dir.join(crlf)).unwrap(),
        with_summary.replace("summary: An old one.", "summary: \"Tom faces \\\"the inspector\\\" over supper.\"")
    );
}

#[test]
fn selection_pipelines_refuse_without_a_selection_and_replace_exactly_it() {
    let server = ModelServer::start(vec![
        Reply::tokens(&["“You’ll have seen it,” ", "he said."]),
        Reply::tokens(&["It is a very fine tower.”"]),
    ]);
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    let scene = "story/ch01/03-supper.md";
    let before = std::fs::read_to_string(dir.join(scene)).unwrap();
    // Without a selection: refused before any model call, saying how to give one.
    let out = showrunner(&["run", "rewrite-selection", scene, "--yes", "--model", "local/x"], &dir);
    let t = text(&out);
    assert!(!out.status.success());
    assert!(t.contains("works on a selection") && t.contains("--lines") && t.contains("--range"), "{t}");
    assert!(server.requests().is_empty());
    for bad in [["--lines", "0-3"], ["--lines", "9-4"], ["--lines", "5-500"], ["--range", "11:1"], ["--lines", "7-7"]] {
        let out = showrunner(&["run", "rewrite-selection", scene, "--yes", bad[0], bad[1]], &dir);
        assert!(!out.status.success(), "{bad:?} was accepted");
        assert!(!text(&out).contains("panicked"), "{}", text(&out));
    }
    assert!(server.requests().is_empty());
    // --lines: whole lines; the prompt carries them, the answer replaces exactly them.
    let line12 = before.lines().nth(11).unwrap().to_string();
    assert!(line12.starts_with("“You’ll have seen the tower,”"), "{line12}");
    let out = showrunner(&["run", "rewrite-selection", scene, "--yes", "--model", "local/x", "--lines", "12-12"], &dir);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(last_prompt(&server).contains(&line12));
    assert!(t.contains("Approving: replaces the selection on line 12 of 03-supper.md"), "{t}");
    let after = std::fs::read_to_string(dir.join(scene)).unwrap();
    assert_eq!(after, before.replacen(&line12, "“You’ll have seen it,” he said.", 1));
    assert_eq!(apply_unified_diff(&before, &printed_diff(&t)).as_deref(), Some(after.as_str()));
    // --range: editor positions in characters (the curly quotes are one each).
    let line14 = after.lines().nth(13).unwrap().to_string();
    assert_eq!(line14, "“It is a fine tower,” said Nowak.");
    let out =
        showrunner(&["run", "rewrite-selection", scene, "--yes", "--model", "local/x", "--range", "14:2-14:22"], &dir);
    assert!(out.status.success(), "{}", text(&out));
    assert!(last_prompt(&server).trim_end().ends_with("Passage:\nIt is a fine tower,”"), "{}", last_prompt(&server));
    let last = std::fs::read_to_string(dir.join(scene)).unwrap();
    assert_eq!(last, after.replacen("“It is a fine tower,” said", "“It is a very fine tower.” said", 1));
}

#[test]
fn a_research_answer_that_is_not_json_is_caught_at_the_gate_and_kept() {
    // Asked twice more for JSON, the model still answers in prose.
    let prose = || Reply::tokens(&["Fog signals were fired ", "every five minutes with tonite charges."]);
    let server = ModelServer::start(vec![prose(), prose(), prose()]);
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    let out = showrunner(
        &[
            "run",
            "research",
            "story/ch01/01-arrival.md",
            "--yes",
            "--model",
            "local/x",
            "--question",
            "How were fog signals fired?",
        ],
        &dir,
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("Note: The answer is not a JSON object"), "{t}");
    assert_eq!(server.requests().len(), 3);
    assert!(last_prompt(&server).ends_with("Answer again with the JSON object only: no prose, no code fence."));
    let bucket = std::fs::read_to_string(dir.join("buckets/research/how-were-fog-signals-fired.yaml")).unwrap();
    assert!(bucket.contains("body: \"Fog signals were fired every five minutes with tonite charges.\""), "{bucket}");
    assert!(bucket.contains("name: \"How were fog signals fired?\""), "{bucket}");
}

/// A crash at each point of an edit (the event appended; the file written; the event marked
/// applied but the run not yet told), then `resume`: the text is there exactly once, and one
/// `apply_edit` event records it.
#[test]
fn a_crash_at_every_fault_point_of_an_edit_then_resume_applies_it_exactly_once() {
    for fault in ["after-append", "after-write", "after-apply"] {
        let server = ModelServer::start(vec![Reply::tokens(&["The glass ", "fell all night."])]);
        let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
        let scene = "story/ch01/03-supper.md";
        let before = std::fs::read_to_string(dir.join(scene)).unwrap();
        let crashed = showrunner_testkit::run_binary(
            bin(),
            &["run", "draft-scene", scene, "--yes", "--model", "local/x"],
            &dir,
            &[("SHOWRUNNER_FAULT", fault)],
        );
        assert!(!crashed.status.success(), "{fault}: {}", text(&crashed));
        assert!(text(&crashed).contains(&format!("fault injected at {fault}")), "{}", text(&crashed));
        let runs = text(&showrunner(&["runs"], &dir));
        let id = runs.split_whitespace().next().unwrap().to_string();
        let out = showrunner(&["resume", &id, "--yes"], &dir);
        assert!(out.status.success(), "{fault}: {}", text(&out));
        let after = std::fs::read_to_string(dir.join(scene)).unwrap();
        assert_eq!(after.matches("The glass fell all night.").count(), 1, "{fault}: {after}");
        assert_eq!(after, format!("{}\n\nThe glass fell all night.\n", before.trim_end()), "{fault}");
        let events = log(&dir, scene);
        let edits: Vec<&Value> = events.iter().filter(|e| e["type"] == "apply_edit").collect();
        assert_eq!(edits.len(), 1, "{fault}: {events:?}");
        assert_eq!(edits[0]["id"], format!("{id}-apply"));
        // Nothing outside the log: the file is the log's latest version.
        assert!(events.iter().all(|e| e["actor"] == "user" || e["type"] == "apply_edit"), "{events:?}");
        assert_eq!(events[0]["id"], edits[0]["id"], "{fault}: the edit is the latest event");
        assert_eq!(server.requests().len(), 1, "{fault}: the model was not called again");
        // The history has no drift: what is on disk is what the log says.
        let check = showrunner(&["log", scene], &dir);
        assert!(check.status.success());
    }
}

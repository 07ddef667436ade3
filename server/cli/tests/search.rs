//! `showrunner search` on the example story: the story (scenes, buckets, research) and the
//! memory of runs (what a run was asked, its prompts, answers and defect reports), with
//! filters, snippets and JSON; a run finished after the first search is found by the next.

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use showrunner_testkit::model_server::{ModelServer, Reply};
use showrunner_testkit::{example_on, output_text as text};

fn showrunner(args: &[&str], cwd: &Path) -> Output {
    showrunner_testkit::run_binary(Path::new(env!("CARGO_BIN_EXE_showrunner")), args, cwd, &[])
}

fn json(args: &[&str], cwd: &Path) -> Vec<Value> {
    let mut all = vec!["search"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = showrunner(&all, cwd);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().unwrap().clone()
}

#[test]
fn the_story_is_searched_with_snippets_and_kinds() {
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), "http://127.0.0.1:9");
    let hits = json(&["lamp", "--in", "story"], &dir);
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["source"] == "story"));
    assert!(hits.iter().all(|h| h["snippet"].as_str().unwrap().to_lowercase().contains("**lamp")), "{hits:?}");
    // Best first: scores never rise.
    let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // Scenes only, then one bucket kind only.
    let scenes = json(&["lamp", "--in", "story", "--kind", "scene"], &dir);
    assert!(!scenes.is_empty() && scenes.iter().all(|h| h["kind"] == "scene"), "{scenes:?}");
    assert!(scenes.iter().all(|h| h["path"].as_str().unwrap().starts_with("story/")));
    let chars = json(&["keeper", "--kind", "character"], &dir);
    assert!(!chars.is_empty() && chars.iter().all(|h| h["kind"] == "character"), "{chars:?}");
    // Every word must match; nothing of the runs when there are none.
    assert!(json(&["lamp", "--in", "runs"], &dir).is_empty());
    let text_out = text(&showrunner(&["search", "zzzzqqq"], &dir));
    assert!(text_out.contains("Nothing matches"), "{text_out}");
}

#[test]
fn what_runs_said_is_found_and_filtered() {
    let server = ModelServer::start(vec![
        Reply::tokens(&["Alice met Quillan at the door, and Quillan smiled."]),
        Reply::tokens(&["Alice climbed the stairs with the brass telescope and said nothing."]),
    ]);
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    let scene = "story/ch01/03-supper.md";
    // An index built before the run: the next search catches up with it.
    assert!(json(&["telescope", "--in", "runs"], &dir).is_empty());
    let out = showrunner(&["run", "draft-scene", scene, "--yes", "--model", "local/llama3.1"], &dir);
    assert!(out.status.success(), "{}", text(&out));
    // The finished run indexed itself: its memory is in index.db before anyone searches.
    let db = rusqlite::Connection::open(dir.join(".showrunner/index.db")).unwrap();
    let answers: i64 = db
        .query_row("SELECT count(*) FROM memory WHERE kind = 'answer' AND content LIKE '%brass telescope%'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(answers, 1);
    drop(db);

    let hits = json(&["brass telescope", "--in", "runs"], &dir);
    let answer = hits.iter().find(|h| h["kind"] == "answer").unwrap_or_else(|| panic!("{hits:?}"));
    assert_eq!(answer["source"], "runs");
    assert_eq!(answer["pipeline"], "draft-scene");
    assert_eq!(answer["model"], "local/llama3.1");
    assert_eq!(answer["path"], scene);
    assert!(answer["run"].as_str().unwrap().starts_with("draft-scene-"));
    assert!(answer["snippet"].as_str().unwrap().contains("**brass** **telescope**"), "{answer}");

    // The verify step's defect report went into the second prompt: found as a prompt.
    let prompts = json(&["Quillan", "--kind", "prompt"], &dir);
    assert!(!prompts.is_empty() && prompts.iter().all(|h| h["kind"] == "prompt"), "{prompts:?}");

    // The verify step's defect report itself, with the model whose draft it was about.
    let defects = json(&["Quillan", "--kind", "defect"], &dir);
    assert_eq!(defects.len(), 1, "{defects:?}");
    assert_eq!(defects[0]["model"], "local/llama3.1");
    assert!(defects[0]["snippet"].as_str().unwrap().contains("not in the story"), "{defects:?}");
    // Gate decisions (`--yes` approved them) are memory too.
    let decisions = json(&["approve", "--kind", "decision"], &dir);
    assert!(!decisions.is_empty() && decisions.iter().all(|h| h["kind"] == "decision"), "{decisions:?}");

    // Filters that exclude it.
    assert!(json(&["telescope", "--pipeline", "rewrite"], &dir).is_empty());
    assert!(json(&["telescope", "--model", "other/model"], &dir).is_empty());
    assert!(!json(&["telescope", "--model", "llama3.1"], &dir).is_empty());
    assert!(json(&["telescope", "--until", "2000-01-01"], &dir).is_empty());
    assert!(!json(&["telescope", "--since", "2000-01-01"], &dir).is_empty());

    // The history's event of the applied edit is memory too.
    let events = json(&["apply_edit", "--kind", "event"], &dir);
    assert!(events.iter().any(|h| h["path"] == scene), "{events:?}");

    // Text output names the run and the model.
    let t = text(&showrunner(&["search", "telescope", "--in", "runs"], &dir));
    assert!(t.contains("draft-scene") && t.contains("local/llama3.1") && t.contains("**telescope**"), "{t}");

    // A bad scope or day is a clear error.
    let out = showrunner(&["search", "x", "--in", "everywhere"], &dir);
    assert!(!out.status.success() && text(&out).contains("story, runs or all"), "{}", text(&out));
    let out = showrunner(&["search", "x", "--since", "last week"], &dir);
    assert!(!out.status.success() && text(&out).contains("YYYY-MM-DD"), "{}", text(&out));
}

#[test]
fn a_defect_found_in_one_run_is_recalled_in_the_next_draft_of_the_scene() {
    let server = ModelServer::start(vec![
        // The first draft names a stranger: verify reports it, and the retry fixes it.
        Reply::tokens(&["Alice met Quillan at the door, and Quillan smiled; later Quillan left."]),
        Reply::tokens(&["Alice climbed the stairs and said nothing."]),
        // The next draft of the same scene.
        Reply::tokens(&["Alice trimmed the wick."]),
    ]);
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    let scene = "story/ch01/03-supper.md";
    for _ in 0..2 {
        let out = showrunner(&["run", "draft-scene", scene, "--yes", "--model", "local/llama3.1"], &dir);
        assert!(out.status.success(), "{}", text(&out));
    }
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    let prompt = |i: usize| {
        reqs[i].body["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string()
    };
    // The first run's first prompt had nothing to recall; the second run's has the report, as a
    // context item with its run.
    assert!(!prompt(0).contains("A past defect"), "{}", prompt(0));
    let second = prompt(2);
    let first_run = json(&["Quillan", "--kind", "defect"], &dir)[0]["run"].as_str().unwrap().to_string();
    assert!(second.contains(&format!("### A past defect (run {first_run})")), "{second}");
    assert!(second.contains("These names are not in the story: Quillan"), "{second}");
    // `showrunner context` shows it as the runs get it: an item with its reason.
    let out = showrunner(&["context", scene, "--format", "json"], &dir);
    let ctx: Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = ctx["items"].as_array().unwrap();
    let recalled: Vec<&Value> = items.iter().filter(|i| i["kind"] == "defect").collect();
    assert!(!recalled.is_empty(), "{ctx}");
    assert!(recalled.iter().all(|i| i["reason"].as_str().unwrap().starts_with("past defect from run ")), "{ctx}");
}

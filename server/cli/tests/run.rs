//! Pipelines headless against a scripted model server on 127.0.0.1: a draft applied through the
//! history, verify retrying with a defect report, research saved as a bucket, runs listed, and a
//! recorded run replayed with no server at all.

use showrunner_testkit::{example_on, output_text as text};
use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;
use showrunner_testkit::model_server::{example_scene_in, ModelServer, Reply};

fn showrunner(args: &[&str], cwd: &Path) -> Output {
    showrunner_testkit::run_binary(std::path::Path::new(env!("CARGO_BIN_EXE_showrunner")), args, cwd, &[])
}

#[test]
fn draft_scene_end_to_end_then_replay_without_a_network() {
    let server = ModelServer::start(vec![
        // First draft names a stranger three times: verify sends it back with a defect report.
        Reply::tokens(&["Alice met ", "Quillan at the door, and Quillan smiled; later Quillan left."]),
        Reply::tokens(&["Alice climbed ", "the stairs with Łukasz ", "and said nothing about the log."]),
    ]);
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    let scene = "story/ch01/03-supper.md";
    let before = std::fs::read_to_string(dir.join(scene)).unwrap();
    let out = showrunner(&["run", "draft-scene", scene, "--yes", "--model", "local/llama3.1"], &dir);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("succeeded"), "{t}");
    assert!(t.contains("2 model call(s)"), "{t}");
    // The second prompt carried the defect report.
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    let second = reqs[1].body["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap();
    assert!(second.contains("These names are not in the story: Quillan"), "{second}");
    // The step's agent speaks through its system prompt.
    assert_eq!(reqs[0].body["messages"][0]["role"], "system");
    assert!(reqs[0].body["messages"][0]["content"].as_str().unwrap().contains("scene writer"));
    // The approved draft was applied to the scene through the history.
    let after = std::fs::read_to_string(dir.join(scene)).unwrap();
    assert!(after.starts_with(before.trim_end()));
    assert!(after.trim_end().ends_with("and said nothing about the log."), "{after}");
    let log = showrunner(&["log", scene, "--format", "json"], &dir);
    let log: serde_json::Value = serde_json::from_slice(&log.stdout).unwrap();
    assert_eq!(log[0]["type"], "apply_edit");
    assert!(log[0]["actor"].as_str().unwrap().starts_with("pipeline:draft-scene-"));
    // The run is listed, and replays with no server at all.
    let runs = text(&showrunner(&["runs"], &dir));
    let id = runs.split_whitespace().next().unwrap().to_string();
    assert!(id.starts_with("draft-scene-") && runs.contains("succeeded"), "{runs}");
    std::fs::write(dir.join(scene), &before).unwrap();
    let out = showrunner(&["run", "draft-scene", scene, "--yes", "--replay", &id], &dir);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert_eq!(server.requests().len(), 2, "a replay sends nothing");
    assert!(t.starts_with(&format!("REPLAY of run {id}")), "{t}");
    assert!(std::fs::read_to_string(dir.join(scene)).unwrap().trim_end().ends_with("and said nothing about the log."));
}

#[test]
fn research_saves_a_bucket_and_failures_are_clear() {
    let answer = json!({ "name": "Fog signals", "summary": "Tonite charges every five minutes.", "body": "Keepers fired…", "keywords": ["fog signal", "tonite"], "sources": ["Trinity House rules, 1902"] }).to_string();
    let server = ModelServer::start(vec![Reply::tokens(&["```json\n", &answer, "\n```"])]);
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
    assert!(out.status.success(), "{}", text(&out));
    let bucket = std::fs::read_to_string(dir.join("buckets/research/fog-signals.yaml")).unwrap();
    assert!(bucket.contains("keywords: [\"fog signal\",\"tonite\"]"), "{bucket}");
    assert!(bucket.contains("Trinity House rules, 1902"));
    let prompt = server.requests()[0].body["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(prompt.contains("How were fog signals fired?"));
    let check = showrunner(&["check"], &dir);
    assert!(check.status.success(), "{}", text(&check));

    // A server that is down: a clear error naming the URL and the key to change.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cfg = std::fs::read_to_string(dir.join("showrunner.yaml"))
        .unwrap()
        .replace(&server.url, &format!("http://127.0.0.1:{port}/v1"));
    std::fs::write(dir.join("showrunner.yaml"), cfg).unwrap();
    let out = showrunner(&["run", "brainstorm", "story/ch01/01-arrival.md", "--yes", "--model", "local/x"], &dir);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("cannot reach the model server") && t.contains("providers.local.base_url"), "{t}");
    // An unknown pipeline lists the available ones.
    let out = showrunner(&["run", "nope", "story/ch01/01-arrival.md", "--yes"], &dir);
    assert!(text(&out).contains("available: brainstorm, continue-scene"), "{}", text(&out));
}

/// The README's demo replays this recording when no model server answers.
#[test]
fn the_shipped_recording_replays_on_the_example() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(showrunner(&["init", "story", "--example"], tmp.path()).status.success());
    let dir = tmp.path().join("story");
    let recording = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/recorded/draft-scene.json");
    let out = showrunner(
        &["run", "draft-scene", "story/ch01/03-supper.md", "--yes", "--replay", recording.to_str().unwrap()],
        &dir,
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.starts_with("REPLAY of run recorded-draft-scene"), "{t}");
    let scene = std::fs::read_to_string(dir.join("story/ch01/03-supper.md")).unwrap();
    assert!(scene.trim_end().ends_with("very quietly, to sing."));
}

#[test]
fn the_daily_token_budget_is_checked_before_every_call() {
    let server = ModelServer::start(vec![Reply::tokens(&["never sent"])]);
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    let cfg = std::fs::read_to_string(dir.join("showrunner.yaml"))
        .unwrap()
        .replace("daily_tokens: 2000000", "daily_tokens: 50");
    std::fs::write(dir.join("showrunner.yaml"), cfg).unwrap();
    let out = showrunner(&["run", "brainstorm", "story/ch01/01-arrival.md", "--yes", "--model", "local/x"], &dir);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("daily token budget (50) would be exceeded"), "{t}");
    assert!(server.requests().is_empty(), "a refused call sends nothing");
}

#[test]
fn a_run_killed_mid_stream_resumes_without_repeating_finished_steps() {
    use std::time::Duration;
    let words: Vec<String> = (0..400).map(|i| format!("w{i} ")).collect();
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    let server = ModelServer::start(vec![Reply::slow(&refs, Duration::from_millis(25))]);
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    let mut child = Command::new(env!("CARGO_BIN_EXE_showrunner"))
        .args(["run", "draft-scene", "story/ch01/03-supper.md", "--yes", "--model", "local/llama3.1"])
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until tokens are streaming, then kill the process mid-call.
    showrunner_testkit::read_until(child.stdout.as_mut().unwrap(), "w3 ");
    child.kill().unwrap();
    child.wait().unwrap();
    let runs = text(&showrunner(&["runs"], &dir));
    let id = runs.split_whitespace().next().unwrap().to_string();
    assert!(runs.contains("interrupted"), "its process died: {runs}");

    server.push(Reply::tokens(&["Alice ", "poured ", "the tea."]));
    let out = showrunner(&["resume", &id, "--yes"], &dir);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("succeeded"), "{t}");
    // Two calls in all: the one cut off, and its retry; finished steps ran once.
    assert_eq!(server.requests().len(), 2);
    let scene = std::fs::read_to_string(dir.join("story/ch01/03-supper.md")).unwrap();
    assert!(scene.trim_end().ends_with("Alice poured the tea."), "{scene}");
    let again = text(&showrunner(&["resume", &id, "--yes"], &dir));
    assert!(again.contains("already succeeded"), "{again}");
}

/// Gates on a real terminal (a pseudo-terminal from `script`): edit in $EDITOR, change model,
/// chat, approve.
#[test]
fn terminal_gates_edit_change_model_chat_and_approve() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    }
    let server = ModelServer::start(vec![
        Reply::tokens(&["Alice lit the lamp."]),
        Reply::tokens(&["Alice lit the lamp, and the light went out across the water."]),
        Reply::tokens(&["Alice lit the lamp at last."]),
    ]);
    let (tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    // $EDITOR appends a line to the prompt it is given.
    let editor = tmp.path().join("editor.sh");
    std::fs::write(&editor, "#!/bin/sh\nprintf '\\nWrite it in one sentence.\\n' >> \"$1\"\n").unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let bin = env!("CARGO_BIN_EXE_showrunner");
    let cmd = format!("{bin} run continue-scene story/ch01/03-supper.md --model local/llama3.1");
    // Prompt gate: edit. Output gate: change model, then chat, then approve.
    let answers = "e\nm\nlocal/qwen2.5\nc\nshorter, please\na\n";
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(&dir)
        .env("EDITOR", &editor)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(answers.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3, "{t}");
    let prompt = |i: usize| {
        reqs[i].body["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string()
    };
    assert!(prompt(0).trim_end().ends_with("Write it in one sentence."), "the edited prompt went out");
    assert_eq!(reqs[1].body["model"], "qwen2.5", "generated again with the chosen model");
    assert!(prompt(2).contains("The writer says: shorter, please"), "{}", prompt(2));
    let scene = std::fs::read_to_string(dir.join("story/ch01/03-supper.md")).unwrap();
    assert!(scene.trim_end().ends_with("Alice lit the lamp at last."), "{scene}");
}

fn chat_requests(server: &ModelServer) -> Vec<showrunner_testkit::model_server::Recorded> {
    server.requests().into_iter().filter(|r| r.path.ends_with("/chat/completions")).collect()
}

const IDEAS: &str = r#"{"ideas": [{"title": "A storm", "pitch": "The lamp fails."}]}"#;

#[test]
fn a_batch_runs_each_scene_once_with_several_workers() {
    let server = ModelServer::start((0..8).map(|_| Reply::tokens(&[IDEAS])).collect());
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    let out = showrunner(&["batch", "brainstorm", "ch01", "--yes", "--jobs", "3", "--model", "local/llama3.1"], &dir);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let queued: usize = t.split(" scene(s) queued").next().unwrap().rsplit(' ').next().unwrap().parse().unwrap();
    assert!(queued >= 3, "{t}");
    assert!(t.contains(&format!("{queued}/{queued} done")), "{t}");
    // One call per scene, each about a different scene.
    let reqs = chat_requests(&server);
    assert_eq!(reqs.len(), queued, "{t}");
    let prompts: std::collections::HashSet<String> =
        reqs.iter().map(|r| r.body["messages"].as_array().unwrap().last().unwrap()["content"].to_string()).collect();
    assert_eq!(prompts.len(), queued);
    let status = text(&showrunner(&["batch", "status"], &dir));
    assert!(status.contains(&format!("{queued}/{queued} done")), "{status}");
    let runs = text(&showrunner(&["runs"], &dir));
    assert_eq!(runs.matches("succeeded").count(), queued, "{runs}");
}

/// Ideas, with the usage a big call reports: 30,000 tokens.
fn big_call() -> Reply {
    use showrunner_testkit::model_server::{chunk, sse};
    let z = std::time::Duration::ZERO;
    Reply::Stream(vec![
        (z, chunk(json!({ "content": IDEAS }))),
        (z, sse(&json!({ "choices": [{ "index": 0, "delta": {}, "finish_reason": "stop" }] }))),
        (
            z,
            sse(
                &json!({ "choices": [], "usage": { "prompt_tokens": 5000, "completion_tokens": 25000, "total_tokens": 30000 } }),
            ),
        ),
        (z, "data: [DONE]\n\n".to_string()),
    ])
}

#[test]
fn concurrent_batch_runs_never_overspend_the_daily_budget() {
    let server = ModelServer::start((0..8).map(|_| big_call()).collect());
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    // A call reserves its prompt (at most ~7,000 tokens here) and 30,000 for its answer, and
    // spends 30,000. However the four workers interleave, two calls fit in 75,000 and a third
    // never does: two in flight hold at least 60,000; two done have spent 60,000.
    let cfg = std::fs::read_to_string(dir.join("showrunner.yaml"))
        .unwrap()
        .replace("daily_tokens: 2000000", "daily_tokens: 75000")
        .replace(r#"local:  { base_url: ""#, r#"local:  { max_tokens: 30000, base_url: ""#);
    std::fs::write(dir.join("showrunner.yaml"), cfg).unwrap();
    let out = showrunner(&["batch", "brainstorm", "ch01", "--yes", "--jobs", "4", "--model", "local/llama3.1"], &dir);
    let t = text(&out);
    assert!(!out.status.success(), "some runs were refused: {t}");
    let reqs = chat_requests(&server);
    assert_eq!(reqs.len(), 2, "{t}");
    assert!(reqs.iter().all(|r| r.body["max_tokens"] == 30000), "the answer is capped at what was reserved");
    assert_eq!(t.matches(": succeeded").count(), 2, "{t}");
    assert!(t.contains("daily token budget (75000) would be exceeded"), "{t}");
    // The refused runs are failed, and `retry-failed` names them again tomorrow; today it is
    // refused again without a call.
    let retry = text(&showrunner(&["batch", "retry-failed", "--yes"], &dir));
    assert!(retry.contains("queued again"), "{retry}");
    assert_eq!(chat_requests(&server).len(), 2, "{retry}");
}

#[test]
fn without_yes_batch_runs_wait_at_their_gates_for_the_editor() {
    let server = ModelServer::start(Vec::new());
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    let out = showrunner(&["batch", "brainstorm", "story/ch01/01-arrival.md", "story/ch01/02-the-hut.md"], &dir);
    let t = text(&out);
    assert!(!out.status.success(), "not done yet: {t}");
    assert!(t.contains("0/2 done") && t.contains("2 waiting at a gate"), "{t}");
    assert_eq!(t.matches("waiting at gate `review` (in the editor's approval queue)").count(), 2, "{t}");
    assert!(!t.contains("cancelled"), "{t}");
    assert!(chat_requests(&server).is_empty(), "nothing is sent before the prompt gate is approved");
    // Parked for whoever takes them (the editor's approval queue): waiting, not interrupted.
    let runs = text(&showrunner(&["runs"], &dir));
    assert_eq!(runs.matches("waiting").count(), 2, "{runs}");
    assert!(dir.join(".showrunner/inbox").exists());
}

#[test]
fn a_batch_filter_and_bad_targets_are_explained() {
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), "http://127.0.0.1:9");
    for (args, says) in [
        (vec!["batch", "brainstorm", "ch99"], "nothing called `ch99`"),
        (vec!["batch", "brainstorm", "ch01", "--where", "words == 0"], "--where left none"),
        (vec!["batch", "brainstorm", "ch01", "--where", "colour == red"], "no field `colour`"),
        (vec!["batch", "brainstorm", "ch01", "--where", "words == many"], "compared with a number"),
        (vec!["batch", "rewrite-selection", "ch01"], "works on a selection"),
        (vec!["batch", "status"], "no batch in this project yet"),
    ] {
        let out = showrunner(&args, &dir);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {t}");
        assert!(t.contains(says), "{args:?}: {t}");
    }
}

#[test]
fn a_worker_killed_mid_call_leaves_its_runs_to_the_next_without_repeating_finished_steps() {
    // The first two calls begin to answer, then stall: the workers are in them when the
    // process dies.
    let stalled = || {
        let piece = showrunner_testkit::model_server::chunk(json!({ "content": "{\"ideas\"" }));
        Reply::Stream(vec![(std::time::Duration::ZERO, piece.clone()), (std::time::Duration::from_secs(600), piece)])
    };
    let server = ModelServer::start(vec![stalled(), stalled()]);
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    let mut child = Command::new(env!("CARGO_BIN_EXE_showrunner"))
        .args(["batch", "brainstorm", "story/ch01/01-arrival.md", "story/ch01/02-the-hut.md", "--yes", "--jobs", "2"])
        .args(["--model", "local/llama3.1"])
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.as_mut().unwrap();
    let mut seen = String::new();
    while seen.matches("answering").count() < 2 {
        let mut buf = [0u8; 256];
        let n = std::io::Read::read(out, &mut buf).unwrap();
        assert!(n > 0, "the batch ended early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let runs = text(&showrunner(&["runs"], &dir));
    assert_eq!(runs.matches("interrupted").count(), 2, "{seen}\n{runs}");

    for _ in 0..2 {
        server.push(Reply::tokens(&[IDEAS]));
    }
    let out = showrunner(&["batch", "work", "--yes"], &dir);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("2/2 done"), "{t}");
    // Each run went on from its saved step: the prompt gate approved before is not asked again.
    assert_eq!(t.matches("gate `review` approved").count(), 0, "{t}");
    assert_eq!(t.matches("gate `approve` approved").count(), 2, "{t}");
}

/// The last message a recorded chat request sent.
fn last_message(body: &serde_json::Value) -> String {
    showrunner_testkit::model_server::asked(body).to_string()
}

#[test]
fn a_goal_becomes_a_checked_plan_run_as_one_judged_batch_in_the_order_its_tasks_need() {
    const PLAN: &str = r#"{"tasks": [
        {"id": "sum", "pipeline": "summarize-scene", "target": "ch01", "why": "the check reads the summaries"},
        {"id": "check", "pipeline": "continuity-check", "target": "ch01", "needs": ["sum"]}]}"#;
    // Answers by what is asked: the plan, the judge's scores (the supper's first summary scores
    // 0.5, so it is written again with the judge's notes), summaries and findings.
    let server = ModelServer::programmed(8, |_, body| {
        let asked = last_message(body);
        if asked.starts_with("Plan the work for this goal") {
            Reply::tokens(&[PLAN])
        } else if asked.starts_with("Score this text") {
            let weak = asked.contains("Supper, first try") && !asked.contains("Supper, second try");
            let score = if weak { 0.5 } else { 0.95 };
            Reply::tokens(&[&format!(r#"{{"confidence": {score}, "issues": ["too vague"], "sensitive_topics": []}}"#)])
        } else if asked.starts_with("Summarize this scene") {
            let retried = asked.contains("A reviewer scored the last attempt 0.50");
            let which =
                if asked.contains("Tom Marlowe had kept lights for twenty-six years") { "Supper" } else { "A scene" };
            let summary = format!("{which}, {} try: Tom listens.", if retried { "second" } else { "first" });
            // The rewrite takes a while: checks queued without waiting for it would start now.
            if retried {
                Reply::slow(&[&summary[..8], &summary[8..]], std::time::Duration::from_millis(300))
            } else {
                Reply::tokens(&[&summary])
            }
        } else {
            Reply::tokens(&[r#"{"defects": []}"#])
        }
    });
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    let out = showrunner(
        &[
            "plan",
            "Summarize chapter one, then check its continuity",
            "--scope",
            "ch01",
            "--yes",
            "--jobs",
            "3",
            "--model",
            "local/llama3.1",
        ],
        &dir,
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    // Shown at its gate as a list and a graph, with the JSON that runs.
    assert!(t.contains("2 task(s), 8 run(s)"), "{t}");
    assert!(t.contains("2. `check` continuity-check on ch01 · 4 scenes — after sum"), "{t}");
    assert!(t.contains("1. sum\n2. check ← sum\n"), "{t}");
    assert!(t.contains("8/8 done"), "{t}");
    let reqs = chat_requests(&server);
    let asked: Vec<String> = reqs.iter().map(|r| last_message(&r.body)).collect();
    // The planner saw the scope's scenes and the pipelines a plan may use, not selection ones.
    assert!(asked[0].contains("arrival") && asked[0].contains("- summarize-scene:"), "{}", asked[0]);
    assert!(!asked[0].contains("- rewrite-selection:"), "{}", asked[0]);
    // Every summary was judged; the weak one was written again with the judge's notes.
    assert!(asked.iter().any(|a| a.contains("A reviewer scored the last attempt 0.50") && a.contains("too vague")));
    let summaries = asked.iter().filter(|a| a.starts_with("Summarize this scene")).count();
    assert_eq!(summaries, 5, "four scenes, one written twice: {asked:#?}");
    // No check started before every summary (and its judging) was done.
    let last_summary_work = asked
        .iter()
        .rposition(|a| {
            a.starts_with("Summarize this scene") || (a.starts_with("Score this text") && a.contains(" try: "))
        })
        .unwrap();
    let first_check = asked.iter().position(|a| a.starts_with("List every continuity problem")).unwrap();
    assert!(last_summary_work < first_check, "{asked:#?}");
    // The summaries are in the scenes, the judged one as rewritten.
    let supper = std::fs::read_to_string(dir.join("story/ch01/03-supper.md")).unwrap();
    assert!(
        supper.contains("summary: \"Supper, second try: Tom listens.\"")
            || supper.contains("summary: Supper, second try"),
        "{supper}"
    );
    // The planner's run is on record with the plan approved and its batch.
    let runs = text(&showrunner(&["runs"], &dir));
    assert!(runs.lines().any(|l| l.starts_with("plan-") && l.contains("succeeded")), "{runs}");
}

#[test]
fn a_plan_with_a_cycle_is_refused_and_nothing_is_queued() {
    let server = ModelServer::start(vec![Reply::tokens(&[r#"{"tasks": [
        {"id": "a", "pipeline": "summarize-scene", "target": "ch01", "needs": ["b"]},
        {"id": "b", "pipeline": "brainstorm", "target": "story/ch01/02-the-hut.md", "needs": ["a"]},
        {"id": "c", "pipeline": "tighten-selection", "target": "ch02"},
        {"id": "d", "pipeline": "brainstorm", "target": "ch1"}]}"#])]);
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    let out = showrunner(&["plan", "Tidy chapter one", "--scope", "ch01", "--yes", "--model", "local/llama3.1"], &dir);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("the plan was refused, and nothing was queued"), "{t}");
    assert!(t.contains("the tasks form a cycle: a ← b ← a") || t.contains("the tasks form a cycle: b ← a ← b"), "{t}");
    assert!(t.contains("task `c` runs `tighten-selection`, which is not a pipeline a plan can use"), "{t}");
    assert!(t.contains("task `c` works on `ch02`, outside the plan's scope (chapter `ch01`)"), "{t}");
    // One line per reason, whole (a reason may hold a `;` of its own).
    assert!(t.contains("\n  - task `d`: nothing called `ch1` in project"), "{t}");
    assert!(
        t.lines().any(|l| l.starts_with("  - task `d`: nothing called `ch1`") && l.ends_with("did you mean `ch01`?")),
        "{t}"
    );
    assert_eq!(chat_requests(&server).len(), 1, "only the planner was asked");
    let status = text(&showrunner(&["batch", "status"], &dir));
    assert!(status.contains("no batch in this project yet"), "{status}");
    let runs = text(&showrunner(&["runs"], &dir));
    assert!(runs.lines().any(|l| l.starts_with("plan-") && l.contains("failed")), "{runs}");
}

#[test]
fn the_gates_of_answers_judged_well_enough_are_approved_in_bulk_and_nothing_is_scored_again() {
    // Four scenes; the judge scores each summary: arrival 0.95 and supper 0.92 pass the judge
    // and wait at their output gates; the hut 0.8 and the episode 0.75 wait at judge gates.
    let server = ModelServer::programmed(8, move |_, body| {
        let asked = last_message(body);
        if asked.starts_with("Score this text") {
            let score = [("arrival", 0.95), ("hut", 0.8), ("supper", 0.92), ("episode", 0.75)]
                .iter()
                .find(|(s, _)| asked.contains(&format!("Summary of {s}.")))
                .map(|(_, c)| *c)
                .unwrap();
            Reply::tokens(&[&format!(r#"{{"confidence": {score}, "issues": [], "sensitive_topics": []}}"#)])
        } else {
            Reply::tokens(&[&format!("Summary of {}.", example_scene_in(&asked))])
        }
    });
    let (_tmp, dir) = example_on(Path::new(env!("CARGO_BIN_EXE_showrunner")), &server.url);
    let read = |s: &str| std::fs::read_to_string(dir.join(s)).unwrap();
    let out = showrunner(&["batch", "summarize-scene", "ch01", "--judge", "--model", "local/llama3.1"], &dir);
    let t = text(&out);
    assert!(t.contains("0/4 done") && t.contains("4 waiting at a gate"), "{t}");
    assert_eq!(t.matches("waiting at gate `approve`").count(), 2, "{t}");
    assert_eq!(t.matches("waiting at gate `judge`").count(), 2, "{t}");
    let judge_calls =
        || chat_requests(&server).iter().filter(|r| last_message(&r.body).starts_with("Score this")).count();
    assert_eq!(judge_calls(), 4);
    let calls = chat_requests(&server).len();

    // A score given in words, or none: refused before anything is approved.
    let bad = showrunner(&["batch", "approve", "--min-confidence", "1.5"], &dir);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("--min-confidence 0.9"), "{}", text(&bad));

    let out = showrunner(&["batch", "approve", "--min-confidence", "0.9"], &dir);
    let t = text(&out);
    assert!(t.contains("2 run(s) wait with an answer judged 0.9 or more: approving them"), "{t}");
    assert!(t.contains("gate `approve` approved (judged 0.95)"), "{t}");
    assert!(t.contains("2/4 done") && t.contains("2 waiting at a gate"), "{t}");
    assert!(read("story/ch01/01-arrival.md").contains("Summary of arrival."));
    assert!(read("story/ch01/03-supper.md").contains("Summary of supper."));
    assert!(!read("story/ch01/02-the-hut.md").contains("Summary of hut."), "0.8 is not approved at 0.9");
    assert_eq!(chat_requests(&server).len(), calls, "approving calls no model: nothing is scored again");

    // At 0.8 the hut's judge gate is approved, and its output gate (scored 0.8 too) after it.
    let out = showrunner(&["batch", "approve", "--min-confidence", "0.8"], &dir);
    let t = text(&out);
    assert!(t.contains("1 run(s) wait with an answer judged 0.8 or more: approving them"), "{t}");
    assert!(
        t.contains("gate `judge` approved (judged 0.80)") && t.contains("gate `approve` approved (judged 0.80)"),
        "{t}"
    );
    assert!(read("story/ch01/02-the-hut.md").contains("Summary of hut."));
    assert_eq!(chat_requests(&server).len(), calls);
    let status = text(&showrunner(&["batch", "status"], &dir));
    assert!(status.contains("3/4 done") && status.contains("1 waiting at a gate"), "{status}");
}

#[test]
fn on_a_terminal_a_batch_draws_a_progress_bar_with_its_lines_above_it() {
    let server = ModelServer::programmed(4, |_, _| Reply::slow(&[IDEAS], std::time::Duration::from_millis(250)));
    let bin = Path::new(env!("CARGO_BIN_EXE_showrunner"));
    let (_tmp, dir) = example_on(bin, &server.url);
    let args = ["batch", "brainstorm", "ch01", "--yes", "--jobs", "2", "--model", "local/llama3.1"];
    let Some((ok, t)) = showrunner_testkit::run_on_terminal(bin, &args, &dir) else {
        eprintln!("skipped: no `script` (util-linux) to make a terminal");
        return;
    };
    assert!(ok, "{t}");
    // The bar: how many of the four went as far as they go, what runs, the tokens, the ETA.
    assert!(t.contains("/4 · ") && t.contains(" running · ") && t.contains(" tokens · ETA "), "{t}");
    // The workers' lines still reach the terminal, whole.
    assert_eq!(t.matches("started brainstorm-").count(), 4, "{t}");
    assert!(t.contains("4/4 done"), "{t}");
}

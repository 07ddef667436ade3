//! Pipelines headless against a scripted model server on 127.0.0.1: a draft applied through the
//! history, verify retrying with a defect report, research saved as a bucket, runs listed, and a
//! recorded run replayed with no server at all.

use showrunner_testkit::{example_on, output_text as text};
use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;
use showrunner_testkit::model_server::{ModelServer, Reply};

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

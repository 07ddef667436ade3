//! Showrunner against a real engine nobody here wrote: llama.cpp's OpenAI-compatible server
//! (llama-cpp-python) running SmolLM2-135M, and a LiteLLM proxy in front of it. `tests/run`
//! starts them (`tests/real-engine/run.sh`) and runs these with `--include-ignored`; they need
//! `SHOWRUNNER_ENGINE_URL` (and, for the proxy, `SHOWRUNNER_PROXY_URL` and the name of the
//! variable holding its key in `SHOWRUNNER_PROXY_KEY_ENV`).
//!
//! A 135M model writes nonsense, so these tests assert what Showrunner guarantees whatever the
//! model says: the run ends clearly, exactly the approved text lands (once, recorded), nothing
//! but the answer reaches the scene, a JSON step repairs or fails but never passes prose off as
//! findings, a run killed mid-stream resumes, and the proxy's key is checked.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};
use showrunner_testkit::{uri, Client};

const SCENE: &str = "story/ch01/03-supper.md";

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_showrunner"))
}

fn engine() -> String {
    std::env::var("SHOWRUNNER_ENGINE_URL").expect("SHOWRUNNER_ENGINE_URL: run tests/real-engine/run.sh")
}

fn showrunner(args: &[&str], cwd: &Path) -> Output {
    showrunner_testkit::run_binary(
        bin(),
        args,
        cwd,
        &[("XDG_CONFIG_HOME", &cwd.join(".no-user-config").to_string_lossy())],
    )
}

fn text(o: &Output) -> String {
    showrunner_testkit::output_text(o)
}

/// The example story on `base_url`, with a context small enough for a tiny model's window and a
/// short answer (the model writes ~65 tokens a second on one core here).
fn example_on(base_url: &str, key_env: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    assert!(showrunner(&["init", "story", "--example"], tmp.path()).status.success());
    let dir = tmp.path().join("story").canonicalize().unwrap();
    let key = key_env.map(|k| format!(", api_key_env: {k}")).unwrap_or_default();
    let cfg = std::fs::read_to_string(dir.join("showrunner.yaml"))
        .unwrap()
        .replace("default_model: local/llama3.1", "default_model: local/smollm2")
        .replace(
            "local:  { base_url: \"http://127.0.0.1:11434/v1\" }",
            &format!("local:  {{ base_url: \"{base_url}\", max_tokens: 48{key} }}"),
        )
        .replace("budget_tokens: 6000", "budget_tokens: 250");
    std::fs::write(dir.join("showrunner.yaml"), cfg).unwrap();
    // A short scene: the prompt stays under ~800 tokens for a model that reads ~300 a second.
    let scene = std::fs::read_to_string(dir.join(SCENE)).unwrap();
    let short: String = scene.split_inclusive("\n\n").take(4).collect();
    std::fs::write(dir.join(SCENE), format!("{}\n", short.trim_end())).unwrap();
    (tmp, dir)
}

fn latest_run(dir: &Path) -> Value {
    let runs = showrunner_store::runs::Runs::open(dir).unwrap();
    let id = runs.list().unwrap().first().expect("a run").id.clone();
    runs.load(&id).unwrap().unwrap()
}

/// The text approved at the run's output gate.
fn approved(run: &Value) -> String {
    run["steps"].as_array().unwrap().iter().find(|s| s["id"] == "approve").unwrap()["output"]
        .as_str()
        .expect("an approved text")
        .to_string()
}

fn apply_edits(log: &Value) -> usize {
    log.as_array().unwrap().iter().filter(|e| e["type"] == "apply_edit").count()
}

fn log(dir: &Path) -> Value {
    serde_json::from_slice(&showrunner(&["log", SCENE, "--format", "json"], dir).stdout).unwrap()
}

#[test]
#[ignore = "needs a real engine: tests/real-engine/run.sh"]
fn a_draft_by_a_real_model_lands_exactly_as_approved_and_is_recorded() {
    let (_tmp, dir) = example_on(&engine(), None);
    let before = std::fs::read_to_string(dir.join(SCENE)).unwrap();
    let out = showrunner(&["run", "draft-scene", SCENE, "--yes"], &dir);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let run = latest_run(&dir);
    assert_eq!(run["state"], "succeeded", "{t}");
    let answer = approved(&run);
    let after = std::fs::read_to_string(dir.join(SCENE)).unwrap();
    // Exactly the approved text, appended after the prose, and nothing else changed.
    assert_eq!(after, format!("{}\n\n{}\n", before.trim_end(), answer.trim()), "{t}");
    assert!(!after.contains("<think>") && !after.contains("</think>"));
    assert_eq!(apply_edits(&log(&dir)), 1);
    // The engine said which model answered.
    let draft = run["exchanges"].as_array().unwrap().iter().rev().find(|e| e["step"] == "draft").unwrap();
    assert!(draft["served_by"].as_str().is_some_and(|m| !m.is_empty()), "{draft}");
    assert!(draft["finish_reason"].is_string(), "{draft}");
}

#[test]
#[ignore = "needs a real engine: tests/real-engine/run.sh"]
fn a_json_step_of_a_tiny_model_repairs_or_fails_clearly_and_changes_nothing() {
    let (_tmp, dir) = example_on(&engine(), None);
    let before = std::fs::read_to_string(dir.join(SCENE)).unwrap();
    let out = showrunner(&["run", "continuity-check", SCENE, "--yes"], &dir);
    let t = text(&out);
    let run = latest_run(&dir);
    let findings = &run["steps"].as_array().unwrap().iter().find(|s| s["id"] == "findings").unwrap()["output"];
    if out.status.success() {
        // Repaired: findings are JSON, never prose passed off as findings.
        assert!(findings.is_object() || findings.is_array(), "{findings} / {t}");
    } else {
        assert_eq!(run["state"], "failed", "{t}");
        assert!(t.contains("not JSON"), "{t}");
    }
    assert_eq!(std::fs::read_to_string(dir.join(SCENE)).unwrap(), before);
}

#[test]
#[ignore = "needs a real engine: tests/real-engine/run.sh"]
fn a_run_killed_mid_stream_resumes_and_applies_once() {
    let (_tmp, dir) = example_on(&engine(), None);
    let before = std::fs::read_to_string(dir.join(SCENE)).unwrap();
    let mut child = Command::new(bin())
        .args(["run", "draft-scene", SCENE, "--yes"])
        .current_dir(&dir)
        .env("XDG_CONFIG_HOME", dir.join(".no-user-config"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The header line, then the first streamed piece of the draft.
    let seen = showrunner_testkit::read_until(child.stdout.as_mut().unwrap(), " tokens\n");
    assert!(seen.starts_with("Run draft-scene-"), "{seen}");
    let mut one = [0u8; 1];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut one).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let runs = text(&showrunner(&["runs"], &dir));
    let id = runs.split_whitespace().next().unwrap().to_string();
    assert!(runs.lines().next().unwrap().contains("interrupted"), "{runs}");
    assert_eq!(std::fs::read_to_string(dir.join(SCENE)).unwrap(), before, "nothing applied mid-stream");
    let out = showrunner(&["resume", &id, "--yes"], &dir);
    assert!(out.status.success(), "{}", text(&out));
    let run = latest_run(&dir);
    let answer = approved(&run);
    let after = std::fs::read_to_string(dir.join(SCENE)).unwrap();
    assert_eq!(after, format!("{}\n\n{}\n", before.trim_end(), answer.trim()));
    assert_eq!(apply_edits(&log(&dir)), 1);
}

#[test]
#[ignore = "needs a real engine: tests/real-engine/run.sh"]
fn over_lsp_a_real_draft_is_reviewed_and_applied() {
    let (_tmp, dir) = example_on(&engine(), None);
    let scene = dir.join(SCENE);
    let before = std::fs::read_to_string(&scene).unwrap();
    let mut c = Client::spawn(bin(), &[("XDG_CONFIG_HOME", dir.join(".no-user-config").to_str().unwrap())]);
    c.initialize(&[&dir], false);
    let started = c.request(
        "workspace/executeCommand",
        json!({ "command": "showrunner.pipeline.run", "arguments": [{ "pipeline": "draft-scene", "uri": uri(&scene) }] }),
    );
    let run = started["run"].as_str().unwrap().to_string();
    let mut approved_text = String::new();
    loop {
        let p = c.wait_for("progress", |v| {
            v["method"] == "showrunner/runProgress"
                && v["params"]["run"] == run
                && matches!(v["params"]["event"].as_str(), Some("gate" | "done"))
        })["params"]
            .clone();
        if p["event"] == "done" {
            assert_eq!(p["state"], "succeeded", "{p}");
            break;
        }
        let gate = &p["gate"];
        if gate["kind"] == "approve_output" {
            // The gate shows the plan; what is approved is the gate's text.
            assert!(gate["edit"]["description"].as_str().unwrap().contains("at the end of the scene"), "{gate}");
            approved_text = gate["text"].as_str().unwrap().to_string();
        }
        c.request(
            "workspace/executeCommand",
            json!({ "command": "showrunner.gate.resolve", "arguments": [{ "run": run, "step": gate["step"], "decision": "approve" }] }),
        );
    }
    let after = std::fs::read_to_string(&scene).unwrap();
    assert_eq!(after, format!("{}\n\n{}\n", before.trim_end(), approved_text.trim()));
    c.finish();
}

/// Behind the LiteLLM proxy: the key comes from the environment, the proxy's routing is
/// recorded, and a wrong key names the setting to change.
#[test]
#[ignore = "needs a real engine and the LiteLLM proxy: tests/real-engine/run.sh"]
fn through_the_litellm_proxy_with_a_key_from_the_environment() {
    let proxy = std::env::var("SHOWRUNNER_PROXY_URL").expect("SHOWRUNNER_PROXY_URL");
    let key_env = std::env::var("SHOWRUNNER_PROXY_KEY_ENV").expect("SHOWRUNNER_PROXY_KEY_ENV");
    let key = std::env::var(&key_env).expect("the proxy's key in its variable");
    let (_tmp, dir) = example_on(&proxy, Some(&key_env));
    let before = std::fs::read_to_string(dir.join(SCENE)).unwrap();
    let out = showrunner(&["run", "draft-scene", SCENE, "--yes"], &dir);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let run = latest_run(&dir);
    let after = std::fs::read_to_string(dir.join(SCENE)).unwrap();
    assert_eq!(after, format!("{}\n\n{}\n", before.trim_end(), approved(&run).trim()));
    // The key never reaches the record, the log or the project.
    let record = run.to_string();
    assert!(!record.contains(&key));
    for f in walkdir::WalkDir::new(&dir).into_iter().flatten().filter(|e| e.file_type().is_file()) {
        let bytes = std::fs::read(f.path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(&key), "{}", f.path().display());
    }
    // A wrong key: refused, and the message names the variable and the setting.
    let out = showrunner_testkit::run_binary(
        bin(),
        &["run", "draft-scene", SCENE, "--yes"],
        &dir,
        &[(&key_env, "sk-not-the-master-key"), ("XDG_CONFIG_HOME", &dir.join(".no-user-config").to_string_lossy())],
    );
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains(&key_env) && t.contains("providers.local.api_key_env"), "{t}");
    assert!(!t.contains("sk-not-the-master-key"), "{t}");
}

/// A summary streamed after `latency`, with usage.
fn summary(latency: std::time::Duration, n: usize) -> showrunner_testkit::model_server::Reply {
    use showrunner_testkit::model_server::{chunk, sse, Reply};
    let z = std::time::Duration::ZERO;
    Reply::Stream(vec![
        (latency, chunk(json!({ "content": format!("Alice keeps the light (answer {n}).") }))),
        (z, sse(&json!({ "choices": [{ "index": 0, "delta": {}, "finish_reason": "stop" }] }))),
        (
            z,
            sse(
                &json!({ "choices": [], "usage": { "prompt_tokens": 300, "completion_tokens": 12, "total_tokens": 312 } }),
            ),
        ),
        (z, "data: [DONE]\n\n".to_string()),
    ])
}

/// 100 scenes summarized by a batch of 16 workers through a real LiteLLM proxy over two scripted
/// servers of 4 requests at once each, 600 ms a request (at 300 ms the proxy's own relay rate on a
/// 2-core machine is the bottleneck: BENCHMARKS.md, "Batches"), one answering 429 now and then, the other dropping
/// connections: every run finishes once, every summary lands once (one history event per
/// scene), the day's spending stays within the budget. The throughput is printed (BENCHMARKS.md).
#[test]
#[ignore = "needs the LiteLLM proxy: tests/real-engine/run.sh"]
fn a_100_scene_batch_through_litellm_over_two_failing_servers_finishes_every_run_once() {
    use showrunner_testkit::model_server::{ModelServer, Reply};
    let litellm = std::env::var("SHOWRUNNER_LITELLM").expect("SHOWRUNNER_LITELLM: the litellm binary");
    let latency = std::time::Duration::from_millis(600);
    let a = ModelServer::programmed(4, move |n, _| {
        if n % 7 == 3 {
            Reply::Status {
                code: 429,
                headers: vec![("Retry-After".into(), "1".into())],
                body: r#"{"error": {"message": "rate limited", "type": "rate_limit"}}"#.into(),
            }
        } else {
            summary(latency, n)
        }
    });
    // The other drops connections. (Not mid-stream: LiteLLM ends a stream its server cut off
    // with `finish_reason: stop` and `[DONE]` of its own, so nothing downstream can tell a
    // truncated answer from a whole one — the gate shows it; docs/scaling.md says so.)
    let b = ModelServer::programmed(4, move |n, _| if n % 9 == 4 { Reply::Drop } else { summary(latency, n) });
    let tmp = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = tmp.path().join("litellm.yaml");
    std::fs::write(
        &config,
        format!(
            "model_list:\n  - model_name: writer\n    litellm_params: {{ model: openai/llama3.1, api_base: \"{}\", api_key: none }}\n  - model_name: writer\n    litellm_params: {{ model: openai/llama3.1, api_base: \"{}\", api_key: none }}\nrouter_settings:\n  routing_strategy: least-busy\n  disable_cooldowns: true\n  num_retries: 2\ngeneral_settings:\n  master_key: os.environ/SHOWRUNNER_BATCH_PROXY_KEY\nlitellm_settings:\n  telemetry: false\n",
            a.url, b.url
        ),
    )
    .unwrap();
    let key = "sk-batch-proxy-test";
    let log = std::fs::File::create(tmp.path().join("litellm.log")).unwrap();
    let mut proxy = Command::new(&litellm)
        .args(["--config", &config.to_string_lossy(), "--host", "127.0.0.1", "--port", &port.to_string()])
        .env("SHOWRUNNER_BATCH_PROXY_KEY", key)
        .env("LITELLM_TELEMETRY", "False")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _proxy = Kill(&mut proxy);
    // Readiness: the proxy answers its liveness probe (polled: it imports for a while).
    let started = std::time::Instant::now();
    loop {
        let up = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok_and(|mut s| {
            use std::io::{Read, Write};
            let _ = s.write_all(b"GET /health/liveliness HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            out.starts_with("HTTP/1.1 200")
        });
        if up {
            break;
        }
        let log = std::fs::read_to_string(tmp.path().join("litellm.log")).unwrap_or_default();
        assert!(started.elapsed() < std::time::Duration::from_secs(180), "the proxy did not start: {log}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    let dir = showrunner_testkit::example_at(bin(), tmp.path(), &format!("http://127.0.0.1:{port}/v1"));
    let limit = 1_000_000;
    let cfg = std::fs::read_to_string(dir.join("showrunner.yaml"))
        .unwrap()
        .replace(
            "local:  { base_url: \"",
            "local:  { api_key_env: SHOWRUNNER_BATCH_PROXY_KEY, max_tokens: 64, base_url: \"",
        )
        .replace("daily_tokens: 2000000", &format!("daily_tokens: {limit}"));
    std::fs::write(dir.join("showrunner.yaml"), cfg).unwrap();
    for i in 0..100 {
        let text = format!(
            "---\nid: b{i:03}\npov: alice\n---\n# Night {i}\n\nAlice trimmed the wick while Tom counted ships.\n"
        );
        showrunner_testkit::write_file(&dir, &format!("story/batch/{i:03}.md"), text);
    }
    let t = std::time::Instant::now();
    let out = showrunner_testkit::run_binary(
        bin(),
        &["batch", "summarize-scene", "story/batch", "--yes", "--jobs", "16", "--model", "local/writer"],
        &dir,
        &[("SHOWRUNNER_BATCH_PROXY_KEY", key), ("XDG_CONFIG_HOME", &dir.join(".no-user-config").to_string_lossy())],
    );
    let wall = t.elapsed();
    let t_out = text(&out);
    assert!(out.status.success(), "{t_out}");
    assert!(t_out.contains("100/100 done"), "{t_out}");
    // Every summary landed exactly once, each scene's own.
    let history = showrunner_store::history::History::open(&dir).unwrap();
    for i in 0..100 {
        let path = format!("story/batch/{i:03}.md");
        let scene = std::fs::read_to_string(dir.join(&path)).unwrap();
        assert!(scene.contains("summary: \"Alice keeps the light (answer "), "{path}: {scene}");
        let events = history.log(Some(&path)).unwrap();
        let applied = serde_json::to_value(&events).unwrap();
        let n = applied.as_array().unwrap().iter().filter(|e| e["type"] == "apply_edit").count();
        assert_eq!(n, 1, "{path}: {applied:#}");
    }
    let spent = showrunner_store::runs::Runs::open(&dir).unwrap().spent_today().unwrap();
    assert!(spent > 0 && spent <= limit, "{spent}");
    let (calls_a, calls_b) = (a.requests().len(), b.requests().len());
    let capacity = 8.0 / latency.as_secs_f64();
    let rate = 100.0 / wall.as_secs_f64();
    println!(
        "[batch through LiteLLM] 100 runs in {:.1} s: {rate:.1} runs/s of {capacity:.1} the two servers can serve ({:.0}%); \
         requests {calls_a} + {calls_b} (faults included); at most {} and {} at once; {spent} tokens",
        wall.as_secs_f64(),
        100.0 * rate / capacity,
        a.most_at_once(),
        b.most_at_once()
    );
}

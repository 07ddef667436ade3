//! `showrunner context` and `showrunner models` end to end on the example story.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn showrunner(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    showrunner_testkit::run_binary(std::path::Path::new(env!("CARGO_BIN_EXE_showrunner")), args, cwd, env)
}

fn example() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = showrunner(&["init", "story", "--example"], tmp.path(), &[]);
    assert!(out.status.success());
    let dir = tmp.path().join("story");
    (tmp, dir)
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn context_json_explains_every_item_and_holds_the_budget() {
    let (_tmp, dir) = example();
    for budget in ["6000", "800", "120", "0"] {
        let v = json(&showrunner(
            &["context", "story/ch02/01-the-log.md", "--format", "json", "--budget", budget],
            &dir,
            &[],
        ));
        let budget: u64 = budget.parse().unwrap();
        assert_eq!(v["budget"], budget);
        let items = v["items"].as_array().unwrap();
        let sum: u64 = items.iter().map(|i| i["tokens"].as_u64().unwrap()).sum();
        assert_eq!(v["used_tokens"], sum);
        assert!(sum <= budget);
        for i in items {
            for key in ["bucket", "kind", "reason", "text"] {
                assert!(i[key].as_str().is_some_and(|s| !s.is_empty()), "{key} in {i}");
            }
            assert!(i["score"].is_number());
        }
        let placed = items.len() + v["dropped"].as_array().unwrap().len();
        assert!(placed >= 15, "budget {budget}: only {placed} candidates placed");
    }
    let v = json(&showrunner(&["context", "story/ch02/01-the-log.md", "--format", "json"], &dir, &[]));
    let first: Vec<&str> =
        v["items"].as_array().unwrap().iter().take(2).map(|i| i["bucket"].as_str().unwrap()).collect();
    assert!(first.contains(&"lamp-oil") && first.contains(&"keepers-log"), "pinned first: {first:?}");
}

#[test]
fn context_text_and_cursor() {
    let (_tmp, dir) = example();
    let out = showrunner(&["context", "story/ch01/01-arrival.md", "--at", "23:5"], &dir, &[]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("Context for story/ch01/01-arrival.md (arrival) · "), "{text}");
    assert!(text.contains("from the cursor") || text.contains("on the cursor's line"), "{text}");
    assert!(text.contains("## Story context"));
}

#[test]
fn context_refuses_what_it_cannot_do() {
    let (_tmp, dir) = example();
    let out = showrunner(&["context", "buckets/characters/alice.yaml"], &dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a scene"));
    let out = showrunner(&["context", "story/ch01/01-arrival.md", "--at", "9999:1"], &dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside the scene"));
    let out = showrunner(&["context", "story/ch01/01-arrival.md", "--at", "x"], &dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    let out = showrunner(&["context", "nope.md"], &dir, &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn models_show_the_cascade_and_never_a_key() {
    let (_tmp, dir) = example();
    let secret = "sk-test-DO-NOT-PRINT-4242";
    let out = showrunner(&["models", "--format", "json"], &dir, &[("OPENAI_API_KEY", secret)]);
    let raw = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!raw.contains(secret));
    let v = json(&out);
    let openai = v["providers"].as_array().unwrap().iter().find(|p| p["name"] == "openai").unwrap();
    assert_eq!(openai["api_key_env"], "OPENAI_API_KEY");
    assert_eq!(openai["key_set"], true);
    let scene = |path: &str| v["scenes"].as_array().unwrap().iter().find(|s| s["path"] == path).unwrap().clone();
    let log = scene("story/ch02/01-the-log.md");
    assert_eq!(log["model"], "local/qwen2.5");
    let levels: Vec<&str> = log["chain"].as_array().unwrap().iter().map(|l| l["level"].as_str().unwrap()).collect();
    assert_eq!(levels, ["step", "scene", "bucket", "agent", "project", "user"]);
    let arrival = scene("story/ch01/01-arrival.md");
    assert_eq!(arrival["model"], "local/llama3.1", "the example pins no hosted model: {arrival}");
    assert_eq!(v["steps"].as_array().unwrap().len(), 5);

    // The user's default applies below the project's.
    let cfg = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(cfg.path().join("showrunner")).unwrap();
    std::fs::write(cfg.path().join("showrunner/config.yaml"), "default_model: local/mistral\n").unwrap();
    let xdg = cfg.path().to_str().unwrap();
    std::fs::write(dir.join("showrunner.yaml"), "name: No Default\n").unwrap();
    let v = json(&showrunner(&["models", "--format", "json"], &dir, &[("XDG_CONFIG_HOME", xdg)]));
    assert_eq!(v["steps"][0]["model"], "local/mistral");
    assert_eq!(v["user_default"], "local/mistral");
    let text = String::from_utf8(showrunner(&["models"], &dir, &[("XDG_CONFIG_HOME", xdg)]).stdout).unwrap();
    assert!(text.contains("provider `local` is not configured"), "{text}");
}

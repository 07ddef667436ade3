//! Where the server's log goes (SPEC §10): the user's state folder, one file per project, never
//! the project; a file of the writer's choosing when asked; stderr only, with the server carrying
//! on, when no file can be written.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use showrunner_testkit::Client;

use super::{at, bin, pos, read};

/// A session on `dir` with `env`: opens a scene, waits for its diagnostics, asks a hover.
fn session(dir: &Path, env: &[(&str, &str)]) {
    let scene = dir.join("story/ch01/01-arrival.md");
    // The filter at its default, whatever the test's environment says.
    let mut env = env.to_vec();
    env.push(("SHOWRUNNER_LOG", "info"));
    let mut c = Client::spawn(bin(), &env);
    c.initialize(&[dir], false);
    let u = c.open(&scene, "markdown");
    c.diagnostics(&u, |_| true);
    let h = c.request("textDocument/hover", at(&u, pos(&read(&scene), "Alice", 0, false)));
    assert!(h["contents"]["value"].as_str().is_some_and(|v| v.contains("Alice Marlowe")), "{h}");
    c.finish();
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    found.sort();
    found
}

#[test]
fn the_log_goes_to_the_state_folder_one_file_per_project() {
    let (tmp, dir) = super::example();
    // A second project of the same folder name (`story`) elsewhere.
    let (_tmp2, other) = super::example();
    let state = tmp.path().join("state");
    for d in [&dir, &dir, &other] {
        session(d, &[("XDG_STATE_HOME", state.to_str().unwrap())]);
    }
    let logs = files_under(&state);
    assert_eq!(logs.len(), 2, "one file per project: {logs:?}");
    for log in &logs {
        assert_eq!(log.parent().unwrap(), state.join("showrunner"));
        let name = log.file_name().unwrap().to_string_lossy().to_string();
        assert!(name.starts_with("lsp-story-") && name.ends_with(".log"), "{name}");
        let text = std::fs::read_to_string(log).unwrap();
        // Every line says which process wrote it; sessions append.
        assert!(text.lines().all(|l| l.starts_with("[pid ")), "{text}");
        assert!(text.contains("logging to"), "{text}");
    }
    let sessions = |log: &Path| std::fs::read_to_string(log).unwrap().matches("logging to").count();
    let mut counts: Vec<usize> = logs.iter().map(|l| sessions(l)).collect();
    counts.sort();
    assert_eq!(counts, [1, 2]);
    for d in [&dir, &other] {
        assert!(!d.join(".showrunner/logs").exists(), "nothing is logged into the project");
    }
}

#[test]
fn a_state_folder_that_cannot_be_made_leaves_the_log_on_stderr_and_the_server_working() {
    let (tmp, dir) = super::example();
    let blocker = tmp.path().join("a-file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let state = blocker.join("state");
    session(&dir, &[("XDG_STATE_HOME", state.to_str().unwrap())]);
    assert!(!dir.join(".showrunner/logs").exists());
    assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "not a folder");

    // What the server says about it, on stderr.
    let out = Command::new(bin())
        .args(["lsp", "--log-file"])
        .arg(blocker.join("lsp.log"))
        .env("SHOWRUNNER_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot write the log to") && err.contains("logging to stderr only"), "{err}");
}

#[test]
fn the_writer_may_ask_for_a_log_file_of_their_own() {
    let (tmp, dir) = super::example();
    let state = tmp.path().join("state");
    // By the environment (an editor's `serverEnv`)…
    let mine = tmp.path().join("logs/mine.log");
    session(&dir, &[("XDG_STATE_HOME", state.to_str().unwrap()), ("SHOWRUNNER_LOG_FILE", mine.to_str().unwrap())]);
    let text = std::fs::read_to_string(&mine).unwrap();
    assert!(text.contains(&format!("logging to {}", mine.display())), "{text}");
    assert!(!state.exists(), "the state folder is left alone: {:?}", files_under(&state));

    // … or by the flag, which is taken from the start (before any project is known).
    let flagged = tmp.path().join("flagged.log");
    let out = Command::new(bin())
        .args(["lsp", "--log-file"])
        .arg(&flagged)
        .env("XDG_STATE_HOME", &state)
        .env("SHOWRUNNER_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&flagged).unwrap();
    assert!(text.contains("logging to"), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(!state.exists());
}

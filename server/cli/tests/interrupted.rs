//! A run whose process died before it finished is listed as `interrupted` (its stored state is
//! kept), and resumes from where it stood.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use showrunner_testkit::model_server::{ModelServer, Reply};

fn showrunner(args: &[&str], cwd: &Path) -> Output {
    showrunner_testkit::run_binary(Path::new(env!("CARGO_BIN_EXE_showrunner")), args, cwd, &[])
}

fn text(o: &Output) -> String {
    showrunner_testkit::output_text(o)
}

/// Kills and reaps the process when a test fails before it does.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_run_whose_process_was_killed_is_interrupted_and_resumes() {
    let server = ModelServer::start(vec![Reply::Hang]);
    let tmp = tempfile::tempdir().unwrap();
    assert!(showrunner(&["init", "story", "--example"], tmp.path()).status.success());
    let dir = tmp.path().join("story");
    let cfg = std::fs::read_to_string(dir.join("showrunner.yaml")).unwrap();
    std::fs::write(dir.join("showrunner.yaml"), cfg.replace("http://127.0.0.1:11434/v1", &server.url)).unwrap();

    let scene = "story/ch01/03-supper.md";
    let mut child = Reaped(
        Command::new(env!("CARGO_BIN_EXE_showrunner"))
            .args(["run", "draft-scene", scene, "--yes", "--model", "local/llama3.1"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Wait until the run is saved as running and its model call hangs: while its process lives,
    // the run is listed as running.
    let deadline = Instant::now() + Duration::from_secs(120);
    let (id, listed) = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!("the run ended before its model call hung: {status}");
        }
        let calling = server.requests().iter().any(|r| r.path.ends_with("/chat/completions"));
        let runs = text(&showrunner(&["runs"], &dir));
        let line = runs.lines().find(|l| l.starts_with("draft-scene-")).map(str::to_string);
        if let Some(line) = line.filter(|_| calling) {
            break (line.split_whitespace().next().unwrap().to_string(), line);
        }
        assert!(Instant::now() < deadline, "no run is calling the model: {runs}");
    };
    assert_eq!(listed.split_whitespace().nth(2), Some("running"), "{listed}");

    child.0.kill().unwrap();
    let status = child.0.wait().unwrap();
    assert!(!status.success(), "{status}");

    let runs = text(&showrunner(&["runs"], &dir));
    let line = runs.lines().find(|l| l.starts_with(&id)).unwrap_or_else(|| panic!("{runs}"));
    assert_eq!(line.split_whitespace().nth(2), Some("interrupted"), "{runs}");
    // Only the listing says so: the stored state is what resuming starts from.
    let stored = showrunner_store::runs::Runs::open(&dir).unwrap();
    let row = stored.list().unwrap().into_iter().find(|r| r.id == id).unwrap();
    assert_eq!((row.state.as_str(), row.live_state()), ("running", "interrupted"));
    assert_eq!(stored.live_state(&id).unwrap().as_deref(), Some("interrupted"));
    drop(stored);

    server.push(Reply::tokens(&["Alice ", "poured ", "the tea."]));
    let out = showrunner(&["resume", &id, "--yes"], &dir);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let runs = text(&showrunner(&["runs"], &dir));
    let line = runs.lines().find(|l| l.starts_with(&id)).unwrap_or_else(|| panic!("{runs}"));
    assert_eq!(line.split_whitespace().nth(2), Some("succeeded"), "{runs}");
    let text = std::fs::read_to_string(dir.join(scene)).unwrap();
    assert!(text.trim_end().ends_with("Alice poured the tea."), "{text}");
}

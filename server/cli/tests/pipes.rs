//! A reader that stops reading (`showrunner runs | head -1`) ends a command quietly: exit 0 or
//! killed by SIGPIPE (141 in a shell), never a panic (101) with a message on stderr.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

fn showrunner(args: &[&str], cwd: &Path) -> std::process::Output {
    showrunner_testkit::run_binary(Path::new(env!("CARGO_BIN_EXE_showrunner")), args, cwd, &[])
}

/// More than any pipe buffers (64 KiB on Linux by default), so the command is still writing
/// when the reader goes away.
const LOTS: usize = 256 * 1024;

/// Runs `args` with stdout on a pipe, reads its first line, closes the pipe and checks how the
/// command ended.
fn stop_reading_after_one_line(args: &[&str], cwd: &Path) {
    // The whole output is long enough that the command must write into the closed pipe.
    let full = showrunner(args, cwd);
    assert!(full.stdout.len() > LOTS, "{args:?} printed only {} bytes", full.stdout.len());

    let mut child = Command::new(env!("CARGO_BIN_EXE_showrunner"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\n") {
        assert_eq!(stdout.read(&mut byte).unwrap(), 1, "{args:?} ended before its first line");
        seen.push(byte[0]);
    }
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        let quiet = out.status.code() == Some(0) || out.status.signal() == Some(libc::SIGPIPE);
        assert!(quiet, "{args:?} ended with {:?}; stderr: {stderr}", out.status);
    }
    #[cfg(not(unix))]
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
}

#[test]
fn runs_into_a_closed_pipe_ends_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    showrunner_testkit::write_file(dir, "showrunner.yaml", "name: Pipes\n");
    let runs = showrunner_store::runs::Runs::open(dir).unwrap();
    let scene = format!("story/{}.md", "a-long-scene-name-".repeat(12));
    for i in 0..1200 {
        let id = format!("run-{i:05}");
        runs.save(&id, "draft-scene", &scene, "succeeded", None, &serde_json::json!({ "id": id })).unwrap();
    }
    drop(runs);
    stop_reading_after_one_line(&["runs"], dir);
}

#[test]
fn check_into_a_closed_pipe_ends_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    showrunner_testkit::write_file(dir, "showrunner.yaml", "name: Pipes\n");
    showrunner_testkit::write_file(
        dir,
        "buckets/alice.yaml",
        "kind: character\nname: Alice Marlowe\naliases: [Alice]\n",
    );
    showrunner_testkit::write_file(dir, "story/one.md", "Alice ran. Alice hid.\n".repeat(4000));
    stop_reading_after_one_line(&["check", ".", "--hints"], dir);
}

//! The history end to end: crashes at every point of a write (fault injection aborts the real
//! process), recovery on the next start, concurrent writers, and timeline round trips.

use std::fs;
use std::path::Path;
use std::process::Output;

fn showrunner(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    showrunner_testkit::run_binary(std::path::Path::new(env!("CARGO_BIN_EXE_showrunner")), args, cwd, env)
}

fn example() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    assert!(showrunner(&["init", "story", "--example"], tmp.path(), &[]).status.success());
    let dir = tmp.path().join("story");
    (tmp, dir)
}

fn log_json(dir: &Path) -> Vec<serde_json::Value> {
    let out = showrunner(&["log", "--format", "json"], dir, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap().as_array().unwrap().clone()
}

#[test]
fn a_crash_between_append_and_write_is_repaired_on_the_next_start() {
    let (_tmp, dir) = example();
    let out = showrunner(
        &["bucket", "create", "--kind", "character", "--name", "Ghost Writer"],
        &dir,
        &[("SHOWRUNNER_FAULT", "after-append")],
    );
    assert_eq!(out.status.code(), None, "the process was aborted");
    let file = dir.join("buckets/characters/ghost-writer.yaml");
    assert!(!file.exists(), "the file write never happened");
    // The next start reconciles: the acknowledged event's file is written.
    let events = log_json(&dir);
    assert!(file.is_file());
    assert!(fs::read_to_string(&file).unwrap().contains("name: \"Ghost Writer\""));
    assert_eq!(events[0]["type"], "bucket.create");
    assert_eq!(events[0]["path"], "buckets/characters/ghost-writer.yaml");
    // No half-written temporary file remains.
    let leftovers: Vec<_> = fs::read_dir(dir.join("buckets/characters"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn a_crash_after_the_write_loses_nothing() {
    let (_tmp, dir) = example();
    let out = showrunner(
        &["bucket", "create", "--kind", "item", "--name", "Lamp"],
        &dir,
        &[("SHOWRUNNER_FAULT", "after-write")],
    );
    assert_eq!(out.status.code(), None);
    let file = dir.join("buckets/items/lamp.yaml");
    let before = fs::read(&file).unwrap();
    let events = log_json(&dir);
    assert_eq!(fs::read(&file).unwrap(), before);
    assert_eq!(events.iter().filter(|e| e["path"] == "buckets/items/lamp.yaml").count(), 1);
}

#[test]
fn an_interrupted_switch_is_finished_on_the_next_start() {
    let (_tmp, dir) = example();
    let scene = dir.join("story/ch01/01-arrival.md");
    let original = fs::read(&scene).unwrap();
    assert!(showrunner(&["timeline", "create", "what-if"], &dir, &[]).status.success());
    fs::write(&scene, "Alice never came home.\n").unwrap();
    let out = showrunner(&["timeline", "switch", "what-if"], &dir, &[("SHOWRUNNER_FAULT", "mid-switch")]);
    assert_eq!(out.status.code(), None);
    let out = showrunner(&["timeline", "list"], &dir, &[]);
    let list = String::from_utf8(out.stdout).unwrap();
    assert!(list.contains("* what-if"), "{list}");
    assert_eq!(fs::read(&scene).unwrap(), original, "what-if has the original scene");
    assert!(showrunner(&["timeline", "switch", "main"], &dir, &[]).status.success());
    assert_eq!(fs::read(&scene).unwrap(), b"Alice never came home.\n");
}

#[test]
fn two_processes_writing_at_once_lose_nothing() {
    let (_tmp, dir) = example();
    let spawn = |prefix: &str| {
        let dir = dir.clone();
        let prefix = prefix.to_string();
        std::thread::spawn(move || {
            for i in 0..12 {
                let name = format!("{prefix} {i}");
                let out = showrunner(&["bucket", "create", "--kind", "note", "--name", &name], &dir, &[]);
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            }
        })
    };
    let a = spawn("Alpha");
    let b = spawn("Beta");
    a.join().unwrap();
    b.join().unwrap();
    let events = log_json(&dir);
    let creates = events.iter().filter(|e| e["type"] == "bucket.create").count();
    assert_eq!(creates, 24);
    assert_eq!(fs::read_dir(dir.join("buckets/notes")).unwrap().count(), 24);
    // Versions are consistent: every create is version 1 of its own path.
    assert!(events.iter().filter(|e| e["type"] == "bucket.create").all(|e| e["new_version"] == 1));
}

#[test]
fn log_for_a_bucket_and_a_file() {
    let (_tmp, dir) = example();
    assert!(showrunner(&["timeline", "create", "alt"], &dir, &[]).status.success());
    let out = showrunner(&["log", "alice"], &dir, &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("buckets/characters/alice.yaml"), "{text}");
    assert_eq!(text.lines().count(), 1);
    let out = showrunner(&["log", "story/ch01/01-arrival.md", "--format", "json"], &dir, &[]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["path"], "story/ch01/01-arrival.md");
    let out = showrunner(&["log", "nobody"], &dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    // A file's absolute path names its project, wherever the command runs.
    let abs = dir.join("story/ch01/01-arrival.md");
    let out = showrunner(&["log", abs.to_str().unwrap(), "--format", "json"], dir.parent().unwrap(), &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["path"], "story/ch01/01-arrival.md");
}

/// While another writer holds the project's writer lock (`.showrunner/events.lock`), a command
/// waits: nothing reaches the log or the disk until the lock is released, then its write lands.
#[test]
fn a_command_waits_while_another_writer_holds_the_lock() {
    let Ok(_) = fs::read_to_string("/proc/locks") else {
        eprintln!("skipped: no /proc/locks to see a waiting writer in");
        return;
    };
    let (_tmp, dir) = example();
    let before = log_json(&dir).len();
    let lock = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(".showrunner/events.lock"))
        .unwrap();
    lock.lock().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_showrunner"))
        .args(["bucket", "create", "--kind", "character", "--name", "Zoë Ångström"])
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The kernel lists a process waiting for a flock as `N: -> FLOCK ... WRITE PID ...`.
    let pid = child.id().to_string();
    let waiting = || {
        fs::read_to_string("/proc/locks")
            .unwrap_or_default()
            .lines()
            .any(|l| l.contains("-> FLOCK") && l.split_whitespace().nth(5) == Some(pid.as_str()))
    };
    let patience = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !waiting() {
        assert!(child.try_wait().unwrap().is_none(), "the command finished while the lock was held");
        assert!(std::time::Instant::now() < patience, "the command never waited for the writer lock");
        std::thread::yield_now();
    }
    let file = dir.join("buckets/characters/zoë-ångström.yaml");
    assert!(!file.exists(), "nothing is written while another writer holds the lock");
    drop(lock);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(file.is_file());
    let events = log_json(&dir);
    assert_eq!(events.len(), before + 1);
    assert_eq!(events[0]["type"], "bucket.create");
}

/// Every file of the project outside `.showrunner/`, with its bytes.
fn project_files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).into_iter().flatten() {
        let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned();
        if e.file_type().is_file() && !rel.starts_with(".showrunner") {
            out.insert(rel, fs::read(e.path()).unwrap());
        }
    }
    out
}

/// Issue 20: a timeline forked from the first event (before the example's files and the config
/// were recorded) used to remove `showrunner.yaml`, after which no command found the project.
#[test]
fn a_timeline_from_an_early_event_keeps_the_project_a_project() {
    let (_tmp, dir) = example();
    let config = fs::read(dir.join("showrunner.yaml")).unwrap();
    let ok = |args: &[&str]| {
        let out = showrunner(args, &dir, &[]);
        assert!(out.status.success(), "{args:?}: {}", showrunner_testkit::output_text(&out));
        out
    };
    ok(&["bucket", "create", "--kind", "note", "--name", "First"]);
    let events = log_json(&dir);
    assert_eq!(events.last().unwrap()["seq"], 1);
    assert_eq!(events.last().unwrap()["type"], "bucket.create");
    let first = events.last().unwrap()["path"].as_str().unwrap().to_string();
    let on_main = project_files(&dir);
    ok(&["timeline", "create", "early", "--from", "1"]);
    ok(&["timeline", "switch", "early"]);
    assert_eq!(fs::read(dir.join("showrunner.yaml")).unwrap(), config, "the config is kept");
    assert!(dir.join(&first).is_file(), "the first event's bucket is there");
    assert!(!dir.join("story/ch01/01-arrival.md").exists(), "early forked before the example's scenes");
    assert!(dir.join(".showrunner/events.db").is_file());
    // The project is usable on early: commands find it, the check runs.
    let out = showrunner(&["check", "--format", "json"], &dir, &[]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["buckets"], 1, "{}", showrunner_testkit::output_text(&out));
    let list = String::from_utf8(ok(&["timeline", "list"]).stdout).unwrap();
    assert!(list.contains("* early"), "{list}");
    // Back and forth: main comes back byte for byte, early keeps its config.
    ok(&["timeline", "switch", "main"]);
    assert_eq!(project_files(&dir), on_main, "main restored byte for byte");
    ok(&["timeline", "switch", "early"]);
    assert_eq!(fs::read(dir.join("showrunner.yaml")).unwrap(), config);
    assert!(!dir.join("story/ch01/01-arrival.md").exists());
    ok(&["timeline", "switch", "main"]);
    assert_eq!(project_files(&dir), on_main);
}

/// A project whose `showrunner.yaml` went missing (as the bug above left it) can still be
/// switched to a timeline that has it.
#[test]
fn a_project_without_its_config_can_still_switch_back() {
    let (_tmp, dir) = example();
    let config = fs::read(dir.join("showrunner.yaml")).unwrap();
    assert!(showrunner(&["timeline", "create", "alt"], &dir, &[]).status.success());
    fs::remove_file(dir.join("showrunner.yaml")).unwrap();
    let out = showrunner(&["timeline", "switch", "alt"], &dir, &[]);
    assert!(out.status.success(), "{}", showrunner_testkit::output_text(&out));
    assert_eq!(fs::read(dir.join("showrunner.yaml")).unwrap(), config);
}

/// `bucket create` puts a bucket where the project keeps that kind (`places` for locations in
/// the example), else in `buckets/<kind>s/`, with no empty `summary:`.
#[test]
fn bucket_create_follows_the_project_layout() {
    let (_tmp, dir) = example();
    for (kind, name, folder) in [
        ("location", "Ørsted Reef", "places"),
        ("character", "Żaneta", "characters"),
        ("faction", "Bractwo Łodzi", "factions"),
        ("note", "Ćma", "notes"),
    ] {
        let out = showrunner(&["bucket", "create", "--kind", kind, "--name", name], &dir, &[]);
        assert!(out.status.success(), "{}", showrunner_testkit::output_text(&out));
        let said = String::from_utf8(out.stdout).unwrap();
        let rel = said.trim().rsplit(" at ").next().unwrap().to_string();
        assert!(rel.starts_with(&format!("buckets/{folder}/")), "{kind}: {said}");
        let yaml = fs::read_to_string(dir.join(&rel)).unwrap();
        assert!(yaml.contains(name), "{yaml}");
        assert!(!yaml.lines().any(|l| l.trim_end() == "summary:"), "{yaml}");
    }
}

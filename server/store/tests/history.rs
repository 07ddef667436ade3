//! The history: the write path with optimistic concurrency, snapshots, timelines that restore
//! files byte for byte, compact storage, and recovery of an interrupted write.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use showrunner_store::history::{Change, History, HistoryError};

fn write(root: &Path, rel: &str, text: &[u8]) {
    showrunner_testkit::write_file(root, rel, text);
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "showrunner.yaml", b"name: History\n");
    write(r, "buckets/alice.yaml", b"kind: character\nname: Alice\n");
    write(r, "story/one.md", "Zoë waited. 😀\r\nCRLF kept.\r\n".as_bytes());
    dir
}

/// Every story file's bytes.
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(root).into_iter().flatten() {
        let rel = e.path().strip_prefix(root).unwrap().to_string_lossy().into_owned();
        if e.file_type().is_file() && !rel.starts_with(".showrunner") {
            out.insert(rel, fs::read(e.path()).unwrap());
        }
    }
    out
}

fn change<'a>(path: &'a str, content: &'a [u8], expected: Option<i64>) -> Change<'a> {
    Change {
        path,
        content: Some(content),
        expected_version: expected,
        actor: "user",
        kind: "bucket.edit",
        container: None,
        payload: serde_json::json!({}),
        id: None,
    }
}

#[test]
fn write_path_checks_versions_and_is_idempotent() {
    let dir = project();
    let r = dir.path();
    let mut h = History::open(r).unwrap();
    assert_eq!(h.version("buckets/alice.yaml").unwrap(), 0);
    let e = h.write(&change("buckets/alice.yaml", b"kind: character\nname: Alice M\n", Some(0))).unwrap();
    assert_eq!(e.new_version, 1);
    assert_eq!(fs::read(r.join("buckets/alice.yaml")).unwrap(), b"kind: character\nname: Alice M\n");
    // A stale version is refused, naming both; nothing is overwritten.
    let err = h.write(&change("buckets/alice.yaml", b"lost\n", Some(0))).unwrap_err();
    assert!(matches!(err, HistoryError::Conflict { expected: 0, actual: 1, .. }), "{err}");
    assert!(err.to_string().contains("version 0") && err.to_string().contains("version 1"));
    assert_eq!(fs::read(r.join("buckets/alice.yaml")).unwrap(), b"kind: character\nname: Alice M\n");
    // The same event id twice is one event.
    let mut c = change("buckets/alice.yaml", b"kind: character\nname: Alice N\n", Some(1));
    c.id = Some("ev-fixed".into());
    let a = h.write(&c).unwrap();
    let b = h.write(&c).unwrap();
    assert_eq!(a.seq, b.seq);
    assert_eq!(h.log(Some("buckets/alice.yaml")).unwrap().len(), 2);
    // Paths outside the project are refused.
    assert!(matches!(h.write(&change("../outside.md", b"x", None)), Err(HistoryError::BadPath(_))));
    assert!(matches!(h.write(&change("/etc/passwd", b"x", None)), Err(HistoryError::BadPath(_))));
}

#[test]
fn snapshots_are_deduplicated() {
    let dir = project();
    let r = dir.path();
    let mut h = History::open(r).unwrap();
    assert!(h.record("story/one.md", "user").unwrap().is_some());
    assert!(h.record("story/one.md", "user").unwrap().is_none());
    write(r, "story/one.md", b"changed\n");
    assert!(h.record("story/one.md", "user").unwrap().is_some());
    assert_eq!(h.log(Some("story/one.md")).unwrap().len(), 2);
}

#[test]
fn timelines_restore_files_byte_for_byte() {
    let dir = project();
    let r = dir.path();
    let mut h = History::open(r).unwrap();
    let before = files(r);
    h.create_timeline("what-if", None).unwrap();
    // On main: an edit through the write path, a hand edit, a deletion, a new file.
    let v = h.version("buckets/alice.yaml").unwrap();
    h.write(&change("buckets/alice.yaml", b"kind: character\nname: Alice Dead\n", Some(v))).unwrap();
    write(r, "story/one.md", b"rewritten by hand\n");
    fs::remove_file(r.join("buckets/alice.yaml")).unwrap();
    write(r, "story/two.md", "new scene, 李雷\n".as_bytes());
    let main_after = files(r);
    h.switch("what-if").unwrap();
    assert_eq!(files(r), before, "what-if is the state at the fork");
    h.switch("main").unwrap();
    assert_eq!(files(r), main_after, "main restored byte for byte");
    assert_eq!(h.current().unwrap(), "main");
    let names: Vec<String> = h.timelines().unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["main", "what-if"]);
    assert!(matches!(h.create_timeline("what-if", None), Err(HistoryError::TimelineExists(_))));
    assert!(matches!(h.create_timeline("../x", None), Err(HistoryError::BadName(_))));
    assert!(matches!(h.switch("nope"), Err(HistoryError::NoTimeline(_))));
}

/// A timeline forked before `showrunner.yaml` was recorded keeps the current config (recorded on
/// it), and a switch leaves files outside story, buckets and the config alone, even when the log
/// knows them.
#[test]
fn a_switch_keeps_the_config_and_leaves_other_files_alone() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let mut h = History::open(r).unwrap();
    let first =
        h.write(&change("buckets/notes/première.yaml", "kind: note\nname: Première\n".as_bytes(), None)).unwrap();
    write(r, "showrunner.yaml", "name: Łódź\n".as_bytes());
    write(r, "story/one.md", "Zoë waited.\n".as_bytes());
    h.write(&change("notes/plan.txt", b"not a story file\n", None)).unwrap();
    h.record_all("user").unwrap();
    let main_files = files(r);
    h.create_timeline("early", Some(&first.seq.to_string())).unwrap();
    h.switch("early").unwrap();
    assert_eq!(fs::read(r.join("showrunner.yaml")).unwrap(), "name: Łódź\n".as_bytes(), "the config is kept");
    assert!(!r.join("story/one.md").exists(), "early forked before the scene");
    assert!(r.join("buckets/notes/première.yaml").is_file());
    assert_eq!(fs::read(r.join("notes/plan.txt")).unwrap(), b"not a story file\n", "not a story file: left alone");
    assert!(r.join(".showrunner/events.db").is_file());
    // The kept config is early's own now: nothing drifts, and its log has it.
    assert!(h.drift().unwrap().is_empty(), "{:?}", h.drift().unwrap());
    assert_eq!(h.log(Some("showrunner.yaml")).unwrap().len(), 1);
    h.switch("main").unwrap();
    assert_eq!(files(r), main_files, "main restored byte for byte");
    h.switch("early").unwrap();
    assert!(r.join("showrunner.yaml").is_file());
    assert!(!r.join("story/one.md").exists());
    h.switch("main").unwrap();
    assert_eq!(files(r), main_files);
}

#[test]
fn random_sequences_replay_exactly_on_every_timeline() {
    let dir = project();
    let r = dir.path();
    let mut h = History::open(r).unwrap();
    let mut expected: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    let mut current = "main".to_string();
    let mut seed = 12345u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let paths = ["story/one.md", "story/two.md", "buckets/alice.yaml", "buckets/bob.yaml"];
    let mut timelines = vec!["main".to_string()];
    for step in 0..120 {
        let p = paths[(next() % paths.len() as u64) as usize];
        match next() % 6 {
            0 | 1 => {
                let v = h.version(p).unwrap();
                let body = format!("step {step} on {current}: Zoë 😀\n").into_bytes();
                h.write(&change(p, &body, Some(v))).unwrap();
            }
            2 => write(r, p, format!("hand edit {step}\r\n").as_bytes()),
            3 => {
                let _ = fs::remove_file(r.join(p));
            }
            4 => {
                let name = format!("t{step}");
                h.create_timeline(&name, None).unwrap();
                timelines.push(name);
            }
            _ => {
                h.record_all("user").unwrap();
                expected.insert(current.clone(), files(r));
                let target = timelines[(next() % timelines.len() as u64) as usize].clone();
                h.switch(&target).unwrap();
                current = target;
                if let Some(want) = expected.get(&current) {
                    assert_eq!(&files(r), want, "step {step}: switching to {current}");
                }
            }
        }
    }
    // A fresh process sees the same state.
    drop(h);
    let h = History::open(r).unwrap();
    assert_eq!(h.current().unwrap(), current);
}

#[test]
fn a_thousand_saves_of_a_long_scene_stay_small() {
    let dir = project();
    let r = dir.path();
    let mut h = History::open(r).unwrap();
    let mut text: String = (0..5000).map(|i| format!("word{} ", i % 97)).collect();
    let start = h.size_on_disk();
    for i in 0..1000 {
        let at = (i * 4099) % text.len();
        let at = (0..=at).rev().find(|&k| text.is_char_boundary(k)).unwrap();
        text.insert_str(at, "edit ");
        write(r, "story/long.md", text.as_bytes());
        h.record("story/long.md", "user").unwrap();
    }
    let grown = h.size_on_disk() - start;
    assert!(grown < 5 * 1024 * 1024, "{grown} bytes for 1,000 saves");
    let last = h.log(Some("story/long.md")).unwrap()[0].hash.clone().unwrap();
    assert_eq!(h.content(&last).unwrap(), text.as_bytes());
}

/// Nothing the write path does lands outside the project: `..`, absolute paths, and folders or
/// files that are symbolic links to elsewhere are refused; the walk does not read through them.
#[test]
fn writes_and_reads_stay_inside_the_project() {
    let dir = project();
    let r = dir.path();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.yaml"), "kind: character\nname: Secret\n").unwrap();
    std::os::unix::fs::symlink(outside.path(), r.join("buckets/elsewhere")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.yaml"), r.join("buckets/secret.yaml")).unwrap();
    let mut h = History::open(r).unwrap();
    for bad in ["../escape.yaml", "/tmp/abs.yaml", "buckets/elsewhere/new.yaml", "buckets/secret.yaml"] {
        let e = h.write(&change(bad, b"kind: note\nname: X\n", None)).unwrap_err();
        assert!(matches!(e, HistoryError::BadPath(_)), "{bad}: {e}");
    }
    assert_eq!(fs::read_to_string(outside.path().join("secret.yaml")).unwrap(), "kind: character\nname: Secret\n");
    assert!(!outside.path().join("new.yaml").exists());
    // The project walk reports the links instead of reading through them.
    let p = showrunner_store::load_project(r);
    let names: Vec<&str> = p.analysis.buckets.iter().map(|b| b.bucket.name.value.as_str()).collect();
    assert_eq!(names, ["Alice"]);
    let f = p.analysis.files.iter().find(|f| f.path == "buckets/secret.yaml").expect("reported");
    assert!(
        matches!(&f.content, showrunner_model::analysis::Content::Unreadable(m) if m.contains("outside the project"))
    );
}

/// Two handles (two processes, or two threads of the server) write the same file at once, round
/// after round. Each write is append, then file, then mark: unless the whole sequence excludes
/// the other writer, the later event's file can reach the disk first and be overwritten by the
/// earlier one, leaving the file older than the log says. Checked after every round.
#[test]
fn concurrent_writers_never_leave_a_file_older_than_the_log() {
    const ROUNDS: usize = 150;
    let dir = project();
    let root = dir.path().to_path_buf();
    History::open(&root).unwrap();
    let round = std::sync::Arc::new(std::sync::Barrier::new(2));
    let writers: Vec<_> = ["Zoë", "Łukasz"]
        .into_iter()
        .enumerate()
        .map(|(w, who)| {
            let (root, round) = (root.clone(), round.clone());
            std::thread::spawn(move || {
                let mut h = History::open(&root).unwrap();
                for i in 0..ROUNDS {
                    round.wait();
                    let text = format!("kind: character\nname: Alice\nbody: {who} wrote line {i}.\n");
                    h.write(&change("buckets/alice.yaml", text.as_bytes(), None)).unwrap();
                    round.wait();
                    if w == 0 {
                        assert_eq!(
                            h.drift().unwrap(),
                            Vec::<String>::new(),
                            "round {i}: the file is what the log says"
                        );
                    }
                }
            })
        })
        .collect();
    for t in writers {
        t.join().unwrap();
    }
}

/// Temporary files of writers that died are swept when the log opens; a live writer's are not,
/// in either naming (`.NAME.tmp-PID` from earlier versions, `.NAME.tmp-PID-N` now).
#[test]
fn only_dead_writers_temporary_files_are_swept() {
    let dir = project();
    let root = dir.path();
    let dead = 4_194_304 + 7; // above Linux's pid_max: no process has it
    let me = std::process::id();
    for name in [format!(".alice.yaml.tmp-{dead}"), format!(".alice.yaml.tmp-{dead}-12")] {
        write(root, &format!("buckets/{name}"), b"half");
    }
    let live = format!("buckets/.alice.yaml.tmp-{me}-3");
    write(root, &live, b"being written");
    let mut h = History::open(root).unwrap();
    h.write(&change("buckets/alice.yaml", b"kind: character\nname: Alice\nbody: swept.\n", None)).unwrap();
    drop(h);
    History::open(root).unwrap();
    let left: Vec<String> = fs::read_dir(root.join("buckets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert_eq!(left, vec![live.trim_start_matches("buckets/").to_string()]);
}

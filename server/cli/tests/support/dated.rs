//! Saved history with a date of the test's choosing (for goals: today, this session, a deadline).
//! Shared by tests/goals.rs and the LSP tests (`#[path]`-included by each).

use std::path::Path;

/// Saves `text` at `path` through the history (a snapshot, as a save is recorded), then dates the
/// event `at` (`YYYY-MM-DDTHH:MM:SSZ`).
pub fn save_dated(dir: &Path, path: &str, text: &str, at: &str) {
    showrunner_testkit::write_file(dir, path, text);
    let mut h = showrunner_store::history::History::open(dir).unwrap();
    let e = h.record(path, "user").unwrap().expect("a new version is recorded");
    drop(h);
    let ms = showrunner_store::progress::parse_utc(at).unwrap();
    let db = rusqlite::Connection::open(dir.join(".showrunner/events.db")).unwrap();
    assert_eq!(db.execute("UPDATE events SET time = ?1 WHERE id = ?2", rusqlite::params![ms, e.id]).unwrap(), 1);
}

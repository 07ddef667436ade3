//! `showrunner stats` with `goals:`: words written today and in the writing session, counted from
//! the saved history (snapshots of saves), against the goals in `showrunner.yaml`. The history is
//! built with the store's own write path and then dated (the events' times set with SQL), and the
//! clock is fixed with `SHOWRUNNER_NOW` in `TZ=UTC`, so every number can be worked out by hand.

use std::path::Path;

use serde_json::Value;
use showrunner_testkit::write_file;

#[path = "support/dated.rs"]
mod dated;
use dated::save_dated as save;

/// Ten words with accents, ligatures and apostrophes (`Zoë’s` is one word).
const TEN: &str = "Zoë’s naïve café stood where Łukasz and Æsa once waited";

fn words(n: usize) -> String {
    let all: Vec<&str> = TEN.split(' ').collect();
    (0..n).map(|i| all[i % all.len()]).collect::<Vec<_>>().join(" ")
}

fn scene(n: usize) -> String {
    format!("---\ntitle: Ça commence\n---\n# Überschrift\n\n{}.\n", words(n))
}

fn stats(dir: &Path, now: &str, format: &str) -> std::process::Output {
    showrunner_testkit::run_binary(
        Path::new(env!("CARGO_BIN_EXE_showrunner")),
        &["stats", "--format", format],
        dir,
        &[("SHOWRUNNER_NOW", now), ("TZ", "UTC")],
    )
}

fn goals(dir: &Path, now: &str) -> Value {
    let out = stats(dir, now, "json");
    assert!(out.status.success(), "{}", showrunner_testkit::output_text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["goals"].clone()
}

#[test]
fn goals_count_today_and_the_session_from_saved_history() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_file(
        dir,
        "showrunner.yaml",
        "name: Le Phare\ngoals: { project_words: 100, deadline: 2027-03-01, session_words: 20 }\n",
    );
    // The heading counts as words of the scene, as everywhere (`Überschrift`): n + 1 words.
    save(dir, "story/one.md", &scene(9), "2027-02-25T20:00:00Z"); // yesterday: 10 words
    save(dir, "story/one.md", &scene(13), "2027-02-26T09:00:00Z"); // this morning: 14
    save(dir, "story/two.md", &scene(5), "2027-02-26T11:40:00Z"); // first saved today: 6
    save(dir, "story/one.md", &scene(15), "2027-02-26T11:50:00Z"); // 16
    write_file(dir, "story/two.md", scene(8)); // 9 words, not saved yet
    write_file(dir, "story/three.md", scene(4)); // 5 words, never saved through Showrunner

    let g = goals(dir, "2027-02-26T12:00:00Z");
    assert_eq!(g["words"], 30, "{g:#}");
    assert_eq!(g["date"], "2027-02-26");
    // At midnight: one.md 10; two.md from its first save 6; three.md as it is 5 → 21 words.
    assert_eq!(g["today"], 9, "{g:#}");
    // Feb 26, 27, 28 and Mar 1 are left: (100 − 21) ÷ 4, rounded up.
    assert_eq!((g["deadline"].as_str(), g["days_left"].as_i64()), (Some("2027-03-01"), Some(4)));
    assert_eq!((g["daily_goal"].as_u64(), g["daily_from_deadline"].as_bool()), (Some(20), Some(true)));
    assert_eq!(g["today_percent"], 45);
    assert_eq!((g["project_goal"].as_u64(), g["project_percent"].as_u64()), (Some(100), Some(30)));
    // The session began at 11:40 (09:00 is more than 30 minutes before): one.md 14, two.md 6,
    // three.md 5 → 25 words then.
    let started = showrunner_store::progress::parse_utc("2027-02-26T11:40:00Z").unwrap();
    assert_eq!(g["session_started"].as_i64(), Some(started), "{g:#}");
    assert_eq!(
        (g["session"].as_i64(), g["session_goal"].as_u64(), g["session_percent"].as_u64()),
        (Some(5), Some(20), Some(25))
    );
    assert_eq!(g["scene_words"], Value::Null);

    // Seventy minutes after the last save the session is over; the next counts from that save.
    let g = goals(dir, "2027-02-26T13:00:00Z");
    assert_eq!((g["session"].as_i64(), g["session_started"].clone()), (Some(3), Value::Null), "{g:#}");
    assert_eq!(g["today"], 9);

    // The next day starts from everything saved; unsaved text counts as written then.
    let g = goals(dir, "2027-02-27T08:00:00Z");
    assert_eq!((g["today"].as_i64(), g["days_left"].as_i64(), g["daily_goal"].as_u64()), (Some(3), Some(3), Some(25)));

    // The text format prints the same numbers.
    let out = stats(dir, "2027-02-26T12:00:00Z", "text");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("Le Phare · 30 words · 3 scenes"), "{text}");
    assert!(text.contains("  Project   30 of 100 (30%) words, due 2027-03-01 (4 days left)\n"), "{text}");
    assert!(text.contains("  Today     9 of 20 (45%) words — the deadline's daily quota  (2027-02-26)\n"), "{text}");
    assert!(text.contains("  Session   5 of 20 (25%) words\n"), "{text}");

    // A daily goal replaces the quota.
    write_file(
        dir,
        "showrunner.yaml",
        "name: Le Phare\ngoals: { project_words: 100, deadline: 2027-03-01, daily_words: 12 }\n",
    );
    let g = goals(dir, "2027-02-26T12:00:00Z");
    assert_eq!(
        (g["daily_goal"].as_u64(), g["daily_from_deadline"].as_bool(), g["today_percent"].as_u64()),
        (Some(12), Some(false), Some(75))
    );
    assert_eq!((g["session_goal"].clone(), g["session_percent"].clone()), (Value::Null, Value::Null));
}

#[test]
fn without_history_or_goals_nothing_is_written_yet() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_file(dir, "showrunner.yaml", "name: Bare\n");
    write_file(dir, "story/one.md", scene(6));
    let g = goals(dir, "2027-02-26T12:00:00Z");
    assert_eq!((g["words"].as_u64(), g["today"].as_i64(), g["session"].as_i64()), (Some(7), Some(0), Some(0)), "{g:#}");
    assert_eq!((g["daily_goal"].clone(), g["project_percent"].clone()), (Value::Null, Value::Null));
    // Reading the stats does not create a history.
    assert!(!dir.join(".showrunner/events.db").exists());
}

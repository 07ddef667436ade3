//! Words written today and in the current writing session, counted from the saved history
//! (the event log), never from keystrokes.
//!
//! - **Today** is the writer's local calendar day. The words at its start are the scenes as the
//!   log had them at local midnight. A scene the log first saw later (a scene created today, or
//!   one saved through Showrunner for the first time) starts from its first recorded version,
//!   so a project adopted mid-way does not count its whole text as written today; a scene the
//!   log has never seen has written nothing yet.
//! - **A session** is a run of saves with less than [`SESSION_PAUSE_MS`] (30 minutes) between
//!   one and the next. The current session began at its first save; once the last save is 30
//!   minutes old the session is over, and the next one starts from the words of the last save.
//!   Session words are counted the same way as today's, from the session's start.
//!
//! Words "now" are the caller's: the language server counts unsaved text, the CLI the files.
//! Deleting a scene takes its words off. `SHOWRUNNER_NOW=YYYY-MM-DDTHH:MM:SSZ` fixes the clock
//! (tests, demos); the local day follows the `TZ` environment variable like every program.

use std::collections::HashMap;
use std::path::Path;

use showrunner_model::analysis::FileKind;
use showrunner_model::goals::{local_day, Date, DAY_MS};
use showrunner_model::scene::{parse_markdown_scene, SceneFormat};

use crate::discover::classify;
use crate::history::{events_path, History, HistoryError};

/// A pause this long between two saves ends a writing session.
pub const SESSION_PAUSE_MS: i64 = 30 * 60 * 1000;

/// "Now", and the local clock's offset from UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Unix milliseconds.
    pub now_ms: i64,
    pub offset_ms: i64,
}

impl Clock {
    /// The system clock (or `SHOWRUNNER_NOW`), in the local time zone.
    pub fn system() -> Clock {
        let now_ms = std::env::var("SHOWRUNNER_NOW").ok().and_then(|s| parse_utc(&s)).unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0)
        });
        Clock { now_ms, offset_ms: utc_offset_ms(now_ms) }
    }

    /// Today's local date, and the Unix time of its start (local midnight).
    pub fn today(&self) -> (Date, i64) {
        local_day(self.now_ms, self.offset_ms)
    }
}

/// `YYYY-MM-DDTHH:MM[:SS]Z` as Unix milliseconds.
pub fn parse_utc(s: &str) -> Option<i64> {
    let s = s.trim().strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let date = Date::parse(date)?;
    let mut parts = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m) = (parts.next()??, parts.next()??);
    let sec = parts.next().map(|p| p.unwrap_or(-1)).unwrap_or(0);
    if parts.next().is_some() || !(0..24).contains(&h) || !(0..60).contains(&m) || !(0..60).contains(&sec) {
        return None;
    }
    Some(date.days() * DAY_MS + (h * 3600 + m * 60 + sec) * 1000)
}

#[cfg(unix)]
fn utc_offset_ms(ms: i64) -> i64 {
    let t = ms.div_euclid(1000) as libc::time_t;
    // SAFETY: `localtime_r` writes only into `tm`, which lives on this stack frame.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if ok {
        i64::from(tm.tm_gmtoff as i32) * 1000
    } else {
        0
    }
}

#[cfg(not(unix))]
fn utc_offset_ms(_ms: i64) -> i64 {
    0
}

/// Where the writer stands against the day and the session, from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub today: Date,
    /// Words in the scenes at the start of today (see the module's rules).
    pub day_start_words: usize,
    /// Words in the scenes when the current session began.
    pub session_start_words: usize,
    /// The current session's first save (Unix ms); `None` when no save is recent enough.
    pub session_started: Option<i64>,
}

/// Counts the day's and the session's starting words of the project at `root`; `words_now`
/// holds every scene's words now (project-relative path → words). A project without a log has
/// written nothing today.
pub fn progress(root: &Path, words_now: &HashMap<String, usize>, clock: Clock) -> Result<Progress, HistoryError> {
    let (today, midnight) = clock.today();
    let total: usize = words_now.values().sum();
    if !events_path(root).is_file() {
        return Ok(Progress { today, day_start_words: total, session_start_words: total, session_started: None });
    }
    let history = History::open(root)?;
    let changes: Vec<(i64, String, Option<String>)> =
        history.changes()?.into_iter().filter(|(_, p, _)| matches!(classify(p), Some(FileKind::Scene(_)))).collect();
    let session_started = session_start(changes.iter().map(|c| c.0), clock.now_ms);
    let mut words_of = WordsOf { history: &history, cache: HashMap::new() };
    let day_start_words = words_at(&changes, midnight, words_now, &mut words_of)?;
    let session_start_words = words_at(&changes, session_started.unwrap_or(i64::MAX), words_now, &mut words_of)?;
    Ok(Progress { today, day_start_words, session_start_words, session_started })
}

/// The first save of the current session: walking back from the last save while the saves are
/// less than a pause apart; `None` when the last save is a pause old (or there is none).
fn session_start(times: impl DoubleEndedIterator<Item = i64>, now: i64) -> Option<i64> {
    let mut times = times.rev();
    let mut start = times.next().filter(|&last| now - last < SESSION_PAUSE_MS)?;
    for t in times {
        if start - t >= SESSION_PAUSE_MS {
            break;
        }
        start = start.min(t);
    }
    Some(start)
}

/// Words of recorded versions, by content hash.
struct WordsOf<'a> {
    history: &'a History,
    cache: HashMap<(String, String), usize>,
}

impl WordsOf<'_> {
    fn words(&mut self, path: &str, hash: Option<&str>) -> Result<usize, HistoryError> {
        let Some(hash) = hash else { return Ok(0) };
        let key = (path.to_string(), hash.to_string());
        if let Some(&n) = self.cache.get(&key) {
            return Ok(n);
        }
        let bytes = self.history.content(hash)?;
        let n = scene_words(path, &String::from_utf8_lossy(&bytes));
        self.cache.insert(key, n);
        Ok(n)
    }
}

/// Words of a scene file's text, as the analysis counts them.
pub fn scene_words(path: &str, text: &str) -> usize {
    let stem = Path::new(path).file_stem().and_then(|s| s.to_str()).unwrap_or("");
    match classify(path) {
        Some(FileKind::Scene(SceneFormat::Fountain)) => showrunner_model::fountain::parse_fountain(text, stem).0,
        _ => parse_markdown_scene(text, stem).0,
    }
    .word_count
}

/// The project's scene words at `cutoff`, by the module's rules.
fn words_at(
    changes: &[(i64, String, Option<String>)],
    cutoff: i64,
    words_now: &HashMap<String, usize>,
    words_of: &mut WordsOf,
) -> Result<usize, HistoryError> {
    let mut at: HashMap<&str, Option<&str>> = HashMap::new();
    let mut first_after: HashMap<&str, Option<&str>> = HashMap::new();
    for (time, path, hash) in changes {
        if *time < cutoff {
            at.insert(path, hash.as_deref());
        } else if !at.contains_key(path.as_str()) {
            first_after.entry(path).or_insert(hash.as_deref());
        }
    }
    let mut total = 0;
    for (path, words) in words_now {
        if !at.contains_key(path.as_str()) && !first_after.contains_key(path.as_str()) {
            total += words;
        }
    }
    for (path, hash) in at.iter().chain(first_after.iter().filter(|(p, _)| !at.contains_key(*p))) {
        total += words_of.words(path, *hash)?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_after_a_pause() {
        let min = 60_000;
        let now = 1_000 * min;
        assert_eq!(session_start([].into_iter(), now), None);
        assert_eq!(session_start([now - 40 * min].into_iter(), now), None);
        let saves = [now - 200 * min, now - 100 * min, now - 85 * min, now - 50 * min, now - 21 * min, now - 5 * min];
        assert_eq!(session_start(saves.into_iter(), now), Some(now - 50 * min));
        assert_eq!(
            session_start([now - 60 * min, now - 30 * min, now - 29 * min].into_iter(), now),
            Some(now - 30 * min)
        );
    }

    #[test]
    fn utc_times_parse() {
        assert_eq!(parse_utc("1970-01-02T00:00:01Z"), Some(DAY_MS + 1000));
        assert_eq!(
            parse_utc("2027-02-26T12:30Z"),
            Some(Date::parse("2027-02-26").unwrap().days() * DAY_MS + 45_000_000)
        );
        for bad in ["2027-02-26T12:30", "2027-02-26T24:00Z", "2027-02-26", "2027-02-26T1:x:00Z"] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }
}

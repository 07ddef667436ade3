//! History: the event log at `.showrunner/events.db` and the one write path for project files.
//!
//! Every change Showrunner makes goes: command → [`History::write`] → one SQLite transaction that
//! checks the file's expected version (optimistic concurrency) and appends the event → atomic
//! file write → the event is marked applied. On open, [`History::open`] reconciles: an event whose
//! file write did not happen (a crash in between) is written again. Saves made by the writer are
//! recorded as `snapshot` events ([`History::record`]), so history covers hand edits too.
//!
//! Timelines are branches of the log: each has a head event, and an event's `parent` is the head
//! it was appended on. A timeline's state (path → content) is the fold of its lineage. Switching
//! records every unrecorded change on the current timeline first, then rewrites the project's
//! files to the target's state; switching back restores them byte for byte.
//!
//! Contents are stored once per hash; a new version of a file is stored as a delta against the
//! previous one (common prefix and suffix kept, the middle stored), with a full copy every
//! [`MAX_CHAIN`] versions, so 1,000 saves of a long scene cost kilobytes, not megabytes.
//! This log is NOT derived data: it is never deleted or rebuilt.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use showrunner_model::config::CONFIG_FILE;
use showrunner_model::id::is_valid_id;

use crate::discover::{classify, relative};
use crate::fsx::write_atomic;
use crate::StoreError;

/// A full copy of a file's content is stored at least every this many versions.
pub const MAX_CHAIN: i64 = 64;
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs(
    hash TEXT PRIMARY KEY, base TEXT, depth INTEGER NOT NULL, prefix INTEGER NOT NULL,
    suffix INTEGER NOT NULL, data BLOB NOT NULL, size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, parent INTEGER,
    timeline TEXT NOT NULL, time INTEGER NOT NULL, actor TEXT NOT NULL, type TEXT NOT NULL,
    container TEXT, path TEXT NOT NULL, expected_version INTEGER, new_version INTEGER NOT NULL,
    payload TEXT NOT NULL, hash TEXT, applied INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS events_path ON events(path);
CREATE TABLE IF NOT EXISTS timelines(
    name TEXT PRIMARY KEY, head INTEGER, forked_from INTEGER, created INTEGER NOT NULL);
"#;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Event {
    pub seq: i64,
    pub id: String,
    pub parent: Option<i64>,
    pub timeline: String,
    /// Milliseconds since the Unix epoch.
    pub time: i64,
    pub actor: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub container: Option<String>,
    pub path: String,
    pub expected_version: Option<i64>,
    pub new_version: i64,
    pub payload: serde_json::Value,
    /// Content hash; `None` when the event deletes the file.
    pub hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Timeline {
    pub name: String,
    pub head: Option<i64>,
    pub forked_from: Option<i64>,
    pub current: bool,
    pub events: usize,
}

/// A change to one file, as a command asks for it.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// Project-relative path.
    pub path: &'a str,
    /// New content; `None` deletes the file.
    pub content: Option<&'a [u8]>,
    /// The version the caller read; `None` skips the check (first write of a new file).
    pub expected_version: Option<i64>,
    /// `user`, `agent:<id>`, `pipeline:<run>`.
    pub actor: &'a str,
    /// `bucket.create`, `bucket.edit`, `apply_edit`, `snapshot` …
    pub kind: &'a str,
    pub container: Option<&'a str>,
    pub payload: serde_json::Value,
    /// Idempotency key: appending the same id twice records it once.
    pub id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(
        "conflict on {path}: you edited version {expected}, but the log is at version {actual}; reload and try again"
    )]
    Conflict { path: String, expected: i64, actual: i64 },
    #[error("no timeline named `{0}`")]
    NoTimeline(String),
    #[error("a timeline named `{0}` exists already")]
    TimelineExists(String),
    #[error("`{0}` is not a valid timeline name (letters, digits, - and _)")]
    BadName(String),
    #[error("no event `{0}`")]
    NoEvent(String),
    #[error("`{0}` is not a file of the project")]
    BadPath(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for HistoryError {
    fn from(e: rusqlite::Error) -> Self {
        HistoryError::Store(StoreError::Sql(e))
    }
}

/// Per path: (version, content hash or `None` if deleted).
type State = BTreeMap<String, (i64, Option<String>)>;

pub struct History {
    conn: Connection,
    root: PathBuf,
    /// The state at a head, so an append walks only the events appended since.
    cache: Option<(Option<i64>, State)>,
    /// The project's writer lock, while this handle holds it (see [`History::exclusive`]).
    lock: Option<std::fs::File>,
}

/// The state at `head`, reusing `cache` when `head` descends from the cached head.
fn state_at<'c>(
    cache: &'c mut Option<(Option<i64>, State)>,
    conn: &Connection,
    head: Option<i64>,
) -> Result<&'c State, HistoryError> {
    let reusable = match cache {
        Some((cached, _)) if *cached == head => true,
        Some((cached, _)) => {
            // Walk back from `head` to the cached head, collecting the newer events.
            let mut newer = Vec::new();
            let mut next = head;
            let mut found = false;
            let mut stmt = conn.prepare_cached("SELECT parent, path, new_version, hash FROM events WHERE seq = ?1")?;
            while let Some(seq) = next {
                if Some(seq) == *cached {
                    found = true;
                    break;
                }
                let (parent, path, version, hash): (Option<i64>, String, i64, Option<String>) =
                    stmt.query_row([seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
                newer.push((path, version, hash));
                next = parent;
            }
            if found || cached.is_none() {
                let (_, state) = cache.as_mut().expect("matched Some");
                for (path, version, hash) in newer.into_iter().rev() {
                    state.insert(path, (version, hash));
                }
                true
            } else {
                false
            }
        }
        None => false,
    };
    if reusable {
        let entry = cache.as_mut().expect("reusable");
        entry.0 = head;
    } else {
        *cache = Some((head, History::state(conn, head)?));
    }
    Ok(&cache.as_ref().expect("filled").1)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

pub fn content_hash(bytes: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes))
}

/// Where the log of a project lives.
pub fn events_path(root: &Path) -> PathBuf {
    root.join(".showrunner").join("events.db")
}

/// A fault-injection point for crash tests: `SHOWRUNNER_FAULT=<point>` aborts the process there
/// (`after-append`, `after-write` here; `after-apply` once a run's edit is applied, before the
/// run records it).
pub fn fault(point: &str) {
    if std::env::var("SHOWRUNNER_FAULT").is_ok_and(|v| v == point) {
        eprintln!("showrunner: fault injected at {point}");
        std::process::abort();
    }
}

/// Rejects paths that are absolute or climb out of the project.
fn checked_path(path: &str) -> Result<&str, HistoryError> {
    let p = Path::new(path);
    let ok = !path.is_empty()
        && p.is_relative()
        && p.components().all(|c| matches!(c, std::path::Component::Normal(_)))
        && !path.starts_with(".showrunner");
    if ok {
        Ok(path)
    } else {
        Err(HistoryError::BadPath(path.to_string()))
    }
}

impl History {
    /// Opens (or creates) the log of the project at `root` and reconciles it with the files.
    pub fn open(root: &Path) -> Result<History, HistoryError> {
        let path = events_path(root);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Io(dir.to_path_buf(), e))?;
        }
        let mut conn = crate::sqlite::open(&path, std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // The log is appended to and read by key: a small page cache does (SQLite's default of
        // 2 MB per connection would fill as the log grows, in a server that keeps it open).
        conn.pragma_update(None, "cache_size", -256)?;
        let tx = crate::sqlite::write_transaction(&mut conn)?;
        tx.execute_batch(SCHEMA)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.execute(
            "INSERT OR IGNORE INTO timelines(name, head, forked_from, created) VALUES ('main', NULL, NULL, ?1)",
            [now_ms()],
        )?;
        tx.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('current', 'main')", [])?;
        tx.commit()?;
        let mut h = History { conn, root: root.to_path_buf(), cache: None, lock: None };
        h.reconcile()?;
        Ok(h)
    }

    pub fn current(&self) -> Result<String, HistoryError> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = 'current'", [], |r| r.get(0))?)
    }

    /// Runs `f` as the project's only writer. A write is three steps (append the event, write
    /// the file, mark it applied), and a switch or a repair rewrites files from the log: unless
    /// each runs alone, another process's later event can reach the disk first and be overwritten
    /// by an older one. The lock is `.showrunner/events.lock` (`flock`, so the kernel releases it
    /// when a writer dies); a handle that holds it already just runs `f`.
    fn exclusive<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, HistoryError>) -> Result<T, HistoryError> {
        if self.lock.is_some() {
            return f(self);
        }
        let path = events_path(&self.root).with_extension("lock");
        let io = |e| HistoryError::Store(StoreError::Io(path.clone(), e));
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io)?;
        file.lock().map_err(io)?;
        self.lock = Some(file);
        let out = f(self);
        // Closing the file releases the lock.
        self.lock = None;
        out
    }

    fn head(tx: &Connection, timeline: &str) -> Result<Option<i64>, HistoryError> {
        tx.query_row("SELECT head FROM timelines WHERE name = ?1", [timeline], |r| r.get::<_, Option<i64>>(0))
            .optional()?
            .ok_or_else(|| HistoryError::NoTimeline(timeline.to_string()))
    }

    /// The state of a lineage ending at `head`: every path's latest version and hash.
    fn state(conn: &Connection, head: Option<i64>) -> Result<State, HistoryError> {
        let mut state = State::new();
        let mut next = head;
        let mut stmt = conn.prepare_cached("SELECT parent, path, new_version, hash FROM events WHERE seq = ?1")?;
        while let Some(seq) = next {
            let (parent, path, version, hash): (Option<i64>, String, i64, Option<String>) =
                stmt.query_row([seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            state.entry(path).or_insert((version, hash));
            next = parent;
        }
        Ok(state)
    }

    /// The lineage of `head`, newest first.
    fn lineage(conn: &Connection, head: Option<i64>) -> Result<Vec<i64>, HistoryError> {
        let mut out = Vec::new();
        let mut next = head;
        let mut stmt = conn.prepare_cached("SELECT parent FROM events WHERE seq = ?1")?;
        while let Some(seq) = next {
            out.push(seq);
            next = stmt.query_row([seq], |r| r.get(0))?;
        }
        Ok(out)
    }

    /// The version of `path` on the current timeline (0 when the log has never seen it).
    pub fn version(&mut self, path: &str) -> Result<i64, HistoryError> {
        let head = Self::head(&self.conn, &self.current()?)?;
        Ok(state_at(&mut self.cache, &self.conn, head)?.get(path).map(|v| v.0).unwrap_or(0))
    }

    fn store_blob(conn: &Connection, hash: &str, bytes: &[u8], prev: Option<&str>) -> Result<(), HistoryError> {
        let exists: bool =
            conn.query_row("SELECT 1 FROM blobs WHERE hash = ?1", [hash], |_| Ok(true)).optional()?.unwrap_or(false);
        if exists {
            return Ok(());
        }
        // A delta against the previous version when there is one and the chain is short.
        if let Some(base) = prev {
            let depth: Option<i64> =
                conn.query_row("SELECT depth FROM blobs WHERE hash = ?1", [base], |r| r.get(0)).optional()?;
            if let Some(depth) = depth.filter(|d| *d < MAX_CHAIN) {
                let old = Self::load_blob(conn, base)?;
                let prefix = old.iter().zip(bytes).take_while(|(a, b)| a == b).count();
                let max_suffix = old.len().min(bytes.len()) - prefix;
                let suffix =
                    old.iter().rev().zip(bytes.iter().rev()).take(max_suffix).take_while(|(a, b)| a == b).count();
                let middle = &bytes[prefix..bytes.len() - suffix];
                conn.execute(
                    "INSERT INTO blobs(hash, base, depth, prefix, suffix, data, size) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![hash, base, depth + 1, prefix as i64, suffix as i64, middle, bytes.len() as i64],
                )?;
                return Ok(());
            }
        }
        conn.execute(
            "INSERT INTO blobs(hash, base, depth, prefix, suffix, data, size) VALUES (?1, NULL, 0, 0, 0, ?2, ?3)",
            params![hash, bytes, bytes.len() as i64],
        )?;
        Ok(())
    }

    fn load_blob(conn: &Connection, hash: &str) -> Result<Vec<u8>, HistoryError> {
        let (base, prefix, suffix, data): (Option<String>, i64, i64, Vec<u8>) =
            conn.query_row("SELECT base, prefix, suffix, data FROM blobs WHERE hash = ?1", [hash], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
        match base {
            None => Ok(data),
            Some(base) => {
                let old = Self::load_blob(conn, &base)?;
                let (p, s) = (prefix as usize, suffix as usize);
                let mut out = Vec::with_capacity(p + data.len() + s);
                out.extend_from_slice(&old[..p]);
                out.extend_from_slice(&data);
                out.extend_from_slice(&old[old.len() - s..]);
                Ok(out)
            }
        }
    }

    /// The content of a blob (for `log` and tests).
    pub fn content(&self, hash: &str) -> Result<Vec<u8>, HistoryError> {
        Self::load_blob(&self.conn, hash)
    }

    /// Appends an event in one transaction, checking the expected version. Does not touch files.
    fn append(&mut self, change: &Change<'_>, applied: bool) -> Result<Event, HistoryError> {
        let mut events = self.append_all(std::slice::from_ref(change), applied)?;
        Ok(events.pop().expect("one change, one event"))
    }

    /// Appends events for `changes` in one transaction (all or none), in order.
    fn append_all(&mut self, changes: &[Change<'_>], applied: bool) -> Result<Vec<Event>, HistoryError> {
        for c in changes {
            checked_path(c.path)?;
            self.contained(c.path)?;
        }
        let tx = crate::sqlite::write_transaction(&mut self.conn)?;
        let timeline: String = tx.query_row("SELECT value FROM meta WHERE key = 'current'", [], |r| r.get(0))?;
        let mut head = Self::head(&tx, &timeline)?;
        let mut state = state_at(&mut self.cache, &tx, head)?.clone();
        let mut seqs = Vec::with_capacity(changes.len());
        for change in changes {
            if let Some(id) = &change.id {
                if let Some(e) = Self::event_by(&tx, "id", id)? {
                    seqs.push(e.seq);
                    continue;
                }
            }
            let path = change.path;
            let (version, prev_hash) = state.get(path).cloned().unwrap_or((0, None));
            if let Some(expected) = change.expected_version {
                if expected != version {
                    return Err(HistoryError::Conflict { path: path.to_string(), expected, actual: version });
                }
            }
            let hash = match change.content {
                Some(bytes) => {
                    let h = content_hash(bytes);
                    Self::store_blob(&tx, &h, bytes, prev_hash.as_deref())?;
                    Some(h)
                }
                None => None,
            };
            let id = change.id.clone().unwrap_or_else(|| {
                let key = format!("{path}\u{0}{version}\u{0}{timeline}\u{0}{hash:?}\u{0}{head:?}");
                format!("ev-{:x}-{:016x}", now_ms(), xxhash_rust::xxh3::xxh3_64(key.as_bytes()))
            });
            tx.prepare_cached(
                "INSERT INTO events(id, parent, timeline, time, actor, type, container, path, expected_version, new_version, payload, hash, applied)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?
            .execute(params![
                id,
                head,
                timeline,
                now_ms(),
                change.actor,
                change.kind,
                change.container,
                path,
                change.expected_version,
                version + 1,
                change.payload.to_string(),
                hash,
                applied as i64
            ])?;
            let seq = tx.last_insert_rowid();
            state.insert(path.to_string(), (version + 1, hash));
            head = Some(seq);
            seqs.push(seq);
        }
        tx.execute("UPDATE timelines SET head = ?1 WHERE name = ?2", params![head, timeline])?;
        tx.commit()?;
        self.cache = Some((head, state));
        seqs.iter().map(|s| Ok(Self::event_by(&self.conn, "seq", &s.to_string())?.expect("just appended"))).collect()
    }

    /// The write path for many changes at once: one transaction (one fsync) for all events, then
    /// the files, then all marked applied.
    pub fn write_all(&mut self, changes: &[Change<'_>]) -> Result<Vec<Event>, HistoryError> {
        self.exclusive(|h| h.write_all_alone(changes))
    }

    fn write_all_alone(&mut self, changes: &[Change<'_>]) -> Result<Vec<Event>, HistoryError> {
        let events = self.append_all(changes, false)?;
        fault("after-append");
        let mut dirs = BTreeSet::new();
        for (e, c) in events.iter().zip(changes) {
            let abs = self.root.join(&e.path);
            match c.content {
                Some(bytes) => crate::fsx::write_atomic_opts(&abs, bytes, false)?,
                None => self.write_file(&e.path, None)?,
            }
            if let Some(d) = abs.parent() {
                dirs.insert(d.to_path_buf());
            }
        }
        for d in dirs {
            crate::fsx::sync_dir(&d);
        }
        let tx = crate::sqlite::write_transaction(&mut self.conn)?;
        for e in &events {
            tx.prepare_cached("UPDATE events SET applied = 1 WHERE seq = ?1")?.execute([e.seq])?;
        }
        tx.commit()?;
        Ok(events)
    }

    fn event_by(conn: &Connection, column: &str, value: &str) -> Result<Option<Event>, HistoryError> {
        let sql = format!(
            "SELECT seq, id, parent, timeline, time, actor, type, container, path, expected_version, new_version, payload, hash FROM events WHERE {column} = ?1"
        );
        let e = conn
            .query_row(&sql, [value], |r| {
                Ok(Event {
                    seq: r.get(0)?,
                    id: r.get(1)?,
                    parent: r.get(2)?,
                    timeline: r.get(3)?,
                    time: r.get(4)?,
                    actor: r.get(5)?,
                    kind: r.get(6)?,
                    container: r.get(7)?,
                    path: r.get(8)?,
                    expected_version: r.get(9)?,
                    new_version: r.get(10)?,
                    payload: serde_json::from_str(&r.get::<_, String>(11)?).unwrap_or_default(),
                    hash: r.get(12)?,
                })
            })
            .optional()?;
        Ok(e)
    }

    fn write_file(&self, path: &str, content: Option<&[u8]>) -> Result<(), HistoryError> {
        let abs = self.contained(path)?;
        match content {
            Some(bytes) => write_atomic(&abs, bytes)?,
            None => {
                if abs.exists() {
                    std::fs::remove_file(&abs).map_err(|e| StoreError::Io(abs.clone(), e))?;
                }
            }
        }
        Ok(())
    }

    /// The absolute path of a project file, refusing anything that would land outside the
    /// project: absolute paths, `..`, and folders that are symbolic links to elsewhere.
    fn contained(&self, path: &str) -> Result<PathBuf, HistoryError> {
        use std::path::Component;
        let rel = Path::new(path);
        if path.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(HistoryError::BadPath(path.to_string()));
        }
        let abs = self.root.join(rel);
        let root = self.root.canonicalize().unwrap_or_else(|_| self.root.clone());
        // The nearest folder that exists must resolve inside the project.
        let existing = abs.ancestors().skip(1).find(|a| a.exists()).unwrap_or(&self.root);
        let inside = existing.canonicalize().is_ok_and(|d| d.starts_with(&root))
            && (!abs.is_symlink() || crate::discover::points_inside(&abs, &root));
        if !inside {
            return Err(HistoryError::BadPath(path.to_string()));
        }
        Ok(abs)
    }

    /// The write path: append (with the expected version), then write the file atomically, then
    /// mark the event applied.
    pub fn write(&mut self, change: &Change<'_>) -> Result<Event, HistoryError> {
        self.exclusive(|h| h.write_alone(change))
    }

    fn write_alone(&mut self, change: &Change<'_>) -> Result<Event, HistoryError> {
        // An id the log has already: that change was made (or is being repaired by
        // `reconcile`); writing this content too would put a second copy outside the log.
        if let Some(id) = &change.id {
            if let Some(e) = Self::event_by(&self.conn, "id", id)? {
                return Ok(e);
            }
        }
        let event = self.append(change, false)?;
        fault("after-append");
        self.write_file(&event.path, change.content)?;
        fault("after-write");
        self.conn.execute("UPDATE events SET applied = 1 WHERE seq = ?1", [event.seq])?;
        Ok(event)
    }

    /// The event with this id, if the log has it.
    pub fn event(&self, id: &str) -> Result<Option<Event>, HistoryError> {
        Self::event_by(&self.conn, "id", id)
    }

    /// The content the current timeline last recorded for `path` (`None`: never seen, or
    /// deleted).
    pub fn latest_content(&mut self, path: &str) -> Result<Option<Vec<u8>>, HistoryError> {
        let head = Self::head(&self.conn, &self.current()?)?;
        let hash = state_at(&mut self.cache, &self.conn, head)?.get(path).and_then(|s| s.1.clone());
        hash.map(|h| Self::load_blob(&self.conn, &h)).transpose()
    }

    /// Records a change whose content is already where it belongs (an editor saved it): the
    /// event is appended as applied and no file is written. An id the log has is not appended
    /// again.
    pub fn record_content(&mut self, change: &Change<'_>) -> Result<Event, HistoryError> {
        self.exclusive(|h| h.append(change, true))
    }

    /// Records a file as it is on disk (a save by the writer): a `snapshot` event, unless the log
    /// already has exactly this content for the path. Returns the event when one was appended.
    pub fn record(&mut self, path: &str, actor: &str) -> Result<Option<Event>, HistoryError> {
        Ok(self.record_many(&[path.to_string()], actor)?.pop())
    }

    /// Records many files as they are on disk in one transaction (see [`History::record`]);
    /// returns the events appended (none for files the log already has as they are).
    pub fn record_many(&mut self, paths: &[String], actor: &str) -> Result<Vec<Event>, HistoryError> {
        self.exclusive(|h| h.record_many_alone(paths, actor))
    }

    fn record_many_alone(&mut self, paths: &[String], actor: &str) -> Result<Vec<Event>, HistoryError> {
        let head = Self::head(&self.conn, &self.current()?)?;
        let state = state_at(&mut self.cache, &self.conn, head)?.clone();
        let mut contents: Vec<(String, Option<Vec<u8>>)> = Vec::new();
        for p in paths {
            let content = std::fs::read(self.root.join(checked_path(p)?)).ok();
            let hash = content.as_deref().map(content_hash);
            let known = state.get(p.as_str()).map(|s| s.1.clone());
            if known.as_ref() != Some(&hash) && !(known.is_none() && hash.is_none()) {
                contents.push((p.clone(), content));
            }
        }
        let changes: Vec<Change> = contents
            .iter()
            .map(|(p, c)| Change {
                path: p,
                content: c.as_deref(),
                expected_version: None,
                actor,
                kind: "snapshot",
                container: None,
                payload: serde_json::json!({}),
                id: None,
            })
            .collect();
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        self.append_all(&changes, true)
    }

    /// Every story file of the project as it is on disk (paths relative to the root).
    fn project_files(&self) -> Vec<String> {
        let mut out = Vec::new();
        let walker = walkdir::WalkDir::new(&self.root).sort_by_file_name().into_iter().filter_entry(|e| {
            e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.') || !e.file_type().is_dir()
        });
        for e in walker.flatten() {
            if e.file_type().is_file() {
                let rel = relative(&self.root, e.path());
                if classify(&rel).is_some() && !rel.starts_with('.') {
                    out.push(rel);
                }
            }
        }
        out
    }

    /// Records every unrecorded change of the project's files (new, edited or deleted) on the
    /// current timeline. Returns how many events were appended.
    pub fn record_all(&mut self, actor: &str) -> Result<usize, HistoryError> {
        self.exclusive(|h| h.record_all_alone(actor))
    }

    fn record_all_alone(&mut self, actor: &str) -> Result<usize, HistoryError> {
        let head = Self::head(&self.conn, &self.current()?)?;
        let state = Self::state(&self.conn, head)?;
        let mut paths: BTreeSet<String> = self.project_files().into_iter().collect();
        paths.extend(state.iter().filter(|(_, (_, h))| h.is_some()).map(|(p, _)| p.clone()));
        let paths: Vec<String> = paths.into_iter().collect();
        Ok(self.record_many(&paths, actor)?.len())
    }

    /// Writes again every event of the current timeline whose file write did not happen, and
    /// finishes an interrupted timeline switch.
    pub fn reconcile(&mut self) -> Result<usize, HistoryError> {
        self.exclusive(|h| h.reconcile_alone())
    }

    fn reconcile_alone(&mut self) -> Result<usize, HistoryError> {
        let mut fixed = 0;
        let switching: Option<String> =
            self.conn.query_row("SELECT value FROM meta WHERE key = 'switching'", [], |r| r.get(0)).optional()?;
        if let Some(target) = switching {
            fixed += self.materialize(&target)?;
            self.conn.execute("DELETE FROM meta WHERE key = 'switching'", [])?;
        }
        let pending: Vec<(i64, String, Option<String>)> = {
            let mut stmt = self.conn.prepare("SELECT seq, path, hash FROM events WHERE applied = 0 ORDER BY seq")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let head = Self::head(&self.conn, &self.current()?)?;
        let lineage: BTreeSet<i64> = Self::lineage(&self.conn, head)?.into_iter().collect();
        let state = Self::state(&self.conn, head)?;
        for (seq, path, hash) in pending {
            // Only the newest event of a path on the current timeline decides its file.
            if lineage.contains(&seq) && state.get(&path).map(|s| &s.1) == Some(&hash) {
                let content = match &hash {
                    Some(h) => Some(Self::load_blob(&self.conn, h)?),
                    None => None,
                };
                self.write_file(&path, content.as_deref())?;
                fixed += 1;
            }
            self.conn.execute("UPDATE events SET applied = 1 WHERE seq = ?1", [seq])?;
        }
        // A write killed between its temporary file and the rename leaves the temporary file:
        // sweep the folders the log writes to.
        let folders: BTreeSet<PathBuf> = {
            let mut stmt = self.conn.prepare("SELECT DISTINCT path FROM events")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            rows.filter_map(Result::ok).filter_map(|p| self.root.join(p).parent().map(Path::to_path_buf)).collect()
        };
        for dir in folders {
            crate::fsx::sweep_stale_temps(&dir);
        }
        Ok(fixed)
    }

    /// Rewrites the project's files to `timeline` (the current timeline)'s state. Returns how
    /// many files changed.
    ///
    /// Only story files and `showrunner.yaml` are rewritten (never `.showrunner/`, never a file
    /// outside `story/`, `buckets/` and the config), and `showrunner.yaml` is never removed: a
    /// timeline that has none of its own (forked before the config was recorded) keeps the
    /// current one, which is then recorded on it, so the folder stays a project and every
    /// timeline can be switched back to.
    fn materialize(&mut self, timeline: &str) -> Result<usize, HistoryError> {
        let head = Self::head(&self.conn, timeline)?;
        let target = Self::state(&self.conn, head)?;
        // Every path any timeline knows: files the target lacks are removed.
        let known: Vec<String> = {
            let mut stmt = self.conn.prepare("SELECT DISTINCT path FROM events")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut changed = 0;
        let mut keep_config = false;
        for path in known {
            if classify(&path).is_none() || checked_path(&path).is_err() {
                continue;
            }
            let want = target.get(&path).and_then(|s| s.1.clone());
            if want.is_none() && path == CONFIG_FILE {
                keep_config = true;
                continue;
            }
            let abs = self.root.join(&path);
            let have = std::fs::read(&abs).ok().map(|b| content_hash(&b));
            if have == want {
                continue;
            }
            let content = match &want {
                Some(h) => Some(Self::load_blob(&self.conn, h)?),
                None => None,
            };
            self.write_file(&path, content.as_deref())?;
            changed += 1;
        }
        if keep_config && self.root.join(CONFIG_FILE).is_file() {
            // The timeline keeps the config it was switched to with, in its own lineage too.
            self.record_many_alone(&[CONFIG_FILE.to_string()], "user")?;
        }
        Ok(changed)
    }

    /// Creates a timeline forked from the current head, or from `from` (an event id or seq).
    pub fn create_timeline(&mut self, name: &str, from: Option<&str>) -> Result<Timeline, HistoryError> {
        if !is_valid_id(name) {
            return Err(HistoryError::BadName(name.to_string()));
        }
        self.exclusive(|h| h.create_timeline_alone(name, from))
    }

    fn create_timeline_alone(&mut self, name: &str, from: Option<&str>) -> Result<Timeline, HistoryError> {
        self.record_all("user")?;
        let exists: bool = self
            .conn
            .query_row("SELECT 1 FROM timelines WHERE name = ?1", [name], |_| Ok(true))
            .optional()?
            .unwrap_or(false);
        if exists {
            return Err(HistoryError::TimelineExists(name.to_string()));
        }
        let fork = match from {
            None => Self::head(&self.conn, &self.current()?)?,
            Some(f) => {
                let e = Self::event_by(&self.conn, "id", f)?
                    .or(if f.chars().all(|c| c.is_ascii_digit()) {
                        Self::event_by(&self.conn, "seq", f)?
                    } else {
                        None
                    })
                    .ok_or_else(|| HistoryError::NoEvent(f.to_string()))?;
                Some(e.seq)
            }
        };
        self.conn.execute(
            "INSERT INTO timelines(name, head, forked_from, created) VALUES (?1, ?2, ?2, ?3)",
            params![name, fork, now_ms()],
        )?;
        Ok(self.timelines()?.into_iter().find(|t| t.name == name).expect("just created"))
    }

    /// Records unsaved changes on the current timeline, then rewrites the files to `name`'s state.
    /// Returns how many files changed on disk.
    pub fn switch(&mut self, name: &str) -> Result<usize, HistoryError> {
        self.exclusive(|h| h.switch_alone(name))
    }

    fn switch_alone(&mut self, name: &str) -> Result<usize, HistoryError> {
        Self::head(&self.conn, name)?;
        self.record_all("user")?;
        let tx = crate::sqlite::write_transaction(&mut self.conn)?;
        tx.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('switching', ?1)", [name])?;
        tx.execute("UPDATE meta SET value = ?1 WHERE key = 'current'", [name])?;
        tx.commit()?;
        fault("mid-switch");
        let changed = self.materialize(name)?;
        self.conn.execute("DELETE FROM meta WHERE key = 'switching'", [])?;
        Ok(changed)
    }

    pub fn timelines(&self) -> Result<Vec<Timeline>, HistoryError> {
        let current = self.current()?;
        let rows: Vec<(String, Option<i64>, Option<i64>)> = {
            let mut stmt = self.conn.prepare("SELECT name, head, forked_from FROM timelines ORDER BY created, name")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        rows.into_iter()
            .map(|(name, head, forked_from)| {
                let events = Self::lineage(&self.conn, head)?.len();
                Ok(Timeline { current: name == current, name, head, forked_from, events })
            })
            .collect()
    }

    /// Events of the current timeline, newest first; only those of `path` when given.
    pub fn log(&self, path: Option<&str>) -> Result<Vec<Event>, HistoryError> {
        let head = Self::head(&self.conn, &self.current()?)?;
        let mut out = Vec::new();
        for seq in Self::lineage(&self.conn, head)? {
            if let Some(e) = Self::event_by(&self.conn, "seq", &seq.to_string())? {
                if path.is_none_or(|p| e.path == p) {
                    out.push(e);
                }
            }
        }
        Ok(out)
    }

    /// Every change on the current timeline, oldest first, as `(time, path, content hash)`
    /// (`None` for a deletion): what [`crate::progress`] counts words from.
    pub fn changes(&self) -> Result<Vec<(i64, String, Option<String>)>, HistoryError> {
        let head = Self::head(&self.conn, &self.current()?)?;
        let mut stmt = self.conn.prepare_cached("SELECT time, path, hash FROM events WHERE seq = ?1")?;
        let mut out = Vec::new();
        for seq in Self::lineage(&self.conn, head)?.into_iter().rev() {
            out.push(stmt.query_row([seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?);
        }
        Ok(out)
    }

    /// Bytes the log takes on disk (database and write-ahead log).
    pub fn size_on_disk(&self) -> u64 {
        let p = events_path(&self.root);
        ["", "-wal"].iter().filter_map(|s| std::fs::metadata(format!("{}{s}", p.display())).ok()).map(|m| m.len()).sum()
    }

    /// Paths whose file on disk differs from the current timeline's state in the log (content,
    /// or presence). Empty after a clean start: the crash tests' check that nothing was lost or
    /// half-written. Unrecorded hand edits show up here too.
    pub fn drift(&self) -> Result<Vec<String>, HistoryError> {
        let head = Self::head(&self.conn, &self.current()?)?;
        let state = Self::state(&self.conn, head)?;
        let mut out: Vec<String> = state
            .iter()
            .filter(|(path, (_, want))| {
                let have = std::fs::read(self.root.join(path)).ok().map(|b| content_hash(&b));
                &have != want
            })
            .map(|(p, _)| p.clone())
            .collect();
        out.sort();
        Ok(out)
    }

    /// Versions of every path on the current timeline (for the write path's callers).
    pub fn versions(&self) -> Result<HashMap<String, i64>, HistoryError> {
        let head = Self::head(&self.conn, &self.current()?)?;
        Ok(Self::state(&self.conn, head)?.into_iter().map(|(p, (v, _))| (p, v)).collect())
    }
}

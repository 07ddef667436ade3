//! Durable runs at `.showrunner/runs.db`: each pipeline run is a job row (state, priority,
//! attempts, lease, last error) with the whole run record (steps, outputs, model exchanges) as
//! JSON, saved after every step so a crash or restart resumes where the run stood.
//!
//! The lease is the pid of the process driving the run: the one that saves it (a new run, every
//! step) or claims it to resume. An unfinished run (`queued`, `running`, `waiting`) whose lease
//! holder has died is *interrupted*: [`RunRow::live_state`] and [`Runs::live_state`] say so,
//! while the stored state stays as it was, so resuming continues from it.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::StoreError;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS runs(
    id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, scene TEXT NOT NULL, state TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, lease TEXT,
    last_error TEXT, created INTEGER NOT NULL, updated INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS spend(
    id INTEGER PRIMARY KEY, call TEXT NOT NULL, day INTEGER NOT NULL, tokens INTEGER NOT NULL,
    settled INTEGER NOT NULL DEFAULT 0, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS spend_day ON spend(day);
"#;

/// Columns added after the first release, for run stores made before them.
const ADDED: &[(&str, &str)] = &[("batch", "TEXT"), ("cancel", "INTEGER NOT NULL DEFAULT 0"), ("needs", "TEXT")];

pub struct Runs {
    conn: Connection,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunRow {
    pub id: String,
    pub pipeline: String,
    pub scene: String,
    /// The state as saved; what to show is [`RunRow::live_state`].
    pub state: String,
    pub updated: i64,
    /// The pid of the process that drives (or last drove) the run.
    pub lease: Option<u32>,
    /// The batch the run is part of (`showrunner batch`).
    pub batch: Option<String>,
}

/// The state shown for a run whose process died before it finished.
pub const INTERRUPTED: &str = "interrupted";

impl RunRow {
    /// Unfinished, and no live process drives it: its lease holder has died, or it has none.
    pub fn interrupted(&self) -> bool {
        interrupted(&self.state, self.lease)
    }

    /// The state to show: [`INTERRUPTED`] for an interrupted run, else the stored state.
    pub fn live_state(&self) -> &str {
        if self.interrupted() {
            INTERRUPTED
        } else {
            &self.state
        }
    }
}

fn interrupted(state: &str, lease: Option<u32>) -> bool {
    // A run waiting at a gate with no lease was parked for whoever takes it (a proposal from an
    // outside agent, a batch's gate); a queued one with no lease waits for a worker: neither
    // was interrupted.
    if matches!(state, "waiting" | "queued") && lease.is_none() {
        return false;
    }
    let unfinished = matches!(state, "queued" | "running" | "waiting");
    unfinished && lease.map_or(Some(false), process_alive) == Some(false)
}

/// Whether process `pid` is alive; `None` where that cannot be told (no `/proc`: leases are not
/// enforced there). A process that has exited but is not reaped yet (a zombie) is not alive.
pub(crate) fn process_alive(pid: u32) -> Option<bool> {
    if pid == std::process::id() {
        return Some(true);
    }
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return None;
    }
    match std::fs::read_to_string(proc.join(pid.to_string()).join("stat")) {
        Ok(stat) => Some(!stat_says_exited(&stat)),
        Err(_) => Some(false),
    }
}

/// Whether a `/proc/<pid>/stat` line is of a process that has exited: its state (the field after
/// the command name, which is in parentheses and may hold any character) is `Z` or `X`.
fn stat_says_exited(stat: &str) -> bool {
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next());
    matches!(state, Some('Z' | 'X'))
}

fn lease_pid(lease: Option<String>) -> Option<u32> {
    lease.and_then(|l| l.parse().ok())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl Runs {
    /// Where a project's runs are kept.
    pub fn path(root: &Path) -> std::path::PathBuf {
        root.join(".showrunner").join("runs.db")
    }

    pub fn open(root: &Path) -> Result<Runs, StoreError> {
        let path = Runs::path(root);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Io(dir.to_path_buf(), e))?;
        }
        let conn = crate::sqlite::open(&path, std::time::Duration::from_secs(30))?;
        // A run is saved after every step: committed to the log without waiting for the disk
        // (a killed process loses nothing; a power cut may lose the last steps, which run again).
        conn.execute_batch("PRAGMA synchronous = NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        let have: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('runs')")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for (column, decl) in ADDED {
            if !have.iter().any(|h| h == column) {
                // Two processes opening an old store at once: the second's ALTER fails harmlessly.
                let _ = conn.execute_batch(&format!("ALTER TABLE runs ADD COLUMN {column} {decl}"));
            }
        }
        // The queue in the order runs are taken, with what a take looks at (its lease, what it
        // needs): a take reads the index alone, never a row, whose 12 KB record lies between.
        conn.execute_batch(
            "DROP INDEX IF EXISTS runs_queue;
             CREATE INDEX IF NOT EXISTS runs_take ON runs(batch, priority DESC, created, id, lease, needs)
             WHERE state IN ('queued', 'running') AND cancel = 0",
        )?;
        Ok(Runs { conn })
    }

    /// Saves a run record (insert or update), with its state and last error for listing. The
    /// saving process becomes the run's lease holder: only the process driving a run saves it
    /// (after [`Runs::claim`] when it resumes one).
    pub fn save(
        &self,
        id: &str,
        pipeline: &str,
        scene: &str,
        state: &str,
        error: Option<&str>,
        data: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        self.conn.execute(
            "INSERT INTO runs(id, pipeline, scene, state, attempts, last_error, created, updated, data, lease) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?6, ?7, ?8)
             ON CONFLICT(id) DO UPDATE SET state = ?4, last_error = ?5, updated = ?6, data = ?7, lease = ?8",
            params![id, pipeline, scene, state, error, now, data.to_string(), std::process::id().to_string()],
        )?;
        Ok(())
    }

    pub fn load(&self, id: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let data: Option<String> =
            self.conn.query_row("SELECT data FROM runs WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        Ok(data.and_then(|d| serde_json::from_str(&d).ok()))
    }

    /// Marks a resumed run (one more attempt).
    pub fn touch_attempt(&self, id: &str) -> Result<(), StoreError> {
        self.conn
            .execute("UPDATE runs SET attempts = attempts + 1, updated = ?2 WHERE id = ?1", params![id, now_ms()])?;
        Ok(())
    }

    /// Takes the run's lease for this process. Refused while another live process holds it (a
    /// `showrunner run` in a terminal and the editor's server never drive one run together).
    /// Read and write are one transaction that holds the write lock from its start, so of two
    /// processes claiming a run at once, the second sees the first one's lease.
    pub fn claim(&self, id: &str) -> Result<bool, StoreError> {
        let me = std::process::id();
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let holder: Option<Option<String>> =
            tx.query_row("SELECT lease FROM runs WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        if let Some(pid) = lease_pid(holder.flatten()) {
            if pid != me && process_alive(pid) == Some(true) {
                return Ok(false);
            }
        }
        tx.execute("UPDATE runs SET lease = ?2 WHERE id = ?1", params![id, me.to_string()])?;
        tx.commit()?;
        Ok(true)
    }

    /// Gives up this process's lease on run `id`, so any process may take it (a proposal parked
    /// at its gate for an editor or a terminal to drive).
    pub fn release(&self, id: &str) -> Result<(), StoreError> {
        self.conn.execute("UPDATE runs SET lease = NULL WHERE id = ?1", params![id])?;
        Ok(())
    }

    /// The state to show for run `id` (`None`: no such run): [`INTERRUPTED`] when it is
    /// unfinished and its lease holder has died, else its stored state.
    pub fn live_state(&self, id: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String, Option<String>)> = self
            .conn
            .query_row("SELECT state, lease FROM runs WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(row.map(
            |(state, lease)| {
                if interrupted(&state, lease_pid(lease)) {
                    INTERRUPTED.to_string()
                } else {
                    state
                }
            },
        ))
    }

    /// Reserves `tokens` of today's (UTC) budget of `limit` for a model call (`call` names it),
    /// before the call: what today's calls spent, and what calls under way reserved, count. One
    /// transaction holding the write lock from its start, so concurrent calls (threads, workers,
    /// an editor and a terminal) can never reserve more than the budget together. `Err(used)`:
    /// refused, with what is spent or reserved today.
    pub fn reserve(&self, call: &str, limit: u64, tokens: u64) -> Result<Result<Reservation, u64>, StoreError> {
        let now = now_ms();
        let day = day_of(now);
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let used = spent_on(&tx, day)?;
        if used.saturating_add(tokens) > limit {
            return Ok(Err(used));
        }
        tx.execute(
            "INSERT INTO spend(call, day, tokens, at) VALUES (?1, ?2, ?3, ?4)",
            params![call, day, tokens as i64, now],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(Ok(Reservation(id)))
    }

    /// After the call: what it really spent replaces what was reserved. A reservation never
    /// settled (its process died mid-call) keeps counting in full: the call may have been made.
    pub fn settle(&self, reservation: Reservation, tokens: u64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE spend SET tokens = ?2, settled = 1 WHERE id = ?1",
            params![reservation.0, tokens as i64],
        )?;
        Ok(())
    }

    /// Tokens spent or reserved today (UTC).
    pub fn spent_today(&self) -> Result<u64, StoreError> {
        spent_on(&self.conn, day_of(now_ms()))
    }

    /// Puts a run in the queue (no process drives it yet) as part of `batch`; higher `priority`
    /// runs are taken first, then the oldest. It is taken only once every run it `needs` has
    /// succeeded; when one of them fails or is cancelled, so does it ([`Runs::take`]).
    #[allow(clippy::too_many_arguments)]
    pub fn enqueue(
        &self,
        id: &str,
        pipeline: &str,
        scene: &str,
        priority: i64,
        batch: Option<&str>,
        needs: &[String],
        data: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let needs = (!needs.is_empty()).then(|| serde_json::to_string(needs).unwrap_or_default());
        self.conn.execute(
            "INSERT INTO runs(id, pipeline, scene, state, priority, attempts, created, updated, data, batch, needs) VALUES (?1, ?2, ?3, 'queued', ?4, 0, ?5, ?5, ?6, ?7, ?8)",
            params![id, pipeline, scene, priority, now, data.to_string(), batch, needs],
        )?;
        Ok(())
    }

    /// Takes the next run of the queue (of `batch` only, when given) for this process: the
    /// highest priority, then the oldest, among those queued or left running by a process that
    /// died (its lease has expired with it; it goes on from its last saved step). `None`: nothing
    /// to take. Read and lease are one transaction, so no two workers take the same run.
    pub fn take(&self, batch: Option<&str>) -> Result<Option<(String, serde_json::Value)>, StoreError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        // Runs that can never be taken: a run they need failed or was cancelled.
        let mut doomed: Vec<(String, String)> = Vec::new();
        let found = {
            // The records are read for the one run taken only: sorting them all cost 20 ms a take
            // with 1,000 queued.
            let mut stmt = match batch {
                Some(_) => tx.prepare_cached(
                    "SELECT id, lease, needs FROM runs INDEXED BY runs_take WHERE batch = ?1
                     AND state IN ('queued', 'running') AND cancel = 0 ORDER BY priority DESC, created, id",
                )?,
                None => tx.prepare_cached(
                    "SELECT id, lease, needs FROM runs WHERE state IN ('queued', 'running') AND cancel = 0
                     AND ?1 IS NULL ORDER BY priority DESC, created, id",
                )?,
            };
            let mut rows = stmt.query([batch])?;
            let mut found = None;
            while let Some(r) = rows.next()? {
                let lease: Option<String> = r.get(1)?;
                if lease_pid(lease).is_some_and(|pid| process_alive(pid) != Some(false)) {
                    continue;
                }
                let id: String = r.get(0)?;
                match needs_met(&tx, r.get(2)?)? {
                    Met::Yes => {
                        found = Some(id);
                        break;
                    }
                    Met::NotYet => {}
                    Met::Never(why) => doomed.push((id, why)),
                }
            }
            found
        };
        for (id, why) in &doomed {
            tx.execute(
                "UPDATE runs SET state = 'failed', last_error = ?2, updated = ?3 WHERE id = ?1",
                params![id, why, now_ms()],
            )?;
        }
        let Some(id) = found else {
            tx.commit()?;
            return Ok(None);
        };
        let data: String = tx.query_row("SELECT data FROM runs WHERE id = ?1", [&id], |r| r.get(0))?;
        tx.execute(
            "UPDATE runs SET lease = ?2, attempts = attempts + 1, updated = ?3 WHERE id = ?1",
            params![id, std::process::id().to_string(), now_ms()],
        )?;
        tx.commit()?;
        Ok(Some((id, serde_json::from_str(&data).unwrap_or_default())))
    }

    /// Whether runs of `batch` wait for runs that are still to finish (queued or running): a
    /// worker with nothing to take waits for them instead of ending.
    pub fn waiting_on_others(&self, batch: &str) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM runs r, json_each(r.needs) j JOIN runs d ON d.id = j.value
             WHERE r.batch = ?1 AND r.state = 'queued' AND r.cancel = 0 AND r.needs IS NOT NULL
             AND d.state IN ('queued', 'running') AND d.cancel = 0)",
            [batch],
            |r| r.get(0),
        )?)
    }

    /// Marks run `id` failed with `error`, its record left as it is (one that cannot be read is
    /// kept for whoever can).
    pub fn fail(&self, id: &str, error: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE runs SET state = 'failed', last_error = ?2, updated = ?3 WHERE id = ?1",
            params![id, error, now_ms()],
        )?;
        Ok(())
    }

    /// Asks the runs of `batch` to stop: queued ones are cancelled now, running ones at their
    /// next step ([`Runs::cancel_asked`]). How many were asked.
    pub fn cancel_batch(&self, batch: &str) -> Result<usize, StoreError> {
        let now = now_ms();
        self.conn.execute(
            "UPDATE runs SET state = 'cancelled', updated = ?2 WHERE batch = ?1 AND state = 'queued'",
            params![batch, now],
        )?;
        Ok(self.conn.execute(
            "UPDATE runs SET cancel = 1, updated = ?2 WHERE batch = ?1 AND state IN ('queued', 'running', 'waiting', 'cancelled') AND cancel = 0",
            params![batch, now],
        )?)
    }

    /// Whether run `id` was asked to stop ([`Runs::cancel_batch`]).
    pub fn cancel_asked(&self, id: &str) -> Result<bool, StoreError> {
        let v: Option<i64> =
            self.conn.query_row("SELECT cancel FROM runs WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        Ok(v == Some(1))
    }

    /// Puts the failed runs of `batch` back in the queue (they go on from their failed step);
    /// how many.
    pub fn retry_failed(&self, batch: &str) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE runs SET state = 'queued', lease = NULL, cancel = 0, updated = ?2 WHERE batch = ?1 AND state = 'failed'",
            params![batch, now_ms()],
        )?)
    }

    /// The runs of `batch`, oldest first.
    pub fn batch_rows(&self, batch: &str) -> Result<Vec<RunRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, pipeline, scene, state, updated, lease, batch FROM runs WHERE batch = ?1 ORDER BY priority DESC, created, id",
        )?;
        let rows = stmt.query_map([batch], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The batches, newest first: id and when the first run was queued.
    pub fn batches(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT batch, MIN(created) AS c FROM runs WHERE batch IS NOT NULL GROUP BY batch ORDER BY c DESC",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn list(&self) -> Result<Vec<RunRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, pipeline, scene, state, updated, lease, batch FROM runs ORDER BY updated DESC, id")?;
        let rows = stmt.query_map([], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The UTC day (days since the Unix epoch) of a time in milliseconds.
fn day_of(ms: i64) -> i64 {
    ms.div_euclid(86_400_000)
}

/// Tokens spent or reserved on `day`.
fn spent_on(conn: &Connection, day: i64) -> Result<u64, StoreError> {
    let used: i64 = conn.query_row("SELECT COALESCE(SUM(tokens), 0) FROM spend WHERE day = ?1", [day], |r| r.get(0))?;
    Ok(used.max(0) as u64)
}

/// A reservation of today's token budget ([`Runs::reserve`]), settled after its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation(i64);

/// A row of `SELECT id, pipeline, scene, state, updated, lease, batch`.
/// Whether a queued run's needs are met.
enum Met {
    Yes,
    NotYet,
    /// One failed, was cancelled or is gone: why the run cannot go on.
    Never(String),
}

fn needs_met(tx: &Transaction<'_>, needs: Option<String>) -> Result<Met, StoreError> {
    let Some(needs) = needs else { return Ok(Met::Yes) };
    let mut stmt = tx.prepare_cached(
        "SELECT j.value, d.state FROM json_each(?1) j LEFT JOIN runs d ON d.id = j.value ORDER BY j.key",
    )?;
    let mut rows = stmt.query([&needs])?;
    let mut met = Met::Yes;
    while let Some(r) = rows.next()? {
        let (need, state): (String, Option<String>) = (r.get(0)?, r.get(1)?);
        match state.as_deref() {
            Some("succeeded") => {}
            Some("failed" | "cancelled") | None => {
                let what = state.map(|s| format!("which {s}")).unwrap_or_else(|| "which is gone".into());
                return Ok(Met::Never(format!("it needs run {need}, {what}")));
            }
            Some(_) => met = Met::NotYet,
        }
    }
    Ok(met)
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    Ok(RunRow {
        id: r.get(0)?,
        pipeline: r.get(1)?,
        scene: r.get(2)?,
        state: r.get(3)?,
        updated: r.get(4)?,
        lease: lease_pid(r.get(5)?),
        batch: r.get(6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pid of a process that has exited and been reaped.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        assert!(child.wait().unwrap().success());
        pid
    }

    fn set_lease(runs: &Runs, id: &str, pid: u32) {
        runs.conn.execute("UPDATE runs SET lease = ?2 WHERE id = ?1", params![id, pid.to_string()]).unwrap();
    }

    fn row(runs: &Runs, id: &str) -> RunRow {
        runs.list().unwrap().into_iter().find(|r| r.id == id).unwrap()
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn an_unfinished_run_whose_holder_died_is_interrupted() {
        let tmp = tempfile::tempdir().unwrap();
        let runs = Runs::open(tmp.path()).unwrap();
        let data = serde_json::json!({});
        runs.save("r1", "draft-scene", "story/a.md", "running", None, &data).unwrap();
        runs.save("r2", "draft-scene", "story/a.md", "waiting", None, &data).unwrap();
        runs.save("r3", "draft-scene", "story/a.md", "succeeded", None, &data).unwrap();
        // Held by this (live) process: shown as stored.
        assert_eq!(row(&runs, "r1").lease, Some(std::process::id()));
        assert_eq!(row(&runs, "r1").live_state(), "running");
        assert_eq!(runs.live_state("r1").unwrap().as_deref(), Some("running"));

        let dead = dead_pid();
        for id in ["r1", "r2", "r3"] {
            set_lease(&runs, id, dead);
        }
        let r1 = row(&runs, "r1");
        assert_eq!((r1.state.as_str(), r1.lease), ("running", Some(dead)), "the stored state is kept");
        assert!(r1.interrupted());
        assert_eq!(r1.live_state(), INTERRUPTED);
        assert_eq!(runs.live_state("r1").unwrap().as_deref(), Some(INTERRUPTED));
        assert_eq!(runs.live_state("r2").unwrap().as_deref(), Some(INTERRUPTED));
        // A finished run is what it is, whoever finished it.
        assert_eq!(row(&runs, "r3").live_state(), "succeeded");
        assert_eq!(runs.live_state("r3").unwrap().as_deref(), Some("succeeded"));
        assert_eq!(runs.live_state("nope").unwrap(), None);
        // Resuming takes the lease: the run is live again, in the state it was stored in.
        assert!(runs.claim("r1").unwrap());
        assert_eq!(runs.live_state("r1").unwrap().as_deref(), Some("running"));
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn the_process_that_saves_or_claims_a_run_holds_its_lease() {
        let tmp = tempfile::tempdir().unwrap();
        let runs = Runs::open(tmp.path()).unwrap();
        let data = serde_json::json!({});
        runs.save("r1", "draft-scene", "story/a.md", "queued", None, &data).unwrap();
        // A later save (an update, not the insert) makes the saver the holder again.
        set_lease(&runs, "r1", dead_pid());
        runs.save("r1", "draft-scene", "story/a.md", "running", None, &data).unwrap();
        assert_eq!(row(&runs, "r1").lease, Some(std::process::id()));
        // Another live process holds it: a claim is refused until that process is gone.
        struct Reaped(std::process::Child);
        impl Drop for Reaped {
            fn drop(&mut self) {
                let _ = self.0.kill();
                let _ = self.0.wait();
            }
        }
        let other = Reaped(std::process::Command::new("sleep").arg("600").spawn().unwrap());
        let pid = other.0.id();
        set_lease(&runs, "r1", pid);
        assert!(!row(&runs, "r1").interrupted());
        assert!(!runs.claim("r1").unwrap());
        assert_eq!(row(&runs, "r1").lease, Some(pid));
        drop(other);
        assert!(row(&runs, "r1").interrupted());
        assert!(runs.claim("r1").unwrap());
        assert_eq!(row(&runs, "r1").lease, Some(std::process::id()));
    }

    #[test]
    fn a_zombie_or_dead_process_has_exited() {
        assert!(stat_says_exited("4242 (showrunner) Z 1 4242 4242 0 -1"));
        assert!(stat_says_exited("4242 (a) b) X 1"));
        assert!(!stat_says_exited("4242 (a) Z) S 1 4242"));
        assert!(!stat_says_exited("4242 (showrunner) R 1 4242"));
    }

    fn queued(runs: &Runs, id: &str, priority: i64, batch: &str) {
        runs.enqueue(id, "p", &format!("story/{id}.md"), priority, Some(batch), &[], &serde_json::json!({ "id": id }))
            .unwrap();
    }

    fn after(runs: &Runs, id: &str, needs: &[&str]) {
        let needs: Vec<String> = needs.iter().map(|n| n.to_string()).collect();
        runs.enqueue(id, "p", "story/x.md", 9, Some("b"), &needs, &serde_json::json!({ "id": id })).unwrap();
    }

    fn finish(runs: &Runs, id: &str, state: &str) {
        runs.save(id, "p", "story/x.md", state, None, &serde_json::json!({ "id": id })).unwrap();
    }

    #[test]
    fn a_run_is_taken_once_what_it_needs_succeeded_and_fails_when_that_failed() {
        let dir = tempfile::tempdir().unwrap();
        let runs = Runs::open(dir.path()).unwrap();
        queued(&runs, "summary-1", 0, "b");
        queued(&runs, "summary-2", 0, "b");
        // Higher priority, but they wait for the summaries (and `check` for `outline`).
        after(&runs, "outline", &["summary-1", "summary-2"]);
        after(&runs, "check", &["outline"]);
        after(&runs, "polish", &["summary-2"]);
        let take = || runs.take(Some("b")).unwrap().map(|(id, _)| id);
        assert!(runs.waiting_on_others("b").unwrap(), "outline waits for the queued summaries");
        assert_eq!(take().as_deref(), Some("summary-1"));
        assert_eq!(take().as_deref(), Some("summary-2"));
        // Both taken, neither finished: nothing to take, but runs wait on them.
        assert_eq!(take(), None);
        assert!(runs.waiting_on_others("b").unwrap());
        finish(&runs, "summary-1", "succeeded");
        assert_eq!(take(), None, "outline needs summary-2 too");
        finish(&runs, "summary-2", "failed");
        // The runs needing the failed one fail, saying why; the chain after them too.
        assert_eq!(take(), None);
        assert_eq!(take(), None);
        let state = |id: &str| row(&runs, id).state;
        assert_eq!(
            (state("outline"), state("polish"), state("check")),
            ("failed".into(), "failed".into(), "failed".into())
        );
        let error: String =
            runs.conn.query_row("SELECT last_error FROM runs WHERE id = 'outline'", [], |r| r.get(0)).unwrap();
        assert_eq!(error, "it needs run summary-2, which failed");
        assert!(!runs.waiting_on_others("b").unwrap());
        // Retried and succeeded: what waited on it is queued again by retry-failed and taken.
        assert_eq!(runs.retry_failed("b").unwrap(), 4);
        assert_eq!(take().as_deref(), Some("summary-2"));
        finish(&runs, "summary-2", "succeeded");
        assert_eq!(take().as_deref(), Some("outline"));
        assert_eq!(take().as_deref(), Some("polish"));
        finish(&runs, "outline", "succeeded");
        assert_eq!(take().as_deref(), Some("check"));
    }

    #[test]
    fn the_queue_gives_the_highest_priority_then_the_oldest_once() {
        let dir = tempfile::tempdir().unwrap();
        let runs = Runs::open(dir.path()).unwrap();
        queued(&runs, "a", 0, "b1");
        queued(&runs, "b", 5, "b1");
        queued(&runs, "c", 0, "b1");
        queued(&runs, "other", 9, "b2");
        // Queued and never taken: waiting for a worker, not interrupted.
        assert_eq!(row(&runs, "a").live_state(), "queued");
        let order: Vec<String> = std::iter::from_fn(|| runs.take(Some("b1")).unwrap().map(|(id, _)| id)).collect();
        assert_eq!(order, ["b", "a", "c"]);
        assert_eq!(runs.take(None).unwrap().map(|(id, _)| id).as_deref(), Some("other"));
        assert_eq!(runs.take(None).unwrap(), None, "each run is taken once");
    }

    #[test]
    fn a_run_whose_worker_died_is_taken_again_and_a_live_workers_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let runs = Runs::open(dir.path()).unwrap();
        queued(&runs, "dead", 0, "b");
        queued(&runs, "live", 0, "b");
        for id in ["dead", "live"] {
            runs.conn.execute("UPDATE runs SET state = 'running' WHERE id = ?1", [id]).unwrap();
        }
        set_lease(&runs, "dead", dead_pid());
        // pid 1 is alive (init): its run is being worked.
        set_lease(&runs, "live", 1);
        let (id, data) = runs.take(Some("b")).unwrap().unwrap();
        assert_eq!((id.as_str(), data["id"].as_str()), ("dead", Some("dead")));
        assert_eq!(runs.take(Some("b")).unwrap(), None);
        let attempts: i64 =
            runs.conn.query_row("SELECT attempts FROM runs WHERE id = 'dead'", [], |r| r.get(0)).unwrap();
        assert_eq!(attempts, 1);
    }

    #[test]
    fn concurrent_reservations_never_exceed_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        Runs::open(dir.path()).unwrap();
        // 8 workers, each with its own connection, try 20 reservations of 100 against 1,000.
        let granted: usize = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..8)
                .map(|w| {
                    let root = dir.path();
                    scope.spawn(move || {
                        let runs = Runs::open(root).unwrap();
                        (0..20).filter(|i| runs.reserve(&format!("w{w}-{i}"), 1000, 100).unwrap().is_ok()).count()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).sum()
        });
        assert_eq!(granted, 10);
        let runs = Runs::open(dir.path()).unwrap();
        assert_eq!(runs.spent_today().unwrap(), 1000);
        assert_eq!(runs.reserve("late", 1000, 1).unwrap(), Err(1000));
        // Settling gives back what a call did not use.
        let r = {
            runs.conn.execute("DELETE FROM spend WHERE id = (SELECT MAX(id) FROM spend)", []).unwrap();
            runs.reserve("x", 1000, 100).unwrap().unwrap()
        };
        runs.settle(r, 30).unwrap();
        assert_eq!(runs.spent_today().unwrap(), 930);
    }

    #[test]
    fn a_run_marked_failed_keeps_its_record() {
        let dir = tempfile::tempdir().unwrap();
        let runs = Runs::open(dir.path()).unwrap();
        queued(&runs, "odd", 0, "b");
        runs.fail("odd", "cannot be read").unwrap();
        assert_eq!(row(&runs, "odd").state, "failed");
        assert_eq!(runs.load("odd").unwrap(), Some(serde_json::json!({ "id": "odd" })));
    }

    #[test]
    fn a_batch_is_cancelled_and_its_failed_runs_retried() {
        let dir = tempfile::tempdir().unwrap();
        let runs = Runs::open(dir.path()).unwrap();
        queued(&runs, "q", 0, "b");
        queued(&runs, "r", 0, "b");
        queued(&runs, "f", 0, "b");
        runs.conn.execute("UPDATE runs SET state = 'running', lease = '1' WHERE id = 'r'", []).unwrap();
        runs.conn.execute("UPDATE runs SET state = 'failed' WHERE id = 'f'", []).unwrap();
        assert_eq!(runs.cancel_batch("b").unwrap(), 2);
        assert_eq!(row(&runs, "q").state, "cancelled");
        assert!(runs.cancel_asked("r").unwrap(), "a running run stops at its next step");
        assert!(!runs.cancel_asked("f").unwrap());
        assert_eq!(runs.retry_failed("b").unwrap(), 1);
        assert_eq!(runs.take(Some("b")).unwrap().map(|(id, _)| id).as_deref(), Some("f"));
    }
}

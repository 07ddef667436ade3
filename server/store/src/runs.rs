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
"#;

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
    // outside agent): it waits, it was not interrupted.
    if state == "waiting" && lease.is_none() {
        return false;
    }
    let unfinished = matches!(state, "queued" | "running" | "waiting");
    unfinished && lease.map_or(Some(false), process_alive) == Some(false)
}

/// Whether process `pid` is alive; `None` where that cannot be told (no `/proc`: leases are not
/// enforced there). A process that has exited but is not reaped yet (a zombie) is not alive.
fn process_alive(pid: u32) -> Option<bool> {
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
        conn.execute_batch(SCHEMA)?;
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

    /// Tokens spent by model calls of runs updated since `since_ms` (for the daily budget).
    pub fn tokens_since(&self, since_ms: i64) -> Result<u64, StoreError> {
        let mut stmt = self.conn.prepare("SELECT data FROM runs WHERE updated >= ?1")?;
        let rows = stmt.query_map([since_ms], |r| r.get::<_, String>(0))?;
        let mut total = 0u64;
        for data in rows {
            let v: serde_json::Value = serde_json::from_str(&data?).unwrap_or_default();
            for e in v["exchanges"].as_array().into_iter().flatten() {
                total += e["prompt_tokens"].as_u64().unwrap_or(0) + e["completion_tokens"].as_u64().unwrap_or(0);
            }
        }
        Ok(total)
    }

    pub fn list(&self) -> Result<Vec<RunRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, pipeline, scene, state, updated, lease FROM runs ORDER BY updated DESC, id")?;
        let rows = stmt.query_map([], |r| {
            Ok(RunRow {
                id: r.get(0)?,
                pipeline: r.get(1)?,
                scene: r.get(2)?,
                state: r.get(3)?,
                updated: r.get(4)?,
                lease: lease_pid(r.get(5)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
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
}

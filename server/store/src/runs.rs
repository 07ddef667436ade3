//! Durable runs at `.showrunner/runs.db`: each pipeline run is a job row (state, priority,
//! attempts, lease, last error) with the whole run record (steps, outputs, model exchanges) as
//! JSON, saved after every step so a crash or restart resumes where the run stood.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

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
    pub state: String,
    pub updated: i64,
}

/// Whether a process is alive (Linux: `/proc/<pid>`; elsewhere leases are not enforced).
fn process_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
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

    /// Saves a run record (insert or update), with its state and last error for listing.
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
             ON CONFLICT(id) DO UPDATE SET state = ?4, last_error = ?5, updated = ?6, data = ?7",
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
    pub fn claim(&self, id: &str) -> Result<bool, StoreError> {
        let me = std::process::id();
        let holder: Option<Option<String>> =
            self.conn.query_row("SELECT lease FROM runs WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        if let Some(Some(lease)) = &holder {
            if let Ok(pid) = lease.parse::<u32>() {
                if pid != me && process_alive(pid) {
                    return Ok(false);
                }
            }
        }
        self.conn.execute("UPDATE runs SET lease = ?2 WHERE id = ?1", params![id, me.to_string()])?;
        Ok(true)
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
        let mut stmt =
            self.conn.prepare("SELECT id, pipeline, scene, state, updated FROM runs ORDER BY updated DESC, id")?;
        let rows = stmt.query_map([], |r| {
            Ok(RunRow { id: r.get(0)?, pipeline: r.get(1)?, scene: r.get(2)?, state: r.get(3)?, updated: r.get(4)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

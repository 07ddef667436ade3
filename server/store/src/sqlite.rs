//! Opening the project's SQLite files (`index.db`, `events.db`, `runs.db`): the settings every
//! connection shares, in one place.
//!
//! Several processes may open the same file at once: the language server, a `showrunner` command
//! in a terminal, a second editor window. Two rules keep them from failing with "database is
//! locked":
//! - every connection waits for locks (`busy_timeout`), and switching a new file to WAL, which
//!   SQLite may refuse at once while another process is doing the same, is retried until then;
//! - a transaction that writes starts as a writer ([`write_transaction`]): one that starts as a
//!   reader and then writes cannot wait, since another writer may have committed since it read.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, Transaction, TransactionBehavior};

/// Opens `path` in WAL mode, waiting up to `wait` for other processes' locks.
pub fn open(path: &Path, wait: Duration) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(wait)?;
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(1);
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(_) => return Ok(conn),
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Begins a transaction that holds the write lock from its first statement.
pub fn write_transaction(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

/// Whether `e` means another connection holds a lock (as opposed to a damaged file).
pub fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked))
}

//! Atomic file writes: a temporary file, fsync, rename, fsync of the folder.
//!
//! This module sits below the history: [`crate::history::History::write`] is the one write path
//! for project files; it appends the event, then calls [`write_atomic`]. Only `showrunner init`
//! (which creates a project from nothing) writes project files without an event.

use std::io::Write;
use std::path::Path;

use crate::StoreError;

/// Writes `bytes` to `path` atomically: a temporary file beside it, fsync, rename, fsync of the
/// folder. A crash leaves either the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    write_atomic_opts(path, bytes, true)
}

/// Removes temporary files of [`write_atomic`] in `dir` whose writer died before renaming them (a
/// crash or a kill mid-write). Only `.NAME.tmp-PID-N` files of processes that no longer run are
/// touched. Returns how many were removed.
pub fn sweep_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let me = std::process::id();
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(tag) = name.strip_prefix('.').and_then(|n| n.rsplit_once(".tmp-")).map(|(_, tag)| tag) else {
            continue;
        };
        let pid = tag.split_once('-').map_or(tag, |(pid, _)| pid);
        let Ok(pid) = pid.parse::<u32>() else { continue };
        let alive = pid == me || Path::new("/proc").join(pid.to_string()).exists() || !Path::new("/proc/self").exists();
        if !alive && std::fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// [`write_atomic`], optionally leaving the folder's fsync to the caller (who writes many files
/// into a few folders and syncs each folder once, with [`sync_dir`]).
pub fn write_atomic_opts(path: &Path, bytes: &[u8], sync_folder: bool) -> Result<(), StoreError> {
    let io = |e| StoreError::Io(path.to_path_buf(), e);
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    // Unique per write, so two threads writing one file never share a temporary file; the PID
    // tells `sweep_stale_temps` whose it is.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        if sync_folder {
            sync_dir(dir);
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Makes a folder's entries (renames into it) durable.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

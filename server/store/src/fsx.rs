//! Writing project files: atomically (temporary file, fsync, rename), never outside the project.
//!
//! [`crate::history::History::write`] is the one write path for project files: it appends the
//! event, then calls [`write_atomic`]. Only `showrunner init` (which creates a project from
//! nothing) writes files without an event.

use std::io::Write;
use std::path::{Path, PathBuf};

use showrunner_model::id::{is_valid_id, slugify};
use showrunner_model::kind::Kinds;

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

#[derive(Debug, Clone)]
pub struct NewBucket<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub aliases: &'a [String],
    pub parent: Option<&'a str>,
}

/// Creates `buckets/<kind>/<id>.yaml` for a new bucket, with an id made from its name that no
/// existing bucket uses (`taken`), through the history write path. Returns the id and the path.
pub fn create_bucket(
    root: &Path,
    kinds: &Kinds,
    new: &NewBucket<'_>,
    taken: &dyn Fn(&str) -> bool,
    actor: &str,
) -> Result<(String, PathBuf), String> {
    let name = new.name.trim();
    if name.is_empty() || name.contains(['\n', '\r']) {
        return Err("a bucket needs a one-line name".into());
    }
    if !kinds.contains(new.kind) || !is_valid_id(new.kind) {
        let known: Vec<&str> = kinds.names().collect();
        return Err(format!("unknown kind `{}`; known kinds are {}", new.kind, known.join(", ")));
    }
    if let Some(p) = new.parent {
        if !is_valid_id(p) {
            return Err(format!("parent `{p}` is not a valid bucket id"));
        }
    }
    let base = slugify(name).ok_or_else(|| format!("cannot make an id from `{name}`"))?;
    let dir = root.join("buckets").join(new.kind);
    let mut id = base.clone();
    let mut n = 2;
    while taken(&id) || dir.join(format!("{id}.yaml")).exists() {
        id = format!("{base}-{n}");
        n += 1;
    }
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut yaml = format!("id: {id}\nkind: {}\nname: {}\n", new.kind, quote(name));
    if !new.aliases.is_empty() {
        let list: Vec<String> = new.aliases.iter().map(|a| quote(a)).collect();
        yaml.push_str(&format!("aliases: [{}]\n", list.join(", ")));
    }
    if let Some(p) = new.parent {
        yaml.push_str(&format!("parent: {p}\n"));
    }
    yaml.push_str("summary: \n");
    let path = dir.join(format!("{id}.yaml"));
    let rel = crate::discover::relative(root, &path);
    let mut history = crate::history::History::open(root).map_err(|e| e.to_string())?;
    history
        .write(&crate::history::Change {
            path: &rel,
            content: Some(yaml.as_bytes()),
            expected_version: Some(0),
            actor,
            kind: "bucket.create",
            container: Some(&id),
            payload: serde_json::json!({ "kind": new.kind, "name": name }),
            id: None,
        })
        .map_err(|e| e.to_string())?;
    Ok((id, path))
}

//! Which files editors have open: `.showrunner/editing/<pid>` (one project-relative path per
//! line) for each running language server, rewritten when a document of the project opens or
//! closes. A process that writes story files outside an editor — a terminal run, a batch, the MCP
//! server's approved proposals — asks [`open_elsewhere`] first: nothing is written to a file a
//! writer has open (the editor applies such a change to its buffer itself, or the writer closes
//! the file). A server that died leaves its file behind; a dead pid holds nothing.

use std::path::{Path, PathBuf};

use crate::StoreError;

fn folder(root: &Path) -> PathBuf {
    root.join(".showrunner").join("editing")
}

/// This process has exactly `files` of the project at `root` open (none: its entry goes).
pub fn publish(root: &Path, files: &[String]) -> Result<(), StoreError> {
    let path = folder(root).join(std::process::id().to_string());
    if files.is_empty() {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Io(path, e)),
            _ => Ok(()),
        };
    }
    let dir = folder(root);
    std::fs::create_dir_all(&dir).map_err(|e| StoreError::Io(dir, e))?;
    let mut text = files.join("\n");
    text.push('\n');
    crate::fsx::write_atomic(&path, text.as_bytes())
}

/// The pid of another live process (an editor's language server) that has the file `rel` of
/// the project at `root` open.
pub fn open_elsewhere(root: &Path, rel: &str) -> Option<u32> {
    let me = std::process::id();
    std::fs::read_dir(folder(root)).ok()?.flatten().find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        if pid == me || crate::runs::process_alive(pid) == Some(false) {
            return None;
        }
        let listed = std::fs::read_to_string(entry.path()).ok()?;
        listed.lines().any(|l| l == rel).then_some(pid)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_open_in_a_live_process_is_reported_and_a_dead_ones_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // This process's own list never counts against it.
        publish(root, &["story/a.md".into()]).unwrap();
        assert_eq!(open_elsewhere(root, "story/a.md"), None);
        // pid 1 (init) is alive; a reaped child is not.
        std::fs::write(folder(root).join("1"), "story/b.md\nbuckets/x.yaml\n").unwrap();
        assert_eq!(open_elsewhere(root, "story/b.md"), Some(1));
        assert_eq!(open_elsewhere(root, "story/c.md"), None);
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        std::fs::write(folder(root).join(dead.to_string()), "story/c.md\n").unwrap();
        assert_eq!(open_elsewhere(root, "story/c.md"), None);
        publish(root, &[]).unwrap();
        assert!(!folder(root).join(std::process::id().to_string()).exists());
    }
}

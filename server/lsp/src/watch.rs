//! The server's own file watcher (the `notify` crate): changes that other programs make to a
//! project's story files and config — another editor, `git checkout`, a terminal `showrunner
//! run` — reach the session even when the client watches nothing (Emacs/eglot, Helix, clients
//! without dynamic registration). Events are gathered until the disk is quiet for a moment (a
//! save by rename is several events) and handed over as one batch of paths. What the client also
//! reports is taken twice harmlessly: a reload whose content the session already has changes
//! nothing, and the history records a snapshot only when it differs from the last one.
//!
//! One file under `.showrunner/` counts: `inbox`, which `showrunner mcp` writes when it parks an
//! outside agent's proposal as a run waiting at a gate. It wakes [`DiskWatch::inbox`], and the
//! session takes the waiting run into its approval queue. And one more: `runs.db`'s write-ahead
//! log, whose contents change when any process saves a run; its project's recalled defects
//! ([`crate::recall`]) are read again. Only writes count there: a reader opening and closing
//! the file (the recall itself) creates and removes the log but writes nothing into it.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

/// How long the disk must be quiet before a batch goes out.
const QUIET: Duration = Duration::from_millis(120);

/// Watches project roots; batches of changed story paths go to `sink`.
pub struct DiskWatch {
    watcher: Mutex<Option<notify::RecommendedWatcher>>,
    watched: Arc<Mutex<HashSet<PathBuf>>>,
    inbox: Arc<tokio::sync::Notify>,
}

impl DiskWatch {
    /// Starts the watcher (nothing watched yet). Without a working watcher (no inotify, say)
    /// the session goes on with the client's reports alone.
    /// `runs_written` is called with a project's root when its `runs.db` was written.
    pub fn start(
        sink: tokio::sync::mpsc::UnboundedSender<Vec<PathBuf>>,
        runs_written: impl Fn(&Path) + Send + 'static,
    ) -> DiskWatch {
        let (tx, rx) = std::sync::mpsc::channel::<PathBuf>();
        let watched: Arc<Mutex<HashSet<PathBuf>>> = Arc::default();
        let roots = watched.clone();
        let inbox = Arc::new(tokio::sync::Notify::new());
        let wake = inbox.clone();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
            Ok(e) if !e.kind.is_access() => {
                let written = matches!(e.kind, notify::EventKind::Modify(notify::event::ModifyKind::Data(_)));
                for p in e.paths {
                    if written || !p.ends_with(runs_log()) {
                        let _ = tx.send(p);
                    }
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("file watcher: {e}"),
        });
        let watcher = match watcher {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(
                    "no file watcher ({e}): changes outside the editor are seen when the editor reports them"
                );
                None
            }
        };
        let spawned = std::thread::Builder::new().name("disk-watch".into()).spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut batch = BTreeSet::new();
                batch.insert(first);
                while let Ok(p) = rx.recv_timeout(QUIET) {
                    batch.insert(p);
                }
                let paths: Vec<PathBuf> = {
                    let roots = roots.lock().unwrap_or_else(|e| e.into_inner());
                    if batch.iter().any(|p| roots.iter().any(|r| p.strip_prefix(r).is_ok_and(is_inbox))) {
                        wake.notify_one();
                    }
                    for r in roots.iter().filter(|r| batch.iter().any(|p| p.strip_prefix(r).is_ok_and(is_runs_log))) {
                        runs_written(r);
                    }
                    batch
                        .into_iter()
                        .filter(|p| {
                            // Judged below the project's root: the project itself may live in a
                            // hidden folder.
                            let rel =
                                roots.iter().filter_map(|r| p.strip_prefix(r).ok()).min_by_key(|r| r.as_os_str().len());
                            rel.is_some_and(is_story_path)
                        })
                        .collect()
                };
                if !paths.is_empty() && sink.send(paths).is_err() {
                    return;
                }
            }
        });
        if let Err(e) = spawned {
            tracing::error!("cannot start the file watcher's thread: {e}");
        }
        DiskWatch { watcher: Mutex::new(watcher), watched, inbox }
    }

    /// Woken when a project's `.showrunner/inbox` changes: a proposal is waiting in its run store.
    pub fn inbox(&self) -> Arc<tokio::sync::Notify> {
        self.inbox.clone()
    }

    /// Watches the project at `root` (once).
    pub fn watch(&self, root: &Path) {
        if !self.watched.lock().unwrap_or_else(|e| e.into_inner()).insert(root.to_path_buf()) {
            return;
        }
        if let Some(w) = self.watcher.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            match w.watch(root, RecursiveMode::Recursive) {
                Ok(()) => tracing::info!(root = %root.display(), "watching the project's files"),
                Err(e) => tracing::warn!(root = %root.display(), "cannot watch the project's files: {e}"),
            }
        }
    }
}

/// The file (relative to its project) that says a proposal was parked.
fn is_inbox(p: &Path) -> bool {
    p == Path::new(".showrunner").join("inbox")
}

/// `runs.db`'s write-ahead log, relative to its project.
fn runs_log() -> PathBuf {
    Path::new(".showrunner").join("runs.db-wal")
}

fn is_runs_log(p: &Path) -> bool {
    p == runs_log()
}

/// A path (relative to its project) that may be a story file or a config: never the machine
/// state under `.showrunner/`, version control or an editor's swap and backup files.
fn is_story_path(p: &Path) -> bool {
    let hidden = p.components().any(|c| c.as_os_str().to_str().is_some_and(|s| s.starts_with('.') && s.len() > 1));
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    !hidden
        && !name.ends_with('~')
        && matches!(p.extension().and_then(|x| x.to_str()), Some("md" | "yaml" | "yml" | "fountain"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_story_files_and_configs_count() {
        for yes in ["story/ch01/a.md", "buckets/characters/zoë.yaml", "showrunner.yaml", "s.fountain"] {
            assert!(is_story_path(Path::new(yes)), "{yes}");
        }
        for no in [
            ".showrunner/events.db",
            ".showrunner/review/x.md",
            ".git/HEAD",
            "story/a.md~",
            "notes.txt",
            "story/.a.md.swp",
        ] {
            assert!(!is_story_path(Path::new(no)), "{no}");
        }
    }
}

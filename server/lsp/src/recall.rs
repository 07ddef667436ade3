//! The past defect reports each scene's next run is reminded of (the verifier's memory), kept
//! per project so that the context lens and `showrunner.context.show` list them as the run gets
//! them without reading SQLite while the writer types. They are computed by the one recall of
//! the studio ([`studio::recall_every_scene`], the same as `showrunner context` and the MCP
//! server's `scene_context`) on a blocking thread: when a project is loaded, and again when its
//! `runs.db` is written (a run of this server, of a terminal or of an outside agent finished or
//! moved on; [`crate::watch`] tells). The typing path only reads what is kept.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use showrunner_agents::studio;
use showrunner_context::Recall;
use tower_lsp_server::Client;

use crate::state::State;

/// A project's recalled defect reports, by scene path (scenes with none left out).
pub type Recalled = HashMap<String, Vec<Recall>>;

/// Refreshes projects' recalled defects off the typing path, one project at a time; asks for
/// fresh code lenses when what a scene recalls changed.
#[derive(Clone)]
pub struct Recaller {
    tx: tokio::sync::mpsc::UnboundedSender<PathBuf>,
}

impl Recaller {
    /// Starts the task that refreshes; `lens_refresh` says whether the client takes
    /// `workspace/codeLens/refresh`.
    pub fn start(state: Arc<Mutex<State>>, client: Client, lens_refresh: Arc<AtomicBool>) -> Recaller {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PathBuf>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                // A burst of writes (a run saving each step) is one refresh per project.
                let mut roots = BTreeSet::from([first]);
                while let Ok(r) = rx.try_recv() {
                    roots.insert(r);
                }
                let mut changed = false;
                for root in roots {
                    changed |= fill(&state, &root).await;
                }
                if changed && lens_refresh.load(Ordering::Relaxed) {
                    if let Err(e) = client.code_lens_refresh().await {
                        tracing::debug!("workspace/codeLens/refresh: {e}");
                    }
                }
            }
        });
        Recaller { tx }
    }

    /// Reads the project's recalled defects again (soon, off the typing path).
    pub fn refresh(&self, root: &Path) {
        let _ = self.tx.send(root.to_path_buf());
    }
}

/// Reads the recalled defects of every scene of the loaded project at `root` (on a blocking
/// thread) and keeps them; whether they changed.
pub async fn fill(state: &Arc<Mutex<State>>, root: &Path) -> bool {
    let analysis = state.lock().unwrap_or_else(|e| e.into_inner()).projects.get(root).map(|p| p.analysis.clone());
    let Some(analysis) = analysis else { return false };
    let r = root.to_path_buf();
    let Ok(found) = tokio::task::spawn_blocking(move || studio::recall_every_scene(&r, &analysis)).await else {
        return false;
    };
    tracing::info!(root = %root.display(), scenes = found.len(), "recalled past defect reports");
    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
    let changed = match st.recalls.get(root) {
        Some(old) => **old != found,
        // The first read: lenses drawn so far showed nothing recalled.
        None => !found.is_empty(),
    };
    st.recalls.insert(root.to_path_buf(), Arc::new(found));
    changed
}

/// [`fill`] when the project's recalled defects were never read (a command asked right after
/// the project loaded, before the refresh got to it).
pub async fn ensure(state: &Arc<Mutex<State>>, root: &Path) {
    let known = state.lock().unwrap_or_else(|e| e.into_inner()).recalls.contains_key(root);
    if !known {
        fill(state, root).await;
    }
}

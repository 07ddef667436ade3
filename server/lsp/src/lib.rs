//! `showrunner lsp`: the language server, on stdio.
//!
//! This crate is the only one that knows LSP. It keeps the session ([`state`]), converts
//! positions in one module ([`pos`]) and routes every method in one place (the
//! `LanguageServer` impl below); each feature lives in its own module and reads an immutable
//! snapshot. Mutations (opening, editing, saving, watched files) happen synchronously under the
//! session lock before the first `.await`, so notifications apply in the order they arrive, and
//! no lock is held across an `.await`. A panic inside a handler becomes an error response.

pub mod batch;
pub mod commands;
pub mod diagnostics;
pub mod edit;
pub mod export;
pub mod glass;
pub mod logging;
pub mod navigate;
pub mod pictures;
pub mod pos;
pub mod protocol;
pub mod recall;
pub mod runs;
pub mod state;
pub mod tokens;
pub mod transport;
mod watch;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::de::DeserializeOwned;
use showrunner_store::discover::{classify, find_projects, relative};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

use crate::pos::{to_offset, Encoding};
use crate::state::{path_uri, uri_path, Doc, FileSnap, State};

pub struct Backend {
    client: Client,
    publisher: Publisher,
    recorder: Recorder,
    state: Arc<Mutex<State>>,
    runner: runs::Runner,
    /// The batches this server works.
    working: batch::Working,
    notes: std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<protocol::RunProgress>>,
    /// Client capabilities that decide optional behaviour.
    caps: Mutex<ClientCaps>,
    clean_shutdown: Arc<std::sync::atomic::AtomicBool>,
    /// Told when the editor is gone without `exit`.
    editor_gone: Arc<tokio::sync::Notify>,
    /// The server's own watch on the projects' files.
    disk: Arc<watch::DiskWatch>,
    /// The semantic tokens last sent for each open document (for deltas).
    sent_tokens: tokens::Sent,
    /// Keeps each project's recalled past defects current, off the typing path.
    recaller: recall::Recaller,
    /// Whether the client takes `workspace/codeLens/refresh`.
    lens_refresh: Arc<std::sync::atomic::AtomicBool>,
    /// The open files last told to other processes, by project ([`showrunner_store::editing`]).
    editing: Mutex<std::collections::HashMap<PathBuf, Vec<String>>>,
}

#[derive(Default, Clone, Copy)]
struct ClientCaps {
    work_done_progress: bool,
    watch_files_dynamic: bool,
    apply_edit: bool,
    document_changes: bool,
    show_document: bool,
    ask_by_message: bool,
}

/// Runs the server on stdin/stdout until the client says `exit`. Returns whether `shutdown`
/// came first (the exit code is 0 then, 1 otherwise, as the specification asks).
pub async fn run_stdio() -> bool {
    logging::init();
    // Indexing (rayon's threads) runs below the threads that answer the editor: a keystroke
    // made while a project is being read is not kept waiting for a core.
    let built = rayon::ThreadPoolBuilder::new().start_handler(|_| lower_this_threads_priority()).build_global();
    if let Err(e) = built {
        tracing::debug!("indexing threads keep their priority: {e}");
    }
    let clean = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = clean.clone();
    // Frames out pass through a mux, so diagnostics can go to the wire without the codec.
    // Small pipes: a client that stops reading holds the writers back instead of piling up frames.
    let (codec_out, from_codec) = tokio::io::duplex(64 << 10);
    let (wire, mux) = transport::mux(from_codec, transport::stdout_frames());
    tokio::spawn(mux);
    let replies = wire.clone();
    let gone = Arc::new(tokio::sync::Notify::new());
    let watch = gone.clone();
    let state = Arc::new(Mutex::new(State::default()));
    let (service, socket) = LspService::build(move |client| {
        let publisher = Publisher {
            state: state.clone(),
            wire,
            client: client.clone(),
            pending: Default::default(),
            turn: Default::default(),
            pull: Default::default(),
            ledger: Default::default(),
            refresh: Default::default(),
            outside: Default::default(),
        };
        let recorder = Recorder::start();
        let lens_refresh = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let recaller = recall::Recaller::start(state.clone(), client.clone(), lens_refresh.clone());
        let written = recaller.clone();
        // Changes on disk that the server's own watcher sees are taken like the client's reports.
        let (seen, mut batches) = tokio::sync::mpsc::unbounded_channel::<Vec<PathBuf>>();
        let outside = Outside { state: state.clone(), publisher: publisher.clone(), recorder: recorder.clone() };
        tokio::spawn(async move {
            while let Some(paths) = batches.recv().await {
                outside.take(paths).await;
            }
        });
        Backend {
            publisher,
            recorder,
            disk: Arc::new(watch::DiskWatch::start(seen, move |root| written.refresh(root))),
            client,
            state,
            runner: runs::Runner::default(),
            working: batch::Working::default(),
            notes: std::sync::OnceLock::new(),
            caps: Mutex::new(ClientCaps::default()),
            clean_shutdown: flag,
            editor_gone: watch.clone(),
            sent_tokens: Default::default(),
            recaller,
            lens_refresh,
            editing: Default::default(),
        }
    })
    .custom_method("window/workDoneProgress/cancel", Backend::progress_cancel)
    .finish();
    // Frames pass through a guard that keeps one malformed message from ending the session.
    let (to_server, from_guard) = tokio::io::duplex(64 << 10);
    let input_ended = gone.clone();
    tokio::spawn(async move {
        transport::guard(transport::stdin_chunks(), to_server, move |body| replies.send_body(body)).await;
        input_ended.notify_one();
    });
    // The session ends with `exit`, or when the editor is gone: its end of the pipe closed, or
    // its process ended (`processId`, watched from `initialize`). Then requests and runs in
    // flight are left as they are (a run is resumable from its record); a moment is given to
    // the answers already on their way.
    tokio::select! {
        () = Server::new(from_guard, codec_out, socket).serve(service) => {}
        () = async {
            gone.notified().await;
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        } => tracing::warn!("the editor is gone without `exit`: the server stops"),
    }
    clean.load(std::sync::atomic::Ordering::SeqCst)
}

/// Watches the editor's process (`processId` of `initialize`) and the server's parent, and
/// reports through `gone` when either ends: an editor that dies without closing the pipe must
/// not leave its server behind.
#[cfg(unix)]
fn watch_editor(process_id: Option<u32>, gone: Arc<tokio::sync::Notify>) {
    // SAFETY: getppid has no preconditions and cannot fail.
    let parent = unsafe { libc::getppid() };
    let alive = |pid: u32| {
        let Ok(pid) = libc::pid_t::try_from(pid) else { return true };
        // SAFETY: signal 0 only checks that the process exists; nothing is sent.
        let r = unsafe { libc::kill(pid, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    };
    let spawned = std::thread::Builder::new().name("editor-watch".into()).spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_millis(500));
        // SAFETY: as above.
        let reparented = parent != 1 && unsafe { libc::getppid() } != parent;
        if process_id.is_some_and(|p| !alive(p)) || reparented {
            tracing::warn!(?process_id, reparented, "the editor's process ended");
            gone.notify_one();
            return;
        }
    });
    if let Err(e) = spawned {
        tracing::error!("cannot watch the editor's process: {e}");
    }
}

/// Lowers the calling thread's scheduling priority (Linux's nice value is per thread).
#[cfg(target_os = "linux")]
fn lower_this_threads_priority() {
    // SAFETY: setpriority with `who` 0 changes only the calling thread; no memory is involved.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() {}

#[cfg(not(unix))]
fn watch_editor(_process_id: Option<u32>, _gone: Arc<tokio::sync::Notify>) {}

fn internal(message: impl std::fmt::Display) -> Error {
    Error { code: ErrorCode::InternalError, message: message.to_string().into(), data: None }
}

fn invalid(message: impl std::fmt::Display) -> Error {
    Error { code: ErrorCode::InvalidParams, message: message.to_string().into(), data: None }
}

/// What a panic said.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs `f`, turning a panic into an error response instead of a dead server.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic_message(panic.as_ref());
            tracing::error!(request = what, panic = %msg, "handler panicked");
            Err(internal(format!("showrunner: internal error in {what}: {msg}")))
        }
    }
}

/// Diagnostics for `files` of the project at `root`, for publishing.
fn diagnostics_for(
    state: &Mutex<State>,
    root: &std::path::Path,
    files: &[usize],
) -> Vec<(Uri, Option<i32>, Vec<Diagnostic>)> {
    // Gather under the lock; convert outside it (thousands of files at start-up). Nothing keeps
    // the analysis itself: a clone of its `Arc` alive while the next keystroke arrives would make
    // that keystroke copy the whole analysis.
    let (enc, jobs) = {
        let st = state.lock().unwrap_or_else(|e| e.into_inner());
        let Some(project) = st.projects.get(root) else { return Vec::new() };
        let a = &project.analysis;
        let jobs: Vec<_> = files
            .iter()
            .filter_map(|&f| {
                let file = a.files.get(f)?;
                let uri = path_uri(&root.join(&file.path))?;
                let text: Arc<str> = match &file.content {
                    showrunner_model::analysis::Content::Text(t) => t.clone(),
                    showrunner_model::analysis::Content::Unreadable(_) => Arc::from(""),
                };
                // An open document's line index is already known: its text is the analysis's.
                let doc = st.docs.get(&uri);
                Some((text, diagnostics::gather(a, f), doc.map(|d| d.version), doc.map(|d| d.lines.clone()), uri))
            })
            .collect();
        (st.enc(), jobs)
    };
    jobs.into_iter()
        .map(|(text, diags, version, lines, uri)| {
            let lines = lines.unwrap_or_else(|| Arc::new(showrunner_model::text::LineIndex::new(&text)));
            (uri, version, diagnostics::convert(&text, &lines, &diags, enc))
        })
        .collect()
}

/// Delivers diagnostics. Changes queue the files they touched; a flush takes everything queued
/// and computes it from the current state, one flush at a time (in order), so a burst of edits
/// is answered with the latest text only and a stale version is never sent after a newer one.
/// A push client gets each computed set as `textDocument/publishDiagnostics`; for a pull client
/// the set is recorded in the [`diagnostics::Ledger`] its requests are answered from, and
/// `workspace/diagnostic/refresh` tells it when files other than the ones it edited changed.
#[derive(Clone)]
pub(crate) struct Publisher {
    state: Arc<Mutex<State>>,
    wire: transport::Wire,
    client: Client,
    pending: Arc<Mutex<Pending>>,
    turn: Arc<tokio::sync::Mutex<()>>,
    /// The client pulls diagnostics (set at `initialize`).
    pull: Arc<std::sync::atomic::AtomicBool>,
    ledger: Arc<diagnostics::Ledger>,
    /// Wakes the task that sends `workspace/diagnostic/refresh` (a burst of changes wakes it once).
    refresh: Arc<tokio::sync::Notify>,
    /// Changes on disk being read in: a flush waits for them.
    outside: Arc<Fence>,
}

/// Changes made outside the editor that are being read in. The client's notifications are
/// handled concurrently, so a `didChange` sent after a `didChangeWatchedFiles` could otherwise
/// publish its document's diagnostics from a project the file change has not reached yet (a
/// bucket renamed on disk, its old name in the hints of that version). A reload enters the fence
/// when its notification is first handled, before anything later; diagnostics wait until every
/// reload that entered has been taken in.
#[derive(Default)]
pub(crate) struct Fence {
    open: std::sync::atomic::AtomicUsize,
    settled: tokio::sync::Notify,
}

/// A reload in progress; leaving the fence when dropped.
pub(crate) struct InFence(Arc<Fence>);

impl Fence {
    fn enter(self: &Arc<Self>) -> InFence {
        self.open.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        InFence(self.clone())
    }

    /// Returns when no reload is in progress.
    async fn settled(&self) {
        loop {
            let notified = self.settled.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.open.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for InFence {
    fn drop(&mut self) {
        if self.0.open.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) == 1 {
            self.0.settled.notify_waiters();
        }
    }
}

/// How many files' diagnostics a flush computes and sends at a time.
const SLICE: usize = 256;

/// Files whose diagnostics may have changed, by project; and the documents the client changed
/// itself (a pull client asks for those after its change, unprompted).
#[derive(Default)]
struct Pending {
    files: std::collections::BTreeMap<PathBuf, std::collections::BTreeSet<usize>>,
    edited: std::collections::HashSet<Uri>,
}

impl Publisher {
    pub(crate) fn queue(&self, root: PathBuf, touched: Vec<usize>) {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).files.entry(root).or_default().extend(touched);
    }

    /// Queues the files an edit of the client's document `uri` touched.
    pub(crate) fn queue_edit(&self, root: PathBuf, touched: Vec<usize>, uri: Uri) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.files.entry(root).or_default().extend(touched);
        pending.edited.insert(uri);
    }

    /// Publishes the touched files' diagnostics now (with anything else queued).
    pub(crate) async fn publish(&self, root: PathBuf, touched: Vec<usize>) {
        self.queue(root, touched);
        self.flush().await;
    }

    pub(crate) async fn flush(&self) {
        self.outside.settled().await;
        let _turn = self.turn.lock().await;
        let work = self.take();
        self.deliver(work, true, false).await;
        state::release_free_memory_now_and_then();
    }

    /// A project just read: every file's diagnostics, open documents first, in slices that let
    /// edits through. A file that is not open and has none is not sent: nothing was published
    /// for it before.
    pub(crate) async fn publish_loaded(&self, root: PathBuf, files: Vec<usize>) {
        let _turn = self.turn.lock().await;
        let mut work = Pending::default();
        work.files.insert(root, files.into_iter().collect());
        self.deliver(work, true, true).await;
        state::release_free_memory_now_and_then();
    }

    fn take(&self) -> Pending {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Computes and sends `work`, open documents first, in slices of [`SLICE`] files, at the pace
    /// the client reads ([`transport::Wire::room`]). With `yielding`, an edit queued meanwhile
    /// goes out before the rest: a freshly loaded project's thousands of files never hold a
    /// keystroke's diagnostics back (what the edit re-sent is not sent again from the older
    /// slice). With `fresh`, empty sets of files that are not open are left out. Returns the
    /// documents sent.
    async fn deliver(&self, work: Pending, yielding: bool, fresh: bool) -> std::collections::HashSet<Uri> {
        let mut sent = std::collections::HashSet::new();
        for (root, files) in work.files {
            let mut files: Vec<usize> = files.into_iter().collect();
            if files.len() > SLICE {
                let open = state::open_files(&self.state, &root);
                files.sort_by_key(|f| (!open.contains(f), *f));
            }
            for slice in files.chunks(SLICE) {
                let mut batches = diagnostics_for(&self.state, &root, slice);
                if fresh {
                    batches.retain(|(_, version, d)| !d.is_empty() || version.is_some());
                }
                let mut newer = std::collections::HashSet::new();
                let mut others_changed = false;
                for batch in batches {
                    if newer.contains(&batch.0) {
                        continue;
                    }
                    sent.insert(batch.0.clone());
                    others_changed |= self.send(vec![batch], &work.edited).await;
                    if yielding && !self.pending.lock().unwrap_or_else(|e| e.into_inner()).edited.is_empty() {
                        let edits = self.take();
                        newer.extend(Box::pin(self.deliver(edits, false, false)).await);
                    }
                }
                // One refresh for the slice, once all of it is recorded: a refresh per file
                // asked a client that pulls at once for a half-recorded slice, and again.
                if others_changed {
                    self.refresh.notify_one();
                }
                sent.extend(newer);
            }
        }
        sent
    }

    /// A scene whose project is still being read (`root`, found on disk) gets its own
    /// diagnostics now ([`showrunner_model::analysis::scene_alone`]): a subset of its full set,
    /// which follows when the project is in. Computed from the document as it is when this runs,
    /// in the publisher's turn, so it never goes out after that full set or a newer text's.
    pub(crate) async fn publish_alone(&self, uri: Uri, root: PathBuf) {
        use showrunner_model::analysis::{scene_alone, Content, SourceFile};
        let _turn = self.turn.lock().await;
        let current = |st: &State| st.docs.get(&uri).filter(|d| d.place.is_none()).map(|d| d.version);
        let (doc, enc) = {
            let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let Some(d) = st.docs.get(&uri).filter(|d| d.place.is_none()) else { return };
            ((d.text.clone(), d.lines.clone(), d.version, d.path.clone()), st.enc())
        };
        let (text, lines, version, Some(path)) = doc else { return };
        let rel = relative(&root, &path);
        let Some(kind) = classify(&rel) else { return };
        let file = SourceFile { path: rel, kind, content: Content::Text(text.clone()) };
        let Some(diags) = scene_alone(&file) else { return };
        if current(&self.state.lock().unwrap_or_else(|e| e.into_inner())) != Some(version) {
            return;
        }
        let batch = (uri.clone(), Some(version), diagnostics::convert(&text, &lines, &diags, enc));
        self.send(vec![batch], &std::collections::HashSet::from([uri])).await;
    }

    /// Whether the client pulls its diagnostics.
    fn pulls(&self) -> bool {
        self.pull.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Push: diagnostics go to the wire serialised straight from their structs. Pull: they are
    /// recorded; whether a file the client did not edit (`edited`) changed, so that the client
    /// is to be asked to pull again.
    async fn send(
        &self,
        batches: Vec<(Uri, Option<i32>, Vec<Diagnostic>)>,
        edited: &std::collections::HashSet<Uri>,
    ) -> bool {
        if self.pulls() {
            return self.ledger.record(batches).iter().any(|u| !edited.contains(u));
        }
        for (uri, version, diagnostics) in batches {
            let params = PublishDiagnosticsParams { uri, diagnostics, version };
            if !self.wire.notify("textDocument/publishDiagnostics", &params) {
                self.client.publish_diagnostics(params.uri, params.diagnostics, params.version).await;
            }
            self.wire.room().await;
        }
        false
    }

    /// A file is gone: a push client gets its diagnostics cleared, a pull client is asked to pull
    /// again (the next workspace pull reports the file empty).
    async fn clear(&self, uri: Uri) {
        if self.pulls() {
            if self.ledger.forget(&uri) {
                self.refresh.notify_one();
            }
            return;
        }
        self.client.publish_diagnostics(uri, Vec::new(), None).await;
    }

    /// From now on the client pulls: refreshes go out one at a time, the next after the client
    /// answered the last.
    fn start_pulling(&self) {
        self.pull.store(true, std::sync::atomic::Ordering::Relaxed);
        let (client, wake) = (self.client.clone(), self.refresh.clone());
        tokio::spawn(async move {
            loop {
                wake.notified().await;
                if let Err(e) = client.workspace_diagnostic_refresh().await {
                    tracing::debug!("workspace/diagnostic/refresh: {e}");
                }
            }
        });
    }
}

/// Records saves and outside changes as snapshot events, on one thread that keeps each project's
/// log open: one writer, no connection churn, and the notification that asked waits for it (so a
/// request after a save sees the save in the history).
#[derive(Clone)]
struct Recorder {
    tx: std::sync::mpsc::Sender<RecordJob>,
}

/// Files to record (`(project root, path)`), approved edits the editor applied to a buffer that
/// was just saved (recorded first, as their `apply_edit` events), and who waits for it.
type RecordJob = (Vec<(PathBuf, String)>, Vec<state::UnsavedPlan>, tokio::sync::oneshot::Sender<Vec<Recorded>>);

/// An approved edit recorded on save: the plan, and its event id (or why it was not recorded).
type Recorded = (state::UnsavedPlan, std::result::Result<String, showrunner_pipeline::RunError>);

impl Recorder {
    fn start() -> Recorder {
        let (tx, rx) = std::sync::mpsc::channel::<RecordJob>();
        let spawned = std::thread::Builder::new().name("history".into()).spawn(move || {
            let mut open: std::collections::HashMap<PathBuf, showrunner_store::history::History> = Default::default();
            for (paths, plans, done) in rx {
                let mut recorded = Vec::new();
                for p in plans {
                    let r = showrunner_agents::studio::record_saved_plan(&p.root, &p.run, &p.pipeline, &p.plan);
                    match &r {
                        Ok(id) => tracing::info!(run = %p.run, event = %id, "approved edit recorded on save"),
                        Err(e) => tracing::warn!(run = %p.run, "approved edit not recorded: {e}"),
                    }
                    // The handle kept open has not seen the events just appended.
                    open.remove(&p.root);
                    recorded.push((p, r));
                }
                for (root, rel) in paths {
                    let h = match open.entry(root.clone()) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::hash_map::Entry::Vacant(v) => {
                            match showrunner_store::history::History::open(&root) {
                                Ok(h) => v.insert(h),
                                Err(e) => {
                                    tracing::warn!("history of {} not opened: {e}", root.display());
                                    continue;
                                }
                            }
                        }
                    };
                    if let Err(e) = h.record(&rel, "user") {
                        tracing::warn!("change to {rel} not recorded in the history: {e}");
                        // A broken connection is opened again next time.
                        open.remove(&root);
                    }
                }
                let _ = done.send(recorded);
            }
        });
        if let Err(e) = &spawned {
            tracing::error!("the history thread did not start: {e}");
        }
        Recorder { tx }
    }

    async fn record(&self, paths: Vec<(PathBuf, String)>, plans: Vec<state::UnsavedPlan>) -> Vec<Recorded> {
        let (done, wait) = tokio::sync::oneshot::channel();
        if self.tx.send((paths, plans, done)).is_ok() {
            return wait.await.unwrap_or_default();
        }
        Vec::new()
    }
}

/// Changes made on disk outside the editor, reported by the client's watcher or seen by the
/// server's own ([`watch`]): one path for both.
struct Outside {
    state: Arc<Mutex<State>>,
    publisher: Publisher,
    recorder: Recorder,
}

impl Outside {
    /// Reloads the changed files (a file already as the session has it changes nothing), records
    /// them in the history (a no-op when the log has them), publishes what changed, and clears
    /// the diagnostics of the files that are gone.
    async fn take(&self, paths: Vec<PathBuf>) {
        // Entered before the first await: before any later notification is handled.
        let reading = self.publisher.outside.enter();
        let mut to_record: Vec<(PathBuf, String)> = Vec::new();
        for path in &paths {
            let state = self.state.clone();
            let p = path.clone();
            let work = tokio::task::spawn_blocking(move || state::reload_file(&state, &p)).await.ok().flatten();
            if let Some((root, touched)) = work {
                self.publisher.queue(root, touched);
            }
            let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(root) = st.root_for(path) {
                let rel = relative(&root, path);
                if classify(&rel).is_some() {
                    to_record.push((root, rel));
                }
            }
        }
        drop(reading);
        // Recorded before the diagnostics go out: whoever sees them finds the change in the log.
        if !to_record.is_empty() {
            self.recorder.record(to_record, Vec::new()).await;
        }
        self.publisher.flush().await;
        for path in paths.iter().filter(|p| !p.exists()) {
            if let Some(uri) = state::path_uri(path) {
                self.publisher.clear(uri).await;
            }
        }
    }
}

impl Backend {
    /// Tells other processes (a terminal run, a batch, the MCP server) which files of each
    /// project this editor has open, so that they never write one of them
    /// ([`showrunner_store::editing`]). Written only when a project's list changed.
    fn tell_editing(&self) {
        let now: std::collections::HashMap<PathBuf, Vec<String>> = {
            let st = self.lock();
            let mut now: std::collections::HashMap<PathBuf, Vec<String>> =
                st.projects.keys().map(|r| (r.clone(), Vec::new())).collect();
            // Every open file under a project, story or not (an export open for reading too).
            for path in st.docs.values().filter_map(|d| d.path.as_ref()) {
                if let Some(root) = st.root_for(path) {
                    let rel = relative(&root, path);
                    now.entry(root).or_default().push(rel);
                }
            }
            now
        };
        let mut told = self.editing.lock().unwrap_or_else(|e| e.into_inner());
        for (root, mut files) in now {
            files.sort();
            files.dedup();
            if told.get(&root) == Some(&files) || (files.is_empty() && !told.contains_key(&root)) {
                continue;
            }
            if let Err(e) = showrunner_store::editing::publish(&root, &files) {
                tracing::warn!(root = %root.display(), "cannot tell other processes which files are open: {e}");
            }
            told.insert(root, files);
        }
    }

    fn outside(&self) -> Outside {
        Outside { state: self.state.clone(), publisher: self.publisher.clone(), recorder: self.recorder.clone() }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock must not take the server down with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn snapshot(&self, uri: &Uri) -> Option<FileSnap> {
        self.lock().snapshot(uri)
    }

    /// Waits until the project of `uri` is loaded: a request right after a file was opened, or
    /// while the workspace is being indexed, is answered from its project, not refused.
    async fn ready(&self, uri: &Uri) {
        let Some(path) = uri_path(uri) else { return };
        if self.lock().root_for(&path).is_none() {
            self.ensure_project(path).await;
        }
    }

    /// Snapshot and byte offset for a position request.
    fn at(&self, p: &TextDocumentPositionParams) -> Option<(FileSnap, usize)> {
        let snap = self.snapshot(&p.text_document.uri)?;
        let offset = to_offset(&snap.text, &snap.lines, p.position, snap.enc);
        Some((snap, offset))
    }

    /// Diagnostics for `files` of the project at `root`, for publishing.
    fn diagnostics_for(&self, root: &std::path::Path, files: &[usize]) -> Vec<(Uri, Option<i32>, Vec<Diagnostic>)> {
        diagnostics_for(&self.state, root, files)
    }

    /// The file of a loaded project at `uri`: its project's root and its index there.
    fn locate(&self, uri: &Uri) -> Option<(PathBuf, usize)> {
        let path = uri_path(uri)?;
        let st = self.lock();
        let root = st.root_for(&path)?;
        let f = st.projects.get(&root)?.analysis.file_index(&relative(&root, &path))?;
        Some((root, f))
    }

    /// A pull request's report for one file: its result id, and its diagnostics unless the
    /// client's `previous` result is the current one. From the ledger when it knows them, else
    /// computed as the publisher computes them (and recorded). A file of no project has none.
    fn pull_report(&self, uri: &Uri, previous: Option<&str>) -> (String, Option<Vec<Diagnostic>>) {
        let pulls = self.publisher.pulls();
        let ledger = &self.publisher.ledger;
        if pulls {
            match ledger.known(uri, previous) {
                diagnostics::Known::Unchanged(id) => return (id, None),
                diagnostics::Known::Full(id, items) => return (id, Some(items)),
                diagnostics::Known::Unknown => {}
            }
        }
        let computed = self.locate(uri).and_then(|(root, f)| self.diagnostics_for(&root, &[f]).pop());
        let (id, items) = match computed {
            Some((uri, version, items)) if pulls => (ledger.record_one(&uri, version, &items), items),
            Some((_, _, items)) => (ledger.result_id(&items), items),
            None => (ledger.result_id(&[]), Vec::new()),
        };
        let unchanged = previous == Some(id.as_str());
        (id, (!unchanged).then_some(items))
    }

    /// `workspace/diagnostic`: every file of the loaded projects, `unchanged` when the client
    /// holds its current result id; files that left their project, once, with no diagnostics.
    fn workspace_report(&self, previous: &std::collections::HashMap<Uri, String>) -> WorkspaceDiagnosticReport {
        type Files = Vec<(usize, Uri, Option<i32>)>;
        let pulls = self.publisher.pulls();
        let ledger = &self.publisher.ledger;
        let projects: Vec<(PathBuf, Files)> = {
            let st = self.lock();
            st.projects
                .iter()
                .map(|(root, project)| {
                    let files = project
                        .analysis
                        .files
                        .iter()
                        .enumerate()
                        .filter_map(|(i, f)| {
                            let uri = path_uri(&root.join(&f.path))?;
                            let version = st.docs.get(&uri).map(|d| d.version);
                            Some((i, uri, version))
                        })
                        .collect();
                    (root.clone(), files)
                })
                .collect()
        };
        let report = |uri: Uri, version: Option<i32>, id: String, items: Option<Vec<Diagnostic>>| {
            let version = version.map(i64::from);
            match items {
                None => WorkspaceDocumentDiagnosticReport::Unchanged(WorkspaceUnchangedDocumentDiagnosticReport {
                    uri,
                    version,
                    unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport { result_id: id },
                }),
                Some(items) => WorkspaceDocumentDiagnosticReport::Full(WorkspaceFullDocumentDiagnosticReport {
                    uri,
                    version,
                    full_document_diagnostic_report: FullDocumentDiagnosticReport { result_id: Some(id), items },
                }),
            }
        };
        let mut items = Vec::new();
        let mut current = std::collections::HashSet::new();
        for (root, files) in projects {
            let mut compute = Vec::new();
            for (i, uri, version) in files {
                let held = previous.get(&uri).map(String::as_str);
                let known = if pulls { ledger.known(&uri, held) } else { diagnostics::Known::Unknown };
                match known {
                    // What the client holds is current: left out of the answer (a client keeps
                    // what a report does not mention), so an idle poll costs next to nothing.
                    diagnostics::Known::Unchanged(_) => {}
                    diagnostics::Known::Full(id, d) => items.push(report(uri.clone(), version, id, Some(d))),
                    diagnostics::Known::Unknown => compute.push(i),
                }
                current.insert(uri);
            }
            for (uri, version, d) in self.diagnostics_for(&root, &compute) {
                let id = if pulls { ledger.record_one(&uri, version, &d) } else { ledger.result_id(&d) };
                let unchanged = previous.get(&uri) == Some(&id);
                items.push(report(uri, version, id, (!unchanged).then_some(d)));
            }
        }
        if pulls {
            for uri in ledger.take_gone(&current) {
                items.push(report(uri, None, ledger.result_id(&[]), Some(Vec::new())));
            }
        }
        WorkspaceDiagnosticReport { items }
    }

    /// What a run thread needs of the session.
    fn session(&self) -> runs::Session {
        let caps = *self.caps.lock().unwrap_or_else(|e| e.into_inner());
        runs::Session {
            state: self.state.clone(),
            client: self.client.clone(),
            handle: tokio::runtime::Handle::current(),
            caps: runs::Caps {
                apply_edit: caps.apply_edit,
                document_changes: caps.document_changes,
                show_document: caps.show_document,
                work_done_progress: caps.work_done_progress,
                ask_by_message: caps.ask_by_message,
            },
            notes: self.notes.get_or_init(|| runs::notifier(self.client.clone())).clone(),
            publisher: self.publisher.clone(),
            recaller: self.recaller.clone(),
        }
    }

    async fn progress_cancel(&self, p: WorkDoneProgressCancelParams) {
        if let NumberOrString::String(token) = &p.token {
            if let Some(run) = token.strip_prefix("showrunner/run/") {
                let runner = self.runner.clone();
                let run = run.to_string();
                let _ =
                    tokio::task::spawn_blocking(move || runner.cancel(&run, std::time::Duration::from_secs(2))).await;
            }
            if let Some(batch) = token.strip_prefix("showrunner/batch/") {
                let holder = self.roots().into_iter().find(|root| {
                    showrunner_store::runs::Runs::open(root)
                        .and_then(|r| r.batch_rows(batch))
                        .is_ok_and(|rows| !rows.is_empty())
                });
                if let Some(root) = holder {
                    let _ = self.cancel_batch(&root, batch).await;
                }
            }
        }
    }

    /// Loads every project under the workspace folders, reporting progress.
    async fn index_workspace(&self) {
        let folders = self.lock().folders.clone();
        let caps = *self.caps.lock().unwrap_or_else(|e| e.into_inner());
        let token = NumberOrString::String("showrunner/indexing".into());
        let progress = if caps.work_done_progress && runs::create_progress(&self.client, token.clone()).await {
            Some(self.client.progress(token, "Showrunner: indexing").with_percentage(0).begin().await)
        } else {
            None
        };
        // Finding the projects walks the folders: off the threads that answer the editor.
        let search = folders.clone();
        let found = tokio::task::spawn_blocking(move || {
            let mut roots: Vec<PathBuf> = Vec::new();
            for folder in &search {
                match find_projects(folder) {
                    Ok(found) => roots.extend(found),
                    Err(e) => tracing::info!(folder = %folder.display(), "no project: {e}"),
                }
            }
            roots
        })
        .await;
        let mut roots = found.unwrap_or_default();
        roots.sort();
        roots.dedup();
        let total = roots.len().max(1);
        for (i, root) in roots.iter().enumerate() {
            if let Some(p) = &progress {
                p.report_with_message(
                    format!("{} ({}/{})", root.display(), i + 1, roots.len()),
                    (i * 100 / total) as u32,
                )
                .await;
            }
            // Loaded once, whoever asks first (a document opened meanwhile may have); open
            // documents win over the disk.
            let (state, disk) = (self.state.clone(), self.disk.clone());
            let config = root.join(showrunner_model::config::CONFIG_FILE);
            let loaded =
                tokio::task::spawn_blocking(move || state::ensure_project(&state, &config, |r| disk.watch(r))).await;
            let Ok(Some((_, Some(files)))) = loaded else { continue };
            logging::log_for_project(root);
            self.recaller.refresh(root);
            self.publisher.publish_loaded(root.clone(), files).await;
        }
        if let Some(p) = progress {
            p.finish_with_message(format!("{} project(s) indexed", roots.len())).await;
        }
        // Runs that were under way when the server last stopped go on; gates are asked again.
        let session = self.session();
        for root in roots {
            let analysis = self.lock().projects.get(&root).map(|p| p.analysis.clone());
            if let Some(analysis) = analysis {
                let runner = self.runner.clone();
                let session = session.clone();
                let _ = tokio::task::spawn_blocking(move || runner.resume_all(&session, &root, analysis)).await;
            }
        }
        // Proposals that outside agents park while the session runs (`showrunner mcp` writes
        // `.showrunner/inbox`) join the approval queue the same way.
        let inbox = self.disk.inbox();
        let (runner, state) = (self.runner.clone(), self.state.clone());
        tokio::spawn(async move {
            loop {
                inbox.notified().await;
                let projects: Vec<(PathBuf, _)> = {
                    let st = state.lock().unwrap_or_else(|e| e.into_inner());
                    st.projects.iter().map(|(r, p)| (r.clone(), p.analysis.clone())).collect()
                };
                for (root, analysis) in projects {
                    let (runner, session) = (runner.clone(), session.clone());
                    let _ = tokio::task::spawn_blocking(move || runner.resume_all(&session, &root, analysis)).await;
                }
            }
        });
    }

    /// After a file changed (editor or disk), publishes every affected file's diagnostics.
    async fn after_change(&self, root: PathBuf, touched: Vec<usize>) {
        self.publisher.publish(root, touched).await;
    }
}

impl Backend {
    /// The project a command names (`project` path or URI, or the file `uri`), else the first
    /// loaded one. A project not loaded yet is loaded (off the session lock); its diagnostics
    /// go out.
    async fn project_for(&self, project: Option<&str>, uri: Option<&Uri>) -> Result<PathBuf> {
        let path = match (project, uri) {
            (Some(p), _) => {
                let path = p.parse::<Uri>().ok().and_then(|u| uri_path(&u)).unwrap_or_else(|| PathBuf::from(p));
                Some(path.join("showrunner.yaml"))
            }
            (None, Some(u)) => uri_path(u),
            (None, None) => {
                // No project named: the one loaded (or being loaded), else the project of an open
                // document or of a workspace folder, loaded now.
                let state = self.state.clone();
                if let Ok(Some(root)) = tokio::task::spawn_blocking(move || state::any_project(&state)).await {
                    return Ok(root);
                }
                let candidates: Vec<PathBuf> = {
                    let st = self.lock();
                    let docs = st.docs.values().filter_map(|d| d.path.clone());
                    let folders = st.folders.iter().map(|f| f.join(showrunner_model::config::CONFIG_FILE));
                    docs.chain(folders).collect()
                };
                for path in candidates {
                    if let Some(root) = self.ensure_project(path).await {
                        return Ok(root);
                    }
                }
                return Err(invalid("no Showrunner project is loaded"));
            }
        };
        let found = match path {
            Some(path) => self.ensure_project(path).await,
            None => None,
        };
        found.ok_or_else(|| invalid("no Showrunner project here: pass `project` (a project folder) or `uri`"))
    }

    /// The analysis of a loaded project.
    fn analysis_of(&self, root: &std::path::Path) -> Result<Arc<showrunner_model::analysis::Analysis>> {
        self.lock()
            .projects
            .get(root)
            .map(|p| p.analysis.clone())
            .ok_or_else(|| invalid(format!("the project at {} is not loaded", root.display())))
    }

    /// Loads the project holding `path` when it is not loaded yet (off the session lock, and
    /// off the runtime's threads), publishing its diagnostics; its root.
    async fn ensure_project(&self, path: PathBuf) -> Option<PathBuf> {
        let (state, disk) = (self.state.clone(), self.disk.clone());
        let (root, loaded) =
            tokio::task::spawn_blocking(move || state::ensure_project(&state, &path, |r| disk.watch(r)))
                .await
                .ok()
                .flatten()?;
        if let Some(files) = loaded {
            logging::log_for_project(&root);
            self.recaller.refresh(&root);
            self.publisher.publish_loaded(root.clone(), files).await;
        }
        Some(root)
    }

    /// An open scene whose project is not in the session yet (being read, or about to be): its
    /// own diagnostics go out at once, the full set when the project is in. Never waits for the
    /// project: an edit during indexing is answered in the time its scene takes to parse.
    fn answer_alone(&self, uri: Uri, path: PathBuf) {
        let publisher = self.publisher.clone();
        tokio::spawn(async move {
            let root = tokio::task::spawn_blocking(move || state::project_root_on_disk(&path)).await.ok().flatten();
            if let Some(root) = root {
                publisher.publish_alone(uri, root).await;
            }
        });
    }

    /// Takes a change on disk into the session (off the lock) and publishes what it touched.
    async fn reload(&self, path: PathBuf) {
        let state = self.state.clone();
        let work = tokio::task::spawn_blocking(move || state::reload_file(&state, &path)).await.ok().flatten();
        if let Some((root, touched)) = work {
            self.after_change(root, touched).await;
        }
    }

    async fn history_command(&self, command: &str, args: protocol::HistoryArgs) -> Result<Option<LSPAny>> {
        use showrunner_store::history::History;
        let root = self.project_for(args.project.as_deref(), args.uri.as_ref()).await?;
        let fail = |e: showrunner_store::history::HistoryError| invalid(e.to_string());
        match command {
            "showrunner.timeline.list" => {
                let h = History::open(&root).map_err(fail)?;
                Ok(Some(serde_json::to_value(h.timelines().map_err(fail)?).unwrap_or_default()))
            }
            "showrunner.timeline.create" => {
                let name = args.name.ok_or_else(|| invalid("`name` is required"))?;
                let mut h = History::open(&root).map_err(fail)?;
                let t = h.create_timeline(&name, args.from_event.as_deref()).map_err(fail)?;
                Ok(Some(serde_json::to_value(t).unwrap_or_default()))
            }
            "showrunner.timeline.switch" => {
                let name = args.name.ok_or_else(|| invalid("`name` is required"))?;
                // The editor's documents of the project: unsaved text is recorded before the
                // switch, and the buffers then show the new timeline's text.
                let open: Vec<(Uri, String, Arc<str>)> = self
                    .lock()
                    .docs
                    .iter()
                    .filter_map(|(u, d)| {
                        d.place
                            .as_ref()
                            .filter(|(r, _)| r == &root)
                            .map(|(_, rel)| (u.clone(), rel.clone(), d.text.clone()))
                    })
                    .collect();
                let texts: Vec<(String, Arc<str>)> = open.iter().map(|(_, rel, t)| (rel.clone(), t.clone())).collect();
                let (state, root2, name2) = (self.state.clone(), root.clone(), name.clone());
                let (switched, files) = tokio::task::spawn_blocking(move || {
                    state::reread_project(&state, &root2, || {
                        showrunner_agents::studio::switch_timeline(&root2, &name2, &texts)
                    })
                })
                .await
                .map_err(|e| internal(e.to_string()))?;
                let (changed, differ) = match switched {
                    Ok(done) => done,
                    Err(e) => {
                        // What a switch that stopped half-way wrote is in the session too.
                        self.after_change(root, files).await;
                        return Err(fail(e));
                    }
                };
                let edits = {
                    let st = self.lock();
                    let enc = st.enc();
                    let mut edits = std::collections::HashMap::new();
                    for (rel, disk) in differ {
                        let Some((u, _, _)) = open.iter().find(|(_, r, _)| *r == rel) else { continue };
                        let Some(doc) = st.docs.get(u) else { continue };
                        let end = pos::to_position(&doc.text, &doc.lines, doc.text.len(), enc);
                        let range = Range { start: Position { line: 0, character: 0 }, end };
                        edits.insert(u.clone(), vec![TextEdit { range, new_text: disk }]);
                    }
                    edits
                };
                if !edits.is_empty() {
                    let edit = WorkspaceEdit { changes: Some(edits), ..Default::default() };
                    if let Err(e) = self.client.apply_edit(edit).await {
                        tracing::warn!("could not update open documents after the switch: {e}");
                    }
                }
                self.after_change(root, files).await;
                glass::to_value(protocol::TimelineSwitched { timeline: name, changed })
            }
            _ => {
                let h = History::open(&root).map_err(fail)?;
                let path = match (&args.bucket, &args.uri) {
                    (Some(b), _) => {
                        let a = self.analysis_of(&root)?;
                        let entry = a.bucket(b).ok_or_else(|| invalid(format!("no bucket `{b}`")))?;
                        Some(a.files[entry.file].path.clone())
                    }
                    (None, Some(u)) => uri_path(u).map(|p| relative(&root, &p)),
                    (None, None) => None,
                };
                let events = h.log(path.as_deref()).map_err(fail)?;
                Ok(Some(serde_json::to_value(events).unwrap_or_default()))
            }
        }
    }
}

fn params<T: DeserializeOwned>(args: &[serde_json::Value]) -> Result<T> {
    let v = args.first().cloned().unwrap_or(serde_json::Value::Object(Default::default()));
    serde_json::from_value(v).map_err(|e| invalid(format!("bad arguments: {e}")))
}

impl LanguageServer for Backend {
    async fn initialize(&self, p: InitializeParams) -> Result<InitializeResult> {
        watch_editor(p.process_id, self.editor_gone.clone());
        let enc = Encoding::negotiate(p.capabilities.general.as_ref().and_then(|g| g.position_encodings.as_deref()));
        {
            let mut caps = self.caps.lock().unwrap_or_else(|e| e.into_inner());
            caps.work_done_progress =
                p.capabilities.window.as_ref().and_then(|w| w.work_done_progress).unwrap_or(false);
            caps.apply_edit = p.capabilities.workspace.as_ref().and_then(|w| w.apply_edit).unwrap_or(false);
            let lens_refresh = p
                .capabilities
                .workspace
                .as_ref()
                .and_then(|w| w.code_lens.as_ref())
                .and_then(|c| c.refresh_support)
                .unwrap_or(false);
            self.lens_refresh.store(lens_refresh, std::sync::atomic::Ordering::Relaxed);
            caps.document_changes = p
                .capabilities
                .workspace
                .as_ref()
                .and_then(|w| w.workspace_edit.as_ref())
                .and_then(|e| e.document_changes)
                .unwrap_or(false);
            // An extension with its own review UI says so: gates then do not open documents.
            let own_review =
                p.initialization_options.as_ref().and_then(|o| o["openReviewDocuments"].as_bool()) == Some(false);
            caps.show_document = !own_review
                && p.capabilities.window.as_ref().and_then(|w| w.show_document.as_ref()).is_some_and(|s| s.support);
            // Gates by message for a client that shows no review lenses or cannot show the review
            // document: eglot (no lenses; no showDocument before 1.10), Helix (no lenses), Neovim
            // without our plugin (it advertises lenses but shows them only when the writer's
            // configuration refreshes them). The extensions say they have a review UI of their own.
            let review_ui =
                own_review || p.initialization_options.as_ref().and_then(|o| o["reviewUi"].as_bool()) == Some(true);
            let lenses_shown = p.capabilities.text_document.as_ref().is_some_and(|t| t.code_lens.is_some())
                && p.client_info.as_ref().is_none_or(|c| c.name != "Neovim");
            let shows_documents =
                p.capabilities.window.as_ref().and_then(|w| w.show_document.as_ref()).is_some_and(|s| s.support);
            caps.ask_by_message = !(review_ui || (lenses_shown && shows_documents));
            caps.watch_files_dynamic = p
                .capabilities
                .workspace
                .as_ref()
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|d| d.dynamic_registration)
                .unwrap_or(false);
        }
        // Diagnostics by pull for a client that pulls them and can be asked to pull again when an
        // edit changes other files' diagnostics (a bucket's edit changes its scenes'): VS Code.
        // Others get them pushed, as before: Neovim 0.11 declares pull but no refresh, and pulls
        // only for the buffers on screen; eglot 1.9 does not pull.
        let pull = p.capabilities.text_document.as_ref().is_some_and(|t| t.diagnostic.is_some())
            && p.capabilities
                .workspace
                .as_ref()
                .and_then(|w| w.diagnostics.as_ref())
                .and_then(|d| d.refresh_support)
                .unwrap_or(false);
        if pull {
            self.publisher.start_pulling();
        }
        let mut folders: Vec<PathBuf> = p.workspace_folders.iter().flatten().filter_map(|f| uri_path(&f.uri)).collect();
        #[allow(deprecated)]
        if folders.is_empty() {
            folders.extend(p.root_uri.as_ref().and_then(uri_path));
        }
        {
            let mut st = self.lock();
            st.encoding = Some(enc);
            st.folders = folders;
        }
        let sync = TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::INCREMENTAL),
            save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions { include_text: Some(false) })),
            ..Default::default()
        };
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "showrunner".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            offset_encoding: None,
            capabilities: ServerCapabilities {
                position_encoding: Some(enc.kind()),
                text_document_sync: Some(TextDocumentSyncCapability::Options(sync)),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: Default::default(),
                })),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![":".into(), " ".into(), "[".into()]),
                    ..Default::default()
                }),
                code_lens_provider: Some(CodeLensOptions { resolve_provider: Some(false) }),
                code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                    code_action_kinds: Some(vec![CodeActionKind::QUICKFIX, CodeActionKind::REFACTOR_REWRITE]),
                    ..Default::default()
                })),
                document_symbol_provider: Some(OneOf::Left(true)),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
                    SemanticTokensOptions {
                        legend: tokens::legend(),
                        full: Some(SemanticTokensFullOptions::Delta { delta: Some(true) }),
                        range: Some(false),
                        ..Default::default()
                    },
                )),
                diagnostic_provider: pull.then(|| {
                    DiagnosticServerCapabilities::Options(DiagnosticOptions {
                        identifier: Some("showrunner".into()),
                        inter_file_dependencies: true,
                        workspace_diagnostics: true,
                        work_done_progress_options: Default::default(),
                    })
                }),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: protocol::command_names(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let caps = *self.caps.lock().unwrap_or_else(|e| e.into_inner());
        if caps.watch_files_dynamic {
            let watchers = ["**/showrunner.yaml", "**/*.yaml", "**/*.yml", "**/*.md", "**/*.fountain"]
                .iter()
                .map(|g| FileSystemWatcher { glob_pattern: GlobPattern::String(g.to_string()), kind: None })
                .collect();
            let reg = Registration {
                id: "showrunner-watch".into(),
                method: "workspace/didChangeWatchedFiles".into(),
                register_options: serde_json::to_value(DidChangeWatchedFilesRegistrationOptions { watchers }).ok(),
            };
            if let Err(e) = self.client.register_capability(vec![reg]).await {
                tracing::warn!("file watching not registered: {e}");
            }
        }
        self.index_workspace().await;
    }

    async fn shutdown(&self) -> Result<()> {
        tracing::info!("shutdown");
        self.lock().shutdown = true;
        self.clean_shutdown.store(true, std::sync::atomic::Ordering::SeqCst);
        // The editor is going: its files are no longer open (a server that dies without a
        // shutdown leaves its list, which holds nothing once its pid is gone).
        for root in self.editing.lock().unwrap_or_else(|e| e.into_inner()).keys() {
            let _ = showrunner_store::editing::publish(root, &[]);
        }
        Ok(())
    }

    async fn did_open(&self, p: DidOpenTextDocumentParams) {
        let uri = p.text_document.uri;
        let path = uri_path(&uri);
        // The document is in the session before anything awaits, so the changes after it apply
        // to it in order; a project not loaded yet is loaded afterwards and takes it in.
        let changed = guarded("didOpen", || {
            let mut st = self.lock();
            let place = path.as_ref().and_then(|path| {
                let root = st.root_for(path)?;
                let rel = relative(&root, path);
                classify(&rel).map(|_| (root, rel))
            });
            let doc = Doc::new(&p.text_document.text, p.text_document.version, place.clone(), path.clone());
            let text = doc.text.clone();
            st.docs.insert(uri.clone(), doc);
            Ok(place.map(|(root, rel)| {
                let touched = st.apply_text(&root, &rel, text);
                (root, touched)
            }))
        });
        let placed = matches!(changed, Ok(Some(_)));
        // Told before its diagnostics go out: whoever sees them finds the file listed as open.
        self.tell_editing();
        if let Ok(Some((root, touched))) = changed {
            self.publisher.queue_edit(root, touched, uri.clone());
            self.publisher.flush().await;
        }
        if let Some(path) = path {
            if !placed {
                self.answer_alone(uri, path.clone());
            }
            // A nearer (or first) project of this file is loaded now.
            self.ensure_project(path).await;
        }
        self.tell_editing();
    }

    async fn did_change(&self, p: DidChangeTextDocumentParams) {
        let uri = p.text_document.uri;
        let changed = guarded("didChange", || {
            let mut st = self.lock();
            let enc = st.enc();
            let Some(doc) = st.docs.get_mut(&uri) else { return Ok(None) };
            // One ranged change (a keystroke) says where the text changed: nothing downstream
            // compares or scans the whole text to find it again.
            let mut known = None;
            let single = p.content_changes.len() == 1;
            for change in p.content_changes {
                match change.range {
                    Some(range) => {
                        let a = pos::rope_char(&doc.rope, range.start, enc);
                        let b = pos::rope_char(&doc.rope, range.end, enc);
                        let (a, b) = (a.min(b), a.max(b));
                        let (start, old_end) = (doc.rope.char_to_byte(a), doc.rope.char_to_byte(b));
                        doc.rope.remove(a..b);
                        doc.rope.insert(a, &change.text);
                        known = single.then_some(showrunner_model::window::Edit {
                            start,
                            old_end,
                            new_end: start + change.text.len(),
                        });
                    }
                    None => doc.rope = ropey::Rope::from_str(&change.text),
                }
            }
            doc.version = p.text_document.version;
            let before = doc.text.clone();
            doc.sync_text(known);
            let text = doc.text.clone();
            let Some((root, rel)) = doc.place.clone() else { return Ok(doc.path.clone().map(Err)) };
            let touched = st.apply_typed(&root, &rel, text, known.map(|e| (e, before)));
            Ok(Some(Ok((root, touched))))
        });
        // Typing comes in bursts: the diagnostics are computed off the notification path, and a
        // burst of changes is answered once, for the latest text (the spec's debounce, without a
        // delay).
        match changed {
            Ok(Some(Ok((root, touched)))) => {
                self.publisher.queue_edit(root, touched, uri);
                let publisher = self.publisher.clone();
                tokio::spawn(async move { publisher.flush().await });
            }
            Ok(Some(Err(path))) => self.answer_alone(uri, path),
            _ => {}
        }
    }

    async fn did_save(&self, p: DidSaveTextDocumentParams) {
        // Saving changes the structure the context engine reads (frontmatter, order): rebuild it
        // on the next lens request. The save becomes a snapshot event in the history.
        // Approved edits the editor applied to this buffer are recorded first, as their events.
        let (place, plans) = {
            let mut st = self.lock();
            let place = st.docs.get(&p.text_document.uri).and_then(|d| d.place.clone());
            if let Some(project) = place.as_ref().and_then(|(root, _)| st.projects.get_mut(root)) {
                project.invalidate_engine();
            }
            (place, st.unsaved_plans.remove(&p.text_document.uri).unwrap_or_default())
        };
        if let Some((root, rel)) = place {
            let recorded = self.recorder.record(vec![(root, rel)], plans).await;
            // Each run whose edit this save recorded hears so (`event: "recorded"`).
            let session = self.session();
            for (p, r) in recorded {
                let (event, error) = match r {
                    Ok(id) => (Some(id), None),
                    Err(e) => (None, Some(e.to_string())),
                };
                session.notify(protocol::RunProgress {
                    plan: Some(p.plan.id.clone()),
                    history_event: event,
                    error,
                    ..protocol::RunProgress::new(
                        &p.run,
                        &p.pipeline,
                        showrunner_pipeline::RunState::Succeeded,
                        protocol::ProgressEvent::Recorded,
                    )
                });
            }
        }
    }

    async fn did_close(&self, p: DidCloseTextDocumentParams) {
        let uri = p.text_document.uri;
        let changed = guarded("didClose", || {
            let mut st = self.lock();
            let doc = st.docs.remove(&uri);
            self.sent_tokens.forget(&uri);
            for p in st.unsaved_plans.remove(&uri).unwrap_or_default() {
                // Closed without saving: the writer discarded the approved edit with the rest.
                tracing::info!(run = %p.run, plan = %p.plan.id, "an approved edit was closed unsaved: not recorded");
            }
            Ok(doc.and_then(|d| d.place).and_then(|_| uri_path(&uri)))
        });
        self.tell_editing();
        // The unsaved text goes away with the editor: the disk's version counts again.
        if let Ok(Some(path)) = changed {
            self.reload(path).await;
        }
    }

    async fn did_change_watched_files(&self, p: DidChangeWatchedFilesParams) {
        let paths: Vec<PathBuf> = p.changes.iter().filter_map(|c| uri_path(&c.uri)).collect();
        self.outside().take(paths).await;
    }

    async fn hover(&self, p: HoverParams) -> Result<Option<Hover>> {
        self.ready(&p.text_document_position_params.text_document.uri).await;
        guarded("hover", || Ok(self.at(&p.text_document_position_params).and_then(|(s, o)| navigate::hover(&s, o))))
    }

    async fn goto_definition(&self, p: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        self.ready(&p.text_document_position_params.text_document.uri).await;
        guarded("definition", || {
            Ok(self
                .at(&p.text_document_position_params)
                .and_then(|(s, o)| navigate::definition(&s, o))
                .map(GotoDefinitionResponse::Scalar))
        })
    }

    async fn references(&self, p: ReferenceParams) -> Result<Option<Vec<Location>>> {
        self.ready(&p.text_document_position.text_document.uri).await;
        guarded("references", || {
            let Some((s, o)) = self.at(&p.text_document_position) else { return Ok(None) };
            let found = navigate::references(&s, o, p.context.include_declaration);
            // Thousands of locations go out serialised straight from their structs (issue 22).
            match (found.len() > 64).then(|| self.publisher.wire.stash(&found)).flatten() {
                Some(uri) => Ok(Some(vec![Location { uri, range: Range::default() }])),
                None => Ok(Some(found)),
            }
        })
    }

    async fn prepare_rename(&self, p: TextDocumentPositionParams) -> Result<Option<PrepareRenameResponse>> {
        self.ready(&p.text_document.uri).await;
        guarded("prepareRename", || Ok(self.at(&p).and_then(|(s, o)| edit::prepare_rename(&s, o))))
    }

    async fn rename(&self, p: RenameParams) -> Result<Option<WorkspaceEdit>> {
        self.ready(&p.text_document_position.text_document.uri).await;
        guarded("rename", || {
            let (s, o) =
                self.at(&p.text_document_position).ok_or_else(|| invalid("not a file of a Showrunner project"))?;
            edit::rename(&s, o, &p.new_name).map(Some).map_err(invalid)
        })
    }

    async fn completion(&self, p: CompletionParams) -> Result<Option<CompletionResponse>> {
        self.ready(&p.text_document_position.text_document.uri).await;
        guarded("completion", || {
            Ok(self.at(&p.text_document_position).map(|(s, o)| CompletionResponse::Array(edit::completion(&s, o))))
        })
    }

    async fn code_lens(&self, p: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        self.ready(&p.text_document.uri).await;
        let uri = p.text_document.uri;
        if let Some(lenses) = glass::review_document_lenses(self, &uri) {
            return Ok(Some(lenses));
        }
        // The scene's recalled defects as last read (never SQLite here: lenses follow typing).
        let work = {
            let mut st = self.lock();
            st.snapshot(&uri).and_then(|snap| {
                let recalls = st.recalled(&snap);
                let engine = st.projects.get_mut(&snap.root)?.engine();
                Some((snap, engine, recalls))
            })
        };
        guarded("codeLens", || {
            Ok(work.map(|(snap, engine, recalls)| {
                let mut lenses = commands::code_lens(&snap, &engine, &recalls, &uri);
                if !lenses.is_empty() {
                    lenses.extend(glass::scene_lenses(&uri));
                }
                lenses
            }))
        })
    }

    async fn code_action(&self, p: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        if let Some(actions) = glass::review_document_actions(self, &p.text_document.uri) {
            return Ok(Some(actions));
        }
        self.ready(&p.text_document.uri).await;
        guarded("codeAction", || {
            Ok(self.snapshot(&p.text_document.uri).map(|s| {
                let mut actions = edit::code_actions(&s, &p.text_document.uri, &p.context.diagnostics);
                actions.extend(glass::quick_actions(&s, &p.text_document.uri, p.range));
                actions
            }))
        })
    }

    async fn folding_range(&self, p: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        self.ready(&p.text_document.uri).await;
        guarded("foldingRange", || Ok(self.snapshot(&p.text_document.uri).map(|s| navigate::folding_ranges(&s))))
    }

    async fn document_symbol(&self, p: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>> {
        self.ready(&p.text_document.uri).await;
        guarded("documentSymbol", || {
            Ok(self
                .snapshot(&p.text_document.uri)
                .map(|s| DocumentSymbolResponse::Nested(navigate::document_symbols(&s))))
        })
    }

    async fn symbol(&self, p: WorkspaceSymbolParams) -> Result<Option<WorkspaceSymbolResponse>> {
        let (projects, enc) = {
            let st = self.lock();
            (st.projects.iter().map(|(r, p)| (r.clone(), p.analysis.clone())).collect::<Vec<_>>(), st.enc())
        };
        guarded("workspace/symbol", || {
            Ok(Some(WorkspaceSymbolResponse::Flat(navigate::workspace_symbols(&projects, &p.query, enc))))
        })
    }

    async fn semantic_tokens_full(&self, p: SemanticTokensParams) -> Result<Option<SemanticTokensResult>> {
        let uri = p.text_document.uri;
        self.ready(&uri).await;
        guarded("semanticTokens", || {
            Ok(self.snapshot(&uri).map(|s| {
                let data = tokens::tokens(&s);
                let st = self.lock();
                SemanticTokensResult::Tokens(self.sent_tokens.full(&uri, data, st.docs.contains_key(&uri)))
            }))
        })
    }

    async fn semantic_tokens_full_delta(
        &self,
        p: SemanticTokensDeltaParams,
    ) -> Result<Option<SemanticTokensFullDeltaResult>> {
        let uri = p.text_document.uri;
        self.ready(&uri).await;
        guarded("semanticTokens/delta", || {
            Ok(self.snapshot(&uri).map(|s| {
                let data = tokens::tokens(&s);
                let st = self.lock();
                self.sent_tokens.delta(&uri, data, &p.previous_result_id, st.docs.contains_key(&uri))
            }))
        })
    }

    async fn diagnostic(&self, p: DocumentDiagnosticParams) -> Result<DocumentDiagnosticReportResult> {
        let uri = p.text_document.uri;
        self.ready(&uri).await;
        // What was queued before this request is computed first.
        self.publisher.flush().await;
        let previous = p.previous_result_id;
        let report = guarded("diagnostic", || Ok(self.pull_report(&uri, previous.as_deref())))?;
        Ok(DocumentDiagnosticReportResult::Report(match report {
            (id, None) => DocumentDiagnosticReport::Unchanged(RelatedUnchangedDocumentDiagnosticReport {
                related_documents: None,
                unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport { result_id: id },
            }),
            (id, Some(items)) => DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
                related_documents: None,
                full_document_diagnostic_report: FullDocumentDiagnosticReport { result_id: Some(id), items },
            }),
        }))
    }

    async fn workspace_diagnostic(&self, p: WorkspaceDiagnosticParams) -> Result<WorkspaceDiagnosticReportResult> {
        self.publisher.flush().await;
        let previous: std::collections::HashMap<Uri, String> =
            p.previous_result_ids.into_iter().map(|r| (r.uri, r.value)).collect();
        guarded("workspace/diagnostic", || {
            Ok(WorkspaceDiagnosticReportResult::Report(self.workspace_report(&previous)))
        })
    }

    async fn execute_command(&self, p: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        match p.command.as_str() {
            "showrunner.context.show" => {
                let args: protocol::ContextArgs = params(&p.arguments)?;
                self.ready(&args.uri).await;
                // Asked before the first read of the project's recalled defects finished: read now.
                if let Some(root) = self.snapshot(&args.uri).map(|s| s.root) {
                    recall::ensure(&self.state, &root).await;
                }
                let work = {
                    let mut st = self.lock();
                    st.snapshot(&args.uri).and_then(|snap| {
                        let recalls = st.recalled(&snap);
                        let engine = st.projects.get_mut(&snap.root)?.engine();
                        Some((snap, engine, recalls))
                    })
                };
                let (snap, engine, recalls) = work
                    .ok_or_else(|| invalid(format!("{} is not a file of a Showrunner project", args.uri.as_str())))?;
                guarded("showrunner.context.show", || {
                    let ctx = commands::context_recalling(&snap, &engine, args.position, args.budget, &recalls)
                        .ok_or_else(|| invalid(format!("{} is not a scene", args.uri.as_str())))?;
                    serde_json::to_value(ctx).map(Some).map_err(|e| internal(e.to_string()))
                })
            }
            "showrunner.models.resolve" => {
                let args: protocol::ModelsArgs = params(&p.arguments)?;
                if let Some(u) = &args.uri {
                    self.ready(u).await;
                }
                let snap = args.uri.as_ref().and_then(|u| self.snapshot(u));
                let analysis = match &snap {
                    Some(s) => Some(s.analysis.clone()),
                    None => self.lock().projects.values().next().map(|p| p.analysis.clone()),
                };
                let root =
                    snap.as_ref().map(|s| s.root.clone()).or_else(|| self.lock().projects.keys().next().cloned());
                let (Some(analysis), Some(root)) = (analysis, root) else {
                    return Err(invalid("no Showrunner project is loaded"));
                };
                let agents = tokio::task::spawn_blocking(move || showrunner_agents::defs::catalogue(Some(&root)).0)
                    .await
                    .map_err(|e| internal(e.to_string()))?;
                guarded("showrunner.models.resolve", || {
                    let scene = snap.as_ref().and_then(|s| s.scene());
                    let cascade = showrunner_agents::studio::Cascade::new(&analysis, &agents);
                    glass::to_value(cascade.resolve(scene, args.step.as_deref(), args.agent.as_deref()))
                })
            }
            "showrunner.bucket.create" => {
                let args: protocol::BucketCreateArgs = params(&p.arguments)?;
                let root = self.project_for(args.project.as_deref(), None).await?;
                let analysis = self.analysis_of(&root)?;
                let new = showrunner_store::buckets::NewBucket {
                    kind: &args.kind,
                    name: &args.name,
                    aliases: &args.aliases,
                    parent: args.parent.as_deref(),
                };
                let (id, path) = showrunner_store::buckets::create_bucket(
                    &root,
                    &analysis.config.kinds,
                    &new,
                    &|id| analysis.by_id.contains_key(id),
                    "user",
                )
                .map_err(invalid)?;
                self.reload(path.clone()).await;
                let uri = path_uri(&path).ok_or_else(|| internal("bad path"))?;
                glass::to_value(protocol::BucketCreated { id, uri })
            }
            "showrunner.timeline.list"
            | "showrunner.timeline.create"
            | "showrunner.timeline.switch"
            | "showrunner.history" => {
                let args: protocol::HistoryArgs = params(&p.arguments)?;
                self.history_command(&p.command, args).await
            }
            "showrunner.graph" | "showrunner.stats" => self.pictures_command(&p.command, &p.arguments).await,
            "showrunner.export" => self.export_command(&p.arguments).await,
            "showrunner.search" => {
                let args: protocol::SearchArgs = params(&p.arguments)?;
                let root = self.project_for(args.project.as_deref(), args.uri.as_ref()).await?;
                let analysis = self.analysis_of(&root)?;
                let hits = tokio::task::spawn_blocking(move || commands::search(&root, &analysis, args))
                    .await
                    .map_err(|e| internal(e.to_string()))?
                    .map_err(invalid)?;
                glass::to_value(hits)
            }
            c if c.starts_with("showrunner.batch.") || c == "showrunner.plan" => {
                self.batch_command(c, &p.arguments).await
            }
            c if protocol::COMMANDS.iter().any(|s| s.name == c) => self.glass_command(c, &p.arguments).await,
            other => Err(Error {
                code: ErrorCode::MethodNotFound,
                message: format!("unknown command `{other}`").into(),
                data: None,
            }),
        }
    }
}

//! Runs in the editor. Pipelines and agents started by commands, code actions and lenses run on
//! threads of their own (the engine is synchronous); this module connects them to the protocol:
//! - gates write a review document under `.showrunner/runs/<run>/`, ask the client to show it, and
//!   wait until `showrunner.gate.resolve` (a code lens on that document, or a command) decides;
//! - streamed text goes out as `showrunner/runProgress` notifications, and each run reports
//!   cancellable work-done progress;
//! - approved edits go to the editor with `workspace/applyEdit` before the history records them.
//!
//! The run's state is saved after every step, so a run waiting at a gate when the server stops
//! is asked again when it starts ([`Runner::resume_all`]).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};

use serde_json::{json, Value};

use crate::protocol::{EditView, GateRef, GateView, ProgressEvent, RunProgress, RunStatus, StepView};
pub use showrunner_agents::studio::Job;
use showrunner_agents::studio::{
    confirm_resume, needs_resume_confirmation, review_path, Edge, LiveModel, ProjectEffects, ReplayModel,
};
use showrunner_llm::Cancel;
use showrunner_model::analysis::Analysis;
use showrunner_pipeline::{
    Decision, DecisionKind, EditPlan, GateKind, Gates, Model, Run, RunError, RunState, Step, StepState,
};
use showrunner_store::runs::Runs;
use tower_lsp_server::ls_types::notification::Notification;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use crate::pos::to_position;
use crate::state::{path_uri, State};

/// `showrunner/runProgress`: a run's state, steps, gates and streamed text.
pub enum RunProgressNote {}

impl Notification for RunProgressNote {
    type Params = RunProgress;
    const METHOD: &'static str = crate::protocol::RUN_PROGRESS;
}

/// What a run needs of the session: the documents, the client, the runtime.
#[derive(Clone)]
pub struct Session {
    pub state: Arc<Mutex<State>>,
    pub client: Client,
    pub handle: tokio::runtime::Handle,
    pub caps: Caps,
    /// `showrunner/runProgress` notifications, in order, to one task that sends them (they are
    /// sent from inside a streaming model call, which cannot block on the runtime).
    pub notes: tokio::sync::mpsc::UnboundedSender<RunProgress>,
    /// Diagnostics after a run wrote a file.
    pub(crate) publisher: crate::Publisher,
    /// The projects' recalled past defects, read again when a run ends (its verify or judge
    /// may have reported one), also where no file watcher tells of runs.db's writes.
    pub(crate) recaller: crate::recall::Recaller,
}

/// The client capabilities runs care about.
#[derive(Clone, Copy, Default)]
pub struct Caps {
    pub apply_edit: bool,
    /// `workspace.workspaceEdit.documentChanges`: edits can name the document version.
    pub document_changes: bool,
    pub show_document: bool,
    pub work_done_progress: bool,
    /// The client shows neither the review lenses nor the review document (eglot, Helix, plain
    /// Neovim): gates are asked with `window/showMessageRequest`, and runs that end are told with
    /// `window/showMessage`.
    pub ask_by_message: bool,
}

impl Session {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The text of a document: the editor's buffer when it is open, else the file.
    pub fn text_of(&self, path: &Path) -> Option<String> {
        let uri = path_uri(path)?;
        if let Some(d) = self.lock().docs.get(&uri) {
            return Some(d.text.to_string());
        }
        std::fs::read_to_string(path).ok()
    }

    pub fn notify(&self, params: RunProgress) {
        if self.notes.send(params).is_err() {
            tracing::warn!("run progress not sent: the session is closing");
        }
    }
}

/// The task that sends run notifications in order.
pub fn notifier(client: Client) -> tokio::sync::mpsc::UnboundedSender<RunProgress> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<RunProgress>();
    tokio::spawn(async move {
        while let Some(params) = rx.recv().await {
            client.send_notification::<RunProgressNote>(params).await;
        }
    });
    tx
}

/// A gate waiting for the writer.
#[derive(Clone)]
pub struct Pending {
    pub run: String,
    pub pipeline: String,
    pub step: String,
    pub kind: GateKind,
    pub uri: Uri,
    pub path: PathBuf,
    pub text: String,
    pub model: String,
    /// Why a call to `model` cannot go out (a provider without its key), when the run calls one.
    pub model_problem: Option<String>,
    pub root: PathBuf,
    /// The edit approving makes, what the writer must know first, and what the model reasoned.
    pub edit: Option<EditPlan>,
    pub note: Option<String>,
    pub reasoning: Option<String>,
    /// The judge's score of the answer, when a judge scored it.
    pub confidence: Option<f64>,
    tx: mpsc::Sender<Decision>,
}

/// Why a gate was not decided.
pub enum Refused {
    /// The decision cannot be made as asked (the message says why).
    Invalid(String),
    /// The run stopped before the decision arrived.
    Stopped,
}

/// The decisions a writer can make from a message or a code action, beside the lenses' full set.
pub const PROMPT_DECISIONS: &[(&str, Option<DecisionKind>)] = &[
    ("Approve", Some(DecisionKind::Approve)),
    ("Edit", None),
    ("Skip", Some(DecisionKind::Skip)),
    ("Reject", Some(DecisionKind::Reject)),
    ("Open review file", None),
];

impl Pending {
    pub fn decide(&self, d: Decision) -> bool {
        self.tx.send(d).is_ok()
    }

    /// Decides the gate: the one place a writer's decision (from a lens, a code action, a command
    /// or a message) becomes the run's. `text` replaces the review document's text; a model
    /// change needs `model`. Returns whether the gate stays open (asked again).
    pub fn resolve(
        &self,
        session: &Session,
        kind: DecisionKind,
        text: Option<String>,
        model: Option<String>,
    ) -> Result<bool, Refused> {
        let document = || session.text_of(&self.path).unwrap_or_else(|| self.text.clone());
        let decision = match kind {
            DecisionKind::Approve | DecisionKind::Edit => {
                Decision::Approve(text.unwrap_or_else(|| chat_lines(&document()).1))
            }
            DecisionKind::Paste => Decision::Paste(text.unwrap_or_else(|| chat_lines(&document()).1)),
            DecisionKind::Skip => Decision::Skip,
            DecisionKind::Regenerate => Decision::Regenerate,
            DecisionKind::Reject => Decision::Reject(text.unwrap_or_default()),
            DecisionKind::Chat => {
                let message = text.filter(|t| !t.trim().is_empty()).unwrap_or_else(|| chat_lines(&document()).0);
                if message.is_empty() {
                    return Err(Refused::Invalid(
                        "write your message to the model on a line starting with `>>` in the review document, or pass `text`".into(),
                    ));
                }
                Decision::Chat(message)
            }
            DecisionKind::ChangeModel => {
                let Some(model) = model.filter(|m| !m.trim().is_empty()) else {
                    return Err(Refused::Invalid("a model change needs `model`".into()));
                };
                if !model.contains('/') {
                    return Err(Refused::Invalid(format!("`{model}` should be `provider/model`")));
                }
                Decision::ChangeModel(model)
            }
        };
        if !self.decide(decision) {
            return Err(Refused::Stopped);
        }
        // Chat, a model change and a regeneration keep the gate open: it is asked again, with a
        // new `gate` event.
        Ok(kind.keeps_gate_open())
    }

    /// What the writer reads when asked by message.
    fn question(&self) -> String {
        let change = self.edit.as_ref().map(|p| format!(" Approving: {}.", p.description)).unwrap_or_default();
        let note = self.note.as_ref().map(|n| format!(" ⚠ {n}.")).unwrap_or_default();
        let problem = self.model_problem.as_ref().map(|p| format!(" ⚠ {}: {p}.", self.model)).unwrap_or_default();
        let model = if self.model.is_empty() { String::new() } else { format!(" · {}", self.model) };
        format!(
            "Showrunner · {} ({}{model}).{change}{note}{problem} Review file: {}",
            self.kind.label(),
            self.pipeline,
            self.path.display()
        )
    }

    pub fn view(&self) -> GateView {
        GateView {
            run: self.run.clone(),
            step: self.step.clone(),
            kind: self.kind,
            uri: self.uri.clone(),
            pipeline: self.pipeline.clone(),
            model: self.model.clone(),
            model_problem: self.model_problem.clone(),
            text: self.text.clone(),
            edit: self.edit.as_ref().map(|p| EditView::of(&self.root, p)),
            note: self.note.clone(),
            reasoning: self.reasoning.clone(),
            confidence: self.confidence,
        }
    }

    /// The diff beside the review document, when the gate precedes an edit.
    pub fn diff_path(&self) -> Option<PathBuf> {
        self.edit.as_ref().map(|_| self.path.with_extension("diff"))
    }
}

struct Active {
    root: PathBuf,
    cancelled: Arc<AtomicBool>,
    cancel: Cancel,
    gate: Option<Pending>,
    finished: Arc<(Mutex<bool>, Condvar)>,
    /// The writer approved in bulk the gates of answers judged at least this.
    approve_judged: Option<f64>,
}

/// The runs this server drives.
#[derive(Clone, Default)]
pub struct Runner {
    active: Arc<Mutex<HashMap<String, Active>>>,
}

impl Runner {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Active>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Pending gates, oldest run first: the approval queue.
    pub fn gates(&self) -> Vec<Pending> {
        let mut out: Vec<Pending> = self.lock().values().filter_map(|a| a.gate.clone()).collect();
        out.sort_by(|a, b| a.run.cmp(&b.run));
        out
    }

    pub fn gate(&self, run: &str, step: &str) -> Option<Pending> {
        self.lock().get(run).and_then(|a| a.gate.clone()).filter(|g| g.step == step)
    }

    /// The gate a review document belongs to.
    pub fn gate_for_uri(&self, uri: &Uri) -> Option<Pending> {
        self.lock().values().filter_map(|a| a.gate.clone()).find(|g| &g.uri == uri)
    }

    pub fn is_active(&self, run: &str) -> bool {
        self.lock().contains_key(run)
    }

    /// Driven here and not waiting at a gate: what counts against a batch's concurrency.
    pub fn is_busy(&self, run: &str) -> bool {
        self.lock().get(run).is_some_and(|a| a.gate.is_none())
    }

    /// From now on, run `run`'s judge and output gates of answers judged at least `min` are
    /// approved as they come (the writer approved them in bulk); the one waiting now is too
    /// when it qualifies. Whether it did.
    pub fn approve_judged(&self, session: &Session, run: &str, min: f64) -> bool {
        let waiting = {
            let mut map = self.lock();
            let Some(a) = map.get_mut(run) else { return false };
            a.approve_judged = Some(min);
            a.gate.clone()
        };
        match waiting.filter(|g| judged_at_least(g.kind, g.confidence, min)) {
            Some(g) => g.resolve(session, DecisionKind::Approve, None, None).is_ok(),
            None => false,
        }
    }

    fn approves_judged(&self, run: &str) -> Option<f64> {
        self.lock().get(run).and_then(|a| a.approve_judged)
    }

    pub fn root_of(&self, run: &str) -> Option<PathBuf> {
        self.lock().get(run).map(|a| a.root.clone())
    }

    /// Cancels a run: the stream stops, a waiting gate gives up. Waits (up to `wait`) for the
    /// run to stop; returns whether it did.
    pub fn cancel(&self, run: &str, wait: std::time::Duration) -> bool {
        let finished = {
            let map = self.lock();
            let Some(a) = map.get(run) else { return true };
            a.cancelled.store(true, Ordering::SeqCst);
            a.cancel.cancel();
            if let Some(g) = &a.gate {
                g.decide(Decision::Cancel);
            }
            a.finished.clone()
        };
        let (lock, cv) = &*finished;
        let done = lock.lock().unwrap_or_else(|e| e.into_inner());
        let (done, _) = cv.wait_timeout_while(done, wait, |d| !*d).unwrap_or_else(|e| e.into_inner());
        *done
    }

    /// Starts (or resumes) a run on a thread of its own.
    pub fn start(&self, session: &Session, root: PathBuf, analysis: Arc<Analysis>, job: Job, mut run: Run, how: How) {
        let How { replay, confirm, after } = how;
        let cancelled = Arc::new(AtomicBool::new(false));
        let cancel = Cancel::default();
        let finished = Arc::new((Mutex::new(false), Condvar::new()));
        self.lock().insert(
            run.id.clone(),
            Active {
                root: root.clone(),
                cancelled: cancelled.clone(),
                cancel: cancel.clone(),
                gate: None,
                finished: finished.clone(),
                approve_judged: None,
            },
        );
        let runner = self.clone();
        let session = session.clone();
        let spawned = std::thread::Builder::new().name(format!("run {}", run.id)).spawn(move || {
            let id = run.id.clone();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let d = Drive { runner: &runner, session: &session, root: &root, analysis: &analysis, confirm };
                drive(d, job, &mut run, replay, cancelled, cancel)
            }));
            if let Err(panic) = outcome {
                let msg = crate::panic_message(panic.as_ref());
                tracing::error!(run = %id, panic = %msg, "the run panicked");
                run.state = RunState::Failed;
                run.error = Some(format!("internal error: the run stopped unexpectedly: {msg}"));
                if let Ok(runs) = Runs::open(&root) {
                    let _ = runs.save(
                        &run.id,
                        &run.pipeline,
                        &run.scene,
                        "failed",
                        run.error.as_deref(),
                        &serde_json::to_value(&run).unwrap_or_default(),
                    );
                }
                session.notify(RunProgress {
                    error: run.error.clone(),
                    ..RunProgress::new(&id, &run.pipeline, RunState::Failed, ProgressEvent::Done)
                });
            }
            runner.lock().remove(&id);
            let (lock, cv) = &*finished;
            *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
            cv.notify_all();
            if let Some(after) = after {
                after(&run);
            }
        });
        if let Err(e) = spawned {
            tracing::error!("cannot start a run thread: {e}");
        }
    }

    /// Resumes the project's unfinished runs (after a restart or a crash): a run at a gate is
    /// asked again, a step cut off mid-call runs again, finished steps are kept.
    pub fn resume_all(&self, session: &Session, root: &Path, analysis: Arc<Analysis>) {
        // A project that never ran anything gets no run store from merely being opened.
        if !Runs::path(root).exists() {
            return;
        }
        let Ok(runs) = Runs::open(root) else { return };
        let Ok(rows) = runs.list() else { return };
        // A batch's queued and running runs are its workers' (`showrunner batch`); its runs
        // parked at a gate wait here, in the one approval queue.
        let mine = |r: &&showrunner_store::runs::RunRow| match r.state.as_str() {
            "waiting" => true,
            "queued" | "running" => r.batch.is_none(),
            _ => false,
        };
        for row in rows.iter().filter(mine) {
            if self.is_active(&row.id) {
                continue;
            }
            let Ok(Some(data)) = runs.load(&row.id) else { continue };
            let Ok(mut run) = serde_json::from_value::<Run>(data) else { continue };
            if run.replay_of.is_some() || !runs.claim(&row.id).unwrap_or(false) {
                continue;
            }
            let job = match Job::of_run(root, &run) {
                Ok(job) => job,
                Err(e) => {
                    tracing::warn!(run = %row.id, "cannot resume: {e}");
                    continue;
                }
            };
            // A run this server did not start calls no model before the writer says so.
            let confirm = needs_resume_confirmation(&run);
            let _ = runs.touch_attempt(&row.id);
            run.prepare_resume();
            tracing::info!(run = %row.id, confirm, "resuming");
            self.start(session, root.to_path_buf(), analysis.clone(), job, run, How { confirm, ..How::default() });
        }
    }

    fn set_gate(&self, run: &str, gate: Option<Pending>) {
        if let Some(a) = self.lock().get_mut(run) {
            a.gate = gate;
        }
    }
}

/// How a run starts.
#[derive(Default)]
pub struct How {
    /// A recorded run whose answers replay instead of a model server.
    pub replay: Option<Run>,
    /// Ask the writer before going on (a run another process left unfinished).
    pub confirm: bool,
    /// What follows the run's end (a plan's batch is worked).
    pub after: Option<AfterRun>,
}

/// What a run's thread does once the run has ended.
pub type AfterRun = Box<dyn FnOnce(&Run) + Send>;

/// A judge gate, or an output gate after a judge, whose answer scored at least `min`.
fn judged_at_least(kind: GateKind, confidence: Option<f64>, min: f64) -> bool {
    matches!(kind, GateKind::Judge | GateKind::ApproveOutput) && confidence.is_some_and(|c| c >= min)
}

/// Where a run is driven: the server's runner and session, the project, and whether to ask
/// before going on with it (a run another process left unfinished).
struct Drive<'a> {
    runner: &'a Runner,
    session: &'a Session,
    root: &'a Path,
    analysis: &'a Analysis,
    confirm: bool,
}

fn drive(d: Drive<'_>, job: Job, run: &mut Run, replay: Option<Run>, cancelled: Arc<AtomicBool>, cancel: Cancel) {
    let Drive { runner, session, root, analysis, confirm } = d;
    let runs = match Runs::open(root) {
        Ok(r) => r,
        Err(e) => {
            session.notify(RunProgress {
                error: Some(format!("cannot open the run store: {e}")),
                ..RunProgress::new(&run.id, &run.pipeline, RunState::Failed, ProgressEvent::Done)
            });
            tell_end(session, run, RunState::Failed, Some(&format!("cannot open the run store: {e}")));
            return;
        }
    };
    let model: Box<dyn Model> = match &replay {
        Some(recorded) => Box::new(ReplayModel::new(recorded)),
        None => Box::new(LiveModel {
            config: analysis.config.clone(),
            root: root.to_path_buf(),
            client: showrunner_llm::Client::new(),
            handle: session.handle.clone(),
            cancel,
        }),
    };
    let (agents, _) = showrunner_agents::defs::catalogue(Some(root));
    let scene = analysis.scene_at(&run.scene);
    let progress = begin_progress(session, &run.id, job.title());
    let edge = LspEdge {
        session: session.clone(),
        root: root.to_path_buf(),
        run: run.id.clone(),
        pipeline: run.pipeline.clone(),
        cancelled,
        last: None,
        progress,
    };
    let mut fx = ProjectEffects { root: root.to_path_buf(), analysis, scene, runs, agents, edge };
    // The model a gate names: the writer's choice, else what the cascade gives the first model step.
    let next_model = job.first_model(run, &mut fx);
    let mut gates = LspGates {
        session: session.clone(),
        runner: runner.clone(),
        root: root.to_path_buf(),
        asked: HashSet::new(),
        next_model,
        config: replay.is_none().then(|| analysis.config.clone()),
    };
    if !confirm || confirm_resume(&job, run, &mut gates, &mut fx) {
        job.execute(run, model.as_ref(), &mut gates, &mut fx);
    }
    if let Some(p) = fx.edge.progress.take() {
        let state = run.state.as_str();
        session.handle.block_on(p.finish_with_message(format!(
            "{state}{}",
            run.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
        )));
    }
    session.recaller.refresh(root);
    session.notify(RunProgress {
        error: run.error.clone(),
        ..RunProgress::new(&run.id, &run.pipeline, run.state, ProgressEvent::Done)
    });
    tell_end(session, run, run.state, run.error.as_deref());
}

/// A run's end as a message, for clients that show no run progress of ours.
fn tell_end(session: &Session, run: &Run, state: RunState, error: Option<&str>) {
    if !session.caps.ask_by_message {
        return;
    }
    let (kind, message) = match (state, error) {
        (RunState::Succeeded, _) => {
            (MessageType::INFO, format!("Showrunner: {} finished (run {}).", run.pipeline, run.id))
        }
        (RunState::Cancelled, _) => {
            (MessageType::INFO, format!("Showrunner: {} was cancelled (run {}).", run.pipeline, run.id))
        }
        (state, Some(e)) => {
            (MessageType::ERROR, format!("Showrunner: {} {}: {e} (run {}).", run.pipeline, state.as_str(), run.id))
        }
        (state, None) => {
            (MessageType::WARNING, format!("Showrunner: {} {} (run {}).", run.pipeline, state.as_str(), run.id))
        }
    };
    let client = session.client.clone();
    session.handle.block_on(client.show_message(kind, message));
}

type Progress = tower_lsp_server::OngoingProgress<tower_lsp_server::Unbounded, tower_lsp_server::Cancellable>;

/// The token of a run's work-done progress; cancelling it cancels the run.
pub fn progress_token(run: &str) -> NumberOrString {
    NumberOrString::String(format!("showrunner/run/{run}"))
}

/// Asks the client to create a work-done progress `token`: false when it refuses or does not
/// answer within two seconds, so that a run, a batch, an export or the indexing is never held up
/// by a client that does not answer (it then sees no progress).
pub async fn create_progress(client: &tower_lsp_server::Client, token: NumberOrString) -> bool {
    let asked = client.create_work_done_progress(token);
    matches!(tokio::time::timeout(std::time::Duration::from_secs(2), asked).await, Ok(Ok(())))
}

fn begin_progress(session: &Session, run: &str, title: &str) -> Option<Progress> {
    if !session.caps.work_done_progress {
        return None;
    }
    let token = progress_token(run);
    let client = session.client.clone();
    session.handle.block_on(async move {
        create_progress(&client, token.clone()).await.then_some(())?;
        Some(client.progress(token, format!("Showrunner: {title}")).with_cancel_button().begin().await)
    })
}

/// The editor side of a run.
struct LspEdge {
    session: Session,
    root: PathBuf,
    run: String,
    pipeline: String,
    cancelled: Arc<AtomicBool>,
    /// What the last save looked like, to tell the client only what changed.
    last: Option<(RunState, Vec<StepState>)>,
    progress: Option<Progress>,
}

impl Edge for LspEdge {
    fn current_text(&mut self, root: &Path, path: &str) -> Result<String, RunError> {
        self.session.text_of(&root.join(path)).ok_or_else(|| RunError::Store(format!("cannot read {path}")))
    }

    fn apply_in_editor(&mut self, run: &Run, plan: &EditPlan) -> Result<bool, RunError> {
        let path = self.root.join(&plan.path);
        let uri = path_uri(&path).ok_or_else(|| RunError::Invalid(format!("{} has no URI", plan.path)))?;
        let (open, enc) = {
            let st = self.session.lock();
            (st.docs.get(&uri).map(|d| (d.text.clone(), d.lines.clone(), d.version)), st.enc())
        };
        let Some((text, lines, version)) = open else { return Ok(false) };
        if !self.session.caps.apply_edit {
            return Err(RunError::Editor(format!(
                "{} is open in the editor, which does not take edits from the server (workspace/applyEdit), and Showrunner never writes a file the writer has open; close it and resume the run (the approved text is kept in the run record)",
                plan.path
            )));
        }
        // The buffer may have moved since the plan was based on it.
        let plan = plan.rebase(&text)?;
        let range = tower_lsp_server::ls_types::Range {
            start: to_position(&text, &lines, plan.range.start, enc),
            end: to_position(&text, &lines, plan.range.end, enc),
        };
        let edit = TextEdit { range, new_text: plan.new_text.clone() };
        let edit = if self.session.caps.document_changes {
            WorkspaceEdit {
                document_changes: Some(DocumentChanges::Edits(vec![TextDocumentEdit {
                    text_document: OptionalVersionedTextDocumentIdentifier { uri: uri.clone(), version: Some(version) },
                    edits: vec![OneOf::Left(edit)],
                }])),
                ..Default::default()
            }
        } else {
            WorkspaceEdit { changes: Some(HashMap::from([(uri.clone(), vec![edit])])), ..Default::default() }
        };
        let client = self.session.client.clone();
        let params = ApplyWorkspaceEditParams { label: Some(format!("Showrunner: {}", run.pipeline)), edit };
        match self
            .session
            .handle
            .block_on(client.send_request::<tower_lsp_server::ls_types::request::ApplyWorkspaceEdit>(params))
        {
            Ok(r) if r.applied => {
                self.adopt(run, &plan);
                Ok(true)
            }
            Ok(r) => Err(RunError::Editor(format!(
                "the editor refused the edit{}; the approved text is kept in the run record",
                r.failure_reason.map(|f| format!(" ({f})")).unwrap_or_default()
            ))),
            Err(e) => Err(RunError::Editor(format!("the editor did not apply the edit: {e}"))),
        }
    }

    fn adopt(&mut self, run: &Run, plan: &EditPlan) -> bool {
        let Some(uri) = path_uri(&self.root.join(&plan.path)) else { return false };
        let mut st = self.session.lock();
        if !st.docs.contains_key(&uri) {
            return false;
        }
        // Recorded in the history when the writer saves (`didSave`).
        st.unsaved_plans.entry(uri).or_default().push(crate::state::UnsavedPlan {
            root: self.root.clone(),
            run: run.id.clone(),
            pipeline: run.pipeline.clone(),
            plan: plan.clone(),
        });
        true
    }

    fn written(&mut self, path: &str) {
        let work = crate::state::reload_file(&self.session.state, &self.root.join(path));
        if let Some((root, touched)) = work {
            self.session.handle.block_on(self.session.publisher.publish(root, touched));
        }
    }

    fn text(&mut self, step: &str, text: &str) {
        self.session.notify(RunProgress {
            step: Some(step.to_string()),
            text: Some(text.to_string()),
            ..RunProgress::new(&self.run, &self.pipeline, RunState::Running, ProgressEvent::Text)
        });
    }

    fn saved(&mut self, run: &Run) {
        let steps: Vec<StepState> = run.steps.iter().map(|s| s.state).collect();
        let (old_state, old_steps) = self.last.clone().unwrap_or((RunState::Queued, Vec::new()));
        if run.state != old_state && !run.is_finished() {
            self.session.notify(RunProgress {
                error: run.error.clone(),
                ..RunProgress::new(&run.id, &run.pipeline, run.state, ProgressEvent::State)
            });
        }
        for (i, s) in run.steps.iter().enumerate() {
            if old_steps.get(i) != Some(&s.state) {
                self.session.notify(RunProgress {
                    step: Some(s.id.clone()),
                    step_state: Some(s.state),
                    model: s.model.clone(),
                    ..RunProgress::new(&run.id, &run.pipeline, run.state, ProgressEvent::Step)
                });
                if let (Some(p), StepState::Running) = (&self.progress, s.state) {
                    self.session.handle.block_on(p.report_with_message(format!("{} ({})", s.id, s.kind), Some(true)));
                }
            }
        }
        self.last = Some((run.state, steps));
    }

    fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

/// Gates through plain LSP: a review document, shown; the decision arrives as a command.
struct LspGates {
    session: Session,
    runner: Runner,
    root: PathBuf,
    /// Gates asked in this process: the first ask of a gate after a restart keeps the writer's
    /// edits in its review document.
    asked: HashSet<String>,
    next_model: String,
    /// The project's configuration, to tell a model that cannot be called; `None` when the run
    /// replays a recorded one (no model is called).
    config: Option<showrunner_model::config::ProjectConfig>,
}

impl Gates for LspGates {
    fn ask(&mut self, run: &Run, step: &Step, kind: GateKind, text: &str) -> Decision {
        let confidence = run.gate.as_ref().and_then(|g| g.confidence);
        if let Some(min) = self.runner.approves_judged(&run.id).filter(|&m| judged_at_least(kind, confidence, m)) {
            tracing::info!(run = %run.id, step = %step.id, min, "approved in bulk (judged well enough)");
            return Decision::Approve(text.to_string());
        }
        let path = review_path(&self.root, &run.id, &step.id);
        let (edit, note, reasoning) =
            run.gate.as_ref().map(|g| (g.edit.clone(), g.note.clone(), g.reasoning.clone())).unwrap_or_default();
        // The model's reasoning beside the review document, never inside it: what is approved is
        // the document's text.
        let reasoning_path = path.with_extension("reasoning.md");
        match &reasoning {
            Some(r) => {
                let body = format!("# The model's reasoning (not part of the answer)\n\n{r}\n");
                if let Err(e) = showrunner_store::fsx::write_atomic(&reasoning_path, body.as_bytes()) {
                    tracing::warn!("the model's reasoning was not written: {e}");
                }
            }
            None => {
                let _ = std::fs::remove_file(&reasoning_path);
            }
        }
        // The change approving makes, as a diff beside the review document (editors colour it).
        let diff_path = path.with_extension("diff");
        match &edit {
            Some(plan) => {
                let body = format!("# Approving: {}\n{}", plan.description, plan.diff);
                if let Err(e) = showrunner_store::fsx::write_atomic(&diff_path, body.as_bytes()) {
                    tracing::warn!("the gate's diff was not written: {e}");
                }
            }
            None => {
                let _ = std::fs::remove_file(&diff_path);
            }
        }
        let first = self.asked.insert(step.id.clone());
        let kept = if first { std::fs::read_to_string(&path).ok() } else { None };
        let shown = kept.unwrap_or_else(|| text.to_string());
        let Some(uri) = path_uri(&path) else { return Decision::Reject("the review document has no URI".into()) };
        if std::fs::read_to_string(&path).ok().as_deref() != Some(shown.as_str()) {
            if let Err(e) = showrunner_store::fsx::write_atomic(&path, shown.as_bytes()) {
                return Decision::Reject(format!("cannot write the review document: {e}"));
            }
        }
        // An open review document shows the new text too (after a chat or a regeneration).
        let (open, enc) = {
            let st = self.session.lock();
            (st.docs.get(&uri).map(|d| (d.text.to_string(), d.lines.clone())), st.enc())
        };
        if let Some((buffer, lines)) = open.filter(|(b, _)| *b != shown) {
            let end = to_position(&buffer, &lines, buffer.len(), enc);
            let range = tower_lsp_server::ls_types::Range { start: Position::new(0, 0), end };
            let edit = WorkspaceEdit {
                changes: Some(HashMap::from([(uri.clone(), vec![TextEdit { range, new_text: shown.clone() }])])),
                ..Default::default()
            };
            let client = self.session.client.clone();
            let _ = self.session.handle.block_on(client.apply_edit(edit));
        }
        let (tx, rx) = mpsc::channel();
        let model = run.model_override.clone().unwrap_or_else(|| self.next_model.clone());
        let pending = Pending {
            run: run.id.clone(),
            pipeline: run.pipeline.clone(),
            step: step.id.clone(),
            kind,
            uri: uri.clone(),
            path: path.clone(),
            text: shown,
            model: model.clone(),
            // A run that calls no model (a proposal from an outside agent) names none.
            model_problem: self.config.as_ref().filter(|_| !model.is_empty()).and_then(|c| {
                showrunner_context::cascade::model_problem(c, &model, showrunner_agents::studio::key_set)
            }),
            root: self.root.clone(),
            edit,
            note,
            reasoning,
            confidence,
            tx,
        };
        let gate = pending.view();
        self.runner.set_gate(&run.id, Some(pending));
        self.session.notify(RunProgress {
            gate: Some(gate),
            ..RunProgress::new(&run.id, &run.pipeline, RunState::Waiting, ProgressEvent::Gate)
        });
        if self.session.caps.show_document {
            let client = self.session.client.clone();
            let params = ShowDocumentParams { uri, external: Some(false), take_focus: Some(true), selection: None };
            let _ = self.session.handle.block_on(client.show_document(params));
        }
        if self.session.caps.ask_by_message {
            if let Some(g) = self.runner.gate(&run.id, &step.id) {
                self.session.handle.spawn(ask_by_message(self.session.clone(), g));
            }
        }
        let decision = rx.recv().unwrap_or(Decision::Cancel);
        self.runner.set_gate(&run.id, None);
        decision
    }
}

/// Asks a gate with `window/showMessageRequest`, for clients that show neither the review
/// lenses nor the review document; the answer goes through [`Pending::resolve`]. "Edit" and
/// "Open review file" show the review document (or name it), where the same decisions are code
/// actions; a dismissed question leaves the gate to those.
async fn ask_by_message(session: Session, g: Pending) {
    let actions = PROMPT_DECISIONS
        .iter()
        .map(|(title, _)| MessageActionItem { title: (*title).into(), properties: Default::default() })
        .collect();
    let kind = if g.note.is_some() { MessageType::WARNING } else { MessageType::INFO };
    let client = session.client.clone();
    let Ok(Some(chosen)) = client.show_message_request(kind, g.question(), Some(actions)).await else { return };
    match PROMPT_DECISIONS.iter().find(|(title, _)| *title == chosen.title) {
        Some((_, Some(decision))) => {
            let session2 = session.clone();
            let decision = *decision;
            let g2 = g.clone();
            // Reading the review document and handing over the decision may block.
            let outcome = tokio::task::spawn_blocking(move || g2.resolve(&session2, decision, None, None)).await.ok();
            if let Some(Err(Refused::Invalid(why))) = outcome {
                client.show_message(MessageType::ERROR, format!("Showrunner: {why}")).await;
            }
        }
        Some((_, None)) => {
            if session.caps.show_document {
                let params = ShowDocumentParams {
                    uri: g.uri.clone(),
                    external: Some(false),
                    take_focus: Some(true),
                    selection: None,
                };
                let _ = client.show_document(params).await;
            }
            let message = format!(
                "Showrunner: the run waits. Edit {} if you like, then choose \"Showrunner: Approve\" (or Skip, Reject) among the code actions on that file.",
                g.path.display()
            );
            client.show_message(MessageType::INFO, message).await;
        }
        None => {}
    }
}

/// The decisions on a review document as code actions (for editors without code lenses); each
/// runs `showrunner.gate.resolve`, like the lenses.
pub fn review_actions(g: &Pending) -> Vec<CodeActionOrCommand> {
    let decisions = [
        DecisionKind::Approve,
        DecisionKind::Skip,
        DecisionKind::Reject,
        DecisionKind::Regenerate,
        DecisionKind::ChangeModel,
        DecisionKind::Chat,
        DecisionKind::Paste,
    ];
    decisions
        .into_iter()
        .map(|d| {
            let title = d.title().trim_start_matches(['✓', '✗', ' ']).to_string();
            CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Showrunner: {title}"),
                kind: Some(CodeActionKind::QUICKFIX),
                is_preferred: Some(d == DecisionKind::Approve),
                command: Some(Command {
                    title,
                    command: "showrunner.gate.resolve".into(),
                    arguments: Some(vec![json!({ "run": g.run, "step": g.step, "decision": d })]),
                }),
                ..Default::default()
            })
        })
        .collect()
}

/// The lenses on a review document: what the gate is and what approving changes, then its
/// decisions.
pub fn review_lenses(g: &Pending) -> Vec<CodeLens> {
    let range = tower_lsp_server::ls_types::Range::default();
    let lens = |title: String, command: &str, args: Value| CodeLens {
        range,
        command: Some(Command { title, command: command.into(), arguments: Some(vec![args]) }),
        data: None,
    };
    let model = if g.model.is_empty() { String::new() } else { format!(" · {}", g.model) };
    let mut lenses = vec![lens(
        format!("{}{model} · run {}", g.kind.label(), g.run),
        "showrunner.run.status",
        json!({ "run": g.run }),
    )];
    if let Some(plan) = &g.edit {
        lenses.push(lens(
            format!("Approving {} (show the diff)", plan.description),
            "showrunner.gate.diff",
            json!({ "run": g.run, "step": g.step }),
        ));
    }
    if let Some(note) = &g.note {
        lenses.push(lens(format!("⚠ {note}"), "showrunner.run.status", json!({ "run": g.run })));
    }
    if let Some(r) = &g.reasoning {
        let words = r.split_whitespace().count();
        lenses.push(lens(
            format!("The model's reasoning ({words} words, not part of the answer)"),
            "showrunner.gate.reasoning",
            json!({ "run": g.run, "step": g.step }),
        ));
    }
    let decisions = [
        DecisionKind::Approve,
        DecisionKind::Skip,
        DecisionKind::ChangeModel,
        DecisionKind::Paste,
        DecisionKind::Chat,
        DecisionKind::Regenerate,
        DecisionKind::Reject,
    ];
    for d in decisions {
        lenses.push(lens(
            d.title().into(),
            "showrunner.gate.resolve",
            json!({ "run": g.run, "step": g.step, "decision": d }),
        ));
    }
    lenses
}

/// The chat message written into a review document: its lines starting with `>>`.
pub fn chat_lines(text: &str) -> (String, String) {
    let mut message = Vec::new();
    let mut rest = Vec::new();
    for line in text.split_inclusive('\n') {
        match line.trim_start().strip_prefix(">>") {
            Some(m) => message.push(m.trim().to_string()),
            None => rest.push(line),
        }
    }
    (message.join("\n").trim().to_string(), rest.concat())
}

/// `showrunner.run.status` from a saved run; `state` is what to show (`interrupted` for a run
/// whose process ended).
pub fn status(run: &Run, state: RunState, active: bool) -> RunStatus {
    let output = run
        .vars
        .get("answer")
        .cloned()
        .filter(|v| !v.is_null())
        .or_else(|| {
            run.steps
                .iter()
                .rev()
                .find(|s| s.kind == showrunner_pipeline::StepKind::ApproveOutput && s.output.is_string())
                .map(|s| s.output.clone())
        })
        .or_else(|| {
            run.steps.iter().rev().find(|s| s.kind.generates() && !s.output.is_null()).map(|s| s.output.clone())
        });
    RunStatus {
        run: run.id.clone(),
        pipeline: run.pipeline.clone(),
        state,
        scene: run.scene.clone(),
        active,
        steps: run
            .steps
            .iter()
            .map(|s| StepView { id: s.id.clone(), kind: s.kind, state: s.state, model: s.model.clone() })
            .collect(),
        gate: run.gate.as_ref().map(|g| GateRef { step: g.step.clone(), kind: g.kind, uri: None, model: None }),
        error: run.error.clone(),
        output,
        replay_of: run.replay_of.clone(),
    }
}

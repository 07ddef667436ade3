//! Batches and plans in the editor: `showrunner.batch.run` / `.status` / `.cancel` /
//! `.approve` and `showrunner.plan`. Translation only: runs are queued by the domain
//! ([`showrunner_agents::batch::Queue`], the planner's [`Job::Plan`]) and worked here by one
//! thread per batch that keeps up to `jobs` of its runs going, each a run of this server's
//! [`Runner`] (streaming, its gates in the one approval queue). A run waiting at a gate does not
//! count against `jobs`, so the batch goes on around it. The batch's progress is cancellable
//! work-done progress (`showrunner/batch/<id>`): cancelling it cancels the batch.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use showrunner_agents::batch::{self, Counts, Queue};
use showrunner_agents::plan;
use showrunner_agents::studio::{self, new_run_id};
use showrunner_model::analysis::Analysis;
use showrunner_pipeline::{Run, RunState};
use showrunner_store::runs::Runs;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::NumberOrString;

use crate::glass::to_value;
use crate::protocol::{
    BatchApproveArgs, BatchApproved, BatchArgs, BatchCancelled, BatchRunArgs, BatchStarted, BatchStatus, PlanArgs,
    RunStarted, RunSummary,
};
use crate::runs::{How, Job, Runner, Session};
use crate::{internal, invalid, params, Backend};

/// The batches this server works now.
#[derive(Clone, Default)]
pub struct Working(Arc<Mutex<HashSet<String>>>);

impl Working {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn has(&self, batch: &str) -> bool {
        self.lock().contains(batch)
    }
}

/// The token of a batch's work-done progress; cancelling it cancels the batch.
pub fn progress_token(batch: &str) -> String {
    format!("showrunner/batch/{batch}")
}

/// Works batch `batch` of the project at `root` on a thread of its own, unless this server
/// works it already: up to `jobs` runs at once, until nothing is left to take and none of its
/// runs is going here.
pub fn work(
    runner: Runner,
    working: Working,
    session: Session,
    root: PathBuf,
    analysis: Arc<Analysis>,
    batch: String,
    jobs: usize,
) {
    if !working.lock().insert(batch.clone()) {
        return;
    }
    let spawned = std::thread::Builder::new().name(format!("batch {batch}")).spawn(move || {
        let progress = begin(&session, &batch);
        work_here(&runner, &session, &root, &analysis, &batch, jobs.max(1), progress.as_ref());
        working.lock().remove(&batch);
        if let Some(p) = progress {
            let counts = Runs::open(&root).and_then(|r| r.batch_rows(&batch)).map(|rows| Counts::of(&rows));
            let end = counts.map(|c| c.to_string()).unwrap_or_else(|e| format!("the run store: {e}"));
            session.handle.block_on(p.finish_with_message(end));
        }
    });
    if let Err(e) = spawned {
        tracing::error!("cannot start a batch thread: {e}");
    }
}

type Progress = tower_lsp_server::OngoingProgress<tower_lsp_server::Unbounded, tower_lsp_server::Cancellable>;

fn begin(session: &Session, batch: &str) -> Option<Progress> {
    if !session.caps.work_done_progress {
        return None;
    }
    let token = NumberOrString::String(progress_token(batch));
    let client = session.client.clone();
    session.handle.block_on(async move {
        crate::runs::create_progress(&client, token.clone()).await.then_some(())?;
        Some(client.progress(token, format!("Showrunner: batch {batch}")).with_cancel_button().begin().await)
    })
}

fn work_here(
    runner: &Runner,
    session: &Session,
    root: &Path,
    analysis: &Arc<Analysis>,
    batch: &str,
    jobs: usize,
    progress: Option<&Progress>,
) {
    let Ok(runs) = Runs::open(root) else { return };
    let mut mine: Vec<String> = Vec::new();
    let mut told = String::new();
    loop {
        mine.retain(|id| runner.is_active(id));
        if let (Some(p), Ok(rows)) = (progress, runs.batch_rows(batch)) {
            let now = Counts::of(&rows).to_string();
            if now != told {
                session.handle.block_on(p.report_with_message(now.clone(), None));
                told = now;
            }
        }
        let busy = mine.iter().filter(|id| runner.is_busy(id)).count();
        if busy < jobs {
            match runs.take(Some(batch)) {
                Ok(Some((id, data))) => {
                    start(runner, session, root, analysis, &runs, &id, data);
                    mine.push(id);
                    continue;
                }
                Ok(None) if mine.is_empty() && !runs.waiting_on_others(batch).unwrap_or(false) => break,
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(batch, "the batch's queue cannot be read: {e}");
                    break;
                }
            }
        }
        // Its runs go on their own threads; look again when one may have moved on.
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts a taken run on this server's runner: its context gathered, its job found again.
fn start(
    runner: &Runner,
    session: &Session,
    root: &Path,
    analysis: &Arc<Analysis>,
    runs: &Runs,
    id: &str,
    data: Value,
) {
    let fail = |why: String| {
        tracing::warn!(run = id, "a batch run cannot start: {why}");
        let _ = runs.fail(id, &why);
    };
    let Ok(mut run) = serde_json::from_value::<Run>(data) else {
        return fail("the run's record cannot be read by this version of showrunner".into());
    };
    let job = match Job::of_run(root, &run) {
        Ok(j) => j,
        Err(e) => return fail(e.to_string()),
    };
    if let Err(e) = batch::prepare(root, analysis, &mut run) {
        return fail(e);
    }
    runner.start(session, root.to_path_buf(), analysis.clone(), job, run, How::default());
}

impl Backend {
    /// The batch named, else the project's latest.
    fn batch_of(root: &Path, named: Option<String>) -> Result<String> {
        if let Some(b) = named.filter(|b| !b.is_empty()) {
            return Ok(b);
        }
        let runs = Runs::open(root).map_err(|e| internal(e.to_string()))?;
        let batches = runs.batches().map_err(|e| internal(e.to_string()))?;
        batches.into_iter().next().map(|(b, _)| b).ok_or_else(|| invalid("no batch in this project yet"))
    }

    fn jobs(analysis: &Analysis, asked: Option<usize>) -> usize {
        asked.or(analysis.config.batch_concurrency).unwrap_or(2).max(1)
    }

    pub(crate) async fn batch_command(&self, command: &str, args: &[Value]) -> Result<Option<Value>> {
        match command {
            "showrunner.batch.run" => {
                let a: BatchRunArgs = params(args)?;
                let root = self.project_for(None, a.uri.as_ref()).await?;
                let analysis = self.analysis_of(&root)?;
                let pipeline = studio::find_pipeline(&root, &a.pipeline).map_err(invalid)?;
                batch::batchable(&pipeline).map_err(invalid)?;
                let scenes = batch::scenes_of(&analysis, &a.targets, a.filter.as_deref()).map_err(invalid)?;
                let id = new_run_id("batch");
                let runs = Runs::open(&root).map_err(|e| internal(e.to_string()))?;
                let model = a.model.filter(|m| !m.trim().is_empty());
                let q = Queue { runs: &runs, batch: &id, priority: a.priority.unwrap_or(0), model: model.as_deref() };
                let queued =
                    q.scenes(&analysis, &pipeline, &scenes, &[], a.judge).map_err(|e| internal(e.to_string()))?;
                let jobs = Self::jobs(&analysis, a.jobs);
                work(self.runner.clone(), self.working.clone(), self.session(), root, analysis, id.clone(), jobs);
                to_value(BatchStarted { batch: id, queued: queued.len() })
            }
            "showrunner.batch.status" => {
                let a: BatchArgs = params(args)?;
                let root = self.project_for(None, a.uri.as_ref()).await?;
                let id = Self::batch_of(&root, a.batch)?;
                let rows = Runs::open(&root).and_then(|r| r.batch_rows(&id)).map_err(|e| internal(e.to_string()))?;
                if rows.is_empty() {
                    return Err(invalid(format!("no batch `{id}`")));
                }
                let c = Counts::of(&rows);
                let runs = rows
                    .iter()
                    .map(|r| RunSummary {
                        run: r.id.clone(),
                        pipeline: r.pipeline.clone(),
                        state: self.shown_state(&r.id, r.live_state()),
                        scene: r.scene.clone(),
                    })
                    .collect();
                to_value(BatchStatus {
                    working: self.working.has(&id),
                    summary: c.to_string(),
                    batch: id,
                    total: c.total,
                    done: c.done,
                    running: c.running,
                    waiting: c.waiting,
                    failed: c.failed,
                    queued: c.queued,
                    cancelled: c.cancelled,
                    runs,
                })
            }
            "showrunner.batch.cancel" => {
                let a: BatchArgs = params(args)?;
                let root = self.project_for(None, a.uri.as_ref()).await?;
                let id = Self::batch_of(&root, a.batch)?;
                let asked = self.cancel_batch(&root, &id).await?;
                to_value(BatchCancelled { batch: id, asked })
            }
            "showrunner.batch.approve" => {
                let a: BatchApproveArgs = params(args)?;
                if !(0.0..=1.0).contains(&a.min_confidence) {
                    return Err(invalid(format!("`min_confidence` is a score from 0 to 1, not {}", a.min_confidence)));
                }
                let root = self.project_for(None, a.uri.as_ref()).await?;
                let id = Self::batch_of(&root, a.batch)?;
                let rows = Runs::open(&root).and_then(|r| r.batch_rows(&id)).map_err(|e| internal(e.to_string()))?;
                let session = self.session();
                let approved = rows
                    .iter()
                    .filter(|r| self.runner.is_active(&r.id))
                    .filter(|r| self.runner.approve_judged(&session, &r.id, a.min_confidence))
                    .count();
                to_value(BatchApproved { batch: id, approved })
            }
            "showrunner.plan" => {
                let a: PlanArgs = params(args)?;
                let root = self.project_for(None, a.uri.as_ref()).await?;
                let analysis = self.analysis_of(&root)?;
                let mut run = plan::new_run(&root, &analysis, &a.goal, a.scope.as_deref(), a.priority.unwrap_or(0))
                    .map_err(invalid)?;
                run.model_override = a.model.filter(|m| !m.trim().is_empty());
                let id = run.id.clone();
                crate::glass::save_new(&root, &run)?;
                // Approved and queued, the plan's batch is worked here.
                let jobs = Self::jobs(&analysis, a.jobs);
                let (runner, working, session) = (self.runner.clone(), self.working.clone(), self.session());
                let (r, an) = (root.clone(), analysis.clone());
                let after = move |run: &Run| {
                    if let (RunState::Succeeded, Some(b)) = (run.state, run.vars["batch"].as_str()) {
                        work(runner, working, session, r, an, b.to_string(), jobs);
                    }
                };
                let how = How { after: Some(Box::new(after)), ..How::default() };
                self.runner.start(&self.session(), root, analysis, Job::Plan, run, how);
                to_value(RunStarted { run: id })
            }
            other => Err(invalid(format!("unknown batch command `{other}`"))),
        }
    }

    /// Stops batch `id`: its queued runs at once, its runs driven here now (a waiting gate gives
    /// up), others at their next step. How many runs were asked.
    pub(crate) async fn cancel_batch(&self, root: &Path, id: &str) -> Result<usize> {
        let runs = Runs::open(root).map_err(|e| internal(e.to_string()))?;
        let asked = runs.cancel_batch(id).map_err(|e| internal(e.to_string()))?;
        let rows = runs.batch_rows(id).map_err(|e| internal(e.to_string()))?;
        let here: Vec<String> = rows.into_iter().map(|r| r.id).filter(|r| self.runner.is_active(r)).collect();
        let runner = self.runner.clone();
        let _ = tokio::task::spawn_blocking(move || {
            for r in here {
                runner.cancel(&r, Duration::from_secs(2));
            }
        })
        .await;
        Ok(asked)
    }
}

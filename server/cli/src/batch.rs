//! `showrunner batch PIPELINE TARGETS… [--jobs N] [--yes] [--where EXPR] [--priority P]`: one run
//! of a pipeline per scene of the targets, queued in the project's run store and worked by N
//! threads; `showrunner batch status|cancel|retry-failed|work [BATCH]`, and `showrunner batch
//! approve [BATCH] --min-confidence X`: the judge gates scored X or more, approved at once.
//!
//! The queue is the run store's ([`Runs::enqueue`], [`Runs::take`]): a batch's runs outlive this
//! process; one killed mid-batch leaves its runs to the next `showrunner batch work BATCH` (or
//! `retry-failed`), which goes on from each run's last saved step. Without `--yes` a run that
//! reaches a gate is parked there (its lease given up, the inbox touched) for the editor's one
//! approval queue; the worker goes on with the next run.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use indicatif::{ProgressBar, ProgressStyle};
use showrunner_agents::batch::{self, Counts, Queue};
use showrunner_agents::studio::{find_pipeline, new_run_id, Edge, Job, ProjectEffects};
use showrunner_model::analysis::Analysis;
use showrunner_pipeline::{Decision, GateKind, Gates, Run, Step};
use showrunner_store::discover::project_of;
use showrunner_store::load_project;
use showrunner_store::runs::Runs;

#[derive(clap::Args, Debug)]
pub struct BatchArgs {
    /// A pipeline id (then the targets), or `status`, `cancel`, `retry-failed`, `work`,
    /// `approve` (then a batch id; the latest batch when none is given)
    pub what: String,
    /// Scenes (files or ids), folders, or parts of the story (`ch03`, `season-1`)
    pub targets: Vec<String>,
    /// How many runs at once (default: `batch: { concurrency }` in showrunner.yaml, else 2)
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Approve every gate (otherwise runs wait at their gates for the editor's approval queue)
    #[arg(long)]
    pub yes: bool,
    /// Only scenes for which this holds: `words == 0`, `words < 500`, `pov == alice`,
    /// `id != s1`, `path ^= story/ch03/` (starts with); joined with `and`
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
    /// The model for every model step (provider/model), above the cascade
    #[arg(long)]
    pub model: Option<String>,
    /// Runs of higher priority are taken first (default 0)
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub priority: i64,
    /// Judge every answer before it is used (SPEC §7's thresholds; a weak one is written again
    /// with the judge's notes), so `approve --min-confidence` can approve the good ones at once
    #[arg(long)]
    pub judge: bool,
    /// With `approve`: the gates of answers the judge scored at least this (0–1) are approved
    #[arg(long, value_name = "SCORE")]
    pub min_confidence: Option<f64>,
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

pub fn run(args: &BatchArgs) -> Result<bool> {
    let root = project_of(&args.dir)?;
    match args.what.as_str() {
        "status" => status(&root, latest(&root, args.targets.first())?.as_str()),
        "cancel" => {
            let batch = latest(&root, args.targets.first())?;
            let n = Runs::open(&root)?.cancel_batch(&batch)?;
            println!("batch {batch}: {n} run(s) asked to stop (queued ones now, running ones at their next step)");
            Ok(true)
        }
        "retry-failed" => {
            let batch = latest(&root, args.targets.first())?;
            let n = Runs::open(&root)?.retry_failed(&batch)?;
            println!("batch {batch}: {n} failed run(s) queued again");
            if n > 0 {
                return work(&root, &batch, args);
            }
            Ok(true)
        }
        "work" => {
            let batch = latest(&root, args.targets.first())?;
            work(&root, &batch, args)
        }
        "approve" => {
            let batch = latest(&root, args.targets.first())?;
            let Some(min) = args.min_confidence.filter(|m| (0.0..=1.0).contains(m)) else {
                bail!("say how sure the judge must have been: `batch approve [BATCH] --min-confidence 0.9` (0 to 1)");
            };
            approve_judged(&root, &batch, min, args)
        }
        pipeline => {
            let analysis = load_project(&root).analysis;
            let batch = queue(&root, &analysis, pipeline, args)?;
            work_on(&root, Arc::new(analysis), &batch, args.jobs, args.yes)
        }
    }
}

/// The batch named, or the latest.
fn latest(root: &Path, named: Option<&String>) -> Result<String> {
    if let Some(b) = named {
        return Ok(b.clone());
    }
    let batches = Runs::open(root)?.batches()?;
    batches.into_iter().next().map(|(b, _)| b).context("no batch in this project yet")
}

/// Queues one run per scene of the targets (that the filter lets through); the batch's id.
fn queue(root: &Path, a: &Analysis, pipeline_id: &str, args: &BatchArgs) -> Result<String> {
    let pipeline = find_pipeline(root, pipeline_id).map_err(anyhow::Error::msg)?;
    batch::batchable(&pipeline).map_err(anyhow::Error::msg)?;
    let scenes = batch::scenes_of(a, &args.targets, args.filter.as_deref()).map_err(anyhow::Error::msg)?;
    let batch = new_run_id("batch");
    let runs = Runs::open(root)?;
    let q = Queue { runs: &runs, batch: &batch, priority: args.priority, model: args.model.as_deref() };
    q.scenes(a, &pipeline, &scenes, &[], args.judge).map_err(anyhow::Error::msg)?;
    println!("batch {batch}: {} · {} scene(s) queued", pipeline.title, scenes.len());
    Ok(batch)
}

/// Approves, in bulk, the gates of `batch` whose answer the judge scored at least `min` (a
/// judge gate, or the output gate after a judge): each such run goes on from its gate (the
/// verdict shown is the one approved; nothing is scored again), its later gates of answers
/// judged as well approved too, until it ends or reaches a gate that needs a human; then the batch's queue is worked (runs that waited for these
/// may now go). Runs an editor is driving are left to it.
fn approve_judged(root: &Path, batch: &str, min: f64, args: &BatchArgs) -> Result<bool> {
    let runs = Runs::open(root)?;
    let analysis = Arc::new(load_project(root).analysis);
    let (mut chosen, mut held) = (Vec::new(), Vec::new());
    for row in runs.batch_rows(batch)?.iter().filter(|r| r.live_state() == "waiting") {
        let Some(run) = runs.load(&row.id)?.and_then(|v| serde_json::from_value::<Run>(v).ok()) else { continue };
        let Some(gate) = run.gate.as_ref().filter(|g| matches!(g.kind, GateKind::Judge | GateKind::ApproveOutput))
        else {
            continue;
        };
        if gate.confidence.is_some_and(|c| c >= min) {
            if runs.claim(&run.id)? {
                chosen.push(run);
            } else {
                held.push(run.id);
            }
        }
    }
    println!("batch {batch}: {} run(s) wait with an answer judged {min} or more: approving them", chosen.len());
    if !held.is_empty() {
        println!(
            "batch {batch}: {} more wait in an editor's approval queue (approve them there, e.g. with showrunner.batch.approve): {}",
            held.len(),
            held.join(", ")
        );
    }
    let rt = tokio::runtime::Runtime::new()?;
    let shared =
        Shared { client: showrunner_llm::Client::new(), agents: showrunner_agents::defs::catalogue(Some(root)).0 };
    for mut run in chosen {
        let parked = drive(root, &analysis, rt.handle(), &shared, &mut run, args.yes, Some(min));
        report_run(&run, parked);
    }
    drop(rt);
    work_on(root, analysis, batch, args.jobs, args.yes)
}

/// Works the batch's queue with N threads until nothing is left to take; shows progress.
fn work(root: &Path, batch: &str, args: &BatchArgs) -> Result<bool> {
    work_on(root, Arc::new(load_project(root).analysis), batch, args.jobs, args.yes)
}

/// Works batch `batch` with `jobs` threads (else the project's `batch: { concurrency }`, else 2)
/// until nothing is left to take; `yes` approves every gate.
pub(crate) fn work_on(
    root: &Path,
    analysis: Arc<Analysis>,
    batch: &str,
    jobs: Option<usize>,
    yes: bool,
) -> Result<bool> {
    let jobs = jobs.or(analysis.config.batch_concurrency).unwrap_or(2).max(1);
    if !yes {
        println!("(without --yes, runs wait at their gates for your approval in the editor)");
    }
    let rt = tokio::runtime::Runtime::new()?;
    let done = Arc::new(AtomicBool::new(false));
    let progress = {
        let (root, batch, done) = (root.to_path_buf(), batch.to_string(), done.clone());
        std::thread::spawn(move || show_progress(&root, &batch, &done))
    };
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let (analysis, handle) = (analysis.clone(), rt.handle().clone());
            scope.spawn(move || worker(root, batch, &analysis, handle, yes));
        }
    });
    done.store(true, Ordering::Relaxed);
    let _ = progress.join();
    // The batch's finished runs into the project's memory, in one pass.
    if let Err(e) =
        showrunner_store::Index::open(&showrunner_store::index_path(root)).and_then(|mut i| i.sync_memory(root))
    {
        eprintln!(
            "showrunner: warning: the batch's runs are not in the search index yet ({e}); the next search adds them"
        );
    }
    status(root, batch)
}

/// Takes runs of the batch one after the other until none is left.
fn worker(root: &Path, batch: &str, a: &Analysis, handle: tokio::runtime::Handle, yes: bool) {
    let Ok(runs) = Runs::open(root) else { return };
    let shared =
        Shared { client: showrunner_llm::Client::new(), agents: showrunner_agents::defs::catalogue(Some(root)).0 };
    loop {
        let (id, data) = match runs.take(Some(batch)) {
            Ok(Some(taken)) => taken,
            // Runs wait for runs other workers still drive: take again when those may be done.
            Ok(None) if runs.waiting_on_others(batch).unwrap_or(false) => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            _ => break,
        };
        let Ok(mut run) = serde_json::from_value::<Run>(data) else {
            let _ = runs.fail(&id, "the run's record cannot be read by this version of showrunner");
            say(format!("{id}: failed (its record cannot be read)"));
            continue;
        };
        say(format!("started {id} · {}", run.scene));
        let parked = drive(root, a, &handle, &shared, &mut run, yes, None);
        report_run(&run, parked);
    }
}

/// A line on how far a run went: parked at a gate (the step), or its state.
fn report_run(run: &Run, parked: Option<String>) {
    match parked {
        Some(step) => say(format!("{}: waiting at gate `{step}` (in the editor's approval queue)", run.id)),
        None => say(format!(
            "{}: {}{}",
            run.id,
            run.state.as_str(),
            run.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
        )),
    }
}

/// What a worker's runs share: the HTTP client (its connections) and the agents.
struct Shared {
    client: showrunner_llm::Client,
    agents: Vec<showrunner_agents::defs::AgentDef>,
}

/// Runs `run` as far as this process takes it; the gate's step when it was parked there.
/// `approve_judged`: the judge and output gates of answers the judge scored at least this are
/// approved (the writer approved them in bulk).
fn drive(
    root: &Path,
    a: &Analysis,
    handle: &tokio::runtime::Handle,
    shared: &Shared,
    run: &mut Run,
    yes: bool,
    approve_judged: Option<f64>,
) -> Option<String> {
    let Ok(runs) = Runs::open(root) else { return None };
    let scene = a.scene_at(&run.scene);
    let fail = |run: &mut Run, why: String| {
        run.state = showrunner_pipeline::RunState::Failed;
        run.error = Some(why);
        let data = serde_json::to_value(&*run).unwrap_or_default();
        let _ = runs.save(&run.id, &run.pipeline, &run.scene, "failed", run.error.as_deref(), &data);
    };
    let job = match Job::of_run(root, run) {
        Ok(j) => j,
        Err(e) => {
            fail(run, e.to_string());
            return None;
        }
    };
    if let Err(e) = batch::prepare(root, a, run) {
        fail(run, e);
        return None;
    }
    let parked = Arc::new(AtomicBool::new(false));
    let model = showrunner_agents::studio::LiveModel {
        config: a.config.clone(),
        root: root.to_path_buf(),
        client: shared.client.clone(),
        handle: handle.clone(),
        cancel: showrunner_llm::Cancel::default(),
    };
    let agents = shared.agents.clone();
    let edge = BatchEdge { runs: Runs::open(root).ok(), id: run.id.clone(), parked: parked.clone(), answering: None };
    let mut gates = BatchGates { yes, approve_judged, root: root.to_path_buf(), parked, parked_at: None };
    let mut fx = ProjectEffects { root: root.to_path_buf(), analysis: a, scene, runs, agents, edge };
    job.execute(run, &model, &mut gates, &mut fx);
    gates.parked_at
}

/// A batch run's edge: nothing streams to the terminal (the progress line tells); a cancel
/// asked in the store stops it at its next step.
struct BatchEdge {
    runs: Option<Runs>,
    id: String,
    parked: Arc<AtomicBool>,
    /// The step whose answer is streaming (told once per step).
    answering: Option<String>,
}

impl Edge for BatchEdge {
    fn remembers_each_run(&self) -> bool {
        false
    }

    fn text(&mut self, step: &str, _text: &str) {
        if self.answering.as_deref() != Some(step) {
            say(format!("{}: `{step}` answering", self.id));
            self.answering = Some(step.to_string());
        }
    }

    fn cancelled(&self) -> bool {
        self.runs.as_ref().is_some_and(|r| r.cancel_asked(&self.id).unwrap_or(false))
    }

    fn handed_over(&self) -> bool {
        self.parked.load(Ordering::Relaxed)
    }
}

/// `--yes`: every gate approved as shown. Otherwise the run is parked at its gate: saved
/// waiting (it is, when a gate is asked), its lease given up, the editors told through the
/// inbox; this process lets go of it.
struct BatchGates {
    yes: bool,
    /// Judge and output gates of answers the judge scored at least this: approved (in bulk).
    approve_judged: Option<f64>,
    root: PathBuf,
    parked: Arc<AtomicBool>,
    /// The gate's step where the run was parked.
    parked_at: Option<String>,
}

impl Gates for BatchGates {
    fn ask(&mut self, run: &Run, step: &Step, _kind: GateKind, text: &str) -> Decision {
        if self.yes {
            say(format!("{}: gate `{}` approved (--yes)", run.id, step.id));
            return Decision::Approve(text.to_string());
        }
        let judged = run.gate.as_ref().filter(|g| matches!(g.kind, GateKind::Judge | GateKind::ApproveOutput));
        if let (Some(score), Some(min)) = (judged.and_then(|g| g.confidence), self.approve_judged) {
            if score >= min {
                say(format!("{}: gate `{}` approved (judged {score:.2})", run.id, step.id));
                return Decision::Approve(text.to_string());
            }
        }
        if let Ok(runs) = Runs::open(&self.root) {
            if runs.release(&run.id).is_ok() {
                self.parked.store(true, Ordering::Relaxed);
                self.parked_at = Some(step.id.clone());
                let inbox = showrunner_agents::proposal::inbox_path(&self.root);
                let _ = showrunner_store::fsx::write_atomic(&inbox, run.id.as_bytes());
            }
        }
        // The run stays as saved, waiting at this gate; nothing this process does with it on
        // its way out is written (`handed_over`).
        Decision::Cancel
    }
}

/// The progress bar while a batch is worked on a terminal (`None` otherwise): lines the workers
/// print go above it ([`say`]).
static BAR: std::sync::Mutex<Option<ProgressBar>> = std::sync::Mutex::new(None);

/// Prints a line of a batch's work to stdout, above the progress bar when one is drawn.
fn say(line: String) {
    let bar = BAR.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match bar {
        Some(bar) => bar.suspend(|| println!("{line}")),
        None => println!("{line}"),
    }
}

/// Draws the batch's progress on a terminal's stderr until `done`: a bar of the runs that went
/// as far as they go (done, failed, cancelled, or waiting at a gate), with what is running,
/// waiting and failed, the tokens spent since it began, and the ETA.
fn show_progress(root: &Path, batch: &str, done: &AtomicBool) {
    if !std::io::stderr().is_terminal() {
        return;
    }
    let Ok(runs) = Runs::open(root) else { return };
    let spent_before = runs.spent_today().unwrap_or(0);
    let style = ProgressStyle::with_template("{bar:28.cyan/blue} {pos}/{len} {msg} · ETA {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("█▉▊▋▌▍▎▏ ");
    let bar = ProgressBar::new(0).with_style(style);
    *BAR.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
    while !done.load(Ordering::Relaxed) {
        if let Ok(rows) = runs.batch_rows(batch) {
            let c = Counts::of(&rows);
            let tokens = runs.spent_today().unwrap_or(0).saturating_sub(spent_before);
            bar.set_length(c.total as u64);
            bar.set_position((c.done + c.failed + c.cancelled + c.waiting) as u64);
            bar.set_message(format!(
                "· {} done · {} running · {} waiting · {} failed · {tokens} tokens",
                c.done, c.running, c.waiting, c.failed
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    BAR.lock().unwrap_or_else(|e| e.into_inner()).take();
    bar.finish_and_clear();
}

/// Prints the batch's state, one line per run that did not succeed; whether all succeeded.
fn status(root: &Path, batch: &str) -> Result<bool> {
    let rows = Runs::open(root)?.batch_rows(batch)?;
    if rows.is_empty() {
        bail!("no batch `{batch}`");
    }
    let c = Counts::of(&rows);
    println!("batch {batch}: {}", c);
    for r in rows.iter().filter(|r| r.live_state() != "succeeded") {
        println!("  {:<36} {:<11} {}", r.id, r.live_state(), r.scene);
    }
    Ok(c.done == rows.len())
}

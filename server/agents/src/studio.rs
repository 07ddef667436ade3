//! What every edge (the CLI, the language server) needs to run a pipeline or an agent on a
//! project: the pipeline catalogue, run ids, the run's variables, the live model (streaming,
//! cancellable, daily budget checked before each call), the replayed model, and the effects —
//! edits and buckets written through the history write path. The edge supplies an [`Edge`]:
//! where the scene's current text comes from, how an edit is shown, where progress goes.

use std::collections::VecDeque;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};
use showrunner_context::cascade::{model_problem, resolve, scene_inputs, Inputs, Resolution};
use showrunner_context::tokens::{default_counter, TokenCounter};
use showrunner_context::{render_markdown, ContextEngine, Recall, Request};
use showrunner_llm::{Cancel, ChatRequest, Client, Delta, Endpoint, Message};
use showrunner_model::analysis::Analysis;
use showrunner_model::config::ProjectConfig;
use showrunner_model::names::capitalised_names;
use showrunner_pipeline::edit::{self, Target};
use showrunner_pipeline::{
    catalogue, Call, Decision, DefError, EditMode, EditPlan, Effects, Exchange, GateKind, Gates, Generated, Model,
    Persona, Pipeline, Run, RunError, Selection, Step,
};
use showrunner_store::discover::relative;
use showrunner_store::history::{Change, History};
use showrunner_store::runs::{Reservation, Runs};

use crate::defs::AgentDef;

/// Project workflows (`workflows/*.yaml`), as `(path, text)`.
pub fn workflows(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(root.join("workflows")) {
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                if let Ok(t) = std::fs::read_to_string(&p) {
                    out.push((relative(root, &p), t));
                }
            }
        }
    }
    out.sort();
    out
}

/// Every pipeline of a project, and the problems of broken workflow files.
pub fn pipelines(root: &Path) -> (Vec<Pipeline>, Vec<(String, Vec<DefError>)>) {
    catalogue(&workflows(root))
}

pub fn find_pipeline(root: &Path, id: &str) -> Result<Pipeline, RunError> {
    let (all, _) = pipelines(root);
    let ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
    all.iter()
        .find(|p| p.id == id)
        .cloned()
        .ok_or_else(|| RunError::Invalid(format!("no pipeline `{id}`; available: {}", ids.join(", "))))
}

/// What a run does: a pipeline, or an agent's loop.
#[derive(Clone, Debug)]
pub enum Job {
    Pipeline(Pipeline),
    Agent(AgentDef),
    /// A change an outside agent proposed ([`crate::proposal`]), waiting for a human.
    Proposal,
    /// A goal turned into a batch ([`crate::plan`]).
    Plan,
}

impl Job {
    /// The job a recorded run belongs to, for resuming it: the agent of an `agent:<id>` run,
    /// else its pipeline (project workflows first, then the built-ins).
    pub fn of_run(root: &Path, run: &Run) -> Result<Job, RunError> {
        if run.pipeline.starts_with(crate::proposal::PREFIX) {
            return Ok(Job::Proposal);
        }
        match run.pipeline.strip_prefix("agent:") {
            Some(id) => {
                let (agents, _) = crate::defs::catalogue(Some(root));
                agents
                    .into_iter()
                    .find(|d| d.id == id)
                    .map(Job::Agent)
                    .ok_or_else(|| RunError::Invalid(format!("the run's agent `{id}` is gone")))
            }
            None if run.pipeline == crate::plan::PIPELINE => Ok(Job::Plan),
            None => {
                let p = find_pipeline(root, &run.pipeline)?;
                Ok(Job::Pipeline(if run.judged { p.judged() } else { p }))
            }
        }
    }

    pub fn title(&self) -> &str {
        match self {
            Job::Pipeline(p) => &p.title,
            Job::Agent(a) => &a.name,
            Job::Proposal => "A proposed change",
            Job::Plan => "Plan a batch",
        }
    }

    /// Runs it (or goes on with it) to its end.
    pub fn execute<E: Edge>(
        &self,
        run: &mut Run,
        model: &dyn Model,
        gates: &mut dyn Gates,
        fx: &mut ProjectEffects<'_, E>,
    ) {
        match self {
            Job::Pipeline(p) => showrunner_pipeline::execute(p, run, model, gates, fx),
            Job::Agent(a) => crate::react::run_agent(a, run, model, gates, fx),
            Job::Proposal => crate::proposal::execute(run, gates, fx),
            Job::Plan => crate::plan::execute(run, model, gates, fx),
        }
    }

    /// The model its first model call uses (the run's choice, else the cascade's): what a gate
    /// names before any model has answered.
    pub fn first_model<E: Edge>(&self, run: &Run, fx: &mut ProjectEffects<'_, E>) -> String {
        let step = match self {
            Job::Pipeline(p) => p.steps.iter().find(|s| s.kind.generates()).cloned(),
            Job::Agent(a) => Some(Step { agent: Some(a.id.clone()), ..Default::default() }),
            Job::Proposal => None,
            Job::Plan => crate::plan::pipeline().steps.into_iter().find(|s| s.kind.generates()),
        };
        step.map(|s| showrunner_pipeline::model_name(run, &s, fx)).unwrap_or_default()
    }
}

/// Asks before going on with a run another process started and left unfinished (it stopped
/// mid-step, so going on calls a model again). `false`: the writer declined; the run is marked
/// cancelled and saved.
pub fn confirm_resume<E: Edge>(
    job: &Job,
    run: &mut Run,
    gates: &mut dyn Gates,
    fx: &mut ProjectEffects<'_, E>,
) -> bool {
    let stopped = run
        .steps
        .iter()
        .find(|s| {
            !matches!(s.state, showrunner_pipeline::StepState::Succeeded | showrunner_pipeline::StepState::Skipped)
        })
        .map(|s| format!("at step `{}` ({})", s.id, s.kind))
        .unwrap_or_else(|| "before its first step".into());
    let scene = if run.scene.is_empty() { String::new() } else { format!(" on {}", run.scene) };
    let model = job.first_model(run, fx);
    let text = format!(
        "Run {} — {}{scene} — was interrupted {stopped}: the process driving it ended.\n\n\
         Resuming goes on from there; finished steps are kept, and the next model call goes to {model}.\n\n\
         Approve to resume it; reject (or skip) to cancel it.\n",
        run.id,
        job.title()
    );
    let step = Step { id: "resume".into(), kind: showrunner_pipeline::StepKind::Resume, ..Default::default() };
    match showrunner_pipeline::ask(run, &step, gates, fx, GateKind::Resume, &text) {
        Decision::Approve(_) | Decision::Paste(_) => true,
        _ => {
            run.state = showrunner_pipeline::RunState::Cancelled;
            run.error = Some("the writer did not resume this interrupted run".into());
            showrunner_pipeline::Effects::save(fx, run);
            false
        }
    }
}

/// Whether a run must be confirmed before it goes on: it is not waiting at a gate of its own
/// (it stopped mid-step), or it waits at the resume question.
pub fn needs_resume_confirmation(run: &Run) -> bool {
    run.gate.as_ref().is_none_or(|g| g.kind == GateKind::Resume)
}

/// Switches the project at `root` to timeline `name`. `open` holds the editor's documents of
/// the project (path, buffer text): a buffer that differs from its file is the writer's latest
/// work and is recorded first (a `snapshot` marked unsaved), so switching back restores it.
/// Returns how many files the switch changed, and the open documents whose text is now
/// different on disk (path, new text) — what the editor's buffers must show.
pub fn switch_timeline(
    root: &Path,
    name: &str,
    open: &[(String, std::sync::Arc<str>)],
) -> Result<(usize, Vec<(String, String)>), showrunner_store::history::HistoryError> {
    let mut h = History::open(root)?;
    for (rel, text) in open {
        if std::fs::read(root.join(rel)).ok().as_deref() != Some(text.as_bytes()) {
            h.write(&Change {
                path: rel,
                content: Some(text.as_bytes()),
                expected_version: None,
                actor: "user",
                kind: "snapshot",
                container: None,
                payload: json!({ "unsaved": true }),
                id: None,
            })?;
        }
    }
    let changed = h.switch(name)?;
    let differ = open
        .iter()
        .filter_map(|(rel, text)| {
            let disk = std::fs::read_to_string(root.join(rel)).unwrap_or_default();
            (*disk != **text).then(|| (rel.clone(), disk))
        })
        .collect();
    Ok((changed, differ))
}

/// A run id: readable, sortable, unique within the process.
pub fn new_run_id(prefix: &str) -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let prefix: String = prefix.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
    if n == 0 {
        format!("{prefix}-{ms:x}")
    } else {
        format!("{prefix}-{ms:x}{n}")
    }
}

/// Where a gate's review document lives: `.showrunner/runs/<run>/<step>.md`.
pub fn review_path(root: &Path, run: &str, step: &str) -> PathBuf {
    let safe = |s: &str| {
        s.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect::<String>()
    };
    root.join(".showrunner").join("runs").join(safe(run)).join(format!("{}.md", safe(step)))
}

/// The model server for a `provider/model` name.
pub fn endpoint(config: &ProjectConfig, model: &str) -> Result<(Endpoint, String), RunError> {
    endpoint_of(config, model).map(|(ep, name, _)| (ep, name))
}

/// [`endpoint`], and the provider's `max_tokens`.
fn endpoint_of(config: &ProjectConfig, model: &str) -> Result<(Endpoint, String, Option<u32>), RunError> {
    let bad = RunError::Invalid;
    let (provider, name) = model.split_once('/').ok_or_else(|| bad(format!("`{model}` should be `provider/model`")))?;
    let p =
        config.providers.iter().find(|p| p.name == provider).ok_or_else(|| {
            bad(format!("provider `{provider}` is not configured under `providers:` in showrunner.yaml"))
        })?;
    let base_url = p.base_url.clone().ok_or_else(|| bad(format!("`providers.{provider}.base_url` is not set")))?;
    Ok((
        Endpoint { provider: provider.to_string(), base_url, api_key_env: p.api_key_env.clone(), limits: limits(p) },
        name.to_string(),
        p.max_tokens,
    ))
}

/// A provider's limits as the model client keeps them.
pub fn limits(p: &showrunner_model::config::Provider) -> showrunner_llm::Limits {
    showrunner_llm::Limits { max_concurrency: p.max_concurrency, rpm: p.rpm, tpm: p.tpm }
}

/// Whether the environment variable `var` holds a key (its value is not kept).
pub fn key_set(var: &str) -> bool {
    std::env::var_os(var).is_some_and(|v| !v.is_empty())
}

/// Every `provider/model` a project names: its default, the user's default, agent defaults.
pub fn known_models(config: &ProjectConfig, agents: &[AgentDef]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let (_, user) = showrunner_store::user::default_model();
    for m in config.default_model.iter().chain(user.iter()).chain(agents.iter().filter_map(|a| a.model.as_ref())) {
        if !out.contains(m) {
            out.push(m.clone());
        }
    }
    out
}

/// The model cascade's inputs for a project: what a call's step, scene and agent say, over the
/// project's `default_model` and the user's (read once). The one place the inputs are gathered;
/// `context::cascade` resolves them.
pub struct Cascade<'a> {
    analysis: &'a Analysis,
    agents: &'a [AgentDef],
    user: (String, Option<String>),
}

impl<'a> Cascade<'a> {
    pub fn new(analysis: &'a Analysis, agents: &'a [AgentDef]) -> Cascade<'a> {
        Cascade { analysis, agents, user: showrunner_store::user::default_model() }
    }

    /// The cascade for one call, with every level: a step's own `model:`, the scene's `model:`
    /// and its primary bucket's `model_preference`, the agent's default, the project's and the
    /// user's defaults.
    pub fn resolve(&self, scene: Option<usize>, step_model: Option<&str>, agent: Option<&str>) -> Resolution {
        let a = self.analysis;
        let models = scene.filter(|&s| s < a.scenes.len()).map(|s| scene_inputs(a, s)).unwrap_or_default();
        let agent = agent.map(|id| (id, self.agents.iter().find(|d| d.id == id).and_then(|d| d.model.as_deref())));
        let mut r = resolve(&Inputs {
            step: step_model.filter(|m| m.contains('/')),
            scene: models.scene,
            bucket: models.bucket,
            agent,
            project: a.config.default_model.as_deref(),
            user: Some((&self.user.0, self.user.1.as_deref())),
        });
        r.problem = model_problem(&a.config, &r.model_or_fallback(), key_set);
        r
    }

    /// Where the user's default comes from, and what it is.
    pub fn user(&self) -> (&str, Option<&str>) {
        (&self.user.0, self.user.1.as_deref())
    }
}

/// The run's variables, as templates see them: `context`, `scene.{id,title,pov,summary,text,
/// before_cursor}`, `selection` (and its byte range in the file), `question`, `judge`.
pub fn scene_vars(
    a: &Analysis,
    scene: usize,
    context: &str,
    question: Option<&str>,
    selection: Option<Range<usize>>,
) -> Value {
    let s = &a.scenes[scene];
    let text = a.text(s.file);
    let pov =
        s.scene.pov.as_ref().and_then(|p| a.bucket(&p.value)).map(|b| b.bucket.name.value.clone()).unwrap_or_default();
    let body = s.scene.body.clone();
    let selection = selection.filter(|r| {
        r.start <= r.end && r.end <= text.len() && text.is_char_boundary(r.start) && text.is_char_boundary(r.end)
    });
    let before_end = selection.as_ref().map(|r| r.end.max(body.start)).unwrap_or(body.end).min(text.len());
    let mut vars = json!({
        "context": context,
        "scene": {
            "id": s.scene.id.value,
            "title": s.scene.title.clone().unwrap_or_else(|| s.scene.id.value.clone()),
            "pov": pov,
            "summary": s.scene.summary.clone().unwrap_or_default(),
            "text": &text[body.clone()],
            "before_cursor": &text[body.start.min(before_end)..before_end],
        },
        "selection": selection.as_ref().map(|r| &text[r.clone()]).unwrap_or(""),
        "question": question.unwrap_or(""),
        "judge": judge_vars(a),
    });
    if let Some(r) = selection {
        vars["selection_range"] = json!({ "start": r.start, "end": r.end });
    }
    vars
}

/// The run's variables when there is no scene (research from the command palette).
pub fn bare_vars(a: &Analysis, question: &str) -> Value {
    json!({
        "context": "",
        "scene": { "id": "", "title": "", "pov": "", "summary": "", "text": "", "before_cursor": "" },
        "selection": "",
        "question": question,
        "judge": judge_vars(a),
    })
}

/// What `judge` steps read: the project's thresholds and the topics that always go to a human.
fn judge_vars(a: &Analysis) -> Value {
    json!({
        "approve_above": a.config.judge.approve_above,
        "review_above": a.config.judge.review_above,
        "sensitive_topics": a.config.judge.sensitive_topics,
    })
}

/// The context the engine assembles for a scene, rendered for a prompt, and its token count.
pub fn scene_context(a: &Analysis, scene: usize, cursor: Option<usize>) -> (String, usize, usize) {
    let engine = ContextEngine::new(a);
    let ctx = engine.assemble(a, Request { scene, cursor, budget: None }, default_counter());
    (render_markdown(&ctx), ctx.used_tokens, ctx.budget)
}

/// The past defect reports a new run of `pipeline` on `scene` is reminded of: those of the
/// same scene or pipeline in the project's memory, the most relevant to the scene first (at most
/// three). The memory is derived: when it cannot be read, nothing is recalled.
pub fn recall(root: &Path, a: &Analysis, scene: usize, pipeline: &str) -> Vec<Recall> {
    let s = &a.scenes[scene];
    let about = recall_about(a, scene);
    showrunner_store::search::past_defects(root, &a.files[s.file].path, pipeline, &about, RECALLED)
        .map(|found| found.into_iter().map(|d| Recall { run: d.run, report: d.report }).collect())
        .unwrap_or_default()
}

/// [`recall`] (with no pipeline: what `showrunner context` shows) for every scene of the
/// project at once, by scene path; scenes with nothing to recall are left out. The language
/// server keeps this, so its context view and lens show what [`recall`] gives without
/// reading SQLite while the writer types.
pub fn recall_every_scene(root: &Path, a: &Analysis) -> std::collections::HashMap<String, Vec<Recall>> {
    let abouts: Vec<(String, String)> =
        (0..a.scenes.len()).map(|i| (a.files[a.scenes[i].file].path.clone(), recall_about(a, i))).collect();
    let asked: Vec<(&str, &str)> = abouts.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let found = showrunner_store::search::past_defects_of(root, &asked, "", RECALLED).unwrap_or_default();
    abouts
        .into_iter()
        .zip(found)
        .filter(|(_, f)| !f.is_empty())
        .map(|((path, _), f)| (path, f.into_iter().map(|d| Recall { run: d.run, report: d.report }).collect()))
        .collect()
}

/// How many past defect reports a run is reminded of, at most.
const RECALLED: usize = 3;

/// What a scene's past defects are ranked against: its title and body.
fn recall_about(a: &Analysis, scene: usize) -> String {
    let s = &a.scenes[scene];
    let text = a.text(s.file);
    format!("{} {}", s.scene.title.as_deref().unwrap_or(""), &text[s.scene.body.clone()])
}

/// [`scene_context`] for a run of `pipeline`: with the scene's past defects recalled into it
/// (each an item, "past defect from run …", within the budget).
pub fn run_context(
    root: &Path,
    a: &Analysis,
    scene: usize,
    cursor: Option<usize>,
    pipeline: &str,
) -> (String, usize, usize) {
    let recalls = recall(root, a, scene, pipeline);
    let engine = ContextEngine::new(a);
    let ctx = engine.assemble_recalling(a, Request { scene, cursor, budget: None }, default_counter(), &recalls);
    (render_markdown(&ctx), ctx.used_tokens, ctx.budget)
}

/// A selection given on the command line: `--lines A-B` (whole lines, 1-based, inclusive) or
/// `--range L:C-L:C` (1-based lines and columns counted in characters, as an editor's status
/// bar shows a cursor: the selection runs from the first position up to the second). The byte
/// range of `text` it covers; a clear error for a malformed or empty one.
pub fn cli_selection(text: &str, lines: Option<&str>, range: Option<&str>) -> Result<Option<Range<usize>>, RunError> {
    selection_of(text, lines, range)
}

/// [`cli_selection`], its message on failure.
fn selection_of(text: &str, lines: Option<&str>, range: Option<&str>) -> Result<Option<Range<usize>>, RunError> {
    let bad = RunError::Invalid;
    let index = showrunner_model::text::LineIndex::new(text);
    let count = index.line_count();
    let number = |s: &str, what: &str| -> Result<usize, RunError> {
        s.trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad(format!("`{s}` is not a {what} (they start at 1)")))
    };
    let r = match (lines, range) {
        (Some(_), Some(_)) => return Err(bad("give --lines or --range, not both".into())),
        (None, None) => return Ok(None),
        (Some(l), None) => {
            let (a, b) = l.split_once('-').unwrap_or((l, l));
            let (a, b) = (number(a, "line number")?, number(b, "line number")?);
            if a > b || b > count {
                return Err(bad(format!("--lines {l}: the file has lines 1–{count}, and the first line comes first")));
            }
            let start = index.line_start(a - 1);
            let end = if b < count { index.line_start(b) } else { text.len() };
            // The last line's break stays outside the selection.
            let body = &text[start..end];
            let trimmed = body.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(body);
            start..start + trimmed.len()
        }
        (None, Some(r)) => {
            let malformed = || bad(format!("--range `{r}` should be LINE:COLUMN-LINE:COLUMN, e.g. 7:1-9:24"));
            let (a, b) = r.split_once('-').ok_or_else(malformed)?;
            let pos = |p: &str| -> Result<usize, RunError> {
                let (l, c) = p.split_once(':').ok_or_else(malformed)?;
                let (l, c) = (number(l, "line number")?, number(c, "column")?);
                if l > count {
                    return Err(bad(format!("--range {r}: the file has {count} lines")));
                }
                Ok(index.offset_of_char_col(text, l, c - 1))
            };
            let (a, b) = (pos(a)?, pos(b)?);
            if a > b {
                return Err(bad(format!("--range {r}: the start comes after the end")));
            }
            a..b
        }
    };
    if text[r.clone()].trim().is_empty() {
        return Err(bad("the selection is empty (or only white space): select the passage to work on".into()));
    }
    Ok(Some(r))
}

/// The selection a run was started with, as its variables hold it.
pub fn run_selection(vars: &Value) -> Option<Selection> {
    let text = vars["selection"].as_str().filter(|s| !s.is_empty())?;
    let start = vars["selection_range"]["start"].as_u64()? as usize;
    let end = vars["selection_range"]["end"].as_u64()? as usize;
    Some(Selection { start, end, text: text.to_string() })
}

/// Plans where `text` goes in the run's scene, against `current` (the text it will apply to).
/// `key` names the step; the plan's id is `<run>-<key>`, the id of the event that applies it.
pub fn plan_for(
    run: &Run,
    mode: Option<EditMode>,
    field: Option<&str>,
    key: &str,
    current: &str,
    text: &str,
) -> Result<EditPlan, RunError> {
    if run.scene.is_empty() {
        return Err(RunError::Invalid("this run has no scene to edit".into()));
    }
    let selection = run_selection(&run.vars);
    let mode = match (mode, &selection) {
        (None, Some(_)) => EditMode::Replace,
        // Without a selection, "after the selection" is the end of the scene.
        (None, None) | (Some(EditMode::InsertAfter), None) => EditMode::AppendBody,
        (Some(m), _) => m,
    };
    let id = format!("{}-{key}", run.id);
    let target = Target { id: &id, path: &run.scene, mode, field, selection: selection.as_ref(), text };
    Ok(edit::plan(&target, current)?)
}

/// Writes an approved plan to a file that no editor has open, through the history write path:
/// the writer's own unrecorded changes are recorded first, then one `apply_edit` event carrying
/// the plan's id (appending it again is a no-op, so it is applied once).
pub fn write_plan(root: &Path, run: &Run, plan: &EditPlan, current: &str) -> Result<String, RunError> {
    let mut h = History::open(root).map_err(RunError::store)?;
    h.record(&plan.path, "user").map_err(RunError::store)?;
    let version = h.version(&plan.path).map_err(RunError::store)?;
    let next = plan.apply(current);
    let actor = format!("pipeline:{}", run.id);
    let e = h
        .write(&Change {
            path: &plan.path,
            content: Some(next.as_bytes()),
            expected_version: Some(version),
            actor: &actor,
            kind: "apply_edit",
            container: None,
            payload: plan_payload(&run.id, &run.pipeline, plan),
            id: Some(plan.id.clone()),
        })
        .map_err(RunError::store)?;
    Ok(e.id)
}

fn plan_payload(run: &str, pipeline: &str, plan: &EditPlan) -> Value {
    json!({
        "run": run, "pipeline": pipeline, "plan": plan.id, "mode": plan.mode,
        "range": [plan.range.start, plan.range.end], "description": plan.description,
    })
}

/// Records an approved plan that an editor applied to its buffer, when the writer saved the
/// file: an `apply_edit` event with the plan's id holding the last recorded text with the plan
/// applied (when the plan still applies to it), then the saved file as the writer's snapshot.
/// Nothing is written to the file. Returns the event id of the plan.
pub fn record_saved_plan(root: &Path, run: &str, pipeline: &str, plan: &EditPlan) -> Result<String, RunError> {
    let saved = std::fs::read_to_string(root.join(&plan.path))
        .map_err(|e| RunError::Store(format!("cannot read {}: {e}", plan.path)))?;
    record_plan_content(root, run, pipeline, plan, Some(&saved))
}

/// Records a plan whose text is on disk already (`saved`) as its `apply_edit` event, unless the
/// log has it; see [`record_saved_plan`].
fn record_plan_content(
    root: &Path,
    run: &str,
    pipeline: &str,
    plan: &EditPlan,
    saved: Option<&str>,
) -> Result<String, RunError> {
    let mut h = History::open(root).map_err(RunError::store)?;
    if let Some(e) = h.event(&plan.id).map_err(RunError::store)? {
        return Ok(e.id);
    }
    let saved = saved.unwrap_or_default().to_string();
    let logged = h.latest_content(&plan.path).map_err(RunError::store)?;
    let logged = logged.and_then(|b| String::from_utf8(b).ok());
    // The plan on what the log last had, when that is an older text than the saved one (else
    // the log has the saved text already, edit included); when the plan no longer applies
    // there (it edited text the writer had not saved yet), the saved file is the content.
    let content = logged
        .as_deref()
        .filter(|l| *l != saved)
        .and_then(|l| plan.rebase(l).ok().map(|p| p.apply(l)))
        .unwrap_or(saved);
    let actor = format!("pipeline:{run}");
    let e = h
        .record_content(&Change {
            path: &plan.path,
            content: Some(content.as_bytes()),
            expected_version: None,
            actor: &actor,
            kind: "apply_edit",
            container: None,
            payload: plan_payload(run, pipeline, plan),
            id: Some(plan.id.clone()),
        })
        .map_err(RunError::store)?;
    h.record(&plan.path, "user").map_err(RunError::store)?;
    Ok(e.id)
}

/// The edge a run talks to: the terminal, or the editor.
pub trait Edge {
    /// The scene's current text: an open editor buffer, else the file.
    fn current_text(&mut self, root: &Path, path: &str) -> Result<String, RunError> {
        std::fs::read_to_string(root.join(path)).map_err(|e| RunError::Store(format!("cannot read {path}: {e}")))
    }
    /// Applies an approved plan to the editor's buffer when the file is open there (the
    /// language server sends `workspace/applyEdit` with the document's version: the writer can
    /// undo it, and nothing is saved behind their back; the history records it on save).
    /// `Ok(false)`: the file is not open, and the history write path writes it. An error stops
    /// the edit.
    fn apply_in_editor(&mut self, _run: &Run, _plan: &EditPlan) -> Result<bool, RunError> {
        Ok(false)
    }
    /// The plan's result is already the buffer's text (it was applied before a crash and not
    /// saved): the edge records it when the writer saves. `false`: the file is not open.
    fn adopt(&mut self, _run: &Run, _plan: &EditPlan) -> bool {
        false
    }
    /// A file of the project was written through the history (the editor reloads it).
    fn written(&mut self, _path: &str) {}
    /// A streamed piece of a step's answer.
    fn text(&mut self, _step: &str, _text: &str) {}
    /// The run was saved: its state, its steps or its gate may have changed.
    fn saved(&mut self, _run: &Run) {}
    fn cancelled(&self) -> bool {
        false
    }
    /// The run was handed to another process (parked at its gate, its lease given up): this
    /// one writes nothing of it any more, whatever it does on its way out.
    fn handed_over(&self) -> bool {
        false
    }
    /// Whether a finished run goes into the project's memory (the search index) at once; a
    /// batch's workers leave it to the batch's end (one pass instead of one per run).
    fn remembers_each_run(&self) -> bool {
        true
    }
}

/// The model on a real server: streaming, cancellable, with the daily budget checked first.
pub struct LiveModel {
    pub config: ProjectConfig,
    pub root: PathBuf,
    pub client: Client,
    pub handle: tokio::runtime::Handle,
    pub cancel: Cancel,
}

/// What a call reserves of the daily budget for its answer when its provider sets no
/// `max_tokens` (the request then asks for at most this many, so the reservation holds).
pub const ANSWER_RESERVE: u32 = 4096;

/// A call's reservation of the daily budget ([`LiveModel::reserve`]), held until it is settled.
struct Hold {
    runs: Runs,
    reservation: Reservation,
    /// The prompt's tokens, as counted for the reservation.
    prompt: u64,
    /// The most the answer may have (what the request asks for).
    answer: u32,
}

impl Hold {
    /// What the call spent replaces what it reserved.
    fn settle(self, tokens: u64) {
        // Unsettled (the store could not be written), the reservation keeps counting in full:
        // the budget errs on the side of spending less.
        let _ = self.runs.settle(self.reservation, tokens);
    }
}

impl LiveModel {
    /// Reserves the call's tokens of the daily budget before it is made: its prompt and the
    /// most its answer may have. `None` without a budget.
    fn reserve(&self, call: &str, prompt: &str, max_tokens: Option<u32>) -> Result<Option<Hold>, RunError> {
        let Some(limit) = self.config.daily_tokens else { return Ok(None) };
        let answer = max_tokens.unwrap_or(ANSWER_RESERVE);
        let needs = TokenCounter::count(default_counter(), prompt) as u64;
        let runs = Runs::open(&self.root).map_err(RunError::store)?;
        match runs.reserve(call, limit, needs + u64::from(answer)).map_err(RunError::store)? {
            Ok(reservation) => Ok(Some(Hold { runs, reservation, prompt: needs, answer })),
            Err(used) => Err(RunError::Model(format!(
                "the daily token budget ({limit}) would be exceeded: {used} used or reserved today (UTC), this call needs about {needs} for its prompt and up to {answer} for its answer; raise `budget.daily_tokens` in showrunner.yaml, or wait until tomorrow"
            ))),
        }
    }
}

impl Model for LiveModel {
    fn generate(&self, call: &Call<'_>, on_text: &mut dyn FnMut(&str)) -> Result<Generated, RunError> {
        let (ep, name, max_tokens) = endpoint_of(&self.config, call.model)?;
        let reserved = self.reserve(call.step, call.prompt, max_tokens)?;
        let max_tokens = reserved.as_ref().map(|h| h.answer).or(max_tokens);
        let mut messages = Vec::new();
        if let Some(system) = call.system {
            messages.push(Message::system(system));
        }
        messages.push(Message::user(call.prompt));
        let req = ChatRequest { model: name, messages, json: call.json, temperature: call.temperature, max_tokens };
        // The client wants a `Send` callback; pieces cross a channel to `on_text`, which runs
        // on this thread as they arrive.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let result = self.handle.block_on(async {
            let mut forward = move |d: Delta| match d {
                Delta::Text(t) => {
                    let _ = tx.send(t);
                }
                // What streamed so far is not the answer (reasoning after all, or an attempt
                // that broke off and is made again): the reader is told; the record keeps only
                // the answer.
                Delta::Retract => {
                    let _ = tx.send(RETRACTED.to_string());
                }
                Delta::Reasoning(_) => {}
            };
            let chat = self.client.chat(&ep, &req, &self.cancel, &mut forward);
            tokio::pin!(chat);
            loop {
                tokio::select! {
                    r = &mut chat => {
                        while let Ok(t) = rx.try_recv() {
                            on_text(&t);
                        }
                        break r;
                    }
                    Some(t) = rx.recv() => on_text(&t),
                }
            }
        });
        let c = match result {
            Ok(c) => c,
            Err(e) => {
                // The prompt may have been read; what streamed of an answer is not known here.
                if let Some(h) = reserved {
                    let prompt = h.prompt;
                    h.settle(prompt);
                }
                return Err(if self.cancel.is_cancelled() || matches!(e, showrunner_llm::LlmError::Cancelled) {
                    RunError::Cancelled
                } else {
                    RunError::Model(e.to_string())
                });
            }
        };
        let usage = c.usage.unwrap_or_default();
        if let Some(h) = reserved {
            // A server that reports no usage: the prompt and the answer, counted here.
            let spent = match usage.prompt_tokens + usage.completion_tokens {
                0 => h.prompt + TokenCounter::count(default_counter(), &c.text) as u64,
                n => n,
            };
            h.settle(spent);
        }
        Ok(Generated {
            text: c.text,
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            reasoning: c.reasoning,
            served_by: c.model,
            finish_reason: c.finish_reason,
            recorded_model: None,
        })
    }
}

/// Streamed when what streamed before was not the answer after all.
pub const RETRACTED: &str =
    "\n[the text above was the model's reasoning, or an attempt that broke off: it is not part of the answer]\n";

/// Answers from a recorded run, in order, per step, streamed as they were recorded: no network.
pub struct ReplayModel {
    answers: Mutex<VecDeque<Exchange>>,
}

impl ReplayModel {
    pub fn new(recorded: &Run) -> ReplayModel {
        ReplayModel { answers: Mutex::new(recorded.exchanges.iter().cloned().collect()) }
    }
}

impl Model for ReplayModel {
    fn generate(&self, call: &Call<'_>, on_text: &mut dyn FnMut(&str)) -> Result<Generated, RunError> {
        let mut answers =
            self.answers.lock().map_err(|_| RunError::Invalid("the recording is unavailable".to_string()))?;
        let i = answers
            .iter()
            .position(|e| e.step == call.step)
            .ok_or_else(|| RunError::Invalid(format!("the recording has no answer for step `{}`", call.step)))?;
        let e = answers.remove(i).expect("found");
        if e.chunks.is_empty() {
            on_text(&e.response);
        } else {
            e.chunks.iter().for_each(|c| on_text(c));
        }
        Ok(Generated {
            text: e.response,
            prompt_tokens: e.prompt_tokens,
            completion_tokens: e.completion_tokens,
            reasoning: e.reasoning,
            served_by: e.served_by,
            finish_reason: e.finish_reason,
            // The step is labelled with the model that answered then, not today's config.
            recorded_model: Some(e.model),
        })
    }
}

/// The effects of a run on a project: edits and buckets through the history write path, the run
/// saved after every step, models named by the cascade, agents' personas.
pub struct ProjectEffects<'a, E: Edge> {
    pub root: PathBuf,
    pub analysis: &'a Analysis,
    pub scene: Option<usize>,
    pub runs: Runs,
    pub agents: Vec<AgentDef>,
    pub edge: E,
}

impl<E: Edge> ProjectEffects<'_, E> {
    /// Plans `text` for the run's scene against its current text (the editor's buffer when it
    /// is open, else the file).
    pub fn plan_scene_edit(
        &mut self,
        run: &Run,
        mode: Option<EditMode>,
        field: Option<&str>,
        key: &str,
        text: &str,
    ) -> Result<EditPlan, RunError> {
        if run.scene.is_empty() {
            return Err(RunError::Invalid("this run has no scene to edit".into()));
        }
        let current = self.current_text(&run.scene, mode == Some(EditMode::NewFile))?;
        plan_for(run, mode, field, key, &current, text)
    }

    /// A file's current text (the editor's buffer when it is open); a file to be created that
    /// does not exist yet is empty.
    fn current_text(&mut self, path: &str, new_file: bool) -> Result<String, RunError> {
        if new_file && !self.root.join(path).exists() {
            return Ok(String::new());
        }
        self.edge.current_text(&self.root, path)
    }

    /// Applies an approved plan exactly once: a plan whose event is in the log, or whose result
    /// is already the current text, is not applied again; otherwise it is based onto the
    /// current text (refused when its target changed) and goes to the editor's buffer, or
    /// through the history to the file. Returns the event id (the plan's id).
    pub fn apply_plan(&mut self, run: &Run, plan: &EditPlan) -> Result<String, RunError> {
        let mut h = History::open(&self.root).map_err(RunError::store)?;
        if let Some(e) = h.event(&plan.id).map_err(RunError::store)? {
            return Ok(e.id);
        }
        // The file as it is on disk first, so the edit's event is told apart from the writer's.
        h.record(&plan.path, "user").map_err(RunError::store)?;
        drop(h);
        let current = self.current_text(&plan.path, plan.mode == EditMode::NewFile)?;
        if plan.is_applied_in(&current) {
            // Applied before a crash (to an editor's buffer, not saved yet): the editor's
            // edge records it on save; a file no editor has open is recorded now.
            if !self.edge.adopt(run, plan) {
                return record_plan_content(&self.root, &run.id, &run.pipeline, plan, Some(&current));
            }
            return Ok(plan.id.clone());
        }
        let plan = plan.rebase(&current)?;
        if self.edge.apply_in_editor(run, &plan)? {
            return Ok(plan.id.clone());
        }
        self.refuse_if_open_elsewhere(run, &plan.path)?;
        let id = write_plan(&self.root, run, &plan, &current)?;
        showrunner_store::history::fault("after-apply");
        self.edge.written(&plan.path);
        Ok(id)
    }

    /// Nothing is written to a file a writer has open in another process's editor: its
    /// language server lists it ([`showrunner_store::editing`]).
    fn refuse_if_open_elsewhere(&self, run: &Run, path: &str) -> Result<(), RunError> {
        match showrunner_store::editing::open_elsewhere(&self.root, path) {
            Some(pid) => Err(RunError::Store(format!(
                "{path} is open in an editor (its language server is process {pid}), and a file open there is never written behind its back: approve this change in that editor, or close the file and go on with `showrunner resume {}`",
                run.id
            ))),
            None => Ok(()),
        }
    }

    /// Creates a bucket from fields (`kind` defaults to `research`; `name`, `summary`, `body`,
    /// `aliases`, `keywords`, `sources`), through the write path. Returns its id.
    pub fn create_bucket(&mut self, run: &Run, fields: &Value) -> Result<String, RunError> {
        let kind = fields["kind"].as_str().unwrap_or("research").to_string();
        let name = fields["name"].as_str().filter(|n| !n.trim().is_empty()).unwrap_or("Research notes").to_string();
        let list = |k: &str| -> Vec<String> {
            fields[k]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        let aliases = list("aliases");
        let new = showrunner_store::buckets::NewBucket { kind: &kind, name: &name, aliases: &aliases, parent: None };
        let a = self.analysis;
        let actor = format!("pipeline:{}", run.id);
        let (id, path) = showrunner_store::buckets::create_bucket(
            &self.root,
            &a.config.kinds,
            &new,
            &|id| a.by_id.contains_key(id),
            &actor,
        )
        .map_err(|e| match e {
            showrunner_store::buckets::BucketError::History(h) => RunError::store(h),
            other => RunError::Invalid(other.to_string()),
        })?;
        // Fill in the rest through the write path again.
        let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let mut yaml = format!("id: {id}\nkind: {kind}\nname: {}\n", q(&name));
        if !aliases.is_empty() {
            yaml.push_str(&format!("aliases: {}\n", serde_json::to_string(&aliases).unwrap_or_default()));
        }
        for key in ["summary", "body"] {
            if let Some(s) = fields[key].as_str() {
                yaml.push_str(&format!("{key}: {}\n", q(s)));
            }
        }
        if kind == "research" || !list("keywords").is_empty() {
            yaml.push_str(&format!("keywords: {}\n", serde_json::to_string(&list("keywords")).unwrap_or_default()));
        }
        if kind == "research" || !list("sources").is_empty() {
            yaml.push_str(&format!("sources: {}\n", serde_json::to_string(&list("sources")).unwrap_or_default()));
        }
        let rel = relative(&self.root, &path);
        let mut h = History::open(&self.root).map_err(RunError::store)?;
        let version = h.version(&rel).map_err(RunError::store)?;
        h.write(&Change {
            path: &rel,
            content: Some(yaml.as_bytes()),
            expected_version: Some(version),
            actor: &actor,
            kind: "save_bucket",
            container: Some(&id),
            payload: json!({ "run": run.id }),
            id: None,
        })
        .map_err(RunError::store)?;
        self.edge.written(&rel);
        Ok(id)
    }

    /// Plans replacing bucket `id`'s YAML file with `yaml` (the whole file), against its current
    /// text (the editor's buffer when it is open): approved, it goes through [`Self::apply_plan`]
    /// like any edit, so a file open in the editor changes in its buffer. A proposal that does
    /// not parse as YAML is refused.
    pub fn plan_bucket_edit(&mut self, run: &Run, id: &str, key: &str, yaml: &str) -> Result<EditPlan, RunError> {
        let b = self.analysis.bucket(id).ok_or_else(|| RunError::Invalid(format!("no bucket `{id}`")))?;
        let path = self.analysis.files[b.file].path.clone();
        if let Some(e) = showrunner_model::yaml::parse(yaml).errors.first() {
            return Err(RunError::Invalid(format!("the proposed YAML does not parse: {}", e.message)));
        }
        let current = self.current_text(&path, false)?;
        let id = format!("{}-{key}", run.id);
        let target =
            Target { id: &id, path: &path, mode: EditMode::ReplaceBody, field: None, selection: None, text: yaml };
        Ok(edit::plan(&target, &current)?)
    }

    fn agent(&self, id: Option<&str>) -> Option<&AgentDef> {
        id.and_then(|id| self.agents.iter().find(|a| a.id == id))
    }
}

impl<E: Edge> Effects for ProjectEffects<'_, E> {
    fn plan_edit(&mut self, run: &Run, step: &Step, text: &str) -> Result<EditPlan, RunError> {
        self.plan_scene_edit(run, step.mode, step.field.as_deref(), &step.id, text)
    }

    fn apply_edit(&mut self, run: &Run, _step: &Step, plan: &EditPlan) -> Result<String, RunError> {
        self.apply_plan(run, plan)
    }

    fn save_bucket(&mut self, run: &Run, fields: &Value) -> Result<String, RunError> {
        self.create_bucket(run, fields)
    }

    fn save(&mut self, run: &Run) {
        if self.edge.handed_over() {
            return;
        }
        let data = serde_json::to_value(run).unwrap_or_default();
        if let Err(e) =
            self.runs.save(&run.id, &run.pipeline, &run.scene, run.state.as_str(), run.error.as_deref(), &data)
        {
            eprintln!("showrunner: warning: run not saved: {e}");
        }
        // A finished run indexes itself into the project's memory (derived: a failure here only
        // means the next search catches up instead).
        if run.is_finished() && self.edge.remembers_each_run() {
            let _ = showrunner_store::Index::open(&showrunner_store::index_path(&self.root))
                .and_then(|mut index| index.sync_memory(&self.root));
        }
        self.edge.saved(run);
    }

    fn model_for(&mut self, step: &Step) -> String {
        Cascade::new(self.analysis, &self.agents)
            .resolve(self.scene, step.model.as_deref(), step.agent.as_deref())
            .model_or_fallback()
    }

    fn unknown_names(&mut self, text: &str) -> Vec<String> {
        unknown_names(self.analysis, text)
    }

    fn persona(&mut self, step: &Step) -> Persona {
        match self.agent(step.agent.as_deref()) {
            Some(a) => Persona { system: Some(a.system.clone()), temperature: a.temperature },
            None => Persona::default(),
        }
    }

    fn cancelled(&mut self) -> bool {
        self.edge.cancelled()
    }

    fn on_text(&mut self, step: &str, text: &str) {
        self.edge.text(step, text);
    }
}

/// Capitalised names in `text` that no bucket knows (for `verify`).
pub fn unknown_names(a: &Analysis, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    capitalised_names(text, &[0..text.len()], &[], &a.not_names, &mut found);
    let mut names: Vec<String> = found
        .into_iter()
        .map(|c| c.name)
        .filter(|n| {
            a.dictionary.lookup_cue(n).is_empty()
                && !a.dictionary.entries().iter().any(|e| e.alias.contains(n.as_str()))
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

//! Proposals from outside agents (an agent connected through `showrunner mcp`): an edit of a
//! scene, or a new or changed bucket. A proposal is parked as a run that waits at a `tool` gate:
//! the same approval queue the editors show, and nothing is written until a human approves it
//! there (or in a terminal, with `showrunner resume RUN`). The gate shows the change approving
//! makes, planned against the scene's current text; the decision is carried out by the agents'
//! own proposal code ([`crate::react`]), through the one write path.
//!
//! A parked run holds no lease: whichever editor session or terminal takes it first drives it.
//! `.showrunner/inbox` is written when one is parked, so a running language server (whose file
//! watcher looks at that one file under `.showrunner/`) takes it at once.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Value};
use showrunner_model::analysis::Analysis;
use showrunner_pipeline::{Gates, Run, RunError, RunState, StepKind, StepRecord, StepState};
use showrunner_store::runs::Runs;

use crate::studio::{new_run_id, review_path, Edge, ProjectEffects};

/// The pipeline name of a proposal's run: `proposal:edit` or `proposal:bucket`.
pub const PREFIX: &str = "proposal:";
/// Its one step, where it waits.
pub const STEP: &str = "propose";

/// The file a parked proposal writes, so that running language servers look for it.
pub fn inbox_path(root: &Path) -> PathBuf {
    root.join(".showrunner").join("inbox")
}

/// What an outside agent proposes.
#[derive(Debug, Clone, Default)]
pub struct Proposal {
    /// `edit` or `bucket`.
    pub kind: String,
    /// For an edit: the scene (id or project-relative path).
    pub scene: Option<String>,
    /// For an edit: the passage it replaces (or follows, with `insert_after`); it must occur
    /// exactly once in the scene. None: the edit goes at the end of the scene.
    pub find: Option<String>,
    /// For an edit: `text`, `mode`. For a bucket: `kind`, `name`, `summary`, `body`, `aliases`,
    /// `keywords`, `sources` (a new bucket), or `id` and `yaml` (a bucket replaced).
    pub args: Value,
    /// Who proposes (the MCP client's name).
    pub from: String,
    /// Why, in the proposer's words.
    pub why: Option<String>,
}

/// Where a parked proposal waits.
#[derive(Debug, Clone, Serialize)]
pub struct Parked {
    pub run: String,
    pub step: String,
    /// `waiting`.
    pub state: String,
    /// The gate's kind: `tool`.
    pub gate: String,
    /// The review document (project-relative) that editors show and the writer may edit.
    pub review: String,
    /// What approving does, in words.
    pub description: String,
    /// The change approving makes, as a unified diff (for an edit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// The edge of a proposal being parked: the files on disk, nothing shown.
struct Disk;
impl Edge for Disk {}

fn tool_of(kind: &str) -> Result<&'static str, RunError> {
    match kind {
        "edit" => Ok("propose_edit"),
        "bucket" => Ok("propose_bucket"),
        other => Err(RunError::Invalid(format!("`{other}` is not a kind of proposal: edit or bucket"))),
    }
}

/// Parks a proposal: checks it, plans the edit against the scene's current text (a proposal
/// that cannot apply is refused now, with the reason), and saves a run waiting at its gate.
pub fn park(root: &Path, a: &Analysis, p: &Proposal) -> Result<Parked, RunError> {
    let tool = tool_of(&p.kind)?;
    if !p.args.is_object() {
        return Err(RunError::Invalid("the proposal's arguments must be an object".into()));
    }
    let mut vars = json!({
        "tool": tool,
        "proposal": p.args,
        "from": p.from,
        "request": p.why.clone().unwrap_or_default(),
    });
    let mut scene_index = None;
    let mut scene_path = String::new();
    if tool == "propose_edit" {
        let want = p.scene.as_deref().filter(|s| !s.trim().is_empty());
        let want = want.ok_or_else(|| RunError::Invalid("an edit needs `scene` (a scene's id or path)".into()))?;
        let i = crate::bible::scene_index(a, want)?;
        scene_index = Some(i);
        scene_path = a.files[a.scenes[i].file].path.clone();
        if let Some(find) = p.find.as_deref().filter(|f| !f.is_empty()) {
            let text = std::fs::read_to_string(root.join(&scene_path))
                .map_err(|e| RunError::Store(format!("cannot read {scene_path}: {e}")))?;
            let found: Vec<usize> = text.match_indices(find).map(|(i, _)| i).collect();
            let start = match found.as_slice() {
                [one] => *one,
                [] => return Err(RunError::Invalid(format!("`find` does not occur in {scene_path}: quote the passage exactly as the scene has it (read_scene shows it)"))),
                many => return Err(RunError::Invalid(format!("`find` occurs {} times in {scene_path}: quote a longer passage, one that occurs once", many.len()))),
            };
            vars["selection"] = json!(find);
            vars["selection_range"] = json!({ "start": start, "end": start + find.len() });
        }
    }
    let step = StepRecord { state: StepState::Running, attempts: 1, ..StepRecord::new(STEP, StepKind::Tool) };
    let pipeline = format!("{PREFIX}{}", p.kind);
    let mut run = Run::with_steps(&new_run_id("proposal"), &pipeline, &scene_path, vec![step], vars);
    run.state = RunState::Waiting;
    let runs = Runs::open(root).map_err(RunError::store)?;
    let mut fx = ProjectEffects {
        root: root.to_path_buf(),
        analysis: a,
        scene: scene_index,
        runs,
        agents: Vec::new(),
        edge: Disk,
    };
    let (text, edit) = crate::react::proposal_gate(tool, &p.args, STEP, &run, &mut fx)?;
    let (description, diff) = match &edit {
        Some(Err(e)) => return Err(RunError::Invalid(format!("this edit cannot be applied: {e}"))),
        Some(Ok(plan)) => (plan.description.clone(), Some(plan.diff.clone())),
        None => ("creates a new bucket from the proposed fields".into(), None),
    };
    run.gate = Some(crate::react::tool_gate(&run, STEP, &text, &edit));
    showrunner_pipeline::Effects::save(&mut fx, &run);
    fx.runs.release(&run.id).map_err(RunError::store)?;
    let review = review_path(root, &run.id, STEP);
    showrunner_store::fsx::write_atomic(&review, text.as_bytes())
        .map_err(|e| RunError::Store(format!("cannot write the review document: {e}")))?;
    // Language servers watching the project take the run from here.
    let _ = showrunner_store::fsx::write_atomic(&inbox_path(root), run.id.as_bytes());
    Ok(Parked {
        run: run.id.clone(),
        step: STEP.into(),
        state: RunState::Waiting.as_str().into(),
        gate: "tool".into(),
        review: showrunner_store::discover::relative(root, &review),
        description,
        diff,
    })
}

/// Goes on with a parked proposal: its gate is asked (again) until the writer decides, and the
/// decision is carried out. The run ends `succeeded` with what happened as its answer (approved
/// and applied, rejected, skipped), `cancelled`, or `failed` with the reason.
pub fn execute<E: Edge>(run: &mut Run, gates: &mut dyn Gates, fx: &mut ProjectEffects<'_, E>) {
    let tool = run.vars["tool"].as_str().unwrap_or("").to_string();
    let args = run.vars["proposal"].clone();
    run.state = RunState::Running;
    let i = run.running_step(STEP, StepKind::Tool);
    let result = crate::react::propose(&tool, &args, STEP, run, gates, fx);
    let (state, step_state) = match &result {
        Ok(answer) => {
            run.vars["answer"] = json!(answer);
            run.steps[i].output = json!(answer);
            (RunState::Succeeded, StepState::Succeeded)
        }
        Err(RunError::Cancelled) => {
            run.error = Some(RunError::Cancelled.to_string());
            (RunState::Cancelled, StepState::Failed)
        }
        Err(e) => {
            run.error = Some(e.to_string());
            run.steps[i].error = Some(e.to_string());
            (RunState::Failed, StepState::Failed)
        }
    };
    run.steps[i].state = step_state;
    run.state = state;
    run.gate = None;
    showrunner_pipeline::Effects::save(fx, run);
}

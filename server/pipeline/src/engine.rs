//! The run engine: executes a pipeline's steps in DAG order for one scene, with every model call
//! recorded, every gate asked, and the run's state saved after each step so it can resume.
//!
//! The engine is synchronous and talks to the world through three small traits: [`Model`]
//! (generate text), [`Gates`] (ask a human), [`Effects`] (apply an edit, save a bucket, persist
//! the run). The CLI and the language server supply real implementations; replay supplies
//! recorded model answers.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use std::collections::BTreeMap;

use crate::def::{Pipeline, Step, StepKind};
use crate::edit::EditPlan;
pub use crate::error::RunError;
pub use crate::gate::{DecisionKind, Gate, GateKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Queued,
    Running,
    Waiting,
    Succeeded,
    Failed,
    Cancelled,
    /// The process driving the run ended before it finished. Shown for such a run; never
    /// stored (the stored state is where it stopped, so it can resume).
    Interrupted,
}

impl RunState {
    /// The name the protocol and the run store use (the serialised form).
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Waiting => "waiting",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
            RunState::Interrupted => "interrupted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Pending,
    Running,
    Succeeded,
    Skipped,
    Failed,
}

impl StepState {
    /// The name the protocol uses (the serialised form).
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Running => "running",
            StepState::Succeeded => "succeeded",
            StepState::Skipped => "skipped",
            StepState::Failed => "failed",
        }
    }
}

/// One model call, kept so the run can be replayed without a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub step: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    pub prompt: String,
    pub response: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// The answer as it streamed, piece by piece (a replay streams it the same way). They always
    /// add up to `response`: when the stream was taken back (reasoning after all, a retried
    /// attempt), the answer is one piece.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chunks: Vec<String>,
    /// What the model reasoned before answering (reasoning deltas and `<think>` text): kept and
    /// shown, never part of the answer.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reasoning: String,
    /// The model that answered, as the response named it (behind a router or a fallback it may
    /// differ from `model`, the one asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_by: Option<String>,
    /// Why the model stopped (`length`: cut at its token limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
}

impl Exchange {
    /// The record of one model call: `model` was asked with `prompt` (and `system`) and gave
    /// `generated`, streamed as `chunks`.
    pub fn new(
        step: &str,
        model: &str,
        system: Option<String>,
        prompt: &str,
        generated: &Generated,
        chunks: Vec<String>,
    ) -> Exchange {
        let chunks = if chunks.concat() == generated.text { chunks } else { vec![generated.text.clone()] };
        Exchange {
            step: step.to_string(),
            model: model.to_string(),
            system,
            prompt: prompt.to_string(),
            response: generated.text.clone(),
            prompt_tokens: generated.prompt_tokens,
            completion_tokens: generated.completion_tokens,
            chunks,
            reasoning: generated.reasoning.clone(),
            served_by: generated.served_by.clone(),
            finish_reason: generated.finish_reason.clone(),
        }
    }

    /// Whether the answer stopped at the model's token limit.
    pub fn cut_at_limit(&self) -> bool {
        self.finish_reason.as_deref() == Some("length")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: StepKind,
    pub state: StepState,
    pub attempts: u32,
    pub model: Option<String>,
    pub output: Value,
    pub error: Option<String>,
}

/// Everything about a run: durable, serialisable, resumable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    pub pipeline: String,
    /// Project-relative path of the scene.
    pub scene: String,
    pub state: RunState,
    pub steps: Vec<StepRecord>,
    /// Inputs and step outputs, as the templates see them.
    pub vars: Value,
    pub exchanges: Vec<Exchange>,
    /// Replays of recorded runs are labelled as such.
    pub replay_of: Option<String>,
    pub error: Option<String>,
    /// The model the writer chose for this run (`--model`, or "Change model" at a gate): it wins
    /// over the cascade.
    #[serde(default)]
    pub model_override: Option<String>,
    /// The gate the run waits at, if any.
    #[serde(default)]
    pub gate: Option<Gate>,
    /// The edits the writer approved, by the `apply_edit` step that applies each.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub plans: BTreeMap<String, EditPlan>,
    /// Every decision a human made at a gate of this run, in order (the project's memory).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<DecisionRecord>,
    /// What `judge` and `verify` found wrong with an answer, in order (the project's memory,
    /// recalled into later drafts of the same scene).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defects: Vec<DefectReport>,
    /// Its pipeline runs [judged](crate::def::Pipeline::judged): a planned batch's task has its
    /// answer scored before anything uses it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub judged: bool,
}

/// A decision made at a gate: which, where, and the writer's note (a rejection's reason, a chat
/// message, the model chosen).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub step: String,
    pub gate: GateKind,
    pub decision: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A defect report: what a `judge` or `verify` step found wrong with the answer of `model`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DefectReport {
    pub step: String,
    pub report: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl StepRecord {
    /// A step that has not run yet.
    pub fn new(id: &str, kind: StepKind) -> StepRecord {
        StepRecord {
            id: id.to_string(),
            kind,
            state: StepState::Pending,
            attempts: 0,
            model: None,
            output: Value::Null,
            error: None,
        }
    }
}

impl Run {
    /// Marks the step `id` running (added as a `kind` step first when the run has none by that
    /// id: a tool call's step is known only once the call is made); its index.
    pub fn running_step(&mut self, id: &str, kind: StepKind) -> usize {
        let i = match self.steps.iter().position(|s| s.id == id) {
            Some(i) => i,
            None => {
                self.steps.push(StepRecord::new(id, kind));
                self.steps.len() - 1
            }
        };
        self.steps[i].state = StepState::Running;
        i
    }

    pub fn new(id: &str, pipeline: &Pipeline, scene: &str, vars: Value) -> Run {
        let steps = pipeline.steps.iter().map(|s| StepRecord::new(&s.id, s.kind)).collect();
        Run::with_steps(id, &pipeline.id, scene, steps, vars)
    }

    /// A queued run of `steps` that is not a pipeline's (an outside agent's proposal, say).
    pub fn with_steps(id: &str, pipeline: &str, scene: &str, steps: Vec<StepRecord>, vars: Value) -> Run {
        Run {
            id: id.to_string(),
            pipeline: pipeline.to_string(),
            scene: scene.to_string(),
            state: RunState::Queued,
            steps,
            vars,
            exchanges: Vec::new(),
            replay_of: None,
            error: None,
            model_override: None,
            gate: None,
            plans: BTreeMap::new(),
            decisions: Vec::new(),
            defects: Vec::new(),
            judged: false,
        }
    }

    /// Prepares a stopped run to go on: a step cut off mid-call (or failed) runs again; completed
    /// steps are kept and never run again.
    pub fn prepare_resume(&mut self) {
        for s in &mut self.steps {
            if matches!(s.state, StepState::Running | StepState::Failed) {
                s.state = StepState::Pending;
            }
        }
        self.error = None;
        self.gate = None;
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.state, RunState::Succeeded | RunState::Failed | RunState::Cancelled)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Generated {
    /// The answer, and nothing but the answer.
    pub text: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// What the model reasoned first (never part of `text`).
    pub reasoning: String,
    /// The model that answered, as the server named it.
    pub served_by: Option<String>,
    /// Why it stopped (`stop`, `length` …).
    pub finish_reason: Option<String>,
    /// The model to record for this answer when it is not the one the run asked for (a
    /// replay: the recorded model).
    pub recorded_model: Option<String>,
}

/// Independent model steps (ready at the same time, e.g. two branches of a DAG) run at most
/// this many at once.
pub const MAX_PARALLEL: usize = 2;

/// One model call.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The step (or `step:chat` for a side conversation at a gate).
    pub step: &'a str,
    /// `provider/model`.
    pub model: &'a str,
    /// The agent's system prompt, when the step names an agent.
    pub system: Option<&'a str>,
    pub prompt: &'a str,
    pub json: bool,
    pub temperature: Option<f64>,
}

/// A model. `Sync`: independent steps call it from several threads at once.
pub trait Model: Sync {
    /// Generates an answer, streaming pieces to `on_text`. Errors are messages for the writer.
    fn generate(&self, call: &Call<'_>, on_text: &mut dyn FnMut(&str)) -> Result<Generated, RunError>;
}

/// A human decision at a gate.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Go on, with this (possibly edited) text.
    Approve(String),
    /// An answer produced elsewhere: at a prompt gate the model is not called.
    Paste(String),
    Skip,
    Reject(String),
    /// Generate the output again (an output gate) or render the prompt again (a prompt gate).
    Regenerate,
    /// Use this model from now on; the gate stays open.
    ChangeModel(String),
    /// A message to the model about the text under review; its answer replaces the text and the
    /// gate stays open.
    Chat(String),
    /// The run was cancelled while waiting.
    Cancel,
}

/// An agent's system prompt and temperature, for steps that name an agent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Persona {
    pub system: Option<String>,
    pub temperature: Option<f64>,
}

pub trait Gates {
    /// Asks the writer. `run.gate` holds what the gate shows: the text, and the edit approving
    /// it makes, if any.
    fn ask(&mut self, run: &Run, step: &Step, kind: GateKind, text: &str) -> Decision;
}

pub trait Effects {
    /// Plans where `text` goes for an `apply_edit` step (`step.mode` says how), against the
    /// scene's current text. What a gate shows and what is applied are this plan.
    fn plan_edit(&mut self, run: &Run, step: &Step, text: &str) -> Result<EditPlan, RunError>;
    /// Applies an approved plan exactly once (the history event carries the plan's id): onto
    /// the current text when the target is unchanged, else an error saying why. Returns the
    /// history event's id.
    fn apply_edit(&mut self, run: &Run, step: &Step, plan: &EditPlan) -> Result<String, RunError>;
    /// Saves a bucket (e.g. research findings) through the history write path.
    fn save_bucket(&mut self, run: &Run, fields: &Value) -> Result<String, RunError>;
    /// Persists the run (called after every step).
    fn save(&mut self, run: &Run);
    /// Names the model for a step (the cascade), given the step's own `model:`.
    fn model_for(&mut self, step: &Step) -> String;
    /// Unknown capitalised names in `text` (for `verify`).
    fn unknown_names(&mut self, text: &str) -> Vec<String>;
    /// The system prompt and temperature of the step's agent.
    fn persona(&mut self, _step: &Step) -> Persona {
        Persona::default()
    }
    /// Whether the run was cancelled.
    fn cancelled(&mut self) -> bool {
        false
    }
    /// A streamed piece of output, for the terminal or the editor.
    fn on_text(&mut self, _step: &str, _text: &str) {}
}

/// Renders a step template with the run's variables (minijinja; `{{scene.title}}` …).
pub fn render(template: &str, vars: &Value) -> Result<String, RunError> {
    let env = minijinja::Environment::new();
    env.render_str(template, vars).map_err(|e| RunError::Template(e.to_string()))
}

/// Runs (or resumes) `run` to its end or to a failure. Completed steps are never run again.
/// A step runs once every step it needs has finished; model steps that are ready together run
/// concurrently (at most [`MAX_PARALLEL`]); gates and effects run one at a time.
pub fn execute(pipeline: &Pipeline, run: &mut Run, model: &dyn Model, gates: &mut dyn Gates, fx: &mut dyn Effects) {
    run.state = RunState::Running;
    fx.save(run);
    let done = |run: &Run, id: &str| {
        run.steps.iter().any(|r| r.id == id && matches!(r.state, StepState::Succeeded | StepState::Skipped))
    };
    loop {
        if fx.cancelled() {
            run.state = RunState::Cancelled;
            fx.save(run);
            return;
        }
        let ready: Vec<usize> = pipeline
            .order
            .iter()
            .copied()
            .filter(|&i| !matches!(run.steps[i].state, StepState::Succeeded | StepState::Skipped))
            .filter(|&i| pipeline.steps[i].needs.iter().all(|n| done(run, n)))
            .collect();
        let Some(&first) = ready.first() else { break };
        // Conditions first: a step whose `when:` is false is skipped.
        if let Some(&i) =
            ready.iter().find(|&&i| pipeline.steps[i].when.as_ref().is_some_and(|c| !truthy(&run.vars, c)))
        {
            run.steps[i].state = StepState::Skipped;
            fx.save(run);
            continue;
        }
        // Quick steps (prompts, gates, edits) first, so that model steps pile up and can run
        // together.
        let first = ready.iter().copied().find(|&i| !pipeline.steps[i].kind.generates()).unwrap_or(first);
        let parallel: Vec<usize> =
            ready.iter().copied().filter(|&i| pipeline.steps[i].kind.generates()).take(MAX_PARALLEL).collect();
        let all_generating = pipeline.steps[first].kind.generates();
        let results: Vec<(usize, Result<Option<Value>, RunError>)> = if all_generating && parallel.len() > 1 {
            generate_together(pipeline, &parallel, run, model, fx)
        } else {
            let step = &pipeline.steps[first];
            run.steps[first].state = StepState::Running;
            run.steps[first].attempts += 1;
            fx.save(run);
            vec![(first, run_step(pipeline, step, run, model, gates, fx))]
        };
        for (i, result) in results {
            let step = &pipeline.steps[i];
            match result {
                Ok(Some(output)) => {
                    run.vars[&step.id] = output.clone();
                    run.steps[i].output = output;
                    run.steps[i].state = StepState::Succeeded;
                }
                Ok(None) => run.steps[i].state = StepState::Skipped,
                Err(e) => {
                    run.steps[i].state = StepState::Failed;
                    run.steps[i].error = Some(e.to_string());
                    run.error = Some(format!("step `{}` failed: {e}", step.id));
                    run.state = if e == RunError::Cancelled { RunState::Cancelled } else { RunState::Failed };
                    fx.save(run);
                    return;
                }
            }
        }
        fx.save(run);
    }
    run.state = RunState::Succeeded;
    fx.save(run);
}

/// The model a step runs on: the writer's choice for the run wins, then the cascade.
pub fn model_name(run: &Run, step: &Step, fx: &mut dyn Effects) -> String {
    run.model_override.clone().unwrap_or_else(|| fx.model_for(step))
}

/// Runs several ready model steps at once: models are named and prompts prepared first, the
/// calls run on scoped threads, and the exchanges are recorded in step order afterwards.
fn generate_together(
    pipeline: &Pipeline,
    steps: &[usize],
    run: &mut Run,
    model: &dyn Model,
    fx: &mut dyn Effects,
) -> Vec<(usize, Result<Option<Value>, RunError>)> {
    let jobs: Vec<(usize, String, String, Persona)> = steps
        .iter()
        .map(|&i| {
            let step = &pipeline.steps[i];
            run.steps[i].state = StepState::Running;
            run.steps[i].attempts += 1;
            (i, model_name(run, step, fx), prompt_for(run, pipeline, step), fx.persona(step))
        })
        .collect();
    fx.save(run);
    let answers: Vec<Result<Generated, RunError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(i, name, prompt, persona)| {
                let step = &pipeline.steps[*i];
                scope.spawn(move || {
                    let call = Call {
                        step: &step.id,
                        model: name,
                        system: persona.system.as_deref(),
                        prompt,
                        json: step.json,
                        temperature: persona.temperature,
                    };
                    model.generate(&call, &mut |_| {})
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(RunError::Model("the model call panicked".into()))))
            .collect()
    });
    let mut out = Vec::new();
    for ((i, name, prompt, persona), answer) in jobs.into_iter().zip(answers) {
        let step = &pipeline.steps[i];
        let result = answer.map(|g| {
            fx.on_text(&step.id, &g.text);
            let name = g.recorded_model.clone().unwrap_or(name);
            run.steps[i].model = Some(name.clone());
            run.exchanges.push(Exchange::new(&step.id, &name, persona.system, &prompt, &g, vec![g.text.clone()]));
            Some(as_output(step, g.text))
        });
        out.push((i, result));
    }
    out
}

fn truthy(vars: &Value, cond: &str) -> bool {
    let path: Vec<&str> = cond.trim().split('.').collect();
    let mut v = vars;
    for p in path {
        v = &v[p];
    }
    !(v.is_null() || v == &json!(false) || v == &json!("") || v == &json!([]))
}

/// The latest text-producing step's output before `step` (what gates and edits act on).
fn last_text(run: &Run, pipeline: &Pipeline, step: &Step) -> String {
    let key = step.needs.iter().rev().find(|n| pipeline.steps.iter().any(|s| &s.id == *n && s.kind.generates()));
    let key = key.cloned().or_else(|| {
        pipeline
            .steps
            .iter()
            .rev()
            .filter(|s| s.kind.generates())
            .find(|s| !run.vars[&s.id].is_null())
            .map(|s| s.id.clone())
    });
    match key.map(|k| &run.vars[&k]) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
    }
}

fn prompt_text(run: &Run, pipeline: &Pipeline) -> String {
    pipeline
        .steps
        .iter()
        .rev()
        .filter(|s| s.kind.is_prompt())
        .find_map(|s| run.vars[&s.id].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The prompt a model step answers: from a prompt (or its review) it needs, else the latest.
fn prompt_for(run: &Run, pipeline: &Pipeline, step: &Step) -> String {
    step.needs
        .iter()
        .filter_map(|n| pipeline.steps.iter().find(|s| &s.id == n))
        .filter(|s| s.kind.is_prompt())
        .find_map(|s| run.vars[&s.id].as_str().map(str::to_string))
        .unwrap_or_else(|| prompt_text(run, pipeline))
}

/// One model call for `step`: streamed to the effects, recorded as an exchange.
fn call(step: &Step, run: &mut Run, model: &dyn Model, fx: &mut dyn Effects, prompt: &str) -> Result<String, RunError> {
    let name = model_name(run, step, fx);
    let persona = fx.persona(step);
    let mut chunks = Vec::new();
    let generated = {
        let call = Call {
            step: &step.id,
            model: &name,
            system: persona.system.as_deref(),
            prompt,
            json: step.json,
            temperature: persona.temperature,
        };
        model.generate(&call, &mut |t: &str| {
            fx.on_text(&step.id, t);
            chunks.push(t.to_string());
        })?
    };
    // A replay names the model that answered then, not the one the config names now.
    let name = generated.recorded_model.clone().unwrap_or(name);
    if let Some(r) = run.steps.iter_mut().find(|r| r.id == step.id) {
        r.model = Some(name.clone());
    }
    run.exchanges.push(Exchange::new(&step.id, &name, persona.system, prompt, &generated, chunks));
    Ok(generated.text)
}

/// A side conversation at a gate: the writer's message about `text`; the model answers with a
/// revised text. Recorded as an exchange of `step:chat`.
fn chat(
    step: &Step,
    run: &mut Run,
    model: &dyn Model,
    fx: &mut dyn Effects,
    text: &str,
    message: &str,
    what: &str,
) -> Result<String, RunError> {
    let mut side = step.clone();
    side.id = format!("{}:chat", step.id);
    side.json = false;
    let prompt = format!(
        "You help a writer refine {what} for an AI co-writer.\n\n<{what}>\n{text}\n</{what}>\n\nThe writer says: {message}\n\nAnswer with the revised {what} only, without commentary."
    );
    call(&side, run, model, fx, &prompt).map(|t| t.trim().to_string())
}

/// The generate step whose output a judge or verify step checks (and retries).
fn latest_generator(pipeline: &Pipeline, run: &Run) -> Option<Step> {
    pipeline.steps.iter().rev().filter(|s| s.kind.generates()).find(|s| !run.vars[&s.id].is_null()).cloned()
}

/// The model step an output gate judges: the latest one that produced something.
fn output_generator(pipeline: &Pipeline, run: &Run, step: &Step) -> Option<Step> {
    step.needs
        .iter()
        .filter_map(|n| pipeline.steps.iter().find(|s| &s.id == n))
        .find(|s| s.kind.generates())
        .or_else(|| pipeline.steps.iter().rev().filter(|s| s.kind.generates()).find(|s| !run.vars[&s.id].is_null()))
        .cloned()
}

/// Runs `generator` again (same prompt, the run's current model) and stores its new output.
fn regenerate(
    pipeline: &Pipeline,
    generator: &Step,
    run: &mut Run,
    model: &dyn Model,
    fx: &mut dyn Effects,
    prompt: Option<String>,
) -> Result<(), RunError> {
    let prompt = prompt.unwrap_or_else(|| prompt_for(run, pipeline, generator));
    let text = call(generator, run, model, fx, &prompt)?;
    let output = as_output(generator, text);
    run.vars[&generator.id] = output.clone();
    if let Some(r) = run.steps.iter_mut().find(|r| r.id == generator.id) {
        r.output = output;
    }
    Ok(())
}

/// A model step's output: its JSON for a JSON step (when it parses), else the answer without
/// the blank lines around it (what follows a `</think>` starts with some).
fn as_output(step: &Step, text: String) -> Value {
    if step.json {
        if let Some((v, _)) = showrunner_llm::repair::parse_lenient(&text) {
            return v;
        }
    }
    let trimmed = text.trim_matches(|c: char| c == '\n' || c == '\r');
    Value::String(if trimmed.len() == text.len() { text } else { trimmed.to_string() })
}

/// Asks a gate: the run waits (and says so, durably) until the writer decides.
pub fn ask(
    run: &mut Run,
    step: &Step,
    gates: &mut dyn Gates,
    fx: &mut dyn Effects,
    kind: GateKind,
    text: &str,
) -> Decision {
    ask_showing(run, step, gates, fx, Gate::new(&step.id, kind, text))
}

/// Asks a gate that shows more than its text: the edit approving it makes, a note.
pub fn ask_showing(run: &mut Run, step: &Step, gates: &mut dyn Gates, fx: &mut dyn Effects, gate: Gate) -> Decision {
    let (kind, text) = (gate.kind, gate.text.clone());
    run.state = RunState::Waiting;
    run.gate = Some(gate);
    fx.save(run);
    let decision = gates.ask(run, step, kind, &text);
    let (name, note) = match &decision {
        Decision::Approve(_) => ("approve", ""),
        Decision::Paste(_) => ("paste", ""),
        Decision::Skip => ("skip", ""),
        Decision::Reject(why) => ("reject", why.as_str()),
        Decision::Regenerate => ("regenerate", ""),
        Decision::ChangeModel(m) => ("change_model", m.as_str()),
        Decision::Chat(m) => ("chat", m.as_str()),
        Decision::Cancel => ("cancel", ""),
    };
    run.decisions.push(DecisionRecord { step: step.id.clone(), gate: kind, decision: name.into(), note: note.into() });
    run.state = RunState::Running;
    run.gate = None;
    fx.save(run);
    decision
}

/// A prompt gate. Paste satisfies the model step after it with an answer from elsewhere.
fn review_prompt(
    pipeline: &Pipeline,
    step: &Step,
    run: &mut Run,
    model: &dyn Model,
    gates: &mut dyn Gates,
    fx: &mut dyn Effects,
) -> Result<Option<Value>, RunError> {
    let mut prompt = prompt_text(run, pipeline);
    loop {
        match ask(run, step, gates, fx, GateKind::ReviewPrompt, &prompt) {
            Decision::Approve(text) => return Ok(Some(Value::String(text))),
            Decision::Skip => return Ok(Some(Value::String(prompt))),
            Decision::Paste(answer) => {
                let at = pipeline.steps.iter().position(|s| s.id == step.id).unwrap_or(0);
                let next = pipeline
                    .order
                    .iter()
                    .copied()
                    .skip_while(|&i| i != at)
                    .find(|&i| pipeline.steps[i].kind.generates());
                if let Some(i) = next {
                    let g = &pipeline.steps[i];
                    let output = as_output(g, answer.clone());
                    run.vars[&g.id] = output.clone();
                    run.steps[i].output = output;
                    run.steps[i].state = StepState::Succeeded;
                    run.steps[i].model = Some("pasted".into());
                    let pasted = Generated { text: answer, ..Default::default() };
                    run.exchanges.push(Exchange::new(&g.id, "pasted", None, &prompt, &pasted, Vec::new()));
                }
                return Ok(Some(Value::String(prompt)));
            }
            Decision::Reject(why) => return Err(RunError::Rejected { what: "prompt", why }),
            Decision::Cancel => return Err(RunError::Cancelled),
            Decision::ChangeModel(m) => run.model_override = Some(m),
            Decision::Chat(message) => prompt = chat(step, run, model, fx, &prompt, &message, "prompt")?,
            Decision::Regenerate => {
                // Render the prompt again from its template, dropping edits.
                if let Some(p) =
                    pipeline.steps.iter().rev().find(|s| s.kind == StepKind::Prompt && step.needs.contains(&s.id))
                {
                    prompt = render(p.template.as_deref().unwrap_or("{{scene.text}}"), &run.vars)?;
                }
            }
        }
    }
}

/// An output gate: the writer approves (maybe edited) text, or has it made again.
fn approve_output(
    pipeline: &Pipeline,
    step: &Step,
    run: &mut Run,
    model: &dyn Model,
    gates: &mut dyn Gates,
    fx: &mut dyn Effects,
) -> Result<Option<Value>, RunError> {
    let generator = output_generator(pipeline, run, step);
    let effect = following_effect(pipeline, step);
    let mut output = last_text(run, pipeline, step);
    loop {
        let (edit, mut note) = preview(run, effect, &output, fx);
        // What the answer's model call says about itself: its reasoning, and a cut answer.
        let exchange = generator.as_ref().and_then(|g| run.exchanges.iter().rev().find(|e| e.step == g.id));
        let reasoning = exchange.map(|e| e.reasoning.trim()).filter(|r| !r.is_empty()).map(str::to_string);
        if exchange.is_some_and(Exchange::cut_at_limit) {
            let cut =
                "The answer was cut at the model's token limit (finish reason `length`): it may stop mid-sentence.";
            note = Some(match note {
                Some(n) => format!("{cut}\n{n}"),
                None => cut.to_string(),
            });
        }
        // The judge's score of this answer, when a judge passed it: shown, and what approving
        // in bulk goes by.
        let confidence = pipeline
            .steps
            .iter()
            .filter(|s| s.kind == StepKind::Judge)
            .filter_map(|s| run.vars[&s.id]["confidence"].as_f64())
            .next_back();
        let gate = Gate { edit, note, reasoning, confidence, ..Gate::new(&step.id, GateKind::ApproveOutput, &output) };
        match ask_showing(run, step, gates, fx, gate) {
            Decision::Approve(text) | Decision::Paste(text) => {
                // What is approved is the plan, planned again when the writer edited the text.
                if let Some(apply) = effect.filter(|s| s.kind == StepKind::ApplyEdit) {
                    if !text.trim().is_empty() {
                        let plan = fx.plan_edit(run, apply, &text)?;
                        run.plans.insert(apply.id.clone(), plan);
                    }
                }
                return Ok(Some(Value::String(text)));
            }
            Decision::Skip => return Ok(None),
            Decision::Reject(why) => return Err(RunError::Rejected { what: "output", why }),
            Decision::Cancel => return Err(RunError::Cancelled),
            Decision::ChangeModel(m) => {
                run.model_override = Some(m);
                if let Some(g) = &generator {
                    regenerate(pipeline, g, run, model, fx, None)?;
                    output = last_text(run, pipeline, step);
                }
            }
            Decision::Regenerate => {
                if let Some(g) = &generator {
                    regenerate(pipeline, g, run, model, fx, None)?;
                    output = last_text(run, pipeline, step);
                }
            }
            Decision::Chat(message) => output = chat(step, run, model, fx, &output, &message, "text")?,
        }
    }
}

/// The step an output gate decides for: the first `apply_edit` or `save_bucket` after it.
fn following_effect<'p>(pipeline: &'p Pipeline, gate: &Step) -> Option<&'p Step> {
    let at = pipeline.steps.iter().position(|s| s.id == gate.id)?;
    pipeline
        .order
        .iter()
        .skip_while(|&&i| i != at)
        .map(|&i| &pipeline.steps[i])
        .find(|s| matches!(s.kind, StepKind::ApplyEdit | StepKind::SaveBucket))
}

/// What an output gate shows besides the text: the edit approving it makes (or why there is
/// none), or that an answer meant to be saved as a bucket is not JSON.
fn preview(run: &Run, effect: Option<&Step>, output: &str, fx: &mut dyn Effects) -> (Option<EditPlan>, Option<String>) {
    match effect {
        Some(s) if s.kind == StepKind::ApplyEdit && !output.trim().is_empty() => match fx.plan_edit(run, s, output) {
            Ok(plan) => (Some(plan), None),
            Err(e) => (None, Some(format!("Approving cannot apply this text: {e}"))),
        },
        Some(s) if s.kind == StepKind::SaveBucket => {
            let object = showrunner_llm::repair::parse_lenient(output).is_some_and(|(v, _)| v.is_object());
            let note = (!object).then(|| {
                "The answer is not a JSON object, so its fields (name, summary, keywords, sources) are unknown. \
                 Edit it into JSON, regenerate, or approve to save the text as the finding's body."
                    .to_string()
            });
            (None, note)
        }
        _ => (None, None),
    }
}

/// The text the writer approved at the pipeline's (latest) output gate.
fn approved_text<'r>(pipeline: &Pipeline, run: &'r Run) -> Option<&'r str> {
    pipeline.steps.iter().rev().filter(|s| s.kind == StepKind::ApproveOutput).find_map(|s| run.vars[&s.id].as_str())
}

/// The model that wrote the latest answer of `generator` (what a defect report is about).
fn generated_by(run: &Run, generator: Option<&Step>) -> Option<String> {
    let g = generator?;
    run.exchanges.iter().rev().find(|e| e.step == g.id).map(|e| e.model.clone())
}

/// Whether the writer skipped the pipeline's output gate (then nothing is applied or saved).
fn output_skipped(pipeline: &Pipeline, run: &Run) -> bool {
    pipeline.steps.iter().any(|s| {
        s.kind == StepKind::ApproveOutput && run.steps.iter().any(|r| r.id == s.id && r.state == StepState::Skipped)
    })
}

fn run_step(
    pipeline: &Pipeline,
    step: &Step,
    run: &mut Run,
    model: &dyn Model,
    gates: &mut dyn Gates,
    fx: &mut dyn Effects,
) -> Result<Option<Value>, RunError> {
    match step.kind {
        StepKind::GatherContext => Ok(Some(run.vars["context"].clone())),
        StepKind::Prompt => {
            let template = step.template.as_deref().unwrap_or("{{scene.text}}");
            Ok(Some(Value::String(render(template, &run.vars)?)))
        }
        StepKind::ReviewPrompt => review_prompt(pipeline, step, run, model, gates, fx),
        StepKind::Generate | StepKind::Summarize | StepKind::Research => {
            let prompt = prompt_for(run, pipeline, step);
            let mut text = call(step, run, model, fx, &prompt)?;
            // A JSON step whose answer is not JSON is asked again, told why; never taken as
            // JSON silently.
            let mut tries = 1;
            while step.json
                && showrunner_llm::repair::parse_lenient(&text).is_none()
                && tries <= step.max_retries.min(2)
            {
                tries += 1;
                let again = format!(
                    "{prompt}\n\nYour last answer was not valid JSON. Answer again with the JSON object only: no prose, no code fence."
                );
                text = call(step, run, model, fx, &again)?;
            }
            if step.json && showrunner_llm::repair::parse_lenient(&text).is_none() && step.kind == StepKind::Generate {
                let shown: String = text.chars().take(200).collect();
                return Err(RunError::Check(format!(
                    "the model's answer is still not JSON after {tries} tries, so there is nothing to show as findings; its last answer began: {shown}"
                )));
            }
            Ok(Some(as_output(step, text)))
        }
        StepKind::Judge => {
            // Above `approve_above` with no sensitive topic: approved. Between the thresholds, or
            // any sensitive topic: a human decides. Below `review_above`: the generation is
            // retried with the judge's feedback (up to `max_retries`), then the run fails.
            let (approve, review) = (
                run.vars["judge"]["approve_above"].as_f64().unwrap_or(0.9),
                run.vars["judge"]["review_above"].as_f64().unwrap_or(0.7),
            );
            let generator = latest_generator(pipeline, run);
            let mut retries = 0;
            // The verdict a human was being asked about when the run stopped, if it did.
            let mut asked = run
                .steps
                .iter()
                .find(|r| r.id == step.id)
                .map(|r| r.output.clone())
                .filter(|v| v["confidence"].is_number());
            loop {
                let output = last_text(run, pipeline, step);
                let watch: Vec<&str> = run.vars["judge"]["sensitive_topics"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let watch = if watch.is_empty() {
                    String::new()
                } else {
                    format!(" List under sensitive_topics any of these the text touches: {}.", watch.join(", "))
                };
                let prompt = format!(
                    "Score this text for quality and fit with the story. Answer as JSON: {{\"confidence\": 0.0-1.0, \"issues\": [\"...\"], \"sensitive_topics\": [\"...\"]}}.{watch}\n\n{output}"
                );
                let verdict = match asked.take() {
                    Some(verdict) => verdict,
                    None => {
                        let answer = call(step, run, model, fx, &prompt)?;
                        let verdict =
                            showrunner_llm::repair::parse_lenient(&answer).map(|(v, _)| v).unwrap_or(Value::Null);
                        let confidence = verdict["confidence"].as_f64().unwrap_or(0.0);
                        if confidence <= approve || !verdict["sensitive_topics"].as_array().is_none_or(Vec::is_empty) {
                            run.defects.push(DefectReport {
                                step: step.id.clone(),
                                report: format!(
                                    "A reviewer scored the draft {confidence:.2} and noted: {}",
                                    verdict["issues"]
                                ),
                                model: generated_by(run, generator.as_ref()),
                            });
                        }
                        verdict
                    }
                };
                let confidence = verdict["confidence"].as_f64().unwrap_or(0.0);
                let sensitive = verdict["sensitive_topics"].as_array().is_some_and(|a| !a.is_empty());
                if confidence > approve && !sensitive {
                    return Ok(Some(verdict));
                }
                if confidence > review || sensitive {
                    // Kept with the step while a human decides: a run parked here (or stopped)
                    // asks again about this verdict instead of scoring the answer anew.
                    if let Some(r) = run.steps.iter_mut().find(|r| r.id == step.id) {
                        r.output = verdict.clone();
                    }
                    let text = format!("{output}\n\n---\nJudge: {verdict}");
                    let gate = Gate { confidence: Some(confidence), ..Gate::new(&step.id, GateKind::Judge, &text) };
                    match ask_showing(run, step, gates, fx, gate) {
                        Decision::Reject(why) => return Err(RunError::Rejected { what: "output after judging", why }),
                        Decision::Cancel => return Err(RunError::Cancelled),
                        Decision::Regenerate | Decision::ChangeModel(_) | Decision::Chat(_) if generator.is_some() => {
                            if let Some(g) = &generator {
                                regenerate(pipeline, g, run, model, fx, None)?;
                            }
                            continue;
                        }
                        _ => return Ok(Some(verdict)),
                    }
                }
                match (&generator, retries < step.max_retries) {
                    (Some(g), true) => {
                        retries += 1;
                        let feedback = format!(
                            "{}\n\nA reviewer scored the last attempt {confidence:.2} and noted: {}. Write it again and fix these.",
                            prompt_for(run, pipeline, g),
                            verdict["issues"]
                        );
                        regenerate(pipeline, g, run, model, fx, Some(feedback))?;
                    }
                    _ => {
                        return Err(RunError::Check(format!(
                        "the judge scored the output {confidence:.2}, below {review:.2}, after {retries} retries: {}",
                        verdict["issues"]
                    )))
                    }
                }
            }
        }
        StepKind::Verify => {
            // Continuity: names the story does not know. Retry the generation with the defects,
            // then ask a human.
            let generator = latest_generator(pipeline, run);
            let mut retries = 0;
            loop {
                let output = last_text(run, pipeline, step);
                let unknown = fx.unknown_names(&output);
                if unknown.is_empty() {
                    return Ok(Some(json!({ "defects": [] })));
                }
                let report = format!(
                    "These names are not in the story: {}. Use only known characters and places.",
                    unknown.join(", ")
                );
                run.defects.push(DefectReport {
                    step: step.id.clone(),
                    report: report.clone(),
                    model: generated_by(run, generator.as_ref()),
                });
                match (&generator, retries < step.max_retries) {
                    (Some(g), true) => {
                        retries += 1;
                        let prompt = format!("{}\n\nA first draft had problems. {report}", prompt_text(run, pipeline));
                        regenerate(pipeline, g, run, model, fx, Some(prompt))?;
                    }
                    _ => match ask(run, step, gates, fx, GateKind::Verify, &format!("{output}\n\n---\n{report}")) {
                        Decision::Reject(why) => {
                            return Err(RunError::Check(format!("continuity problems: {report} {why}")))
                        }
                        Decision::Cancel => return Err(RunError::Cancelled),
                        _ => return Ok(Some(json!({ "defects": unknown, "accepted_by": "user" }))),
                    },
                }
            }
        }
        StepKind::ApproveOutput => approve_output(pipeline, step, run, model, gates, fx),
        StepKind::ApplyEdit => {
            // An output gate that was skipped means: apply nothing.
            if output_skipped(pipeline, run) {
                return Ok(None);
            }
            let text =
                approved_text(pipeline, run).map(str::to_string).unwrap_or_else(|| last_text(run, pipeline, step));
            if text.trim().is_empty() {
                return Ok(None);
            }
            // The plan approved at the gate; planned now when no gate came first. Saved before it
            // is applied, so a run resumed after a crash applies this plan (once), not a new one.
            let plan = match run.plans.get(&step.id) {
                Some(p) if p.text == text => p.clone(),
                _ => fx.plan_edit(run, step, &text)?,
            };
            run.plans.insert(step.id.clone(), plan.clone());
            fx.save(run);
            fx.apply_edit(run, step, &plan).map(|event| Some(json!({ "event": event, "plan": plan.id })))
        }
        StepKind::SaveBucket => {
            if output_skipped(pipeline, run) {
                return Ok(None);
            }
            // An approved (maybe edited) output wins over the model's raw answer.
            let approved = approved_text(pipeline, run)
                .and_then(|t| showrunner_llm::repair::parse_lenient(t).map(|(v, _)| v))
                .filter(Value::is_object);
            // Approved text that is not JSON is the finding's body, never lost.
            let as_body = || {
                approved_text(pipeline, run).filter(|t| !t.trim().is_empty()).map(|t| {
                    let name = [&run.vars["question"], &run.vars["selection"]]
                        .into_iter()
                        .filter_map(Value::as_str)
                        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
                        .find(|s| !s.is_empty())
                        .map(|s| s.chars().take(80).collect::<String>())
                        .unwrap_or_else(|| "Research notes".into());
                    json!({ "name": name, "body": t.trim() })
                })
            };
            let fields = approved
                .or_else(as_body)
                .or_else(|| {
                    pipeline
                        .steps
                        .iter()
                        .rev()
                        .filter(|s| matches!(s.kind, StepKind::Research | StepKind::Generate))
                        .map(|s| run.vars[&s.id].clone())
                        .find(|v| v.is_object())
                })
                .ok_or_else(|| RunError::Invalid("nothing to save: the research step gave no JSON object".into()))?;
            fx.save_bucket(run, &fields).map(|id| Some(json!({ "bucket": id })))
        }
        other @ (StepKind::Tool | StepKind::Resume) => {
            Err(RunError::Invalid(format!("a `{other}` step cannot run in a pipeline")))
        }
    }
}

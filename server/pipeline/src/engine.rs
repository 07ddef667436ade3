//! The run engine: executes a pipeline's steps in DAG order for one scene, with every model call
//! recorded, every gate asked, and the run's state saved after each step so it can resume.
//!
//! The engine is synchronous and talks to the world through three small traits: [`Model`]
//! (generate text), [`Gates`] (ask a human), [`Effects`] (apply an edit, save a bucket, persist
//! the run). The CLI and the language server supply real implementations; replay supplies
//! recorded model answers.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::def::{Pipeline, Step};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Queued,
    Running,
    Waiting,
    Succeeded,
    Failed,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Pending,
    Running,
    Succeeded,
    Skipped,
    Failed,
}

/// One model call, kept so the run can be replayed without a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub step: String,
    pub model: String,
    pub prompt: String,
    pub response: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
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
}

impl Run {
    pub fn new(id: &str, pipeline: &Pipeline, scene: &str, vars: Value) -> Run {
        Run {
            id: id.to_string(),
            pipeline: pipeline.id.clone(),
            scene: scene.to_string(),
            state: RunState::Queued,
            steps: pipeline
                .steps
                .iter()
                .map(|s| StepRecord {
                    id: s.id.clone(),
                    kind: s.kind.clone(),
                    state: StepState::Pending,
                    attempts: 0,
                    model: None,
                    output: Value::Null,
                    error: None,
                })
                .collect(),
            vars,
            exchanges: Vec::new(),
            replay_of: None,
            error: None,
        }
    }
}

pub struct Generated {
    pub text: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// Independent model steps (ready at the same time, e.g. two branches of a DAG) run at most
/// this many at once.
pub const MAX_PARALLEL: usize = 2;

/// A model. `Sync`: independent steps call it from several threads at once.
pub trait Model: Sync {
    /// Generates an answer, streaming pieces to `on_text`. Errors are messages for the writer.
    fn generate(
        &self,
        step: &str,
        model: &str,
        prompt: &str,
        json: bool,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Generated, String>;
}

/// A human decision at a gate.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Go on, with this (possibly edited or pasted) text.
    Approve(String),
    Skip,
    Reject(String),
    Regenerate,
    ChangeModel(String),
}

pub trait Gates {
    /// `kind` is the step type (`review_prompt`, `approve_output`, `judge`, `verify`).
    fn ask(&mut self, run: &Run, step: &Step, kind: &str, text: &str) -> Decision;
}

pub trait Effects {
    /// Applies a step's output to the scene (through the history write path).
    fn apply_edit(&mut self, run: &Run, text: &str) -> Result<String, String>;
    /// Saves a bucket (e.g. research findings) through the history write path.
    fn save_bucket(&mut self, run: &Run, fields: &Value) -> Result<String, String>;
    /// Persists the run (called after every step).
    fn save(&mut self, run: &Run);
    /// Names the model for a step (the cascade), given the step's own `model:`.
    fn model_for(&mut self, step: &Step) -> String;
    /// Unknown capitalised names in `text` (for `verify`).
    fn unknown_names(&mut self, text: &str) -> Vec<String>;
    /// Whether the run was cancelled.
    fn cancelled(&mut self) -> bool {
        false
    }
    /// A streamed piece of output, for the terminal or the editor.
    fn on_text(&mut self, _step: &str, _text: &str) {}
}

/// Renders a step template with the run's variables (minijinja; `{{scene.title}}` …).
pub fn render(template: &str, vars: &Value) -> Result<String, String> {
    let env = minijinja::Environment::new();
    env.render_str(template, vars).map_err(|e| format!("template error: {e}"))
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
        let first =
            ready.iter().copied().find(|&i| !GENERATING.contains(&pipeline.steps[i].kind.as_str())).unwrap_or(first);
        let parallel: Vec<usize> = ready
            .iter()
            .copied()
            .filter(|&i| GENERATING.contains(&pipeline.steps[i].kind.as_str()))
            .take(MAX_PARALLEL)
            .collect();
        let all_generating = GENERATING.contains(&pipeline.steps[first].kind.as_str());
        let results: Vec<(usize, Result<Option<Value>, String>)> = if all_generating && parallel.len() > 1 {
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
                    run.steps[i].error = Some(e.clone());
                    run.error = Some(format!("step `{}` failed: {e}", step.id));
                    run.state = if e == "cancelled" { RunState::Cancelled } else { RunState::Failed };
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

const GENERATING: &[&str] = &["generate", "summarize", "research"];

/// Runs several ready model steps at once: models are named and prompts prepared first, the
/// calls run on scoped threads, and the exchanges are recorded in step order afterwards.
fn generate_together(
    pipeline: &Pipeline,
    steps: &[usize],
    run: &mut Run,
    model: &dyn Model,
    fx: &mut dyn Effects,
) -> Vec<(usize, Result<Option<Value>, String>)> {
    let jobs: Vec<(usize, String, String)> = steps
        .iter()
        .map(|&i| {
            let step = &pipeline.steps[i];
            run.steps[i].state = StepState::Running;
            run.steps[i].attempts += 1;
            (i, fx.model_for(step), prompt_for(run, pipeline, step))
        })
        .collect();
    fx.save(run);
    let answers: Vec<Result<Generated, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(i, name, prompt)| {
                let step = &pipeline.steps[*i];
                scope.spawn(move || model.generate(&step.id, name, prompt, step.json, &mut |_| {}))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("the model call panicked".into()))).collect()
    });
    let mut out = Vec::new();
    for ((i, name, prompt), answer) in jobs.into_iter().zip(answers) {
        let step = &pipeline.steps[i];
        let result = answer.map(|g| {
            fx.on_text(&step.id, &g.text);
            run.steps[i].model = Some(name.clone());
            run.exchanges.push(Exchange {
                step: step.id.clone(),
                model: name,
                prompt,
                response: g.text.clone(),
                prompt_tokens: g.prompt_tokens,
                completion_tokens: g.completion_tokens,
            });
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
    let generating = ["generate", "summarize", "research"];
    let key = step
        .needs
        .iter()
        .rev()
        .find(|n| pipeline.steps.iter().any(|s| &s.id == *n && generating.contains(&s.kind.as_str())));
    let key = key.cloned().or_else(|| {
        pipeline
            .steps
            .iter()
            .rev()
            .filter(|s| generating.contains(&s.kind.as_str()))
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
        .filter(|s| s.kind == "prompt" || s.kind == "review_prompt")
        .find_map(|s| run.vars[&s.id].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The prompt a model step answers: from a prompt (or its review) it needs, else the latest.
fn prompt_for(run: &Run, pipeline: &Pipeline, step: &Step) -> String {
    step.needs
        .iter()
        .filter_map(|n| pipeline.steps.iter().find(|s| &s.id == n))
        .filter(|s| s.kind == "prompt" || s.kind == "review_prompt")
        .find_map(|s| run.vars[&s.id].as_str().map(str::to_string))
        .unwrap_or_else(|| prompt_text(run, pipeline))
}

fn call(step: &Step, run: &mut Run, model: &dyn Model, fx: &mut dyn Effects, prompt: &str) -> Result<String, String> {
    let name = fx.model_for(step);
    let mut pieces = String::new();
    let generated = {
        let mut on = |t: &str| pieces.push_str(t);
        model.generate(&step.id, &name, prompt, step.json, &mut on)?
    };
    fx.on_text(&step.id, &generated.text);
    if let Some(r) = run.steps.iter_mut().find(|r| r.id == step.id) {
        r.model = Some(name.clone());
    }
    run.exchanges.push(Exchange {
        step: step.id.clone(),
        model: name,
        prompt: prompt.to_string(),
        response: generated.text.clone(),
        prompt_tokens: generated.prompt_tokens,
        completion_tokens: generated.completion_tokens,
    });
    Ok(generated.text)
}

/// The generate step whose output a judge or verify step checks (and retries).
fn latest_generator(pipeline: &Pipeline, run: &Run) -> Option<Step> {
    pipeline.steps.iter().rev().filter(|s| s.kind == "generate").find(|s| !run.vars[&s.id].is_null()).cloned()
}

fn as_output(step: &Step, text: String) -> Value {
    if step.json {
        match showrunner_llm::repair::parse_lenient(&text) {
            Some((v, _)) => v,
            None => Value::String(text),
        }
    } else {
        Value::String(text)
    }
}

fn run_step(
    pipeline: &Pipeline,
    step: &Step,
    run: &mut Run,
    model: &dyn Model,
    gates: &mut dyn Gates,
    fx: &mut dyn Effects,
) -> Result<Option<Value>, String> {
    match step.kind.as_str() {
        "gather_context" => Ok(Some(run.vars["context"].clone())),
        "prompt" => {
            let template = step.template.as_deref().unwrap_or("{{scene.text}}");
            Ok(Some(Value::String(render(template, &run.vars)?)))
        }
        "review_prompt" => {
            let prompt = prompt_text(run, pipeline);
            match gates.ask(run, step, "review_prompt", &prompt) {
                Decision::Approve(text) => Ok(Some(Value::String(text))),
                Decision::Skip => Ok(Some(Value::String(prompt))),
                Decision::Reject(why) => Err(format!(
                    "the prompt was rejected{}",
                    if why.is_empty() { String::new() } else { format!(": {why}") }
                )),
                Decision::Regenerate | Decision::ChangeModel(_) => Ok(Some(Value::String(prompt))),
            }
        }
        "generate" | "summarize" | "research" => {
            let prompt = prompt_for(run, pipeline, step);
            let text = call(step, run, model, fx, &prompt)?;
            Ok(Some(as_output(step, text)))
        }
        "judge" => {
            // Above `approve_above` with no sensitive topic: approved. Between the thresholds, or
            // any sensitive topic: a human decides. Below `review_above`: the generation is
            // retried with the judge's feedback (up to `max_retries`), then the run fails.
            let (approve, review) = (
                run.vars["judge"]["approve_above"].as_f64().unwrap_or(0.9),
                run.vars["judge"]["review_above"].as_f64().unwrap_or(0.7),
            );
            let generator = latest_generator(pipeline, run);
            let mut retries = 0;
            loop {
                let output = last_text(run, pipeline, step);
                let prompt = format!(
                    "Score this text for quality and fit with the story. Answer as JSON: {{\"confidence\": 0.0-1.0, \"issues\": [\"...\"], \"sensitive_topics\": [\"...\"]}}\n\n{output}"
                );
                let answer = call(step, run, model, fx, &prompt)?;
                let verdict = showrunner_llm::repair::parse_lenient(&answer).map(|(v, _)| v).unwrap_or(Value::Null);
                let confidence = verdict["confidence"].as_f64().unwrap_or(0.0);
                let sensitive = verdict["sensitive_topics"].as_array().is_some_and(|a| !a.is_empty());
                if confidence > approve && !sensitive {
                    return Ok(Some(verdict));
                }
                if confidence > review || sensitive {
                    return match gates.ask(run, step, "judge", &format!("{output}\n\n---\nJudge: {verdict}")) {
                        Decision::Reject(why) => Err(format!("rejected after judging: {why}")),
                        _ => Ok(Some(verdict)),
                    };
                }
                match (&generator, retries < step.max_retries) {
                    (Some(g), true) => {
                        retries += 1;
                        let feedback = format!(
                            "{}\n\nA reviewer scored the last attempt {confidence:.2} and noted: {}. Write it again and fix these.",
                            prompt_for(run, pipeline, g),
                            verdict["issues"]
                        );
                        let text = call(g, run, model, fx, &feedback)?;
                        run.vars[&g.id] = as_output(g, text);
                    }
                    _ => {
                        return Err(format!(
                        "the judge scored the output {confidence:.2}, below {review:.2}, after {retries} retries: {}",
                        verdict["issues"]
                    ))
                    }
                }
            }
        }
        "verify" => {
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
                match (&generator, retries < step.max_retries) {
                    (Some(g), true) => {
                        retries += 1;
                        let prompt = format!("{}\n\nA first draft had problems. {report}", prompt_text(run, pipeline));
                        let text = call(g, run, model, fx, &prompt)?;
                        run.vars[&g.id] = as_output(g, text);
                    }
                    _ => {
                        return match gates.ask(run, step, "verify", &format!("{output}\n\n---\n{report}")) {
                            Decision::Reject(why) => Err(format!("continuity problems: {report} {why}")),
                            _ => Ok(Some(json!({ "defects": unknown, "accepted_by": "user" }))),
                        };
                    }
                }
            }
        }
        "approve_output" => {
            let output = last_text(run, pipeline, step);
            match gates.ask(run, step, "approve_output", &output) {
                Decision::Approve(text) => Ok(Some(Value::String(text))),
                Decision::Skip => Ok(None),
                Decision::Reject(why) => Err(format!(
                    "the output was rejected{}",
                    if why.is_empty() { String::new() } else { format!(": {why}") }
                )),
                Decision::Regenerate | Decision::ChangeModel(_) => Ok(Some(Value::String(output))),
            }
        }
        "apply_edit" => {
            let text = pipeline
                .steps
                .iter()
                .rev()
                .filter(|s| s.kind == "approve_output")
                .find_map(|s| run.vars[&s.id].as_str().map(str::to_string))
                .unwrap_or_else(|| last_text(run, pipeline, step));
            if text.trim().is_empty() {
                return Ok(None);
            }
            fx.apply_edit(run, &text).map(|event| Some(json!({ "event": event })))
        }
        "save_bucket" => {
            let fields = pipeline
                .steps
                .iter()
                .rev()
                .filter(|s| matches!(s.kind.as_str(), "research" | "generate"))
                .map(|s| run.vars[&s.id].clone())
                .find(|v| v.is_object())
                .ok_or("nothing to save: the research step gave no JSON object")?;
            fx.save_bucket(run, &fields).map(|id| Some(json!({ "bucket": id })))
        }
        other => Err(format!("step type `{other}` is not supported")),
    }
}

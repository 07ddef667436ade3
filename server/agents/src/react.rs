//! An agent's ReAct loop: the model thinks, names a tool with JSON arguments, sees the tool's
//! result, and goes on until it answers — at most [`MAX_STEPS`] turns. Read-only tools run at
//! once; every tool that changes the project (`propose_edit`, `propose_bucket`) asks a human at a
//! gate first. Each turn and each tool call is a step of the run, recorded and saved, so a run
//! stopped by a crash or a restart continues from its transcript (a pending tool call is asked
//! again; nothing already approved is done twice).

use serde_json::{json, Value};
use showrunner_context::research::ResearchIndex;
use showrunner_llm::repair::parse_lenient;
use showrunner_pipeline::{
    Call, Decision, EditMode, EditPlan, Effects, Exchange, Gate, GateKind, Gates, Model, Run, RunError, RunState, Step,
    StepKind, StepState,
};

use crate::defs::AgentDef;
use crate::studio::{Edge, ProjectEffects};

pub const MAX_STEPS: usize = 8;

/// How the model is told to call tools; appended to the agent's system prompt.
fn protocol(agent: &AgentDef) -> String {
    let mut p = String::from(
        "\n\n## Working with tools\nAnswer every turn with exactly one JSON object and nothing else:\n\
         - to use a tool: {\"thought\": \"why\", \"tool\": \"<name>\", \"args\": {…}}\n\
         - when you are done: {\"thought\": \"why\", \"answer\": \"your answer to the writer\"}\n\
         Your tools:\n",
    );
    for t in &agent.tools {
        p.push_str(match t.as_str() {
            "search_buckets" => "- search_buckets {\"query\": \"words\"}: buckets (characters, places, research…) whose name, alias or text matches\n",
            "read_bucket" => "- read_bucket {\"id\": \"bucket-id\"}: a bucket's full YAML\n",
            "read_scene" => "- read_scene {\"id\": \"scene-id\"} (no id: the current scene): the scene's text\n",
            "list_mentions" => "- list_mentions {\"id\": \"bucket-id\"}: the scenes that mention a bucket, with counts\n",
            "propose_edit" => "- propose_edit {\"text\": \"new text\", \"mode\": \"replace|insert_after|append_body\"}: change the current scene (the writer approves it first)\n",
            "propose_bucket" => "- propose_bucket {\"kind\": \"research\", \"name\": \"…\", \"summary\": \"…\", \"body\": \"…\", \"aliases\": [], \"keywords\": [], \"sources\": []} creates a bucket; {\"id\": \"existing-id\", \"yaml\": \"the whole new YAML\"} replaces one (the writer approves it first)\n",
            "research" => "- research {\"query\": \"words\"}: what the project's research library already says\n",
            _ => "",
        });
    }
    p
}

fn prompt(run: &Run) -> String {
    let v = &run.vars;
    let mut p = format!("The writer asks: {}\n", v["request"].as_str().unwrap_or(""));
    if let Some(title) = v["scene"]["title"].as_str() {
        p.push_str(&format!("\nCurrent scene: {title}\n"));
    }
    if let Some(sel) = v["selection"].as_str().filter(|s| !s.is_empty()) {
        p.push_str(&format!("\nSelected passage:\n{sel}\n"));
    }
    if let Some(ctx) = v["context"].as_str().filter(|s| !s.is_empty()) {
        p.push_str(&format!("\nWhat you know about the story:\n{ctx}\n"));
    }
    for entry in v["transcript"].as_array().into_iter().flatten() {
        match entry["role"].as_str() {
            Some("assistant") => p.push_str(&format!("\nYou: {}\n", entry["content"].as_str().unwrap_or(""))),
            _ => p.push_str(&format!(
                "\nResult of {}:\n{}\n",
                entry["tool"].as_str().unwrap_or("the tool"),
                entry["content"].as_str().unwrap_or("")
            )),
        }
    }
    p.push_str("\nYour next JSON object:");
    p
}

/// Runs (or resumes) an agent run to its answer.
pub fn run_agent<E: Edge>(
    agent: &AgentDef,
    run: &mut Run,
    model: &dyn Model,
    gates: &mut dyn Gates,
    fx: &mut ProjectEffects<'_, E>,
) {
    run.state = RunState::Running;
    if !run.vars["transcript"].is_array() {
        run.vars["transcript"] = json!([]);
    }
    fx.save(run);
    let system = format!("{}{}", agent.system, protocol(agent));
    let pseudo = Step {
        id: "agent".into(),
        kind: StepKind::Generate,
        agent: Some(agent.id.clone()),
        json: true,
        ..Default::default()
    };
    loop {
        if fx.cancelled() {
            return finish(run, fx, RunState::Cancelled, Some("cancelled".into()));
        }
        let transcript = run.vars["transcript"].as_array().cloned().unwrap_or_default();
        let turns = transcript.iter().filter(|e| e["role"] == "assistant").count();
        // A tool call without its result (a crash, a restart at a gate) is carried out first.
        if let Some(last) = transcript.last().filter(|e| e["role"] == "assistant") {
            let call = parse_lenient(last["content"].as_str().unwrap_or("")).map(|(v, _)| v).unwrap_or(Value::Null);
            if let Some(tool) = call["tool"].as_str() {
                let id = format!("turn-{turns}:{tool}");
                let i = run.running_step(&id, StepKind::Tool);
                run.steps[i].attempts += 1;
                fx.save(run);
                let result = if agent.tools.iter().any(|t| t == tool) {
                    use_tool(tool, &call["args"], &id, run, gates, fx)
                } else {
                    Ok(format!("`{tool}` is not one of your tools ({})", agent.tools.join(", ")))
                };
                let content = match result {
                    Ok(text) => {
                        run.steps[i].state = StepState::Succeeded;
                        text
                    }
                    Err(RunError::Cancelled) => {
                        return finish(run, fx, RunState::Cancelled, Some(RunError::Cancelled.to_string()))
                    }
                    Err(e) => {
                        run.steps[i].state = StepState::Failed;
                        run.steps[i].error = Some(e.to_string());
                        format!("error: {e}")
                    }
                };
                run.steps[i].output = json!(content);
                push(run, json!({ "role": "tool", "tool": tool, "content": content }));
                fx.save(run);
                continue;
            }
        }
        if turns >= MAX_STEPS {
            return finish(
                run,
                fx,
                RunState::Failed,
                Some(format!("the agent did not answer within {MAX_STEPS} steps")),
            );
        }
        let step_id = format!("turn-{}", turns + 1);
        // (Already there when the run stopped during this turn's call.)
        let i = run.running_step(&step_id, StepKind::Generate);
        run.steps[i].attempts += 1;
        fx.save(run);
        let name = showrunner_pipeline::model_name(run, &pseudo, fx);
        let text = prompt(run);
        let mut chunks = Vec::new();
        let call = Call {
            step: &step_id,
            model: &name,
            system: Some(&system),
            prompt: &text,
            json: true,
            temperature: agent.temperature,
        };
        let answer = model.generate(&call, &mut |t: &str| {
            fx.on_text(&step_id, t);
            chunks.push(t.to_string());
        });
        let generated = match answer {
            Ok(g) => g,
            Err(e) => {
                run.steps[i].state = StepState::Failed;
                run.steps[i].error = Some(e.to_string());
                let state = if e == RunError::Cancelled { RunState::Cancelled } else { RunState::Failed };
                return finish(run, fx, state, Some(format!("step `{step_id}` failed: {e}")));
            }
        };
        let name = generated.recorded_model.clone().unwrap_or(name);
        run.exchanges.push(Exchange::new(&step_id, &name, Some(system.clone()), &text, &generated, chunks));
        run.steps[i].state = StepState::Succeeded;
        run.steps[i].model = Some(name);
        let parsed = parse_lenient(&generated.text).map(|(v, _)| v).filter(Value::is_object);
        match parsed {
            Some(v) if v["tool"].is_string() => {
                run.steps[i].output = v.clone();
                push(run, json!({ "role": "assistant", "content": generated.text }));
                fx.save(run);
            }
            Some(v) => {
                let answer = match &v["answer"] {
                    Value::String(s) => s.clone(),
                    Value::Null => generated.text.clone(),
                    other => serde_json::to_string_pretty(other).unwrap_or_default(),
                };
                run.steps[i].output = json!(answer);
                run.vars["answer"] = json!(answer);
                return finish(run, fx, RunState::Succeeded, None);
            }
            // Not JSON at all: the text is the answer.
            None => {
                run.steps[i].output = json!(generated.text);
                run.vars["answer"] = json!(generated.text.trim());
                return finish(run, fx, RunState::Succeeded, None);
            }
        }
    }
}

fn push(run: &mut Run, entry: Value) {
    if let Some(t) = run.vars["transcript"].as_array_mut() {
        t.push(entry);
    }
}

fn finish<E: Edge>(run: &mut Run, fx: &mut ProjectEffects<'_, E>, state: RunState, error: Option<String>) {
    run.state = state;
    run.error = error;
    run.gate = None;
    fx.save(run);
}

/// The gate of a mutating tool: what is under review, the change approving makes (or why it
/// cannot be made), and what the model reasoned before asking.
pub(crate) fn tool_gate(run: &Run, id: &str, text: &str, edit: &Option<Result<EditPlan, RunError>>) -> Gate {
    let (edit, note) = match edit {
        Some(Ok(plan)) => (Some(plan.clone()), None),
        Some(Err(e)) => (None, Some(format!("Approving cannot apply this edit: {e}"))),
        None => (None, None),
    };
    Gate {
        edit,
        note,
        reasoning: run.exchanges.last().map(|e| e.reasoning.trim().to_string()).filter(|r| !r.is_empty()),
        ..Gate::new(id, GateKind::Tool, text)
    }
}

/// A gate for a mutating tool: the run waits, durably, until the writer decides. `edit` is the
/// change approving makes, when it is an edit of the scene (or why it cannot be made).
fn ask<E: Edge>(
    run: &mut Run,
    id: &str,
    text: &str,
    edit: Option<Result<EditPlan, RunError>>,
    gates: &mut dyn Gates,
    fx: &mut ProjectEffects<'_, E>,
) -> Decision {
    let step = Step { id: id.to_string(), kind: StepKind::Tool, ..Default::default() };
    loop {
        let gate = tool_gate(run, id, text, &edit);
        match showrunner_pipeline::ask_showing(run, &step, gates, fx, gate) {
            // Model changes and chats do not apply to a proposed change; ask again.
            Decision::ChangeModel(m) => run.model_override = Some(m),
            Decision::Chat(_) | Decision::Regenerate => {}
            other => return other,
        }
    }
}

/// What a proposal (`propose_edit`, `propose_bucket`) shows at its gate: the text under review
/// and, for an edit, the plan approving it makes (planned against the scene's current text).
pub(crate) fn proposal_gate<E: Edge>(
    tool: &str,
    args: &Value,
    id: &str,
    run: &Run,
    fx: &mut ProjectEffects<'_, E>,
) -> Result<(String, Option<Result<EditPlan, RunError>>), RunError> {
    match tool {
        "propose_edit" => {
            let text = args["text"].as_str().unwrap_or("").to_string();
            if text.trim().is_empty() {
                return Err(RunError::Invalid("propose_edit needs `text`".into()));
            }
            let mode = edit_mode(args)?;
            let preview = fx.plan_scene_edit(run, mode, None, id, &text);
            Ok((text, Some(preview)))
        }
        "propose_bucket" => match (existing_bucket(args, fx), args["yaml"].as_str()) {
            (Some(bid), Some(yaml)) => {
                let preview = fx.plan_bucket_edit(run, &bid, id, yaml);
                Ok((yaml.to_string(), Some(preview)))
            }
            _ => Ok((serde_json::to_string_pretty(args).unwrap_or_default(), None)),
        },
        other => Err(RunError::Invalid(format!("`{other}` is not a proposal"))),
    }
}

/// The existing bucket a `propose_bucket` names (`id`), if any: else it creates one.
fn existing_bucket<E: Edge>(args: &Value, fx: &ProjectEffects<'_, E>) -> Option<String> {
    args["id"].as_str().filter(|id| fx.analysis.bucket(id).is_some()).map(str::to_string)
}

fn edit_mode(args: &Value) -> Result<Option<EditMode>, RunError> {
    match args["mode"].as_str().filter(|m| !m.is_empty()) {
        Some(m) => Ok(Some(m.parse::<EditMode>().map_err(RunError::Invalid)?)),
        None => Ok(None),
    }
}

/// Asks a proposal's gate until the writer decides, then carries the decision out: an approved
/// edit is planned again against the (maybe edited) approved text and applied once; an approved
/// bucket is created or replaced through the write path. The result says what happened.
pub(crate) fn propose<E: Edge>(
    tool: &str,
    args: &Value,
    id: &str,
    run: &mut Run,
    gates: &mut dyn Gates,
    fx: &mut ProjectEffects<'_, E>,
) -> Result<String, RunError> {
    let (text, edit) = proposal_gate(tool, args, id, run, fx)?;
    // The text the review's diff was made against: a bucket replaces its whole file, so one
    // that changed since is not replaced over changes the review did not show.
    let reviewed = edit.as_ref().and_then(|e| e.as_ref().ok()).map(|p| p.base_hash.clone());
    let decision = ask(run, id, &text, edit, gates, fx);
    let what = if tool == "propose_edit" { "edit" } else { "bucket" };
    match decision {
        Decision::Approve(t) | Decision::Paste(t) => {
            if tool == "propose_edit" {
                let plan = fx.plan_scene_edit(run, edit_mode(args)?, None, id, &t)?;
                let event = fx.apply_plan(run, &plan)?;
                return Ok(format!("the writer approved; the edit is in the scene (event {event})"));
            }
            match existing_bucket(args, fx) {
                Some(bid) => {
                    let plan = fx.plan_bucket_edit(run, &bid, id, &t)?;
                    if reviewed.is_some_and(|h| h != plan.base_hash) {
                        return Err(RunError::Invalid(format!(
                            "bucket `{bid}` ({}) changed after this proposal was shown, and replacing it now would also undo changes the review did not show: nothing was written; propose it again",
                            plan.path
                        )));
                    }
                    let event = fx.apply_plan(run, &plan)?;
                    Ok(format!("the writer approved; bucket `{bid}` is updated (event {event})"))
                }
                None => {
                    let fields =
                        parse_lenient(&t).map(|(v, _)| v).filter(Value::is_object).unwrap_or_else(|| args.clone());
                    let bid = fx.create_bucket(run, &fields)?;
                    Ok(format!("the writer approved; bucket `{bid}` is created"))
                }
            }
        }
        Decision::Skip => Ok(format!("the writer skipped this {what}")),
        Decision::Reject(why) => Ok(format!(
            "the writer rejected this {what}{}",
            if why.is_empty() { String::new() } else { format!(": {why}") }
        )),
        Decision::Cancel => Err(RunError::Cancelled),
        _ => Ok("the writer did not decide".into()),
    }
}

fn use_tool<E: Edge>(
    tool: &str,
    args: &Value,
    id: &str,
    run: &mut Run,
    gates: &mut dyn Gates,
    fx: &mut ProjectEffects<'_, E>,
) -> Result<String, RunError> {
    let a = fx.analysis;
    let arg = |k: &str| args[k].as_str().unwrap_or("").trim().to_string();
    match tool {
        "search_buckets" => {
            let q = arg("query");
            let hits = crate::bible::search_buckets(&fx.root, a, &q, 10)?;
            Ok(if hits.is_empty() {
                format!("no bucket matches “{q}”")
            } else {
                hits.iter()
                    .map(|h| {
                        let id = h.id.as_deref().unwrap_or("");
                        let name = a.bucket(id).map(|b| b.bucket.name.value.as_str()).unwrap_or(&h.title);
                        format!("{id} ({}): {name} — {}", h.kind, h.snippet.replace("**", ""))
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        "read_bucket" => {
            let b = a.bucket(&arg("id")).ok_or_else(|| RunError::Invalid(format!("no bucket `{}`", arg("id"))))?;
            Ok(a.text(b.file).to_string())
        }
        "read_scene" => {
            let want = arg("id");
            if want.is_empty() {
                let s = fx
                    .scene
                    .map(|i| &a.scenes[i])
                    .ok_or_else(|| RunError::Invalid("this run has no current scene; name one with `id`".into()))?;
                return Ok(a.text(s.file)[s.scene.body.clone()].to_string());
            }
            Ok(crate::bible::read_scene(a, &want)?.text)
        }
        "list_mentions" => {
            let want = arg("id");
            let lines: Vec<String> = crate::bible::mentions(a, &want)?
                .into_iter()
                .map(|m| format!("{} ({}): {} mention(s)", m.scene, m.path, m.count))
                .collect();
            Ok(if lines.is_empty() { format!("no scene mentions `{want}`") } else { lines.join("\n") })
        }
        "research" => {
            let index = ResearchIndex::new(a);
            let hits = index.rank(&arg("query"));
            Ok(if hits.is_empty() {
                "the research library has nothing on this yet".into()
            } else {
                hits.iter()
                    .take(5)
                    .map(|h| {
                        let b = &a.buckets[h.bucket].bucket;
                        format!(
                            "{} — {}: {}",
                            b.id.value,
                            b.name.value,
                            b.summary.as_deref().or(b.body.as_deref()).unwrap_or("")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        "propose_edit" | "propose_bucket" => propose(tool, args, id, run, gates, fx),
        other => Err(RunError::Invalid(format!("unknown tool `{other}`"))),
    }
}

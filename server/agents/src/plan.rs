//! The planner: a writer's goal ("summarize season 1, then check its continuity") turned into a
//! batch. The outliner agent answers a plan as JSON — tasks, each a pipeline on a part of the
//! story, with `needs:` edges — which is checked ([`check`]: known pipelines that run without a
//! selection, targets inside the scope, unique ids, and the same graph check as a pipeline's
//! steps: no missing need, no cycle), shown at a gate as a list and a graph ([`render`]), and on
//! approval queued as one batch ([`queue`]) whose runs are judged (SPEC §7) and wait for the runs
//! of the tasks they need.
//!
//! The planner's model call is a run like any other (the `plan` pipeline below: the prompt is
//! reviewed, the exchange recorded), so what the model was asked and answered stays on record.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use showrunner_model::analysis::Analysis;
use showrunner_model::story::Story;
use showrunner_model::target::Target;
use showrunner_pipeline::def::{self, Layer, Pipeline, StepKind};
use showrunner_pipeline::{Decision, Effects, GateKind, Gates, Model, Run, RunError, RunState, Step};

use crate::batch::Queue;
use crate::studio::{new_run_id, pipelines, Edge, ProjectEffects};

/// The planner's pipeline id (its runs are found by it: [`crate::studio::Job::of_run`]).
pub const PIPELINE: &str = "plan";

const DEFINITION: &str = r#"id: plan
title: Plan a batch
description: Turns a goal into tasks, each a pipeline on a part of the story, for one batch.
steps:
  - { id: prompt, type: prompt, template: "{{plan_request}}" }
  - { id: review, type: review_prompt }
  - { id: plan, type: generate, agent: outliner, json: true }
"#;

/// The planner's pipeline: the request (reviewed), then the outliner's answer as JSON.
pub fn pipeline() -> Pipeline {
    def::parse(DEFINITION, Layer::Template).expect("the planner's pipeline is valid")
}

/// A plan as the model answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub tasks: Vec<Task>,
}

/// One task: a pipeline run on every scene of a target, after the tasks it needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    pub pipeline: String,
    /// A scene id or file, a part of the story (`ch03`, `season-1`), a folder, or `.`.
    pub target: String,
    #[serde(default)]
    pub needs: Vec<String>,
    /// Why the planner wants it (shown at the gate).
    #[serde(default)]
    pub why: String,
}

/// A plan that passed [`check`]: its tasks in an order that respects `needs`, and the scenes
/// (indices into `analysis.scenes`) each runs on.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub plan: Plan,
    pub order: Vec<usize>,
    pub scenes: Vec<Vec<usize>>,
}

impl Checked {
    /// How many runs the plan queues.
    pub fn runs(&self) -> usize {
        self.scenes.iter().map(Vec::len).sum()
    }
}

/// The pipelines a plan may use: those that run on a whole scene (not a selection).
pub fn offered(all: &[Pipeline]) -> Vec<&Pipeline> {
    all.iter().filter(|p| !p.needs_selection() && p.id != PIPELINE).collect()
}

/// What the planner is asked: the goal, the parts of the story in scope with their scenes, and
/// the pipelines it may use, with the JSON shape of the answer.
pub fn request(goal: &str, scope: &Target, a: &Analysis, pipelines: &[&Pipeline]) -> String {
    let story = Story::new(a);
    let scenes = scope.scenes(a, &story);
    let mut out = format!(
        "Plan the work for this goal on the story \"{}\": {goal}\n\nThe part of the story in scope is {}. Its scenes, in reading order (id, words, part):\n",
        a.config.name,
        scope.describe(&a.config.name)
    );
    for &s in &scenes {
        let entry = &a.scenes[s].scene;
        let part = entry.parent.as_ref().map(|p| p.value.as_str()).unwrap_or("-");
        let title = entry.title.as_deref().map(|t| format!(" \"{t}\"")).unwrap_or_default();
        out.push_str(&format!("- {}{title}: {} words, in {part}\n", entry.id.value, entry.word_count));
    }
    out.push_str("\nPipelines (each runs once on every scene of its target):\n");
    for p in pipelines {
        out.push_str(&format!("- {}: {} — {}\n", p.id, p.title, p.description.trim()));
    }
    out.push_str(
        "\nAnswer with JSON only, in this shape:\n{\"tasks\": [{\"id\": \"t1\", \"pipeline\": \"<a pipeline id above>\", \"target\": \"<a scene id or a part of the story listed above>\", \"needs\": [\"<ids of tasks that must finish first>\"], \"why\": \"<one line>\"}]}\nUse as few tasks as the goal needs. A task needs another only when it uses that task's results.",
    );
    out
}

/// A new planner's run for `goal` on `scope` (as the writer named it; the whole project when
/// none), its batch's runs to be queued with `priority`.
pub fn new_run(
    root: &std::path::Path,
    a: &Analysis,
    goal: &str,
    scope: Option<&str>,
    priority: i64,
) -> Result<Run, String> {
    if goal.trim().is_empty() {
        return Err("say what the plan is for: a goal in words".into());
    }
    let target = Target::resolve(a, scope)?;
    let all = pipelines(root).0;
    let request = request(goal, &target, a, &offered(&all));
    let vars = serde_json::json!({ "plan_request": request, "goal": goal, "scope": scope, "priority": priority });
    Ok(Run::new(&new_run_id(PIPELINE), &pipeline(), "", vars))
}

/// Runs (or goes on with) a planner's run: the outliner is asked (its prompt reviewed), its
/// plan checked — a plan that fails is refused with every reason, and the run fails — and shown
/// at the `approve-plan` gate; the approved plan (the JSON at the gate, edited or not, checked
/// again) is queued as one batch, whose id the run keeps in `vars.batch`. Whoever runs this then
/// works that batch.
pub fn execute<E: Edge>(run: &mut Run, model: &dyn Model, gates: &mut dyn Gates, fx: &mut ProjectEffects<'_, E>) {
    if run.vars["batch"].is_string() {
        return;
    }
    let pipeline = pipeline();
    showrunner_pipeline::execute(&pipeline, run, model, gates, fx);
    if run.state != RunState::Succeeded {
        return;
    }
    let a = fx.analysis;
    let all = pipelines(&fx.root).0;
    let offered = offered(&all);
    let goal = run.vars["goal"].as_str().unwrap_or("").to_string();
    let checked = Target::resolve(a, run.vars["scope"].as_str()).map_err(|e| vec![e]).and_then(|scope| {
        parse(&run.vars["plan"]).map_err(|e| vec![e]).and_then(|p| check(p, &scope, a, &offered)).map(|c| (scope, c))
    });
    let (scope, checked) = match checked {
        Ok(c) => c,
        Err(problems) => return refuse(run, fx, "the plan was refused", problems),
    };
    let shown = render(&goal, &checked, a);
    // Shown as it comes, like an answer: the terminal prints it, an editor's run view shows it.
    fx.edge.text("approve-plan", &format!("\n{shown}\n"));
    let step = Step { id: "approve-plan".into(), kind: StepKind::ApproveOutput, ..Step::default() };
    let checked = match showrunner_pipeline::ask(run, &step, gates, fx, GateKind::ApproveOutput, &shown) {
        Decision::Approve(text) | Decision::Paste(text) if text == shown => checked,
        Decision::Approve(text) | Decision::Paste(text) => {
            match from_reviewed(&text).and_then(|p| check(p, &scope, a, &offered).map_err(|e| e.join("; "))) {
                Ok(c) => c,
                Err(e) => return refuse(run, fx, "the edited plan was refused", vec![e]),
            }
        }
        Decision::Cancel => return end(run, fx, RunState::Cancelled, Some(RunError::Cancelled.to_string())),
        _ => return end(run, fx, RunState::Cancelled, Some("the plan was not approved; nothing was queued".into())),
    };
    let batch = new_run_id("batch");
    let q = Queue {
        runs: &fx.runs,
        batch: &batch,
        priority: run.vars["priority"].as_i64().unwrap_or(0),
        model: run.model_override.as_deref(),
    };
    if let Err(e) = queue(&checked, a, &offered, &q) {
        return end(run, fx, RunState::Failed, Some(format!("the plan could not be queued: {e}")));
    }
    run.vars["batch"] = serde_json::json!(batch);
    run.vars["approved_plan"] = serde_json::to_value(&checked.plan).unwrap_or_default();
    run.vars["answer"] = serde_json::json!(format!(
        "batch {batch}: {} task(s), {} run(s) queued",
        checked.plan.tasks.len(),
        checked.runs()
    ));
    end(run, fx, RunState::Succeeded, None);
}

/// The plan did not pass its checks: the run fails, every reason kept in `vars.problems`.
fn refuse<E: Edge>(run: &mut Run, fx: &mut ProjectEffects<'_, E>, what: &str, problems: Vec<String>) {
    let error = format!("{what}: {}", problems.join("; "));
    run.vars["problems"] = serde_json::json!(problems);
    end(run, fx, RunState::Failed, Some(error));
}

fn end<E: Edge>(run: &mut Run, fx: &mut ProjectEffects<'_, E>, state: RunState, error: Option<String>) {
    run.state = state;
    run.error = error;
    fx.save(run);
}

/// Reads the planner's answer (a JSON value, or text holding one).
pub fn parse(answer: &Value) -> Result<Plan, String> {
    let value = match answer {
        Value::String(text) => showrunner_llm::repair::parse_lenient(text)
            .map(|(v, _)| v)
            .ok_or_else(|| "the planner's answer is not JSON".to_string())?,
        v => v.clone(),
    };
    // A bare list of tasks is a plan too.
    let value = if value.is_array() { serde_json::json!({ "tasks": value }) } else { value };
    serde_json::from_value(value).map_err(|e| format!("the planner's answer is not a plan ({e}): it needs `tasks`, each with `id`, `pipeline`, `target` and `needs`"))
}

/// Checks a plan against the project: every problem, or the plan with its order and scenes.
pub fn check(plan: Plan, scope: &Target, a: &Analysis, pipelines: &[&Pipeline]) -> Result<Checked, Vec<String>> {
    let mut problems = Vec::new();
    if plan.tasks.is_empty() {
        problems.push("the plan has no tasks".to_string());
    }
    let story = Story::new(a);
    let in_scope: std::collections::HashSet<usize> = scope.scenes(a, &story).into_iter().collect();
    let mut scenes = Vec::new();
    for (i, t) in plan.tasks.iter().enumerate() {
        if plan.tasks[..i].iter().any(|o| o.id == t.id) {
            problems.push(format!("two tasks are called `{}`", t.id));
        }
        if !pipelines.iter().any(|p| p.id == t.pipeline) {
            let ids: Vec<&str> = pipelines.iter().map(|p| p.id.as_str()).collect();
            problems.push(format!(
                "task `{}` runs `{}`, which is not a pipeline a plan can use ({})",
                t.id,
                t.pipeline,
                ids.join(", ")
            ));
        }
        let found = match Target::resolve(a, Some(&t.target)) {
            Ok(target) => target.scenes(a, &story),
            Err(e) => {
                problems.push(format!("task `{}`: {e}", t.id));
                Vec::new()
            }
        };
        if found.iter().any(|s| !in_scope.contains(s)) {
            problems.push(format!(
                "task `{}` works on `{}`, outside the plan's scope ({})",
                t.id,
                t.target,
                scope.describe(&a.config.name)
            ));
        } else if found.is_empty() && Target::resolve(a, Some(&t.target)).is_ok() {
            problems.push(format!("task `{}`: `{}` has no scenes", t.id, t.target));
        }
        scenes.push(found);
    }
    let ids: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
    let needs: Vec<&[String]> = plan.tasks.iter().map(|t| t.needs.as_slice()).collect();
    let order = showrunner_pipeline::dag::order(&ids, &needs).unwrap_or_else(|errors| {
        problems.extend(errors.iter().map(|e| e.message(&ids, "task", "this plan")));
        Vec::new()
    });
    if problems.is_empty() {
        Ok(Checked { plan, order, scenes })
    } else {
        Err(problems)
    }
}

/// The plan at its gate: a numbered list (in the order it runs), its graph level by level, and
/// its tasks as JSON — what runs when it is approved ([`from_reviewed`]).
pub fn render(goal: &str, checked: &Checked, a: &Analysis) -> String {
    let tasks = &checked.plan.tasks;
    let mut out = format!(
        "# Plan: {goal}\n\n{} task(s), {} run(s); every answer is judged before it is used.\n\n",
        tasks.len(),
        checked.runs()
    );
    for (n, &i) in checked.order.iter().enumerate() {
        let t = &tasks[i];
        let scenes = &checked.scenes[i];
        let which = if scenes.len() == 1 {
            format!("1 scene ({})", a.scenes[scenes[0]].scene.id.value)
        } else {
            format!("{} scenes", scenes.len())
        };
        let after = if t.needs.is_empty() { String::new() } else { format!(" — after {}", t.needs.join(", ")) };
        out.push_str(&format!("{}. `{}` {} on {} · {which}{after}\n", n + 1, t.id, t.pipeline, t.target));
        if !t.why.trim().is_empty() {
            out.push_str(&format!("   {}\n", t.why.trim()));
        }
    }
    // The graph: each task on the level after the deepest task it needs.
    let mut level = vec![0usize; tasks.len()];
    for &i in &checked.order {
        level[i] = tasks[i]
            .needs
            .iter()
            .filter_map(|n| tasks.iter().position(|t| &t.id == n))
            .map(|j| level[j] + 1)
            .max()
            .unwrap_or(0);
    }
    out.push_str("\n## Graph\n\n```\n");
    for l in 0..=level.iter().copied().max().unwrap_or(0) {
        let on: Vec<String> = checked
            .order
            .iter()
            .filter(|&&i| level[i] == l)
            .map(|&i| {
                let t = &tasks[i];
                if t.needs.is_empty() {
                    t.id.clone()
                } else {
                    format!("{} ← {}", t.id, t.needs.join(" + "))
                }
            })
            .collect();
        out.push_str(&format!("{}. {}\n", l + 1, on.join("   ")));
    }
    out.push_str("```\n\n## Tasks\n\nWhat runs when this is approved (edit it here to change the plan):\n\n```json\n");
    out.push_str(&serde_json::to_string_pretty(&checked.plan).unwrap_or_default());
    out.push_str("\n```\n");
    out
}

/// The plan as approved at its gate: the JSON of its last ```json block (the writer may have
/// edited it), to be checked again.
pub fn from_reviewed(text: &str) -> Result<Plan, String> {
    let start = text.rfind("```json").ok_or("the approved text has no ```json block of tasks")?;
    let body = &text[start + "```json".len()..];
    let end = body.find("```").ok_or("the ```json block of tasks is not closed")?;
    let value: Value = serde_json::from_str(body[..end].trim()).map_err(|e| format!("its JSON does not parse: {e}"))?;
    parse(&value)
}

/// Queues an approved plan as one batch: each task's runs wait for every run of the tasks it
/// needs. How many runs were queued.
pub fn queue(checked: &Checked, a: &Analysis, pipelines: &[&Pipeline], q: &Queue<'_>) -> Result<usize, RunError> {
    let tasks = &checked.plan.tasks;
    let mut run_ids: Vec<Vec<String>> = vec![Vec::new(); tasks.len()];
    for &i in &checked.order {
        let t = &tasks[i];
        let pipeline = pipelines
            .iter()
            .find(|p| p.id == t.pipeline)
            .ok_or_else(|| RunError::Invalid(format!("no pipeline `{}`", t.pipeline)))?;
        let needs: Vec<String> = t
            .needs
            .iter()
            .filter_map(|n| tasks.iter().position(|o| &o.id == n))
            .flat_map(|j| run_ids[j].iter().cloned())
            .collect();
        run_ids[i] = q.scenes(a, pipeline, &checked.scenes[i], &needs, true)?;
    }
    Ok(checked.runs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> Analysis {
        let dir = tempfile::tempdir().unwrap();
        let mut files = vec![
            ("showrunner.yaml".to_string(), "name: Lamp\n".to_string()),
            ("buckets/structure/ch01.yaml".to_string(), "id: ch01\nkind: chapter\nname: One\n".to_string()),
            ("buckets/structure/ch02.yaml".to_string(), "id: ch02\nkind: chapter\nname: Two\n".to_string()),
        ];
        for (id, ch, text) in [("a1", "ch01", "Zoë waits."), ("a2", "ch01", ""), ("b1", "ch02", "Łukasz rows.")] {
            files.push((format!("story/{ch}/{id}.md"), format!("---\nid: {id}\nparent: {ch}\n---\n\n{text}\n")));
        }
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        showrunner_store::load_project(dir.path()).analysis
    }

    fn pipelines() -> Vec<Pipeline> {
        def::catalogue(&[]).0
    }

    fn plan(json: &str) -> Plan {
        parse(&Value::String(json.into())).unwrap()
    }

    #[test]
    fn a_valid_plan_is_ordered_and_shown_as_a_list_and_a_graph() {
        let (a, all) = (project(), pipelines());
        let offered = offered(&all);
        let p = plan(
            r#"Here is the plan: {"tasks": [
              {"id": "check", "pipeline": "continuity-check", "target": ".", "needs": ["sum1", "sum2"], "why": "after the summaries"},
              {"id": "sum1", "pipeline": "summarize-scene", "target": "ch01"},
              {"id": "sum2", "pipeline": "summarize-scene", "target": "b1"}]}"#,
        );
        let c = check(p, &Target::Project, &a, &offered).unwrap();
        assert_eq!(c.runs(), 6);
        assert_eq!(c.order.last(), Some(&0), "check runs last");
        let shown = render("summarize, then check", &c, &a);
        assert!(shown.contains("3 task(s), 6 run(s)"), "{shown}");
        assert!(shown.contains("`sum2` summarize-scene on b1 · 1 scene (b1)"), "{shown}");
        assert!(
            shown.contains("`check` continuity-check on . · 3 scenes — after sum1, sum2\n   after the summaries"),
            "{shown}"
        );
        assert!(shown.contains("1. sum1   sum2\n2. check ← sum1 + sum2\n"), "{shown}");
        // What is approved is what runs: the JSON at the gate, edited or not.
        assert_eq!(from_reviewed(&shown).unwrap(), c.plan);
        let edited = shown.replace("\"target\": \"b1\"", "\"target\": \"ch02\"");
        assert_eq!(from_reviewed(&edited).unwrap().tasks[2].target, "ch02");
        assert!(from_reviewed("1. sum1").is_err());
    }

    #[test]
    fn a_plan_with_a_cycle_unknown_names_or_outside_its_scope_is_refused_with_every_reason() {
        let (a, all) = (project(), pipelines());
        let offered = offered(&all);
        let p = plan(
            r#"{"tasks": [
              {"id": "t1", "pipeline": "summarize-scene", "target": "ch01", "needs": ["t3"]},
              {"id": "t2", "pipeline": "draft-scene", "target": "ch02", "needs": ["t1"]},
              {"id": "t3", "pipeline": "summarize-scene", "target": "a1", "needs": ["t2"]},
              {"id": "t4", "pipeline": "rewrite-selection", "target": "a1"},
              {"id": "t5", "pipeline": "fly", "target": "ch09", "needs": ["t0"]}]}"#,
        );
        let scope = Target::resolve(&a, Some("ch01")).unwrap();
        let problems = check(p, &scope, &a, &offered).unwrap_err();
        let has = |s: &str| problems.iter().any(|p| p.contains(s));
        assert!(has("the tasks form a cycle: "), "{problems:?}");
        assert!(has("task `t2` works on `ch02`, outside the plan's scope (chapter `ch01`)"), "{problems:?}");
        assert!(has("task `t4` runs `rewrite-selection`, which is not a pipeline a plan can use"), "{problems:?}");
        assert!(has("task `t5` runs `fly`"), "{problems:?}");
        assert!(has("task `t5`: nothing called `ch09`"), "{problems:?}");
        assert!(has("task `t5` needs `t0`, which is not a task of this plan"), "{problems:?}");
        assert!(parse(&Value::String("no plan today".into())).is_err());
        assert!(parse(&serde_json::json!({"steps": []})).unwrap_err().contains("needs `tasks`"));
    }
}

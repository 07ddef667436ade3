//! The run engine with in-process fakes for the model, the gates and the effects: judge routing,
//! verify retries and escalation, `when:`, gates that reject, resume that skips finished steps.

use serde_json::{json, Value};
use showrunner_pipeline::edit::{plan, Target};
use showrunner_pipeline::{
    execute, parse, Call, Decision, EditMode, EditPlan, Effects, GateKind, Gates, Generated, Layer, Model, Pipeline,
    Run, RunState, Step, StepState,
};

/// Scripted answers, and every prompt seen.
struct Script {
    state: std::sync::Mutex<(Vec<&'static str>, Vec<String>)>,
}

#[allow(non_snake_case)]
fn Script(answers: Vec<&'static str>, prompts: Vec<String>) -> Script {
    Script { state: std::sync::Mutex::new((answers, prompts)) }
}

impl Script {
    fn prompts(&self) -> Vec<String> {
        self.state.lock().unwrap().1.clone()
    }
}

impl Model for Script {
    fn generate(&self, call: &Call<'_>, on: &mut dyn FnMut(&str)) -> Result<Generated, showrunner_pipeline::RunError> {
        let prompt = call.prompt;
        let mut s = self.state.lock().unwrap();
        s.1.push(prompt.to_string());
        let text = if s.0.is_empty() {
            return Err(showrunner_pipeline::RunError::Model("script exhausted".into()));
        } else {
            s.0.remove(0)
        };
        on(text);
        Ok(Generated { text: text.into(), prompt_tokens: 10, completion_tokens: 5, ..Default::default() })
    }
}

struct Human(Vec<Decision>, Vec<String>);

impl Gates for Human {
    fn ask(&mut self, _run: &Run, _step: &Step, kind: GateKind, text: &str) -> Decision {
        self.1.push(kind.as_str().to_string());
        if self.0.is_empty() {
            Decision::Approve(text.to_string())
        } else {
            self.0.remove(0)
        }
    }
}

#[derive(Default)]
struct Fx {
    applied: Vec<String>,
    saved: usize,
}

impl Effects for Fx {
    fn plan_edit(&mut self, run: &Run, step: &Step, text: &str) -> Result<EditPlan, showrunner_pipeline::RunError> {
        let id = format!("{}-{}", run.id, step.id);
        let target = Target { id: &id, path: "s.md", mode: EditMode::AppendBody, field: None, selection: None, text };
        Ok(plan(&target, "---\nid: s\n---\nBase.\n")?)
    }
    fn apply_edit(
        &mut self,
        _run: &Run,
        _step: &Step,
        plan: &EditPlan,
    ) -> Result<String, showrunner_pipeline::RunError> {
        self.applied.push(plan.text.to_string());
        Ok("ev-1".into())
    }
    fn save_bucket(&mut self, _run: &Run, fields: &Value) -> Result<String, showrunner_pipeline::RunError> {
        Ok(fields["name"].as_str().unwrap_or("x").to_lowercase())
    }
    fn save(&mut self, _run: &Run) {
        self.saved += 1;
    }
    fn model_for(&mut self, step: &Step) -> String {
        step.model.clone().unwrap_or_else(|| "local/test".into())
    }
    fn unknown_names(&mut self, text: &str) -> Vec<String> {
        if text.contains("Quillan") {
            vec!["Quillan".into()]
        } else {
            vec![]
        }
    }
}

fn pipeline(steps: &str) -> Pipeline {
    parse(&format!("id: t\nsteps:\n{steps}"), Layer::Custom).unwrap()
}

fn vars() -> Value {
    json!({ "context": "CTX", "scene": { "text": "Alice waits.", "title": "T" }, "judge": { "approve_above": 0.9, "review_above": 0.7 } })
}

fn go(p: &Pipeline, model: &Script, human: &mut Human) -> (Run, Fx) {
    let mut run = Run::new("r1", p, "story/a.md", vars());
    let mut fx = Fx::default();
    execute(p, &mut run, model, human, &mut fx);
    (run, fx)
}

#[test]
fn a_template_renders_and_the_approved_draft_is_applied() {
    let p = pipeline("  - { id: c, type: gather_context }\n  - { id: p, type: prompt, template: \"Write: {{scene.text}} / {{context}}\" }\n  - { id: r, type: review_prompt }\n  - { id: g, type: generate }\n  - { id: a, type: approve_output }\n  - { id: x, type: apply_edit }\n");
    let model = Script(vec!["The draft."], vec![]);
    let mut human = Human(vec![Decision::Approve("Edited prompt".into())], vec![]);
    let (run, fx) = go(&p, &model, &mut human);
    assert_eq!(run.state, RunState::Succeeded);
    assert_eq!(model.prompts(), ["Edited prompt"], "the reviewed prompt is what the model sees");
    assert_eq!(human.1, ["review_prompt", "approve_output"]);
    assert_eq!(fx.applied, ["The draft."]);
    assert_eq!(run.vars["p"], "Write: Alice waits. / CTX");
    assert_eq!(run.exchanges.len(), 1);
    assert!(fx.saved >= 7, "saved after every step");
}

#[test]
fn judge_routes_by_confidence_and_sensitive_topics() {
    let steps = "  - { id: p, type: prompt, template: x }\n  - { id: g, type: generate }\n  - { id: j, type: judge }\n";
    let cases: &[(&str, RunState, &[&str])] = &[
        ("{\"confidence\": 0.95, \"issues\": [], \"sensitive_topics\": []}", RunState::Succeeded, &[]),
        ("{\"confidence\": 0.8, \"issues\": [\"flat\"], \"sensitive_topics\": []}", RunState::Succeeded, &["judge"]),
        (
            "{\"confidence\": 0.99, \"issues\": [], \"sensitive_topics\": [\"politics\"]}",
            RunState::Succeeded,
            &["judge"],
        ),
    ];
    for (verdict, state, asked) in cases {
        let model = Script(vec!["Draft.", verdict], vec![]);
        let mut human = Human(vec![], vec![]);
        let (run, _) = go(&pipeline(steps), &model, &mut human);
        assert_eq!(run.state, *state, "{verdict}: {:?}", run.error);
        assert_eq!(human.1, *asked, "{verdict}");
    }
}

#[test]
fn a_low_score_retries_the_generation_with_the_judges_feedback() {
    let steps = "  - { id: p, type: prompt, template: Write }\n  - { id: g, type: generate }\n  - { id: j, type: judge, max_retries: 1 }\n";
    let model = Script(
        vec!["Draft one.", "{\"confidence\": 0.3, \"issues\": [\"flat\"]}", "Draft two.", "{\"confidence\": 0.95}"],
        vec![],
    );
    let (run, _) = go(&pipeline(steps), &model, &mut Human(vec![], vec![]));
    assert_eq!(run.state, RunState::Succeeded, "{:?}", run.error);
    assert!(model.prompts()[2].contains("scored the last attempt 0.30") && model.prompts()[2].contains("flat"));
    assert_eq!(run.vars["g"], "Draft two.");
    // Still low after the retries: the run fails, saying why.
    let model = Script(
        vec!["D1.", "{\"confidence\": 0.2, \"issues\": [\"x\"]}", "D2.", "{\"confidence\": 0.1, \"issues\": [\"y\"]}"],
        vec![],
    );
    let (run, _) = go(&pipeline(steps), &model, &mut Human(vec![], vec![]));
    assert_eq!(run.state, RunState::Failed);
    assert!(run.error.as_deref().unwrap().contains("below 0.70, after 1 retries"), "{:?}", run.error);
}

#[test]
fn verify_retries_with_a_defect_report_then_asks_a_human() {
    let steps = "  - { id: p, type: prompt, template: Write }\n  - { id: g, type: generate }\n  - { id: v, type: verify, max_retries: 2 }\n";
    // Fixed on the first retry.
    let model = Script(vec!["Quillan came.", "Alice came."], vec![]);
    let (run, _) = go(&pipeline(steps), &model, &mut Human(vec![], vec![]));
    assert_eq!(run.state, RunState::Succeeded);
    assert!(model.prompts()[1].contains("These names are not in the story: Quillan"));
    assert_eq!(run.vars["g"], "Alice came.");
    // Never fixed: after two retries a human decides; rejecting fails the run.
    let model = Script(vec!["Quillan.", "Quillan!", "Quillan?"], vec![]);
    let mut human = Human(vec![Decision::Reject("no".into())], vec![]);
    let (run, _) = go(&pipeline(steps), &model, &mut human);
    assert_eq!(model.prompts().len(), 3);
    assert_eq!(human.1, ["verify"]);
    assert_eq!(run.state, RunState::Failed);
    assert!(run.error.as_deref().unwrap().contains("continuity problems"));
}

#[test]
fn when_conditions_gates_that_reject_and_resume() {
    let p = pipeline("  - { id: p, type: prompt, template: x }\n  - { id: g, type: generate, when: scene.missing }\n  - { id: a, type: approve_output }\n");
    let (run, _) = go(&p, &Script(vec![], vec![]), &mut Human(vec![], vec![]));
    assert_eq!(run.steps[1].state, StepState::Skipped);
    assert_eq!(run.state, RunState::Succeeded);

    let p = pipeline("  - { id: p, type: prompt, template: x }\n  - { id: g, type: generate }\n  - { id: a, type: approve_output }\n  - { id: x, type: apply_edit }\n");
    let mut human = Human(vec![Decision::Reject("too purple".into())], vec![]);
    let (mut run, fx) = go(&p, &Script(vec!["Purple prose."], vec![]), &mut human);
    assert_eq!(run.state, RunState::Failed);
    assert!(fx.applied.is_empty(), "nothing is written without approval");
    assert!(run.error.as_deref().unwrap().contains("too purple"));
    // Resume: the finished generate step is not run again (the script has no second answer).
    run.steps[2].state = StepState::Pending;
    run.error = None;
    let mut fx = Fx::default();
    let model = Script(vec![], vec![]);
    execute(&p, &mut run, &model, &mut Human(vec![], vec![]), &mut fx);
    assert_eq!(run.state, RunState::Succeeded);
    assert!(model.prompts().is_empty());
    assert_eq!(fx.applied, ["Purple prose."]);
}

#[test]
fn research_is_saved_as_a_bucket_from_repaired_json() {
    let p = pipeline("  - { id: p, type: prompt, template: \"Q: {{question}}\" }\n  - { id: f, type: research, json: true }\n  - { id: s, type: save_bucket }\n");
    let model =
        Script(vec!["```json\n{\"name\": \"Fog Signals\", \"keywords\": [\"tonite\"], \"sources\": [\"x\"]"], vec![]);
    let mut run = Run::new("r", &p, "s.md", json!({ "question": "fog?" }));
    let mut fx = Fx::default();
    execute(&p, &mut run, &model, &mut Human(vec![], vec![]), &mut fx);
    assert_eq!(run.state, RunState::Succeeded, "{:?}", run.error);
    assert_eq!(run.vars["s"]["bucket"], "fog signals");
    assert_eq!(model.prompts(), ["Q: fog?"]);
}

/// Counts calls in flight; each call waits (on a condition, up to 10 s) for a partner.
struct Rendezvous {
    state: std::sync::Mutex<(usize, usize)>,
    cv: std::sync::Condvar,
}

impl Model for Rendezvous {
    fn generate(&self, call: &Call<'_>, _: &mut dyn FnMut(&str)) -> Result<Generated, showrunner_pipeline::RunError> {
        let (step, prompt) = (call.step, call.prompt);
        let mut s = self.state.lock().unwrap();
        s.0 += 1;
        s.1 = s.1.max(s.0);
        self.cv.notify_all();
        let (mut s, _) = self.cv.wait_timeout_while(s, std::time::Duration::from_secs(10), |s| s.1 < 2).unwrap();
        s.0 -= 1;
        Ok(Generated {
            text: format!("{step} answered {prompt}"),
            prompt_tokens: 1,
            completion_tokens: 1,
            ..Default::default()
        })
    }
}

#[test]
fn independent_model_steps_run_at_the_same_time() {
    let p = pipeline("  - { id: pa, type: prompt, template: A }\n  - { id: pb, type: prompt, template: B, needs: [] }\n  - { id: ga, type: generate, needs: [pa] }\n  - { id: gb, type: generate, needs: [pb] }\n  - { id: join, type: approve_output, needs: [ga, gb] }\n");
    let model = Rendezvous { state: std::sync::Mutex::new((0, 0)), cv: std::sync::Condvar::new() };
    let mut run = Run::new("r", &p, "s.md", json!({}));
    execute(&p, &mut run, &model, &mut Human(vec![], vec![]), &mut Fx::default());
    assert_eq!(run.state, RunState::Succeeded, "{:?}", run.error);
    assert_eq!(model.state.lock().unwrap().1, 2, "both calls were in flight together");
    // Each branch answered its own prompt, and both exchanges are recorded.
    assert_eq!(run.vars["ga"], "ga answered A");
    assert_eq!(run.vars["gb"], "gb answered B");
    assert_eq!(run.exchanges.len(), 2);
}

#[test]
fn state_names_are_the_serialised_names() {
    use RunState::*;
    for s in [Queued, Running, Waiting, Succeeded, Failed, Cancelled] {
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    for s in [StepState::Pending, StepState::Running, StepState::Succeeded, StepState::Skipped, StepState::Failed] {
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
}

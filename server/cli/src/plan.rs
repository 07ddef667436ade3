//! `showrunner plan "GOAL" [--scope ID] [--yes]`: the outliner answers a plan (the `plan`
//! pipeline: its prompt reviewed, the exchange recorded), the plan is checked
//! ([`showrunner_agents::plan::check`]) and shown at a gate as a list and a graph, and the
//! approved plan — exactly the JSON at the gate, edited or not — runs as one batch.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Result};
use serde_json::json;
use showrunner_agents::plan::{self, Queue};
use showrunner_agents::studio::{known_models, new_run_id, pipelines, ProjectEffects};
use showrunner_model::target::Target;
use showrunner_pipeline::def::StepKind;
use showrunner_pipeline::{execute, Decision, Effects as _, GateKind, Run, RunState, Step};
use showrunner_store::discover::project_of;
use showrunner_store::load_project;
use showrunner_store::runs::Runs;

use crate::run::{live_model, report, warn_broken_workflows, Terminal, TerminalGates};

#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    /// What to get done, in words
    pub goal: String,
    /// The part of the story the plan may touch: a season, arc, act or chapter id, a scene, a
    /// folder (default: the whole project)
    #[arg(long)]
    pub scope: Option<String>,
    /// Approve the planner's prompt, the plan and every gate of its runs
    #[arg(long)]
    pub yes: bool,
    /// How many runs at once (default: `batch: { concurrency }`, else 2)
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// The model for the planner and every run (provider/model), above the cascade
    #[arg(long)]
    pub model: Option<String>,
    /// Runs of higher priority are taken first (default 0)
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub priority: i64,
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

pub fn run(args: &PlanArgs) -> Result<bool> {
    let root = project_of(&args.dir)?;
    let analysis = load_project(&root).analysis;
    let a = &analysis;
    let scope = Target::resolve(a, args.scope.as_deref()).map_err(anyhow::Error::msg)?;
    if !args.yes && !std::io::stdin().is_terminal() {
        bail!("a plan is approved before it runs: run this in a terminal, or pass --yes to approve it");
    }
    warn_broken_workflows(&root);
    let all = pipelines(&root).0;
    let offered = plan::offered(&all);
    let request = plan::request(&args.goal, &scope, a, &offered);
    let pipeline = plan::pipeline();
    let vars = json!({ "plan_request": request, "goal": args.goal, "scope": scope.describe(&a.config.name) });
    let mut run = Run::new(&new_run_id(plan::PIPELINE), &pipeline, "", vars);
    run.model_override = args.model.clone();
    let rt = tokio::runtime::Runtime::new()?;
    let model = live_model(&root, &a.config, &rt);
    let (agents, _) = showrunner_agents::defs::catalogue(Some(&root));
    let mut gates = TerminalGates { yes: args.yes, models: known_models(&a.config, &agents) };
    let mut fx = ProjectEffects {
        root: root.clone(),
        analysis: a,
        scene: None,
        runs: Runs::open(&root)?,
        agents,
        edge: Terminal::default(),
    };
    println!("Plan {} · {} · scope: {}", run.id, args.goal, scope.describe(&a.config.name));
    execute(&pipeline, &mut run, &model, &mut gates, &mut fx);
    if run.state != RunState::Succeeded {
        report(&run)?;
        return Ok(false);
    }
    let checked = plan::parse(&run.vars["plan"]).map_err(|e| vec![e]).and_then(|p| plan::check(p, &scope, a, &offered));
    let checked = match checked {
        Ok(c) => c,
        Err(problems) => return refuse(&mut run, &mut fx, &problems),
    };
    // The gate: the plan as a list and a graph, and its tasks as JSON — what is approved (and
    // may be edited there) is what runs.
    let shown = plan::render(&args.goal, &checked, a);
    println!("\n{shown}");
    let step = Step { id: "approve-plan".into(), kind: StepKind::ApproveOutput, ..Step::default() };
    let checked = match showrunner_pipeline::ask(&mut run, &step, &mut gates, &mut fx, GateKind::ApproveOutput, &shown)
    {
        Decision::Approve(text) | Decision::Paste(text) if text == shown => checked,
        Decision::Approve(text) | Decision::Paste(text) => {
            match plan::from_reviewed(&text).and_then(|p| plan::check(p, &scope, a, &offered).map_err(|e| e.join("; ")))
            {
                Ok(c) => c,
                Err(e) => return refuse(&mut run, &mut fx, &[format!("the edited plan: {e}")]),
            }
        }
        other => {
            run.state = RunState::Cancelled;
            run.error = Some(format!("the plan was not approved ({other:?}); nothing was queued"));
            fx.save(&run);
            println!("The plan was not approved: nothing was queued.");
            return Ok(false);
        }
    };
    let batch = new_run_id("batch");
    let runs = Runs::open(&root)?;
    let q = Queue { runs: &runs, batch: &batch, priority: args.priority, model: args.model.as_deref() };
    let queued = plan::queue(&checked, a, &offered, &q).map_err(anyhow::Error::msg)?;
    run.vars["batch"] = json!(batch);
    run.vars["approved_plan"] = serde_json::to_value(&checked.plan)?;
    run.state = RunState::Succeeded;
    fx.save(&run);
    println!("batch {batch}: {} task(s), {queued} run(s) queued (plan {})", checked.plan.tasks.len(), run.id);
    drop(fx);
    crate::batch::work_on(&root, Arc::new(analysis), &batch, args.jobs, args.yes)
}

/// A plan that did not pass its checks: the planner's run is marked failed with every reason,
/// and nothing is queued.
fn refuse<E: showrunner_agents::studio::Edge>(
    run: &mut Run,
    fx: &mut ProjectEffects<'_, E>,
    problems: &[String],
) -> Result<bool> {
    run.state = RunState::Failed;
    run.error = Some(format!("the plan was refused: {}", problems.join("; ")));
    fx.save(run);
    eprintln!("showrunner: the plan was refused, and nothing was queued:");
    for p in problems {
        eprintln!("  - {p}");
    }
    Ok(false)
}

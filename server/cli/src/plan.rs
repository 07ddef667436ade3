//! `showrunner plan "GOAL" [--scope ID] [--yes]`: the planner's run ([`showrunner_agents::plan`]:
//! the outliner's plan, checked, shown at a gate as a list, a graph and the JSON that runs, and
//! queued as one batch when approved) with the terminal's gates, then the batch worked here.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Result};
use showrunner_agents::plan;
use showrunner_agents::studio::{known_models, Job, ProjectEffects};
use showrunner_pipeline::RunState;
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
    let mut run =
        plan::new_run(&root, a, &args.goal, args.scope.as_deref(), args.priority).map_err(anyhow::Error::msg)?;
    if !args.yes && !std::io::stdin().is_terminal() {
        bail!("a plan is approved before it runs: run this in a terminal, or pass --yes to approve it");
    }
    warn_broken_workflows(&root);
    run.model_override = args.model.clone();
    let rt = tokio::runtime::Runtime::new()?;
    let model = live_model(&root, &a.config, &rt);
    let (agents, _) = showrunner_agents::defs::catalogue(Some(&root));
    let mut gates = TerminalGates { yes: args.yes, models: known_models(&a.config, &agents) };
    let runs = Runs::open(&root)?;
    let mut fx =
        ProjectEffects { root: root.clone(), analysis: a, scene: None, runs, agents, edge: Terminal::default() };
    println!("Plan {} · {}", run.id, args.goal);
    Job::Plan.execute(&mut run, &model, &mut gates, &mut fx);
    drop(fx);
    let batch = run.vars["batch"].as_str().map(str::to_string);
    match batch {
        Some(batch) if run.state == RunState::Succeeded => {
            println!("{}", run.vars["answer"].as_str().unwrap_or_default());
            crate::batch::work_on(&root, Arc::new(analysis), &batch, args.jobs, args.yes)
        }
        _ => {
            if let Some(problems) = run.vars["problems"].as_array() {
                eprintln!("showrunner: the plan was refused, and nothing was queued:");
                for p in problems.iter().filter_map(|p| p.as_str()) {
                    eprintln!("  - {p}");
                }
                return Ok(false);
            }
            report(&run)
        }
    }
}

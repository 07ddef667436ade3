//! `showrunner run PIPELINE FILE`, `showrunner runs`, `showrunner resume RUN`: pipelines headless,
//! streaming to the terminal, gates asked on the terminal (or approved with `--yes`).

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use showrunner_agents::studio::{
    cli_selection, find_pipeline, known_models, new_run_id, pipelines, scene_vars, Edge, Job, LiveModel,
    ProjectEffects, ReplayModel,
};
use showrunner_llm::{Cancel, Client};
use showrunner_pipeline::{execute, Decision, DecisionKind, GateKind, Gates, Model, Run, RunState, Step};
use showrunner_store::discover::{project_of, relative};
use showrunner_store::load_project;
use showrunner_store::runs::Runs;

pub struct Options<'a> {
    pub yes: bool,
    pub model: Option<&'a str>,
    pub replay: Option<&'a str>,
    pub question: Option<&'a str>,
    pub lines: Option<&'a str>,
    pub range: Option<&'a str>,
}

/// Streams answers to the terminal as they arrive.
#[derive(Default)]
pub(crate) struct Terminal {
    mid_line: bool,
}

impl Edge for Terminal {
    fn text(&mut self, _step: &str, text: &str) {
        let mut out = std::io::stdout();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
        self.mid_line = !text.ends_with('\n');
    }

    fn saved(&mut self, _run: &Run) {
        if std::mem::take(&mut self.mid_line) {
            println!();
        }
    }
}

pub(crate) fn warn_broken_workflows(root: &Path) {
    for (file, errs) in pipelines(root).1 {
        for e in errs {
            eprintln!("showrunner: warning: {file}: {e}");
        }
    }
}

pub(crate) struct TerminalGates {
    pub yes: bool,
    /// Models to offer for "change model".
    pub models: Vec<String>,
}

fn read_answer(prompt: &str) -> Option<String> {
    eprint!("{prompt}");
    let mut line = String::new();
    (std::io::stdin().lock().read_line(&mut line).unwrap_or(0) > 0).then(|| line.trim().to_string())
}

impl Gates for TerminalGates {
    fn ask(&mut self, run: &Run, step: &Step, kind: GateKind, text: &str) -> Decision {
        let label = kind.label();
        // What approving changes: the mode in words and the diff, or why nothing can be applied.
        let mut change = String::new();
        if let Some(r) = run.gate.as_ref().and_then(|g| g.reasoning.as_deref()) {
            // Shown apart, quoted: the model's reasoning is never part of what is approved.
            change.push_str("The model's reasoning (not part of the answer):\n");
            for line in r.lines() {
                change.push_str(&format!("  │ {line}\n"));
            }
        }
        if let Some(g) = &run.gate {
            if let Some(plan) = &g.edit {
                change.push_str(&format!("Approving: {}\n{}", plan.description, plan.diff));
            }
            if let Some(note) = &g.note {
                change.push_str(&format!("Note: {note}\n"));
            }
        }
        if self.yes {
            eprintln!("── gate `{}` ({label}): approved (--yes)", step.id);
            eprint!("{change}");
            return Decision::Approve(text.to_string());
        }
        eprintln!("── gate `{}`: {label} ──\n{text}\n──", step.id);
        eprint!("{change}");
        loop {
            let Some(answer) = read_answer(&format!("{}? ", DecisionKind::menu())) else {
                return Decision::Reject("no answer (stdin closed)".into());
            };
            let choice = if answer.is_empty() { Ok(DecisionKind::Approve) } else { answer.parse::<DecisionKind>() };
            let Ok(choice) = choice else {
                eprintln!("{}", choice.unwrap_err());
                continue;
            };
            match choice {
                DecisionKind::Approve => return Decision::Approve(text.to_string()),
                DecisionKind::Skip => return Decision::Skip,
                DecisionKind::Regenerate => return Decision::Regenerate,
                DecisionKind::Reject => return Decision::Reject(read_answer("Why (optional)? ").unwrap_or_default()),
                DecisionKind::Edit => {
                    if let Some(edited) = edit_in_editor(text) {
                        return Decision::Approve(edited);
                    }
                }
                DecisionKind::Paste => {
                    eprintln!("Paste the answer, then end it with a line holding a single `.`:");
                    let mut pasted = String::new();
                    for line in std::io::stdin().lock().lines().map_while(|l| l.ok()) {
                        if line.trim() == "." {
                            break;
                        }
                        pasted.push_str(&line);
                        pasted.push('\n');
                    }
                    return Decision::Paste(pasted.trim_end().to_string());
                }
                DecisionKind::Chat => {
                    if let Some(m) = read_answer("Your message to the model: ").filter(|m| !m.is_empty()) {
                        return Decision::Chat(m);
                    }
                }
                DecisionKind::ChangeModel => {
                    for (i, m) in self.models.iter().enumerate() {
                        eprintln!("  {}. {m}", i + 1);
                    }
                    if let Some(m) = read_answer("Model (number or provider/model): ").filter(|m| !m.is_empty()) {
                        let chosen = m.parse::<usize>().ok().and_then(|i| self.models.get(i.wrapping_sub(1)).cloned());
                        return Decision::ChangeModel(chosen.unwrap_or(m));
                    }
                }
            }
        }
    }
}

fn edit_in_editor(text: &str) -> Option<String> {
    let editor = std::env::var("EDITOR").unwrap_or_else(|_| "vi".into());
    let path = std::env::temp_dir().join(format!("showrunner-gate-{}.md", std::process::id()));
    std::fs::write(&path, text).ok()?;
    let status = std::process::Command::new(editor).arg(&path).status().ok()?;
    let edited = std::fs::read_to_string(&path).ok();
    let _ = std::fs::remove_file(&path);
    status.success().then_some(edited).flatten()
}

pub(crate) fn live_model(
    root: &Path,
    config: &showrunner_model::config::ProjectConfig,
    rt: &tokio::runtime::Runtime,
) -> LiveModel {
    LiveModel {
        config: config.clone(),
        root: root.to_path_buf(),
        client: Client::new(),
        handle: rt.handle().clone(),
        cancel: Cancel::default(),
    }
}

pub fn run(pipeline_id: &str, file: &Path, opts: &Options<'_>) -> Result<bool> {
    let root = project_of(file)?;
    let abs = file.canonicalize().with_context(|| format!("cannot open {}", file.display()))?;
    let rel = relative(&root, &abs);
    let project = load_project(&root);
    let a = &project.analysis;
    let scene = a.scene_at(&rel).with_context(|| format!("{} is not a scene", file.display()))?;
    warn_broken_workflows(&root);
    let pipeline = find_pipeline(&root, pipeline_id).map_err(anyhow::Error::msg)?;
    let text = a.text(a.scenes[scene].file);
    let selection = cli_selection(text, opts.lines, opts.range).map_err(anyhow::Error::msg)?;
    if selection.is_none() && pipeline.needs_selection() {
        bail!(
            "`{}` works on a selection: say which with --lines A-B (e.g. --lines 13-15) or --range L:C-L:C (e.g. --range 7:1-9:24)",
            pipeline.id
        );
    }
    let (context, used, budget) =
        showrunner_agents::studio::run_context(&root, a, scene, selection.as_ref().map(|r| r.end), &pipeline.id);
    let vars = scene_vars(a, scene, &context, opts.question, selection);
    let mut run = Run::new(&new_run_id(pipeline_id), &pipeline, &rel, vars);
    run.model_override = opts.model.map(str::to_string);
    let runs = Runs::open(&root)?;
    let rt = tokio::runtime::Runtime::new()?;
    let model: Box<dyn Model> = match opts.replay {
        Some(what) => {
            let recorded = load_recording(&runs, what)?;
            println!("REPLAY of run {} ({}): recorded model answers, no network.", recorded.id, recorded.pipeline);
            run.replay_of = Some(recorded.id.clone());
            Box::new(ReplayModel::new(&recorded))
        }
        None => Box::new(live_model(&root, &a.config, &rt)),
    };
    if !opts.yes && !std::io::stdin().is_terminal() {
        bail!("this pipeline has approval gates: run it in a terminal, or pass --yes to approve them");
    }
    println!("Run {} · {} on {rel} · context {used} / {budget} tokens", run.id, pipeline.title);
    let (agents, _) = showrunner_agents::defs::catalogue(Some(&root));
    let mut gates = TerminalGates { yes: opts.yes, models: known_models(&a.config, &agents) };
    let mut fx =
        ProjectEffects { root: root.clone(), analysis: a, scene: Some(scene), runs, agents, edge: Terminal::default() };
    execute(&pipeline, &mut run, model.as_ref(), &mut gates, &mut fx);
    report(&run)
}

fn load_recording(runs: &Runs, what: &str) -> Result<Run> {
    let v = match runs.load(what)? {
        Some(v) => v,
        None => {
            let text = std::fs::read_to_string(what)
                .with_context(|| format!("`{what}` is neither a run id nor a recorded run file"))?;
            serde_json::from_str(&text)?
        }
    };
    Ok(serde_json::from_value(v)?)
}

pub(crate) fn report(run: &Run) -> Result<bool> {
    println!("\nRun {}: {}", run.id, run.state.as_str());
    for s in &run.steps {
        let model = s.model.as_deref().map(|m| format!(" · {m}")).unwrap_or_default();
        // The model that answered, when the server names another (a router's fallback).
        let served = run
            .exchanges
            .iter()
            .rev()
            .find(|e| e.step == s.id)
            .and_then(|e| e.served_by.as_deref().filter(|m| !e.model.ends_with(&format!("/{m}")) && *m != e.model))
            .map(|m| format!(" (answered by {m})"))
            .unwrap_or_default();
        println!("  {:<12} {:<16} {}{model}{served}", s.id, s.kind, s.state.as_str());
    }
    let tokens: u64 = run.exchanges.iter().map(|e| e.prompt_tokens + e.completion_tokens).sum();
    println!("  {} model call(s), {tokens} tokens", run.exchanges.len());
    if let Some(answer) = run.vars["answer"].as_str() {
        println!("\n{answer}");
    }
    if let Some(e) = &run.error {
        eprintln!("showrunner: {e}");
    }
    Ok(run.state == RunState::Succeeded)
}

pub fn list(dir: &Path) -> Result<()> {
    let root = project_of(dir)?;
    let runs = Runs::open(&root)?;
    let rows = runs.list()?;
    if rows.is_empty() {
        println!("(no runs yet)");
    }
    for r in rows {
        // `interrupted` when its process died before it finished (`showrunner resume` goes on).
        println!("{:<36} {:<18} {:<11} {}", r.id, r.pipeline, r.live_state(), r.scene);
    }
    Ok(())
}

pub fn resume(dir: &Path, id: &str, yes: bool) -> Result<bool> {
    let root = project_of(dir)?;
    let runs = Runs::open(&root)?;
    let mut run: Run = serde_json::from_value(runs.load(id)?.with_context(|| format!("no run `{id}`"))?)?;
    if run.state == RunState::Succeeded {
        println!("Run {id} already succeeded.");
        return report(&run);
    }
    if !runs.claim(id)? {
        bail!("run {id} is being driven by another live process (an editor's server, or another terminal)");
    }
    runs.touch_attempt(id)?;
    let project = load_project(&root);
    let a = &project.analysis;
    let scene = a.scene_at(&run.scene);
    if scene.is_none() && !run.scene.is_empty() {
        bail!("the run's scene {} is gone", run.scene);
    }
    // A step cut off mid-call is run again; completed steps are kept.
    run.prepare_resume();
    let rt = tokio::runtime::Runtime::new()?;
    let model = live_model(&root, &a.config, &rt);
    let job = Job::of_run(&root, &run).map_err(anyhow::Error::msg)?;
    let (agents, _) = showrunner_agents::defs::catalogue(Some(&root));
    let mut gates = TerminalGates { yes, models: known_models(&a.config, &agents) };
    let mut fx = ProjectEffects { root: root.clone(), analysis: a, scene, runs, agents, edge: Terminal::default() };
    println!("Resuming run {id} ({})", job.title());
    job.execute(&mut run, &model, &mut gates, &mut fx);
    report(&run)
}

//! `showrunner run PIPELINE FILE`, `showrunner runs`, `showrunner resume RUN`: pipelines headless,
//! streaming to the terminal, gates asked on the terminal (or approved with `--yes`).

use std::collections::VecDeque;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};
use showrunner_context::cascade::{resolve, scene_inputs, Inputs};
use showrunner_context::tokens::default_counter;
use showrunner_context::{render_markdown, ContextEngine, Request};
use showrunner_llm::{Cancel, ChatRequest, Client, Delta, Endpoint, Message};
use showrunner_model::analysis::Analysis;
use showrunner_model::names::capitalised_names;
use showrunner_pipeline::{
    catalogue, execute, Decision, Effects, Exchange, Gates, Generated, Model, Pipeline, Run, RunState, Step,
};
use showrunner_store::discover::{project_of, relative};
use showrunner_store::history::{Change, History};
use showrunner_store::load_project;
use showrunner_store::runs::Runs;

pub struct Options<'a> {
    pub yes: bool,
    pub model: Option<&'a str>,
    pub replay: Option<&'a str>,
    pub question: Option<&'a str>,
}

/// Project workflows (`workflows/*.yaml`).
fn workflows(root: &Path) -> Vec<(String, String)> {
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

fn find_pipeline(root: &Path, id: &str) -> Result<Pipeline> {
    let (all, problems) = catalogue(&workflows(root));
    for (file, errs) in &problems {
        for e in errs {
            eprintln!("showrunner: warning: {file}: {e}");
        }
    }
    let ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
    all.iter()
        .find(|p| p.id == id)
        .cloned()
        .with_context(|| format!("no pipeline `{id}`; available: {}", ids.join(", ")))
}

/// A run id: readable, unique enough, sortable.
fn new_run_id(pipeline: &str) -> String {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    format!("{pipeline}-{ms:x}")
}

/// The model server for a `provider/model` name.
fn endpoint(a: &Analysis, model: &str) -> Result<(Endpoint, String), String> {
    let (provider, name) = model.split_once('/').ok_or_else(|| format!("`{model}` should be `provider/model`"))?;
    let p = a
        .config
        .providers
        .iter()
        .find(|p| p.name == provider)
        .ok_or_else(|| format!("provider `{provider}` is not configured under `providers:` in showrunner.yaml"))?;
    let base_url = p.base_url.clone().ok_or_else(|| format!("`providers.{provider}.base_url` is not set"))?;
    Ok((Endpoint { provider: provider.to_string(), base_url, api_key_env: p.api_key_env.clone() }, name.to_string()))
}

struct LiveModel<'a> {
    analysis: &'a Analysis,
    client: Client,
    runtime: tokio::runtime::Runtime,
    root: PathBuf,
}

impl LiveModel<'_> {
    /// The daily token budget is checked before every call.
    fn check_budget(&self, prompt: &str) -> Result<(), String> {
        let Some(limit) = self.analysis.config.daily_tokens else { return Ok(()) };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let midnight = now - now.rem_euclid(86_400_000);
        let used = Runs::open(&self.root).and_then(|r| r.tokens_since(midnight)).map_err(|e| e.to_string())?;
        let needs = showrunner_context::tokens::TokenCounter::count(default_counter(), prompt) as u64;
        if used + needs > limit {
            return Err(format!(
                "the daily token budget ({limit}) would be exceeded: {used} used today (UTC), this call needs about {needs} for its prompt alone; raise `budget.daily_tokens` in showrunner.yaml, or wait until tomorrow"
            ));
        }
        Ok(())
    }
}

impl Model for LiveModel<'_> {
    fn generate(
        &self,
        _step: &str,
        model: &str,
        prompt: &str,
        json: bool,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Generated, String> {
        self.check_budget(prompt)?;
        let (ep, name) = endpoint(self.analysis, model)?;
        let req = ChatRequest { model: name, messages: vec![Message::user(prompt)], json, ..Default::default() };
        let mut out = std::io::stdout();
        let result = self.runtime.block_on(self.client.chat(&ep, &req, &Cancel::default(), &mut |d| {
            if let Delta::Text(t) = d {
                let _ = out.write_all(t.as_bytes());
                let _ = out.flush();
            }
        }));
        println!();
        let c = result.map_err(|e| e.to_string())?;
        on_text(&c.text);
        let usage = c.usage.unwrap_or_default();
        Ok(Generated { text: c.text, prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens })
    }
}

/// Answers from a recorded run, in order, per step: no network.
struct ReplayModel {
    answers: std::sync::Mutex<VecDeque<Exchange>>,
}

impl Model for ReplayModel {
    fn generate(
        &self,
        step: &str,
        _model: &str,
        _prompt: &str,
        _json: bool,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Generated, String> {
        let mut answers = self.answers.lock().map_err(|_| "the recording is unavailable".to_string())?;
        let i = answers
            .iter()
            .position(|e| e.step == step)
            .ok_or_else(|| format!("the recording has no answer for step `{step}`"))?;
        let e = answers.remove(i).expect("found");
        println!("{}", e.response);
        on_text(&e.response);
        Ok(Generated { text: e.response, prompt_tokens: e.prompt_tokens, completion_tokens: e.completion_tokens })
    }
}

struct TerminalGates {
    yes: bool,
}

impl Gates for TerminalGates {
    fn ask(&mut self, _run: &Run, step: &Step, kind: &str, text: &str) -> Decision {
        let label = match kind {
            "review_prompt" => "Review the prompt",
            "approve_output" => "Approve the output",
            "judge" => "The judge wants a human",
            _ => "Continuity check wants a human",
        };
        if self.yes {
            eprintln!("── gate `{}` ({label}): approved (--yes)", step.id);
            return Decision::Approve(text.to_string());
        }
        eprintln!("── gate `{}`: {label} ──\n{text}\n──", step.id);
        loop {
            eprint!("[a]pprove, [e]dit in $EDITOR, [s]kip, [r]eject? ");
            let mut line = String::new();
            if std::io::stdin().lock().read_line(&mut line).unwrap_or(0) == 0 {
                return Decision::Reject("no answer (stdin closed)".into());
            }
            match line.trim() {
                "a" | "approve" | "" => return Decision::Approve(text.to_string()),
                "s" | "skip" => return Decision::Skip,
                "r" | "reject" => return Decision::Reject(String::new()),
                "e" | "edit" => {
                    if let Some(edited) = edit_in_editor(text) {
                        return Decision::Approve(edited);
                    }
                }
                _ => {}
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

struct CliEffects<'a> {
    root: PathBuf,
    analysis: &'a Analysis,
    scene: usize,
    runs: Runs,
    model_override: Option<String>,
}

impl Effects for CliEffects<'_> {
    fn apply_edit(&mut self, run: &Run, text: &str) -> Result<String, String> {
        let path = &run.scene;
        let abs = self.root.join(path);
        let current = std::fs::read_to_string(&abs).map_err(|e| format!("cannot read {path}: {e}"))?;
        let mut next = current.trim_end().to_string();
        next.push_str("\n\n");
        next.push_str(text.trim());
        next.push('\n');
        let mut h = History::open(&self.root).map_err(|e| e.to_string())?;
        // Hand edits first, so the expected version is the writer's latest.
        h.record(path, "user").map_err(|e| e.to_string())?;
        let version = h.version(path).map_err(|e| e.to_string())?;
        let actor = format!("pipeline:{}", run.id);
        let e = h
            .write(&Change {
                path,
                content: Some(next.as_bytes()),
                expected_version: Some(version),
                actor: &actor,
                kind: "apply_edit",
                container: None,
                payload: json!({ "run": run.id, "pipeline": run.pipeline }),
                id: Some(format!("{}-apply", run.id)),
            })
            .map_err(|e| e.to_string())?;
        Ok(e.id)
    }

    fn save_bucket(&mut self, run: &Run, fields: &Value) -> Result<String, String> {
        let name = fields["name"].as_str().unwrap_or("Research notes").to_string();
        let list = |k: &str| {
            fields[k]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        let new = showrunner_store::fsx::NewBucket { kind: "research", name: &name, aliases: &[], parent: None };
        let a = self.analysis;
        let (id, path) = showrunner_store::fsx::create_bucket(
            &self.root,
            &a.config.kinds,
            &new,
            &|id| a.by_id.contains_key(id),
            &format!("pipeline:{}", run.id),
        )?;
        // Fill in what the research found, through the write path again.
        let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let mut yaml = format!("id: {id}\nkind: research\nname: {}\n", q(&name));
        if let Some(s) = fields["summary"].as_str() {
            yaml.push_str(&format!("summary: {}\n", q(s)));
        }
        if let Some(b) = fields["body"].as_str() {
            yaml.push_str(&format!("body: {}\n", q(b)));
        }
        yaml.push_str(&format!("keywords: {}\n", serde_json::to_string(&list("keywords")).unwrap_or_default()));
        yaml.push_str(&format!("sources: {}\n", serde_json::to_string(&list("sources")).unwrap_or_default()));
        let rel = relative(&self.root, &path);
        let mut h = History::open(&self.root).map_err(|e| e.to_string())?;
        h.write(&Change {
            path: &rel,
            content: Some(yaml.as_bytes()),
            expected_version: Some(1),
            actor: &format!("pipeline:{}", run.id),
            kind: "save_bucket",
            container: Some(&id),
            payload: json!({ "run": run.id }),
            id: None,
        })
        .map_err(|e| e.to_string())?;
        Ok(id)
    }

    fn save(&mut self, run: &Run) {
        let state =
            serde_json::to_value(run.state).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let data = serde_json::to_value(run).unwrap_or_default();
        if let Err(e) = self.runs.save(&run.id, &run.pipeline, &run.scene, &state, run.error.as_deref(), &data) {
            eprintln!("showrunner: warning: run not saved: {e}");
        }
    }

    fn model_for(&mut self, step: &Step) -> String {
        let models = scene_inputs(self.analysis, self.scene);
        let (file, user) = showrunner_store::user::default_model();
        let step_model = step.model.as_deref().or(self.model_override.as_deref());
        let r = resolve(&Inputs {
            step: step_model,
            scene: models.scene,
            bucket: models.bucket,
            agent: None,
            project: self.analysis.config.default_model.as_deref(),
            user: Some((&file, user.as_deref())),
        });
        r.model.unwrap_or_else(|| "local/llama3.1".into())
    }

    fn unknown_names(&mut self, text: &str) -> Vec<String> {
        let mut found = Vec::new();
        capitalised_names(text, &[0..text.len()], &[], &mut found);
        let mut names: Vec<String> = found
            .into_iter()
            .map(|c| c.name)
            .filter(|n| {
                self.analysis.dictionary.lookup_cue(n).is_empty()
                    && !self.analysis.dictionary.entries().iter().any(|e| e.alias.contains(n.as_str()))
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

fn scene_vars(a: &Analysis, scene: usize, context: &str, question: Option<&str>) -> Value {
    let s = &a.scenes[scene];
    let text = a.text(s.file);
    let pov =
        s.scene.pov.as_ref().and_then(|p| a.bucket(&p.value)).map(|b| b.bucket.name.value.clone()).unwrap_or_default();
    let body = &text[s.scene.body.clone()];
    json!({
        "context": context,
        "scene": {
            "id": s.scene.id.value,
            "title": s.scene.title.clone().unwrap_or_else(|| s.scene.id.value.clone()),
            "pov": pov,
            "summary": s.scene.summary.clone().unwrap_or_default(),
            "text": body,
            "before_cursor": body,
        },
        "selection": "",
        "question": question.unwrap_or(""),
        "judge": { "approve_above": a.config.judge.approve_above, "review_above": a.config.judge.review_above },
    })
}

pub fn run(pipeline_id: &str, file: &Path, opts: &Options<'_>) -> Result<bool> {
    let root = project_of(file)?;
    let abs = file.canonicalize().with_context(|| format!("cannot open {}", file.display()))?;
    let rel = relative(&root, &abs);
    let project = load_project(&root);
    let a = &project.analysis;
    let scene = a
        .scenes
        .iter()
        .position(|s| a.files[s.file].path == rel)
        .with_context(|| format!("{} is not a scene", file.display()))?;
    let pipeline = find_pipeline(&root, pipeline_id)?;
    let engine = ContextEngine::new(a);
    let ctx = engine.assemble(a, Request { scene, cursor: None, budget: None }, default_counter());
    let vars = scene_vars(a, scene, &render_markdown(&ctx), opts.question);
    let mut run = Run::new(&new_run_id(pipeline_id), &pipeline, &rel, vars);
    let runs = Runs::open(&root)?;
    let model: Box<dyn Model + '_> = match opts.replay {
        Some(what) => {
            let recorded = load_recording(&runs, what)?;
            println!("REPLAY of run {} ({}): recorded model answers, no network.", recorded.id, recorded.pipeline);
            run.replay_of = Some(recorded.id.clone());
            Box::new(ReplayModel { answers: std::sync::Mutex::new(recorded.exchanges.into()) })
        }
        None => Box::new(LiveModel {
            analysis: a,
            client: Client::new(),
            runtime: tokio::runtime::Runtime::new()?,
            root: root.clone(),
        }),
    };
    if !opts.yes && !std::io::stdin().is_terminal() {
        bail!("this pipeline has approval gates: run it in a terminal, or pass --yes to approve them");
    }
    println!("Run {} · {} on {rel} · context {} / {} tokens", run.id, pipeline.title, ctx.used_tokens, ctx.budget);
    let mut gates = TerminalGates { yes: opts.yes };
    let mut fx =
        CliEffects { root: root.clone(), analysis: a, scene, runs, model_override: opts.model.map(str::to_string) };
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

fn report(run: &Run) -> Result<bool> {
    println!("\nRun {}: {}", run.id, serde_json::to_value(run.state)?.as_str().unwrap_or(""));
    for s in &run.steps {
        let state = serde_json::to_value(s.state)?;
        let model = s.model.as_deref().map(|m| format!(" · {m}")).unwrap_or_default();
        println!("  {:<12} {:<16} {}{model}", s.id, s.kind, state.as_str().unwrap_or(""));
    }
    let tokens: u64 = run.exchanges.iter().map(|e| e.prompt_tokens + e.completion_tokens).sum();
    println!("  {} model call(s), {tokens} tokens", run.exchanges.len());
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
        println!("{:<36} {:<18} {:<10} {}", r.id, r.pipeline, r.state, r.scene);
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
    runs.touch_attempt(id)?;
    let pipeline = find_pipeline(&root, &run.pipeline)?;
    let project = load_project(&root);
    let a = &project.analysis;
    let scene = a
        .scenes
        .iter()
        .position(|s| a.files[s.file].path == run.scene)
        .with_context(|| format!("the run's scene {} is gone", run.scene))?;
    // A step cut off mid-call is run again; completed steps are kept.
    for s in &mut run.steps {
        if s.state == showrunner_pipeline::StepState::Running || s.state == showrunner_pipeline::StepState::Failed {
            s.state = showrunner_pipeline::StepState::Pending;
        }
    }
    run.error = None;
    println!("Resuming run {id} ({})", pipeline.title);
    let model =
        LiveModel { analysis: a, client: Client::new(), runtime: tokio::runtime::Runtime::new()?, root: root.clone() };
    let mut gates = TerminalGates { yes };
    let mut fx = CliEffects { root: root.clone(), analysis: a, scene, runs, model_override: None };
    execute(&pipeline, &mut run, &model, &mut gates, &mut fx);
    report(&run)
}

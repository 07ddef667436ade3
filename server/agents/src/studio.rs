//! What every edge (the CLI, the language server) needs to run a pipeline or an agent on a
//! project: the pipeline catalogue, run ids, the run's variables, the live model (streaming,
//! cancellable, daily budget checked before each call), the replayed model, and the effects —
//! edits and buckets written through the history write path. The edge supplies an [`Edge`]:
//! where the scene's current text comes from, how an edit is shown, where progress goes.

use std::collections::VecDeque;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};
use showrunner_context::cascade::{resolve, scene_inputs, Inputs};
use showrunner_context::tokens::{default_counter, TokenCounter};
use showrunner_context::{render_markdown, ContextEngine, Request};
use showrunner_llm::{Cancel, ChatRequest, Client, Delta, Endpoint, Message};
use showrunner_model::analysis::Analysis;
use showrunner_model::config::ProjectConfig;
use showrunner_model::names::capitalised_names;
use showrunner_pipeline::{
    catalogue, Call, DefError, Effects, Exchange, Generated, Model, Persona, Pipeline, Run, Step,
};
use showrunner_store::discover::relative;
use showrunner_store::history::{Change, History};
use showrunner_store::runs::Runs;

use crate::defs::AgentDef;

/// Project workflows (`workflows/*.yaml`), as `(path, text)`.
pub fn workflows(root: &Path) -> Vec<(String, String)> {
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

/// Every pipeline of a project, and the problems of broken workflow files.
pub fn pipelines(root: &Path) -> (Vec<Pipeline>, Vec<(String, Vec<DefError>)>) {
    catalogue(&workflows(root))
}

pub fn find_pipeline(root: &Path, id: &str) -> Result<Pipeline, String> {
    let (all, _) = pipelines(root);
    let ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
    all.iter().find(|p| p.id == id).cloned().ok_or_else(|| format!("no pipeline `{id}`; available: {}", ids.join(", ")))
}

/// A run id: readable, sortable, unique within the process.
pub fn new_run_id(prefix: &str) -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let prefix: String = prefix.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
    if n == 0 {
        format!("{prefix}-{ms:x}")
    } else {
        format!("{prefix}-{ms:x}{n}")
    }
}

/// Where a gate's review document lives: `.showrunner/runs/<run>/<step>.md`.
pub fn review_path(root: &Path, run: &str, step: &str) -> PathBuf {
    let safe = |s: &str| {
        s.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect::<String>()
    };
    root.join(".showrunner").join("runs").join(safe(run)).join(format!("{}.md", safe(step)))
}

/// The model server for a `provider/model` name.
pub fn endpoint(config: &ProjectConfig, model: &str) -> Result<(Endpoint, String), String> {
    let (provider, name) = model.split_once('/').ok_or_else(|| format!("`{model}` should be `provider/model`"))?;
    let p = config
        .providers
        .iter()
        .find(|p| p.name == provider)
        .ok_or_else(|| format!("provider `{provider}` is not configured under `providers:` in showrunner.yaml"))?;
    let base_url = p.base_url.clone().ok_or_else(|| format!("`providers.{provider}.base_url` is not set"))?;
    Ok((Endpoint { provider: provider.to_string(), base_url, api_key_env: p.api_key_env.clone() }, name.to_string()))
}

/// Every `provider/model` a project names: its default, the user's default, agent defaults.
pub fn known_models(config: &ProjectConfig, agents: &[AgentDef]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let (_, user) = showrunner_store::user::default_model();
    for m in config.default_model.iter().chain(user.iter()).chain(agents.iter().filter_map(|a| a.model.as_ref())) {
        if !out.contains(m) {
            out.push(m.clone());
        }
    }
    out
}

/// The run's variables, as templates see them: `context`, `scene.{id,title,pov,summary,text,
/// before_cursor}`, `selection` (and its byte range in the file), `question`, `judge`.
pub fn scene_vars(
    a: &Analysis,
    scene: usize,
    context: &str,
    question: Option<&str>,
    selection: Option<Range<usize>>,
) -> Value {
    let s = &a.scenes[scene];
    let text = a.text(s.file);
    let pov =
        s.scene.pov.as_ref().and_then(|p| a.bucket(&p.value)).map(|b| b.bucket.name.value.clone()).unwrap_or_default();
    let body = s.scene.body.clone();
    let selection = selection.filter(|r| {
        r.start <= r.end && r.end <= text.len() && text.is_char_boundary(r.start) && text.is_char_boundary(r.end)
    });
    let before_end = selection.as_ref().map(|r| r.end.max(body.start)).unwrap_or(body.end).min(text.len());
    let mut vars = json!({
        "context": context,
        "scene": {
            "id": s.scene.id.value,
            "title": s.scene.title.clone().unwrap_or_else(|| s.scene.id.value.clone()),
            "pov": pov,
            "summary": s.scene.summary.clone().unwrap_or_default(),
            "text": &text[body.clone()],
            "before_cursor": &text[body.start.min(before_end)..before_end],
        },
        "selection": selection.as_ref().map(|r| &text[r.clone()]).unwrap_or(""),
        "question": question.unwrap_or(""),
        "judge": judge_vars(a),
    });
    if let Some(r) = selection {
        vars["selection_range"] = json!({ "start": r.start, "end": r.end });
    }
    vars
}

/// The run's variables when there is no scene (research from the command palette).
pub fn bare_vars(a: &Analysis, question: &str) -> Value {
    json!({
        "context": "",
        "scene": { "id": "", "title": "", "pov": "", "summary": "", "text": "", "before_cursor": "" },
        "selection": "",
        "question": question,
        "judge": judge_vars(a),
    })
}

/// What `judge` steps read: the project's thresholds and the topics that always go to a human.
fn judge_vars(a: &Analysis) -> Value {
    json!({
        "approve_above": a.config.judge.approve_above,
        "review_above": a.config.judge.review_above,
        "sensitive_topics": a.config.judge.sensitive_topics,
    })
}

/// The context the engine assembles for a scene, rendered for a prompt, and its token count.
pub fn scene_context(a: &Analysis, scene: usize, cursor: Option<usize>) -> (String, usize, usize) {
    let engine = ContextEngine::new(a);
    let ctx = engine.assemble(a, Request { scene, cursor, budget: None }, default_counter());
    (render_markdown(&ctx), ctx.used_tokens, ctx.budget)
}

/// Where an approved text goes in the scene: a byte range of the current text and what
/// replaces it. `mode` is the `apply_edit` step's: `replace_selection`,
/// `insert_after_selection`, or `append` (the default without a selection).
pub fn plan_edit(
    vars: &Value,
    mode: Option<&str>,
    current: &str,
    text: &str,
) -> Result<(Range<usize>, String), String> {
    let text = text.trim();
    let selection = vars["selection"].as_str().filter(|s| !s.is_empty());
    let range = vars["selection_range"]["start"]
        .as_u64()
        .zip(vars["selection_range"]["end"].as_u64())
        .map(|(s, e)| s as usize..e as usize);
    let mode = mode.unwrap_or(if selection.is_some() { "replace_selection" } else { "append" });
    let append = || {
        let kept = current.trim_end().len();
        let sep = if current[..kept].ends_with("---") || kept == 0 { "\n" } else { "\n\n" };
        (kept..current.len(), format!("{sep}{text}\n"))
    };
    let (Some(selected), Some(range)) = (selection, range) else { return Ok(append()) };
    if mode == "append" {
        return Ok(append());
    }
    // Find the selection again: the writer may have typed elsewhere since the run started.
    let found = if current.get(range.clone()) == Some(selected) {
        Some(range.start)
    } else {
        current.match_indices(selected).map(|(i, _)| i).min_by_key(|i| i.abs_diff(range.start))
    };
    let start = found.ok_or(
        "the selected passage has changed since the run started, so the text has nowhere to go; it is kept in the run record",
    )?;
    let end = start + selected.len();
    Ok(match mode {
        "insert_after_selection" => {
            let at_line_end = current[end..].starts_with(['\n', '\r']) || end == current.len();
            if at_line_end {
                (end..end, format!("\n\n{text}"))
            } else {
                (end..end, format!(" {text}"))
            }
        }
        _ => {
            // Keep the selection's own surrounding whitespace.
            let lead = &selected[..selected.len() - selected.trim_start().len()];
            let trail = &selected[selected.trim_end().len()..];
            (start..end, format!("{lead}{text}{trail}"))
        }
    })
}

/// The edge a run talks to: the terminal, or the editor.
pub trait Edge {
    /// The scene's current text: an open editor buffer, else the file.
    fn current_text(&mut self, root: &Path, path: &str) -> Result<String, String> {
        std::fs::read_to_string(root.join(path)).map_err(|e| format!("cannot read {path}: {e}"))
    }
    /// Shows an edit in the editor before it is recorded (the language server sends
    /// `workspace/applyEdit`, so the writer can undo it). An error stops the edit.
    fn show_edit(&mut self, _path: &str, _current: &str, _range: Range<usize>, _text: &str) -> Result<(), String> {
        Ok(())
    }
    /// A file of the project was written through the history (the editor reloads it).
    fn written(&mut self, _path: &str) {}
    /// A streamed piece of a step's answer.
    fn text(&mut self, _step: &str, _text: &str) {}
    /// The run was saved: its state, its steps or its gate may have changed.
    fn saved(&mut self, _run: &Run) {}
    fn cancelled(&self) -> bool {
        false
    }
}

/// The model on a real server: streaming, cancellable, with the daily budget checked first.
pub struct LiveModel {
    pub config: ProjectConfig,
    pub root: PathBuf,
    pub client: Client,
    pub handle: tokio::runtime::Handle,
    pub cancel: Cancel,
}

impl LiveModel {
    fn check_budget(&self, prompt: &str) -> Result<(), String> {
        let Some(limit) = self.config.daily_tokens else { return Ok(()) };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let midnight = now - now.rem_euclid(86_400_000);
        let used = Runs::open(&self.root).and_then(|r| r.tokens_since(midnight)).map_err(|e| e.to_string())?;
        let needs = TokenCounter::count(default_counter(), prompt) as u64;
        if used + needs > limit {
            return Err(format!(
                "the daily token budget ({limit}) would be exceeded: {used} used today (UTC), this call needs about {needs} for its prompt alone; raise `budget.daily_tokens` in showrunner.yaml, or wait until tomorrow"
            ));
        }
        Ok(())
    }
}

impl Model for LiveModel {
    fn generate(&self, call: &Call<'_>, on_text: &mut dyn FnMut(&str)) -> Result<Generated, String> {
        self.check_budget(call.prompt)?;
        let (ep, name) = endpoint(&self.config, call.model)?;
        let mut messages = Vec::new();
        if let Some(system) = call.system {
            messages.push(Message::system(system));
        }
        messages.push(Message::user(call.prompt));
        let req =
            ChatRequest { model: name, messages, json: call.json, temperature: call.temperature, ..Default::default() };
        // The client wants a `Send` callback; pieces cross a channel to `on_text`, which runs
        // on this thread as they arrive.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let result = self.handle.block_on(async {
            let mut forward = move |d: Delta| {
                if let Delta::Text(t) = d {
                    let _ = tx.send(t);
                }
            };
            let chat = self.client.chat(&ep, &req, &self.cancel, &mut forward);
            tokio::pin!(chat);
            loop {
                tokio::select! {
                    r = &mut chat => {
                        while let Ok(t) = rx.try_recv() {
                            on_text(&t);
                        }
                        break r;
                    }
                    Some(t) = rx.recv() => on_text(&t),
                }
            }
        });
        let c = result.map_err(|e| if self.cancel.is_cancelled() { "cancelled".to_string() } else { e.to_string() })?;
        let usage = c.usage.unwrap_or_default();
        Ok(Generated { text: c.text, prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens })
    }
}

/// Answers from a recorded run, in order, per step, streamed as they were recorded: no network.
pub struct ReplayModel {
    answers: Mutex<VecDeque<Exchange>>,
}

impl ReplayModel {
    pub fn new(recorded: &Run) -> ReplayModel {
        ReplayModel { answers: Mutex::new(recorded.exchanges.iter().cloned().collect()) }
    }
}

impl Model for ReplayModel {
    fn generate(&self, call: &Call<'_>, on_text: &mut dyn FnMut(&str)) -> Result<Generated, String> {
        let mut answers = self.answers.lock().map_err(|_| "the recording is unavailable".to_string())?;
        let i = answers
            .iter()
            .position(|e| e.step == call.step)
            .ok_or_else(|| format!("the recording has no answer for step `{}`", call.step))?;
        let e = answers.remove(i).expect("found");
        if e.chunks.is_empty() {
            on_text(&e.response);
        } else {
            e.chunks.iter().for_each(|c| on_text(c));
        }
        Ok(Generated { text: e.response, prompt_tokens: e.prompt_tokens, completion_tokens: e.completion_tokens })
    }
}

/// The effects of a run on a project: edits and buckets through the history write path, the run
/// saved after every step, models named by the cascade, agents' personas.
pub struct ProjectEffects<'a, E: Edge> {
    pub root: PathBuf,
    pub analysis: &'a Analysis,
    pub scene: Option<usize>,
    pub runs: Runs,
    pub agents: Vec<AgentDef>,
    pub edge: E,
}

impl<E: Edge> ProjectEffects<'_, E> {
    /// Applies `text` to the run's scene where `mode` says; returns the history event's id.
    pub fn edit_scene(&mut self, run: &Run, mode: Option<&str>, text: &str, key: &str) -> Result<String, String> {
        let path = run.scene.clone();
        if path.is_empty() {
            return Err("this run has no scene to edit".into());
        }
        let current = self.edge.current_text(&self.root, &path)?;
        let (range, insert) = plan_edit(&run.vars, mode, &current, text)?;
        self.edge.show_edit(&path, &current, range.clone(), &insert)?;
        let mut next = String::with_capacity(current.len() + insert.len());
        next.push_str(&current[..range.start]);
        next.push_str(&insert);
        next.push_str(&current[range.end..]);
        let mut h = History::open(&self.root).map_err(|e| e.to_string())?;
        // Hand edits first, so the expected version is the writer's latest.
        h.record(&path, "user").map_err(|e| e.to_string())?;
        let version = h.version(&path).map_err(|e| e.to_string())?;
        let actor = format!("pipeline:{}", run.id);
        let e = h
            .write(&Change {
                path: &path,
                content: Some(next.as_bytes()),
                expected_version: Some(version),
                actor: &actor,
                kind: "apply_edit",
                container: None,
                payload: json!({ "run": run.id, "pipeline": run.pipeline, "range": [range.start, range.end] }),
                id: Some(format!("{}-{key}", run.id)),
            })
            .map_err(|e| e.to_string())?;
        self.edge.written(&path);
        Ok(e.id)
    }

    /// Creates a bucket from fields (`kind` defaults to `research`; `name`, `summary`, `body`,
    /// `aliases`, `keywords`, `sources`), through the write path. Returns its id.
    pub fn create_bucket(&mut self, run: &Run, fields: &Value) -> Result<String, String> {
        let kind = fields["kind"].as_str().unwrap_or("research").to_string();
        let name = fields["name"].as_str().filter(|n| !n.trim().is_empty()).unwrap_or("Research notes").to_string();
        let list = |k: &str| -> Vec<String> {
            fields[k]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        let aliases = list("aliases");
        let new = showrunner_store::buckets::NewBucket { kind: &kind, name: &name, aliases: &aliases, parent: None };
        let a = self.analysis;
        let actor = format!("pipeline:{}", run.id);
        let (id, path) = showrunner_store::buckets::create_bucket(
            &self.root,
            &a.config.kinds,
            &new,
            &|id| a.by_id.contains_key(id),
            &actor,
        )?;
        // Fill in the rest through the write path again.
        let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let mut yaml = format!("id: {id}\nkind: {kind}\nname: {}\n", q(&name));
        if !aliases.is_empty() {
            yaml.push_str(&format!("aliases: {}\n", serde_json::to_string(&aliases).unwrap_or_default()));
        }
        for key in ["summary", "body"] {
            if let Some(s) = fields[key].as_str() {
                yaml.push_str(&format!("{key}: {}\n", q(s)));
            }
        }
        if kind == "research" || !list("keywords").is_empty() {
            yaml.push_str(&format!("keywords: {}\n", serde_json::to_string(&list("keywords")).unwrap_or_default()));
        }
        if kind == "research" || !list("sources").is_empty() {
            yaml.push_str(&format!("sources: {}\n", serde_json::to_string(&list("sources")).unwrap_or_default()));
        }
        let rel = relative(&self.root, &path);
        let mut h = History::open(&self.root).map_err(|e| e.to_string())?;
        let version = h.version(&rel).map_err(|e| e.to_string())?;
        h.write(&Change {
            path: &rel,
            content: Some(yaml.as_bytes()),
            expected_version: Some(version),
            actor: &actor,
            kind: "save_bucket",
            container: Some(&id),
            payload: json!({ "run": run.id }),
            id: None,
        })
        .map_err(|e| e.to_string())?;
        self.edge.written(&rel);
        Ok(id)
    }

    /// Replaces an existing bucket's file with new YAML, through the write path.
    pub fn update_bucket(&mut self, run: &Run, id: &str, yaml: &str) -> Result<String, String> {
        let b = self.analysis.bucket(id).ok_or_else(|| format!("no bucket `{id}`"))?;
        let path = self.analysis.files[b.file].path.clone();
        let parsed = showrunner_model::yaml::parse(yaml);
        if let Some(e) = parsed.errors.first() {
            return Err(format!("the proposed YAML does not parse: {}", e.message));
        }
        let mut h = History::open(&self.root).map_err(|e| e.to_string())?;
        h.record(&path, "user").map_err(|e| e.to_string())?;
        let version = h.version(&path).map_err(|e| e.to_string())?;
        let e = h
            .write(&Change {
                path: &path,
                content: Some(yaml.as_bytes()),
                expected_version: Some(version),
                actor: &format!("agent:{}", run.id),
                kind: "bucket.edit",
                container: Some(id),
                payload: json!({ "run": run.id }),
                id: None,
            })
            .map_err(|e| e.to_string())?;
        self.edge.written(&path);
        Ok(e.id)
    }

    fn agent(&self, id: Option<&str>) -> Option<&AgentDef> {
        id.and_then(|id| self.agents.iter().find(|a| a.id == id))
    }
}

impl<E: Edge> Effects for ProjectEffects<'_, E> {
    fn apply_edit(&mut self, run: &Run, step: &Step, text: &str) -> Result<String, String> {
        self.edit_scene(run, step.mode.as_deref(), text, &step.id)
    }

    fn save_bucket(&mut self, run: &Run, fields: &Value) -> Result<String, String> {
        self.create_bucket(run, fields)
    }

    fn save(&mut self, run: &Run) {
        let data = serde_json::to_value(run).unwrap_or_default();
        if let Err(e) =
            self.runs.save(&run.id, &run.pipeline, &run.scene, run.state.as_str(), run.error.as_deref(), &data)
        {
            eprintln!("showrunner: warning: run not saved: {e}");
        }
        self.edge.saved(run);
    }

    fn model_for(&mut self, step: &Step) -> String {
        let a = self.analysis;
        let models = self.scene.map(|s| scene_inputs(a, s)).unwrap_or_default();
        let (file, user) = showrunner_store::user::default_model();
        let agent = self.agent(step.agent.as_deref()).map(|d| (d.id.as_str(), d.model.as_deref()));
        let r = resolve(&Inputs {
            step: step.model.as_deref(),
            scene: models.scene,
            bucket: models.bucket,
            agent,
            project: a.config.default_model.as_deref(),
            user: Some((&file, user.as_deref())),
        });
        r.model.unwrap_or_else(|| "local/llama3.1".into())
    }

    fn unknown_names(&mut self, text: &str) -> Vec<String> {
        unknown_names(self.analysis, text)
    }

    fn persona(&mut self, step: &Step) -> Persona {
        match self.agent(step.agent.as_deref()) {
            Some(a) => Persona { system: Some(a.system.clone()), temperature: a.temperature },
            None => Persona::default(),
        }
    }

    fn cancelled(&mut self) -> bool {
        self.edge.cancelled()
    }

    fn on_text(&mut self, step: &str, text: &str) {
        self.edge.text(step, text);
    }
}

/// Capitalised names in `text` that no bucket knows (for `verify`).
pub fn unknown_names(a: &Analysis, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    capitalised_names(text, &[0..text.len()], &[], &mut found);
    let mut names: Vec<String> = found
        .into_iter()
        .map(|c| c.name)
        .filter(|n| {
            a.dictionary.lookup_cue(n).is_empty()
                && !a.dictionary.entries().iter().any(|e| e.alias.contains(n.as_str()))
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_replace_the_selection_even_after_the_text_moved() {
        let vars = json!({ "selection": "Zoë waited.", "selection_range": { "start": 4, "end": 16 } });
        let current = "---\nZoë waited. Łukasz came.\n";
        let (r, t) = plan_edit(&vars, None, current, "  Zoë waited, counting waves.\n").unwrap();
        assert_eq!(&current[r.clone()], "Zoë waited.");
        assert_eq!(t, "Zoë waited, counting waves.");
        // Text typed before the selection moves it; the passage is found again.
        let moved = "---\nNew line.\nZoë waited. Łukasz came.\n";
        let (r, _) = plan_edit(&vars, Some("replace_selection"), moved, "X").unwrap();
        assert_eq!(&moved[r], "Zoë waited.");
        // Gone: a clear error, not an edit in the wrong place.
        let err = plan_edit(&vars, None, "---\nSomething else.\n", "X").unwrap_err();
        assert!(err.contains("changed since the run started"), "{err}");
    }

    #[test]
    fn inserts_after_the_selection_and_appends_without_one() {
        let vars = json!({ "selection": "the lamp", "selection_range": { "start": 8, "end": 16 } });
        let current = "She lit the lamp and waited.\n";
        let (r, t) = plan_edit(&vars, Some("insert_after_selection"), current, "Brass, dented.").unwrap();
        assert_eq!(r, 16..16);
        assert_eq!(t, " Brass, dented.");
        let (r, t) = plan_edit(&json!({}), None, "---\nid: s\n---\nFirst.\n\n\n", "Second.").unwrap();
        assert_eq!(r, 20..23);
        assert_eq!(t, "\n\nSecond.\n");
        let (_, t) = plan_edit(&json!({}), None, "---\nid: s\n---\n", "First.").unwrap();
        assert_eq!(t, "\nFirst.\n");
    }
}

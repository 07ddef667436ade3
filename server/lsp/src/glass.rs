//! The glass box's commands (spec 3.2): pipelines, runs, gates, research and agents, plus the
//! run lenses on scenes, the decision lenses on review documents and the quick actions on a
//! selection. Translation only: the work happens in `showrunner-agents` and the engine, on the
//! threads [`crate::runs`] starts.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use showrunner_agents::dispatch;
use showrunner_agents::studio::{self, bare_vars, known_models, new_run_id, scene_vars};
use showrunner_context::render_markdown;
use showrunner_pipeline::{DecisionKind, Layer, Pipeline, Run, RunState};
use showrunner_store::runs::Runs;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::pos::to_offset;
use crate::protocol::{
    AgentAskArgs, AgentStarted, EditView, GateArgs, GateDiff, GateReasoning, GateRef, GateResolveArgs, GateResolved,
    ModelEntry, PipelineInfo, PipelineRunArgs, ResearchArgs, RunArgs, RunCancelled, RunStarted, RunSummary, UriArgs,
};
use crate::runs::{review_actions, review_lenses, status, Job, Refused};
use crate::state::{uri_path, FileSnap};
use crate::{internal, invalid, params, Backend};

pub const COMMANDS: &[&str] = &[
    "showrunner.pipeline.list",
    "showrunner.pipeline.run",
    "showrunner.run.list",
    "showrunner.run.status",
    "showrunner.run.cancel",
    "showrunner.gate.list",
    "showrunner.gate.resolve",
    "showrunner.gate.diff",
    "showrunner.research",
    "showrunner.agent.ask",
    "showrunner.models.list",
];

/// The quick actions offered on a selection in a scene.
const QUICK_ACTIONS: &[(&str, &str)] = &[
    ("Rewrite", "rewrite-selection"),
    ("Expand", "expand-selection"),
    ("Tighten", "tighten-selection"),
    ("Continue from here", "continue-scene"),
    ("Describe", "describe-selection"),
    ("Research this", "research-selection"),
];

/// The run lenses on line 0 of a scene.
const SCENE_LENSES: &[(&str, &str)] =
    &[("▶ Draft", "draft-scene"), ("▶ Continue", "continue-scene"), ("▶ Continuity check", "continuity-check")];

/// Run lenses for a scene, after its context lens.
pub fn scene_lenses(uri: &Uri) -> Vec<CodeLens> {
    SCENE_LENSES
        .iter()
        .map(|(title, pipeline)| CodeLens {
            range: Range::default(),
            command: Some(Command {
                title: title.to_string(),
                command: "showrunner.pipeline.run".into(),
                arguments: Some(vec![json!({ "pipeline": pipeline, "uri": uri })]),
            }),
            data: None,
        })
        .collect()
}

/// Quick actions for a non-empty selection in a scene's prose: none where the selection touches
/// the frontmatter (or a Fountain title page), which is metadata, not prose.
pub fn quick_actions(snap: &FileSnap, uri: &Uri, range: Range) -> Vec<CodeActionOrCommand> {
    let Some(scene) = snap.scene() else { return Vec::new() };
    if range.start == range.end || byte_range(snap, range).start < snap.analysis.scenes[scene].scene.body.start {
        return Vec::new();
    }
    QUICK_ACTIONS
        .iter()
        .map(|(title, pipeline)| {
            CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Showrunner: {title}"),
                kind: Some(CodeActionKind::REFACTOR_REWRITE),
                command: Some(Command {
                    title: title.to_string(),
                    command: "showrunner.pipeline.run".into(),
                    arguments: Some(vec![json!({ "pipeline": pipeline, "uri": uri, "range": range })]),
                }),
                ..Default::default()
            })
        })
        .collect()
}

/// The scene's byte range for an LSP range.
fn byte_range(snap: &FileSnap, r: Range) -> std::ops::Range<usize> {
    let a = to_offset(&snap.text, &snap.lines, r.start, snap.enc);
    let b = to_offset(&snap.text, &snap.lines, r.end, snap.enc);
    a.min(b)..a.max(b)
}

/// A result as the protocol sends it.
pub(crate) fn to_value<T: serde::Serialize>(v: T) -> Result<Option<Value>> {
    serde_json::to_value(v).map(Some).map_err(|e| internal(e.to_string()))
}

fn load_run(root: &Path, id: &str) -> Option<Run> {
    let runs = Runs::open(root).ok()?;
    serde_json::from_value(runs.load(id).ok()??).ok()
}

pub(crate) fn save_new(root: &Path, run: &Run) -> Result<()> {
    let runs = Runs::open(root).map_err(|e| internal(e.to_string()))?;
    runs.save(&run.id, &run.pipeline, &run.scene, "queued", None, &serde_json::to_value(run).unwrap_or_default())
        .map_err(|e| internal(e.to_string()))
}

impl Backend {
    /// The state to show for a run: what the run store says (`interrupted` for a run whose
    /// process ended), except for a run this server drives, which is live whatever its lease.
    pub(crate) fn shown_state(&self, run: &str, stored: &str) -> RunState {
        let state = serde_json::from_value(json!(stored)).unwrap_or(RunState::Interrupted);
        match state {
            RunState::Interrupted if self.runner.is_active(run) => RunState::Running,
            s => s,
        }
    }

    /// The gate `run` waits at, at `step`, with a clear error when it does not.
    fn waiting_gate(&self, run: &str, step: &str) -> Result<crate::runs::Pending> {
        self.runner
            .gate(run, step)
            .ok_or_else(|| invalid(format!("run `{run}` is not waiting at a gate `{step}` (see showrunner.gate.list)")))
    }

    /// Shows a file beside a review document (when the client shows documents); its URI.
    async fn show_beside(&self, path: &Path) -> Result<Uri> {
        let uri = crate::state::path_uri(path).ok_or_else(|| internal(format!("{} has no URI", path.display())))?;
        if self.session().caps.show_document {
            let params = ShowDocumentParams {
                uri: uri.clone(),
                external: Some(false),
                take_focus: Some(false),
                selection: None,
            };
            let _ = self.client.show_document(params).await;
        }
        Ok(uri)
    }

    /// Every loaded project root.
    pub(crate) fn roots(&self) -> Vec<PathBuf> {
        self.lock().projects.keys().cloned().collect()
    }

    /// Where a run lives: the server's own runs first, then every project's run store.
    fn run_root(&self, id: &str) -> Option<PathBuf> {
        self.runner.root_of(id).or_else(|| self.roots().into_iter().find(|r| load_run(r, id).is_some()))
    }

    /// A scene snapshot for a command (its project loaded first, when it is still loading), with
    /// a clear error when it is not one.
    async fn scene_snap(&self, uri: &Uri) -> Result<(FileSnap, usize)> {
        self.ready(uri).await;
        let snap = self
            .snapshot(uri)
            .ok_or_else(|| invalid(format!("{} is not a file of a Showrunner project", uri.as_str())))?;
        let scene = snap.scene().ok_or_else(|| invalid(format!("{} is not a scene", uri.as_str())))?;
        Ok((snap, scene))
    }

    /// For a command that may be about a scene: the scene (when `uri` is one), the project, and
    /// its analysis.
    #[allow(clippy::type_complexity)]
    async fn scene_or_project(
        &self,
        uri: Option<&Uri>,
    ) -> Result<(Option<(FileSnap, usize)>, PathBuf, std::sync::Arc<showrunner_model::analysis::Analysis>)> {
        let scene = match uri {
            Some(u) => self.scene_snap(u).await.ok(),
            None => None,
        };
        let root = match &scene {
            Some((s, _)) => s.root.clone(),
            None => self.project_for(None, uri).await?,
        };
        let analysis = self.analysis_of(&root)?;
        Ok((scene, root, analysis))
    }

    /// The rendered context of a scene (from the project's cached engine).
    fn rendered_context(&self, snap: &FileSnap, cursor: Option<Position>) -> String {
        self.recalling_context(snap, cursor, &[])
    }

    /// [`Self::rendered_context`] with past defect reports recalled into it (for a pipeline run).
    fn recalling_context(
        &self,
        snap: &FileSnap,
        cursor: Option<Position>,
        recalls: &[showrunner_context::Recall],
    ) -> String {
        let engine = self.lock().projects.get_mut(&snap.root).map(|p| p.engine());
        engine
            .and_then(|e| crate::commands::context_recalling(snap, &e, cursor, None, recalls))
            .map(|c| render_markdown(&c))
            .unwrap_or_default()
    }

    fn start_run(
        &self,
        root: PathBuf,
        analysis: std::sync::Arc<showrunner_model::analysis::Analysis>,
        job: Job,
        run: Run,
        replay: Option<Run>,
    ) -> Result<()> {
        save_new(&root, &run)?;
        self.runner.start(&self.session(), root, analysis, job, run, crate::runs::How { replay, ..Default::default() });
        Ok(())
    }

    pub(crate) async fn glass_command(&self, command: &str, args: &[Value]) -> Result<Option<Value>> {
        match command {
            "showrunner.pipeline.list" => {
                let a: UriArgs = params(args)?;
                let root = self.project_for(None, a.uri.as_ref()).await?;
                let (all, _) = studio::pipelines(&root);
                let list: Vec<PipelineInfo> = all
                    .into_iter()
                    .map(|p| PipelineInfo { id: p.id, title: p.title, description: p.description, layer: p.layer })
                    .collect();
                to_value(list)
            }
            "showrunner.pipeline.run" => {
                let a: PipelineRunArgs = params(args)?;
                let (snap, scene) = self.scene_snap(&a.uri).await?;
                let pipeline = studio::find_pipeline(&snap.root, &a.pipeline).map_err(invalid)?;
                let selection = a.range.map(|r| byte_range(&snap, r)).filter(|r| !r.is_empty());
                let cursor = a.range.map(|r| r.end);
                // Past defect reports of this scene or pipeline, from the project's memory (SQLite:
                // off the async threads).
                let recalls = {
                    let (root, analysis, id) = (snap.root.clone(), snap.analysis.clone(), pipeline.id.clone());
                    tokio::task::spawn_blocking(move || studio::recall(&root, &analysis, scene, &id))
                        .await
                        .unwrap_or_default()
                };
                let context = self.recalling_context(&snap, cursor, &recalls);
                let question = a.inputs["question"].as_str().map(str::to_string);
                let mut vars = scene_vars(&snap.analysis, scene, &context, question.as_deref(), selection);
                if let Value::Object(extra) = &a.inputs {
                    for (k, v) in extra {
                        if !matches!(k.as_str(), "context" | "scene" | "selection_range") {
                            vars[k] = v.clone();
                        }
                    }
                }
                let mut run = Run::new(&new_run_id(&pipeline.id), &pipeline, &snap.rel, vars);
                run.model_override = a.model.filter(|m| !m.trim().is_empty());
                let replay = match &a.replay {
                    Some(r) => {
                        let recorded =
                            load_run(&snap.root, r).ok_or_else(|| invalid(format!("no recorded run `{r}`")))?;
                        run.replay_of = Some(recorded.id.clone());
                        Some(recorded)
                    }
                    None => None,
                };
                let id = run.id.clone();
                self.start_run(snap.root.clone(), snap.analysis.clone(), Job::Pipeline(pipeline), run, replay)?;
                to_value(RunStarted { run: id })
            }
            "showrunner.run.list" => {
                let a: UriArgs = params(args)?;
                let roots = match &a.uri {
                    Some(u) => vec![self.project_for(None, Some(u)).await?],
                    None => self.roots(),
                };
                let mut rows = Vec::new();
                for root in roots {
                    if let Ok(list) = Runs::open(&root).and_then(|r| r.list()) {
                        rows.extend(list.into_iter().map(|r| {
                            let state = self.shown_state(&r.id, r.live_state());
                            (r.updated, RunSummary { run: r.id, pipeline: r.pipeline, state, scene: r.scene })
                        }));
                    }
                }
                rows.sort_by_key(|r| std::cmp::Reverse(r.0));
                to_value(rows.into_iter().map(|r| r.1).collect::<Vec<_>>())
            }
            "showrunner.run.status" => {
                let a: RunArgs = params(args)?;
                let root = self.run_root(&a.run).ok_or_else(|| invalid(format!("no run `{}`", a.run)))?;
                let run = load_run(&root, &a.run).ok_or_else(|| invalid(format!("no run `{}`", a.run)))?;
                let live = Runs::open(&root).ok().and_then(|r| r.live_state(&a.run).ok().flatten());
                let state = self.shown_state(&a.run, live.as_deref().unwrap_or(run.state.as_str()));
                let mut out = status(&run, state, self.runner.is_active(&a.run));
                // A gate this server is asking: where its review document is.
                if let Some(g) = self.runner.gates().into_iter().find(|g| g.run == a.run) {
                    out.gate = Some(GateRef { step: g.step, kind: g.kind, uri: Some(g.uri), model: Some(g.model) });
                }
                to_value(out)
            }
            "showrunner.run.cancel" => {
                let a: RunArgs = params(args)?;
                let root = self.run_root(&a.run).ok_or_else(|| invalid(format!("no run `{}`", a.run)))?;
                // A run another live process drives (a terminal's `showrunner run`) is theirs.
                let live = Runs::open(&root).ok().and_then(|r| r.live_state(&a.run).ok().flatten());
                let stored = load_run(&root, &a.run).map(|r| r.state);
                if !self.runner.is_active(&a.run)
                    && stored
                        .is_some_and(|s| !matches!(s, RunState::Succeeded | RunState::Failed | RunState::Cancelled))
                    && live.as_deref() != Some(RunState::Interrupted.as_str())
                {
                    return Err(invalid(format!(
                        "run `{}` is driven by another live process (a terminal's `showrunner run`, or another editor); cancel it there",
                        a.run
                    )));
                }
                let runner = self.runner.clone();
                let id = a.run.clone();
                let _ =
                    tokio::task::spawn_blocking(move || runner.cancel(&id, std::time::Duration::from_secs(2))).await;
                let mut run = load_run(&root, &a.run).ok_or_else(|| invalid(format!("no run `{}`", a.run)))?;
                if !run.is_finished() && !self.runner.is_active(&a.run) {
                    // Not driven by anyone (a run of another process that died): mark it.
                    run.state = showrunner_pipeline::RunState::Cancelled;
                    run.gate = None;
                    if let Ok(runs) = Runs::open(&root) {
                        let _ = runs.save(
                            &run.id,
                            &run.pipeline,
                            &run.scene,
                            "cancelled",
                            None,
                            &serde_json::to_value(&run).unwrap_or_default(),
                        );
                    }
                }
                to_value(RunCancelled { run: a.run, state: run.state })
            }
            "showrunner.gate.list" => to_value(self.runner.gates().iter().map(|g| g.view()).collect::<Vec<_>>()),
            "showrunner.gate.resolve" => {
                let a: GateResolveArgs = params(args)?;
                let g = self.waiting_gate(&a.run, &a.step)?;
                let kind = a.decision;
                // A model change without a model: the writer picks one first.
                let model = match (kind, a.model.clone().filter(|m| !m.trim().is_empty())) {
                    (DecisionKind::ChangeModel, None) => match self.pick_model(&g.root, &g.model).await {
                        Some(m) => Some(m),
                        None => return to_value(GateResolved { run: a.run, step: a.step, decision: None, open: true }),
                    },
                    (_, m) => m,
                };
                match g.resolve(&self.session(), kind, a.text.clone(), model) {
                    Ok(open) => to_value(GateResolved { run: a.run, step: a.step, decision: Some(kind), open }),
                    Err(Refused::Invalid(why)) => Err(invalid(why)),
                    Err(Refused::Stopped) => Err(internal("the run stopped before the decision arrived")),
                }
            }
            "showrunner.gate.reasoning" => {
                let a: GateArgs = params(args)?;
                let g = self.waiting_gate(&a.run, &a.step)?;
                let Some(reasoning) = g.reasoning.clone() else {
                    return Err(invalid(format!(
                        "the model gave no reasoning at the gate `{}` of run `{}`",
                        a.step, a.run
                    )));
                };
                let uri = self.show_beside(&g.path.with_extension("reasoning.md")).await?;
                to_value(GateReasoning { reasoning, uri })
            }
            "showrunner.gate.diff" => {
                let a: GateArgs = params(args)?;
                let g = self.waiting_gate(&a.run, &a.step)?;
                let (Some(plan), Some(path)) = (&g.edit, g.diff_path()) else {
                    return Err(invalid(format!("the gate `{}` of run `{}` does not precede an edit", a.step, a.run)));
                };
                let uri = self.show_beside(&path).await?;
                to_value(GateDiff { edit: EditView::of(&g.root, plan), diff_uri: uri })
            }
            "showrunner.research" => {
                let a: ResearchArgs = params(args)?;
                if a.question.trim().is_empty() {
                    return Err(invalid("`question` is empty"));
                }
                let (scene, root, analysis) = self.scene_or_project(a.uri.as_ref()).await?;
                let pipeline = studio::find_pipeline(&root, "research").map_err(invalid)?;
                let (vars, rel) = match &scene {
                    Some((snap, i)) => {
                        let context = self.rendered_context(snap, None);
                        (scene_vars(&snap.analysis, *i, &context, Some(&a.question), None), snap.rel.clone())
                    }
                    None => (bare_vars(&analysis, &a.question), String::new()),
                };
                let mut run = Run::new(&new_run_id("research"), &pipeline, &rel, vars);
                run.model_override = a.model.filter(|m| !m.trim().is_empty());
                let id = run.id.clone();
                self.start_run(root, analysis, Job::Pipeline(pipeline), run, None)?;
                to_value(RunStarted { run: id })
            }
            "showrunner.agent.ask" => {
                let a: AgentAskArgs = params(args)?;
                if a.text.trim().is_empty() {
                    return Err(invalid("`text` is empty"));
                }
                let (scene, root, analysis) = self.scene_or_project(a.uri.as_ref()).await?;
                let (agents, _) = showrunner_agents::defs::catalogue(Some(&root));
                let mut vars = match &scene {
                    Some((snap, i)) => {
                        let selection = a.range.map(|r| byte_range(snap, r)).filter(|r| !r.is_empty());
                        let context = self.rendered_context(snap, a.range.map(|r| r.end));
                        scene_vars(&snap.analysis, *i, &context, None, selection)
                    }
                    None => bare_vars(&analysis, ""),
                };
                vars["request"] = json!(a.text);
                // Keywords first; the intent call only when they do not decide (off the runtime:
                // it is a blocking model call).
                let route = match dispatch::by_keywords(&a.text, &agents) {
                    Some(r) => (r, None),
                    None => {
                        let session = self.session();
                        let (root2, analysis2, agents2, text) =
                            (root.clone(), analysis.clone(), agents.clone(), a.text.clone());
                        tokio::task::spawn_blocking(move || intent_route(&session, &root2, &analysis2, &agents2, &text))
                            .await
                            .map_err(|e| internal(e.to_string()))?
                    }
                };
                let (route, exchange) = route;
                let agent = agents
                    .iter()
                    .find(|d| d.id == route.agent)
                    .cloned()
                    .ok_or_else(|| internal("the chosen agent is gone"))?;
                let shell = Pipeline {
                    id: format!("agent:{}", agent.id),
                    title: agent.name.clone(),
                    description: agent.description.clone(),
                    layer: Layer::Custom,
                    steps: Vec::new(),
                    order: Vec::new(),
                };
                let rel = scene.as_ref().map(|(s, _)| s.rel.clone()).unwrap_or_default();
                let mut run = Run::new(&new_run_id(&format!("agent-{}", agent.id)), &shell, &rel, vars);
                run.vars["route"] = json!(route);
                run.model_override = a.model.clone().filter(|m| !m.trim().is_empty());
                run.exchanges.extend(exchange);
                let id = run.id.clone();
                self.start_run(root, analysis, Job::Agent(agent), run, None)?;
                to_value(AgentStarted { run: id, agent: route.agent, reason: route.reason, via: route.via.to_string() })
            }
            "showrunner.models.list" => {
                let a: UriArgs = params(args)?;
                let root = self.project_for(None, a.uri.as_ref()).await?;
                to_value(self.models(&root).await)
            }
            other => Err(invalid(format!("unknown command `{other}`"))),
        }
    }

    /// Every model a writer can pick: the ones the project names, then what each provider lists
    /// (`/v1/models`, best effort, two seconds at most).
    async fn models(&self, root: &Path) -> Vec<ModelEntry> {
        let config = self.lock().projects.get(root).map(|p| p.analysis.config.clone());
        let Some(config) = config else { return Vec::new() };
        let (agents, _) = showrunner_agents::defs::catalogue(Some(root));
        let mut out: Vec<String> = known_models(&config, &agents);
        let client = showrunner_llm::Client::new();
        for p in &config.providers {
            let Some(base_url) = p.base_url.clone() else { continue };
            let ep = showrunner_llm::Endpoint {
                provider: p.name.clone(),
                base_url,
                api_key_env: p.api_key_env.clone(),
                limits: showrunner_agents::studio::limits(p),
            };
            if let Ok(Ok(list)) = tokio::time::timeout(std::time::Duration::from_secs(2), client.models(&ep)).await {
                for m in list {
                    let full = format!("{}/{m}", p.name);
                    if !out.contains(&full) {
                        out.push(full);
                    }
                }
            }
        }
        out.into_iter()
            .map(|m| ModelEntry { provider: m.split('/').next().unwrap_or("").to_string(), model: m })
            .collect()
    }

    /// Asks the writer which model to use (`window/showMessageRequest`).
    async fn pick_model(&self, root: &Path, current: &str) -> Option<String> {
        let models: Vec<String> = self.models(root).await.into_iter().map(|m| m.model).collect();
        let actions: Vec<MessageActionItem> =
            models.iter().map(|m| MessageActionItem { title: m.clone(), properties: Default::default() }).collect();
        let chosen = self
            .client
            .show_message_request(
                MessageType::INFO,
                format!("Showrunner: which model? (now: {current})"),
                Some(actions),
            )
            .await
            .ok()
            .flatten()?;
        Some(chosen.title)
    }
}

/// The dispatcher's intent call, on the project's default model; recorded as an exchange.
fn intent_route(
    session: &crate::runs::Session,
    root: &Path,
    analysis: &showrunner_model::analysis::Analysis,
    agents: &[showrunner_agents::AgentDef],
    text: &str,
) -> (dispatch::Route, Option<showrunner_pipeline::Exchange>) {
    use showrunner_pipeline::{Call, Model};
    let model = showrunner_agents::studio::LiveModel {
        config: analysis.config.clone(),
        root: root.to_path_buf(),
        client: showrunner_llm::Client::new(),
        handle: session.handle.clone(),
        cancel: Default::default(),
    };
    // The intent call names no step or agent: the project's default, else the user's.
    let name = studio::Cascade::new(analysis, agents).resolve(None, None, None).model_or_fallback();
    let mut exchange = None;
    let route = dispatch::route(text, agents, &mut |prompt| {
        let call = Call { step: "dispatch", model: &name, system: None, prompt, json: false, temperature: Some(0.0) };
        let g = model.generate(&call, &mut |_| {})?;
        exchange = Some(showrunner_pipeline::Exchange::new("dispatch", &name, None, prompt, &g, Vec::new()));
        Ok(g.text)
    });
    (route, exchange)
}

/// Lenses for a document that is a gate's review document.
pub fn review_document_lenses(backend: &Backend, uri: &Uri) -> Option<Vec<CodeLens>> {
    let _ = uri_path(uri)?;
    backend.runner.gate_for_uri(uri).map(|g| review_lenses(&g))
}

/// Code actions for a document that is a gate's review document: its decisions.
pub fn review_document_actions(backend: &Backend, uri: &Uri) -> Option<Vec<CodeActionOrCommand>> {
    backend.runner.gate_for_uri(uri).map(|g| review_actions(&g))
}

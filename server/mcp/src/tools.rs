//! The MCP tools: each one's name, description and input schema, and its call — arguments
//! checked (types, sizes, unknown keys, ids that are not slugs, paths that would leave the
//! project) and translated into one call of the domain (`agents::bible`, `agents::proposal`,
//! `store::search`, the context engine, the run store). Nothing here decides anything a
//! command, the language server or an agent's tool would decide differently.

use serde_json::{json, Map, Value};
use showrunner_agents::{bible, proposal, studio};
use showrunner_context::tokens::default_counter;
use showrunner_context::{render_markdown, ContextEngine, Request};
use showrunner_pipeline::Run;
use showrunner_store::runs::Runs;
use showrunner_store::search::{day_ms, Query};

use crate::projects::Projects;

/// The longest text an argument may carry (a scene's worth of prose).
pub const MAX_TEXT: usize = 1 << 20;
/// The longest id, name or query.
const MAX_SHORT: usize = 2_000;
const MAX_LIMIT: u64 = 200;

/// Why a call was refused.
pub enum Refusal {
    /// The arguments are not what the tool takes (a protocol error, `-32602`).
    Arguments(String),
    /// The tool ran and could not do it (a tool result with `isError`).
    Failed(String),
}

impl From<showrunner_pipeline::RunError> for Refusal {
    fn from(e: showrunner_pipeline::RunError) -> Refusal {
        Refusal::Failed(e.to_string())
    }
}

type Outcome = Result<Value, Refusal>;

pub struct ToolDef {
    pub name: &'static str,
    pub description: &'static str,
    /// `(name, JSON Schema, description)` of each argument.
    pub args: &'static [(&'static str, &'static str, &'static str)],
    pub required: &'static [&'static str],
    /// Changes nothing (proposals change nothing either until a human approves them, but they
    /// add to the approval queue).
    pub read_only: bool,
}

const PROJECT: (&str, &str, &str) =
    ("project", "string", "The project (see list_projects); needed only when the server has several");

/// Every tool, in the order `tools/list` gives them.
pub const TOOLS: &[ToolDef] = &[
    ToolDef {
        name: "list_projects",
        description: "The story projects this server serves: name, folder name, buckets and scenes.",
        args: &[],
        required: &[],
        read_only: true,
    },
    ToolDef {
        name: "search",
        description: "Search the story (scenes, buckets, research) and the project's memory (every run's prompts, answers, reasoning, judge/verify verdicts, defect reports, gate decisions, history events). Every word must match (\"quoted words\" as a phrase); best first (BM25), with snippets.",
        args: &[
            ("query", "string", "Words to find"),
            ("in", "string", "story, runs or all (default all)"),
            ("kinds", "string[]", "Only these kinds: a bucket kind, scene, request, proposal, prompt, answer, reasoning, verdict, defect, gate, decision, error, event"),
            ("pipeline", "string", "Runs of this pipeline only"),
            ("model", "string", "Runs with this model only (provider/model or the model's name)"),
            ("since", "string", "Said on or after this day (YYYY-MM-DD, UTC)"),
            ("until", "string", "Said on or before this day (YYYY-MM-DD, UTC)"),
            ("timeline", "string", "History events of this timeline only"),
            ("limit", "integer", "At most this many hits (default 20, at most 200)"),
            PROJECT,
        ],
        required: &["query"],
        read_only: true,
    },
    ToolDef {
        name: "read_bucket",
        description: "A bucket (character, place, item, research, chapter…) as the story knows it at a position, progressions applied: readable Markdown, and the file's YAML.",
        args: &[
            ("id", "string", "The bucket's id"),
            ("at", "string", "A story position: timeline:number (main:12) or a scene's id; default: before any progression"),
            PROJECT,
        ],
        required: &["id"],
        read_only: true,
    },
    ToolDef {
        name: "read_scene",
        description: "A scene: its text, title, point of view, words, timeline position and the buckets it mentions.",
        args: &[("scene", "string", "The scene's id or its path in the project"), PROJECT],
        required: &["scene"],
        read_only: true,
    },
    ToolDef {
        name: "mentions",
        description: "Where an entity (a bucket) is mentioned: every scene, with counts, lines and the names used.",
        args: &[("id", "string", "The bucket's id"), PROJECT],
        required: &["id"],
        read_only: true,
    },
    ToolDef {
        name: "scene_context",
        description: "The context Showrunner's engine assembles for a scene, as a prompt would get it: every item with the reason it was chosen and its tokens, the dropped candidates with why, the budget, and the rendered Markdown.",
        args: &[
            ("scene", "string", "The scene's id or path"),
            ("budget", "integer", "Token budget (default: the project's context.budget_tokens)"),
            PROJECT,
        ],
        required: &["scene"],
        read_only: true,
    },
    ToolDef {
        name: "resolve_model",
        description: "Which model a step would call and why: the cascade (step > scene > bucket > agent > project > user) with every level.",
        args: &[
            ("scene", "string", "The scene's id or path"),
            ("pipeline", "string", "A pipeline's id (see list_pipelines)"),
            ("step", "string", "A step of that pipeline (default: its first model step)"),
            ("agent", "string", "An agent's id"),
            PROJECT,
        ],
        required: &[],
        read_only: true,
    },
    ToolDef {
        name: "list_pipelines",
        description: "The pipelines a writer can run (quick actions, built-in templates, the project's workflows) with their steps.",
        args: &[PROJECT],
        required: &[],
        read_only: true,
    },
    ToolDef {
        name: "list_runs",
        description: "Runs of pipelines, agents and proposals, newest first: id, pipeline, scene, state.",
        args: &[
            ("state", "string", "Only runs in this state (queued, running, waiting, succeeded, failed, cancelled, interrupted)"),
            ("pipeline", "string", "Only runs of this pipeline"),
            ("limit", "integer", "At most this many (default 50, at most 200)"),
            PROJECT,
        ],
        required: &[],
        read_only: true,
    },
    ToolDef {
        name: "run_status",
        description: "One run: its state, steps, the gate it waits at, its answer or error. How a proposal ended: approved and applied, rejected, skipped.",
        args: &[("run", "string", "The run's id"), PROJECT],
        required: &["run"],
        read_only: true,
    },
    ToolDef {
        name: "list_gates",
        description: "The approval queue: every run waiting for a human, with the gate's kind, what is under review and its review document.",
        args: &[PROJECT],
        required: &[],
        read_only: true,
    },
    ToolDef {
        name: "propose_edit",
        description: "Propose a change to a scene. Nothing is written: the proposal waits as a gate in the writer's approval queue (their editor shows it, with the diff), and only their approval applies it. `find` names the passage to replace (mode replace, the default with find) or to insert after (insert_after); without it the text is appended to the scene. The result says where it waits; run_status tells how it ended.",
        args: &[
            ("scene", "string", "The scene's id or path"),
            ("text", "string", "The new text"),
            ("find", "string", "The passage it replaces or follows, exactly as in the scene; it must occur once"),
            ("mode", "string", "replace, insert_after, append_body or replace_body"),
            ("why", "string", "Why, for the writer"),
            PROJECT,
        ],
        required: &["scene", "text"],
        read_only: false,
    },
    ToolDef {
        name: "propose_bucket",
        description: "Propose a new bucket (kind, name, summary, body, aliases, keywords, sources) or a whole new YAML for an existing one (id, yaml). Nothing is written: it waits as a gate in the writer's approval queue until they approve it.",
        args: &[
            ("id", "string", "An existing bucket to replace (with yaml)"),
            ("yaml", "string", "The whole new YAML of that bucket"),
            ("kind", "string", "A new bucket's kind (default research)"),
            ("name", "string", "A new bucket's name"),
            ("summary", "string", "One or two sentences"),
            ("body", "string", "Free text"),
            ("aliases", "string[]", "Other names"),
            ("keywords", "string[]", "Words that bring it into a scene's context"),
            ("sources", "string[]", "Where a research finding comes from"),
            ("why", "string", "Why, for the writer"),
            PROJECT,
        ],
        required: &[],
        read_only: false,
    },
];

/// A tool's input schema, from its table row.
pub fn schema(t: &ToolDef) -> Map<String, Value> {
    let mut props = Map::new();
    for (name, ty, description) in t.args {
        let s = match *ty {
            "string[]" => json!({ "type": "array", "items": { "type": "string" }, "description": description }),
            ty => json!({ "type": ty, "description": description }),
        };
        props.insert((*name).to_string(), s);
    }
    let mut m = Map::new();
    m.insert("type".into(), json!("object"));
    m.insert("properties".into(), Value::Object(props));
    m.insert("required".into(), json!(t.required));
    m.insert("additionalProperties".into(), json!(false));
    m
}

/// A tool's arguments, checked against its table row as they are read.
struct Args<'a> {
    tool: &'static ToolDef,
    map: &'a Map<String, Value>,
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a> Args<'a> {
    fn new(tool: &'static ToolDef, map: &'a Map<String, Value>) -> Result<Args<'a>, Refusal> {
        for key in map.keys() {
            if !tool.args.iter().any(|(n, _, _)| n == key) {
                let known: Vec<&str> = tool.args.iter().map(|(n, _, _)| *n).collect();
                let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
                return Err(Refusal::Arguments(format!(
                    "`{}` takes no argument `{}`; it takes: {known}",
                    tool.name,
                    clip(key)
                )));
            }
        }
        for key in tool.required {
            if map.get(*key).is_none_or(Value::is_null) {
                return Err(Refusal::Arguments(format!("`{}` needs `{key}`", tool.name)));
            }
        }
        Ok(Args { tool, map })
    }

    fn bad(&self, message: String) -> Refusal {
        Refusal::Arguments(format!("`{}`: {message}", self.tool.name))
    }

    /// A string argument; `max` bytes at most.
    fn text(&self, key: &str, max: usize) -> Result<Option<&'a str>, Refusal> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.len() > max => {
                Err(self.bad(format!("`{key}` is {} bytes long; at most {max} are taken", s.len())))
            }
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(self.bad(format!("`{key}` should be a string, not {}", kind_of(other)))),
        }
    }

    fn short(&self, key: &str) -> Result<Option<&'a str>, Refusal> {
        self.text(key, MAX_SHORT)
    }

    fn required(&self, key: &str) -> Result<&'a str, Refusal> {
        self.short(key)?.ok_or_else(|| self.bad(format!("needs `{key}`")))
    }

    /// An id: a slug, never a path.
    fn id(&self, key: &str) -> Result<Option<&'a str>, Refusal> {
        let Some(id) = self.short(key)? else { return Ok(None) };
        if !showrunner_model::id::is_valid_id(id.trim()) {
            return Err(
                self.bad(format!("`{}` is not an id: ids are slugs (letters, digits, - and _), never paths", clip(id)))
            );
        }
        Ok(Some(id.trim()))
    }

    /// A scene: an id, or a path inside the project.
    fn scene(&self, key: &str) -> Result<Option<&'a str>, Refusal> {
        let Some(s) = self.short(key)? else { return Ok(None) };
        let p = std::path::Path::new(s.trim());
        let leaves = p.is_absolute()
            || p.components().any(|c| !matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir));
        if leaves || s.contains('\0') {
            return Err(self.bad(format!(
                "`{}` is outside the project: a scene is named by its id or its path inside the project",
                clip(s)
            )));
        }
        Ok(Some(s.trim()))
    }

    fn number(&self, key: &str, max: u64) -> Result<Option<u64>, Refusal> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if v <= max => Ok(Some(v)),
                _ => Err(self.bad(format!("`{key}` should be a whole number from 0 to {max}, not {n}"))),
            },
            Some(other) => Err(self.bad(format!("`{key}` should be a whole number, not {}", kind_of(other)))),
        }
    }

    fn strings(&self, key: &str) -> Result<Vec<String>, Refusal> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) if items.len() > 1_000 => {
                Err(self.bad(format!("`{key}` has {} items; at most 1000 are taken", items.len())))
            }
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) if s.len() <= MAX_SHORT => Ok(s.clone()),
                    Value::String(s) => Err(self.bad(format!("an item of `{key}` is {} bytes long", s.len()))),
                    other => Err(self.bad(format!("`{key}` should hold strings, not {}", kind_of(other)))),
                })
                .collect(),
            Some(other) => Err(self.bad(format!("`{key}` should be an array of strings, not {}", kind_of(other)))),
        }
    }
}

/// A key or value shown in a message: never more than 80 characters of it.
fn clip(s: &str) -> String {
    if s.chars().count() <= 80 {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(80).collect::<String>())
    }
}

fn failed(e: impl std::fmt::Display) -> Refusal {
    Refusal::Failed(e.to_string())
}

fn to_json(v: impl serde::Serialize) -> Outcome {
    serde_json::to_value(v).map_err(failed)
}

/// Calls tool `name` with `arguments`; `client` names the MCP client (for proposals).
pub fn call(projects: &Projects, name: &str, arguments: Option<&Map<String, Value>>, client: &str) -> Outcome {
    let Some(tool) = TOOLS.iter().find(|t| t.name == name) else {
        let names: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
        return Err(Refusal::Arguments(format!("no tool `{}`; tools: {}", clip(name), names.join(", "))));
    };
    let empty = Map::new();
    let args = Args::new(tool, arguments.unwrap_or(&empty))?;
    let project = args.short("project")?;
    if name == "list_projects" {
        return list_projects(projects);
    }
    // Checked before the project is read: bad input costs nothing.
    let prepared = prepare(&args)?;
    let (root, p) = projects.load(project).map_err(Refusal::Arguments)?;
    let a = &p.analysis;
    match prepared {
        Call::Search(q) => {
            let hits = bible::search_hashed(&root, a, &p.hashes, &q)?;
            Ok(json!({ "count": hits.len(), "hits": hits }))
        }
        Call::ReadBucket { id, at } => to_json(bible::read_bucket(a, id, at)?),
        Call::ReadScene(scene) => to_json(bible::read_scene(a, scene)?),
        Call::Mentions(id) => {
            let found = bible::mentions(a, id)?;
            Ok(json!({ "bucket": id, "scenes": found.len(), "mentions": found }))
        }
        Call::Context { scene, budget } => {
            let i = bible::scene_index(a, scene)?;
            // With the scene's past defect reports, as its next run gets them.
            let recalls = studio::recall(&root, a, i, "");
            let ctx = ContextEngine::new(a).assemble_recalling(
                a,
                Request { scene: i, cursor: None, budget },
                default_counter(),
                &recalls,
            );
            let mut v = to_json(&ctx)?;
            v["markdown"] = json!(render_markdown(&ctx));
            Ok(v)
        }
        Call::Resolve { scene, pipeline, step, agent } => {
            to_json(bible::resolve_model(&root, a, scene, pipeline, step, agent)?)
        }
        Call::Pipelines => {
            let (all, broken) = studio::pipelines(&root);
            let list: Vec<Value> = all
                .iter()
                .map(|p| {
                    json!({
                        "id": p.id, "title": p.title, "description": p.description, "layer": p.layer,
                        "needs_selection": p.needs_selection(),
                        "steps": p.steps.iter().map(|s| json!({ "id": s.id, "type": s.kind })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let problems: Vec<Value> = broken
                .iter()
                .map(|(path, errs)| json!({ "path": path, "errors": errs.iter().map(|e| format!("line {}: {}", e.line, e.message)).collect::<Vec<_>>() }))
                .collect();
            Ok(json!({ "pipelines": list, "broken": problems }))
        }
        Call::Runs { state, pipeline, limit } => {
            let Some(runs) = open_runs(&root)? else { return Ok(json!({ "runs": [] })) };
            let rows: Vec<Value> = runs
                .list()
                .map_err(failed)?
                .into_iter()
                .filter(|r| state.is_none_or(|s| r.live_state() == s))
                .filter(|r| pipeline.is_none_or(|p| r.pipeline == p))
                .take(limit)
                .map(|r| json!({ "run": r.id, "pipeline": r.pipeline, "scene": r.scene, "state": r.live_state(), "updated": r.updated }))
                .collect();
            Ok(json!({ "runs": rows }))
        }
        Call::Status(id) => {
            let runs = open_runs(&root)?
                .ok_or_else(|| Refusal::Failed(format!("no run `{id}`: the project has no runs yet")))?;
            let data =
                runs.load(id).map_err(failed)?.ok_or_else(|| Refusal::Failed(format!("no run `{}`", clip(id))))?;
            let run: Run = serde_json::from_value(data).map_err(failed)?;
            let state = runs.live_state(id).map_err(failed)?.unwrap_or_else(|| run.state.as_str().to_string());
            Ok(json!({
                "run": run.id, "pipeline": run.pipeline, "scene": run.scene, "state": state,
                "steps": run.steps.iter().map(|s| json!({ "id": s.id, "type": s.kind, "state": s.state, "model": s.model })).collect::<Vec<_>>(),
                "gate": run.gate.as_ref().map(|g| json!({ "step": g.step, "kind": g.kind, "label": g.kind.label() })),
                "answer": run.vars.get("answer"),
                "error": run.error,
            }))
        }
        Call::Gates => {
            let Some(runs) = open_runs(&root)? else { return Ok(json!({ "gates": [] })) };
            let mut out = Vec::new();
            for r in runs.list().map_err(failed)?.into_iter().filter(|r| r.live_state() == "waiting") {
                let Some(data) = runs.load(&r.id).map_err(failed)? else { continue };
                let Ok(run) = serde_json::from_value::<Run>(data) else { continue };
                let Some(g) = run.gate else { continue };
                let review = studio::review_path(&root, &run.id, &g.step);
                let shown: String = g.text.chars().take(2_000).collect();
                out.push(json!({
                    "run": run.id, "pipeline": run.pipeline, "scene": run.scene, "step": g.step,
                    "kind": g.kind, "label": g.kind.label(), "text": shown,
                    "edit": g.edit.as_ref().map(|p| p.description.clone()),
                    "note": g.note,
                    "review": showrunner_store::discover::relative(&root, &review),
                }));
            }
            Ok(json!({ "gates": out }))
        }
        Call::Propose(p) => {
            let p = proposal::Proposal { from: client.to_string(), ..p };
            let parked = proposal::park(&root, a, &p)?;
            let mut v = to_json(&parked)?;
            v["message"] = json!(format!(
                "Nothing is written yet: run {} waits at a gate in the writer's approval queue ({}: their editor shows it as a review document, {}; `showrunner resume {}` asks in a terminal). Ask run_status later to see how it ended.",
                parked.run,
                projects.name_of(&root),
                parked.review,
                parked.run
            ));
            Ok(v)
        }
    }
}

/// A call with its arguments checked.
enum Call<'a> {
    Search(Query),
    ReadBucket { id: &'a str, at: Option<&'a str> },
    ReadScene(&'a str),
    Mentions(&'a str),
    Context { scene: &'a str, budget: Option<usize> },
    Resolve { scene: Option<&'a str>, pipeline: Option<&'a str>, step: Option<&'a str>, agent: Option<&'a str> },
    Pipelines,
    Runs { state: Option<&'a str>, pipeline: Option<&'a str>, limit: usize },
    Status(&'a str),
    Gates,
    Propose(proposal::Proposal),
}

fn prepare<'a>(args: &Args<'a>) -> Result<Call<'a>, Refusal> {
    let day = |key: &str, end: bool| -> Result<Option<i64>, Refusal> {
        match args.short(key)? {
            None => Ok(None),
            Some(d) => day_ms(d, end)
                .map(Some)
                .ok_or_else(|| args.bad(format!("`{key}` should be a day, YYYY-MM-DD, not `{}`", clip(d)))),
        }
    };
    Ok(match args.tool.name {
        "search" => {
            let scope = match args.short("in")? {
                None => Default::default(),
                Some(s) => s.parse().map_err(|e: String| args.bad(e))?,
            };
            Call::Search(Query {
                text: args.required("query")?.to_string(),
                scope,
                kinds: args.strings("kinds")?,
                pipeline: args.short("pipeline")?.map(str::to_string),
                model: args.short("model")?.map(str::to_string),
                scene: None,
                since: day("since", false)?,
                until: day("until", true)?,
                timeline: args.short("timeline")?.map(str::to_string),
                limit: args.number("limit", MAX_LIMIT)?.unwrap_or(20) as usize,
            })
        }
        "read_bucket" => Call::ReadBucket { id: args.id("id")?.unwrap_or_default(), at: args.short("at")? },
        "read_scene" => Call::ReadScene(args.scene("scene")?.unwrap_or_default()),
        "mentions" => Call::Mentions(args.id("id")?.unwrap_or_default()),
        "scene_context" => Call::Context {
            scene: args.scene("scene")?.unwrap_or_default(),
            budget: args.number("budget", 10_000_000)?.map(|b| b as usize),
        },
        "resolve_model" => Call::Resolve {
            scene: args.scene("scene")?,
            pipeline: args.id("pipeline")?,
            step: args.short("step")?,
            agent: args.id("agent")?,
        },
        "list_pipelines" => Call::Pipelines,
        "list_runs" => Call::Runs {
            state: args.short("state")?,
            pipeline: args.short("pipeline")?,
            limit: args.number("limit", MAX_LIMIT)?.unwrap_or(50) as usize,
        },
        "run_status" => Call::Status(args.required("run")?),
        "list_gates" => Call::Gates,
        "propose_edit" => {
            let text = args.text("text", MAX_TEXT)?.unwrap_or_default();
            if text.trim().is_empty() {
                return Err(args.bad("`text` is empty: propose the new text".into()));
            }
            let mode = args.short("mode")?;
            if let Some(m) = mode {
                m.parse::<showrunner_pipeline::EditMode>().map_err(|e| args.bad(e))?;
            }
            let find = args.text("find", MAX_TEXT)?;
            let mode = mode.or(find.map(|_| "replace"));
            Call::Propose(proposal::Proposal {
                kind: "edit".into(),
                scene: args.scene("scene")?.map(str::to_string),
                find: find.map(str::to_string),
                args: json!({ "text": text, "mode": mode }),
                from: String::new(),
                why: args.text("why", MAX_SHORT)?.map(str::to_string),
            })
        }
        "propose_bucket" => {
            let id = args.id("id")?;
            let yaml = args.text("yaml", MAX_TEXT)?;
            let mut fields = Map::new();
            if let Some(id) = id {
                fields.insert("id".into(), json!(id));
                let yaml = yaml.ok_or_else(|| args.bad("replacing bucket `id` needs its whole new `yaml`".into()))?;
                fields.insert("yaml".into(), json!(yaml));
            } else {
                if yaml.is_some() {
                    return Err(args.bad("`yaml` replaces an existing bucket: name it with `id`".into()));
                }
                let name = args.short("name")?.filter(|n| !n.trim().is_empty());
                let name = name.ok_or_else(|| args.bad("a new bucket needs `name`".into()))?;
                fields.insert("name".into(), json!(name));
                let kind = args.id("kind")?.unwrap_or("research");
                fields.insert("kind".into(), json!(kind));
                for key in ["summary", "body"] {
                    if let Some(v) = args.text(key, MAX_TEXT)? {
                        fields.insert(key.into(), json!(v));
                    }
                }
                for key in ["aliases", "keywords", "sources"] {
                    let list = args.strings(key)?;
                    if !list.is_empty() {
                        fields.insert(key.into(), json!(list));
                    }
                }
            }
            Call::Propose(proposal::Proposal {
                kind: "bucket".into(),
                scene: None,
                find: None,
                args: Value::Object(fields),
                from: String::new(),
                why: args.text("why", MAX_SHORT)?.map(str::to_string),
            })
        }
        other => return Err(Refusal::Failed(format!("`{other}` has no call"))),
    })
}

fn open_runs(root: &std::path::Path) -> Result<Option<Runs>, Refusal> {
    // Reading never creates a run store.
    if !Runs::path(root).exists() {
        return Ok(None);
    }
    Runs::open(root).map(Some).map_err(failed)
}

fn list_projects(projects: &Projects) -> Outcome {
    let list: Vec<Value> = projects
        .list
        .iter()
        .map(|(name, root)| {
            let p = projects.project(root);
            json!({
                "project": name,
                "name": p.analysis.config.name,
                "buckets": p.analysis.buckets.len(),
                "scenes": p.analysis.scenes.len(),
            })
        })
        .collect();
    Ok(json!({ "projects": list }))
}

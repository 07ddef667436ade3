//! Showrunner's own protocol beyond LSP, as types: every `workspace/executeCommand` command, its
//! arguments and its result, and the `showrunner/runProgress` notification. The handlers take
//! and return these types; [`schema`] describes them all as one JSON Schema, from which the
//! editor extensions' copies are generated ([`typescript`], checked in as
//! `extensions/vscode/src/generated/protocol.ts` and `extensions/protocol.schema.json`) and
//! `extensions/PROTOCOL.md`'s table of commands is checked. A test fails when a checked-in copy
//! differs from a fresh generation (`SHOWRUNNER_BLESS=1 cargo test -p showrunner-lsp protocol`
//! writes them).

use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use showrunner_context::cascade::Resolution;
use showrunner_context::goals::Goals;
use showrunner_context::graph::Graph;
use showrunner_context::stats::Stats;
use showrunner_context::Context;
use showrunner_pipeline::{DecisionKind, EditMode, EditPlan, GateKind, Layer, RunState, StepKind, StepState};
use showrunner_store::history::{Event, Timeline};
use showrunner_store::search::{Hit, Scope};
use tower_lsp_server::ls_types::{Position, Range, Uri};

/// An LSP position (0-based line and character, in the negotiated encoding), for the schema.
#[derive(JsonSchema)]
#[schemars(rename = "Position")]
#[allow(dead_code)]
struct PositionSchema {
    line: u32,
    character: u32,
}

/// An LSP range, for the schema.
#[derive(JsonSchema)]
#[schemars(rename = "Range")]
#[allow(dead_code)]
struct RangeSchema {
    start: PositionSchema,
    end: PositionSchema,
}

// ---- arguments -----------------------------------------------------------------------------

/// A document, when the command is about one (else every loaded project).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct UriArgs {
    #[schemars(with = "Option<String>")]
    pub uri: Option<Uri>,
}

/// `showrunner.search`: the story (scenes, buckets, research) and the project's memory (every
/// run's prompts, answers, reasoning, verdicts, defects, decisions; history events).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct SearchArgs {
    /// Words to find; every word must match, `"quoted words"` as a phrase.
    pub query: String,
    /// `story`, `runs` or `all` (the default).
    #[serde(default, rename = "in")]
    pub scope: Option<Scope>,
    /// A document of the project to search (else `project`, else the first loaded project).
    #[schemars(with = "Option<String>")]
    pub uri: Option<Uri>,
    /// A project folder (path or URI), when there is no `uri`.
    pub project: Option<String>,
    /// Only these kinds: a bucket kind, `scene`, `request`, `proposal`, `prompt`, `answer`, `reasoning`,
    /// `verdict`, `defect`, `gate`, `decision`, `error`, `event`.
    #[serde(default)]
    pub kinds: Vec<String>,
    pub pipeline: Option<String>,
    pub model: Option<String>,
    /// A day, `YYYY-MM-DD` (UTC): said on or after it.
    pub since: Option<String>,
    /// A day, `YYYY-MM-DD` (UTC): said on or before it.
    pub until: Option<String>,
    /// History events of this timeline only.
    pub timeline: Option<String>,
    /// At most this many hits (default 20).
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ContextArgs {
    #[schemars(with = "String")]
    pub uri: Uri,
    /// The cursor: context is assembled for the scene as it stands there.
    #[schemars(with = "Option<PositionSchema>")]
    pub position: Option<Position>,
    /// A token budget other than the project's `context.budget_tokens`.
    pub budget: Option<usize>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct ModelsArgs {
    #[schemars(with = "Option<String>")]
    pub uri: Option<Uri>,
    pub pipeline: Option<String>,
    /// A step's own `model:` (`provider/model`).
    pub step: Option<String>,
    pub agent: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BucketCreateArgs {
    /// A project folder (path or URI); the first loaded project when absent.
    pub project: Option<String>,
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub parent: Option<String>,
}

/// Which project, file or bucket a history or timeline command is about.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct HistoryArgs {
    pub project: Option<String>,
    #[schemars(with = "Option<String>")]
    pub uri: Option<Uri>,
    pub bucket: Option<String>,
    /// The timeline (`timeline.create`, `timeline.switch`).
    pub name: Option<String>,
    /// The event a new timeline forks from (default: the current head).
    pub from_event: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PipelineRunArgs {
    pub pipeline: String,
    #[schemars(with = "String")]
    pub uri: Uri,
    /// The selection (or the cursor, when empty).
    #[schemars(with = "Option<RangeSchema>")]
    pub range: Option<Range>,
    /// More template variables (`question`, …).
    #[serde(default)]
    pub inputs: Value,
    /// `provider/model` for every model step, above the cascade.
    pub model: Option<String>,
    /// A recorded run whose answers replay instead of a model server.
    pub replay: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunArgs {
    pub run: String,
}

/// `showrunner.batch.run`: one run of a pipeline per scene of the targets, queued in the
/// project's run store and worked by this server (gates in the approval queue).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BatchRunArgs {
    pub pipeline: String,
    /// Scenes (ids or files), folders, or parts of the story (`ch03`, `season-1`, `.`).
    pub targets: Vec<String>,
    /// Only scenes for which this holds: `words == 0`, `pov == alice`, `path ^= story/ch03/`.
    #[serde(rename = "where", default)]
    pub filter: Option<String>,
    /// Runs at once (default: `batch: { concurrency }`, else 2).
    #[serde(default)]
    pub jobs: Option<usize>,
    /// Judge every answer first, so `showrunner.batch.approve` can approve the good ones.
    #[serde(default)]
    pub judge: bool,
    #[serde(default)]
    pub priority: Option<i64>,
    /// `provider/model` for every model step, above the cascade.
    #[serde(default)]
    pub model: Option<String>,
    /// A document of the project (else the only project loaded).
    #[schemars(with = "Option<String>")]
    #[serde(default)]
    pub uri: Option<Uri>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BatchStarted {
    pub batch: String,
    pub queued: usize,
}

/// A batch (the project's latest when none is named).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct BatchArgs {
    #[serde(default)]
    pub batch: Option<String>,
    #[schemars(with = "Option<String>")]
    #[serde(default)]
    pub uri: Option<Uri>,
}

/// A batch's runs by what they are doing, and each run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BatchStatus {
    pub batch: String,
    pub total: usize,
    pub done: usize,
    pub running: usize,
    pub waiting: usize,
    /// Failed or interrupted.
    pub failed: usize,
    pub queued: usize,
    pub cancelled: usize,
    /// Whether this server is working the batch now.
    pub working: bool,
    /// `3/8 done · 2 running · …`, as the terminal shows it.
    pub summary: String,
    pub runs: Vec<RunSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BatchCancelled {
    pub batch: String,
    /// Runs asked to stop (queued ones at once, running ones at their next step).
    pub asked: usize,
}

/// `showrunner.batch.approve`: approve, at once, the gates of a batch whose answers the judge
/// scored at least `min_confidence` (and their later such gates).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BatchApproveArgs {
    #[serde(default)]
    pub batch: Option<String>,
    pub min_confidence: f64,
    #[schemars(with = "Option<String>")]
    #[serde(default)]
    pub uri: Option<Uri>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BatchApproved {
    pub batch: String,
    /// Gates approved now.
    pub approved: usize,
}

/// `showrunner.plan`: a goal turned into a plan by the outliner, approved at a gate, then run
/// as one batch by this server.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PlanArgs {
    pub goal: String,
    /// The part of the story the plan may touch (default: the whole project).
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub jobs: Option<usize>,
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default)]
    pub model: Option<String>,
    #[schemars(with = "Option<String>")]
    #[serde(default)]
    pub uri: Option<Uri>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GateArgs {
    pub run: String,
    pub step: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GateResolveArgs {
    pub run: String,
    pub step: String,
    pub decision: DecisionKind,
    /// The approved (edited) or pasted text, the chat message, or why it was rejected; absent:
    /// the review document's text.
    pub text: Option<String>,
    /// For `change_model`: `provider/model` (absent: the writer is asked).
    pub model: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ResearchArgs {
    pub question: String,
    #[schemars(with = "Option<String>")]
    pub uri: Option<Uri>,
    pub model: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AgentAskArgs {
    pub text: String,
    #[schemars(with = "Option<String>")]
    pub uri: Option<Uri>,
    #[schemars(with = "Option<RangeSchema>")]
    pub range: Option<Range>,
    pub model: Option<String>,
}

/// One kind or several: `"character"`, `"character,location"` or `["character", "location"]`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Kinds {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct PictureArgs {
    #[schemars(with = "Option<String>")]
    pub uri: Option<Uri>,
    /// A project folder (path or URI), when there is no `uri`.
    pub project: Option<String>,
    /// `json` (default), `mermaid` or `dot` for the graph; `json` or `text` for stats.
    pub format: Option<String>,
    pub kind: Option<Kinds>,
    /// The graph around this bucket or scene only.
    pub around: Option<String>,
    pub depth: Option<usize>,
    /// Stats: a character unseen for more than this many scenes is a gap.
    pub gap: Option<usize>,
    /// Stats: with `uri`, the words of this range of the scene too (`goals.selection_words`).
    #[schemars(with = "Option<RangeSchema>")]
    pub range: Option<Range>,
    /// Stats: `goals` answers `{goals}` alone (cheap enough for a status line).
    pub only: Option<String>,
}

/// An export format's name, for the schema: the formats `showrunner_export` knows (so the
/// editors' lists are generated from the one list, not copied).
#[allow(dead_code)]
struct ExportFormatSchema;

impl JsonSchema for ExportFormatSchema {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ExportFormat".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = showrunner_export::Format::ALL.iter().map(|f| f.name()).collect();
        schemars::json_schema!({
            "description": "An export format (matched without regard to case).",
            "type": "string",
            "enum": names,
        })
    }
}

/// `showrunner.export`: a file of the story for someone else's tools.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct ExportArgs {
    #[schemars(with = "ExportFormatSchema")]
    pub format: String,
    /// A season, arc, act or chapter id, a scene id, or a scene file (path relative to the
    /// project, or a URI); the whole project when absent.
    pub target: Option<String>,
    /// The file to write, relative to the project (it must stay inside it, out of `story/` and
    /// `buckets/`); default `exports/TARGET.FORMAT`.
    pub output: Option<String>,
    /// A document of the project.
    #[schemars(with = "Option<String>")]
    pub uri: Option<Uri>,
    /// A project folder (path or URI), when there is no `uri`.
    pub project: Option<String>,
}

// ---- results -------------------------------------------------------------------------------

/// What `showrunner.export` wrote (from the saved files; unsaved editor text is not exported).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Exported {
    /// The file written (absolute).
    pub path: String,
    #[schemars(with = "String")]
    pub uri: Uri,
    pub format: String,
    pub scenes: usize,
    pub words: usize,
    pub bytes: usize,
    /// What the format could not hold (FDX: sections, synopses, notes, chapter titles).
    pub left_out: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BucketCreated {
    pub id: String,
    #[schemars(with = "String")]
    pub uri: Uri,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TimelineSwitched {
    pub timeline: String,
    /// How many files changed on disk.
    pub changed: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PipelineInfo {
    pub id: String,
    pub title: String,
    pub description: String,
    pub layer: Layer,
}

/// A run was started; its progress arrives as `showrunner/runProgress`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunStarted {
    pub run: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AgentStarted {
    pub run: String,
    pub agent: String,
    /// A sentence for the writer: which agent and why.
    pub reason: String,
    /// `keywords`, `intent` or `default`.
    pub via: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunSummary {
    pub run: String,
    pub pipeline: String,
    /// `interrupted` when the process driving it ended before it finished.
    pub state: RunState,
    pub scene: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StepView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: StepKind,
    pub state: StepState,
    pub model: Option<String>,
}

/// The gate a run waits at, as `run.status` names it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GateRef {
    pub step: String,
    pub kind: GateKind,
    /// The review document, when this server is asking.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub uri: Option<Uri>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunStatus {
    pub run: String,
    pub pipeline: String,
    /// `interrupted` when the process driving it ended before it finished.
    pub state: RunState,
    pub scene: String,
    /// Whether this server drives it.
    pub active: bool,
    pub steps: Vec<StepView>,
    pub gate: Option<GateRef>,
    pub error: Option<String>,
    /// The answer, the approved output, or the last model output.
    pub output: Option<Value>,
    /// The recorded run this one replays.
    pub replay_of: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunCancelled {
    pub run: String,
    pub state: RunState,
}

/// The edit approving a gate makes, planned against the text it applies to.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EditView {
    /// Project-relative path of the file.
    pub path: String,
    #[schemars(with = "Option<String>")]
    pub uri: Option<Uri>,
    pub mode: EditMode,
    /// The frontmatter field, for `set_frontmatter`.
    pub field: Option<String>,
    /// The change in words: "will be added after line 29 of 03-supper.md, at the end of the scene".
    pub description: String,
    /// A unified diff of exactly the change (one hunk, three lines of context).
    pub diff: String,
    /// 1-based lines of the file the change touches.
    pub first_line: usize,
    pub last_line: usize,
    /// What is replaced (empty for an insertion) and what replaces it.
    pub old_text: String,
    pub new_text: String,
}

impl EditView {
    pub fn of(root: &std::path::Path, plan: &EditPlan) -> EditView {
        EditView {
            path: plan.path.clone(),
            uri: crate::state::path_uri(&root.join(&plan.path)),
            mode: plan.mode,
            field: plan.field.clone(),
            description: plan.description.clone(),
            diff: plan.diff.clone(),
            first_line: plan.first_line,
            last_line: plan.last_line,
            old_text: plan.old_text.clone(),
            new_text: plan.new_text.clone(),
        }
    }
}

/// A gate waiting for the writer.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GateView {
    pub run: String,
    pub step: String,
    pub kind: GateKind,
    /// The review document: the text under review, editable.
    #[schemars(with = "String")]
    pub uri: Uri,
    pub pipeline: String,
    /// The model the next call goes to.
    pub model: String,
    /// Why a call to `model` cannot go out as things stand (a provider without its key, one the
    /// project does not configure): editors flag it before the writer approves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_problem: Option<String>,
    /// The text under review.
    pub text: String,
    /// The edit approving makes, when the gate precedes one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit: Option<EditView>,
    /// What the writer must know before deciding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What the model reasoned before its answer: to show collapsed; never part of `text`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// The judge's score of the answer (0–1), at a judge gate or the output gate after one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GateResolved {
    pub run: String,
    pub step: String,
    /// `null` when no decision was taken (the writer dismissed the model picker).
    pub decision: Option<DecisionKind>,
    /// Whether the gate stays open (chat, change model, regenerate ask it again).
    pub open: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GateDiff {
    #[serde(flatten)]
    pub edit: EditView,
    /// The diff as a file beside the review document.
    #[schemars(with = "String")]
    pub diff_uri: Uri,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GateReasoning {
    pub reasoning: String,
    /// The reasoning as a file beside the review document.
    #[schemars(with = "String")]
    pub uri: Uri,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ModelEntry {
    pub provider: String,
    /// `provider/model`.
    pub model: String,
}

/// A picture rendered as text (Mermaid, DOT, or the stats table).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Rendered {
    pub format: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum GraphResult {
    Json(Graph),
    Text(Rendered),
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum StatsResult {
    Json(Stats),
    Text(Rendered),
    Goals(GoalsOnly),
}

/// `showrunner.stats` with `only: "goals"`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GoalsOnly {
    pub goals: Goals,
}

// ---- the notification ----------------------------------------------------------------------

pub const RUN_PROGRESS: &str = "showrunner/runProgress";

/// What a `showrunner/runProgress` notification reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgressEvent {
    /// The run's state changed.
    State,
    /// A step's state changed.
    Step,
    /// A streamed piece of a step's answer.
    Text,
    /// The run waits at a gate.
    Gate,
    /// The run ended.
    Done,
    /// An approved edit the editor applied to a buffer was recorded in the history on save.
    Recorded,
}

/// `showrunner/runProgress`: a run's state, steps, gates and streamed text, in order.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunProgress {
    pub run: String,
    pub pipeline: String,
    pub state: RunState,
    pub event: ProgressEvent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_state: Option<StepState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `recorded`: the plan, and the history event that records it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_event: Option<String>,
}

impl RunProgress {
    pub fn new(run: &str, pipeline: &str, state: RunState, event: ProgressEvent) -> RunProgress {
        RunProgress {
            run: run.to_string(),
            pipeline: pipeline.to_string(),
            state,
            event,
            step: None,
            step_state: None,
            model: None,
            text: None,
            gate: None,
            error: None,
            plan: None,
            history_event: None,
        }
    }
}

// ---- the command table ---------------------------------------------------------------------

/// One command: its name, what it does, and the schemas of its arguments and result.
pub struct CommandSpec {
    pub name: &'static str,
    pub doc: &'static str,
    pub args: fn(&mut SchemaGenerator) -> Schema,
    pub result: fn(&mut SchemaGenerator) -> Schema,
}

macro_rules! commands {
    ($( $name:literal ($args:ty) -> $result:ty : $doc:literal ;)*) => {
        /// Every command the server serves, in one table.
        pub const COMMANDS: &[CommandSpec] = &[ $( CommandSpec {
            name: $name,
            doc: $doc,
            args: |g| g.subschema_for::<$args>(),
            result: |g| g.subschema_for::<$result>(),
        } ),* ];
    };
}

commands! {
    "showrunner.context.show" (ContextArgs) -> Context : "What the AI will know about a scene: every item with its reason and tokens, and what was dropped.";
    "showrunner.models.resolve" (ModelsArgs) -> Resolution : "The model cascade for a scene or step, with every level.";
    "showrunner.models.list" (UriArgs) -> Vec<ModelEntry> : "Every model a writer can pick: the project's, then what each provider lists.";
    "showrunner.bucket.create" (BucketCreateArgs) -> BucketCreated : "A new bucket through the history write path.";
    "showrunner.timeline.list" (HistoryArgs) -> Vec<Timeline> : "The project's timelines.";
    "showrunner.timeline.create" (HistoryArgs) -> Timeline : "A new timeline, forked from the current head or `from_event`.";
    "showrunner.timeline.switch" (HistoryArgs) -> TimelineSwitched : "Switches timelines; open documents are updated.";
    "showrunner.history" (HistoryArgs) -> Vec<Event> : "The history of a file, a bucket or the project, newest first.";
    "showrunner.pipeline.list" (UriArgs) -> Vec<PipelineInfo> : "Every pipeline: quick actions, templates, project workflows.";
    "showrunner.pipeline.run" (PipelineRunArgs) -> RunStarted : "Starts a pipeline on a scene (and a selection).";
    "showrunner.run.list" (UriArgs) -> Vec<RunSummary> : "Runs, newest first.";
    "showrunner.run.status" (RunArgs) -> RunStatus : "A run's state, steps, gate and output.";
    "showrunner.run.cancel" (RunArgs) -> RunCancelled : "Cancels a run.";
    "showrunner.gate.list" (UriArgs) -> Vec<GateView> : "The gates waiting for the writer, oldest run first.";
    "showrunner.gate.resolve" (GateResolveArgs) -> GateResolved : "Decides a gate.";
    "showrunner.gate.diff" (GateArgs) -> GateDiff : "The edit approving a gate makes, as a diff (shown beside the review document).";
    "showrunner.gate.reasoning" (GateArgs) -> GateReasoning : "What the model reasoned before the answer at a gate (shown beside the review document; never part of the answer).";
    "showrunner.research" (ResearchArgs) -> RunStarted : "Researches a question into the research library.";
    "showrunner.agent.ask" (AgentAskArgs) -> AgentStarted : "Free text to the right agent (keywords, then an intent call).";
    "showrunner.graph" (PictureArgs) -> GraphResult : "The story graph as JSON, Mermaid or DOT.";
    "showrunner.stats" (PictureArgs) -> StatsResult : "Words per level, POV, the mention heatmap, gaps and goals.";
    "showrunner.export" (ExportArgs) -> Exported : "Exports the project, a part or a scene (saved files, current timeline) as DOCX, PDF, FDX, EPUB, Markdown or Fountain; returns the file written.";
    "showrunner.search" (SearchArgs) -> Vec<Hit> : "The story and everything the project's runs and history said, best first, with snippets.";
    "showrunner.batch.run" (BatchRunArgs) -> BatchStarted : "Queues one run of a pipeline per scene of the targets and works them here, gates in the approval queue.";
    "showrunner.batch.status" (BatchArgs) -> BatchStatus : "A batch's runs by state (the latest batch when none is named).";
    "showrunner.batch.cancel" (BatchArgs) -> BatchCancelled : "Stops a batch: queued runs at once, running ones at their next step.";
    "showrunner.batch.approve" (BatchApproveArgs) -> BatchApproved : "Approves the gates of a batch whose answers the judge scored at least `min_confidence`.";
    "showrunner.plan" (PlanArgs) -> RunStarted : "Turns a goal into a plan (approved at a gate), then runs it as one batch.";
}

/// The names of every command (for `executeCommandProvider`).
pub fn command_names() -> Vec<String> {
    COMMANDS.iter().map(|c| c.name.to_string()).collect()
}

/// The whole protocol as one JSON Schema document: `commands` (name → arguments and result),
/// `notifications`, and every type under `$defs`.
pub fn schema() -> Value {
    let mut g = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let mut commands = serde_json::Map::new();
    for c in COMMANDS {
        let args = (c.args)(&mut g);
        let result = (c.result)(&mut g);
        commands.insert(c.name.to_string(), json!({ "description": c.doc, "arguments": args, "result": result }));
    }
    let progress = g.subschema_for::<RunProgress>();
    let defs: BTreeMap<String, Value> = g.take_definitions(true).into_iter().collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Showrunner editor protocol",
        "description": "Generated from server/lsp/src/protocol.rs: do not edit by hand.",
        "commands": commands,
        "notifications": { RUN_PROGRESS: progress },
        "$defs": defs,
    })
}

/// TypeScript declarations for every type of [`schema`], the command table and the
/// notification name.
pub fn typescript(schema: &Value) -> String {
    let mut out = String::from(
        "// Generated from server/lsp/src/protocol.rs by `SHOWRUNNER_BLESS=1 cargo test -p showrunner-lsp protocol`.\n// Do not edit: `tests/run` fails when this file differs from a fresh generation.\n/* eslint-disable */\n\n",
    );
    if let Some(defs) = schema["$defs"].as_object() {
        for (name, def) in defs {
            doc_comment(&mut out, def, "");
            match ts_object(def, "") {
                Some(body) if def.get("anyOf").is_none() && def.get("oneOf").is_none() => {
                    out.push_str(&format!("export interface {name} {body}\n\n"));
                }
                _ => out.push_str(&format!("export type {name} = {};\n\n", ts_type(def, ""))),
            }
        }
    }
    out.push_str("/** Every command: its arguments and its result. */\nexport interface CommandTypes {\n");
    for (name, c) in schema["commands"].as_object().into_iter().flatten() {
        doc_comment(&mut out, c, "  ");
        out.push_str(&format!(
            "  \"{name}\": {{ arguments: {}; result: {} }};\n",
            ts_type(&c["arguments"], "  "),
            ts_type(&c["result"], "  ")
        ));
    }
    out.push_str("}\n\nexport type CommandName = keyof CommandTypes;\n");
    out.push_str("export type CommandArgs<C extends CommandName> = CommandTypes[C][\"arguments\"];\n");
    out.push_str("export type CommandResult<C extends CommandName> = CommandTypes[C][\"result\"];\n\n");
    out.push_str("/** The command names, as the server lists them in `executeCommandProvider`. */\nexport const COMMAND_NAMES: readonly CommandName[] = [\n");
    for name in schema["commands"].as_object().into_iter().flatten().map(|(k, _)| k) {
        out.push_str(&format!("  \"{name}\",\n"));
    }
    out.push_str("];\n\n");
    out.push_str(&format!("export const RUN_PROGRESS = \"{RUN_PROGRESS}\";\n"));
    out
}

fn doc_comment(out: &mut String, def: &Value, indent: &str) {
    if let Some(d) = def["description"].as_str() {
        out.push_str(&format!("{indent}/** {} */\n", d.replace("*/", "* /").replace('\n', &format!("\n{indent} * "))));
    }
}

/// `{ a: T; b?: U }` for an object schema (None when it is not one).
fn ts_object(def: &Value, indent: &str) -> Option<String> {
    let props = def["properties"].as_object()?;
    let required: Vec<&str> =
        def["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let inner = format!("{indent}  ");
    let mut body = String::from("{\n");
    for (k, v) in props {
        doc_comment(&mut body, v, &inner);
        let opt = if required.contains(&k.as_str()) { "" } else { "?" };
        body.push_str(&format!("{inner}{k}{opt}: {};\n", ts_type(v, &inner)));
    }
    body.push_str(&format!("{indent}}}"));
    Some(body)
}

/// The TypeScript type of a (sub)schema.
fn ts_type(s: &Value, indent: &str) -> String {
    if s == &Value::Bool(true)
        || s.as_object().is_some_and(|o| o.is_empty() || (o.len() == 1 && o.contains_key("description")))
    {
        return "unknown".into();
    }
    if let Some(r) = s["$ref"].as_str() {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    if let Some(c) = s.get("const") {
        return c.to_string();
    }
    if let Some(e) = s["enum"].as_array() {
        return e.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" | ");
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = s[key].as_array() {
            let mut parts: Vec<String> = Vec::new();
            for t in alts.iter().map(|a| ts_type(a, indent)) {
                if !parts.contains(&t) {
                    parts.push(t);
                }
            }
            return parts.join(" | ");
        }
    }
    let one = |t: &str| -> String {
        match t {
            "string" => "string".into(),
            "integer" | "number" => "number".into(),
            "boolean" => "boolean".into(),
            "null" => "null".into(),
            "array" => match s.get("items") {
                Some(items) => {
                    let t = ts_type(items, indent);
                    if t.contains(' ') {
                        format!("({t})[]")
                    } else {
                        format!("{t}[]")
                    }
                }
                None => "unknown[]".into(),
            },
            "object" => match ts_object(s, indent) {
                Some(o) => o,
                None => match s.get("additionalProperties") {
                    Some(v) if v.is_object() => format!("Record<string, {}>", ts_type(v, indent)),
                    _ => "Record<string, unknown>".into(),
                },
            },
            _ => "unknown".into(),
        }
    };
    match &s["type"] {
        Value::String(t) => one(t),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).map(one).collect::<Vec<_>>().join(" | "),
        _ => match ts_object(s, indent) {
            Some(o) => o,
            None => "unknown".into(),
        },
    }
}

/// The table of commands in `extensions/PROTOCOL.md` (between its `<!-- commands -->` markers).
pub fn markdown_table(schema: &Value) -> String {
    let mut out = String::from("| command | arguments | result | what it does |\n|---|---|---|---|\n");
    for (name, c) in schema["commands"].as_object().into_iter().flatten() {
        out.push_str(&format!(
            "| `{name}` | `{}` | `{}` | {} |\n",
            ts_type(&c["arguments"], "").replace('|', "\\|"),
            ts_type(&c["result"], "").replace('|', "\\|"),
            c["description"].as_str().unwrap_or("")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(path: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
    }

    /// Compares a checked-in generated file with a fresh generation (or writes it when blessing).
    fn check(path: &str, fresh: &str) -> Option<String> {
        let file = repo(path);
        if std::env::var("SHOWRUNNER_BLESS").is_ok_and(|v| v == "1") {
            std::fs::write(&file, fresh).unwrap();
            return None;
        }
        let old = std::fs::read_to_string(&file).unwrap_or_default();
        (old != fresh).then(|| format!("{path} is out of date"))
    }

    #[test]
    fn protocol_files_match_the_rust_types() {
        let s = schema();
        let mut stale = Vec::new();
        stale.extend(check("extensions/protocol.schema.json", &(serde_json::to_string_pretty(&s).unwrap() + "\n")));
        stale.extend(check("extensions/vscode/src/generated/protocol.ts", &typescript(&s)));
        let md = std::fs::read_to_string(repo("extensions/PROTOCOL.md")).unwrap();
        let (start, end) = ("<!-- commands -->\n", "<!-- /commands -->");
        let (a, b) = (md.find(start).expect("PROTOCOL.md has a commands table"), md.find(end).unwrap());
        let fresh = format!("{}{start}{}{}", &md[..a], markdown_table(&s), &md[b..]);
        stale.extend(check("extensions/PROTOCOL.md", &fresh));
        assert!(
            stale.is_empty(),
            "{}: regenerate with `SHOWRUNNER_BLESS=1 cargo test -p showrunner-lsp protocol`",
            stale.join(", ")
        );
    }

    #[test]
    fn every_command_has_a_schema_and_the_names_are_unique() {
        let s = schema();
        let names = command_names();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        for n in &names {
            assert!(s["commands"][n]["arguments"].is_object(), "{n}");
        }
        assert_eq!(s["$defs"]["GateKind"]["oneOf"].as_array().map(Vec::len), Some(6), "{}", s["$defs"]["GateKind"]);
    }
}

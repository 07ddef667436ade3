// Generated from server/lsp/src/protocol.rs by `SHOWRUNNER_BLESS=1 cargo test -p showrunner-lsp protocol`.
// Do not edit: `tests/run` fails when this file differs from a fresh generation.
/* eslint-disable */

export interface AgentAskArgs {
  model?: string | null;
  range?: Range | null;
  text: string;
  uri?: string | null;
}

export interface AgentStarted {
  agent: string;
  /** A sentence for the writer: which agent and why. */
  reason: string;
  run: string;
  /** `keywords`, `intent` or `default`. */
  via: string;
}

/** `showrunner.batch.approve`: approve, at once, the gates of a batch whose answers the judge
 * scored at least `min_confidence` (and their later such gates). */
export interface BatchApproveArgs {
  batch?: string | null;
  min_confidence: number;
  uri?: string | null;
}

export interface BatchApproved {
  /** Gates approved now. */
  approved: number;
  batch: string;
}

/** A batch (the project's latest when none is named). */
export interface BatchArgs {
  batch?: string | null;
  uri?: string | null;
}

export interface BatchCancelled {
  /** Runs asked to stop (queued ones at once, running ones at their next step). */
  asked: number;
  batch: string;
}

/** `showrunner.batch.run`: one run of a pipeline per scene of the targets, queued in the
 * project's run store and worked by this server (gates in the approval queue). */
export interface BatchRunArgs {
  /** Runs at once (default: `batch: { concurrency }`, else 2). */
  jobs?: number | null;
  /** Judge every answer first, so `showrunner.batch.approve` can approve the good ones. */
  judge?: boolean;
  /** `provider/model` for every model step, above the cascade. */
  model?: string | null;
  pipeline: string;
  priority?: number | null;
  /** Scenes (ids or files), folders, or parts of the story (`ch03`, `season-1`, `.`). */
  targets: string[];
  /** A document of the project (else the only project loaded). */
  uri?: string | null;
  /** Only scenes for which this holds: `words == 0`, `pov == alice`, `path ^= story/ch03/`. */
  where?: string | null;
}

export interface BatchStarted {
  batch: string;
  queued: number;
}

/** A batch's runs by what they are doing, and each run. */
export interface BatchStatus {
  batch: string;
  cancelled: number;
  done: number;
  /** Failed or interrupted. */
  failed: number;
  queued: number;
  running: number;
  runs: RunSummary[];
  /** `3/8 done · 2 running · …`, as the terminal shows it. */
  summary: string;
  total: number;
  waiting: number;
  /** Whether this server is working the batch now. */
  working: boolean;
}

export interface BucketCreateArgs {
  aliases?: string[];
  kind: string;
  name: string;
  parent?: string | null;
  /** A project folder (path or URI); the first loaded project when absent. */
  project?: string | null;
}

export interface BucketCreated {
  id: string;
  uri: string;
}

export interface ChapterStats {
  /** `null` for the column of scenes under no chapter. */
  id?: string | null;
  name: string;
  scenes: number;
  words: number;
}

export interface ContainerStats {
  /** 0 for an outermost container. */
  depth: number;
  id: string;
  kind: string;
  name: string;
  parent?: string | null;
  scenes: number;
  /** Words of every scene below it, at any depth. */
  words: number;
}

/** What the engine assembled for a scene: the object of `showrunner context --format json` and
 * of the `showrunner.context.show` command. */
export interface Context {
  budget: number;
  dropped: Dropped[];
  items: ContextItem[];
  scene: string;
  used_tokens: number;
}

export interface ContextArgs {
  /** A token budget other than the project's `context.budget_tokens`. */
  budget?: number | null;
  /** The cursor: context is assembled for the scene as it stands there. */
  position?: Position | null;
  uri: string;
}

export interface ContextItem {
  /** The bucket id (for the previous-scene item: the scene's id). */
  bucket: string;
  form: Form;
  kind: string;
  /** What a writer calls it: the bucket's name (the previous scene's title). */
  name: string;
  reason: string;
  score: number;
  text: string;
  tokens: number;
}

/** The decisions at a gate, by name (what a command, a lens or a terminal answer says). */
export type DecisionKind = "approve" | "paste" | "skip" | "change_model" | "chat" | "regenerate" | "reject" | "edit";

export interface Dropped {
  bucket: string;
  /** What a writer calls it (the id itself when no bucket has it). */
  name: string;
  reason: string;
}

export interface Edge {
  from: string;
  /** The relation type; `contains` for structure edges. */
  label: string;
  layer: GraphLayer;
  to: string;
}

/** Where an `apply_edit` step puts its text. */
export type EditMode = "replace" | "insert_after" | "append_body" | "replace_body" | "set_frontmatter" | "new_file";

/** The edit approving a gate makes, planned against the text it applies to. */
export interface EditView {
  /** The change in words: "will be added after line 29 of 03-supper.md, at the end of the scene". */
  description: string;
  /** A unified diff of exactly the change (one hunk, three lines of context). */
  diff: string;
  /** The frontmatter field, for `set_frontmatter`. */
  field?: string | null;
  /** 1-based lines of the file the change touches. */
  first_line: number;
  last_line: number;
  mode: EditMode;
  new_text: string;
  /** What is replaced (empty for an insertion) and what replaces it. */
  old_text: string;
  /** Project-relative path of the file. */
  path: string;
  uri?: string | null;
}

export interface EntityStats {
  /** The first and last scene (id) mentioning it, in reading order. */
  first?: string | null;
  id: string;
  kind: string;
  last?: string | null;
  /** Mentions in the whole project. */
  mentions: number;
  name: string;
  /** Mentions per chapter, in the order of `Stats::chapters`. */
  per_chapter: number[];
  /** Scenes with at least one mention. */
  scenes: number;
}

export interface Event {
  actor: string;
  container?: string | null;
  expected_version?: number | null;
  /** Content hash; `None` when the event deletes the file. */
  hash?: string | null;
  id: string;
  new_version: number;
  parent?: number | null;
  path: string;
  payload: unknown;
  seq: number;
  /** Milliseconds since the Unix epoch. */
  time: number;
  timeline: string;
  type: string;
}

/** `showrunner.export`: a file of the story for someone else's tools. */
export interface ExportArgs {
  format: ExportFormat;
  /** The file to write, relative to the project (it must stay inside it, out of `story/` and
   * `buckets/`); default `exports/TARGET.FORMAT`. */
  output?: string | null;
  /** A project folder (path or URI), when there is no `uri`. */
  project?: string | null;
  /** A season, arc, act or chapter id, a scene id, or a scene file (path relative to the
   * project, or a URI); the whole project when absent. */
  target?: string | null;
  /** A document of the project. */
  uri?: string | null;
}

/** An export format (matched without regard to case). */
export type ExportFormat = "docx" | "pdf" | "fdx" | "epub" | "md" | "fountain";

/** What `showrunner.export` wrote (from the saved files; unsaved editor text is not exported). */
export interface Exported {
  bytes: number;
  format: string;
  /** What the format could not hold (FDX: sections, synopses, notes, chapter titles). */
  left_out: string[];
  /** The file written (absolute). */
  path: string;
  scenes: number;
  uri: string;
  words: number;
}

export type Form = "full" | "summary" | "cut";

export interface Gap {
  /** The last chapter it appears in before the gap. */
  after: string;
  /** Written chapters in between without a mention. */
  chapters: number;
  entity: string;
  name: string;
  /** The chapter it appears in again. */
  resumes: string;
}

export interface GateArgs {
  run: string;
  step: string;
}

/** The edit approving a gate makes, planned against the text it applies to. */
export interface GateDiff {
  /** The change in words: "will be added after line 29 of 03-supper.md, at the end of the scene". */
  description: string;
  /** A unified diff of exactly the change (one hunk, three lines of context). */
  diff: string;
  /** The diff as a file beside the review document. */
  diff_uri: string;
  /** The frontmatter field, for `set_frontmatter`. */
  field?: string | null;
  /** 1-based lines of the file the change touches. */
  first_line: number;
  last_line: number;
  mode: EditMode;
  new_text: string;
  /** What is replaced (empty for an insertion) and what replaces it. */
  old_text: string;
  /** Project-relative path of the file. */
  path: string;
  uri?: string | null;
}

/** The kinds of gate. */
export type GateKind = "review_prompt" | "approve_output" | "judge" | "verify" | "tool" | "resume";

export interface GateReasoning {
  reasoning: string;
  /** The reasoning as a file beside the review document. */
  uri: string;
}

/** The gate a run waits at, as `run.status` names it. */
export interface GateRef {
  kind: GateKind;
  model?: string | null;
  step: string;
  /** The review document, when this server is asking. */
  uri?: string | null;
}

export interface GateResolveArgs {
  decision: DecisionKind;
  /** For `change_model`: `provider/model` (absent: the writer is asked). */
  model?: string | null;
  run: string;
  step: string;
  /** The approved (edited) or pasted text, the chat message, or why it was rejected; absent:
   * the review document's text. */
  text?: string | null;
}

export interface GateResolved {
  /** `null` when no decision was taken (the writer dismissed the model picker). */
  decision?: DecisionKind | null;
  /** Whether the gate stays open (chat, change model, regenerate ask it again). */
  open: boolean;
  run: string;
  step: string;
}

/** A gate waiting for the writer. */
export interface GateView {
  /** The judge's score of the answer (0–1), at a judge gate or the output gate after one. */
  confidence?: number | null;
  /** The edit approving makes, when the gate precedes one. */
  edit?: EditView | null;
  kind: GateKind;
  /** The model the next call goes to. */
  model: string;
  /** Why a call to `model` cannot go out as things stand (a provider without its key, one the
   * project does not configure): editors flag it before the writer approves. */
  model_problem?: string | null;
  /** What the writer must know before deciding. */
  note?: string | null;
  pipeline: string;
  /** What the model reasoned before its answer: to show collapsed; never part of `text`. */
  reasoning?: string | null;
  run: string;
  step: string;
  /** The text under review. */
  text: string;
  /** The review document: the text under review, editable. */
  uri: string;
}

export interface Goals {
  /** Whether `daily_goal` is the quota derived from the project goal and the deadline:
   * (project goal − words at the start of today) ÷ days left, rounded up. */
  daily_from_deadline: boolean;
  /** Words to write today: `goals.daily_words`, or else the quota from the deadline. */
  daily_goal?: number | null;
  /** Today, the writer's local date (`YYYY-MM-DD`). */
  date: string;
  /** Days until the deadline, today and the deadline included (0 or less once it has passed). */
  days_left?: number | null;
  /** `goals.deadline` (`YYYY-MM-DD`). */
  deadline?: string | null;
  /** `goals.project_words`. */
  project_goal?: number | null;
  /** `words` as a whole percentage of the project goal. */
  project_percent?: number | null;
  /** Words in the scene of the request's `uri` (unsaved text counts). */
  scene_words?: number | null;
  /** Words in the request's `range` of that scene. */
  selection_words?: number | null;
  /** Words written in the current writing session. */
  session: number;
  /** `goals.session_words`. */
  session_goal?: number | null;
  session_percent?: number | null;
  /** When the current session began (its first save, Unix milliseconds); `null` when no save
   * is recent enough (a session ends after 30 minutes without a save). */
  session_started?: number | null;
  /** Words written today (negative when more was cut than written). */
  today: number;
  today_percent?: number | null;
  /** Words in every scene now. */
  words: number;
}

/** `showrunner.stats` with `only: "goals"`. */
export interface GoalsOnly {
  goals: Goals;
}

export interface Graph {
  edges: Edge[];
  nodes: Node[];
  project: string;
}

/** Which layer a node or an edge belongs to. */
export type GraphLayer = "structure" | "entity" | "relation";

export type GraphResult = Graph | Rendered;

/** Which project, file or bucket a history or timeline command is about. */
export interface HistoryArgs {
  bucket?: string | null;
  /** The event a new timeline forks from (default: the current head). */
  from_event?: string | null;
  /** The timeline (`timeline.create`, `timeline.switch`). */
  name?: string | null;
  project?: string | null;
  uri?: string | null;
}

/** One hit, best first. */
export interface Hit {
  /** The bucket's or scene's id. */
  id?: string | null;
  /** A bucket's kind, `scene`, or a memory kind (`prompt`, `answer`, `verdict`, …). */
  kind: string;
  model?: string | null;
  /** The project-relative file: the scene or bucket, or the scene a run worked on. */
  path?: string | null;
  pipeline?: string | null;
  run?: string | null;
  /** BM25 relevance: higher is better. */
  score: number;
  /** The best passage, matched words between `**`. */
  snippet: string;
  /** `story` or `runs`. */
  source: string;
  step?: string | null;
  /** When it was said (milliseconds since the Unix epoch). */
  time?: number | null;
  timeline?: string | null;
  title: string;
}

/** One kind or several: `"character"`, `"character,location"` or `["character", "location"]`. */
export type Kinds = string | string[];

export interface Level {
  level: string;
  /** Where the value comes from (a bucket, an agent, a file). */
  source?: string | null;
  /** The model this level names, or `null` when it names none. */
  value?: string | null;
}

export interface ModelEntry {
  /** `provider/model`. */
  model: string;
  provider: string;
}

export interface ModelsArgs {
  agent?: string | null;
  pipeline?: string | null;
  /** A step's own `model:` (`provider/model`). */
  step?: string | null;
  uri?: string | null;
}

export interface Node {
  /** The bucket id, or `scene:` and the scene id. */
  id: string;
  /** The bucket's kind, or `scene`. */
  kind: string;
  layer: GraphLayer;
  /** The bucket's name, or the scene's name ([`scene_name`]). */
  name: string;
  /** The file, relative to the project root. */
  path: string;
}

export interface PictureArgs {
  /** The graph around this bucket or scene only. */
  around?: string | null;
  depth?: number | null;
  /** `json` (default), `mermaid` or `dot` for the graph; `json` or `text` for stats. */
  format?: string | null;
  /** Stats: a character unseen for more than this many scenes is a gap. */
  gap?: number | null;
  kind?: Kinds | null;
  /** Stats: `goals` answers `{goals}` alone (cheap enough for a status line). */
  only?: string | null;
  /** A project folder (path or URI), when there is no `uri`. */
  project?: string | null;
  /** Stats: with `uri`, the words of this range of the scene too (`goals.selection_words`). */
  range?: Range | null;
  uri?: string | null;
}

export interface PipelineInfo {
  description: string;
  id: string;
  layer: PipelineLayer;
  title: string;
}

export type PipelineLayer = "quick_action" | "template" | "custom";

export interface PipelineRunArgs {
  /** More template variables (`question`, …). */
  inputs?: unknown;
  /** `provider/model` for every model step, above the cascade. */
  model?: string | null;
  pipeline: string;
  /** The selection (or the cursor, when empty). */
  range?: Range | null;
  /** A recorded run whose answers replay instead of a model server. */
  replay?: string | null;
  uri: string;
}

/** `showrunner.plan`: a goal turned into a plan by the outliner, approved at a gate, then run
 * as one batch by this server. */
export interface PlanArgs {
  goal: string;
  jobs?: number | null;
  model?: string | null;
  priority?: number | null;
  /** The part of the story the plan may touch (default: the whole project). */
  scope?: string | null;
  uri?: string | null;
}

/** An LSP position (0-based line and character, in the negotiated encoding), for the schema. */
export interface Position {
  character: number;
  line: number;
}

export interface PovStats {
  /** The bucket's name (`null` when there is no POV or the id is unknown). */
  name?: string | null;
  pov?: string | null;
  scenes: number;
  words: number;
}

/** What a `showrunner/runProgress` notification reports. */
export type ProgressEvent = "state" | "step" | "text" | "gate" | "done" | "recorded";

/** An LSP range, for the schema. */
export interface Range {
  end: Position;
  start: Position;
}

/** A picture rendered as text (Mermaid, DOT, or the stats table). */
export interface Rendered {
  format: string;
  text: string;
}

export interface ResearchArgs {
  model?: string | null;
  question: string;
  uri?: string | null;
}

export interface Resolution {
  chain: Level[];
  /** The first non-empty level; `null` when no level names a model. */
  model?: string | null;
  /** Why a call to `model` cannot go out as things stand (see [`model_problem`]): an editor
   * flags it before the writer approves a prompt. */
  problem?: string | null;
}

export interface RunArgs {
  run: string;
}

export interface RunCancelled {
  run: string;
  state: RunState;
}

/** `showrunner/runProgress`: a run's state, steps, gates and streamed text, in order. */
export interface RunProgress {
  error?: string | null;
  event: ProgressEvent;
  gate?: GateView | null;
  history_event?: string | null;
  model?: string | null;
  pipeline: string;
  /** `recorded`: the plan, and the history event that records it. */
  plan?: string | null;
  run: string;
  state: RunState;
  step?: string | null;
  step_state?: StepState | null;
  text?: string | null;
}

/** A run was started; its progress arrives as `showrunner/runProgress`. */
export interface RunStarted {
  run: string;
}

export type RunState = "queued" | "running" | "waiting" | "succeeded" | "failed" | "cancelled" | "interrupted";

export interface RunStatus {
  /** Whether this server drives it. */
  active: boolean;
  error?: string | null;
  gate?: GateRef | null;
  /** The answer, the approved output, or the last model output. */
  output?: unknown;
  pipeline: string;
  /** The recorded run this one replays. */
  replay_of?: string | null;
  run: string;
  scene: string;
  /** `interrupted` when the process driving it ended before it finished. */
  state: RunState;
  steps: StepView[];
}

export interface RunSummary {
  pipeline: string;
  run: string;
  scene: string;
  /** `interrupted` when the process driving it ended before it finished. */
  state: RunState;
}

export interface SceneStats {
  /** The innermost chapter above the scene. */
  chapter?: string | null;
  id: string;
  /** Mentions of buckets in the scene (Fountain cues included). */
  mentions: number;
  path: string;
  pov?: string | null;
  title?: string | null;
  words: number;
}

/** Where to search. */
export type Scope = "all" | "story" | "runs";

/** `showrunner.search`: the story (scenes, buckets, research) and the project's memory (every
 * run's prompts, answers, reasoning, verdicts, defects, decisions; history events). */
export interface SearchArgs {
  /** `story`, `runs` or `all` (the default). */
  in?: Scope | null;
  /** Only these kinds: a bucket kind, `scene`, `request`, `proposal`, `prompt`, `answer`, `reasoning`,
   * `verdict`, `defect`, `gate`, `decision`, `error`, `event`. */
  kinds?: string[];
  /** At most this many hits (default 20). */
  limit?: number | null;
  model?: string | null;
  pipeline?: string | null;
  /** A project folder (path or URI), when there is no `uri`. */
  project?: string | null;
  /** Words to find; every word must match, `"quoted words"` as a phrase. */
  query: string;
  /** A day, `YYYY-MM-DD` (UTC): said on or after it. */
  since?: string | null;
  /** History events of this timeline only. */
  timeline?: string | null;
  /** A day, `YYYY-MM-DD` (UTC): said on or before it. */
  until?: string | null;
  /** A document of the project to search (else `project`, else the first loaded project). */
  uri?: string | null;
}

export interface Stats {
  /** The heatmap's columns, in reading order; `entities[].per_chapter` follows this order. */
  chapters: ChapterStats[];
  /** Every bucket that is not structure: by first appearance, then the unmentioned by id. */
  entities: EntityStats[];
  /** The `gap` threshold the gaps were found with. */
  gap: number;
  /** Entities absent for more than `gap` written chapters between two appearances. */
  gaps: Gap[];
  /** Words against the writer's goals, today and in this session (counted from the saved
   * history: the CLI and the language server fill it in; [`stats`] alone leaves it out). */
  goals?: Goals | null;
  /** Scenes per point-of-view bucket, most scenes first; `pov: null` for scenes without one. */
  pov: PovStats[];
  project: string;
  /** Every scene, in reading order. */
  scenes: SceneStats[];
  /** Every structure container (season, arc, act, chapter), in reading order (parents first). */
  structure: ContainerStats[];
  /** Words in every scene of the project. */
  words: number;
}

export type StatsResult = Stats | Rendered | GoalsOnly;

/** What a step does. */
export type StepKind = "gather_context" | "prompt" | "review_prompt" | "generate" | "judge" | "verify" | "approve_output" | "apply_edit" | "save_bucket" | "research" | "summarize" | "tool" | "resume";

export type StepState = "pending" | "running" | "succeeded" | "skipped" | "failed";

export interface StepView {
  id: string;
  model?: string | null;
  state: StepState;
  type: StepKind;
}

export interface Timeline {
  current: boolean;
  events: number;
  forked_from?: number | null;
  head?: number | null;
  name: string;
}

export interface TimelineSwitched {
  /** How many files changed on disk. */
  changed: number;
  timeline: string;
}

/** A document, when the command is about one (else every loaded project). */
export interface UriArgs {
  uri?: string | null;
}

/** Every command: its arguments and its result. */
export interface CommandTypes {
  /** Free text to the right agent (keywords, then an intent call). */
  "showrunner.agent.ask": { arguments: AgentAskArgs; result: AgentStarted };
  /** Approves the gates of a batch whose answers the judge scored at least `min_confidence`. */
  "showrunner.batch.approve": { arguments: BatchApproveArgs; result: BatchApproved };
  /** Stops a batch: queued runs at once, running ones at their next step. */
  "showrunner.batch.cancel": { arguments: BatchArgs; result: BatchCancelled };
  /** Queues one run of a pipeline per scene of the targets and works them here, gates in the approval queue. */
  "showrunner.batch.run": { arguments: BatchRunArgs; result: BatchStarted };
  /** A batch's runs by state (the latest batch when none is named). */
  "showrunner.batch.status": { arguments: BatchArgs; result: BatchStatus };
  /** A new bucket through the history write path. */
  "showrunner.bucket.create": { arguments: BucketCreateArgs; result: BucketCreated };
  /** What the AI will know about a scene: every item with its reason and tokens, and what was dropped. */
  "showrunner.context.show": { arguments: ContextArgs; result: Context };
  /** Exports the project, a part or a scene (saved files, current timeline) as DOCX, PDF, FDX, EPUB, Markdown or Fountain; returns the file written. */
  "showrunner.export": { arguments: ExportArgs; result: Exported };
  /** The edit approving a gate makes, as a diff (shown beside the review document). */
  "showrunner.gate.diff": { arguments: GateArgs; result: GateDiff };
  /** The gates waiting for the writer, oldest run first. */
  "showrunner.gate.list": { arguments: UriArgs; result: GateView[] };
  /** What the model reasoned before the answer at a gate (shown beside the review document; never part of the answer). */
  "showrunner.gate.reasoning": { arguments: GateArgs; result: GateReasoning };
  /** Decides a gate. */
  "showrunner.gate.resolve": { arguments: GateResolveArgs; result: GateResolved };
  /** The story graph as JSON, Mermaid or DOT. */
  "showrunner.graph": { arguments: PictureArgs; result: GraphResult };
  /** The history of a file, a bucket or the project, newest first. */
  "showrunner.history": { arguments: HistoryArgs; result: Event[] };
  /** Every model a writer can pick: the project's, then what each provider lists. */
  "showrunner.models.list": { arguments: UriArgs; result: ModelEntry[] };
  /** The model cascade for a scene or step, with every level. */
  "showrunner.models.resolve": { arguments: ModelsArgs; result: Resolution };
  /** Every pipeline: quick actions, templates, project workflows. */
  "showrunner.pipeline.list": { arguments: UriArgs; result: PipelineInfo[] };
  /** Starts a pipeline on a scene (and a selection). */
  "showrunner.pipeline.run": { arguments: PipelineRunArgs; result: RunStarted };
  /** Turns a goal into a plan (approved at a gate), then runs it as one batch. */
  "showrunner.plan": { arguments: PlanArgs; result: RunStarted };
  /** Researches a question into the research library. */
  "showrunner.research": { arguments: ResearchArgs; result: RunStarted };
  /** Cancels a run. */
  "showrunner.run.cancel": { arguments: RunArgs; result: RunCancelled };
  /** Runs, newest first. */
  "showrunner.run.list": { arguments: UriArgs; result: RunSummary[] };
  /** A run's state, steps, gate and output. */
  "showrunner.run.status": { arguments: RunArgs; result: RunStatus };
  /** The story and everything the project's runs and history said, best first, with snippets. */
  "showrunner.search": { arguments: SearchArgs; result: Hit[] };
  /** Words per level, POV, the mention heatmap, gaps and goals. */
  "showrunner.stats": { arguments: PictureArgs; result: StatsResult };
  /** A new timeline, forked from the current head or `from_event`. */
  "showrunner.timeline.create": { arguments: HistoryArgs; result: Timeline };
  /** The project's timelines. */
  "showrunner.timeline.list": { arguments: HistoryArgs; result: Timeline[] };
  /** Switches timelines; open documents are updated. */
  "showrunner.timeline.switch": { arguments: HistoryArgs; result: TimelineSwitched };
}

export type CommandName = keyof CommandTypes;
export type CommandArgs<C extends CommandName> = CommandTypes[C]["arguments"];
export type CommandResult<C extends CommandName> = CommandTypes[C]["result"];

/** The command names, as the server lists them in `executeCommandProvider`. */
export const COMMAND_NAMES: readonly CommandName[] = [
  "showrunner.agent.ask",
  "showrunner.batch.approve",
  "showrunner.batch.cancel",
  "showrunner.batch.run",
  "showrunner.batch.status",
  "showrunner.bucket.create",
  "showrunner.context.show",
  "showrunner.export",
  "showrunner.gate.diff",
  "showrunner.gate.list",
  "showrunner.gate.reasoning",
  "showrunner.gate.resolve",
  "showrunner.graph",
  "showrunner.history",
  "showrunner.models.list",
  "showrunner.models.resolve",
  "showrunner.pipeline.list",
  "showrunner.pipeline.run",
  "showrunner.plan",
  "showrunner.research",
  "showrunner.run.cancel",
  "showrunner.run.list",
  "showrunner.run.status",
  "showrunner.search",
  "showrunner.stats",
  "showrunner.timeline.create",
  "showrunner.timeline.list",
  "showrunner.timeline.switch",
];

export const RUN_PROGRESS = "showrunner/runProgress";

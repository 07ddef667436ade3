/**
 * The shapes of Showrunner's editor protocol (extensions/PROTOCOL.md): command names, their
 * arguments and results, and the `showrunner/runProgress` notification. Pure data and argument
 * builders, no `vscode` import, so every shape is unit-tested without an editor.
 *
 * The server's own types are generated into `./generated/protocol.ts`; the names (commands, run
 * states, gate kinds, edit modes, decisions) are taken from there, so a renamed one fails to
 * compile here. What arrives is still validated (`parse*`): nulls become absent fields.
 */
import type * as wire from "./generated/protocol";

/** An LSP position: 0-based line and character (in the negotiated encoding; VS Code's is UTF-16). */
export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** The server's `workspace/executeCommand` commands. */
export const Commands = {
  contextShow: "showrunner.context.show",
  modelsResolve: "showrunner.models.resolve",
  modelsList: "showrunner.models.list",
  bucketCreate: "showrunner.bucket.create",
  pipelineList: "showrunner.pipeline.list",
  pipelineRun: "showrunner.pipeline.run",
  runList: "showrunner.run.list",
  runStatus: "showrunner.run.status",
  runCancel: "showrunner.run.cancel",
  gateList: "showrunner.gate.list",
  gateResolve: "showrunner.gate.resolve",
  gateDiff: "showrunner.gate.diff",
  gateReasoning: "showrunner.gate.reasoning",
  research: "showrunner.research",
  agentAsk: "showrunner.agent.ask",
  timelineList: "showrunner.timeline.list",
  timelineCreate: "showrunner.timeline.create",
  timelineSwitch: "showrunner.timeline.switch",
  history: "showrunner.history",
  stats: "showrunner.stats",
  graph: "showrunner.graph",
  search: "showrunner.search",
  export: "showrunner.export",
  batchRun: "showrunner.batch.run",
  batchStatus: "showrunner.batch.status",
  batchCancel: "showrunner.batch.cancel",
  batchApprove: "showrunner.batch.approve",
  plan: "showrunner.plan",
} as const satisfies Record<string, wire.CommandName>;

export type ServerCommand = (typeof Commands)[keyof typeof Commands];

export const RUN_PROGRESS = "showrunner/runProgress";

/** `interrupted`: the process driving the run ended; a server asks (a `resume` gate) before going on. */
export type RunState = wire.RunState;
/** States in which no process is working on the run (an interrupted run may be resumed later). */
export const FINAL_STATES: readonly RunState[] = ["succeeded", "failed", "cancelled", "interrupted"];

/** `resume`: a run another process left unfinished; approving resumes it, rejecting cancels it. */
export type GateKind = wire.GateKind;
export type Decision = wire.DecisionKind;

export interface ContextItem {
  bucket: string;
  /** What a writer calls it (older servers leave it out: the id stands in). */
  name?: string;
  kind: string;
  reason: string;
  score: number;
  tokens: number;
  text: string;
}

export interface DroppedItem {
  bucket: string;
  name?: string;
  reason: string;
}

export interface ContextResult {
  scene?: string;
  items: ContextItem[];
  dropped: DroppedItem[];
  used_tokens: number;
  budget: number;
}

export interface ModelResolution {
  model: string;
  /** Every level of the cascade, most specific first; `value` is null where the level is unset. */
  chain: { level: string; value: string | null }[];
  /** Why a call to `model` cannot go out (its provider lacks its key, or is not configured). */
  problem?: string | null;
}

export interface ModelEntry {
  model: string;
  provider: string;
}

export interface PipelineInfo {
  id: string;
  title: string;
  description: string;
  layer: "quick_action" | "template" | "custom";
}

export interface RunSummary {
  run: string;
  pipeline: string;
  state: RunState;
  scene?: string | null;
}

export interface RunStep {
  id: string;
  type: string;
  state: string;
  model?: string | null;
}

export interface RunStatus extends RunSummary {
  steps: RunStep[];
  /** The server names the gate's step and kind; its review document comes from `gate.list`. */
  gate?: { step: string; kind: GateKind; uri?: string } | null;
  error?: string | null;
  output?: unknown;
}

/**
 * Where an approved text goes (the server's EditPlan mode, spec 10's names): `replace` and
 * `insert_after` the selection, `append_body`, `replace_body`, `set_frontmatter`, `new_file`.
 */
export type EditMode = wire.EditMode;

/**
 * The change approving a gate makes to a scene, planned once by the server: what the panel shows
 * is exactly what approving applies.
 */
export interface GateEdit {
  /** Project-relative path of the scene. */
  path: string;
  uri?: string;
  /** Absent when the server names a mode this extension does not know. */
  mode?: EditMode;
  /** The frontmatter field, for `set_frontmatter`. */
  field?: string;
  /** The change in words: "will be added after line 29 of 03-supper.md, at the end of the scene". */
  description: string;
  /** A unified diff (`--- a/PATH`, `+++ b/PATH`, one `@@` hunk) of exactly what approving applies. */
  diff: string;
  /** 1-based lines of the scene the change touches. */
  first_line: number;
  last_line: number;
  old_text: string;
  new_text: string;
}

/** A gate as a `gate` event and `showrunner.gate.list` show it. */
export interface GateInfo {
  step: string;
  kind: GateKind;
  /** The review document. */
  uri: string;
  /** The review document's content: the text under review. */
  text?: string;
  model?: string;
  /** Present when approving this gate changes a scene. */
  edit?: GateEdit;
  /** Something the writer must know before deciding. */
  note?: string;
  /**
   * What the model reasoned before its answer (reasoning deltas, `<think>` text): shown apart,
   * collapsed; never part of `text`, so never part of what approving sends.
   */
  reasoning?: string;
  /** Why a call to `model` cannot go out (its provider lacks its key, or is not configured). */
  model_problem?: string;
  /** The judge's score of the answer (0–1), at a judge gate or the output gate after one. */
  confidence?: number;
}

export interface Gate extends GateInfo {
  run: string;
  pipeline?: string;
}

/** `showrunner.gate.diff`: the gate's edit, and the `.diff` file beside its review document. */
export interface GateDiffResult extends GateEdit {
  diff_uri?: string;
}

/** `showrunner.gate.reasoning`: the reasoning, and the `<step>.reasoning.md` file beside the review document. */
export type GateReasoningResult = wire.GateReasoning;
/** One hit of `showrunner.search`: the story, or what a run said. */
export type SearchHit = wire.Hit;

/** The export formats (generated from the server's list), each with what it is for: a
 * `Record` over the generated union, so a format the server adds fails the build until it is
 * described here. */
export const EXPORT_FORMATS: Record<wire.ExportFormat, string> = {
  docx: "standard manuscript format",
  pdf: "a screenplay in industry layout, or a manuscript",
  fdx: "Final Draft",
  epub: "EPUB 3 e-book",
  md: "one Markdown file",
  fountain: "one Fountain file",
};

/**
 * Streamed (as one `text` piece) when what streamed before it in the step turned out not to be
 * the answer: reasoning after all (a bare `</think>`), or an attempt that broke off and is made
 * again. The server's `RETRACTED` (server/agents/src/studio.rs).
 */
export const RETRACTED =
  "\n[the text above was the model's reasoning, or an attempt that broke off: it is not part of the answer]\n";

export interface Timeline {
  name: string;
  current: boolean;
  head?: number | null;
  forked_from?: number | null;
  events?: number;
}

export interface RunProgress {
  run: string;
  pipeline: string;
  state: RunState;
  /** `recorded`: the writer saved a scene holding this run's approved edit, and the history has it. */
  event: wire.ProgressEvent;
  step?: string;
  step_state?: string;
  text?: string;
  gate?: GateInfo;
  error?: string;
  /** `recorded`: the edit plan's id, and the history event that records it (absent when `error`). */
  plan?: string;
  history_event?: string;
}

// ---- argument builders -------------------------------------------------------------------------

export interface PipelineRunArgs {
  pipeline: string;
  uri: string;
  range?: Range;
  inputs?: Record<string, unknown>;
  model?: string;
}

/** `showrunner.pipeline.run`: an empty `model` means "let the cascade decide" and is left out. */
export function pipelineRunArgs(
  pipeline: string,
  uri: string,
  opts: { range?: Range; inputs?: Record<string, unknown>; model?: string } = {},
): PipelineRunArgs {
  const args: PipelineRunArgs = { pipeline, uri };
  if (opts.range) args.range = opts.range;
  if (opts.inputs && Object.keys(opts.inputs).length > 0) args.inputs = opts.inputs;
  if (opts.model && opts.model.trim() !== "") args.model = opts.model.trim();
  return args;
}

export interface GateResolveArgs {
  run: string;
  step: string;
  decision: Decision;
  text?: string;
  model?: string;
}

/**
 * `showrunner.gate.resolve`. `text` is sent only for decisions that read it and `model` only for
 * `change_model`, so a stray value never changes what the server does.
 */
export function gateResolveArgs(
  gate: { run: string; step: string },
  decision: Decision,
  opts: { text?: string; model?: string } = {},
): GateResolveArgs {
  const args: GateResolveArgs = { run: gate.run, step: gate.step, decision };
  const usesText: Decision[] = ["approve", "edit", "paste", "chat", "reject"];
  if (opts.text !== undefined && usesText.includes(decision)) args.text = opts.text;
  if (decision === "change_model" && opts.model) args.model = opts.model;
  return args;
}

export function contextShowArgs(uri: string, position?: Position): { uri: string; position?: Position } {
  return position ? { uri, position } : { uri };
}

export function modelsResolveArgs(opts: { uri?: string; pipeline?: string; step?: string; agent?: string }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts)) if (typeof v === "string" && v !== "") out[k] = v;
  return out;
}

export function bucketCreateArgs(kind: string, name: string, opts: { project?: string; aliases?: string[]; parent?: string } = {}) {
  const args: { kind: string; name: string; project?: string; aliases?: string[]; parent?: string } = {
    kind: kind.trim(),
    name: name.trim(),
  };
  if (opts.project) args.project = opts.project;
  const aliases = (opts.aliases ?? []).map((a) => a.trim()).filter((a) => a !== "");
  if (aliases.length > 0) args.aliases = aliases;
  if (opts.parent && opts.parent.trim() !== "") args.parent = opts.parent.trim();
  return args;
}

/** Splits "Alice, the keeper's daughter" into aliases; quotes are not needed. */
export function parseAliases(text: string): string[] {
  return text.split(",").map((a) => a.trim()).filter((a) => a !== "");
}

export function researchArgs(question: string, uri?: string): { question: string; uri?: string } {
  return uri ? { question: question.trim(), uri } : { question: question.trim() };
}

export function agentAskArgs(text: string, uri?: string, range?: Range): { text: string; uri?: string; range?: Range } {
  const args: { text: string; uri?: string; range?: Range } = { text: text.trim() };
  if (uri) args.uri = uri;
  if (uri && range && !isEmptyRange(range)) args.range = range;
  return args;
}

export function timelineCreateArgs(name: string, fromEvent?: string): { name: string; from_event?: string } {
  return fromEvent ? { name: name.trim(), from_event: fromEvent } : { name: name.trim() };
}

export function isEmptyRange(r: Range): boolean {
  return r.start.line === r.end.line && r.start.character === r.end.character;
}

// ---- validation of what the server sends -------------------------------------------------------

const EVENTS: Record<wire.ProgressEvent, true> = { state: true, step: true, text: true, gate: true, done: true, recorded: true };
const EDIT_MODES: Record<EditMode, true> = { replace: true, insert_after: true, append_body: true, replace_body: true, set_frontmatter: true, new_file: true };
/** The names servers used before spec 10's (still read in workflows). */
const OLD_EDIT_MODES: Record<string, EditMode> = { replace_selection: "replace", insert_after_selection: "insert_after", append: "append_body", set_field: "set_frontmatter" };

/** An edit mode by its name or an earlier one; undefined when unknown. */
export function editMode(name: string | undefined): EditMode | undefined {
  if (name === undefined) return undefined;
  if (Object.hasOwn(EDIT_MODES, name)) return name as EditMode;
  return Object.hasOwn(OLD_EDIT_MODES, name) ? OLD_EDIT_MODES[name] : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/** A gate's `edit`, or undefined when it lacks the change in words or the diff. */
export function parseGateEdit(raw: unknown): GateEdit | undefined {
  if (!isObject(raw)) return undefined;
  const description = str(raw.description);
  const diff = str(raw.diff);
  if (description === undefined || diff === undefined) return undefined;
  const out: GateEdit = {
    path: str(raw.path) ?? "",
    description,
    diff,
    first_line: num(raw.first_line),
    last_line: num(raw.last_line),
    old_text: str(raw.old_text) ?? "",
    new_text: str(raw.new_text) ?? "",
  };
  const mode = editMode(str(raw.mode));
  if (mode !== undefined) out.mode = mode;
  const uri = str(raw.uri);
  if (uri !== undefined) out.uri = uri;
  const field = str(raw.field);
  if (field !== undefined) out.field = field;
  return out;
}

/** A gate of a `gate` event (no `run`), or undefined without a step and a review document. */
export function parseGateInfo(raw: unknown): GateInfo | undefined {
  if (!isObject(raw) || typeof raw.step !== "string" || typeof raw.uri !== "string") return undefined;
  const out: GateInfo = { step: raw.step, kind: (typeof raw.kind === "string" ? raw.kind : "review_prompt") as GateKind, uri: raw.uri };
  const text = str(raw.text);
  if (text !== undefined) out.text = text;
  const model = str(raw.model);
  if (model !== undefined && model !== "") out.model = model;
  const edit = parseGateEdit(raw.edit);
  if (edit) out.edit = edit;
  const note = str(raw.note);
  if (note !== undefined && note.trim() !== "") out.note = note;
  const reasoning = str(raw.reasoning);
  if (reasoning !== undefined && reasoning.trim() !== "") out.reasoning = reasoning;
  const problem = str(raw.model_problem);
  if (problem !== undefined && problem.trim() !== "") out.model_problem = problem;
  if (typeof raw.confidence === "number" && Number.isFinite(raw.confidence)) out.confidence = raw.confidence;
  return out;
}

/** The approval queue (`showrunner.gate.list`); entries without the documented shape are left out. */
export function parseGates(raw: unknown): Gate[] {
  const out: Gate[] = [];
  for (const g of asArray<unknown>(raw)) {
    const info = parseGateInfo(g);
    if (!info || !isObject(g) || typeof g.run !== "string") continue;
    const gate: Gate = { run: g.run, ...info };
    const pipeline = str(g.pipeline);
    if (pipeline !== undefined) gate.pipeline = pipeline;
    out.push(gate);
  }
  return out;
}

/** A `showrunner/runProgress` payload, or undefined when it does not have the documented shape. */
export function parseRunProgress(raw: unknown): RunProgress | undefined {
  if (!isObject(raw)) return undefined;
  const { run, pipeline, state, event } = raw;
  if (typeof run !== "string" || typeof event !== "string" || !Object.hasOwn(EVENTS, event)) return undefined;
  const out: RunProgress = {
    run,
    pipeline: typeof pipeline === "string" ? pipeline : "",
    state: (typeof state === "string" ? state : "running") as RunState,
    event: event as RunProgress["event"],
  };
  if (typeof raw.step === "string") out.step = raw.step;
  if (typeof raw.step_state === "string") out.step_state = raw.step_state;
  if (typeof raw.text === "string") out.text = raw.text;
  if (typeof raw.error === "string") out.error = raw.error;
  if (typeof raw.plan === "string") out.plan = raw.plan;
  if (typeof raw.history_event === "string") out.history_event = raw.history_event;
  const gate = parseGateInfo(raw.gate);
  if (gate) out.gate = gate;
  if (event === "text" && out.text === undefined) return undefined;
  if (event === "gate" && out.gate === undefined) return undefined;
  return out;
}

/** The id of the run a `showrunner.pipeline.run` / `research` / `agent.ask` result names. */
export function runIdOf(result: unknown): string | undefined {
  return isObject(result) && typeof result.run === "string" ? result.run : undefined;
}

export function isContextResult(v: unknown): v is ContextResult {
  return isObject(v) && Array.isArray(v.items) && Array.isArray(v.dropped) && typeof v.used_tokens === "number" && typeof v.budget === "number";
}

export function asArray<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

/** True when a review document path (`.showrunner/runs/<run>/<step>.md`) is given. */
export function reviewDocumentIds(path: string): { run: string; step: string } | undefined {
  const m = /[\\/]\.showrunner[\\/]runs[\\/]([^\\/]+)[\\/]([^\\/]+)\.md$/.exec(path);
  return m && m[1] && m[2] ? { run: m[1], step: m[2] } : undefined;
}

/**
 * The shapes of Showrunner's editor protocol (extensions/PROTOCOL.md): command names, their
 * arguments and results, and the `showrunner/runProgress` notification. Pure data and argument
 * builders, no `vscode` import, so every shape is unit-tested without an editor.
 */

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
  research: "showrunner.research",
  agentAsk: "showrunner.agent.ask",
  timelineList: "showrunner.timeline.list",
  timelineCreate: "showrunner.timeline.create",
  timelineSwitch: "showrunner.timeline.switch",
  history: "showrunner.history",
} as const;

export type ServerCommand = (typeof Commands)[keyof typeof Commands];

export const RUN_PROGRESS = "showrunner/runProgress";

export type RunState = "queued" | "running" | "waiting" | "succeeded" | "failed" | "cancelled";
export const FINAL_STATES: readonly RunState[] = ["succeeded", "failed", "cancelled"];

export type GateKind = "review_prompt" | "approve_output" | "judge" | "verify" | "tool";
export type Decision = "approve" | "edit" | "paste" | "skip" | "change_model" | "chat" | "regenerate" | "reject";

export interface ContextItem {
  bucket: string;
  kind: string;
  reason: string;
  score: number;
  tokens: number;
  text: string;
}

export interface DroppedItem {
  bucket: string;
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

export interface Gate {
  run: string;
  step: string;
  kind: GateKind;
  uri: string;
  pipeline?: string;
  model?: string;
  text?: string;
}

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
  event: "state" | "step" | "text" | "gate" | "done";
  step?: string;
  step_state?: string;
  text?: string;
  gate?: { step: string; kind: GateKind; uri: string };
  error?: string;
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

const EVENTS = new Set(["state", "step", "text", "gate", "done"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A `showrunner/runProgress` payload, or undefined when it does not have the documented shape. */
export function parseRunProgress(raw: unknown): RunProgress | undefined {
  if (!isObject(raw)) return undefined;
  const { run, pipeline, state, event } = raw;
  if (typeof run !== "string" || typeof event !== "string" || !EVENTS.has(event)) return undefined;
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
  if (isObject(raw.gate) && typeof raw.gate.step === "string" && typeof raw.gate.uri === "string") {
    out.gate = { step: raw.gate.step, kind: (typeof raw.gate.kind === "string" ? raw.gate.kind : "review_prompt") as GateKind, uri: raw.gate.uri };
  }
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

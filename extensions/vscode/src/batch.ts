/**
 * Batches and plans from the command palette: which pipelines a batch can run, the targets a
 * writer picks or types, the judge's score to approve at, and the arguments of
 * `showrunner.batch.*` and `showrunner.plan`. The server works the batch; its runs' gates come to
 * the approval queue like any other. Pure: no `vscode` import.
 */
import type * as wire from "./generated/protocol";
import type { PipelineInfo } from "./protocol";
import type { StoryNode } from "./story";

export type BatchStatus = wire.BatchStatus;
export type BatchStarted = wire.BatchStarted;

/**
 * The pipelines a batch can run: not the quick actions, which work on a selection a batch does
 * not have. A project's own pipeline that needs one is refused by the server, which says why.
 */
export function batchablePipelines(list: PipelineInfo[]): PipelineInfo[] {
  return list.filter((p) => p.layer !== "quick_action");
}

/** A target in the picker: what the server is sent (`undefined`: none, e.g. a plan's whole project). */
export interface TargetItem {
  label: string;
  description?: string;
  target?: string;
  alwaysShow?: boolean;
}

/** The whole story, as a batch names it. */
export const WHOLE_STORY: TargetItem = { label: "$(book) The whole story", description: ".", target: "." };
/** A plan without a scope may touch the whole project. */
export const WHOLE_PROJECT: TargetItem = { label: "$(book) The whole project", description: "no scope" };

/**
 * The picker's items: `whole` first, then every season, arc, act and chapter of the Story
 * view's tree in reading order (indented by depth), by name, with kind and id.
 */
export function targetItems(nodes: readonly StoryNode[], whole: TargetItem): TargetItem[] {
  const out: TargetItem[] = [whole];
  const walk = (list: readonly StoryNode[], depth: number) => {
    for (const n of list) {
      if (n.kind === "scene" || n.kind === "message") continue;
      out.push({ label: `${"\u2003".repeat(depth)}${n.label}`, description: `${n.kind} · ${n.id}`, target: n.id });
      walk(n.children, depth + 1);
    }
  };
  walk(nodes, 0);
  return out;
}

/** Targets as typed: scene ids or files, folders, structure ids, `.`; spaces or commas between. */
export function parseTargets(text: string): string[] {
  return text.split(/[\s,]+/).filter((t) => t !== "");
}

/** What the writer typed, offered as an item of its own (after those it matches). */
export function typedTargetItem(value: string): TargetItem | undefined {
  const typed = parseTargets(value);
  if (typed.length === 0) return undefined;
  return { label: `$(edit) ${typed.join(" ")}`, description: "as typed", target: typed.join(" "), alwaysShow: true };
}

/** The arguments of `showrunner.batch.run`; an empty filter or model is left out. */
export function batchRunArgs(o: { pipeline: string; targets: string[]; where?: string; judge: boolean; model?: string; uri?: string }): wire.BatchRunArgs {
  const args: wire.BatchRunArgs = { pipeline: o.pipeline, targets: o.targets, judge: o.judge };
  if (o.where && o.where.trim() !== "") args.where = o.where.trim();
  if (o.model && o.model.trim() !== "") args.model = o.model.trim();
  if (o.uri) args.uri = o.uri;
  return args;
}

/** "1 run", "3 runs". */
export function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** The default score for "Approve Well-Judged Gates…". */
export const DEFAULT_SCORE = "0.9";

/** A judge's score typed by the writer (0 to 1), or undefined. */
export function parseScore(text: string): number | undefined {
  const t = text.trim();
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(t)) return undefined;
  const n = Number(t);
  return n >= 0 && n <= 1 ? n : undefined;
}

/** The input box's complaint about a typed score, or undefined when it is one. */
export function scoreProblem(text: string): string | undefined {
  return parseScore(text) === undefined ? "A score from 0 to 1, e.g. 0.9" : undefined;
}

export function batchApproveArgs(minConfidence: number, opts: { batch?: string; uri?: string } = {}): wire.BatchApproveArgs {
  const args: wire.BatchApproveArgs = { min_confidence: minConfidence };
  if (opts.batch) args.batch = opts.batch;
  if (opts.uri) args.uri = opts.uri;
  return args;
}

/** `showrunner.batch.status` / `.cancel`: the batch named, else the project's latest. */
export function batchArgs(opts: { batch?: string; uri?: string } = {}): wire.BatchArgs {
  const args: wire.BatchArgs = {};
  if (opts.batch) args.batch = opts.batch;
  if (opts.uri) args.uri = opts.uri;
  return args;
}

/** The arguments of `showrunner.plan`; an empty scope (the whole project) or model is left out. */
export function planArgs(o: { goal: string; scope?: string; model?: string; uri?: string }): wire.PlanArgs {
  const args: wire.PlanArgs = { goal: o.goal.trim() };
  if (o.scope && o.scope.trim() !== "") args.scope = o.scope.trim();
  if (o.model && o.model.trim() !== "") args.model = o.model.trim();
  if (o.uri) args.uri = o.uri;
  return args;
}

/** The server's answer when a project has had no batch yet: the Batches view is then empty. */
export function isNoBatch(message: string): boolean {
  return /no batch in this project yet/.test(message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const COUNTS = ["total", "done", "running", "waiting", "failed", "queued", "cancelled"] as const;

/** A `showrunner.batch.status` answer, or undefined without the documented shape. */
export function parseBatchStatus(raw: unknown): BatchStatus | undefined {
  if (!isObject(raw) || typeof raw.batch !== "string" || typeof raw.summary !== "string" || !Array.isArray(raw.runs)) return undefined;
  if (!COUNTS.every((k) => typeof raw[k] === "number")) return undefined;
  const runs = raw.runs.filter((r): r is BatchStatus["runs"][number] => isObject(r) && typeof r.run === "string" && typeof r.state === "string");
  return { ...(raw as unknown as BatchStatus), working: raw.working === true, runs };
}

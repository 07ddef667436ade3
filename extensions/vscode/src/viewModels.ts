/**
 * Rows of the sidebar views (Context, Approval Queue, Runs, Batches, Timelines) and the status bar text,
 * computed from the server's command results. Pure; the tree providers in `views.ts` turn rows
 * into VS Code tree items.
 */
import type { ContextResult, Gate, RunSummary, SearchHit, Timeline } from "./protocol";
import { pipelineTitle } from "./actions";
import type { BatchStatus } from "./batch";

export interface Row {
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  /** A codicon name. */
  icon?: string;
  /** Shown greyed out (context items that matched but did not fit). */
  greyed?: boolean;
  /** Child rows (a context item's reason and text). */
  children?: Row[];
  /** Shown with its children open (a context item's reason reads as its second line). */
  expanded?: boolean;
  contextValue?: string;
}

export function formatTokens(n: number): string {
  return n.toLocaleString("en-US");
}

const KIND_ICONS: Record<string, string> = {
  character: "person",
  location: "location",
  place: "location",
  item: "package",
  object: "package",
  faction: "organization",
  research: "book",
  note: "note",
  lore: "note",
  season: "library",
  arc: "milestone",
  act: "list-tree",
  chapter: "list-ordered",
  scene: "file-text",
};

export function kindIcon(kind: string): string {
  return KIND_ICONS[kind] ?? "symbol-misc";
}

export function contextRows(ctx: ContextResult): Row[] {
  const rows: Row[] = [
    {
      id: "summary",
      label: `${formatTokens(ctx.used_tokens)} / ${formatTokens(ctx.budget)} tokens`,
      description: `${ctx.items.length} sent, ${ctx.dropped.length} dropped`,
      icon: ctx.used_tokens > ctx.budget ? "warning" : "dashboard",
      contextValue: "summary",
    },
  ];
  ctx.items.forEach((item, i) => {
    const excerpt = item.text.trim();
    const name = item.name || item.bucket;
    // The name, then why it is sent on a line of its own (the row opens on it), then its text.
    const lines = excerpt === "" ? [] : excerpt.split("\n").filter((l) => l.trim() !== "").map((line, j) => ({ id: `item:${i}:line:${j}`, label: line }));
    const children: Row[] = [{ id: `item:${i}:why`, label: item.reason, icon: "info", tooltip: `Why ${name} is sent: ${item.reason}` }];
    if (lines.length) children.push({ id: `item:${i}:text`, label: "What is sent", description: `${lines.length} line${lines.length === 1 ? "" : "s"}`, icon: "note", children: lines });
    rows.push({
      id: `item:${i}:${item.bucket}`,
      label: name,
      description: `${item.kind} · ${formatTokens(item.tokens)} tokens`,
      tooltip: `${name} (${item.kind}, id ${item.bucket})\nWhy: ${item.reason}\nScore: ${item.score.toFixed(2)} · ${formatTokens(item.tokens)} tokens\n\n${excerpt}`,
      icon: kindIcon(item.kind),
      contextValue: "contextItem",
      expanded: true,
      children,
    });
  });
  ctx.dropped.forEach((d, i) => {
    const name = d.name || d.bucket;
    rows.push({
      id: `dropped:${i}:${d.bucket}`,
      label: name,
      description: "not sent",
      tooltip: `${name} (id ${d.bucket}) matched but is not sent: ${d.reason}`,
      icon: "circle-slash",
      greyed: true,
      contextValue: "droppedItem",
      expanded: true,
      children: [{ id: `dropped:${i}:why`, label: d.reason, icon: "info", greyed: true }],
    });
  });
  return rows;
}

export function stateIcon(state: string): string {
  switch (state) {
    case "queued":
      return "clock";
    case "running":
      return "sync~spin";
    case "waiting":
      return "bell-dot";
    case "succeeded":
      return "pass";
    case "failed":
      return "error";
    case "cancelled":
      return "circle-slash";
    case "interrupted":
      return "debug-pause";
    default:
      return "circle-outline";
  }
}

function basename(p: string): string {
  const s = p.replace(/\\/g, "/");
  return s.slice(s.lastIndexOf("/") + 1);
}

export function runRows(runs: RunSummary[]): Row[] {
  return runs.map((r) => ({
    id: `run:${r.run}`,
    label: pipelineTitle(r.pipeline),
    description: `${r.state}${r.scene ? ` · ${basename(r.scene)}` : ""}`,
    tooltip: `${r.run}\n${r.pipeline}: ${r.state}${r.scene ? `\n${r.scene}` : ""}`,
    icon: stateIcon(r.state),
    contextValue: r.state === "running" || r.state === "waiting" || r.state === "queued" ? "run.active" : "run.done",
  }));
}

export function gateKindLabel(kind: string): string {
  switch (kind) {
    case "review_prompt":
      return "review prompt";
    case "approve_output":
      return "approve output";
    case "judge":
      return "judge escalated";
    case "verify":
      return "continuity escalated";
    case "tool":
      return "agent tool";
    case "resume":
      return "resume interrupted run?";
    default:
      return kind;
  }
}

/** The judge's score of a gate's answer: 0.92 → "judged 0.92"; undefined when it was not judged. */
export function judged(confidence: number | null | undefined): string | undefined {
  return typeof confidence === "number" && Number.isFinite(confidence) ? `judged ${confidence.toFixed(2)}` : undefined;
}

/** What a gate's row and the queue's picker say beside its name: "approve · judged 0.92 · local/test". */
export function gateDescription(g: Gate): string {
  return [g.step, judged(g.confidence), g.model].filter(Boolean).join(" · ");
}

export function gateRows(gates: Gate[]): Row[] {
  return gates.map((g) => ({
    id: `gate:${g.run}:${g.step}`,
    label: `${g.pipeline ? pipelineTitle(g.pipeline) : g.run}: ${gateKindLabel(g.kind)}`,
    description: gateDescription(g),
    tooltip: `${g.run} · step ${g.step}${g.confidence !== undefined ? ` · the judge scored the answer ${g.confidence}` : ""}\n${g.uri}${g.edit ? `\nApproving: ${g.edit.description}` : ""}${g.note ? `\n⚠ ${g.note}` : ""}${g.text ? `\n\n${g.text.slice(0, 400)}` : ""}`,
    icon: g.kind === "review_prompt" ? "comment-discussion" : g.kind === "resume" ? "debug-continue" : g.edit ? "diff" : "check-all",
    contextValue: "gate",
  }));
}

/**
 * The Batches view: the batch's counts as the terminal words them ("3/8 done · 2 running · …"),
 * its runs below as the Runs view shows them (open one, cancel an active one).
 */
export function batchRows(st: BatchStatus): Row[] {
  const finished = st.done + st.failed + st.cancelled === st.total;
  const more = [st.working ? "working" : finished ? "finished" : "not worked by this server", st.cancelled > 0 ? `${st.cancelled} cancelled` : ""];
  return [
    {
      id: `batch:${st.batch}`,
      label: st.summary,
      description: more.filter(Boolean).join(" · "),
      tooltip: `Batch ${st.batch}: ${st.total} runs\n${st.summary}${st.cancelled > 0 ? ` · ${st.cancelled} cancelled` : ""}${st.working ? "\nThe language server is working it." : ""}`,
      icon: st.working ? "sync~spin" : st.failed > 0 ? "warning" : !finished ? "debug-pause" : st.cancelled > 0 ? "circle-slash" : "pass",
      contextValue: st.working ? "batch.active" : "batch",
      expanded: true,
      children: runRows(st.runs),
    },
  ];
}

export function timelineRows(timelines: Timeline[]): Row[] {
  return timelines.map((t) => ({
    id: `timeline:${t.name}`,
    label: t.name,
    description: [t.current ? "current" : "", t.events !== undefined ? `${t.events} events` : "", t.forked_from !== undefined && t.forked_from !== null ? `forked at #${t.forked_from}` : ""]
      .filter(Boolean)
      .join(" · "),
    icon: t.current ? "git-branch" : "circle-outline",
    contextValue: t.current ? "timeline.current" : "timeline",
  }));
}

export function currentTimeline(timelines: Timeline[]): string | undefined {
  return timelines.find((t) => t.current)?.name;
}

/** `$(git-branch) main · $(hubot) local/llama3.1`; unknown parts are left out. */
export function statusText(timeline: string | undefined, model: string | undefined, activeRuns = 0): string {
  const parts = [`$(book) Showrunner`];
  if (timeline) parts.push(`$(git-branch) ${timeline}`);
  if (model) parts.push(`$(hubot) ${model}`);
  if (activeRuns > 0) parts.push(`$(sync~spin) ${activeRuns}`);
  return parts.join("  ");
}

/** The kinds of a project's buckets that are not built in (from the graph's nodes), sorted. */
export function projectKinds(nodes: { kind?: unknown }[], builtin: readonly string[]): string[] {
  const skip = new Set([...builtin, "scene", "season", "arc", "act", "chapter"]);
  const kinds = new Set<string>();
  for (const n of nodes) if (typeof n.kind === "string" && n.kind !== "" && !skip.has(n.kind)) kinds.add(n.kind);
  return [...kinds].sort();
}

/** A search hit as a quick-pick item: its title and kind, where it is (file, run, model), and
 * the snippet with the matched words unmarked; `path` is the file to open, project-relative. */
export interface SearchItem {
  label: string;
  description: string;
  detail: string;
  path?: string;
}

export function searchItems(hits: SearchHit[]): SearchItem[] {
  return hits.map((h) => {
    const where = [h.path ?? undefined, h.run ? `run ${h.run}` : undefined, h.model ?? undefined].filter((x): x is string => !!x);
    return {
      label: `${h.source === "runs" ? "$(history)" : "$(book)"} ${h.title}`,
      description: [h.kind, ...where].join(" · "),
      detail: h.snippet.replace(/\*\*/g, "").replace(/\s+/g, " ").trim(),
      path: h.path ?? undefined,
    };
  });
}

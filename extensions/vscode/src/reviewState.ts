/**
 * The review panel's logic as a pure state machine: events in (a gate opened, streamed text, the
 * writer pressed a button, the server answered), a new state and effects out (resolve the gate,
 * cancel the run, pick a model, read a review document). `reviewPanel.ts` only carries events and
 * effects between this module, the webview and the language server; nothing here imports
 * `vscode`, so every transition is unit-tested.
 *
 * The change approving makes to a scene is the server's: a gate's `edit` (the change in words and
 * a unified diff, planned once). The panel shows it as it comes and never computes one itself.
 *
 * What the model reasoned before its answer (a gate's `reasoning`, and streamed text the server
 * retracts as not the answer) is shown apart and collapsed; it is never in `text`, the only text
 * a decision sends.
 */
import { humanize } from "./actions";
import { parseUnifiedDiff, type ParsedDiff } from "./diff";
import { completedItems, itemLabel } from "./jsonStream";
import { judged } from "./viewModels";
import {
  FINAL_STATES,
  gateResolveArgs,
  RETRACTED,
  type Decision,
  type GateEdit,
  type GateInfo,
  type GateKind,
  type GateResolveArgs,
  type ModelResolution,
  type RunProgress,
  type RunState,
} from "./protocol";

export interface GateRef {
  step: string;
  kind: GateKind;
  uri: string;
}

/** What the panel shows below the text: a plain view, an editor, or an input for chat or paste. */
export type Mode = "view" | "edit" | "chat" | "paste";

export type Phase =
  /** The run is going on, not at a gate (or the gate's document is being read). */
  | "running"
  /** A gate is open and its text loaded: the buttons work. */
  | "gate"
  /** A decision was sent; waiting for the server's answer. */
  | "resolving"
  /** The run ended (or stopped: cancelled, failed, interrupted). */
  | "finished";

export interface ReviewState {
  run: string;
  pipeline: string;
  runState: RunState;
  phase: Phase;
  gate?: GateRef;
  /** The text under review as the server wrote it (the review document). */
  text: string;
  /** Increases whenever `text` is replaced, so the webview knows when to drop the writer's edits. */
  version: number;
  mode: Mode;
  model?: string;
  chain: { level: string; value: string | null }[];
  /** Streamed output of the current step (since the last retraction: what may be the answer). */
  stream: string;
  streamStep?: string;
  /** Text the current step streamed that the server then said is not the answer, in order. */
  retracted: string[];
  /** The change approving this gate makes, as the server planned it. */
  edit?: GateEdit;
  /** What the writer must know before deciding (the server's words). */
  note?: string;
  /** What the model reasoned before the answer under review: shown collapsed, never sent. */
  reasoning?: string;
  /** The judge's score of the answer under review (0–1), when it was judged. */
  confidence?: number;
  /** Chat messages the writer sent at this gate. */
  chat: string[];
  pending?: Decision;
  notice?: string;
  error?: string;
  /** The edit the writer approved in this panel: where it went is told when the run ends. */
  approved?: GateEdit;
  /** The approved edit's scene after the run: open in an editor, and unsaved. */
  editor?: { open: boolean; dirty: boolean };
  /** The server recorded the approved edit in the history when the writer saved the scene. */
  recorded?: { event?: string; error?: string };
  /** What the panel is about, in words: "Rewrite · arrival.md, line 7" (absent: the pipeline's id). */
  heading?: string;
  /** The panel knows how the run was started, so it can start it again with another model. */
  canRetry: boolean;
  /** The run graph: the pipeline's steps in order, with their live states. */
  steps: RunGraphStep[];
  /** Why the gate's model cannot be called (the server's words): flagged before approving. */
  modelProblem?: string;
  /** The writer undid the approved edit from the panel (or why that could not be done). */
  undo?: { done: boolean; error?: string };
}

/** One step of the run graph. `state` is the server's step state (pending, running, …). */
export interface RunGraphStep {
  id: string;
  type: string;
  state: string;
}

export type UserAction =
  | { action: "approve"; text?: string }
  | { action: "edit" }
  | { action: "chat"; text?: string }
  | { action: "paste"; text?: string }
  | { action: "skip" }
  | { action: "regenerate" }
  | { action: "change_model"; model?: string }
  | { action: "reject"; text?: string }
  | { action: "cancel" }
  | { action: "view" }
  | { action: "open_diff" }
  | { action: "open_reasoning" }
  /** Put back what the approved edit replaced (in the editor's buffer, unsaved). */
  | { action: "undo" }
  /** Start the failed run again with another model. */
  | { action: "retry" };

export type ReviewEvent =
  | { type: "progress"; progress: RunProgress }
  /** A review document read by the panel (when a gate arrived without its text). */
  | { type: "gateLoaded"; gate: GateRef; text: string; model?: string; edit?: GateEdit; note?: string; reasoning?: string; model_problem?: string; confidence?: number }
  | { type: "model"; resolution: ModelResolution }
  | { type: "user"; user: UserAction }
  | { type: "resolved"; decision: Decision; error?: string }
  /** Where the approved edit's scene stands in the editor (the answer to `checkEditor`). */
  | { type: "editor"; uri: string; open: boolean; dirty: boolean }
  /** What the panel knows of the run beside its events: its heading, whether it can be retried. */
  | { type: "info"; heading?: string; canRetry?: boolean }
  /** The run's steps as `showrunner.run.status` lists them. */
  | { type: "steps"; steps: RunGraphStep[] }
  /** The answer to an `undo` effect. */
  | { type: "undone"; error?: string };

export type Effect =
  | { type: "resolve"; args: GateResolveArgs }
  | { type: "cancel"; run: string }
  | { type: "loadGate"; gate: GateRef }
  | { type: "resolveModel"; step: string }
  | { type: "pickModel" }
  | { type: "askRejectReason" }
  | { type: "openDiff"; run: string; step: string }
  | { type: "openReasoning"; run: string; step: string }
  | { type: "checkEditor"; uri: string }
  | { type: "undo"; edit: GateEdit }
  | { type: "retry" };

export interface Transition {
  state: ReviewState;
  effects: Effect[];
  /** True when only streamed text grew: the webview can append instead of re-rendering. */
  appendOnly?: string;
}

export function initialState(run: string, pipeline: string): ReviewState {
  return { run, pipeline, runState: "running", phase: "running", text: "", version: 0, mode: "view", chain: [], stream: "", retracted: [], chat: [], canRetry: false, steps: [] };
}

/** Decisions after which the gate stays open with a new text (PROTOCOL.md, "Gate decisions"). */
const STAYS_OPEN: readonly Decision[] = ["chat", "change_model", "regenerate"];

export function isOutputGate(kind: GateKind | undefined): boolean {
  return kind === "approve_output" || kind === "judge" || kind === "verify" || kind === "tool";
}

function same(state: ReviewState): Transition {
  return { state, effects: [] };
}

function label(d: Decision): string {
  return d.replace("_", " ");
}

function send(state: ReviewState, decision: Decision, opts: { text?: string; model?: string } = {}): Transition {
  const gate = state.gate;
  if (!gate) return same(state);
  // Approving a gate with an edit applies that edit (with the writer's text, at the same place).
  const approved = (decision === "approve" || decision === "edit") && state.edit ? state.edit : state.approved;
  // What streams next (the next step, or this gate's output again) starts a new live output. It
  // is cleared now, not when the server answers: its text may already be streaming by then.
  return {
    state: { ...state, phase: "resolving", pending: decision, notice: undefined, approved, stream: "", streamStep: undefined, retracted: [] },
    effects: [{ type: "resolve", args: gateResolveArgs({ run: state.run, step: gate.step }, decision, opts) }],
  };
}

function onUser(state: ReviewState, u: UserAction): Transition {
  if (u.action === "cancel") {
    if (state.phase === "finished") return same(state);
    return { state: { ...state, notice: "Cancelling…" }, effects: [{ type: "cancel", run: state.run }] };
  }
  if (u.action === "undo") {
    const a = state.approved;
    if (!canUndo(state) || !a) return same(state);
    return { state: { ...state, notice: "Undoing…" }, effects: [{ type: "undo", edit: a }] };
  }
  if (u.action === "retry") {
    if (state.phase !== "finished" || !state.canRetry || state.runState === "succeeded") return same(state);
    return { state, effects: [{ type: "retry" }] };
  }
  if (state.phase !== "gate") return same(state);
  switch (u.action) {
    case "view":
    case "edit":
      return same({ ...state, mode: u.action });
    case "open_diff":
      if (!state.edit || !state.gate) return same(state);
      return { state, effects: [{ type: "openDiff", run: state.run, step: state.gate.step }] };
    case "open_reasoning":
      if (state.reasoning === undefined || !state.gate) return same(state);
      return { state, effects: [{ type: "openReasoning", run: state.run, step: state.gate.step }] };
    case "approve":
      // Text that differs from the review document is an edit; otherwise the server reads the
      // document itself (which may have been edited in a normal editor too). Either way only the
      // text under review goes: the reasoning is never part of it.
      if (u.text !== undefined && u.text !== state.text && state.gate?.kind !== "resume") return send(state, "edit", { text: u.text });
      return send(state, "approve");
    case "chat":
    case "paste": {
      if (state.mode !== u.action) return same({ ...state, mode: u.action });
      const text = u.text?.trim() ?? "";
      if (text === "") return same({ ...state, notice: u.action === "chat" ? "Type a message to the model first." : "Paste the answer first." });
      const next = u.action === "chat" ? { ...state, chat: [...state.chat, text] } : state;
      return send(next, u.action, { text });
    }
    case "skip":
    case "regenerate":
      return send(state, u.action);
    case "change_model":
      if (!u.model) return { state, effects: [{ type: "pickModel" }] };
      return send({ ...state, model: u.model }, "change_model", { model: u.model });
    case "reject":
      if (u.text === undefined) {
        // Not resuming needs no reason: the run is cancelled.
        if (state.gate?.kind === "resume") return send(state, "reject", { text: "not resumed (review panel)" });
        return { state, effects: [{ type: "askRejectReason" }] };
      }
      return send(state, "reject", { text: u.text.trim() === "" ? "rejected in the review panel" : u.text.trim() });
  }
}

function sameEdit(a: GateEdit | undefined, b: GateEdit | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.diff === b.diff && a.description === b.description);
}

/** What a gate brings beside its text. */
interface GateExtras {
  model?: string;
  edit?: GateEdit;
  note?: string;
  reasoning?: string;
  model_problem?: string;
  confidence?: number;
}

/**
 * Whether a run's gate takes the one review panel: always when the writer asked for it (the
 * queue, the Runs view); otherwise only when it is the writer's current work (a run started or
 * seen working in this window — never a gate restored at launch, which waits in the queue) and
 * the panel is not showing another run's open question (`shownPhase`: the phase of the run the
 * panel shows, when that is another run).
 */
export function takesPanel(o: { explicit: boolean; current: boolean; shownPhase?: Phase }): boolean {
  if (o.explicit) return true;
  return o.current && o.shownPhase !== "gate" && o.shownPhase !== "resolving";
}

/** The approved edit can be put back from the panel: the run applied it and it added text. */
export function canUndo(state: ReviewState): boolean {
  const a = state.approved;
  return state.phase === "finished" && state.runState === "succeeded" && a !== undefined && a.mode !== "new_file" && a.new_text !== "" && !state.undo?.done;
}

/** The gate is open with this text: the buttons work. */
function enterGate(state: ReviewState, gate: GateRef, text: string, { model, edit, note, reasoning, model_problem, confidence }: GateExtras): Transition {
  const newStep = state.gate?.step !== gate.step;
  const changed = newStep || text !== state.text;
  const next: ReviewState = {
    ...state,
    phase: "gate",
    runState: "waiting",
    gate: { step: gate.step, kind: gate.kind, uri: gate.uri },
    text,
    version: changed ? state.version + 1 : state.version,
    mode: changed ? "view" : state.mode,
    chat: newStep ? [] : state.chat,
    model: model ?? state.model,
    edit,
    note,
    reasoning,
    modelProblem: model_problem,
    confidence,
    pending: undefined,
    notice: undefined,
    error: undefined,
  };
  return { state: next, effects: newStep || state.chain.length === 0 ? [{ type: "resolveModel", step: gate.step }] : [] };
}

function finish(state: ReviewState, next: ReviewState, error: string | undefined): Transition {
  const done: ReviewState = {
    ...next,
    phase: "finished",
    error,
    pending: undefined,
    notice: undefined,
    gate: undefined,
    edit: undefined,
    note: undefined,
    reasoning: undefined,
    modelProblem: undefined,
    confidence: undefined,
  };
  // Where did the approved edit go? An open scene holds it unsaved; ask the editor.
  const uri = state.approved?.uri;
  const check = state.phase !== "finished" && next.runState === "succeeded" && uri !== undefined;
  return { state: done, effects: check ? [{ type: "checkEditor", uri }] : [] };
}

function onProgress(state: ReviewState, p: RunProgress): Transition {
  if (p.run !== state.run) return same(state);
  const next: ReviewState = { ...state, pipeline: p.pipeline || state.pipeline, runState: p.state };
  switch (p.event) {
    case "text": {
      const text = p.text ?? "";
      const sameStep = next.streamStep === p.step;
      // The server's retraction marker moves what streamed before it out of the answer.
      const split = splitRetracted((sameStep ? next.stream : "") + text);
      if (sameStep && split.retracted.length === 0) return { state: { ...next, stream: split.stream }, effects: [], appendOnly: text };
      return { state: { ...next, stream: split.stream, streamStep: p.step, retracted: [...(sameStep ? next.retracted : []), ...split.retracted] }, effects: [] };
    }
    case "gate": {
      const g: GateInfo | undefined = p.gate;
      if (!g) return same(next);
      const ref: GateRef = { step: g.step, kind: g.kind, uri: g.uri };
      const sameStep = state.gate?.step === g.step;
      // An approve or a skip on its way: this is the same gate shown again, not a new question.
      if (sameStep && state.phase === "resolving" && !(state.pending && STAYS_OPEN.includes(state.pending))) return same(next);
      if (g.text === undefined) {
        // A gate without its text (an older server, or a review document the server showed):
        // read the review document.
        if (sameStep && state.phase === "gate") return same(next);
        return {
          state: { ...next, phase: "running", gate: ref, mode: "view", chat: sameStep ? state.chat : [], edit: undefined, note: undefined, reasoning: undefined, confidence: undefined },
          effects: [{ type: "loadGate", gate: ref }],
        };
      }
      const unchanged =
        sameStep &&
        state.phase === "gate" &&
        state.gate?.kind === g.kind &&
        g.text === state.text &&
        sameEdit(g.edit, state.edit) &&
        g.note === state.note &&
        g.reasoning === state.reasoning &&
        g.model_problem === state.modelProblem &&
        g.confidence === state.confidence;
      if (unchanged) return same(next);
      // A new gate, or the same gate asked again (after a chat, a model change or a
      // regeneration): its text, edit, note and reasoning replace what was shown.
      return enterGate(next, ref, g.text, g);
    }
    case "done":
      return finish(state, next, p.error);
    case "state":
      if (FINAL_STATES.includes(p.state)) return finish(state, next, p.error);
      if (p.state === "running" && state.phase === "gate") return same({ ...next, phase: "running", gate: undefined, edit: undefined, note: undefined, reasoning: undefined, confidence: undefined });
      return same(next);
    case "recorded":
      return same({ ...next, recorded: p.error !== undefined ? { error: p.error } : { event: p.history_event } });
    case "step":
      return same(p.step ? { ...next, steps: withStep(next.steps, p.step, p.step_state ?? "running") } : next);
  }
}

/** The run graph with `id` in `stepState` (a step the graph did not list yet is added at the end). */
function withStep(steps: RunGraphStep[], id: string, stepState: string): RunGraphStep[] {
  if (!steps.some((s) => s.id === id)) return [...steps, { id, type: "", state: stepState }];
  return steps.map((s) => (s.id === id ? { ...s, state: stepState } : s));
}

export function reduce(state: ReviewState, ev: ReviewEvent): Transition {
  switch (ev.type) {
    case "progress":
      return onProgress(state, ev.progress);
    case "gateLoaded":
      if (state.phase === "finished") return same(state);
      return enterGate(state, ev.gate, ev.text, ev);
    case "model":
      return same({ ...state, model: ev.resolution.model, chain: ev.resolution.chain });
    case "user":
      return onUser(state, ev.user);
    case "info":
      return same({ ...state, heading: ev.heading ?? state.heading, canRetry: ev.canRetry ?? state.canRetry });
    case "steps": {
      // Live states that arrived before the list win over the list's (older) ones.
      const live = new Map(state.steps.map((s) => [s.id, s.state]));
      return same({ ...state, steps: ev.steps.map((s) => ({ ...s, state: live.get(s.id) ?? s.state })) });
    }
    case "undone":
      return same({ ...state, notice: undefined, undo: ev.error !== undefined ? { done: false, error: ev.error } : { done: true } });
    case "editor":
      if (state.approved?.uri !== ev.uri || (state.editor?.open === ev.open && state.editor.dirty === ev.dirty)) return same(state);
      return same({ ...state, editor: { open: ev.open, dirty: ev.dirty } });
    case "resolved": {
      if (state.phase !== "resolving" || state.pending !== ev.decision) {
        // The next gate, or the run's end, arrived before the answer: it already moved on.
        return ev.error !== undefined ? same({ ...state, notice: ev.error }) : same(state);
      }
      if (ev.error !== undefined) {
        const approved = ev.decision === "approve" || ev.decision === "edit" ? undefined : state.approved;
        return same({ ...state, phase: "gate", pending: undefined, notice: ev.error, approved });
      }
      if (STAYS_OPEN.includes(ev.decision)) {
        // The gate is asked again with a new text (a `gate` event); until then nothing to decide.
        return same({ ...state, phase: "running", pending: undefined, mode: "view", notice: `${label(ev.decision)}: sent; waiting for the new version…` });
      }
      return same({
        ...state,
        phase: "running",
        gate: undefined,
        edit: undefined,
        note: undefined,
        reasoning: undefined,
        confidence: undefined,
        mode: "view",
        pending: undefined,
        notice: `${label(ev.decision)}: sent`,
      });
    }
  }
}

/**
 * Streamed text cut at the server's retraction markers: what came before each marker is not the
 * answer (`retracted`, empty pieces left out); what follows the last one is still streaming.
 */
export function splitRetracted(streamed: string): { stream: string; retracted: string[] } {
  const retracted: string[] = [];
  let rest = streamed;
  for (let i = rest.indexOf(RETRACTED); i >= 0; i = rest.indexOf(RETRACTED)) {
    const piece = rest.slice(0, i);
    if (piece.trim() !== "") retracted.push(piece);
    rest = rest.slice(i + RETRACTED.length);
  }
  return { stream: rest, retracted };
}

/** Words as the server counts them (white space separated). */
export function wordCount(text: string): number {
  return text.split(/\s+/).filter((w) => w !== "").length;
}

// ---- what the webview shows --------------------------------------------------------------------

export interface Section {
  title: string;
  body: string;
  /** Context sections (`### Name (kind)`) are collapsible; the prompt's own text is not. */
  collapsible: boolean;
}

/** Splits a rendered prompt at the context engine's `### ` headings. */
export function promptSections(text: string): Section[] {
  const out: Section[] = [];
  let current: Section = { title: "", body: "", collapsible: false };
  for (const line of text.replace(/\r\n?/g, "\n").split("\n")) {
    const m = /^### (.+)$/.exec(line);
    if (m) {
      if (current.body.trim() !== "" || current.title !== "") out.push(current);
      current = { title: m[1]!.trim(), body: "", collapsible: true };
    } else if (current.collapsible && line.trim() !== "" && /^\S.*:\s*$/.test(line) && !/^(Also called|Since)\b/.test(line)) {
      // A template line such as "The scene so far:" ends the context block.
      out.push(current);
      current = { title: "", body: line + "\n", collapsible: false };
    } else {
      current.body += line + "\n";
    }
  }
  if (current.body.trim() !== "" || current.title !== "") out.push(current);
  return out.map((s) => ({ ...s, body: s.body.replace(/\n+$/, "") }));
}

export type Button = { id: UserAction["action"]; label: string; enabled: boolean; primary?: boolean; title?: string };

/** What each kind of gate asks, in words (the server's labels). */
export const GATE_LABELS: Record<GateKind, string> = {
  review_prompt: "Review the prompt",
  approve_output: "Approve the output",
  judge: "The judge wants a human",
  verify: "Continuity check wants a human",
  tool: "The agent wants to change the project",
  resume: "Resume this interrupted run?",
};

export function gateLabel(kind: GateKind): string {
  return GATE_LABELS[kind] ?? String(kind).replace(/_/g, " ");
}

function basename(p: string): string {
  const s = p.replace(/\\/g, "/");
  return s.slice(s.lastIndexOf("/") + 1);
}

/** "On approval, the text will be added after line 29 of 03-supper.md, at the end of the scene." */
export function approvalSentence(edit: GateEdit): string {
  const d = edit.description.trim();
  return `On approval, the text ${d}${/[.!?]$/.test(d) ? "" : "."}`;
}

/** The approve button says what approving does to which scene. */
export function approveLabel(edit: GateEdit | undefined): string {
  if (!edit) return "Approve";
  const file = basename(edit.path) || "the scene";
  switch (edit.mode) {
    case "append_body":
    case "insert_after":
      return `Approve: add to ${file}`;
    case "replace":
      return `Approve: replace the selection in ${file}`;
    case "replace_body":
      return `Approve: replace the text of ${file}`;
    case "set_frontmatter":
      return `Approve: set ${edit.field ? `${edit.field}:` : "the field"} in ${file}`;
    case "new_file":
      return `Approve: create ${file}`;
    case undefined:
      return `Approve: change ${file}`;
  }
}

export interface EditView {
  /** The change in words, as the server wrote it. */
  description: string;
  /** The same as a sentence: "On approval, the text …". */
  sentence: string;
  path: string;
  /** The server's unified diff, read into rows with line numbers. */
  diff: ParsedDiff;
  /** The writer is editing the text: approving applies their version at the same place. */
  editing: boolean;
}

export interface ViewModel {
  /** What the panel is about, in words: "Rewrite · arrival.md, line 7". */
  title: string;
  /** What is asked, or where the run stands, in a sentence. */
  status: string;
  phase: Phase;
  gateKind?: GateKind;
  model?: string;
  chain: { level: string; value: string | null }[];
  /** The prompt's own text (or the output under review) first … */
  sections: Section[];
  /** … and the context notes it carries, collapsed under one line. */
  notes?: { count: number; tokens: number };
  text: string;
  version: number;
  mode: Mode;
  /** The main decisions (Approve / Edit / Reject, or what the moment needs) … */
  buttons: Button[];
  /** … and the rest, under "More". */
  more: Button[];
  stream: string;
  streamItems: string[];
  /** Streamed text the server said is not the answer (reasoning, or an attempt that broke off). */
  retracted: { text: string; words: number }[];
  /** What the model reasoned before the answer under review: collapsed, apart from `text`. */
  reasoning?: { text: string; words: number };
  /** The change approving makes to a scene (only when the server says there is one). */
  edit?: EditView;
  /** A warning the writer must see before deciding. */
  warning?: string;
  /** The gate's model cannot be called (the server's words): "Change model" is the main action. */
  modelProblem?: string;
  /** The judge's score of the answer under review: "judged 0.92". */
  judged?: string;
  /** After the run: where the approved change went. */
  outcome?: { text: string; problem: boolean };
  /** The run applied the approved change: the panel collapses to "Applied ✓ — Undo". */
  applied?: { undo: boolean; undone: boolean; error?: string };
  /** The run graph: each step with its live state. */
  steps: { id: string; label: string; state: string }[];
  notice?: string;
  error?: string;
  chat: string[];
}

/**
 * The panel's heading, in words: the action ("Rewrite Selection" loses its " Selection"),
 * the file, and the lines it works on — "Rewrite · 02-the-hut.md, lines 13–15".
 */
export function runHeading(title: string, file?: string, lines?: { first: number; last: number }): string {
  const action = title.replace(/ (Selection|Scene)$/, "").trim() || "Run";
  if (!file) return action;
  const name = basename(file);
  if (!lines) return `${action} · ${name}`;
  const where = lines.first === lines.last ? `line ${lines.first}` : `lines ${lines.first}–${lines.last}`;
  return `${action} · ${name}, ${where}`;
}

/** What a step type is, in words, for the run graph. */
const STEP_LABELS: Record<string, string> = {
  gather_context: "Context",
  prompt: "Prompt",
  review_prompt: "Your review",
  generate: "Model",
  judge: "Judge",
  verify: "Continuity",
  approve_output: "Your approval",
  apply_edit: "Apply",
  save_bucket: "Save",
  research: "Research",
  summarize: "Summary",
  tool: "Agent tool",
  resume: "Resume",
};

/** The offset of the occurrence of `needle` in `text` that starts nearest `near`. */
export function nearestOccurrence(text: string, needle: string, near: number): number | undefined {
  if (needle === "") return undefined;
  let best: number | undefined;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
    if (best === undefined || Math.abs(i - near) < Math.abs(best - near)) best = i;
  }
  return best;
}

/** Tokens of a text, roughly (four characters a token): the panel's summary line says "≈". */
export function roughTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function gateStatus(kind: GateKind | undefined, edit: GateEdit | undefined): string {
  switch (kind) {
    case "review_prompt":
    case undefined:
      return "Review the prompt before it is sent.";
    case "resume":
      return "Resume this interrupted run? Approving goes on from where it stopped; rejecting cancels it.";
    case "tool":
      return "The agent wants to change the project: approve or reject.";
    default:
      return edit ? "Review the output and the change it makes, then approve or reject." : "Review the output, then approve or reject.";
  }
}

function outcome(state: ReviewState): ViewModel["outcome"] {
  const a = state.approved;
  if (!a || state.phase !== "finished" || state.runState !== "succeeded") return undefined;
  const file = a.path || "the scene";
  if (state.undo?.done) return { text: `Undone: ${file} holds what it held before, in the editor — save it to keep it that way.`, problem: false };
  if (state.recorded?.error !== undefined) return { text: `${file} was saved, but the change is not in the history: ${state.recorded.error}`, problem: true };
  if (state.recorded) return { text: `Saved: the change to ${file} is recorded in the history.`, problem: false };
  if (state.editor?.open && state.editor.dirty) {
    return { text: `The change is in the editor of ${file}, not saved yet: save it to keep it (saving records it in the history).`, problem: false };
  }
  if (state.editor && !state.editor.open) return { text: `Written to ${file} and recorded in the history.`, problem: false };
  return { text: `Applied to ${file}.`, problem: false };
}

export function view(state: ReviewState): ViewModel {
  const atGate = state.phase === "gate";
  const kind = state.gate?.kind;
  const plain = isOutputGate(kind) || kind === "resume";
  const b = (id: Button["id"], label: string, primary = false, enabled = atGate, title?: string): Button =>
    title === undefined ? { id, label, enabled, primary } : { id, label, enabled, primary, title };
  const edit = state.edit;
  const problem = state.modelProblem && (kind === "review_prompt" || kind === undefined) && state.gate ? state.modelProblem : undefined;
  let buttons: Button[];
  let more: Button[];
  if (state.phase === "finished") {
    buttons = state.canRetry && state.runState !== "succeeded" ? [b("retry", "Retry with another model", true, true, "Start this run again with a model you pick")] : [];
    more = [];
  } else if (kind === "resume") {
    buttons = [b("approve", "Resume", true, atGate, "Go on with the run from where it stopped"), b("reject", "Don't resume", false, atGate, "Cancel the run")];
    more = [];
  } else if (problem) {
    // The model cannot be called: changing it is what the writer needs first.
    buttons = [
      b("change_model", "Change model", true, atGate, problem),
      b("approve", approveLabel(edit), false, atGate, edit ? approvalSentence(edit) : undefined),
      b("reject", "Reject"),
    ];
    more = [b("edit", "Edit"), b("chat", "Chat"), b("paste", "Paste"), b("skip", "Skip"), b("regenerate", "Regenerate"), b("cancel", "Cancel run", false, true)];
  } else {
    buttons = [b("approve", approveLabel(edit), true, atGate, edit ? approvalSentence(edit) : undefined), b("edit", "Edit"), b("reject", "Reject")];
    more = [b("chat", "Chat"), b("paste", "Paste"), b("skip", "Skip"), b("change_model", "Change model"), b("regenerate", "Regenerate"), b("cancel", "Cancel run", false, true)];
  }
  let status: string;
  switch (state.phase) {
    case "gate":
      status = gateStatus(kind, edit);
      break;
    case "resolving":
      status = `Sending ${state.pending ? label(state.pending) : "decision"}…`;
      break;
    case "running":
      status = state.streamStep ? `Generating (${state.streamStep})…` : `Running (${state.runState})…`;
      break;
    case "finished":
      if (state.runState === "succeeded") status = "Done.";
      else if (state.runState === "interrupted") status = "The run was interrupted: the process driving it ended. The language server asks whether to resume it when it starts.";
      else status = `The run ended: ${state.runState}${state.error ? ` — ${state.error}` : ""}.`;
      break;
  }
  const all = plain ? [{ title: "", body: state.text, collapsible: false }] : promptSections(state.text);
  const notes = all.filter((x) => x.collapsible);
  const vm: ViewModel = {
    title: state.heading ?? humanize(state.pipeline || state.run),
    status,
    phase: state.phase,
    gateKind: kind,
    model: state.model,
    chain: state.chain,
    sections: all,
    text: state.text,
    version: state.version,
    mode: state.mode,
    buttons,
    more,
    stream: state.stream,
    streamItems: completedItems(state.stream).map(itemLabel),
    retracted: state.retracted.map((t) => ({ text: t, words: wordCount(t) })),
    steps: state.steps.map((st) => ({
      id: st.id,
      label: STEP_LABELS[st.type] ?? humanize(st.id),
      state: state.gate?.step === st.id && (state.phase === "gate" || state.phase === "resolving") ? "waiting" : st.state,
    })),
    notice: state.notice,
    error: state.error,
    chat: state.chat,
  };
  if (notes.length > 0) vm.notes = { count: notes.length, tokens: notes.reduce((n, x) => n + roughTokens(`### ${x.title}\n${x.body}\n`), 0) };
  if (edit && (state.phase === "gate" || state.phase === "resolving")) {
    vm.edit = { description: edit.description, sentence: approvalSentence(edit), path: edit.path, diff: parseUnifiedDiff(edit.diff), editing: state.mode === "edit" };
  }
  if (state.note && (state.phase === "gate" || state.phase === "resolving")) vm.warning = state.note;
  if (problem) vm.modelProblem = problem;
  const score = judged(state.confidence);
  if (score && (state.phase === "gate" || state.phase === "resolving")) vm.judged = score;
  if (state.reasoning !== undefined && (state.phase === "gate" || state.phase === "resolving")) {
    vm.reasoning = { text: state.reasoning, words: wordCount(state.reasoning) };
  }
  const out = outcome(state);
  if (out) vm.outcome = out;
  if (state.phase === "finished" && state.runState === "succeeded" && state.approved) {
    vm.applied = { undo: canUndo(state), undone: state.undo?.done ?? false };
    if (state.undo?.error !== undefined) vm.applied.error = state.undo.error;
  }
  return vm;
}

/**
 * The prompt-review panel's logic as a pure state machine: events in (a gate opened, streamed
 * text, the writer pressed a button, the server answered), a new state and effects out (resolve
 * the gate, cancel the run, pick a model, reload the review document). `reviewPanel.ts` only
 * carries events and effects between this module, the webview and the language server; nothing
 * here imports `vscode`, so every transition is unit-tested.
 */
import { diffLines, diffStats, type DiffOp } from "./diff";
import { completedItems, itemLabel } from "./jsonStream";
import {
  FINAL_STATES,
  gateResolveArgs,
  type Decision,
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
  /** The run ended. */
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
  /** Streamed output of the current step. */
  stream: string;
  streamStep?: string;
  /** The text an output would replace (the selection or the scene), for the diff. */
  base?: string;
  /** Chat messages the writer sent at this gate. */
  chat: string[];
  pending?: Decision;
  notice?: string;
  error?: string;
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
  | { action: "view" };

export type ReviewEvent =
  | { type: "progress"; progress: RunProgress }
  | { type: "gateLoaded"; gate: GateRef; text: string; model?: string }
  | { type: "model"; resolution: ModelResolution }
  | { type: "base"; text: string }
  | { type: "user"; user: UserAction }
  | { type: "resolved"; decision: Decision; error?: string };

export type Effect =
  | { type: "resolve"; args: GateResolveArgs }
  | { type: "cancel"; run: string }
  | { type: "loadGate"; gate: GateRef }
  | { type: "pickModel" }
  | { type: "askRejectReason" }
  | { type: "notify"; message: string };

export interface Transition {
  state: ReviewState;
  effects: Effect[];
  /** True when only streamed text grew: the webview can append instead of re-rendering. */
  appendOnly?: string;
}

export function initialState(run: string, pipeline: string): ReviewState {
  return { run, pipeline, runState: "running", phase: "running", text: "", version: 0, mode: "view", chain: [], stream: "", chat: [] };
}

/** Decisions after which the gate stays open with a new text (PROTOCOL.md, "Gate decisions"). */
const STAYS_OPEN: readonly Decision[] = ["chat", "change_model", "regenerate"];

export function isOutputGate(kind: GateKind | undefined): boolean {
  return kind === "approve_output" || kind === "judge" || kind === "verify";
}

function same(state: ReviewState): Transition {
  return { state, effects: [] };
}

function send(state: ReviewState, decision: Decision, opts: { text?: string; model?: string } = {}): Transition {
  const gate = state.gate;
  if (!gate) return same(state);
  return {
    state: { ...state, phase: "resolving", pending: decision, notice: undefined },
    effects: [{ type: "resolve", args: gateResolveArgs({ run: state.run, step: gate.step }, decision, opts) }],
  };
}

function onUser(state: ReviewState, u: UserAction): Transition {
  if (u.action === "cancel") {
    if (state.phase === "finished") return same(state);
    return { state: { ...state, notice: "Cancelling…" }, effects: [{ type: "cancel", run: state.run }] };
  }
  if (state.phase !== "gate") return same(state);
  switch (u.action) {
    case "view":
    case "edit":
      return same({ ...state, mode: u.action });
    case "approve":
      // Text that differs from the review document is an edit; otherwise the server reads the
      // document itself (which may have been edited in a normal editor too).
      if (u.text !== undefined && u.text !== state.text) return send(state, "edit", { text: u.text });
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
      if (u.text === undefined) return { state, effects: [{ type: "askRejectReason" }] };
      return send(state, "reject", { text: u.text.trim() === "" ? "rejected in the review panel" : u.text.trim() });
  }
}

function onProgress(state: ReviewState, p: RunProgress): Transition {
  if (p.run !== state.run) return same(state);
  const next: ReviewState = { ...state, pipeline: p.pipeline || state.pipeline, runState: p.state };
  switch (p.event) {
    case "text": {
      const text = p.text ?? "";
      if (next.streamStep === p.step) return { state: { ...next, stream: next.stream + text }, effects: [], appendOnly: text };
      return { state: { ...next, stream: text, streamStep: p.step }, effects: [] };
    }
    case "gate": {
      if (!p.gate) return same(next);
      if (state.gate && state.gate.step === p.gate.step && state.phase !== "running") return same(next);
      return { state: { ...next, phase: "running", gate: p.gate, mode: "view", chat: [] }, effects: [{ type: "loadGate", gate: p.gate }] };
    }
    case "done":
      return same({ ...next, phase: "finished", error: p.error, pending: undefined });
    case "state":
      if (FINAL_STATES.includes(p.state)) return same({ ...next, phase: "finished", error: p.error, pending: undefined });
      if (p.state === "running" && state.phase === "gate") return same({ ...next, phase: "running", gate: undefined });
      return same(next);
    case "step":
      return same(next);
  }
}

export function reduce(state: ReviewState, ev: ReviewEvent): Transition {
  switch (ev.type) {
    case "progress":
      return onProgress(state, ev.progress);
    case "gateLoaded": {
      if (state.phase === "finished") return same(state);
      const changed = ev.text !== state.text || state.gate?.step !== ev.gate.step;
      return same({
        ...state,
        phase: "gate",
        runState: "waiting",
        gate: ev.gate,
        text: ev.text,
        version: changed ? state.version + 1 : state.version,
        model: ev.model ?? state.model,
        pending: undefined,
        notice: undefined,
      });
    }
    case "model":
      return same({ ...state, model: ev.resolution.model, chain: ev.resolution.chain });
    case "base":
      return same({ ...state, base: ev.text });
    case "user":
      return onUser(state, ev.user);
    case "resolved": {
      if (ev.error !== undefined) return same({ ...state, phase: state.phase === "finished" ? "finished" : "gate", pending: undefined, notice: ev.error });
      if (STAYS_OPEN.includes(ev.decision) && state.gate) {
        // The server rewrote the review document: read it again.
        return { state: { ...state, phase: "running", pending: undefined, mode: "view" }, effects: [{ type: "loadGate", gate: state.gate }] };
      }
      return same({ ...state, phase: state.phase === "finished" ? "finished" : "running", gate: undefined, mode: "view", pending: undefined, stream: "", streamStep: undefined, notice: `${ev.decision.replace("_", " ")}: sent` });
    }
  }
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

export type Button = { id: UserAction["action"]; label: string; enabled: boolean; primary?: boolean };

export interface ViewModel {
  title: string;
  status: string;
  phase: Phase;
  gateKind?: GateKind;
  model?: string;
  chain: { level: string; value: string | null }[];
  sections: Section[];
  text: string;
  version: number;
  mode: Mode;
  buttons: Button[];
  stream: string;
  streamItems: string[];
  diff?: { ops: DiffOp[]; added: number; removed: number };
  notice?: string;
  error?: string;
  chat: string[];
}

export function view(state: ReviewState): ViewModel {
  const atGate = state.phase === "gate";
  const output = isOutputGate(state.gate?.kind);
  const b = (id: Button["id"], label: string, primary = false, enabled = atGate): Button => ({ id, label, enabled, primary });
  const buttons: Button[] = [
    b("approve", "Approve", true),
    b("edit", "Edit"),
    b("chat", "Chat"),
    b("paste", "Paste"),
    b("skip", "Skip"),
    b("change_model", "Change model"),
    b("regenerate", "Regenerate"),
    b("reject", "Reject"),
    b("cancel", "Cancel run", false, state.phase !== "finished"),
  ];
  const gateLabel = state.gate ? ` · ${state.gate.kind.replace("_", " ")} at ${state.gate.step}` : "";
  let status: string;
  switch (state.phase) {
    case "gate":
      status = output ? "Review the output, then approve or reject." : "Review the prompt before it is sent.";
      break;
    case "resolving":
      status = `Sending ${state.pending?.replace("_", " ") ?? "decision"}…`;
      break;
    case "running":
      status = state.streamStep ? `Generating (${state.streamStep})…` : `Running (${state.runState})…`;
      break;
    case "finished":
      status = state.runState === "succeeded" ? "The run finished." : `The run ended: ${state.runState}${state.error ? ` — ${state.error}` : ""}.`;
      break;
  }
  const vm: ViewModel = {
    title: `${state.pipeline || "run"} · ${state.run}${gateLabel}`,
    status,
    phase: state.phase,
    gateKind: state.gate?.kind,
    model: state.model,
    chain: state.chain,
    sections: output ? [{ title: "", body: state.text, collapsible: false }] : promptSections(state.text),
    text: state.text,
    version: state.version,
    mode: state.mode,
    buttons,
    stream: state.stream,
    streamItems: completedItems(state.stream).map(itemLabel),
    notice: state.notice,
    error: state.error,
    chat: state.chat,
  };
  if (output && state.base !== undefined && state.phase !== "running") {
    const ops = diffLines(state.base, state.text);
    vm.diff = { ops, ...diffStats(ops) };
  }
  return vm;
}

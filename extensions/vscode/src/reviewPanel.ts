/**
 * The review webview: one panel, reused for every run, in a side column. Each run's events go
 * into its pure state machine (`reviewState.ts`); the effects it returns (gate decisions, cancel,
 * the model picker, the gate's diff in an editor, undo, retry) are performed here, and the shown
 * run's rendered body goes to the webview. What approving changes comes from the server with the
 * gate (`edit`); the panel never computes a diff itself.
 */
import * as crypto from "node:crypto";
import * as vscode from "vscode";
import { humanize, pipelineTitle } from "./actions";
import { renderBody, renderPage } from "./reviewHtml";
import { initialState, nearestOccurrence, reduce, runHeading, takesPanel, view, type Effect, type GateRef, type ReviewEvent, type ReviewState } from "./reviewState";
import {
  asArray,
  Commands,
  FINAL_STATES,
  isEmptyRange,
  modelsResolveArgs,
  parseGates,
  type Gate,
  type GateDiffResult,
  type GateEdit,
  type GateInfo,
  type GateReasoningResult,
  type ModelEntry,
  type ModelResolution,
  type PipelineRunArgs,
  type RunProgress,
  type RunStatus,
} from "./protocol";
import { commandError, type Server } from "./server";

/** How a run this window started was started: enough to name it and to start it again. */
export interface Started {
  args: PipelineRunArgs;
  /** The action's title ("Rewrite Selection"). */
  title: string;
}

/** Starts a run (the extension's one path to `showrunner.pipeline.run`); its id, or undefined. */
export type StartRun = (args: PipelineRunArgs, title: string) => Promise<string | undefined>;

/**
 * The review panel: **one** webview, in a side column that stays where it opened, showing one
 * run at a time. Every run has its own state machine (`RunReview`); the panel shows the run the
 * writer is working on. A gate of a run the writer started here shows itself unless the panel is
 * busy with another open gate; a gate the server restored at launch (or any gate of a run this
 * window did not see start) waits in the Approval Queue — its badge counts it — and never takes
 * the panel or the focus.
 */
export class ReviewPanels implements vscode.Disposable {
  private readonly runs = new Map<string, RunReview>();
  private readonly started = new Map<string, Started>();
  /** Runs this window saw doing something before a gate: their gates are the writer's current work. */
  private readonly live = new Set<string>();
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private shown: string | undefined;
  /** Runs whose failure was told (a run ends with a `state` and a `done` event). */
  private readonly told = new Set<string>();

  constructor(
    private readonly server: Server,
    private readonly extensionUri: vscode.Uri,
    private readonly startRun: StartRun,
  ) {}

  /** A run this window started (a command, a code action, a retry): named from how it was started. */
  onStarted(run: string, started: Started): void {
    this.started.set(run, started);
    this.live.add(run);
    const r = this.runs.get(run);
    if (r) {
      r.dispatch({ type: "info", heading: headingOf(started), canRetry: true });
      // Its first gate came before the server's answer to the start.
      if (r.state.phase === "gate" && this.usePanel()) this.show(run, r.state.pipeline, false);
    }
  }

  /** The run's review, made on first use (its steps and name are loaded from the server). */
  private review(run: string, pipeline: string): RunReview {
    let r = this.runs.get(run);
    if (!r) {
      r = new RunReview(this.server, run, pipeline, {
        render: (review) => this.render(review),
        retry: (review) => void this.retry(review),
      });
      this.runs.set(run, r);
      const started = this.started.get(run);
      if (started) r.dispatch({ type: "info", heading: headingOf(started), canRetry: true });
      void r.loadRun(started === undefined);
    }
    return r;
  }

  /**
   * Shows a run in the panel. `explicit`: the writer asked for it (the queue, the Runs view), so
   * it takes the panel even from another open gate; otherwise only a free panel is taken.
   * Returns whether the run is shown.
   */
  show(run: string, pipeline: string, explicit: boolean): boolean {
    const r = this.review(run, pipeline);
    if (explicit) this.live.add(run);
    const current = this.shown !== undefined && this.shown !== run ? this.runs.get(this.shown) : undefined;
    if (!takesPanel({ explicit, current: true, shownPhase: current?.state.phase })) return false;
    this.shown = run;
    const panel = this.ensurePanel();
    this.render(r);
    panel.reveal(panel.viewColumn, !explicit);
    return true;
  }

  /** Opens (or reveals) the panel on a run, at a gate when one is given: the writer asked. */
  open(run: string, pipeline: string, gate?: GateInfo): RunReview {
    const r = this.review(run, pipeline);
    if (gate) r.dispatch({ type: "progress", progress: { run, pipeline, state: "waiting", event: "gate", gate } });
    this.show(run, pipeline, true);
    return r;
  }

  /** A gate from the approval queue (with its text, edit and note): the writer opened it. */
  openGate(g: Gate): RunReview {
    const { run, pipeline, ...gate } = g;
    return this.open(run, pipeline ?? "", gate);
  }

  /**
   * A review document the server asked to show: the run's gate, shown when the writer is working
   * on that run; a restored gate only waits in the queue.
   */
  onReviewDocument(g: Gate): void {
    if (!this.live.has(g.run) || !this.usePanel()) return;
    const { run, pipeline, ...gate } = g;
    const r = this.review(run, pipeline ?? "");
    r.dispatch({ type: "progress", progress: { run, pipeline: pipeline ?? "", state: "waiting", event: "gate", gate } });
    this.show(run, pipeline ?? "", false);
  }

  /**
   * Every progress notification goes to its run; a gate of the writer's current work shows the
   * panel. A run is current work once this window started it, saw it work (a step, streamed
   * text) or the writer opened it; a gate restored at launch (a `resume` question, or any gate
   * of a run that did nothing here yet) waits in the queue.
   */
  onProgress(p: RunProgress): void {
    if (p.event === "step" || p.event === "text") this.live.add(p.run);
    let r = this.runs.get(p.run);
    if (!r && p.event === "gate" && p.gate) r = this.review(p.run, p.pipeline);
    r?.dispatch({ type: "progress", progress: p });
    if (p.event === "gate" && p.gate && this.usePanel() && takesPanel({ explicit: false, current: this.live.has(p.run) })) this.show(p.run, p.pipeline, false);
    if ((p.event === "done" || FINAL_STATES.includes(p.state)) && p.state === "failed" && this.live.has(p.run)) this.tellFailure(p);
  }

  /** One message for a failed run, unless the panel already shows it to the writer. */
  private tellFailure(p: RunProgress): void {
    if (this.told.has(p.run)) return;
    this.told.add(p.run);
    if (this.shown === p.run && this.panel?.visible) return;
    const started = this.started.get(p.run);
    const name = started ? headingOf(started) : humanize(p.pipeline || p.run);
    const actions = started ? ["Retry with another model", "Show"] : ["Show"];
    void vscode.window.showErrorMessage(`Showrunner: ${name} failed${p.error ? `: ${p.error}` : ""}`, ...actions).then((c) => {
      if (c === "Show") this.show(p.run, p.pipeline, true);
      else if (c) void this.retry(this.review(p.run, p.pipeline));
    });
  }

  /** Starts a failed run again with a model the writer picks; the panel follows the new run. */
  private async retry(r: RunReview): Promise<void> {
    const started = this.started.get(r.state.run);
    if (!started) return;
    const model = await pickModel(this.server, r.state.model);
    if (!model) return;
    const run = await this.startRun({ ...started.args, model }, started.title);
    if (run) this.show(run, started.args.pipeline, true);
  }

  /** A document was edited, saved or closed: a run that reports an approved edit to it looks again. */
  onDocumentChanged(uri: vscode.Uri): void {
    for (const r of this.runs.values()) {
      const target = r.approvedUri;
      if (target !== undefined) r.checkEditor(target, uri.toString());
    }
  }

  private usePanel(): boolean {
    return vscode.workspace.getConfiguration("showrunner").get<boolean>("review.usePanel", true);
  }

  private ensurePanel(): vscode.WebviewPanel {
    if (this.panel) return this.panel;
    const media = vscode.Uri.joinPath(this.extensionUri, "media");
    const panel = vscode.window.createWebviewPanel(
      "showrunner.review",
      "Review",
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [media], retainContextWhenHidden: true },
    );
    panel.iconPath = vscode.Uri.joinPath(media, "showrunner.svg");
    const webview = panel.webview;
    this.ready = false;
    webview.html = renderPage({
      nonce: crypto.randomBytes(16).toString("base64"),
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(media, "review.js")).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, "review.css")).toString(),
      body: "",
    });
    webview.onDidReceiveMessage((msg: { type: string; user?: unknown }) => {
      if (msg.type === "ready") {
        this.ready = true;
        const r = this.shown !== undefined ? this.runs.get(this.shown) : undefined;
        if (r) this.render(r);
      } else if (msg.type === "user" && msg.user && typeof msg.user === "object") {
        const r = this.shown !== undefined ? this.runs.get(this.shown) : undefined;
        r?.dispatch({ type: "user", user: msg.user as never });
      }
    });
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.ready = false;
      this.shown = undefined;
    });
    this.panel = panel;
    return panel;
  }

  /** Draws a run when it is the one shown (streamed text is appended, not redrawn). */
  private render(r: RunReview, append?: string): void {
    if (!this.panel || this.shown !== r.state.run) return;
    const vm = view(r.state);
    this.panel.title = `${vm.title}${r.state.phase === "gate" ? " ●" : ""}`;
    if (!this.ready) return;
    if (append !== undefined) void this.panel.webview.postMessage({ type: "append", text: append });
    else void this.panel.webview.postMessage({ type: "render", html: renderBody(vm) });
  }

  /** The state of a run's review (tests and the queue read it). */
  stateOf(run: string): ReviewState | undefined {
    return this.runs.get(run)?.state;
  }

  dispose(): void {
    this.panel?.dispose();
  }
}

/** The heading of a run this window started: "Rewrite · arrival.md, lines 13–15". */
export function headingOf(s: Started): string {
  const path = vscode.Uri.parse(s.args.uri).path;
  const r = s.args.range;
  let lines: { first: number; last: number } | undefined;
  if (r && !isEmptyRange(r)) {
    const last = r.end.character === 0 && r.end.line > r.start.line ? r.end.line : r.end.line + 1;
    lines = { first: r.start.line + 1, last };
  }
  return runHeading(s.title, path, lines);
}

interface Host {
  render(r: RunReview, append?: string): void;
  retry(r: RunReview): void;
}

/**
 * One run's review: carries events into the pure state machine (`reviewState.ts`) and performs
 * the effects it returns (gate decisions, cancel, the model picker, the gate's diff in an editor,
 * undo). The panel draws whichever run it shows.
 */
export class RunReview {
  state: ReviewState;

  constructor(
    private readonly server: Server,
    run: string,
    pipeline: string,
    private readonly host: Host,
  ) {
    this.state = initialState(run, pipeline);
  }

  dispatch(ev: ReviewEvent): void {
    const before = this.state;
    const t = reduce(this.state, ev);
    this.state = t.state;
    if (t.appendOnly !== undefined) this.host.render(this, t.appendOnly);
    else if (t.state !== before) this.host.render(this);
    for (const e of t.effects) void this.perform(e);
  }

  /** The run's steps (the run graph) and, for a run started elsewhere, its name from its scene. */
  async loadRun(nameIt: boolean): Promise<void> {
    try {
      const st = await this.server.execute<RunStatus>(Commands.runStatus, { run: this.state.run });
      const steps = asArray<{ id?: unknown; type?: unknown; state?: unknown }>(st.steps)
        .filter((x) => typeof x.id === "string")
        .map((x) => ({ id: String(x.id), type: typeof x.type === "string" ? x.type : "", state: typeof x.state === "string" ? x.state : "pending" }));
      this.dispatch({ type: "steps", steps });
      if (nameIt && typeof st.scene === "string" && st.scene !== "") {
        this.dispatch({ type: "info", heading: runHeading(pipelineTitle(st.pipeline || this.state.pipeline), st.scene) });
      }
    } catch {
      // A run the server no longer knows: the panel works from its events.
    }
  }

  private async perform(e: Effect): Promise<void> {
    switch (e.type) {
      case "resolve":
        try {
          await this.server.execute(Commands.gateResolve, e.args);
          this.dispatch({ type: "resolved", decision: e.args.decision });
        } catch (err) {
          this.dispatch({ type: "resolved", decision: e.args.decision, error: commandError(Commands.gateResolve, err) });
        }
        return;
      case "cancel":
        try {
          await this.server.execute(Commands.runCancel, { run: e.run });
        } catch (err) {
          void vscode.window.showErrorMessage(commandError(Commands.runCancel, err));
        }
        return;
      case "loadGate":
        await this.loadGate(e.gate);
        return;
      case "resolveModel":
        await this.resolveModel(e.step);
        return;
      case "openDiff":
        await this.openDiff(e.run, e.step);
        return;
      case "openReasoning":
        await this.openReasoning(e.run, e.step);
        return;
      case "checkEditor":
        this.checkEditor(e.uri);
        return;
      case "pickModel": {
        const model = await pickModel(this.server, this.state.model);
        if (model) this.dispatch({ type: "user", user: { action: "change_model", model } });
        return;
      }
      case "askRejectReason": {
        const reason = await vscode.window.showInputBox({ title: "Reject", prompt: "Why? (recorded in the run)", ignoreFocusOut: true });
        if (reason !== undefined) this.dispatch({ type: "user", user: { action: "reject", text: reason } });
        return;
      }
      case "undo":
        this.dispatch({ type: "undone", error: await undoEdit(e.edit) });
        return;
      case "retry":
        this.host.retry(this);
        return;
    }
  }

  /** A gate that arrived without its text: read the review document and the queue's entry. */
  private async loadGate(gate: GateRef): Promise<void> {
    const uri = vscode.Uri.parse(gate.uri);
    let text: string | undefined = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString())?.getText();
    if (text === undefined) {
      try {
        text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      } catch (err) {
        text = `(could not read the review document ${uri.fsPath}: ${err instanceof Error ? err.message : String(err)})`;
      }
    }
    let queued: Gate | undefined;
    try {
      queued = parseGates(await this.server.execute(Commands.gateList, {})).find((g) => g.run === this.state.run && g.step === gate.step);
    } catch {
      // Older servers lack the queue; the cascade still names a model.
    }
    this.dispatch({
      type: "gateLoaded",
      gate,
      text,
      model: queued?.model,
      edit: queued?.edit,
      note: queued?.note,
      reasoning: queued?.reasoning,
      model_problem: queued?.model_problem,
      confidence: queued?.confidence,
    });
  }
  /** The model cascade for the gate's step (the gate's own model, when it names one, wins). */
  private async resolveModel(step: string): Promise<void> {
    try {
      const res = await this.server.execute<ModelResolution>(Commands.modelsResolve, modelsResolveArgs({ pipeline: this.state.pipeline, step }));
      this.dispatch({ type: "model", resolution: this.state.model ? { ...res, model: this.state.model } : res });
    } catch {
      /* the panel still works without the chain */
    }
  }

  /** The gate's diff as a `.diff` file in an editor (the server writes it beside the review document). */
  private async openDiff(run: string, step: string): Promise<void> {
    try {
      const res = await this.server.execute<GateDiffResult>(Commands.gateDiff, { run, step });
      if (res && typeof res.diff_uri === "string") {
        await vscode.window.showTextDocument(vscode.Uri.parse(res.diff_uri), { preview: true, preserveFocus: true, viewColumn: vscode.ViewColumn.One });
      }
    } catch (err) {
      void vscode.window.showErrorMessage(commandError(Commands.gateDiff, err));
    }
  }

  /** The model's reasoning as `<step>.reasoning.md` in an editor (the server writes it beside the review document). */
  private async openReasoning(run: string, step: string): Promise<void> {
    try {
      const res = await this.server.execute<GateReasoningResult>(Commands.gateReasoning, { run, step });
      if (res && typeof res.uri === "string") {
        await vscode.window.showTextDocument(vscode.Uri.parse(res.uri), { preview: true, preserveFocus: true, viewColumn: vscode.ViewColumn.One });
      }
    } catch (err) {
      void vscode.window.showErrorMessage(commandError(Commands.gateReasoning, err));
    }
  }

  /**
   * Tells the state machine whether the approved edit's scene is open and unsaved (for a change
   * to `changed`, only when that is the scene). Only reads: the writer saves the scene, and the
   * server records the edit in the history then.
   */
  checkEditor(target: string, changed?: string): void {
    const wanted = vscode.Uri.parse(target).toString();
    if (changed !== undefined && changed !== wanted) return;
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === wanted && !d.isClosed);
    this.dispatch({ type: "editor", uri: target, open: doc !== undefined, dirty: doc?.isDirty ?? false });
  }

  /** The approved edit's scene, while the panel reports where it went. */
  get approvedUri(): string | undefined {
    return this.state.approved?.uri;
  }
}

/**
 * Puts back what an approved edit replaced: finds the text it added in the scene's editor (the
 * occurrence nearest its line) and replaces it with what was there before, unsaved — the writer
 * saves, as after approving. Returns why it could not, or undefined.
 */
export async function undoEdit(edit: GateEdit): Promise<string | undefined> {
  if (!edit.uri) return "the change names no file to undo it in";
  try {
    const uri = vscode.Uri.parse(edit.uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    const text = doc.getText();
    const crlf = doc.eol === vscode.EndOfLine.CRLF;
    const added = crlf ? edit.new_text.replace(/\r?\n/g, "\r\n") : edit.new_text;
    const before = crlf ? edit.old_text.replace(/\r?\n/g, "\r\n") : edit.old_text;
    const at = nearestOccurrence(text, added, doc.offsetAt(new vscode.Position(Math.max(0, edit.first_line - 1), 0)));
    if (at === undefined) return `${edit.path} no longer holds the approved text as it was: undo it in the editor (Edit ▸ Undo)`;
    const we = new vscode.WorkspaceEdit();
    we.replace(uri, new vscode.Range(doc.positionAt(at), doc.positionAt(at + added.length)), before);
    if (!(await vscode.workspace.applyEdit(we))) return `the editor refused the change to ${edit.path}`;
    await vscode.window.showTextDocument(doc, { preserveFocus: true, preview: false, viewColumn: vscode.ViewColumn.One });
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** The models the project names, plus "type one"; undefined when the writer cancels. */
export async function pickModel(server: Server, current?: string, withCascade = false): Promise<string | undefined> {
  let models: ModelEntry[] = [];
  try {
    models = asArray<ModelEntry>(await server.execute(Commands.modelsList, {}));
  } catch {
    /* fall back to typing one */
  }
  type Item = vscode.QuickPickItem & { value?: string };
  const items: Item[] = models.map((m) => ({ label: m.model, description: m.provider + (m.model === current ? " · current" : ""), value: m.model }));
  if (withCascade) items.unshift({ label: "$(layers) Let the cascade decide", description: "step > bucket > agent > project default", value: "" });
  items.push({ label: "$(edit) Type a model…", description: "provider/model" });
  const pick = await vscode.window.showQuickPick(items, { title: "Select Model", placeHolder: current ? `Current: ${current}` : "provider/model" });
  if (!pick) return undefined;
  if (pick.value !== undefined) return pick.value;
  return vscode.window.showInputBox({
    title: "Model",
    prompt: "provider/model, e.g. local/llama3.1",
    value: current,
    validateInput: (v) => (/^[^/\s]+\/\S+$/.test(v.trim()) ? undefined : "Use provider/model, e.g. local/llama3.1"),
  });
}

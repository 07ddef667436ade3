/**
 * The review webview: one panel per run. It carries events into the pure state machine
 * (`reviewState.ts`), performs the effects it returns (gate decisions, cancel, model picker, the
 * gate's diff in an editor) and sends the rendered body to the webview. What approving changes
 * comes from the server with the gate (`edit`); the panel never computes a diff itself.
 */
import * as crypto from "node:crypto";
import * as vscode from "vscode";
import { renderBody, renderPage } from "./reviewHtml";
import { initialState, reduce, view, type Effect, type GateRef, type ReviewEvent, type ReviewState } from "./reviewState";
import { asArray, Commands, modelsResolveArgs, parseGates, type Gate, type GateDiffResult, type GateInfo, type GateReasoningResult, type ModelEntry, type ModelResolution, type RunProgress } from "./protocol";
import { commandError, type Server } from "./server";

export class ReviewPanels implements vscode.Disposable {
  private readonly panels = new Map<string, ReviewPanel>();

  constructor(
    private readonly server: Server,
    private readonly extensionUri: vscode.Uri,
  ) {}

  /** Opens (or reveals) the panel of a run, at a gate when one is given. */
  open(run: string, pipeline: string, gate?: GateInfo): ReviewPanel {
    let panel = this.panels.get(run);
    if (!panel) {
      panel = new ReviewPanel(this.server, this.extensionUri, run, pipeline, () => this.panels.delete(run));
      this.panels.set(run, panel);
    } else {
      panel.reveal();
    }
    if (gate) panel.dispatch({ type: "progress", progress: { run, pipeline, state: "waiting", event: "gate", gate } });
    return panel;
  }

  /** Feeds every progress notification to the run's panel; a gate opens the panel. */
  onProgress(p: RunProgress): void {
    const panel = this.panels.get(p.run);
    if (panel) panel.dispatch({ type: "progress", progress: p });
    else if (p.event === "gate" && p.gate && vscode.workspace.getConfiguration("showrunner").get<boolean>("review.usePanel", true)) {
      this.open(p.run, p.pipeline, p.gate);
    }
  }

  /** A gate from the approval queue (with its text, edit and note). */
  openGate(g: Gate): ReviewPanel {
    const { run, pipeline, ...gate } = g;
    return this.open(run, pipeline ?? "", gate);
  }

  /** A document was edited, saved or closed: a panel that reports an approved edit to it looks again. */
  onDocumentChanged(uri: vscode.Uri): void {
    for (const p of this.panels.values()) {
      const target = p.approvedUri;
      if (target !== undefined) p.checkEditor(target, uri.toString());
    }
  }

  dispose(): void {
    for (const p of [...this.panels.values()]) p.dispose();
  }
}

export class ReviewPanel implements vscode.Disposable {
  private state: ReviewState;
  private readonly panel: vscode.WebviewPanel;
  private ready = false;
  /** Effects finish after the writer closed the panel: nothing is posted to a disposed webview. */
  private disposed = false;

  constructor(
    private readonly server: Server,
    extensionUri: vscode.Uri,
    run: string,
    pipeline: string,
    private readonly onDispose: () => void,
  ) {
    this.state = initialState(run, pipeline);
    const media = vscode.Uri.joinPath(extensionUri, "media");
    this.panel = vscode.window.createWebviewPanel("showrunner.review", `Review: ${pipeline || run}`, vscode.ViewColumn.Beside, {
      enableScripts: true,
      localResourceRoots: [media],
      retainContextWhenHidden: true,
    });
    const webview = this.panel.webview;
    webview.html = renderPage({
      nonce: crypto.randomBytes(16).toString("base64"),
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(media, "review.js")).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, "review.css")).toString(),
      body: renderBody(view(this.state)),
    });
    webview.onDidReceiveMessage((msg: { type: string; user?: unknown }) => {
      if (msg.type === "ready") {
        this.ready = true;
        this.render();
      } else if (msg.type === "user" && msg.user && typeof msg.user === "object") {
        this.dispatch({ type: "user", user: msg.user as never });
      }
    });
    this.panel.onDidDispose(() => {
      this.disposed = true;
      this.onDispose();
    });
  }

  reveal(): void {
    this.panel.reveal(undefined, true);
  }

  dispatch(ev: ReviewEvent): void {
    const before = this.state;
    const t = reduce(this.state, ev);
    this.state = t.state;
    if (this.disposed) return;
    if (t.appendOnly !== undefined && this.ready) void this.panel.webview.postMessage({ type: "append", text: t.appendOnly });
    else if (t.state !== before) this.render();
    for (const e of t.effects) void this.perform(e);
  }

  private render(): void {
    if (!this.ready) return;
    const vm = view(this.state);
    this.panel.title = `Review: ${this.state.pipeline || this.state.run}${this.state.phase === "gate" ? " ●" : ""}`;
    void this.panel.webview.postMessage({ type: "render", html: renderBody(vm) });
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
      case "notify":
        void vscode.window.showInformationMessage(e.message);
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
    this.dispatch({ type: "gateLoaded", gate, text, model: queued?.model, edit: queued?.edit, note: queued?.note, reasoning: queued?.reasoning });
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

  dispose(): void {
    this.panel.dispose();
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

/**
 * The prompt-review webview: one panel per run. It carries events into the pure state machine
 * (`reviewState.ts`), performs the effects it returns (gate decisions, cancel, model picker) and
 * sends the rendered body to the webview.
 */
import * as crypto from "node:crypto";
import * as vscode from "vscode";
import { renderBody, renderPage } from "./reviewHtml";
import { initialState, reduce, view, type Effect, type GateRef, type ReviewEvent, type ReviewState } from "./reviewState";
import { asArray, Commands, modelsResolveArgs, type Gate, type ModelEntry, type ModelResolution, type RunProgress } from "./protocol";
import { commandError, type Server } from "./server";

export interface RunOrigin {
  uri: string;
  /** The text the output would replace, for the diff. */
  base?: string;
}

export class ReviewPanels implements vscode.Disposable {
  private readonly panels = new Map<string, ReviewPanel>();
  /** Where each run started from this window came from. */
  readonly origins = new Map<string, RunOrigin>();

  constructor(
    private readonly server: Server,
    private readonly extensionUri: vscode.Uri,
  ) {}

  /** Records where a run came from; a panel already open for it gets the text for its diff. */
  setOrigin(run: string, origin: RunOrigin): void {
    this.origins.set(run, origin);
    const panel = this.panels.get(run);
    if (panel && origin.base !== undefined) panel.dispatch({ type: "base", text: origin.base });
  }

  /** Opens (or reveals) the panel of a run, at a gate when one is given. */
  open(run: string, pipeline: string, gate?: GateRef): ReviewPanel {
    let panel = this.panels.get(run);
    if (!panel) {
      panel = new ReviewPanel(this.server, this.extensionUri, run, pipeline, () => this.panels.delete(run));
      this.panels.set(run, panel);
      const origin = this.origins.get(run);
      if (origin?.base !== undefined) panel.dispatch({ type: "base", text: origin.base });
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

  /** A gate from the approval queue. */
  openGate(g: Gate): void {
    this.open(g.run, g.pipeline ?? "", { step: g.step, kind: g.kind, uri: g.uri });
  }

  dispose(): void {
    for (const p of [...this.panels.values()]) p.dispose();
  }
}

export class ReviewPanel implements vscode.Disposable {
  private state: ReviewState;
  private readonly panel: vscode.WebviewPanel;
  private ready = false;

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
    this.panel.onDidDispose(() => this.onDispose());
  }

  reveal(): void {
    this.panel.reveal(undefined, true);
  }

  dispatch(ev: ReviewEvent): void {
    const t = reduce(this.state, ev);
    this.state = t.state;
    if (t.appendOnly !== undefined && this.ready) void this.panel.webview.postMessage({ type: "append", text: t.appendOnly });
    else this.render();
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
    let model: string | undefined;
    try {
      const gates = asArray<Gate>(await this.server.execute(Commands.gateList, {}));
      model = gates.find((g) => g.run === this.state.run && g.step === gate.step)?.model;
    } catch {
      // Older servers lack the queue; the cascade below still names a model.
    }
    this.dispatch({ type: "gateLoaded", gate, text, model });
    try {
      const res = await this.server.execute<ModelResolution>(Commands.modelsResolve, modelsResolveArgs({ pipeline: this.state.pipeline, step: gate.step }));
      this.dispatch({ type: "model", resolution: model ? { ...res, model } : res });
    } catch {
      /* the panel still works without the chain */
    }
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

/**
 * Entry point: starts the language server and wires the command palette, the sidebar views, the
 * review panel, progress notifications and the status bar to it. Logic that does not need an
 * editor lives in the pure modules (`actions`, `protocol`, `reviewState`, `viewModels`, `story`).
 */
import * as vscode from "vscode";
import { buildRunArgs, isSceneFile, layerLabel, PIPELINE_ACTIONS, pipelineTitle, type EditorState } from "./actions";
import { RunNotifications } from "./progress";
import {
  agentAskArgs,
  asArray,
  bucketCreateArgs,
  Commands,
  contextShowArgs,
  EXPORT_FORMATS,
  isContextResult,
  isEmptyRange,
  modelsResolveArgs,
  parseAliases,
  parseGates,
  researchArgs,
  runIdOf,
  timelineCreateArgs,
  type Gate,
  type ModelResolution,
  type PipelineInfo,
  type PipelineRunArgs,
  type Range,
  type RunStatus,
  type RunSummary,
  type SearchHit,
  type Timeline,
} from "./protocol";
import {
  batchablePipelines,
  batchApproveArgs,
  batchArgs,
  batchRunArgs,
  counted,
  DEFAULT_SCORE,
  isNoBatch,
  parseBatchStatus,
  parseScore,
  parseTargets,
  planArgs,
  scoreProblem,
  targetItems,
  typedTargetItem,
  WHOLE_PROJECT,
  WHOLE_STORY,
  type BatchStarted,
  type BatchStatus,
  type TargetItem,
} from "./batch";
import { pickModel, ReviewPanels } from "./reviewPanel";
import { commandError, Server } from "./server";
import { loadStory, registerPictures } from "./pictures";
import { batchRows, contextRows, currentTimeline, gateDescription, gateRows, projectKinds, runRows, searchItems, statusText, timelineRows, type Row } from "./viewModels";
import { GREY_SCHEME, GreyDecorations, RowsView, StoryView } from "./views";
import { goalsArgs, parseGoals, wordsText, wordsTooltip } from "./words";

const SHOW_CONTEXT = "showrunner.showContext";
const BUILTIN_KINDS = ["character", "location", "item", "faction", "research", "note", "season", "arc", "act", "chapter"];

function toRange(s: vscode.Selection | vscode.Range): Range {
  return { start: { line: s.start.line, character: s.start.character }, end: { line: s.end.line, character: s.end.character } };
}

function editorState(editor: vscode.TextEditor | undefined): EditorState | undefined {
  if (!editor) return undefined;
  const doc = editor.document;
  return {
    uri: doc.uri.toString(),
    selection: toRange(editor.selection),
    isScene: doc.languageId === "fountain" || (doc.uri.scheme === "file" && isSceneFile(doc.uri.fsPath)),
  };
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("Showrunner", { log: true });
  const server = new Server(output, SHOW_CONTEXT);
  const panels = new ReviewPanels(server, context.extensionUri, (args, title) => startRun(args, title));
  const notifications = new RunNotifications(server);
  context.subscriptions.push(output, server, panels, notifications);

  const config = () => vscode.workspace.getConfiguration("showrunner");
  const fail = (command: string) => (e: unknown) => void vscode.window.showErrorMessage(commandError(command, e));

  // ---- context keys -------------------------------------------------------------------------
  let lastScene: vscode.TextEditor | undefined;
  const updateSceneKey = () => {
    const st = editorState(vscode.window.activeTextEditor);
    if (st?.isScene) lastScene = vscode.window.activeTextEditor;
    void vscode.commands.executeCommand("setContext", "showrunner.isScene", st?.isScene ?? false);
  };
  updateSceneKey();

  // ---- views --------------------------------------------------------------------------------
  let contextTarget: { uri: string; position?: { line: number; character: number } } | undefined;
  const contextView = new RowsView(async () => {
    const ed = vscode.window.activeTextEditor;
    const st = editorState(ed);
    const target = st?.isScene ? { uri: st.uri, position: st.selection.end } : contextTarget ?? (lastScene ? { uri: lastScene.document.uri.toString() } : undefined);
    if (!target) return [];
    contextTarget = target;
    if (!server.running) return [{ id: "off", label: "The language server is not running.", icon: "warning" }];
    const res = await server.execute<unknown>(Commands.contextShow, contextShowArgs(target.uri, target.position));
    if (!isContextResult(res)) throw new Error("The server's context answer has an unexpected shape.");
    return contextRows(res);
  });
  let gates = new Map<string, Gate>();
  const gatesView = new RowsView(
    async () => {
      if (!server.running) return [];
      const list = parseGates(await server.execute(Commands.gateList, {}));
      gates = new Map(list.map((g) => [`gate:${g.run}:${g.step}`, g]));
      // The queue's badge counts what waits (a gate restored at launch waits here, not in a panel).
      gatesTree.badge = list.length ? { value: list.length, tooltip: `${list.length} waiting for your approval` } : undefined;
      return gateRows(list);
    },
    (row) => (gates.has(row.id) ? { command: "showrunner.openGate", title: "Open Review", arguments: [row] } : undefined),
  );
  const gatesTree = vscode.window.createTreeView("showrunner.gates", { treeDataProvider: gatesView });
  const runsView = new RowsView(
    async () => (server.running ? runRows(asArray<RunSummary>(await server.execute(Commands.runList, {}))) : []),
    (row) => (row.id.startsWith("run:") ? { command: "showrunner.showRun", title: "Show Run", arguments: [row] } : undefined),
  );
  let timelines: Timeline[] = [];
  const timelinesView = new RowsView(async () => {
    if (!server.running) return [];
    try {
      timelines = asArray<Timeline>(await server.execute(Commands.timelineList, await projectOf()));
    } catch (e) {
      output.warn(`timelines: ${commandError(Commands.timelineList, e)}`);
      return [{ id: "none", label: "Open a scene to see its project's timelines.", icon: "info" }];
    }
    return timelineRows(timelines);
  });
  // The latest batch: its counts, then its runs (opened and cancelled as in the Runs view).
  const batchesView = new RowsView(
    async () => {
      const st = server.running ? await latestBatch() : undefined;
      return st ? batchRows(st) : [];
    },
    (row) => (row.id.startsWith("run:") ? { command: "showrunner.showRun", title: "Show Run", arguments: [row] } : undefined),
  );
  const storyView = new StoryView(() => loadStory(server, projectRoot));
  context.subscriptions.push(
    contextView,
    gatesView,
    runsView,
    batchesView,
    timelinesView,
    storyView,
    vscode.window.registerFileDecorationProvider(new GreyDecorations()),
    vscode.window.createTreeView("showrunner.context", { treeDataProvider: contextView, showCollapseAll: true }),
    gatesTree,
    vscode.window.createTreeView("showrunner.runs", { treeDataProvider: runsView }),
    vscode.window.createTreeView("showrunner.batches", { treeDataProvider: batchesView }),
    vscode.window.createTreeView("showrunner.timelines", { treeDataProvider: timelinesView }),
    vscode.window.createTreeView("showrunner.story", { treeDataProvider: storyView }),
  );
  void GREY_SCHEME;

  function projectArgs(): { uri?: string } {
    const ed = vscode.window.activeTextEditor ?? lastScene;
    return ed && ed.document.uri.scheme === "file" ? { uri: ed.document.uri.toString() } : {};
  }

  async function projectRoot(): Promise<vscode.Uri | undefined> {
    const found = await vscode.workspace.findFiles("**/showrunner.yaml", "**/node_modules/**", 1);
    return found[0] ? vscode.Uri.joinPath(found[0], "..") : undefined;
  }

  /** `projectArgs()`, else (no file in focus) the project's own showrunner.yaml names the project. */
  async function projectOf(): Promise<{ uri?: string }> {
    const args = projectArgs();
    if (args.uri) return args;
    const root = await projectRoot();
    return root ? { uri: vscode.Uri.joinPath(root, "showrunner.yaml").toString() } : {};
  }

  /** The project's latest batch, or undefined when it has had none. */
  async function latestBatch(): Promise<BatchStatus | undefined> {
    let raw: unknown;
    try {
      raw = await server.execute(Commands.batchStatus, batchArgs(await projectOf()));
    } catch (e) {
      if (isNoBatch(commandError(Commands.batchStatus, e))) return undefined;
      throw new Error(commandError(Commands.batchStatus, e));
    }
    const st = parseBatchStatus(raw);
    if (!st) throw new Error("The server's batch status has an unexpected shape.");
    return st;
  }

  // ---- status bar ---------------------------------------------------------------------------
  const status = vscode.window.createStatusBarItem("showrunner.status", vscode.StatusBarAlignment.Left, 50);
  status.name = "Showrunner";
  status.command = "showrunner.statusMenu";
  context.subscriptions.push(status);
  let statusTimeline: string | undefined;
  let statusModel: string | undefined;
  const paintStatus = () => {
    status.text = statusText(statusTimeline, statusModel, notifications.active);
    status.tooltip = new vscode.MarkdownString(
      `**Showrunner** — ${server.running ? "server running" : "server stopped"}\n\nTimeline: ${statusTimeline ?? "?"}\n\nModel: ${statusModel ?? "?"}${config().get<string>("model") ? " (Select Model)" : " (cascade)"}`,
    );
    status.backgroundColor = server.running ? undefined : new vscode.ThemeColor("statusBarItem.warningBackground");
    status.show();
  };
  const refreshStatus = async () => {
    const chosen = config().get<string>("model") ?? "";
    if (server.running) {
      try {
        statusTimeline = currentTimeline(asArray<Timeline>(await server.execute(Commands.timelineList, projectArgs())));
      } catch {
        statusTimeline = undefined;
      }
      if (chosen !== "") statusModel = chosen;
      else {
        try {
          const ed = vscode.window.activeTextEditor ?? lastScene;
          const st = editorState(ed);
          statusModel = (await server.execute<ModelResolution>(Commands.modelsResolve, modelsResolveArgs({ uri: st?.isScene ? st.uri : undefined }))).model;
        } catch {
          statusModel = undefined;
        }
      }
    }
    paintStatus();
  };
  paintStatus();

  // Words of the selection, the scene and the project, and progress toward the goals (the
  // server's `showrunner.stats` goals; refreshed after editing, selecting, saving, switching).
  const words = vscode.window.createStatusBarItem("showrunner.words", vscode.StatusBarAlignment.Left, 49);
  words.name = "Showrunner words and goals";
  let wordsTimer: ReturnType<typeof setTimeout> | undefined;
  const refreshWords = async () => {
    const st = editorState(vscode.window.activeTextEditor);
    if (!server.running || !st?.isScene) {
      words.hide();
      return;
    }
    try {
      const g = parseGoals(await server.execute(Commands.stats, goalsArgs(st.uri, st.selection)));
      if (!g) {
        words.hide();
        return;
      }
      words.text = wordsText(g);
      words.tooltip = new vscode.MarkdownString(wordsTooltip(g));
      words.show();
    } catch {
      words.hide();
    }
  };
  // One request for a burst of keystrokes or selection moves.
  const scheduleWords = () => {
    if (wordsTimer) clearTimeout(wordsTimer);
    wordsTimer = setTimeout(() => void refreshWords(), 250);
  };
  context.subscriptions.push(
    words,
    { dispose: () => wordsTimer && clearTimeout(wordsTimer) },
    vscode.window.onDidChangeActiveTextEditor(scheduleWords),
    vscode.window.onDidChangeTextEditorSelection(scheduleWords),
    vscode.workspace.onDidChangeTextDocument(scheduleWords),
    vscode.workspace.onDidSaveTextDocument(scheduleWords),
  );

  const refreshAll = () => {
    void contextView.refresh();
    void gatesView.refresh();
    void runsView.refresh();
    void batchesView.refresh();
    void timelinesView.refresh();
    void storyView.refresh();
    void refreshStatus();
    scheduleWords();
  };

  // A batch's runs move on their own: one refresh of the Batches view for a burst of events.
  let batchesTimer: ReturnType<typeof setTimeout> | undefined;
  const refreshBatchesSoon = () => {
    if (batchesTimer) clearTimeout(batchesTimer);
    batchesTimer = setTimeout(() => void batchesView.refresh(), 300);
  };
  context.subscriptions.push({ dispose: () => batchesTimer && clearTimeout(batchesTimer) });

  // ---- server events ------------------------------------------------------------------------
  context.subscriptions.push(
    server.onDidChangeRunning((running) => {
      void vscode.commands.executeCommand("setContext", "showrunner.serverRunning", running);
      if (running) refreshAll();
      else paintStatus();
    }),
    server.onRunProgress((p) => {
      panels.onProgress(p);
      notifications.onProgress(p);
      if (p.event === "recorded") {
        // The writer saved a scene holding an approved edit; the history has it now (or says why not).
        const what = pipelineTitle(p.pipeline || p.run);
        if (p.error) void vscode.window.showWarningMessage(`Showrunner: the approved edit of ${what} was saved but not recorded in the history: ${p.error}`);
        else void vscode.window.setStatusBarMessage(`Showrunner: the approved edit of ${what} is recorded in the history`, 5000);
      }
      if (p.event !== "text") {
        void runsView.refresh();
        refreshBatchesSoon();
        if (p.event === "gate" || p.event === "done" || p.event === "state") void gatesView.refresh();
        paintStatus();
      }
    }),
    server.onReviewDocument((r) => {
      void (async () => {
        let gate: Gate | undefined;
        try {
          gate = parseGates(await server.execute(Commands.gateList, {})).find((g) => g.run === r.run && g.step === r.step);
        } catch {
          /* an older server: fall back to what the path says */
        }
        panels.onReviewDocument(gate ?? { run: r.run, step: r.step, kind: "review_prompt", uri: r.uri });
      })();
    }),
    // A command, a code action or a lens started a run: the panel names it and can retry it.
    server.onRunStarted(({ run, args }) => {
      if (typeof args.uri === "string" && typeof args.pipeline === "string") {
        panels.onStarted(run, { args: args as unknown as PipelineRunArgs, title: pipelineTitle(args.pipeline) });
      }
      void runsView.refresh();
    }),
  );

  // ---- editor events ------------------------------------------------------------------------
  let contextTimer: NodeJS.Timeout | undefined;
  const refreshContextSoon = () => {
    if (contextTimer) clearTimeout(contextTimer);
    contextTimer = setTimeout(() => void contextView.refresh(), 400);
  };
  context.subscriptions.push(
    { dispose: () => contextTimer && clearTimeout(contextTimer) },
    vscode.window.onDidChangeActiveTextEditor(() => {
      updateSceneKey();
      refreshContextSoon();
      if (!config().get<string>("model")) void refreshStatus();
    }),
    vscode.window.onDidChangeTextEditorSelection((e) => {
      if (e.textEditor === vscode.window.activeTextEditor && editorState(e.textEditor)?.isScene) refreshContextSoon();
    }),
    vscode.workspace.onDidSaveTextDocument((d) => {
      refreshContextSoon();
      void storyView.refresh();
      panels.onDocumentChanged(d.uri);
    }),
    // A panel that reports an approved edit follows its scene (unsaved, undone, closed); it never saves it.
    vscode.workspace.onDidChangeTextDocument((e) => panels.onDocumentChanged(e.document.uri)),
    vscode.workspace.onDidCloseTextDocument((d) => panels.onDocumentChanged(d.uri)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("showrunner.serverPath") || e.affectsConfiguration("showrunner.serverArgs") || e.affectsConfiguration("showrunner.serverEnv")) {
        void vscode.window.showInformationMessage("Showrunner: the server settings changed.", "Restart Server").then((c) => {
          if (c) void server.restart();
        });
      }
      if (e.affectsConfiguration("showrunner.model")) void refreshStatus();
    }),
  );

  // ---- commands -----------------------------------------------------------------------------
  const register = (id: string, fn: (...args: never[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  /** Starts a run; its gates open the review panel, which shows what approving changes. */
  async function startRun(args: PipelineRunArgs, title: string): Promise<string | undefined> {
    try {
      const run = runIdOf(await server.execute(Commands.pipelineRun, args));
      if (!run) throw new Error("the server did not name the run");
      output.info(`started ${args.pipeline} as ${run}`);
      panels.onStarted(run, { args, title });
      void runsView.refresh();
      return run;
    } catch (e) {
      fail(Commands.pipelineRun)(e);
      return undefined;
    }
  }

  for (const action of PIPELINE_ACTIONS) {
    register(action.command, async () => {
      const built = buildRunArgs(action, editorState(vscode.window.activeTextEditor), config().get<string>("model") ?? "");
      if (!built.ok) {
        void vscode.window.showWarningMessage(built.message);
        return;
      }
      await startRun(built.args, action.title);
    });
  }

  register("showrunner.runPipeline", async () => {
    const st = editorState(vscode.window.activeTextEditor);
    let pipelines: PipelineInfo[];
    try {
      pipelines = asArray<PipelineInfo>(await server.execute(Commands.pipelineList, st ? { uri: st.uri } : {}));
    } catch {
      pipelines = PIPELINE_ACTIONS.map((a) => ({ id: a.pipeline, title: a.title, description: "", layer: "template" }));
    }
    const pick = await vscode.window.showQuickPick(
      pipelines.map((p) => ({ label: p.title, description: `${p.id} · ${layerLabel(p.layer)}`, detail: p.description, id: p.id })),
      { title: "Run Pipeline", matchOnDescription: true, matchOnDetail: true },
    );
    if (!pick) return;
    const known = PIPELINE_ACTIONS.find((a) => a.pipeline === pick.id);
    const scope = known?.scope ?? (st && !isEmptyRange(st.selection) ? "selection" : "cursor");
    const built = buildRunArgs({ pipeline: pick.id, scope, title: pick.label }, st, config().get<string>("model") ?? "");
    if (!built.ok) return void vscode.window.showWarningMessage(built.message);
    await startRun(built.args, pick.label);
  });

  register("showrunner.researchQuestion", async () => {
    const ed = vscode.window.activeTextEditor;
    const selected = ed && !ed.selection.isEmpty ? ed.document.getText(ed.selection) : "";
    const question = await vscode.window.showInputBox({ title: "Research", prompt: "A question for the researcher; the findings become a research bucket.", value: selected, ignoreFocusOut: true });
    if (!question?.trim()) return;
    try {
      const run = runIdOf(await server.execute(Commands.research, researchArgs(question, ed?.document.uri.toString())));
      if (run) output.info(`research started as ${run}`);
      void runsView.refresh();
    } catch (e) {
      fail(Commands.research)(e);
    }
  });

  register("showrunner.askAgent", async () => {
    const ed = vscode.window.activeTextEditor;
    const text = await vscode.window.showInputBox({ title: "Ask an Agent", prompt: "What do you need? The dispatcher picks the agent.", ignoreFocusOut: true });
    if (!text?.trim()) return;
    try {
      const res = await server.execute<{ agent?: string; run?: string; reason?: string }>(
        Commands.agentAsk,
        agentAskArgs(text, ed?.document.uri.toString(), ed ? toRange(ed.selection) : undefined),
      );
      void vscode.window.showInformationMessage(`Showrunner: ${res.agent ?? "an agent"} took it${res.reason ? ` (${res.reason})` : ""}.`);
      void runsView.refresh();
    } catch (e) {
      fail(Commands.agentAsk)(e);
    }
  });

  register(SHOW_CONTEXT, async (arg?: { uri?: string; position?: { line: number; character: number } }) => {
    if (arg && typeof arg === "object" && typeof arg.uri === "string") contextTarget = { uri: arg.uri, position: arg.position };
    await vscode.commands.executeCommand("showrunner.context.focus");
    await contextView.refresh();
  });

  register("showrunner.openApprovalQueue", async () => {
    await vscode.commands.executeCommand("showrunner.gates.focus");
    await gatesView.refresh();
    const list = [...gates.values()];
    if (list.length === 0) return void vscode.window.showInformationMessage("Showrunner: nothing waits for your approval.");
    const pick = await vscode.window.showQuickPick(
      list.map((g) => ({ label: `${g.pipeline ?? g.run}: ${g.kind.replace("_", " ")}`, description: gateDescription(g), gate: g })),
      { title: "Approval Queue" },
    );
    if (pick) panels.openGate(pick.gate);
  });

  register("showrunner.openGate", (row?: Row) => {
    const g = row ? gates.get(row.id) : undefined;
    if (g) panels.openGate(g);
  });

  register("showrunner.showRun", async (row?: Row) => {
    const run = row?.id.startsWith("run:") ? row.id.slice(4) : undefined;
    if (!run) return;
    try {
      const st = await server.execute<RunStatus>(Commands.runStatus, { run });
      let gate: Gate | undefined;
      if (st.gate) {
        gate = parseGates(await server.execute(Commands.gateList, {}).catch(() => [])).find((g) => g.run === run && g.step === st.gate?.step);
      }
      const panel = gate ? panels.openGate({ ...gate, pipeline: gate.pipeline ?? st.pipeline }) : panels.open(run, st.pipeline);
      panel.dispatch({ type: "progress", progress: { run, pipeline: st.pipeline, state: st.state, event: "state", error: st.error ?? undefined } });
    } catch (e) {
      fail(Commands.runStatus)(e);
    }
  });

  register("showrunner.cancelRun", async (row?: Row) => {
    let run = row?.id.startsWith("run:") ? row.id.slice(4) : undefined;
    if (!run) {
      const runs = asArray<RunSummary>(await server.execute(Commands.runList, {}).catch(() => [])).filter((r) => ["queued", "running", "waiting"].includes(r.state));
      run = (await vscode.window.showQuickPick(runs.map((r) => ({ label: r.pipeline, description: `${r.state} · ${r.run}`, run: r.run })), { title: "Cancel Run" }))?.run;
    }
    if (!run) return;
    try {
      await server.execute(Commands.runCancel, { run });
      void runsView.refresh();
    } catch (e) {
      fail(Commands.runCancel)(e);
    }
  });

  async function switchTo(name: string): Promise<void> {
    const dirty = vscode.workspace.textDocuments.filter((d) => d.isDirty).length;
    try {
      const res = await server.execute<{ timeline?: string; changed?: unknown }>(Commands.timelineSwitch, { ...projectArgs(), name });
      const changed = Array.isArray(res.changed) ? res.changed.length : typeof res.changed === "number" ? res.changed : undefined;
      void vscode.window.showInformationMessage(
        `Showrunner: now on timeline ${name}${changed !== undefined ? ` (${changed} files changed)` : ""}${dirty ? "; unsaved edits were recorded on the previous timeline" : ""}.`,
      );
      void timelinesView.refresh();
      void refreshStatus();
      void storyView.refresh();
    } catch (e) {
      fail(Commands.timelineSwitch)(e);
    }
  }

  register("showrunner.switchTimeline", async () => {
    let list: Timeline[];
    try {
      list = asArray<Timeline>(await server.execute(Commands.timelineList, projectArgs()));
    } catch (e) {
      return fail(Commands.timelineList)(e);
    }
    const items: (vscode.QuickPickItem & { name?: string })[] = list.map((t) => ({ label: t.name, description: t.current ? "current" : `${t.events ?? "?"} events`, name: t.name }));
    items.push({ label: "$(add) New timeline…" });
    const pick = await vscode.window.showQuickPick(items, { title: "Switch Timeline" });
    if (!pick) return;
    if (!pick.name) return void vscode.commands.executeCommand("showrunner.createTimeline");
    if (!list.find((t) => t.name === pick.name)?.current) await switchTo(pick.name);
  });

  register("showrunner.searchProject", async () => {
    const query = await vscode.window.showInputBox({
      title: "Search Story and Runs",
      prompt: "Words to find in the scenes, buckets and research, and in everything runs said (\"quoted words\" as a phrase)",
    });
    if (!query?.trim()) return;
    let hits: SearchHit[];
    try {
      hits = asArray<SearchHit>(await server.execute(Commands.search, { ...projectArgs(), query }));
    } catch (e) {
      return fail(Commands.search)(e);
    }
    if (!hits.length) return void vscode.window.showInformationMessage(`Showrunner: nothing matches “${query}”.`);
    const pick = await vscode.window.showQuickPick(searchItems(hits), { title: `Search: ${query}`, matchOnDescription: true, matchOnDetail: true });
    const root = pick?.path ? await projectRoot() : undefined;
    if (pick?.path && root) await vscode.window.showTextDocument(vscode.Uri.joinPath(root, pick.path));
  });

  register("showrunner.exportStory", async () => {
    const formats = Object.entries(EXPORT_FORMATS).map(([label, description]) => ({ label, description }));
    const format = await vscode.window.showQuickPick(formats, { title: "Export Story: format" });
    if (!format) return;
    const scene = projectArgs().uri;
    const targets: (vscode.QuickPickItem & { target?: string; ask?: boolean })[] = [{ label: "The whole project" }];
    if (scene) targets.push({ label: "This scene", target: scene });
    targets.push({ label: "A season, arc, act or chapter…", ask: true });
    const which = await vscode.window.showQuickPick(targets, { title: "Export Story: what" });
    if (!which) return;
    let target = which.target;
    if (which.ask) {
      target = (await vscode.window.showInputBox({ title: "Export Story", prompt: "A structure id (e.g. ch01, act-1, season-1) or a scene id" }))?.trim();
      if (!target) return;
    }
    let res: { path?: string; uri?: string; scenes?: number; words?: number };
    try {
      res = (await server.execute(Commands.export, { ...projectArgs(), format: format.label, ...(target ? { target } : {}) })) ?? {};
    } catch (e) {
      return fail(Commands.export)(e);
    }
    const open = "Reveal";
    const choice = await vscode.window.showInformationMessage(`Showrunner: wrote ${res.path} (${res.scenes} scenes, ${res.words} words).`, open);
    if (choice === open && res.uri) await vscode.commands.executeCommand("revealFileInOS", vscode.Uri.parse(res.uri));
  });

  // ---- batches and plans ----------------------------------------------------------------------

  /**
   * Parts of the story to pick (`whole` first, then seasons … chapters by name), or typed: one
   * target, or several with spaces between when `many`. Undefined when the writer gave up.
   */
  async function pickTargets(title: string, whole: TargetItem, many: boolean): Promise<string[] | undefined> {
    const pick = vscode.window.createQuickPick<TargetItem>();
    pick.title = title;
    pick.placeholder = many ? "Pick a part of the story, or type scene ids, files, folders or structure ids (spaces between)" : "Pick a part of the story, or type its id";
    pick.matchOnDescription = true;
    pick.ignoreFocusOut = true;
    let items = [whole];
    const show = () => {
      const typed = typedTargetItem(pick.value);
      pick.items = typed ? [...items, typed] : items;
    };
    pick.onDidChangeValue(show);
    const accepted = new Promise<TargetItem | undefined>((resolve) => {
      pick.onDidAccept(() => resolve(pick.selectedItems[0]));
      pick.onDidHide(() => resolve(undefined));
    });
    // Open at once; the parts of the story come when the server has told them.
    pick.busy = true;
    show();
    pick.show();
    let open = true;
    void loadStory(server, projectRoot).then(
      ({ nodes }) => {
        if (!open) return;
        items = targetItems(nodes, whole);
        pick.busy = false;
        show();
      },
      () => {
        if (open) pick.busy = false;
      },
    );
    const chosen = await accepted;
    open = false;
    pick.dispose();
    if (!chosen) return undefined;
    const targets = chosen.target === undefined ? [] : parseTargets(chosen.target);
    return many ? targets : targets.slice(0, 1);
  }

  register("showrunner.runBatch", async () => {
    let pipelines: PipelineInfo[];
    try {
      pipelines = batchablePipelines(asArray<PipelineInfo>(await server.execute(Commands.pipelineList, projectArgs())));
    } catch (e) {
      return fail(Commands.pipelineList)(e);
    }
    const pipeline = await vscode.window.showQuickPick(
      pipelines.map((p) => ({ label: p.title, description: `${p.id} · ${layerLabel(p.layer)}`, detail: p.description, id: p.id })),
      { title: "Run a Batch: pipeline (one run per scene)", matchOnDescription: true, matchOnDetail: true },
    );
    if (!pipeline) return;
    const targets = await pickTargets(`Run a Batch: ${pipeline.label} on`, WHOLE_STORY, true);
    if (!targets?.length) return;
    const where = await vscode.window.showInputBox({
      title: `Run a Batch: ${pipeline.label} on ${targets.join(" ")}: which scenes`,
      prompt: "Only the scenes for which this holds, e.g. words == 0, pov == alice, path ^= story/ch03/ (empty: every scene)",
      ignoreFocusOut: true,
    });
    if (where === undefined) return;
    const judge = await vscode.window.showQuickPick(
      [
        { label: "$(law) Judge every answer", description: "then approve the well-judged ones at once", judge: true },
        { label: "Don't judge", description: "each run waits for you at its gates", judge: false },
      ],
      { title: `Run a Batch: ${pipeline.label} on ${targets.join(" ")}: judge the answers?` },
    );
    if (!judge) return;
    let res: BatchStarted;
    try {
      res = await server.execute<BatchStarted>(
        Commands.batchRun,
        batchRunArgs({ pipeline: pipeline.id, targets, where, judge: judge.judge, model: config().get<string>("model") ?? "", uri: (await projectOf()).uri }),
      );
    } catch (e) {
      return fail(Commands.batchRun)(e);
    }
    output.info(`batch ${res.batch}: ${res.queued} runs of ${pipeline.id} on ${targets.join(" ")}`);
    await vscode.commands.executeCommand("showrunner.batches.focus");
    void batchesView.refresh();
    void vscode.window.showInformationMessage(
      `Showrunner: ${counted(res.queued, "run")} of ${pipeline.label} queued (batch ${res.batch}); their gates come to the Approval Queue${judge.judge ? ", each with the judge's score" : ""}.`,
    );
  });

  register("showrunner.batchStatus", async () => {
    let st: BatchStatus | undefined;
    try {
      st = await latestBatch();
    } catch (e) {
      return fail(Commands.batchStatus)(e);
    }
    if (!st) return void vscode.window.showInformationMessage("Showrunner: no batch in this project yet (Showrunner: Run a Batch…).");
    batchesView.set(batchRows(st));
    await vscode.commands.executeCommand("showrunner.batches.focus");
    void vscode.window.showInformationMessage(`Showrunner: batch ${st.batch}: ${st.summary}${st.cancelled ? ` · ${st.cancelled} cancelled` : ""}`);
  });

  register("showrunner.cancelBatch", async () => {
    let st: BatchStatus | undefined;
    try {
      st = await latestBatch();
    } catch (e) {
      return fail(Commands.batchStatus)(e);
    }
    if (!st) return void vscode.window.showInformationMessage("Showrunner: no batch in this project yet.");
    const stop = "Cancel Batch";
    const ok = await vscode.window.showWarningMessage(`Cancel batch ${st.batch}?`, { modal: true, detail: `${st.summary}\n\nQueued runs stop at once, running ones at their next step.` }, stop);
    if (ok !== stop) return;
    try {
      const res = await server.execute<{ batch: string; asked: number }>(Commands.batchCancel, batchArgs({ batch: st.batch, uri: (await projectOf()).uri }));
      void vscode.window.showInformationMessage(`Showrunner: batch ${res.batch}: ${counted(res.asked, "run")} asked to stop.`);
    } catch (e) {
      fail(Commands.batchCancel)(e);
    }
    void batchesView.refresh();
    void gatesView.refresh();
  });

  register("showrunner.approveJudged", async () => {
    const text = await vscode.window.showInputBox({
      title: "Approve Well-Judged Gates",
      prompt: "Approve at once every gate of the latest batch whose answer the judge scored at least this (0 to 1); the others wait in the Approval Queue",
      value: DEFAULT_SCORE,
      validateInput: scoreProblem,
    });
    const score = text === undefined ? undefined : parseScore(text);
    if (score === undefined) return;
    try {
      const res = await server.execute<{ batch: string; approved: number }>(Commands.batchApprove, batchApproveArgs(score, await projectOf()));
      void vscode.window.showInformationMessage(`Showrunner: batch ${res.batch}: ${counted(res.approved, "gate")} approved (judged ${score} or more).`);
    } catch (e) {
      fail(Commands.batchApprove)(e);
    }
    void gatesView.refresh();
    void batchesView.refresh();
  });

  register("showrunner.planWork", async () => {
    const goal = await vscode.window.showInputBox({
      title: "Plan",
      prompt: "What should be done? The outliner turns it into a plan you approve, then it runs as one batch (e.g. summarize every scene of chapter 1)",
      ignoreFocusOut: true,
    });
    if (!goal?.trim()) return;
    const scope = await pickTargets("Plan: the part of the story it may touch", WHOLE_PROJECT, false);
    if (!scope) return;
    try {
      const run = runIdOf(await server.execute(Commands.plan, planArgs({ goal, scope: scope[0], model: config().get<string>("model") ?? "", uri: (await projectOf()).uri })));
      if (!run) throw new Error("the server did not name the run");
      output.info(`plan started as ${run}`);
      // Its prompt and then the plan wait for the writer in the review panel.
      panels.open(run, "plan");
      void runsView.refresh();
    } catch (e) {
      fail(Commands.plan)(e);
    }
  });

  register("showrunner.switchToTimeline", async (row?: Row) => {
    if (row?.id.startsWith("timeline:")) await switchTo(row.id.slice("timeline:".length));
  });

  register("showrunner.createTimeline", async () => {
    const name = await vscode.window.showInputBox({
      title: "New Timeline",
      prompt: "A name for the branch (forked from the current head)",
      validateInput: (v) => (/^[\p{L}\p{N}_.-]+$/u.test(v.trim()) ? undefined : "Letters, digits, - _ . only"),
    });
    if (!name) return;
    try {
      await server.execute(Commands.timelineCreate, { ...projectArgs(), ...timelineCreateArgs(name) });
      void timelinesView.refresh();
      const c = await vscode.window.showInformationMessage(`Showrunner: timeline ${name} created.`, "Switch to It");
      if (c) await switchTo(name.trim());
    } catch (e) {
      fail(Commands.timelineCreate)(e);
    }
  });

  register("showrunner.selectModel", async () => {
    const current = config().get<string>("model") ?? "";
    const model = await pickModel(server, current || statusModel, true);
    if (model === undefined) return;
    await config().update("model", model, vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global);
    void refreshStatus();
  });

  register("showrunner.newBucket", async () => {
    // The built-in kinds and the project's own (`ship`, …), as the server's graph knows them.
    let own: string[] = [];
    try {
      const g = await server.execute<{ nodes?: { kind?: unknown }[] }>(Commands.graph, { ...projectArgs(), format: "json" });
      own = projectKinds(asArray<{ kind?: unknown }>(g.nodes), BUILTIN_KINDS);
    } catch {
      /* the built-in kinds still work */
    }
    const kind = await vscode.window.showQuickPick([...BUILTIN_KINDS, ...own, "$(edit) Another kind…"], { title: "New Bucket: kind" });
    if (!kind) return;
    const realKind = kind.startsWith("$(") ? await vscode.window.showInputBox({ title: "New Bucket: kind", prompt: "A kind from showrunner.yaml `kinds:`" }) : kind;
    if (!realKind) return;
    const ed = vscode.window.activeTextEditor;
    const name = await vscode.window.showInputBox({ title: `New ${realKind}: name`, value: ed && !ed.selection.isEmpty ? ed.document.getText(ed.selection) : "" });
    if (!name?.trim()) return;
    const aliases = await vscode.window.showInputBox({ title: `New ${realKind}: aliases`, prompt: "Comma-separated, optional" });
    if (aliases === undefined) return;
    const root = ed ? vscode.workspace.getWorkspaceFolder(ed.document.uri) : vscode.workspace.workspaceFolders?.[0];
    const projectDir = (await projectRoot()) ?? root?.uri;
    try {
      const res = await server.execute<{ id: string; uri: string }>(
        Commands.bucketCreate,
        bucketCreateArgs(realKind, name, { aliases: parseAliases(aliases), project: projectDir?.fsPath }),
      );
      await vscode.window.showTextDocument(vscode.Uri.parse(res.uri), { preview: false });
    } catch (e) {
      fail(Commands.bucketCreate)(e);
    }
  });

  registerPictures(context, server, projectRoot);
  register("showrunner.restartServer", () => server.restart());
  register("showrunner.showOutput", () => output.show());
  register("showrunner.refreshViews", refreshAll);
  register("showrunner.statusMenu", async () => {
    const items = [
      { label: "$(git-branch) Switch Timeline", command: "showrunner.switchTimeline" },
      { label: "$(hubot) Select Model", command: "showrunner.selectModel" },
      { label: "$(eye) Show Context", command: SHOW_CONTEXT },
      { label: "$(checklist) Approval Queue", command: "showrunner.openApprovalQueue" },
      { label: "$(run-all) Run a Batch…", command: "showrunner.runBatch" },
      { label: "$(pulse) Batch Status", command: "showrunner.batchStatus" },
      { label: "$(debug-restart) Restart Server", command: "showrunner.restartServer" },
      { label: "$(output) Show Server Log", command: "showrunner.showOutput" },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: "Showrunner" });
    if (pick) await vscode.commands.executeCommand(pick.command);
  });

  await server.start();
}

export function deactivate(): void {
  // Disposables in context.subscriptions stop the server.
}

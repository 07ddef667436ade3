/**
 * Pictures in the editor: the Story Graph and Mention Heatmap webview panels (one of each,
 * reused), and the Story view's loader. The server draws nothing here: it answers
 * `showrunner.graph` and `showrunner.stats` as JSON, the pure modules (`graphModel`,
 * `heatmapModel`, `story`) shape that, and media/graph.js draws the graph with cytoscape.
 * A click in a panel sends a node's id; the file it opens is the one the server named for it.
 */
import * as crypto from "node:crypto";
import * as vscode from "vscode";
import { graphBody, parseGraph, type Graph } from "./graphModel";
import { heatmapBody, parseStats, type Stats } from "./heatmapModel";
import { picturePage, problemBody } from "./pictureHtml";
import { Commands } from "./protocol";
import { commandError, type Server } from "./server";
import { storyMessage, storyTree, type StoryNode } from "./story";

export const STORY_GRAPH = "showrunner.storyGraph";
export const MENTION_HEATMAP = "showrunner.mentionHeatmap";

type RootFinder = () => Promise<vscode.Uri | undefined>;

/** The project the pictures show: the extension's project root, else the active file's project. */
async function pictureTarget(projectRoot: RootFinder): Promise<{ root: vscode.Uri | undefined; args: { project?: string; uri?: string } }> {
  const root = await projectRoot();
  if (root) return { root, args: { project: root.fsPath } };
  const doc = vscode.window.activeTextEditor?.document;
  if (doc?.uri.scheme !== "file") return { root: undefined, args: {} };
  // Walk up from the file to its showrunner.yaml, so the server's relative paths can be opened.
  for (let dir = vscode.Uri.joinPath(doc.uri, ".."); ; dir = vscode.Uri.joinPath(dir, "..")) {
    try {
      await vscode.workspace.fs.stat(vscode.Uri.joinPath(dir, "showrunner.yaml"));
      return { root: dir, args: { uri: doc.uri.toString() } };
    } catch {
      if (dir.path === "/" || dir.path === vscode.Uri.joinPath(dir, "..").path) return { root: undefined, args: { uri: doc.uri.toString() } };
    }
  }
}

/** The Story view's tree from the server: the graph's structure layer, with the stats' word counts. */
export async function loadStory(server: Server, projectRoot: RootFinder): Promise<{ nodes: StoryNode[]; base: vscode.Uri | undefined }> {
  if (!server.running) return { nodes: [storyMessage("The language server is not running.")], base: undefined };
  const { root, args } = await pictureTarget(projectRoot);
  if (!root && !args.uri) return { nodes: [], base: undefined };
  let graph: Graph | undefined;
  try {
    graph = parseGraph(await server.execute(Commands.graph, { ...args, format: "json" }));
  } catch (e) {
    return { nodes: [storyMessage(commandError(Commands.graph, e))], base: root };
  }
  if (!graph) return { nodes: [storyMessage("The server's graph answer has an unexpected shape.")], base: root };
  let stats: Stats | undefined;
  try {
    stats = parseStats(await server.execute(Commands.stats, { ...args, format: "json" }));
  } catch {
    stats = undefined; // the tree without word counts
  }
  const nodes = storyTree(graph, stats);
  return { nodes: nodes.length > 0 ? nodes : [storyMessage("No seasons, acts, chapters or scenes yet.")], base: root };
}

interface PictureKind {
  viewType: string;
  title: string;
  /** The server command whose failure the panel reports. */
  command: string;
  script?: string;
  /** Asks the server; returns the page body and the file of every id a click may open. */
  load(server: Server, args: { project?: string; uri?: string }): Promise<{ body: string; paths: Map<string, string> }>;
}

const GRAPH: PictureKind = {
  viewType: "showrunner.storyGraph",
  title: "Story Graph",
  command: Commands.graph,
  script: "graph.js",
  async load(server, args) {
    const g = parseGraph(await server.execute(Commands.graph, { ...args, format: "json" }));
    if (!g) throw new Error("The server's graph answer has an unexpected shape.");
    return { body: graphBody(g), paths: new Map(g.nodes.map((n) => [n.id, n.path])) };
  },
};

const HEATMAP: PictureKind = {
  viewType: "showrunner.mentionHeatmap",
  title: "Mention Heatmap",
  command: Commands.stats,
  async load(server, args) {
    const s = parseStats(await server.execute(Commands.stats, { ...args, format: "json" }));
    if (!s) throw new Error("The server's stats answer has an unexpected shape.");
    // The stats name no files: the graph's entity nodes do (without it, names are not links).
    let paths = new Map<string, string>();
    try {
      const g = parseGraph(await server.execute(Commands.graph, { ...args, format: "json" }));
      if (g) paths = new Map(g.nodes.filter((n) => n.path !== "").map((n) => [n.id, n.path]));
    } catch {
      /* names stay plain text */
    }
    return { body: heatmapBody(s, new Set(paths.keys())), paths };
  },
};

/** One panel of a kind: created on first use, revealed after, redrawn on Refresh and on save. */
class PicturePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private root: vscode.Uri | undefined;
  private paths = new Map<string, string>();
  private loading = 0;
  /** The body shown: the same answer again leaves the page (and the graph's zoom) alone. */
  private shown: string | undefined;

  constructor(
    private readonly kind: PictureKind,
    private readonly server: Server,
    private readonly media: vscode.Uri,
    private readonly projectRoot: RootFinder,
  ) {}

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  async show(): Promise<void> {
    if (this.panel) {
      this.panel.reveal(undefined, false);
    } else {
      const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Two;
      const panel = vscode.window.createWebviewPanel(this.kind.viewType, this.kind.title, column, {
        enableScripts: true,
        localResourceRoots: [this.media],
      });
      panel.iconPath = vscode.Uri.joinPath(this.media, "showrunner.svg");
      panel.onDidDispose(() => {
        this.panel = undefined;
        this.shown = undefined;
      });
      panel.webview.onDidReceiveMessage((msg: unknown) => void this.onMessage(msg));
      this.panel = panel;
    }
    await this.refresh();
  }

  /** `force`: redraw even when the answer did not change (the Refresh button). */
  async refresh(force = false): Promise<void> {
    const panel = this.panel;
    if (!panel) return;
    const ticket = ++this.loading;
    let body: string;
    try {
      const { root, args } = await pictureTarget(this.projectRoot);
      if (!root && !args.uri) throw new Error("Open a folder with a showrunner.yaml (or a scene of one) to see its pictures.");
      const loaded = await this.kind.load(this.server, args);
      this.root = root;
      this.paths = loaded.paths;
      body = loaded.body;
    } catch (e) {
      body = problemBody(this.kind.title, commandError(this.kind.command, e));
    }
    if (ticket !== this.loading || panel !== this.panel) return; // a later refresh or a closed panel
    if (body === this.shown && !force) return;
    this.shown = body;
    const webview = panel.webview;
    const uri = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.media, name)).toString();
    const scripts = [uri("pictures.js")];
    if (this.kind.script) scripts.push(uri("vendor/cytoscape.min.js"), uri(this.kind.script));
    webview.html = picturePage({
      nonce: crypto.randomBytes(16).toString("base64"),
      cspSource: webview.cspSource,
      title: this.kind.title,
      styleUri: uri("pictures.css"),
      styleId: "__________cytoscape_stylesheet",
      scriptUris: scripts,
      body,
    });
  }

  private async onMessage(msg: unknown): Promise<void> {
    if (typeof msg !== "object" || msg === null) return;
    const m = msg as { type?: unknown; id?: unknown };
    if (m.type === "refresh") return this.refresh(true);
    if (m.type !== "open" || typeof m.id !== "string") return;
    // Only a file the server named for this id, under the project root.
    const rel = this.paths.get(m.id);
    if (!rel || !this.root) return;
    try {
      await vscode.window.showTextDocument(vscode.Uri.joinPath(this.root, rel), { viewColumn: vscode.ViewColumn.One, preview: false });
    } catch (e) {
      void vscode.window.showErrorMessage(`Showrunner: cannot open ${rel}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  dispose(): void {
    this.panel?.dispose();
  }
}

/** Registers Story Graph and Mention Heatmap; open panels follow saves and server restarts. */
export function registerPictures(context: vscode.ExtensionContext, server: Server, projectRoot: RootFinder): void {
  const media = vscode.Uri.joinPath(context.extensionUri, "media");
  const graph = new PicturePanel(GRAPH, server, media, projectRoot);
  const heatmap = new PicturePanel(HEATMAP, server, media, projectRoot);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const refreshOpen = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      for (const p of [graph, heatmap]) if (p.isOpen) void p.refresh();
    }, 600);
  };
  context.subscriptions.push(
    graph,
    heatmap,
    { dispose: () => timer && clearTimeout(timer) },
    vscode.commands.registerCommand(STORY_GRAPH, () => graph.show()),
    vscode.commands.registerCommand(MENTION_HEATMAP, () => heatmap.show()),
    vscode.workspace.onDidSaveTextDocument(refreshOpen),
    server.onDidChangeRunning((running) => running && refreshOpen()),
  );
}

/**
 * The sidebar's tree views. Each is a list of `Row`s (see `viewModels.ts`) loaded from a server
 * command; a failed load shows one row with the reason instead of an empty view.
 */
import * as vscode from "vscode";
import type { Row } from "./viewModels";
import { storyDescription, storyTooltip, type StoryNode } from "./story";

/** Greyed rows carry a `showrunner-row:` resource URI; this decoration colours their label. */
export const GREY_SCHEME = "showrunner-row";

export class GreyDecorations implements vscode.FileDecorationProvider {
  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (uri.scheme !== GREY_SCHEME) return undefined;
    return { color: new vscode.ThemeColor("disabledForeground"), tooltip: "matched, but not sent" };
  }
}

export class RowsView implements vscode.TreeDataProvider<Row> {
  private rows: Row[] = [];
  private readonly changed = new vscode.EventEmitter<Row | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private loading: Promise<void> | undefined;
  /** A refresh was asked for while a load was under way: load again after it. */
  private stale = false;

  constructor(
    private readonly load: () => Promise<Row[]>,
    private readonly click?: (row: Row) => vscode.Command | undefined,
  ) {}

  /**
   * Reloads the rows. Calls during a load share it, and it loads once more when it ends: the
   * load under way may have started before what the later call was told about (a gate opening).
   */
  refresh(): Promise<void> {
    if (this.loading) {
      this.stale = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.stale = false;
        try {
          this.rows = await this.load();
        } catch (e) {
          this.rows = [{ id: "error", label: e instanceof Error ? e.message : String(e), icon: "warning" }];
        }
        this.changed.fire(undefined);
      } while (this.stale);
      this.loading = undefined;
    })();
    return this.loading;
  }

  set(rows: Row[]): void {
    this.rows = rows;
    this.changed.fire(undefined);
  }

  getChildren(row?: Row): Row[] {
    return row ? (row.children ?? []) : this.rows;
  }

  getTreeItem(row: Row): vscode.TreeItem {
    const collapsible =
      row.children && row.children.length > 0
        ? row.expanded
          ? vscode.TreeItemCollapsibleState.Expanded
          : vscode.TreeItemCollapsibleState.Collapsed
        : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(row.label, collapsible);
    item.id = row.id;
    item.description = row.description;
    item.tooltip = row.tooltip;
    item.contextValue = row.contextValue;
    if (row.icon) item.iconPath = new vscode.ThemeIcon(row.icon, row.greyed ? new vscode.ThemeColor("disabledForeground") : undefined);
    if (row.greyed) item.resourceUri = vscode.Uri.from({ scheme: GREY_SCHEME, path: `/${encodeURIComponent(row.id)}` });
    const cmd = this.click?.(row);
    if (cmd) item.command = cmd;
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export class StoryView implements vscode.TreeDataProvider<StoryNode> {
  private roots: StoryNode[] = [];
  private readonly changed = new vscode.EventEmitter<StoryNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly load: () => Promise<{ nodes: StoryNode[]; base: vscode.Uri | undefined }>) {}
  private base: vscode.Uri | undefined;

  async refresh(): Promise<void> {
    const { nodes, base } = await this.load();
    this.roots = nodes;
    this.base = base;
    this.changed.fire(undefined);
  }

  getChildren(node?: StoryNode): StoryNode[] {
    return node ? node.children : this.roots;
  }

  getTreeItem(node: StoryNode): vscode.TreeItem {
    const item = new vscode.TreeItem(
      node.label,
      node.children.length > 0 ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
    );
    item.id = node.id;
    item.description = storyDescription(node);
    item.tooltip = storyTooltip(node);
    item.contextValue = `story.${node.kind}`;
    if (node.kind === "message") {
      item.iconPath = new vscode.ThemeIcon("info");
      return item;
    }
    item.iconPath = new vscode.ThemeIcon(node.kind === "scene" ? "file-text" : "list-tree");
    if (this.base && node.path) {
      const uri = vscode.Uri.joinPath(this.base, node.path);
      item.resourceUri = uri;
      item.command = { command: "vscode.open", title: "Open", arguments: [uri] };
    }
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

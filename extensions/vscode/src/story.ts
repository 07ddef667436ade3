/**
 * The Story view's tree (season → arc → act → chapter → scene, in reading order), built from
 * what the server knows: the structure layer of `showrunner.graph` gives the tree, its names
 * (a scene's title, else its first heading, else its id as words: `displayName`) and the files; `showrunner.stats` gives the words
 * of every container and scene. Labels are names, never ids. Pure: no `vscode` import.
 */
import type * as wire from "./generated/protocol";
import { displayName } from "./graphModel";

export interface StoryNode {
  /** The graph's node id: a bucket id, or `scene:` and the scene id. */
  id: string;
  label: string;
  /** season, arc, act, chapter, scene (or a custom structure kind); `message` for a notice row. */
  kind: string;
  /** Relative to the project root; empty for a notice. */
  path: string;
  /** Undefined when the server's stats are not known. */
  words?: number;
  /** Scenes below a container, at any depth. */
  scenes?: number;
  children: StoryNode[];
}

export const SCENE_PREFIX = "scene:";

/**
 * The graph's id of each scene of `stats.scenes` (reading order, as the graph's): `scene:ID`, and
 * `scene:ID~2`, `~3` … for an id used again (SR012), as the server numbers them.
 */
export function sceneNodeIds(scenes: readonly { id: string }[]): string[] {
  const seen = new Map<string, number>();
  return scenes.map((s) => {
    const n = (seen.get(s.id) ?? 0) + 1;
    seen.set(s.id, n);
    return n === 1 ? `${SCENE_PREFIX}${s.id}` : `${SCENE_PREFIX}${s.id}~${n}`;
  });
}

/** The tree: roots in reading order (containers, then scenes under none), children likewise. */
export function storyTree(graph: wire.Graph, stats?: wire.Stats): StoryNode[] {
  const words = new Map<string, { words: number; scenes?: number }>();
  if (stats) {
    for (const c of stats.structure) words.set(c.id, { words: c.words, scenes: c.scenes });
    sceneNodeIds(stats.scenes).forEach((id, i) => words.set(id, { words: stats.scenes[i]!.words }));
  }
  const nodes = new Map<string, StoryNode>();
  const order: StoryNode[] = [];
  for (const n of graph.nodes) {
    if (n.layer !== "structure" || nodes.has(n.id)) continue;
    const node: StoryNode = { id: n.id, label: displayName(n).trim() || n.id, kind: n.kind, path: n.path, children: [] };
    const w = words.get(n.id);
    if (w) {
      node.words = w.words;
      if (w.scenes !== undefined) node.scenes = w.scenes;
    }
    nodes.set(n.id, node);
    order.push(node);
  }
  const parent = new Map<string, string>();
  for (const e of graph.edges) {
    if (e.layer === "structure" && nodes.has(e.from) && nodes.has(e.to) && e.from !== e.to && !parent.has(e.to)) parent.set(e.to, e.from);
  }
  // A parent chain that loops (never from a well-behaved server) makes its node a root.
  const rooted = (id: string): boolean => {
    const seen = new Set<string>([id]);
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
      if (seen.has(p)) return false;
      seen.add(p);
    }
    return true;
  };
  const roots: StoryNode[] = [];
  for (const node of order) {
    const p = parent.get(node.id);
    if (p !== undefined && rooted(node.id)) nodes.get(p)!.children.push(node);
    else roots.push(node);
  }
  return roots;
}

/** A row that says why there is no tree. */
export function storyMessage(text: string): StoryNode {
  return { id: `message:${text}`, label: text, kind: "message", path: "", children: [] };
}

/** The row's description: "chapter · 1,234 words · 3 scenes", a scene's "581 words". */
export function storyDescription(n: StoryNode): string {
  if (n.kind === "message") return "";
  const parts: string[] = [];
  if (n.kind !== "scene") parts.push(n.kind);
  if (n.words !== undefined) parts.push(`${n.words.toLocaleString("en-US")} ${n.words === 1 ? "word" : "words"}`);
  if (n.kind !== "scene" && n.scenes !== undefined) parts.push(`${n.scenes} ${n.scenes === 1 ? "scene" : "scenes"}`);
  return parts.join(" · ");
}

/** The tooltip: the name, the kind and id, the file. */
export function storyTooltip(n: StoryNode): string {
  if (n.kind === "message") return n.label;
  const id = n.id.startsWith(SCENE_PREFIX) ? n.id.slice(SCENE_PREFIX.length) : n.id;
  return `${n.label}\n${n.kind} ${id}${n.path ? `\n${n.path}` : ""}`;
}

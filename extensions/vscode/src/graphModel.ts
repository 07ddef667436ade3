/**
 * The Story Graph panel's data and HTML: the server's `showrunner.graph` answer (JSON) checked,
 * split into two views (Relations: entities and their typed relations; Structure: season → arc
 * → act → chapter → scene), each kind given a colour group for the legend, and the page body
 * that media/graph.js draws with cytoscape. Pure: no `vscode` import.
 */
import type * as wire from "./generated/protocol";
import { escapeHtml, jsonForScript } from "./pictureHtml";

export type Graph = wire.Graph;
export type GraphNode = wire.Node;
export type GraphEdge = wire.Edge;

const LAYERS: readonly wire.GraphLayer[] = ["structure", "entity", "relation"];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const layer = (v: unknown, fallback: wire.GraphLayer): wire.GraphLayer => (LAYERS.includes(v as wire.GraphLayer) ? (v as wire.GraphLayer) : fallback);

/** The graph of a `showrunner.graph` answer; undefined when it is not one (e.g. a rendered `mermaid` text). Nodes without an id and duplicates are left out. */
export function parseGraph(raw: unknown): Graph | undefined {
  if (!isObject(raw) || !Array.isArray(raw.nodes) || !Array.isArray(raw.edges)) return undefined;
  const nodes: GraphNode[] = [];
  const seen = new Set<string>();
  for (const n of raw.nodes as unknown[]) {
    if (!isObject(n) || typeof n.id !== "string" || n.id === "" || seen.has(n.id)) continue;
    seen.add(n.id);
    nodes.push({ id: n.id, kind: str(n.kind), name: str(n.name) || n.id, layer: layer(n.layer, "entity"), path: str(n.path) });
  }
  const edges: GraphEdge[] = [];
  for (const e of raw.edges as unknown[]) {
    if (!isObject(e) || typeof e.from !== "string" || typeof e.to !== "string") continue;
    edges.push({ from: e.from, to: e.to, label: str(e.label), layer: layer(e.layer, "relation") });
  }
  return { project: str(raw.project), nodes, edges };
}

/**
 * What a node is called in a picture: the server's name, except that a scene the server could
 * only call by its id (no `title`, no heading) reads as words: `the-hut-at-night` → "The hut at
 * night". The id itself stays in tooltips.
 */
export function displayName(n: { id: string; kind: string; name: string }): string {
  const bare = n.id.startsWith("scene:") ? n.id.slice("scene:".length).replace(/~\d+$/, "") : undefined;
  if (n.kind !== "scene" || bare === undefined || n.name !== bare) return n.name;
  const words = bare.replace(/[-_.]+/g, " ").replace(/\s+/g, " ").trim();
  return words === "" ? n.name : words.charAt(0).toUpperCase() + words.slice(1);
}

// ---- colour groups -----------------------------------------------------------------------------

/** A legend entry: kinds that share a colour (pictures.css `.g-<group>`, theme colours, never red). */
export interface KindGroup {
  group: string;
  label: string;
}

export const GROUPS: readonly KindGroup[] = [
  { group: "character", label: "Characters" },
  { group: "place", label: "Places" },
  { group: "item", label: "Items" },
  { group: "faction", label: "Factions" },
  { group: "research", label: "Research" },
  { group: "note", label: "Notes" },
  { group: "structure", label: "Structure" },
  { group: "scene", label: "Scenes" },
  { group: "other", label: "Other kinds" },
];

const GROUP_OF: Record<string, string> = {
  character: "character",
  location: "place",
  place: "place",
  item: "item",
  object: "item",
  faction: "faction",
  research: "research",
  note: "note",
  lore: "note",
  season: "structure",
  arc: "structure",
  act: "structure",
  chapter: "structure",
  scene: "scene",
};

/** The colour group of a kind; a custom kind is `other`. */
export function kindGroup(kind: string): string {
  return Object.hasOwn(GROUP_OF, kind) ? GROUP_OF[kind]! : "other";
}

// ---- views -------------------------------------------------------------------------------------

export type GraphViewName = "relations" | "structure";

/** What one view draws: node ids, and indices into the graph's edges. */
export interface GraphView {
  nodes: string[];
  edges: number[];
}

/**
 * Relations: every entity, every node a relation touches (a chapter may have relations too),
 * and the relations between them. Structure: the structure layer and its `contains` edges.
 * Edges to nodes the answer does not hold (a kind filter) are left out.
 */
export function graphViews(g: Graph): Record<GraphViewName, GraphView> {
  const known = new Set(g.nodes.map((n) => n.id));
  const relations = g.edges.map((e, i) => ({ e, i })).filter(({ e }) => e.layer === "relation" && known.has(e.from) && known.has(e.to));
  const touched = new Set(relations.flatMap(({ e }) => [e.from, e.to]));
  const structure = g.edges.map((e, i) => ({ e, i })).filter(({ e }) => e.layer === "structure" && known.has(e.from) && known.has(e.to));
  return {
    relations: { nodes: g.nodes.filter((n) => n.layer === "entity" || touched.has(n.id)).map((n) => n.id), edges: relations.map(({ i }) => i) },
    structure: { nodes: g.nodes.filter((n) => n.layer === "structure").map((n) => n.id), edges: structure.map(({ i }) => i) },
  };
}

/** The view shown first: Relations when the project has entities, else Structure. */
export function initialView(views: Record<GraphViewName, GraphView>): GraphViewName {
  return views.relations.nodes.length > 0 || views.structure.nodes.length === 0 ? "relations" : "structure";
}

/** The legend: groups present in the graph, in `GROUPS` order, with the kinds each one holds. */
export function legend(g: Graph): { group: string; label: string; kinds: string[]; count: number }[] {
  const kinds = new Map<string, Set<string>>();
  const counts = new Map<string, number>();
  for (const n of g.nodes) {
    const gr = kindGroup(n.kind);
    if (!kinds.has(gr)) kinds.set(gr, new Set());
    kinds.get(gr)!.add(n.kind);
    counts.set(gr, (counts.get(gr) ?? 0) + 1);
  }
  return GROUPS.filter((x) => kinds.has(x.group)).map((x) => ({ ...x, kinds: [...kinds.get(x.group)!], count: counts.get(x.group) ?? 0 }));
}

/** What media/graph.js reads from `#graph-data`. */
export interface GraphPayload {
  nodes: { id: string; name: string; kind: string; layer: string; group: string }[];
  edges: { from: string; to: string; label: string; layer: string }[];
  views: Record<GraphViewName, GraphView>;
  initial: GraphViewName;
}

export function graphPayload(g: Graph): GraphPayload {
  const views = graphViews(g);
  return {
    nodes: g.nodes.map((n) => ({ id: n.id, name: displayName(n), kind: n.kind, layer: n.layer, group: kindGroup(n.kind) })),
    edges: g.edges.map((e) => ({ from: e.from, to: e.to, label: e.label, layer: e.layer })),
    views,
    initial: initialView(views),
  };
}

/**
 * The panel's body. Hooks: `#graph` (the drawing; `data-view`, `data-nodes`, `data-edges` for
 * the view shown, `data-ready` once drawn), `#legend li[data-group]`, `#graph-names li[data-id]`
 * (every node by name, in a collapsed list that also opens them), `#show-relations` and
 * `#show-structure` (the toggle, `aria-pressed`), `#refresh`, `#fit`.
 */
export function graphBody(g: Graph): string {
  const p = graphPayload(g);
  const v = p.views[p.initial];
  const button = (name: GraphViewName, label: string) =>
    `<button id="show-${name}" type="button" data-view="${name}" aria-pressed="${p.initial === name}" title="${name === "relations" ? "Entities and their relations (force-directed)" : "Season → arc → act → chapter → scene (a tree)"}">${label} <span class="count">${p.views[name].nodes.length}</span></button>`;
  const legendItems = legend(g)
    .map((l) => `<li data-group="${escapeHtml(l.group)}" title="${escapeHtml(l.kinds.join(", "))}"><span class="swatch g-${escapeHtml(l.group)}"></span>${escapeHtml(l.label)} <span class="count">${l.count}</span></li>`)
    .join("");
  const names = g.nodes
    .map(
      (n) =>
        `<li data-id="${escapeHtml(n.id)}" data-kind="${escapeHtml(n.kind)}" data-layer="${escapeHtml(n.layer)}"><button type="button" class="open" data-open="${escapeHtml(n.id)}" title="${escapeHtml(`${n.kind} ${n.id} · ${n.path}`)}">${escapeHtml(displayName(n))}</button></li>`,
    )
    .join("");
  const empty = g.nodes.length === 0 ? `<p id="graph-empty" class="empty">This project has no buckets or scenes yet.</p>` : "";
  return `<header class="toolbar">
<h1>Story Graph</h1>${g.project ? `<span class="project">${escapeHtml(g.project)}</span>` : ""}
<div class="toggle" role="group" aria-label="View">${button("relations", "Relations")}${button("structure", "Structure")}</div>
<button id="fit" type="button" title="Fit the picture to the panel">Fit</button>
<button id="refresh" type="button" title="Ask the server again">Refresh</button>
</header>
<ul id="legend" aria-label="Legend">${legendItems}</ul>
${empty}<div id="graph" data-view="${p.initial}" data-nodes="${v.nodes.length}" data-edges="${v.edges.length}" role="img" aria-label="The story's ${p.initial} as a graph; the list below names every node"></div>
<details id="graph-list"><summary>Every node as a list (${g.nodes.length})</summary><ul id="graph-names">${names}</ul></details>
<script type="application/json" id="graph-data">${jsonForScript(p)}</script>`;
}

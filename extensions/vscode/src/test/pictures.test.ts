/** The pictures' pure parts: the Story Graph's data and page, the Mention Heatmap's table, the Story view's tree. */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as vm from "node:vm";
import { displayName, graphBody, graphPayload, graphViews, initialView, kindGroup, legend, parseGraph, type Graph } from "../graphModel";
import { heatLevel, heatmapBody, parseStats, type Stats } from "../heatmapModel";
import { escapeHtml, jsonForScript, picturePage, problemBody } from "../pictureHtml";
import { sceneNodeIds, storyDescription, storyMessage, storyTooltip, storyTree } from "../story";
import { EXTENSION_ROOT } from "./tm";

/** A `showrunner.graph` answer in the server's shape (the example project, cut down). */
const GRAPH: Graph = {
  project: "The Lighthouse",
  nodes: [
    { id: "season-1", kind: "season", name: "Season 1", layer: "structure", path: "buckets/structure/season-1.yaml" },
    { id: "act-1", kind: "act", name: "Act 1 — The Rock", layer: "structure", path: "buckets/structure/act-1.yaml" },
    { id: "ch01", kind: "chapter", name: "Chapter 1 — Arrival", layer: "structure", path: "buckets/structure/ch01.yaml" },
    { id: "scene:arrival", kind: "scene", name: "Arrival", layer: "structure", path: "story/ch01/01-arrival.md" },
    { id: "scene:the-hut-at-night", kind: "scene", name: "the-hut-at-night", layer: "structure", path: "story/ch01/02-the-hut.md" },
    { id: "ch02", kind: "chapter", name: "Chapter 2 — The Log", layer: "structure", path: "buckets/structure/ch02.yaml" },
    { id: "scene:the-log", kind: "scene", name: "The Log", layer: "structure", path: "story/ch02/01-the-log.md" },
    { id: "scene:prologue", kind: "scene", name: "Prologue", layer: "structure", path: "story/prologue.md" },
    { id: "alice", kind: "character", name: "Alice Marlowe", layer: "entity", path: "buckets/characters/alice.yaml" },
    { id: "tom", kind: "character", name: "Tom <Marlowe>", layer: "entity", path: "buckets/characters/tom.yaml" },
    { id: "gannet-rock", kind: "location", name: "Gannet Rock", layer: "entity", path: "buckets/places/gannet-rock.yaml" },
    { id: "merrow", kind: "ship", name: "SS Merrow", layer: "entity", path: "buckets/ships/merrow.yaml" },
  ],
  edges: [
    { from: "season-1", to: "act-1", label: "contains", layer: "structure" },
    { from: "act-1", to: "ch01", label: "contains", layer: "structure" },
    { from: "ch01", to: "scene:arrival", label: "contains", layer: "structure" },
    { from: "ch01", to: "scene:the-hut-at-night", label: "contains", layer: "structure" },
    { from: "act-1", to: "ch02", label: "contains", layer: "structure" },
    { from: "ch02", to: "scene:the-log", label: "contains", layer: "structure" },
    { from: "alice", to: "tom", label: "daughter_of", layer: "relation" },
    { from: "tom", to: "gannet-rock", label: "keeps", layer: "relation" },
    { from: "ch02", to: "alice", label: "focuses_on", layer: "relation" },
    { from: "tom", to: "nobody", label: "owes", layer: "relation" },
  ],
};

/** A `showrunner.stats` answer in the server's shape, for the same project. */
const STATS: Stats = {
  project: "The Lighthouse",
  words: 1234,
  scenes: [
    { id: "arrival", path: "story/ch01/01-arrival.md", title: "Arrival", chapter: "ch01", pov: "alice", words: 581, mentions: 9 },
    { id: "the-hut-at-night", path: "story/ch01/02-the-hut.md", title: null, chapter: "ch01", pov: "li-lei", words: 400, mentions: 3 },
    { id: "the-log", path: "story/ch02/01-the-log.md", title: "The Log", chapter: "ch02", pov: null, words: 250, mentions: 2 },
    { id: "prologue", path: "story/prologue.md", title: "Prologue", chapter: null, pov: null, words: 3, mentions: 0 },
  ],
  structure: [
    { id: "season-1", kind: "season", name: "Season 1", parent: null, depth: 0, words: 1231, scenes: 3 },
    { id: "act-1", kind: "act", name: "Act 1 — The Rock", parent: "season-1", depth: 1, words: 1231, scenes: 3 },
    { id: "ch01", kind: "chapter", name: "Chapter 1 — Arrival", parent: "act-1", depth: 2, words: 981, scenes: 2 },
    { id: "ch02", kind: "chapter", name: "Chapter 2 — The Log", parent: "act-1", depth: 2, words: 250, scenes: 1 },
  ],
  chapters: [
    { id: "ch01", name: "Chapter 1 — Arrival", words: 981, scenes: 2 },
    { id: "ch02", name: "Chapter 2 — The Log", words: 250, scenes: 1 },
    { id: null, name: "(no chapter)", words: 3, scenes: 1 },
  ],
  pov: [],
  entities: [
    { id: "alice", kind: "character", name: "Alice Marlowe", mentions: 12, scenes: 3, per_chapter: [10, 2, 0], first: "arrival", last: "the-log" },
    { id: "tom", kind: "character", name: "Tom <Marlowe>", mentions: 1, scenes: 1, per_chapter: [1, 0, 0], first: "arrival", last: "arrival" },
    { id: "merrow", kind: "ship", name: "SS Merrow", mentions: 0, scenes: 0, per_chapter: [0, 0, 0], first: null, last: null },
  ],
  gap: 3,
  gaps: [{ entity: "tom", name: "Tom <Marlowe>", after: "ch01", resumes: "ch02", chapters: 4 }],
};

describe("Story Graph data", () => {
  it("reads the server's graph; a rendered text is not one", () => {
    const g = parseGraph(JSON.parse(JSON.stringify(GRAPH)));
    assert.deepEqual(g, GRAPH);
    assert.equal(parseGraph({ format: "mermaid", text: "graph LR" }), undefined);
    assert.equal(parseGraph(null), undefined);
    const odd = parseGraph({ project: 3, nodes: [{ id: "a", name: null, layer: "weird" }, { id: "a" }, { kind: "x" }], edges: [{ from: "a" }, { from: "a", to: "a" }] });
    assert.deepEqual(odd, { project: "", nodes: [{ id: "a", kind: "", name: "a", layer: "entity", path: "" }], edges: [{ from: "a", to: "a", label: "", layer: "relation" }] });
  });

  it("a scene the server can only call by its id reads as words; other names are the server's", () => {
    assert.equal(displayName({ id: "scene:the-hut-at-night", kind: "scene", name: "the-hut-at-night" }), "The hut at night");
    assert.equal(displayName({ id: "scene:glass_falls~2", kind: "scene", name: "glass_falls" }), "Glass falls");
    assert.equal(displayName({ id: "scene:arrival", kind: "scene", name: "Arrival" }), "Arrival");
    assert.equal(displayName({ id: "zoe", kind: "character", name: "zoe" }), "zoe");
  });

  it("groups kinds for colour; a custom kind is `other`", () => {
    assert.deepEqual(["character", "location", "place", "object", "lore", "chapter", "scene", "ship"].map(kindGroup), ["character", "place", "place", "item", "note", "structure", "scene", "other"]);
    assert.deepEqual(
      legend(GRAPH).map((l) => [l.group, l.kinds, l.count]),
      [
        ["character", ["character"], 2],
        ["place", ["location"], 1],
        ["structure", ["season", "act", "chapter"], 4],
        ["scene", ["scene"], 4],
        ["other", ["ship"], 1],
      ],
    );
  });

  it("Relations holds entities and what relations touch; Structure the tree; dangling edges are dropped", () => {
    const v = graphViews(GRAPH);
    assert.deepEqual(v.relations.nodes, ["ch02", "alice", "tom", "gannet-rock", "merrow"]);
    assert.deepEqual(v.relations.edges.map((i) => GRAPH.edges[i]!.label), ["daughter_of", "keeps", "focuses_on"]);
    assert.equal(v.structure.nodes.length, 8);
    assert.equal(v.structure.edges.length, 6);
    assert.equal(initialView(v), "relations");
    assert.equal(initialView(graphViews({ ...GRAPH, nodes: GRAPH.nodes.filter((n) => n.layer === "structure") })), "structure");
  });

  it("the page names nodes (escaped), never only ids, with the hooks a test reads", () => {
    const html = graphBody(GRAPH);
    assert.match(html, /<div id="graph" data-view="relations" data-nodes="5" data-edges="3"/);
    assert.match(html, /<ul id="legend"[^>]*><li data-group="character"[^>]*><span class="swatch g-character"><\/span>Characters <span class="count">2<\/span><\/li>/);
    const names = [...html.matchAll(/<li data-id="([^"]+)"[^>]*><button[^>]*>([^<]*)<\/button><\/li>/g)].map((m) => [m[1], m[2]]);
    assert.equal(names.length, GRAPH.nodes.length);
    assert.deepEqual(names[3], ["scene:arrival", "Arrival"]);
    assert.deepEqual(names[4], ["scene:the-hut-at-night", "The hut at night"]);
    assert.deepEqual(names[9], ["tom", "Tom &lt;Marlowe&gt;"]);
    assert.match(html, /<ul id="graph-names">/);
    assert.match(html, /id="show-relations"[^>]*aria-pressed="true"/);
    assert.match(html, /id="show-structure"[^>]*aria-pressed="false"/);
    assert.doesNotMatch(html, /<Marlowe>/);
    // The data block parses back, and nothing in it can end the block.
    const data = /<script type="application\/json" id="graph-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    assert.doesNotMatch(data, /</);
    assert.deepEqual(JSON.parse(data), JSON.parse(JSON.stringify(graphPayload(GRAPH))));
    assert.match(graphBody({ project: "", nodes: [], edges: [] }), /id="graph-empty"/);
  });
});

describe("Mention Heatmap", () => {
  it("reads the server's stats; pads a short row, drops entries without an id", () => {
    const s = parseStats(JSON.parse(JSON.stringify(STATS)));
    assert.deepEqual(s?.entities.map((e) => e.per_chapter), [[10, 2, 0], [1, 0, 0], [0, 0, 0]]);
    assert.deepEqual(s?.chapters.map((c) => c.id), ["ch01", "ch02", null]);
    const odd = parseStats({ chapters: [{ id: "c", name: "C" }, { name: "D" }], entities: [{ id: "x", per_chapter: [5] }, { name: "no id" }] });
    assert.deepEqual(odd?.entities, [{ id: "x", kind: "", name: "x", mentions: 0, scenes: 0, per_chapter: [5, 0], first: null, last: null }]);
    assert.equal(parseStats({ goals: {} }), undefined);
    assert.equal(parseStats({ format: "text", text: "…" }), undefined);
  });

  it("shades by share of the largest count", () => {
    assert.deepEqual([0, 1, 2, 5, 9, 10].map((n) => heatLevel(n, 10)), [0, 1, 1, 3, 5, 5]);
    assert.equal(heatLevel(3, 0), 0);
  });

  it("is a table of entities by name × chapters by name, with counts as text and title", () => {
    const html = heatmapBody(STATS, new Set(["alice"]));
    assert.match(html, /<table id="heatmap">/);
    assert.deepEqual([...html.matchAll(/<th scope="col" data-chapter="([^"]*)"[^>]*><span>([^<]*)<\/span>/g)].map((m) => [m[1], m[2]]), [
      ["ch01", "Chapter 1 — Arrival"],
      ["ch02", "Chapter 2 — The Log"],
      ["", "(no chapter)"],
    ]);
    const rows = [...html.matchAll(/<tr data-entity="([^"]+)" data-kind="([^"]+)">/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(rows, [["alice", "character"], ["tom", "character"], ["merrow", "ship"]]);
    assert.match(html, /<button type="button" class="open" data-open="alice"[^>]*>Alice Marlowe<\/button>/);
    assert.match(html, /<th scope="row"><span title="tom">Tom &lt;Marlowe&gt;<\/span><\/th><td class="kind">character<\/td>/);
    assert.match(html, /<td class="cell h5" data-count="10" title="Alice Marlowe in Chapter 1 — Arrival: 10 mentions">10<\/td>/);
    assert.match(html, /<td class="cell h1" data-count="1" title="Tom &lt;Marlowe&gt; in Chapter 1 — Arrival: 1 mention">1<\/td>/);
    assert.match(html, /<td class="cell h0" data-count="0" title="[^"]*">(?=<)/);
    assert.match(html, /first in “Arrival”, last in “The Log”/);
    assert.match(html, /<section id="gaps">.*Tom &lt;Marlowe&gt;: 4 chapters between Chapter 1 — Arrival and Chapter 2 — The Log/);
    assert.doesNotMatch(html, /<Marlowe>/);
  });

  it("says why when there is nothing to count", () => {
    assert.match(heatmapBody({ ...STATS, entities: [] }), /id="heatmap-empty"[^>]*>This project has no characters/);
    assert.match(heatmapBody({ ...STATS, chapters: [] }), /id="heatmap-empty"[^>]*>This project has no chapters/);
  });
});

describe("the pictures' page", () => {
  it("has a strict CSP: scripts by nonce only, styles and images from the webview's source", () => {
    const page = picturePage({ nonce: "abc", cspSource: "vscode-resource:", title: "Story <Graph>", styleUri: "s.css", styleId: "__________cytoscape_stylesheet", scriptUris: ["a.js", "b.js"], body: "<p>x</p>" });
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(page)![1]!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-abc';/);
    assert.match(csp, /style-src vscode-resource:;/);
    assert.doesNotMatch(csp, /unsafe/);
    assert.deepEqual([...page.matchAll(/<script nonce="abc" src="([^"]+)"><\/script>/g)].map((m) => m[1]), ["a.js", "b.js"]);
    assert.match(page, /<title>Story &lt;Graph&gt;<\/title>/);
    assert.match(page, /<link id="__________cytoscape_stylesheet" rel="stylesheet" href="s.css">/);
    assert.match(problemBody("Story Graph", "server <down>"), /<p id="picture-problem" class="problem">server &lt;down&gt;<\/p>/);
  });

  it("escapes HTML and data blocks", () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    const json = jsonForScript({ s: "</script><!-- & \u2028" });
    assert.doesNotMatch(json, /[<>&\u2028]/);
    assert.deepEqual(JSON.parse(json), { s: "</script><!-- & \u2028" });
  });

  it("the webview scripts parse, and the CSS has a colour for every group and no red", () => {
    for (const name of ["pictures.js", "graph.js"]) {
      assert.doesNotThrow(() => new vm.Script(fs.readFileSync(path.join(EXTENSION_ROOT, "media", name), "utf8"), { filename: name }), name);
    }
    const css = fs.readFileSync(path.join(EXTENSION_ROOT, "media", "pictures.css"), "utf8");
    for (const l of legend({ project: "", edges: [], nodes: ["character", "place", "item", "faction", "research", "note", "chapter", "scene", "x"].map((k) => ({ id: k, kind: k, name: k, layer: "entity", path: "" })) })) {
      assert.match(css, new RegExp(`\\.g-${l.group} \\{ background-color: var\\(--vscode-`), l.group);
    }
    assert.doesNotMatch(css, /charts-red|ansiRed|ansiBrightRed|errorForeground|\bred\b\s*[;)]/i);
  });
});

describe("Story view tree (from the server's graph and stats)", () => {
  it("nests in reading order by name, with words; scenes under no container come last", () => {
    const tree = storyTree(GRAPH, STATS);
    assert.deepEqual(tree.map((n) => [n.label, n.kind, n.words]), [
      ["Season 1", "season", 1231],
      ["Prologue", "scene", 3],
    ]);
    const act = tree[0]!.children[0]!;
    assert.equal(act.label, "Act 1 — The Rock");
    assert.deepEqual(act.children.map((c) => [c.label, c.words, c.scenes]), [["Chapter 1 — Arrival", 981, 2], ["Chapter 2 — The Log", 250, 1]]);
    assert.deepEqual(act.children[0]!.children.map((c) => [c.id, c.label, c.words, c.path]), [
      ["scene:arrival", "Arrival", 581, "story/ch01/01-arrival.md"],
      ["scene:the-hut-at-night", "The hut at night", 400, "story/ch01/02-the-hut.md"],
    ]);
  });

  it("without stats: the tree without words", () => {
    const tree = storyTree(GRAPH);
    assert.equal(tree[0]!.words, undefined);
    assert.equal(storyDescription(tree[0]!), "season");
  });

  it("numbers a repeated scene id as the server does", () => {
    assert.deepEqual(sceneNodeIds([{ id: "a" }, { id: "b" }, { id: "a" }, { id: "a" }]), ["scene:a", "scene:b", "scene:a~2", "scene:a~3"]);
  });

  it("a parent cycle does not hang or lose nodes", () => {
    const g: Graph = {
      project: "",
      nodes: [
        { id: "a", kind: "act", name: "A", layer: "structure", path: "a.yaml" },
        { id: "b", kind: "chapter", name: "B", layer: "structure", path: "b.yaml" },
      ],
      edges: [
        { from: "a", to: "b", label: "contains", layer: "structure" },
        { from: "b", to: "a", label: "contains", layer: "structure" },
      ],
    };
    const tree = storyTree(g);
    assert.deepEqual(tree.map((n) => n.id).sort(), ["a", "b"]);
  });

  it("descriptions and tooltips: words and scenes, the id only in the tooltip", () => {
    const tree = storyTree(GRAPH, STATS);
    const ch = tree[0]!.children[0]!.children[0]!;
    assert.equal(storyDescription(ch), "chapter · 981 words · 2 scenes");
    assert.equal(storyDescription(ch.children[0]!), "581 words");
    assert.equal(storyTooltip(ch.children[0]!), "Arrival\nscene arrival\nstory/ch01/01-arrival.md");
    assert.equal(storyDescription(storyMessage("The language server is not running.")), "");
  });
});

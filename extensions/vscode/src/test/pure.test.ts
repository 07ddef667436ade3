/** The other pure modules: diff, streamed JSON, review HTML, view rows, the story tree. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { diffLines, diffStats } from "../diff";
import { completedItems, itemLabel } from "../jsonStream";
import { escapeHtml, renderBody, renderPage } from "../reviewHtml";
import { initialState, reduce, view } from "../reviewState";
import { buildStory, countWords, fountainTitlePage, splitFrontmatter, topLevelKeys } from "../story";
import { contextRows, currentTimeline, gateRows, runRows, statusText, timelineRows } from "../viewModels";

describe("diffLines", () => {
  it("finds the common lines", () => {
    const ops = diffLines("a\nb\nc\n", "a\nx\nc\nd");
    assert.deepEqual(ops, [
      { op: "same", line: "a" },
      { op: "del", line: "b" },
      { op: "add", line: "x" },
      { op: "same", line: "c" },
      { op: "add", line: "d" },
    ]);
    assert.deepEqual(diffStats(ops), { added: 2, removed: 1 });
  });

  it("handles empty sides and CRLF", () => {
    assert.deepEqual(diffLines("", "new"), [{ op: "add", line: "new" }]);
    assert.deepEqual(diffLines("old\r\n", ""), [{ op: "del", line: "old" }]);
    assert.deepEqual(diffLines("same\r\n", "same\n"), [{ op: "same", line: "same" }]);
  });
});

describe("completedItems", () => {
  it("yields objects as they complete, even with brackets and quotes inside strings", () => {
    const partial = '{"ideas": [{"title": "The [storm]", "pitch": "she says \\"no\\" }"}, {"title": "Łukasz lies", "pitch": "x"}, {"title": "unfin';
    assert.deepEqual(completedItems(partial).map(itemLabel), ['The [storm] — she says "no" }', "Łukasz lies — x"]);
  });

  it("handles scalar arrays, a finished array and no array", () => {
    assert.deepEqual(completedItems('["a", "b", 3]'), ["a", "b", 3]);
    assert.deepEqual(completedItems('["a", "b'), ["a"]);
    assert.deepEqual(completedItems("thinking…"), []);
    assert.equal(itemLabel({ quote: "He is dead", problem: "Tom died in ch 3" }), "He is dead — Tom died in ch 3");
    assert.equal(itemLabel({ n: 1 }), '{"n":1}');
  });
});

describe("review HTML", () => {
  it("escapes prompt text (a bucket can hold anything)", () => {
    assert.equal(escapeHtml(`<script>alert("x")</script> & 'y'`), "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;");
    let s = initialState("r", "draft-scene");
    s = reduce(s, { type: "progress", progress: { run: "r", pipeline: "draft-scene", state: "waiting", event: "gate", gate: { step: "review", kind: "review_prompt", uri: "u" } } }).state;
    s = reduce(s, { type: "gateLoaded", gate: { step: "review", kind: "review_prompt", uri: "u" }, text: "### <img src=x onerror=alert(1)> (character)\nbody</pre><script>" }).state;
    const html = renderBody(view(s));
    assert.ok(!html.includes("<img"), html);
    assert.ok(!html.includes("<script>"));
    assert.ok(html.includes('<details class="context-section"><summary>&lt;img src=x onerror=alert(1)&gt; (character)</summary>'));
  });

  it("renders buttons enabled only at a gate, and the edit mode as a textarea", () => {
    let s = initialState("r", "p");
    assert.match(renderBody(view(s)), /<button data-action="approve" class="primary" disabled>/);
    s = reduce(s, { type: "gateLoaded", gate: { step: "g", kind: "review_prompt", uri: "u" }, text: "prompt" }).state;
    assert.match(renderBody(view(s)), /<button data-action="approve" class="primary">/);
    s = reduce(s, { type: "user", user: { action: "edit" } }).state;
    assert.match(renderBody(view(s)), /<textarea id="text" data-version="1" spellcheck="true">prompt<\/textarea>/);
  });

  it("renders the model cascade, unset levels included (regression: a null level broke rendering)", () => {
    let s = initialState("r", "p");
    s = reduce(s, { type: "model", resolution: { model: "local/test", chain: [{ level: "step", value: null }, { level: "project", value: "local/test" }] } }).state;
    const html = renderBody(view(s));
    assert.match(html, /<li class="unset"><span class="level">step<\/span> —<\/li>/);
    assert.match(html, /<li><span class="level">project<\/span> local\/test<\/li>/);
    assert.equal(escapeHtml(null), "");
  });

  it("the page allows only its own script (nonce) and styles", () => {
    const page = renderPage({ nonce: "abc", cspSource: "vscode-resource:", scriptUri: "s.js", styleUri: "s.css", body: "<p>x</p>" });
    assert.match(page, /default-src 'none'; style-src vscode-resource:; script-src 'nonce-abc';/);
    assert.match(page, /<script nonce="abc" src="s.js"><\/script>/);
  });
});

describe("view rows", () => {
  const ctx = {
    items: [
      { bucket: "zoe", kind: "character", reason: "point of view", score: 1, tokens: 1840, text: "### Zoë Marsh (character)\nSeventeen." },
      { bucket: "lighthouse", kind: "location", reason: "pinned", score: 0.9, tokens: 120, text: "" },
    ],
    dropped: [{ bucket: "lamp-oil", reason: "over budget (412 tokens)" }],
    used_tokens: 1960,
    budget: 6000,
  };

  it("context: a summary, items with reasons and tokens, dropped items greyed", () => {
    const rows = contextRows(ctx);
    assert.equal(rows[0]!.label, "1,960 / 6,000 tokens");
    assert.equal(rows[0]!.description, "2 sent, 1 dropped");
    assert.equal(rows[1]!.description, "character · 1,840 tokens · point of view");
    assert.equal(rows[1]!.icon, "person");
    assert.deepEqual(rows[1]!.children?.map((c) => c.label), ["### Zoë Marsh (character)", "Seventeen."]);
    assert.ok(!rows[1]!.greyed);
    const dropped = rows[3]!;
    assert.equal(dropped.label, "lamp-oil");
    assert.equal(dropped.greyed, true);
    assert.match(dropped.description ?? "", /dropped · over budget/);
    assert.equal(contextRows({ ...ctx, used_tokens: 7000 })[0]!.icon, "warning");
  });

  it("runs, gates and timelines", () => {
    const runs = runRows([
      { run: "r1", pipeline: "draft-scene", state: "waiting", scene: "/p/story/ch1/arrival.md" },
      { run: "r2", pipeline: "brainstorm", state: "succeeded" },
    ]);
    assert.equal(runs[0]!.description, "waiting · arrival.md");
    assert.equal(runs[0]!.contextValue, "run.active");
    assert.equal(runs[1]!.contextValue, "run.done");
    assert.equal(runs[1]!.icon, "pass");
    const gates = gateRows([{ run: "r1", step: "review", kind: "review_prompt", uri: "u", pipeline: "draft-scene", model: "local/llama3.1" }]);
    assert.equal(gates[0]!.label, "draft-scene: review prompt");
    assert.equal(gates[0]!.description, "review · local/llama3.1");
    const tl = [
      { name: "main", current: false, events: 12 },
      { name: "what-if", current: true, events: 3, forked_from: 9 },
    ];
    assert.equal(timelineRows(tl)[1]!.description, "current · 3 events · forked at #9");
    assert.equal(timelineRows(tl)[0]!.contextValue, "timeline");
    assert.equal(currentTimeline(tl), "what-if");
  });

  it("status bar text names the timeline and model when known", () => {
    assert.equal(statusText("main", "local/llama3.1"), "$(book) Showrunner  $(git-branch) main  $(hubot) local/llama3.1");
    assert.equal(statusText(undefined, undefined), "$(book) Showrunner");
    assert.match(statusText("main", undefined, 2), /\$\(sync~spin\) 2$/);
  });
});

describe("story tree", () => {
  it("reads top-level keys, frontmatter and Fountain title pages", () => {
    assert.deepEqual(topLevelKeys('id: ch1\nkind: chapter\nname: "Chapter One" # first\nbody: |\n  text\nattributes:\n  age: 3'), { id: "ch1", kind: "chapter", name: "Chapter One" });
    assert.deepEqual(splitFrontmatter("---\nparent: ch1\n---\nZoë waits.").keys, { parent: "ch1" });
    assert.equal(splitFrontmatter("---\nparent: ch1\n---\nZoë waits.").body, "Zoë waits.");
    assert.deepEqual(fountainTitlePage("Title: Lamp\nId: lamp\nParent: act-one\n\nINT. X").keys, { title: "Lamp", id: "lamp", parent: "act-one" });
    assert.equal(countWords("Zoë's lamp — 李雷 said: well-known"), 5);
  });

  it("nests scenes under chapters under acts and sums words", () => {
    const tree = buildStory([
      { path: "buckets/act-one.yaml", text: "id: act-one\nkind: act\nname: Act One\n" },
      { path: "buckets/ch1.yaml", text: "id: ch1\nkind: chapter\nname: Arrival\nparent: act-one\n" },
      { path: "buckets/zoe.yaml", text: "id: zoe\nkind: character\nname: Zoë\n" },
      { path: "story/ch1/a.md", text: "---\nparent: ch1\n---\nOne two three." },
      { path: "story/ch1/b.scene.md", text: "---\nparent: ch1\ntitle: The Storm\n---\nFour five." },
      { path: "script/lamp.fountain", text: "Title: The Lamp\nParent: act-one\n\nINT. ROOM - DAY\n\nZoë sits." },
      { path: "story/loose.md", text: "Orphan words here" },
    ]);
    assert.deepEqual(
      tree.map((n) => [n.label, n.kind, n.words]),
      [
        ["Act One", "act", 10],
        ["loose", "scene", 3],
      ],
    );
    const act = tree[0]!;
    assert.deepEqual(act.children.map((c) => c.label), ["Arrival", "The Lamp"]);
    assert.deepEqual(act.children[0]!.children.map((c) => [c.label, c.words]), [["a", 3], ["The Storm", 2]]);
  });

  it("a parent cycle does not hang", () => {
    const tree = buildStory([
      { path: "buckets/a.yaml", text: "id: a\nkind: act\nparent: b\n" },
      { path: "buckets/b.yaml", text: "id: b\nkind: chapter\nparent: a\n" },
    ]);
    assert.deepEqual(tree, []);
  });
});

/** The other pure modules: the server's diff, streamed JSON, review HTML, view rows (the story tree: pictures.test.ts). */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { parseUnifiedDiff } from "../diff";
import { completedItems, itemLabel } from "../jsonStream";
import { escapeHtml, renderBody, renderPage } from "../reviewHtml";
import { initialState, reduce, view } from "../reviewState";
import { contextRows, currentTimeline, gateRows, projectKinds, runRows, searchItems, statusText, timelineRows } from "../viewModels";

describe("parseUnifiedDiff (the server's edit.diff)", () => {
  it("reads paths, the hunk's line numbers, added and removed lines", () => {
    const d = parseUnifiedDiff(
      ["--- a/story/ch01/03-supper.md", "+++ b/story/ch01/03-supper.md", "@@ -4,6 +4,6 @@", " pov: zoe", " ---", " ", "-Zoë waited.", "+Zoë waited, counting waves.", " ", " The soup 🍲 cooled.", ""].join("\n"),
    );
    assert.equal(d.oldPath, "story/ch01/03-supper.md");
    assert.equal(d.newPath, "story/ch01/03-supper.md");
    assert.deepEqual(
      d.rows.map((r) => [r.kind, r.oldLine, r.newLine, r.text]),
      [
        ["hunk", undefined, undefined, "@@ -4,6 +4,6 @@"],
        ["context", 4, 4, "pov: zoe"],
        ["context", 5, 5, "---"],
        ["context", 6, 6, ""],
        ["del", 7, undefined, "Zoë waited."],
        ["add", undefined, 7, "Zoë waited, counting waves."],
        ["context", 8, 8, ""],
        ["context", 9, 9, "The soup 🍲 cooled."],
      ],
    );
    assert.deepEqual([d.added, d.removed], [1, 1]);
  });

  it("an empty side names the line before it; a missing newline is a note; CRLF is fine", () => {
    const d = parseUnifiedDiff("--- a/s.md\r\n+++ b/s.md\r\n@@ -0,0 +1,2 @@\r\n+---\r\n+First.\r\n\\ No newline at end of file\r\n");
    assert.deepEqual(
      d.rows.map((r) => [r.kind, r.oldLine, r.newLine, r.text]),
      [
        ["hunk", undefined, undefined, "@@ -0,0 +1,2 @@"],
        ["add", undefined, 1, "---"],
        ["add", undefined, 2, "First."],
        ["note", undefined, undefined, "No newline at end of file"],
      ],
    );
    const removed = parseUnifiedDiff("@@ -12,2 +11,0 @@\n-a\n-b\n");
    assert.deepEqual(removed.rows.slice(1).map((r) => r.oldLine), [12, 13]);
    assert.equal(removed.removed, 2);
  });

  it("text before the first hunk is not a change; a line that looks like a header inside a hunk is", () => {
    const d = parseUnifiedDiff("# Approving: will be added after line 9\n--- a/x.md\n+++ b/x.md\n@@ -1 +1,2 @@\n keep\n++++ b/y\n");
    assert.equal(d.newPath, "x.md");
    assert.deepEqual(d.rows.slice(1).map((r) => [r.kind, r.text]), [
      ["context", "keep"],
      ["add", "+++ b/y"],
    ]);
    assert.deepEqual(parseUnifiedDiff(""), { rows: [], added: 0, removed: 0 });
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
    assert.match(renderBody(view(s)), /<textarea id="text" data-version="1" spellcheck="true">\nprompt<\/textarea>/);
  });

  it("renders the model cascade, unset levels included (regression: a null level broke rendering)", () => {
    let s = initialState("r", "p");
    s = reduce(s, { type: "model", resolution: { model: "local/test", chain: [{ level: "step", value: null }, { level: "project", value: "local/test" }] } }).state;
    const html = renderBody(view(s));
    assert.match(html, /<li class="unset"><span class="level">step<\/span> —<\/li>/);
    assert.match(html, /<li><span class="level">project<\/span> local\/test<\/li>/);
    assert.equal(escapeHtml(null), "");
  });

  it("renders the server's edit: its description, the diff with line numbers, escaped; the approve button says what it does", () => {
    const edit = {
      path: "story/ch01/03-supper.md",
      uri: "file:///p/story/ch01/03-supper.md",
      mode: "replace" as const,
      description: "replaces lines 13–15 of 03-supper.md (the selection)",
      diff: "--- a/story/ch01/03-supper.md\n+++ b/story/ch01/03-supper.md\n@@ -12,4 +12,3 @@\n ctx\n-<b>old</b>\n-two\n+new & improved\n ctx2\n",
      first_line: 13,
      last_line: 15,
      old_text: "<b>old</b>\ntwo\n",
      new_text: "new & improved\n",
    };
    const gate = { step: "approve", kind: "approve_output" as const, uri: "u", text: "new & improved", edit, note: "The <answer> was cut at the token limit." };
    const s = reduce(initialState("r", "rewrite-selection"), { type: "progress", progress: { run: "r", pipeline: "rewrite-selection", state: "waiting", event: "gate", gate } }).state;
    const html = renderBody(view(s));
    assert.match(html, /<strong id="edit-description">replaces lines 13–15 of 03-supper\.md \(the selection\)<\/strong>\./);
    assert.match(html, /<summary>Diff of story\/ch01\/03-supper\.md: \+1 −2<\/summary>/);
    assert.match(html, /<tr class="d-del"><td class="ln">13<\/td><td class="ln"><\/td><td class="code"><span class="mark">−<\/span>&lt;b&gt;old&lt;\/b&gt;<\/td><\/tr>/);
    assert.match(html, /<tr class="d-add"><td class="ln"><\/td><td class="ln">13<\/td><td class="code"><span class="mark">\+<\/span>new &amp; improved<\/td><\/tr>/);
    assert.match(html, /<tr class="d-context"><td class="ln">15<\/td><td class="ln">14<\/td>/);
    assert.match(html, /<button data-action="approve" class="primary" title="On approval, the text replaces lines 13–15 of 03-supper\.md \(the selection\)\.">Approve: replace the selection in 03-supper\.md<\/button>/);
    assert.match(html, /<div class="warning" role="alert"><strong>Before you decide:<\/strong> The &lt;answer&gt; was cut at the token limit\.<\/div>/);
    assert.ok(html.indexOf('class="warning"') < html.indexOf('class="buttons"'), "the warning comes before the buttons");
    assert.match(html, /data-action="open_diff"/);
    assert.ok(!html.includes("<b>old"), "diff text is escaped");
  });

  it("a gate without an edit renders no diff", () => {
    const gate = { step: "approve", kind: "approve_output" as const, uri: "u", text: "A finding." };
    const s = reduce(initialState("r", "research"), { type: "progress", progress: { run: "r", pipeline: "research", state: "waiting", event: "gate", gate } }).state;
    const html = renderBody(view(s));
    assert.ok(!html.includes("diff"), html);
    assert.ok(!html.includes('class="warning"'));
  });

  it("the page allows only its own script (nonce) and styles", () => {
    const page = renderPage({ nonce: "abc", cspSource: "vscode-resource:", scriptUri: "s.js", styleUri: "s.css", body: "<p>x</p>" });
    assert.match(page, /default-src 'none'; style-src vscode-resource:;.* script-src 'nonce-abc';/);
    assert.ok(!/unsafe-inline|unsafe-eval/.test(page));
    assert.match(page, /<main id="app"><p>x<\/p><\/main>/);
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

  it("context: a summary, items by name with the reason on their own line, dropped items greyed", () => {
    const rows = contextRows({
      ...ctx,
      items: [{ ...ctx.items[0]!, name: "Zoë Marsh" }, ctx.items[1]!],
      dropped: [{ bucket: "lamp-oil", name: "Lamp oil", reason: "over budget (412 tokens)" }],
    });
    assert.equal(rows[0]!.label, "1,960 / 6,000 tokens");
    assert.equal(rows[0]!.description, "2 sent, 1 dropped");
    assert.equal(rows[1]!.label, "Zoë Marsh", "the name, not the id");
    assert.equal(rows[1]!.description, "character · 1,840 tokens");
    assert.equal(rows[1]!.icon, "person");
    assert.equal(rows[1]!.expanded, true);
    assert.equal(rows[1]!.children?.[0]!.label, "point of view", "the reason, whole, on the second line");
    assert.deepEqual(rows[1]!.children?.[1]!.children?.map((c) => c.label), ["### Zoë Marsh (character)", "Seventeen."]);
    assert.ok(!rows[1]!.greyed);
    assert.equal(rows[2]!.label, "lighthouse", "an older server without names: the id stands in");
    const dropped = rows[3]!;
    assert.equal(dropped.label, "Lamp oil");
    assert.equal(dropped.greyed, true);
    assert.equal(dropped.description, "not sent");
    assert.equal(dropped.children?.[0]!.label, "over budget (412 tokens)");
    assert.equal(contextRows({ ...ctx, used_tokens: 7000 })[0]!.icon, "warning");
  });

  it("the New Bucket picker offers the project's own kinds", () => {
    const nodes = [{ kind: "character" }, { kind: "ship" }, { kind: "scene" }, { kind: "ship" }, { kind: "chapter" }, { kind: "spell" }, {}];
    assert.deepEqual(projectKinds(nodes, ["character", "location"]), ["ship", "spell"]);
  });

  it("search hits as quick-pick items", () => {
    const items = searchItems([
      { source: "story", kind: "location", title: "Gannet Rock", path: "buckets/places/gannet-rock.yaml", id: "gannet-rock", snippet: "…to the **lamp** **room**,\n a keeper's…", score: 3.2 },
      { source: "runs", kind: "answer", title: "draft-scene · draft · answer", path: "story/a.md", run: "draft-scene-1", model: "local/m", snippet: "the **lamp**", score: 1.1 },
    ]);
    assert.equal(items[0]!.label, "$(book) Gannet Rock");
    assert.equal(items[0]!.description, "location · buckets/places/gannet-rock.yaml");
    assert.equal(items[0]!.detail, "…to the lamp room, a keeper's…");
    assert.equal(items[0]!.path, "buckets/places/gannet-rock.yaml");
    assert.equal(items[1]!.label, "$(history) draft-scene · draft · answer");
    assert.equal(items[1]!.description, "answer · story/a.md · run draft-scene-1 · local/m");
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
    assert.equal(gates[0]!.label, "Draft Scene: review prompt");
    assert.equal(runs[0]!.label, "Draft Scene", "the pipeline by its title, not its id");
    assert.equal(gates[0]!.description, "review · local/llama3.1");
    const interrupted = runRows([{ run: "r3", pipeline: "rewrite-selection", state: "interrupted" }])[0]!;
    assert.deepEqual([interrupted.icon, interrupted.contextValue], ["debug-pause", "run.done"]);
    const more = gateRows([
      { run: "r3", step: "resume", kind: "resume", uri: "u", pipeline: "rewrite-selection" },
      {
        run: "r4",
        step: "approve",
        kind: "approve_output",
        uri: "u",
        note: "cut at the token limit",
        edit: { path: "s.md", mode: "append_body", description: "will be added after line 9 of s.md", diff: "", first_line: 10, last_line: 10, old_text: "", new_text: "x" },
      },
    ]);
    assert.equal(more[0]!.label, "Rewrite Selection: resume interrupted run?");
    assert.equal(more[1]!.icon, "diff");
    assert.match(more[1]!.tooltip ?? "", /Approving: will be added after line 9 of s\.md\n⚠ cut at the token limit/);
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

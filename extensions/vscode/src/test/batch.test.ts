/** Batches and plans: the arguments sent, the targets offered, the score, the Batches view, the judge's score at gates, the manifest. */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
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
  type BatchStatus,
} from "../batch";
import { parseGates, parseRunProgress, type PipelineInfo } from "../protocol";
import { renderBody } from "../reviewHtml";
import { initialState, reduce, view, type GateRef } from "../reviewState";
import type { StoryNode } from "../story";
import { batchRows, gateDescription, gateRows, judged } from "../viewModels";
import { EXTENSION_ROOT } from "./tm";

const pipelines: PipelineInfo[] = [
  { id: "rewrite-selection", title: "Rewrite", description: "", layer: "quick_action" },
  { id: "summarize-scene", title: "Summarize the scene", description: "", layer: "template" },
  { id: "polish", title: "Polish", description: "", layer: "custom" },
];

const node = (id: string, kind: string, label: string, children: StoryNode[] = []): StoryNode => ({ id, kind, label, path: `${id}.yaml`, children });
const story: StoryNode[] = [
  node("season-1", "season", "Season One", [
    node("ch01", "chapter", "Chapter 1 — Arrival", [node("scene:arrival", "scene", "Arrival")]),
    node("ch02", "chapter", "Chapter 2 — The Log"),
  ]),
  node("scene:loose", "scene", "A loose scene"),
];

const status: BatchStatus = {
  batch: "batch-19a",
  total: 4,
  done: 1,
  running: 1,
  waiting: 1,
  failed: 0,
  queued: 1,
  cancelled: 0,
  working: true,
  summary: "1/4 done · 1 running · 1 waiting at a gate · 0 failed · 1 queued",
  runs: [
    { run: "r1", pipeline: "summarize-scene", state: "succeeded", scene: "story/ch01/01-arrival.md" },
    { run: "r2", pipeline: "summarize-scene", state: "waiting", scene: "story/ch01/02-the-hut.md" },
    { run: "r3", pipeline: "summarize-scene", state: "running", scene: "story/ch01/03-supper.md" },
    { run: "r4", pipeline: "summarize-scene", state: "queued", scene: "story/episode-01.fountain" },
  ],
};

describe("batch: pipelines and targets", () => {
  it("offers every pipeline but the quick actions, which need a selection", () => {
    assert.deepEqual(batchablePipelines(pipelines).map((p) => p.id), ["summarize-scene", "polish"]);
  });

  it("offers the whole story, then every season … chapter in reading order, never a scene", () => {
    const items = targetItems(story, WHOLE_STORY);
    assert.deepEqual(items.map((i) => i.target), [".", "season-1", "ch01", "ch02"]);
    assert.deepEqual(items.map((i) => i.description), [".", "season · season-1", "chapter · ch01", "chapter · ch02"]);
    assert.equal(items[2]!.label, "\u2003Chapter 1 — Arrival", "indented under its season, by name");
    assert.equal(targetItems(story, WHOLE_PROJECT)[0]!.target, undefined, "a plan's whole project is no scope");
  });

  it("reads typed targets, spaces or commas between", () => {
    assert.deepEqual(parseTargets(" ch01, ch02  story/ch03/,season-1 "), ["ch01", "ch02", "story/ch03/", "season-1"]);
    assert.deepEqual(parseTargets("  "), []);
    assert.deepEqual(typedTargetItem("ch01,ch02"), { label: "$(edit) ch01 ch02", description: "as typed", target: "ch01 ch02", alwaysShow: true });
    assert.equal(typedTargetItem(" , "), undefined);
  });
});

describe("batch: arguments", () => {
  it("batch.run sends the filter and the model only when given", () => {
    assert.deepEqual(batchRunArgs({ pipeline: "summarize-scene", targets: ["ch01"], where: "  ", judge: true, model: "", uri: "file:///p/showrunner.yaml" }), {
      pipeline: "summarize-scene",
      targets: ["ch01"],
      judge: true,
      uri: "file:///p/showrunner.yaml",
    });
    assert.deepEqual(batchRunArgs({ pipeline: "draft-scene", targets: [".", "ch02"], where: " words == 0 ", judge: false, model: " local/test " }), {
      pipeline: "draft-scene",
      targets: [".", "ch02"],
      judge: false,
      where: "words == 0",
      model: "local/test",
    });
  });

  it("counts in words", () => {
    assert.deepEqual([counted(1, "run"), counted(0, "gate"), counted(3, "run")], ["1 run", "0 gates", "3 runs"]);
  });

  it("a score is a number from 0 to 1", () => {
    assert.equal(DEFAULT_SCORE, "0.9");
    for (const [text, score] of [["0.9", 0.9], [" .85 ", 0.85], ["1", 1], ["0", 0], ["0.", 0]] as const) assert.equal(parseScore(text), score, text);
    for (const text of ["1.2", "-0.1", "abc", "", "0.9x", "90%", "1e-1"]) {
      assert.equal(parseScore(text), undefined, text);
      assert.match(scoreProblem(text) ?? "", /from 0 to 1/, text);
    }
    assert.equal(scoreProblem("0.75"), undefined);
  });

  it("batch.approve, .status, .cancel and plan name only what is given", () => {
    assert.deepEqual(batchApproveArgs(0.9), { min_confidence: 0.9 });
    assert.deepEqual(batchApproveArgs(0, { batch: "b", uri: "u" }), { min_confidence: 0, batch: "b", uri: "u" });
    assert.deepEqual(batchArgs(), {});
    assert.deepEqual(batchArgs({ uri: "u" }), { uri: "u" });
    assert.deepEqual(planArgs({ goal: "  Summaries for ch01 ", scope: "", model: "" }), { goal: "Summaries for ch01" });
    assert.deepEqual(planArgs({ goal: "Tighten", scope: " act-1 ", model: "local/test", uri: "u" }), { goal: "Tighten", scope: "act-1", model: "local/test", uri: "u" });
  });
});

describe("batch: status and the Batches view", () => {
  it("reads a status, and refuses one without the documented shape", () => {
    assert.deepEqual(parseBatchStatus(status), status);
    assert.equal(parseBatchStatus({ ...status, done: "1" }), undefined);
    assert.equal(parseBatchStatus({ ...status, runs: null }), undefined);
    assert.equal(parseBatchStatus(null), undefined);
    const odd = parseBatchStatus({ ...status, working: null, runs: [...status.runs, { run: 4 }] });
    assert.equal(odd?.working, false);
    assert.equal(odd?.runs.length, 4, "a run without an id is left out");
  });

  it("knows the server's answer for a project without batches", () => {
    assert.ok(isNoBatch("showrunner.batch.status: no batch in this project yet"));
    assert.ok(!isNoBatch("no batch `batch-1`"));
  });

  it("shows the counts as the terminal words them, the runs below as the Runs view does", () => {
    const [top, ...rest] = batchRows(status);
    assert.equal(rest.length, 0);
    assert.equal(top!.label, "1/4 done · 1 running · 1 waiting at a gate · 0 failed · 1 queued");
    assert.equal(top!.description, "working");
    assert.equal(top!.icon, "sync~spin");
    assert.ok(top!.expanded);
    const runs = top!.children!;
    assert.deepEqual(runs.map((r) => r.id), ["run:r1", "run:r2", "run:r3", "run:r4"]);
    assert.deepEqual(runs.map((r) => r.description), ["succeeded · 01-arrival.md", "waiting · 02-the-hut.md", "running · 03-supper.md", "queued · episode-01.fountain"]);
    assert.deepEqual(runs.map((r) => r.contextValue), ["run.done", "run.active", "run.active", "run.active"], "active runs can be cancelled");
    assert.deepEqual(runs.map((r) => r.icon), ["pass", "bell-dot", "sync~spin", "clock"]);
  });

  it("a batch that ended says so, with what was cancelled or failed", () => {
    const ended = batchRows({ ...status, working: false, done: 3, running: 0, waiting: 0, queued: 0, cancelled: 1, summary: "3/4 done · 0 running · 0 waiting at a gate · 0 failed · 0 queued" })[0]!;
    assert.deepEqual([ended.description, ended.icon], ["finished · 1 cancelled", "circle-slash"]);
    const done = batchRows({ ...status, working: false, done: 4, running: 0, waiting: 0, queued: 0 })[0]!;
    assert.deepEqual([done.description, done.icon], ["finished", "pass"]);
    const failed = batchRows({ ...status, working: false, done: 3, running: 0, waiting: 0, queued: 0, failed: 1 })[0]!;
    assert.deepEqual([failed.description, failed.icon], ["finished", "warning"]);
    const left = batchRows({ ...status, working: false })[0]!;
    assert.deepEqual([left.description, left.icon], ["not worked by this server", "debug-pause"]);
  });
});

describe("the judge's score at gates", () => {
  const gate = { run: "r2", step: "approve", kind: "approve_output" as const, uri: "u", pipeline: "summarize-scene", model: "local/test", confidence: 0.95 };

  it("is read from the queue and from gate events, and only when it is a number", () => {
    assert.equal(parseGates([gate])[0]!.confidence, 0.95);
    assert.equal(parseGates([{ ...gate, confidence: null }])[0]!.confidence, undefined);
    assert.equal(parseGates([{ ...gate, confidence: "high" }])[0]!.confidence, undefined);
    const p = parseRunProgress({ run: "r2", pipeline: "summarize-scene", state: "waiting", event: "gate", gate: { step: "judge", kind: "judge", uri: "u", confidence: 0.8 } });
    assert.equal(p?.gate?.confidence, 0.8);
  });

  it("shows in the Approval Queue beside the step", () => {
    assert.equal(judged(0.8), "judged 0.80");
    assert.equal(judged(undefined), undefined);
    assert.equal(gateDescription(gate), "approve · judged 0.95 · local/test");
    assert.equal(gateDescription({ ...gate, confidence: undefined }), "approve · local/test");
    assert.match(gateRows([gate])[0]!.tooltip ?? "", /the judge scored the answer 0\.95/);
  });

  it("shows in the review panel while the gate is open, and not after", () => {
    const ref: GateRef = { step: "approve", kind: "approve_output", uri: "u" };
    let s = initialState("r2", "summarize-scene");
    s = reduce(s, { type: "progress", progress: { run: "r2", pipeline: "summarize-scene", state: "waiting", event: "gate", gate: { ...ref, text: "Summary of arrival.", confidence: 0.92 } } }).state;
    assert.equal(view(s).judged, "judged 0.92");
    assert.match(renderBody(view(s)), /<span id="judged" class="judged"[^>]*>judged 0\.92<\/span>/);
    // The same gate asked again with another score (a regenerated answer, judged again) shows it.
    s = reduce(s, { type: "progress", progress: { run: "r2", pipeline: "summarize-scene", state: "waiting", event: "gate", gate: { ...ref, text: "Summary of arrival.", confidence: 0.7 } } }).state;
    assert.equal(view(s).judged, "judged 0.70");
    const loaded = reduce(initialState("r2", "summarize-scene"), { type: "gateLoaded", gate: ref, text: "x", confidence: 0.81 }).state;
    assert.equal(view(loaded).judged, "judged 0.81", "a gate read from its document takes the queue's score");
    s = reduce(s, { type: "user", user: { action: "approve", text: "Summary of arrival." } }).state;
    s = reduce(s, { type: "resolved", decision: "approve" }).state;
    assert.equal(view(s).judged, undefined);
    assert.doesNotMatch(renderBody(view(s)), /judged/);
    const unjudged = reduce(initialState("r2", "summarize-scene"), { type: "gateLoaded", gate: ref, text: "x" }).state;
    assert.equal(view(unjudged).judged, undefined);
  });
});

describe("package.json: batches and plans", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(EXTENSION_ROOT, "package.json"), "utf8")) as {
    contributes: {
      commands: { command: string; title: string; category?: string }[];
      menus: Record<string, { command?: string; when?: string; group?: string }[]>;
      views: Record<string, { id: string; name: string }[]>;
      viewsWelcome: { view: string; contents: string }[];
    };
  };
  const c = pkg.contributes;
  const src = fs.readFileSync(path.join(EXTENSION_ROOT, "src", "extension.ts"), "utf8");

  it("declares the palette commands, registers each, and shows them when the server runs", () => {
    for (const [id, title] of [
      ["showrunner.runBatch", "Run a Batch…"],
      ["showrunner.batchStatus", "Batch Status"],
      ["showrunner.cancelBatch", "Cancel Batch"],
      ["showrunner.approveJudged", "Approve Well-Judged Gates…"],
      ["showrunner.planWork", "Plan…"],
    ] as const) {
      const cmd = c.commands.find((x) => x.command === id);
      assert.equal(cmd?.title, title, id);
      assert.equal(cmd?.category, "Showrunner", id);
      assert.ok(src.includes(`register("${id}"`), `${id} is registered`);
      assert.ok(c.menus.commandPalette!.some((m) => m.command === id && m.when === "showrunner.serverRunning"), `${id} in the palette`);
    }
  });

  it("has a Batches view after Runs, with its actions and the refresh button in its title bar", () => {
    const views = c.views.showrunner!;
    const i = views.findIndex((v) => v.id === "showrunner.batches");
    assert.equal(views[i]?.name, "Batches");
    assert.equal(views[i - 1]?.id, "showrunner.runs");
    const title = c.menus["view/title"]!;
    for (const id of ["showrunner.runBatch", "showrunner.approveJudged", "showrunner.cancelBatch"]) {
      assert.ok(title.some((m) => m.command === id && m.when === "view == showrunner.batches"), id);
    }
    const refresh = title.find((m) => m.command === "showrunner.refreshViews");
    assert.ok(refresh?.when && new RegExp(refresh.when.replace(/^view =~ \/(.*)\/$/, "$1")).test("showrunner.batches"), "the refresh button");
    assert.match(c.viewsWelcome.find((w) => w.view === "showrunner.batches")?.contents ?? "", /\(command:showrunner\.runBatch\)/);
  });
});

/** Message shapes: what the extension sends matches PROTOCOL.md, and what it accepts is validated. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import {
  agentAskArgs,
  bucketCreateArgs,
  Commands,
  contextShowArgs,
  gateResolveArgs,
  isContextResult,
  modelsResolveArgs,
  parseAliases,
  parseGateEdit,
  parseGates,
  parseRunProgress,
  pipelineRunArgs,
  researchArgs,
  reviewDocumentIds,
  runIdOf,
  timelineCreateArgs,
} from "../protocol";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "./tm";
import type { EditView, GateView } from "../generated/protocol";
import type { Gate, GateEdit } from "../protocol";

/**
 * True when every field A reads is one B names: a field the server renames or drops fails to
 * compile here; a field it adds does not (the extension may not need it).
 */
type ReadsOnly<A, B> = [keyof A] extends [keyof B] ? true : false;
const editFields: ReadsOnly<GateEdit, EditView> = true;
const gateFields: ReadsOnly<Gate, GateView> = true;

const sel = { start: { line: 3, character: 2 }, end: { line: 5, character: 0 } };

describe("command names", () => {
  it("every command the extension calls is in PROTOCOL.md's table", () => {
    const doc = fs.readFileSync(path.join(REPO_ROOT, "extensions", "PROTOCOL.md"), "utf8");
    for (const name of Object.values(Commands)) {
      const short = name.replace(/^showrunner\.timeline\.(create|switch)$/, ".$1");
      assert.ok(doc.includes(`\`${name}\``) || doc.includes(`\`${short}\``), `${name} is not documented`);
    }
  });
});

describe("argument builders", () => {
  it("pipeline.run leaves out empty model and inputs", () => {
    assert.deepEqual(pipelineRunArgs("draft-scene", "file:///s.md"), { pipeline: "draft-scene", uri: "file:///s.md" });
    assert.deepEqual(pipelineRunArgs("rewrite-selection", "file:///s.md", { range: sel, model: "  ", inputs: {} }), {
      pipeline: "rewrite-selection",
      uri: "file:///s.md",
      range: sel,
    });
    assert.deepEqual(pipelineRunArgs("brainstorm", "u", { model: " local/qwen2.5 ", inputs: { n: 3 } }), {
      pipeline: "brainstorm",
      uri: "u",
      inputs: { n: 3 },
      model: "local/qwen2.5",
    });
  });

  it("gate.resolve sends text and model only where the decision reads them", () => {
    const g = { run: "r1", step: "review" };
    assert.deepEqual(gateResolveArgs(g, "approve"), { run: "r1", step: "review", decision: "approve" });
    assert.deepEqual(gateResolveArgs(g, "edit", { text: "new" }), { run: "r1", step: "review", decision: "edit", text: "new" });
    assert.deepEqual(gateResolveArgs(g, "skip", { text: "ignored", model: "x/y" }), { run: "r1", step: "review", decision: "skip" });
    assert.deepEqual(gateResolveArgs(g, "change_model", { model: "openai/gpt-4o", text: "no" }), {
      run: "r1",
      step: "review",
      decision: "change_model",
      model: "openai/gpt-4o",
    });
    assert.deepEqual(gateResolveArgs(g, "change_model"), { run: "r1", step: "review", decision: "change_model" });
    assert.deepEqual(gateResolveArgs(g, "reject", { text: "off tone" }).text, "off tone");
    assert.equal(gateResolveArgs(g, "regenerate", { text: "x" }).text, undefined);
  });

  it("context.show, models.resolve, research, agent.ask, bucket.create, timeline.create", () => {
    assert.deepEqual(contextShowArgs("u"), { uri: "u" });
    assert.deepEqual(contextShowArgs("u", { line: 1, character: 4 }), { uri: "u", position: { line: 1, character: 4 } });
    assert.deepEqual(modelsResolveArgs({ uri: "u", pipeline: "", step: "review" }), { uri: "u", step: "review" });
    assert.deepEqual(researchArgs("  lamp oil in 1890? ", "u"), { question: "lamp oil in 1890?", uri: "u" });
    assert.deepEqual(researchArgs("q"), { question: "q" });
    assert.deepEqual(agentAskArgs(" help ", "u", { start: { line: 1, character: 1 }, end: { line: 1, character: 1 } }), { text: "help", uri: "u" });
    assert.deepEqual(agentAskArgs("help", "u", sel), { text: "help", uri: "u", range: sel });
    assert.deepEqual(agentAskArgs("help", undefined, sel), { text: "help" });
    assert.deepEqual(bucketCreateArgs(" character ", " Zoë Marsh ", { aliases: ["Zoë", " ", "the keeper's girl"], parent: " " }), {
      kind: "character",
      name: "Zoë Marsh",
      aliases: ["Zoë", "the keeper's girl"],
    });
    assert.deepEqual(bucketCreateArgs("place", "Port Sorrow", { project: "/p", parent: "act-one" }), { kind: "place", name: "Port Sorrow", project: "/p", parent: "act-one" });
    assert.deepEqual(parseAliases("Łukasz, , Łukasz Nowak ,李雷"), ["Łukasz", "Łukasz Nowak", "李雷"]);
    assert.deepEqual(timelineCreateArgs(" what-if "), { name: "what-if" });
    assert.deepEqual(timelineCreateArgs("b", "ev-12"), { name: "b", from_event: "ev-12" });
  });
});

describe("what the server sends", () => {
  it("gates and edits read only fields the server's generated types name", () => {
    assert.deepEqual([editFields, gateFields], [true, true]);
  });

  it("parses each runProgress event of PROTOCOL.md", () => {
    const text = parseRunProgress({ run: "rewrite-selection-19a", pipeline: "rewrite-selection", state: "running", event: "text", step: "rewrite", text: "The lamp…" });
    assert.deepEqual(text, { run: "rewrite-selection-19a", pipeline: "rewrite-selection", state: "running", event: "text", step: "rewrite", text: "The lamp…" });
    const gate = parseRunProgress({ run: "r", pipeline: "p", state: "waiting", event: "gate", gate: { step: "review", kind: "review_prompt", uri: "file:///x.md" } });
    assert.deepEqual(gate?.gate, { step: "review", kind: "review_prompt", uri: "file:///x.md" });
    assert.equal(parseRunProgress({ run: "r", pipeline: "p", state: "failed", event: "done", error: "boom" })?.error, "boom");
    assert.equal(parseRunProgress({ run: "r", pipeline: "p", state: "running", event: "step", step: "s", step_state: "succeeded" })?.step_state, "succeeded");
  });

  const EDIT = {
    path: "story/ch01/03-supper.md",
    uri: "file:///p/story/ch01/03-supper.md",
    mode: "append_body",
    field: null,
    description: "will be added after line 29 of 03-supper.md, at the end of the scene",
    diff: "--- a/story/ch01/03-supper.md\n+++ b/story/ch01/03-supper.md\n@@ -27,3 +27,5 @@\n a\n b\n c\n+\n+Night fell.\n",
    first_line: 30,
    last_line: 30,
    old_text: "",
    new_text: "\nNight fell.\n",
  };

  it("keeps a gate's text, model, edit, note and reasoning", () => {
    const p = parseRunProgress({
      run: "r",
      pipeline: "p",
      state: "waiting",
      event: "gate",
      gate: {
        run: "r",
        step: "approve",
        kind: "approve_output",
        uri: "file:///x.md",
        pipeline: "p",
        model: "local/m",
        text: "Night fell.",
        edit: EDIT,
        note: "cut at the token limit",
        reasoning: "Okay, plan.",
      },
    });
    assert.deepEqual(p?.gate, {
      step: "approve",
      kind: "approve_output",
      uri: "file:///x.md",
      model: "local/m",
      text: "Night fell.",
      edit: Object.fromEntries(Object.entries(EDIT).filter(([k]) => k !== "field")),
      note: "cut at the token limit",
      reasoning: "Okay, plan.",
    });
    assert.equal(Object.hasOwn(p?.gate?.edit ?? {}, "field"), false, "a null field is left out");
    const bare = parseRunProgress({ run: "r", event: "gate", gate: { step: "resume", kind: "resume", uri: "u", edit: null, note: null, reasoning: null } })?.gate;
    assert.deepEqual(bare, { step: "resume", kind: "resume", uri: "u" }, "null edit, note and reasoning are left out");
    assert.equal(parseGates([{ run: "r", step: "s", kind: "approve_output", uri: "u", text: "t", reasoning: "  \n" }])[0]?.reasoning, undefined, "blank reasoning is none");
  });

  it("an edit needs its description and diff; modes by their names (old ones too), an unknown one left out", () => {
    assert.equal(parseGateEdit({ ...EDIT, diff: undefined }), undefined);
    assert.equal(parseGateEdit({ ...EDIT, description: 3 }), undefined);
    assert.equal(parseGateEdit("edit"), undefined);
    assert.equal(parseGateEdit({ ...EDIT, mode: "teleport" })?.mode, undefined);
    assert.equal(parseGateEdit({ ...EDIT, mode: "toString" })?.mode, undefined);
    assert.equal(parseGateEdit({ ...EDIT, mode: "set_frontmatter", field: "summary" })?.field, "summary");
    // A server from before spec 10's names.
    assert.deepEqual(
      ["replace_selection", "insert_after_selection", "append", "set_field", "new_file"].map((m) => parseGateEdit({ ...EDIT, mode: m })?.mode),
      ["replace", "insert_after", "append_body", "set_frontmatter", "new_file"],
    );
  });

  it("parses the `recorded` event and `interrupted` runs", () => {
    assert.deepEqual(parseRunProgress({ run: "r", pipeline: "p", state: "succeeded", event: "recorded", plan: "r-apply", history_event: "ev-7", error: null }), {
      run: "r",
      pipeline: "p",
      state: "succeeded",
      event: "recorded",
      plan: "r-apply",
      history_event: "ev-7",
    });
    assert.equal(parseRunProgress({ run: "r", pipeline: "p", state: "succeeded", event: "recorded", plan: "x", history_event: null, error: "locked" })?.error, "locked");
    assert.equal(parseRunProgress({ run: "r", pipeline: "p", state: "interrupted", event: "state" })?.state, "interrupted");
  });

  it("reads the approval queue, dropping malformed entries", () => {
    const gates = parseGates([
      { run: "r", step: "approve", kind: "approve_output", uri: "u", pipeline: "p", model: "local/m", text: "t", edit: EDIT, note: null },
      { step: "no-run", kind: "review_prompt", uri: "u" },
      "junk",
    ]);
    assert.equal(gates.length, 1);
    assert.equal(gates[0]!.edit?.description, EDIT.description);
    assert.equal(gates[0]!.pipeline, "p");
    assert.equal(gates[0]!.note, undefined);
    assert.deepEqual(parseGates(null), []);
  });

  it("rejects payloads without the documented shape", () => {
    assert.equal(parseRunProgress(null), undefined);
    assert.equal(parseRunProgress([]), undefined);
    assert.equal(parseRunProgress({ pipeline: "p", event: "text", text: "x" }), undefined, "no run");
    assert.equal(parseRunProgress({ run: "r", event: "explode" }), undefined, "unknown event");
    assert.equal(parseRunProgress({ run: "r", event: "text" }), undefined, "text without text");
    assert.equal(parseRunProgress({ run: "r", event: "gate", gate: { step: "s" } }), undefined, "gate without uri");
  });

  it("reads run ids, context results and review document paths", () => {
    assert.equal(runIdOf({ run: "draft-scene-1" }), "draft-scene-1");
    assert.equal(runIdOf({ id: "x" }), undefined);
    assert.ok(isContextResult({ items: [], dropped: [], used_tokens: 0, budget: 6000 }));
    assert.ok(!isContextResult({ items: [], used_tokens: 0, budget: 6000 }));
    assert.deepEqual(reviewDocumentIds("/home/w/story/.showrunner/runs/draft-scene-19a/review.md"), { run: "draft-scene-19a", step: "review" });
    assert.deepEqual(reviewDocumentIds("C:\\w\\.showrunner\\runs\\r1\\approve.md"), { run: "r1", step: "approve" });
    assert.equal(reviewDocumentIds("/home/w/story/ch1/arrival.md"), undefined);
  });
});

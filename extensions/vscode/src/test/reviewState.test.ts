/** The review panel's state machine: every transition without a webview. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { initialState, promptSections, reduce, view, type GateRef, type ReviewEvent, type ReviewState, type Transition } from "../reviewState";
import type { RunProgress } from "../protocol";

const RUN = "rewrite-selection-19a";
const promptGate: GateRef = { step: "review", kind: "review_prompt", uri: "file:///p/.showrunner/runs/r/review.md" };
const outputGate: GateRef = { step: "approve", kind: "approve_output", uri: "file:///p/.showrunner/runs/r/approve.md" };
const PROMPT = "Rewrite this passage.\nContext:\n### Zoë Marsh (character)\nSeventeen, keeps the lamp.\n### Port Sorrow (location)\nA harbour town.\nPassage:\nThe lamp turned.";

const progress = (p: Partial<RunProgress> & Pick<RunProgress, "event">): ReviewEvent => ({
  type: "progress",
  progress: { run: RUN, pipeline: "rewrite-selection", state: "running", ...p },
});

function run(events: ReviewEvent[], start: ReviewState = initialState(RUN, "rewrite-selection")): Transition {
  let t: Transition = { state: start, effects: [] };
  for (const e of events) t = reduce(t.state, e);
  return t;
}

const atPromptGate = () =>
  run([progress({ event: "gate", state: "waiting", gate: promptGate }), { type: "gateLoaded", gate: promptGate, text: PROMPT, model: "local/llama3.1" }]).state;

describe("gates", () => {
  it("a gate event asks to load the review document; loading enables the buttons", () => {
    const t = run([progress({ event: "gate", state: "waiting", gate: promptGate })]);
    assert.deepEqual(t.effects, [{ type: "loadGate", gate: promptGate }]);
    assert.equal(t.state.phase, "running");
    assert.ok(view(t.state).buttons.filter((b) => b.id !== "cancel").every((b) => !b.enabled));
    const s = reduce(t.state, { type: "gateLoaded", gate: promptGate, text: PROMPT }).state;
    assert.equal(s.phase, "gate");
    assert.ok(view(s).buttons.every((b) => b.enabled));
  });

  it("approve without edits lets the server read the document; with edits it is an edit", () => {
    const s = atPromptGate();
    assert.deepEqual(reduce(s, { type: "user", user: { action: "approve", text: PROMPT } }).effects, [
      { type: "resolve", args: { run: RUN, step: "review", decision: "approve" } },
    ]);
    const edited = reduce(s, { type: "user", user: { action: "approve", text: PROMPT + "\nKeep it short." } });
    assert.deepEqual(edited.effects, [{ type: "resolve", args: { run: RUN, step: "review", decision: "edit", text: PROMPT + "\nKeep it short." } }]);
    assert.equal(edited.state.phase, "resolving");
    assert.equal(edited.state.pending, "edit");
  });

  it("buttons do nothing while a decision is on its way (no double send)", () => {
    const s = reduce(atPromptGate(), { type: "user", user: { action: "skip" } }).state;
    const again = reduce(s, { type: "user", user: { action: "approve" } });
    assert.deepEqual(again.effects, []);
    assert.equal(again.state, s);
  });

  it("chat: the first press opens the input, the second sends; the gate stays open and reloads", () => {
    let t = reduce(atPromptGate(), { type: "user", user: { action: "chat" } });
    assert.equal(t.state.mode, "chat");
    assert.deepEqual(t.effects, []);
    t = reduce(t.state, { type: "user", user: { action: "chat", text: "   " } });
    assert.match(t.state.notice ?? "", /Type a message/);
    t = reduce(t.state, { type: "user", user: { action: "chat", text: "Make Zoë angrier" } });
    assert.deepEqual(t.effects, [{ type: "resolve", args: { run: RUN, step: "review", decision: "chat", text: "Make Zoë angrier" } }]);
    assert.deepEqual(t.state.chat, ["Make Zoë angrier"]);
    t = reduce(t.state, { type: "resolved", decision: "chat" });
    assert.deepEqual(t.effects, [{ type: "loadGate", gate: promptGate }]);
    const reloaded = reduce(t.state, { type: "gateLoaded", gate: promptGate, text: "A revised prompt" }).state;
    assert.equal(reloaded.phase, "gate");
    assert.equal(reloaded.version, t.state.version + 1, "new text: the webview drops stale edits");
  });

  it("paste sends the pasted answer", () => {
    let s = reduce(atPromptGate(), { type: "user", user: { action: "paste" } }).state;
    const t = reduce(s, { type: "user", user: { action: "paste", text: "An answer from elsewhere." } });
    assert.deepEqual(t.effects, [{ type: "resolve", args: { run: RUN, step: "review", decision: "paste", text: "An answer from elsewhere." } }]);
    s = reduce(t.state, { type: "resolved", decision: "paste" }).state;
    assert.equal(s.phase, "running");
    assert.equal(s.gate, undefined);
    assert.equal(view(s).notice, "paste: sent");
    // The next gate starts without the previous gate's notice.
    s = reduce(s, { type: "gateLoaded", gate: outputGate, text: "out" }).state;
    assert.equal(view(s).notice, undefined);
  });

  it("change model asks for a model first, then sends it and shows it", () => {
    const s = atPromptGate();
    assert.deepEqual(reduce(s, { type: "user", user: { action: "change_model" } }).effects, [{ type: "pickModel" }]);
    const t = reduce(s, { type: "user", user: { action: "change_model", model: "openai/gpt-4o" } });
    assert.deepEqual(t.effects, [{ type: "resolve", args: { run: RUN, step: "review", decision: "change_model", model: "openai/gpt-4o" } }]);
    assert.equal(view(t.state).model, "openai/gpt-4o");
  });

  it("reject asks for a reason; an empty reason still rejects with a default", () => {
    const s = atPromptGate();
    assert.deepEqual(reduce(s, { type: "user", user: { action: "reject" } }).effects, [{ type: "askRejectReason" }]);
    const t = reduce(s, { type: "user", user: { action: "reject", text: "" } });
    assert.deepEqual(t.effects, [{ type: "resolve", args: { run: RUN, step: "review", decision: "reject", text: "rejected in the review panel" } }]);
  });

  it("a failed decision returns to the gate with the server's message", () => {
    const s = reduce(atPromptGate(), { type: "user", user: { action: "skip" } }).state;
    const back = reduce(s, { type: "resolved", decision: "skip", error: "no such gate" }).state;
    assert.equal(back.phase, "gate");
    assert.equal(view(back).notice, "no such gate");
  });
});

describe("streaming and the end of a run", () => {
  it("text events append per step; a new step starts a new stream", () => {
    let t = run([progress({ event: "text", step: "rewrite", text: "The lamp" })]);
    t = reduce(t.state, progress({ event: "text", step: "rewrite", text: " turned." }));
    assert.equal(t.appendOnly, " turned.");
    assert.equal(t.state.stream, "The lamp turned.");
    t = reduce(t.state, progress({ event: "text", step: "judge", text: "{" }));
    assert.equal(t.state.stream, "{");
    assert.equal(t.appendOnly, undefined, "a new step re-renders");
  });

  it("ignores other runs' events", () => {
    const s = atPromptGate();
    const t = reduce(s, { type: "progress", progress: { run: "other", pipeline: "x", state: "failed", event: "done" } });
    assert.equal(t.state, s);
  });

  it("streams brainstorm ideas as items as soon as each parses", () => {
    const t = run([progress({ event: "text", step: "ideas", text: '{"ideas": [{"title": "A storm", "pitch": "it hits"}, {"title": "A le' })]);
    assert.deepEqual(view(t.state).streamItems, ["A storm — it hits"]);
  });

  it("cancel works while running and is ignored once finished", () => {
    const t = run([progress({ event: "text", step: "rewrite", text: "x" }), { type: "user", user: { action: "cancel" } }]);
    assert.deepEqual(t.effects, [{ type: "cancel", run: RUN }]);
    const done = run([progress({ event: "done", state: "cancelled" }), { type: "user", user: { action: "cancel" } }]);
    assert.deepEqual(done.effects, []);
    assert.equal(done.state.phase, "finished");
    assert.match(view(done.state).status, /cancelled/);
  });

  it("a failed run shows its error", () => {
    const s = run([progress({ event: "done", state: "failed", error: "model server at http://127.0.0.1:11434/v1 is unreachable" })]).state;
    assert.equal(view(s).error, "model server at http://127.0.0.1:11434/v1 is unreachable");
    assert.ok(view(s).buttons.every((b) => !b.enabled));
  });
});

describe("output review", () => {
  it("an output gate shows a diff against the text it replaces", () => {
    const s = run([
      { type: "base", text: "The lamp turned.\nZoë waited." },
      progress({ event: "gate", state: "waiting", gate: outputGate }),
      { type: "gateLoaded", gate: outputGate, text: "The great lamp turned.\nZoë waited." },
    ]).state;
    const vm = view(s);
    assert.deepEqual(vm.diff?.ops, [
      { op: "del", line: "The lamp turned." },
      { op: "add", line: "The great lamp turned." },
      { op: "same", line: "Zoë waited." },
    ]);
    assert.equal(vm.diff?.added, 1);
    assert.match(vm.status, /Review the output/);
  });

  it("a prompt gate shows no diff, and no base means no diff", () => {
    assert.equal(view({ ...atPromptGate(), base: "x" }).diff, undefined);
    const s = run([progress({ event: "gate", gate: outputGate }), { type: "gateLoaded", gate: outputGate, text: "out" }]).state;
    assert.equal(view(s).diff, undefined);
  });
});

describe("promptSections", () => {
  it("splits context sections (collapsible) from the prompt's own text", () => {
    assert.deepEqual(promptSections(PROMPT), [
      { title: "", body: "Rewrite this passage.\nContext:", collapsible: false },
      { title: "Zoë Marsh (character)", body: "Seventeen, keeps the lamp.", collapsible: true },
      { title: "Port Sorrow (location)", body: "A harbour town.", collapsible: true },
      { title: "", body: "Passage:\nThe lamp turned.", collapsible: false },
    ]);
  });

  it("keeps a bucket's 'Since …:' lines inside its section; CRLF is fine", () => {
    const s = promptSections("### Olga (character)\r\nHarbour master.\r\nSince main 12: retired.\r\n");
    assert.equal(s.length, 1);
    assert.equal(s[0]!.body, "Harbour master.\nSince main 12: retired.");
  });
});

/** The review panel's state machine: every transition without a webview. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { initialState, nearestOccurrence, promptSections, takesPanel, reduce, runHeading, splitRetracted, view, wordCount, type GateRef, type ReviewEvent, type ReviewState, type Transition } from "../reviewState";
import { renderBody } from "../reviewHtml";
import { RETRACTED, type GateEdit, type GateInfo, type RunProgress } from "../protocol";

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

  it("chat: the first press opens the input, the second sends; the gate is asked again with the new prompt", () => {
    let t = reduce(atPromptGate(), { type: "user", user: { action: "chat" } });
    assert.equal(t.state.mode, "chat");
    assert.deepEqual(t.effects, []);
    t = reduce(t.state, { type: "user", user: { action: "chat", text: "   " } });
    assert.match(t.state.notice ?? "", /Type a message/);
    t = reduce(t.state, { type: "user", user: { action: "chat", text: "Make Zoë angrier" } });
    assert.deepEqual(t.effects, [{ type: "resolve", args: { run: RUN, step: "review", decision: "chat", text: "Make Zoë angrier" } }]);
    assert.deepEqual(t.state.chat, ["Make Zoë angrier"]);
    t = reduce(t.state, { type: "resolved", decision: "chat" });
    assert.deepEqual(t.effects, [], "the revised prompt comes with the next gate event");
    assert.equal(t.state.phase, "running");
    const reloaded = reduce(t.state, progress({ event: "gate", state: "waiting", gate: { ...promptGate, text: "A revised prompt" } })).state;
    assert.equal(reloaded.phase, "gate");
    assert.equal(reloaded.text, "A revised prompt");
    assert.equal(reloaded.version, t.state.version + 1, "new text: the webview drops stale edits");
    assert.deepEqual(reloaded.chat, ["Make Zoë angrier"], "the conversation at this gate is kept");
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

const SUPPER_DIFF = [
  "--- a/story/ch01/03-supper.md",
  "+++ b/story/ch01/03-supper.md",
  "@@ -7,3 +7,5 @@",
  " Zoë waited. Łukasz came.",
  " ",
  " The soup 🍲 cooled.",
  "+",
  "+Night fell.",
  "",
].join("\n");

const appendEdit: GateEdit = {
  path: "story/ch01/03-supper.md",
  uri: "file:///p/story/ch01/03-supper.md",
  mode: "append_body",
  description: "will be added after line 9 of 03-supper.md, at the end of the scene",
  diff: SUPPER_DIFF,
  first_line: 10,
  last_line: 10,
  old_text: "",
  new_text: "\nNight fell.\n",
};

const atOutputGate = (gate: Partial<GateInfo> = {}) =>
  run([progress({ event: "gate", state: "waiting", gate: { ...outputGate, text: "Night fell.", edit: appendEdit, ...gate } })]);

describe("output review: the server's edit", () => {
  it("a gate with its text opens at once, showing the server's description and diff", () => {
    const t = atOutputGate();
    assert.equal(t.state.phase, "gate");
    assert.deepEqual(t.effects, [{ type: "resolveModel", step: "approve" }], "no review document to read");
    const vm = view(t.state);
    assert.equal(vm.edit?.description, appendEdit.description);
    assert.equal(vm.edit?.sentence, "On approval, the text will be added after line 9 of 03-supper.md, at the end of the scene.");
    assert.equal(vm.edit?.diff.added, 2);
    assert.equal(vm.edit?.diff.removed, 0);
    assert.deepEqual(
      vm.edit?.diff.rows.filter((r) => r.kind === "add").map((r) => [r.newLine, r.text]),
      [
        [10, ""],
        [11, "Night fell."],
      ],
    );
    assert.match(vm.status, /the change it makes/);
    const approve = vm.buttons.find((b) => b.id === "approve");
    assert.equal(approve?.label, "Approve: add to 03-supper.md");
    assert.equal(approve?.title, vm.edit?.sentence);
  });

  it("the approve button names each kind of change", () => {
    const label = (e: Partial<GateEdit>) => view(atOutputGate({ edit: { ...appendEdit, ...e } }).state).buttons[0]!.label;
    assert.equal(label({ mode: "replace" }), "Approve: replace the selection in 03-supper.md");
    assert.equal(label({ mode: "insert_after" }), "Approve: add to 03-supper.md");
    assert.equal(label({ mode: "replace_body" }), "Approve: replace the text of 03-supper.md");
    assert.equal(label({ mode: "set_frontmatter", field: "summary" }), "Approve: set summary: in 03-supper.md");
    assert.equal(label({ mode: "new_file", path: "story/ch02/01-dawn.md" }), "Approve: create 01-dawn.md");
    assert.equal(label({ mode: undefined }), "Approve: change 03-supper.md");
  });

  it("a gate without an edit shows no diff; a prompt gate never does", () => {
    const out = atOutputGate({ edit: undefined });
    assert.equal(view(out.state).edit, undefined);
    assert.equal(view(out.state).buttons[0]!.label, "Approve");
    assert.equal(view(out.state).buttons[0]!.title, undefined);
    assert.equal(view(atPromptGate()).edit, undefined);
  });

  it("a note is a warning shown while the gate is open", () => {
    const note = "The answer is not a JSON object; approve to save the text as the finding's body.";
    const s = atOutputGate({ edit: undefined, note }).state;
    assert.equal(view(s).warning, note);
    const after = reduce(reduce(s, { type: "user", user: { action: "approve" } }).state, { type: "resolved", decision: "approve" }).state;
    assert.equal(view(after).warning, undefined);
  });

  it("editing the text says the diff is the model's version", () => {
    const s = reduce(atOutputGate().state, { type: "user", user: { action: "edit" } }).state;
    assert.equal(view(s).edit?.editing, true);
    const t = reduce(s, { type: "user", user: { action: "approve", text: "Night fell hard." } });
    assert.deepEqual(t.effects, [{ type: "resolve", args: { run: RUN, step: "approve", decision: "edit", text: "Night fell hard." } }]);
  });

  it("open diff asks the server for the gate's .diff", () => {
    assert.deepEqual(reduce(atOutputGate().state, { type: "user", user: { action: "open_diff" } }).effects, [{ type: "openDiff", run: RUN, step: "approve" }]);
    assert.deepEqual(reduce(atOutputGate({ edit: undefined }).state, { type: "user", user: { action: "open_diff" } }).effects, []);
  });

  it("a regeneration waits for the gate to be asked again and shows its new edit, not the old one", () => {
    let t = reduce(atOutputGate().state, { type: "user", user: { action: "regenerate" } });
    t = reduce(t.state, { type: "resolved", decision: "regenerate" });
    assert.deepEqual(t.effects, [], "nothing to read: the next gate event brings the text");
    assert.equal(t.state.phase, "running");
    assert.ok(view(t.state).buttons.filter((b) => b.id !== "cancel").every((b) => !b.enabled));
    const edit2 = { ...appendEdit, diff: SUPPER_DIFF.replace("Night fell.", "Dawn came."), new_text: "\nDawn came.\n" };
    t = reduce(t.state, progress({ event: "gate", state: "waiting", gate: { ...outputGate, text: "Dawn came.", edit: edit2 } }));
    assert.equal(t.state.phase, "gate");
    assert.equal(t.state.text, "Dawn came.");
    assert.match(view(t.state).edit?.diff.rows.map((r) => r.text).join("\n") ?? "", /Dawn came\./);
  });

  it("the gate asked again before the decision's answer arrived is still shown", () => {
    let t = reduce(atOutputGate().state, { type: "user", user: { action: "regenerate" } });
    t = reduce(t.state, progress({ event: "gate", state: "waiting", gate: { ...outputGate, text: "Dawn came.", edit: appendEdit } }));
    assert.equal(t.state.phase, "gate");
    const late = reduce(t.state, { type: "resolved", decision: "regenerate" });
    assert.equal(late.state, t.state, "a late answer does not hide the new gate");
  });

  it("the same gate shown again changes nothing; an approve on its way ignores it", () => {
    const s = atOutputGate().state;
    const again = reduce(s, progress({ event: "gate", state: "waiting", gate: { ...outputGate, text: "Night fell.", edit: appendEdit } }));
    assert.equal(again.state.version, s.version);
    assert.deepEqual(again.effects, []);
    const sending = reduce(s, { type: "user", user: { action: "approve" } }).state;
    assert.equal(reduce(sending, progress({ event: "gate", gate: { ...outputGate, text: "Night fell.", edit: appendEdit } })).state.phase, "resolving");
  });

  it("the next gate arriving before an approve's answer opens it", () => {
    const sending = reduce(atPromptGate(), { type: "user", user: { action: "approve" } }).state;
    const t = reduce(sending, progress({ event: "gate", state: "waiting", gate: { ...outputGate, text: "out", edit: appendEdit } }));
    assert.equal(t.state.phase, "gate");
    assert.equal(t.state.gate?.step, "approve");
    assert.equal(reduce(t.state, { type: "resolved", decision: "approve" }).state, t.state);
  });

  it("a gate without its text is read from the review document, with the queue's edit and note", () => {
    const t = run([progress({ event: "gate", state: "waiting", gate: outputGate })]);
    assert.deepEqual(t.effects, [{ type: "loadGate", gate: outputGate }]);
    const s = reduce(t.state, { type: "gateLoaded", gate: outputGate, text: "Night fell.", edit: appendEdit, note: "cut at the token limit" }).state;
    assert.equal(view(s).edit?.description, appendEdit.description);
    assert.equal(view(s).warning, "cut at the token limit");
  });
});

describe("after approving an edit", () => {
  const approvedAndDone = () => {
    let t = reduce(atOutputGate().state, { type: "user", user: { action: "approve" } });
    t = reduce(t.state, { type: "resolved", decision: "approve" });
    return reduce(t.state, progress({ event: "done", state: "succeeded" }));
  };

  it("the panel asks whether the scene is open, and says it is unsaved there", () => {
    const t = approvedAndDone();
    assert.deepEqual(t.effects, [{ type: "checkEditor", uri: appendEdit.uri }]);
    assert.equal(view(t.state).edit, undefined);
    const s = reduce(t.state, { type: "editor", uri: appendEdit.uri!, open: true, dirty: true }).state;
    assert.match(view(s).outcome?.text ?? "", /in the editor of story\/ch01\/03-supper\.md, not saved yet: save it/);
    const closed = reduce(t.state, { type: "editor", uri: appendEdit.uri!, open: false, dirty: false }).state;
    assert.match(view(closed).outcome?.text ?? "", /Written to story\/ch01\/03-supper\.md and recorded/);
    assert.equal(reduce(s, { type: "editor", uri: appendEdit.uri!, open: true, dirty: true }).state, s, "no change, no render");
  });

  it("a `recorded` event says the save is in the history, or why not", () => {
    const s = approvedAndDone().state;
    const ok = reduce(s, progress({ event: "recorded", state: "succeeded", plan: "p1", history_event: "ev-42" })).state;
    assert.equal(ok.phase, "finished");
    assert.deepEqual(view(ok).outcome, { text: "Saved: the change to story/ch01/03-supper.md is recorded in the history.", problem: false });
    const bad = reduce(s, progress({ event: "recorded", state: "succeeded", plan: "p1", error: "the history is locked" })).state;
    assert.equal(view(bad).outcome?.problem, true);
    assert.match(view(bad).outcome?.text ?? "", /not in the history: the history is locked/);
  });

  it("a failed run claims nothing was applied; a failed approve forgets the edit", () => {
    let t = reduce(atOutputGate().state, { type: "user", user: { action: "approve" } });
    const failed = reduce(t.state, progress({ event: "done", state: "failed", error: "the editor refused the edit" }));
    assert.deepEqual(failed.effects, []);
    assert.equal(view(failed.state).outcome, undefined);
    t = reduce(t.state, { type: "resolved", decision: "approve", error: "no such gate" });
    assert.equal(t.state.approved, undefined);
    assert.equal(t.state.phase, "gate");
  });
});

describe("resume and interrupted runs", () => {
  const resumeGate: GateInfo = { step: "resume", kind: "resume", uri: "file:///p/.showrunner/runs/r/resume.md", text: "Run r was interrupted at step `rewrite`.\n\nApprove to resume it; reject (or skip) to cancel it.\n" };

  it("asks to resume: Resume approves, Don't resume rejects without asking why", () => {
    const s = run([progress({ event: "gate", state: "waiting", gate: resumeGate })]).state;
    const vm = view(s);
    assert.match(vm.status, /Resume this interrupted run\?/);
    assert.deepEqual(vm.buttons.map((b) => [b.id, b.label]), [
      ["approve", "Resume"],
      ["reject", "Don't resume"],
    ]);
    assert.deepEqual(vm.sections, [{ title: "", body: resumeGate.text, collapsible: false }]);
    assert.deepEqual(reduce(s, { type: "user", user: { action: "approve", text: "anything" } }).effects, [{ type: "resolve", args: { run: RUN, step: "resume", decision: "approve" } }]);
    assert.deepEqual(reduce(s, { type: "user", user: { action: "reject" } }).effects, [
      { type: "resolve", args: { run: RUN, step: "resume", decision: "reject", text: "not resumed (review panel)" } },
    ]);
  });

  it("an interrupted run is stopped, and a later resume gate opens the panel again", () => {
    const s = run([progress({ event: "state", state: "interrupted" })]).state;
    assert.equal(s.phase, "finished");
    assert.match(view(s).status, /interrupted/);
    const again = reduce(s, progress({ event: "gate", state: "waiting", gate: resumeGate })).state;
    assert.equal(again.phase, "gate");
  });
});

/** The value a browser gives `<textarea id="text">` in `html` (HTML drops one line feed after the start tag). */
function textareaValue(html: string): string | undefined {
  const m = /<textarea id="text"[^>]*>([^<]*)<\/textarea>/.exec(html);
  const raw = m?.[1]?.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
  return raw?.startsWith("\n") ? raw.slice(1) : raw;
}

describe("the model's reasoning: shown apart, never sent", () => {
  const REASONING = "Okay, plan. The <lamp> goes last.";
  const withReasoning = (gate: Partial<GateInfo> = {}) => atOutputGate({ reasoning: REASONING, ...gate }).state;
  /** Every text a transition's effects would send to the server. */
  const sent = (t: Transition) => JSON.stringify(t.effects);

  it("a gate's reasoning is in the view with its word count; the text under review is the answer only", () => {
    const vm = view(withReasoning());
    assert.deepEqual(vm.reasoning, { text: REASONING, words: 6 });
    assert.equal(vm.text, "Night fell.");
    assert.deepEqual(vm.sections, [{ title: "", body: "Night fell.", collapsible: false }]);
    assert.equal(view(atOutputGate().state).reasoning, undefined, "no reasoning, no section");
  });

  it("approving sends the text under review only, never the reasoning", () => {
    const s = withReasoning();
    // As the webview sends it: the textarea's value, the answer.
    const plain = reduce(s, { type: "user", user: { action: "approve", text: "Night fell." } });
    assert.deepEqual(plain.effects, [{ type: "resolve", args: { run: RUN, step: "approve", decision: "approve" } }]);
    const edited = reduce(reduce(s, { type: "user", user: { action: "edit" } }).state, { type: "user", user: { action: "approve", text: "Night fell hard." } });
    assert.deepEqual(edited.effects, [{ type: "resolve", args: { run: RUN, step: "approve", decision: "edit", text: "Night fell hard." } }]);
    for (const user of [{ action: "approve" }, { action: "skip" }, { action: "regenerate" }, { action: "reject", text: "no" }] as const) {
      const t = reduce(s, { type: "user", user });
      assert.equal(t.effects.length, 1, user.action);
      assert.ok(!sent(t).includes("Okay, plan"), `${user.action} sends no reasoning: ${sent(t)}`);
    }
  });

  it("the panel renders it collapsed, labelled, apart from the text (and from the textarea that approving reads)", () => {
    for (const mode of ["view", "edit"] as const) {
      let s = withReasoning();
      if (mode === "edit") s = reduce(s, { type: "user", user: { action: "edit" } }).state;
      const html = renderBody(view(s));
      const details = /<details id="reasoning"[^>]*>/.exec(html)?.[0] ?? "";
      assert.ok(details !== "", html);
      assert.ok(!/\bopen\b/.test(details), `collapsed by default: ${details}`);
      assert.match(html, /<summary>The model&#39;s reasoning \(not part of the answer\) · 6 words<\/summary><pre>Okay, plan\. The &lt;lamp&gt; goes last\.<\/pre>/);
      assert.equal(textareaValue(html), "Night fell.", `${mode}: the textarea holds the answer only`);
      assert.ok(html.indexOf('<aside class="reasoning"') > html.indexOf('<textarea id="text"'), "the reasoning comes after the text under review, outside it");
    }
    assert.match(renderBody(view(withReasoning({ reasoning: "One." }))), /· 1 word<\/summary>/);
    assert.ok(!renderBody(view(atOutputGate().state)).includes('class="reasoning"'));
  });

  it("a gate read from the review document takes the queue's reasoning", () => {
    const t = run([progress({ event: "gate", state: "waiting", gate: outputGate })]);
    const s = reduce(t.state, { type: "gateLoaded", gate: outputGate, text: "Night fell.", reasoning: REASONING }).state;
    assert.equal(view(s).reasoning?.text, REASONING);
  });

  it("a regeneration's new reasoning replaces the old; a gate asked again without any drops it; it goes once decided", () => {
    const s = withReasoning();
    const changed = reduce(s, progress({ event: "gate", state: "waiting", gate: { ...outputGate, text: "Night fell.", edit: appendEdit, reasoning: "Second thoughts." } })).state;
    assert.equal(view(changed).reasoning?.text, "Second thoughts.", "a new reasoning alone is a change");
    const none = reduce(s, progress({ event: "gate", state: "waiting", gate: { ...outputGate, text: "Dawn came.", edit: appendEdit } })).state;
    assert.equal(view(none).reasoning, undefined);
    const decided = reduce(reduce(s, { type: "user", user: { action: "approve" } }).state, { type: "resolved", decision: "approve" }).state;
    assert.equal(decided.reasoning, undefined);
    assert.equal(view(decided).reasoning, undefined);
  });

  it("open reasoning asks the server for the gate's .reasoning.md; without reasoning it does nothing", () => {
    assert.deepEqual(reduce(withReasoning(), { type: "user", user: { action: "open_reasoning" } }).effects, [{ type: "openReasoning", run: RUN, step: "approve" }]);
    assert.deepEqual(reduce(atOutputGate().state, { type: "user", user: { action: "open_reasoning" } }).effects, []);
  });
  it("an answer that starts with blank lines is approved as it is, not as an edit (regression: the textarea dropped a line feed)", () => {
    const answer = "\n\nOut there, somewhere.";
    for (const mode of ["view", "edit"] as const) {
      let s = withReasoning({ text: answer });
      if (mode === "edit") s = reduce(s, { type: "user", user: { action: "edit" } }).state;
      const value = textareaValue(renderBody(view(s)));
      assert.equal(value, answer, mode);
      assert.deepEqual(reduce(s, { type: "user", user: { action: "approve", text: value } }).effects, [{ type: "resolve", args: { run: RUN, step: "approve", decision: "approve" } }]);
    }
  });
});

describe("live output: text the server retracts", () => {
  const text = (t: string, step = "rewrite") => progress({ event: "text", step, text: t });

  it("the marker moves what streamed so far out of the answer; what follows streams on", () => {
    let t = run([text("Okay, "), text("plan.\n")]);
    assert.equal(t.appendOnly, "plan.\n");
    t = reduce(t.state, text(RETRACTED));
    assert.equal(t.appendOnly, undefined, "the marker re-renders the live output");
    assert.equal(t.state.stream, "");
    assert.deepEqual(t.state.retracted, ["Okay, plan.\n"]);
    t = reduce(t.state, text("The answer."));
    assert.equal(t.appendOnly, "The answer.");
    assert.equal(t.state.stream, "The answer.");
    assert.deepEqual(view(t.state).retracted, [{ text: "Okay, plan.\n", words: 2 }]);
  });

  it("a marker inside a piece, or split across two, still cuts; two attempts make two pieces", () => {
    let t = run([text("First try" + RETRACTED.slice(0, 20))]);
    assert.deepEqual(t.state.retracted, []);
    t = reduce(t.state, text(RETRACTED.slice(20) + "Second try" + RETRACTED + "The answer."));
    assert.deepEqual(t.state.retracted, ["First try", "Second try"]);
    assert.equal(t.state.stream, "The answer.");
    assert.deepEqual(splitRetracted(RETRACTED + "x"), { stream: "x", retracted: [] }, "nothing before the marker: no empty piece");
  });

  it("the brainstorm's items parse from the answer only", () => {
    const t = run([text('{"ideas": [{"title": "Draft", "pitch": "no"}]}'), text(RETRACTED), text('{"ideas": [{"title": "A storm", "pitch": "it hits"}, {"title": "A le')]);
    assert.deepEqual(view(t.state).streamItems, ["A storm — it hits"]);
  });

  it("a new step, or a decision sent, starts without the retracted text", () => {
    const t = run([text("thinking"), text(RETRACTED), text("answer")]);
    assert.deepEqual(reduce(t.state, text("{", "judge")).state.retracted, []);
    const at = reduce(t.state, progress({ event: "gate", state: "waiting", gate: { ...outputGate, text: "answer" } })).state;
    assert.deepEqual(at.retracted, ["thinking"], "the output gate still shows what streamed");
    const sending = reduce(at, { type: "user", user: { action: "approve" } }).state;
    assert.deepEqual([sending.stream, sending.retracted], ["", []]);
  });

  it("text streaming before the decision's answer arrives is kept (regression: the answer cleared it)", () => {
    let t = run([progress({ event: "gate", state: "waiting", gate: { ...promptGate, text: PROMPT } }), { type: "user", user: { action: "approve" } }]);
    t = reduce(t.state, text("Okay, plan.\n"));
    t = reduce(t.state, text(RETRACTED));
    t = reduce(t.state, text("The answer."));
    const s = reduce(t.state, { type: "resolved", decision: "approve" }).state;
    assert.equal(s.stream, "The answer.");
    assert.deepEqual(s.retracted, ["Okay, plan.\n"]);
  });

  it("a regeneration streams a new output, not appended to the old one", () => {
    let t = run([text("Night fell."), progress({ event: "gate", state: "waiting", gate: { ...outputGate, step: "rewrite", text: "Night fell." } })]);
    t = reduce(t.state, { type: "user", user: { action: "regenerate" } });
    t = reduce(t.state, text("Dawn came."));
    assert.equal(t.state.stream, "Dawn came.");
  });

  it("the panel shows retracted text collapsed and marked as not the answer, apart from the live answer", () => {
    const t = run([text("Okay, <plan>.\n"), text(RETRACTED), text("The answer.")]);
    const html = renderBody(view(t.state));
    assert.match(
      html,
      /<details class="retracted" data-key="retracted:0"><summary>Not part of the answer: the model&#39;s reasoning, or an attempt that broke off · 2 words<\/summary><pre>Okay, &lt;plan&gt;\.\n<\/pre><\/details><pre id="stream">The answer\.<\/pre>/,
    );
    assert.ok(!html.includes("[the text above"), "the marker itself is not shown");
    assert.equal(wordCount("  a\tb\n c "), 3);
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

describe("one panel that speaks in words (issue 21)", () => {
  it("the heading names the action, the file and the lines", () => {
    assert.equal(runHeading("Rewrite Selection", "/p/story/ch1/02-the-hut.md", { first: 13, last: 15 }), "Rewrite · 02-the-hut.md, lines 13–15");
    assert.equal(runHeading("Continue Scene", "story/arrival.md", { first: 7, last: 7 }), "Continue · arrival.md, line 7");
    assert.equal(runHeading("Continuity Check", "story/arrival.md"), "Continuity Check · arrival.md");
    assert.equal(runHeading("Brainstorm"), "Brainstorm");
    const s = reduce(atPromptGate(), { type: "info", heading: "Rewrite · arrival.md, line 7", canRetry: true }).state;
    assert.equal(view(s).title, "Rewrite · arrival.md, line 7");
    assert.equal(view(atPromptGate()).title, "Rewrite selection", "without a heading: the pipeline in words, never the run id");
    assert.ok(!view(s).title.includes(RUN));
  });

  it("Approve / Edit / Reject are the main buttons; the rest is under More", () => {
    const vm = view(atPromptGate());
    assert.deepEqual(vm.buttons.map((b) => b.id), ["approve", "edit", "reject"]);
    assert.equal(vm.buttons.filter((b) => b.primary).length, 1);
    assert.deepEqual(vm.more.map((b) => b.id), ["chat", "paste", "skip", "change_model", "regenerate", "cancel"]);
    const html = renderBody(vm);
    assert.match(html, /<nav class="buttons"><button data-action="approve" class="primary"[^>]*>Approve<\/button><button data-action="edit">Edit<\/button><button data-action="reject">Reject<\/button><details class="more"/);
  });

  it("the prompt's own text comes first; its context notes are one collapsed line", () => {
    const vm = view(atPromptGate());
    assert.equal(vm.notes?.count, 2);
    assert.ok((vm.notes?.tokens ?? 0) > 5);
    const html = renderBody(vm);
    const passage = html.indexOf('<pre class="prompt">Rewrite this passage.');
    const buttons = html.indexOf('<nav class="buttons">');
    const notes = html.indexOf('<details id="context" class="notes"');
    assert.ok(passage >= 0 && passage < buttons && buttons < notes, html);
    assert.match(html, /<summary>2 notes included · ≈\d+ tokens<\/summary>/);
    assert.ok(!/<details id="context"[^>]* open/.test(html), "collapsed");
    assert.match(html, /<details class="context-section"><summary>Zoë Marsh \(character\)<\/summary>/);
  });

  it("a model whose provider lacks its key is flagged, with Change model as the main action", () => {
    const problem = "the environment variable OPENAI_API_KEY (named by `providers.openai.api_key_env`) holds no key";
    const t = run([progress({ event: "gate", state: "waiting", gate: { ...promptGate, text: PROMPT, model: "openai/gpt-4o", model_problem: problem } })]);
    const vm = view(t.state);
    assert.equal(vm.modelProblem, problem);
    assert.equal(vm.buttons[0]!.id, "change_model");
    assert.equal(vm.buttons[0]!.primary, true);
    assert.ok(vm.buttons.filter((b) => b.id !== "change_model").every((b) => !b.primary));
    assert.ok(!vm.more.some((b) => b.id === "change_model"));
    assert.match(renderBody(vm), /openai\/gpt-4o can't be called:<\/strong> the environment variable OPENAI_API_KEY/);
    // An output gate's model was called already: nothing to flag.
    assert.equal(view(atOutputGate({ model_problem: problem }).state).modelProblem, undefined);
  });

  it("the run graph shows each step's live state, the gate's step waiting", () => {
    let s = reduce(initialState(RUN, "rewrite-selection"), {
      type: "steps",
      steps: [
        { id: "context", type: "gather_context", state: "succeeded" },
        { id: "review", type: "review_prompt", state: "pending" },
        { id: "rewrite", type: "generate", state: "pending" },
      ],
    }).state;
    s = reduce(s, progress({ event: "step", step: "review", step_state: "running" })).state;
    s = reduce(s, progress({ event: "gate", state: "waiting", gate: { ...promptGate, text: PROMPT } })).state;
    assert.deepEqual(view(s).steps, [
      { id: "context", label: "Context", state: "succeeded" },
      { id: "review", label: "Your review", state: "waiting" },
      { id: "rewrite", label: "Model", state: "pending" },
    ]);
    assert.match(renderBody(view(s)), /<ol id="run-graph"[^>]*><li class="step s-succeeded" data-step="context"/);
    // A later list keeps live states that came first.
    s = reduce(s, progress({ event: "step", step: "rewrite", step_state: "running" })).state;
    s = reduce(s, { type: "steps", steps: [{ id: "rewrite", type: "generate", state: "pending" }] }).state;
    assert.equal(s.steps[0]!.state, "running");
  });

  it("done: the panel collapses to Applied ✓ — Undo; Undo puts the old text back", () => {
    let t = atOutputGate({ edit: { ...appendEdit, mode: "replace", old_text: "The soup 🍲 cooled.", new_text: "The soup went cold." } });
    t = reduce(t.state, { type: "user", user: { action: "approve" } });
    t = reduce(t.state, { type: "resolved", decision: "approve" });
    t = reduce(t.state, progress({ event: "done", state: "succeeded" }));
    let vm = view(t.state);
    assert.deepEqual(vm.applied, { undo: true, undone: false });
    const html = renderBody(vm);
    assert.match(html, /<div class="applied">Applied ✓ — <button data-action="undo" class="link">Undo<\/button><\/div>/);
    assert.ok(!html.includes('<nav class="buttons">') && !html.includes("run-graph"), "nothing else to press");
    const u = reduce(t.state, { type: "user", user: { action: "undo" } });
    assert.equal(u.effects.length, 1);
    assert.equal(u.effects[0]!.type, "undo");
    vm = view(reduce(u.state, { type: "undone" }).state);
    assert.deepEqual(vm.applied, { undo: false, undone: true });
    assert.match(vm.outcome?.text ?? "", /^Undone:/);
    const failed = view(reduce(u.state, { type: "undone", error: "03-supper.md no longer holds the approved text" }).state);
    assert.equal(failed.applied?.error, "03-supper.md no longer holds the approved text");
    assert.equal(failed.applied?.undo, true, "still offered");
  });

  it("a failed run offers Retry with another model when the panel knows how it started", () => {
    const failed = (canRetry: boolean) => {
      let s = reduce(atPromptGate(), { type: "info", canRetry }).state;
      s = reduce(s, progress({ event: "done", state: "failed", error: "the model server refused" })).state;
      return s;
    };
    const vm = view(failed(true));
    assert.deepEqual(vm.buttons.map((b) => [b.id, b.label, b.enabled]), [["retry", "Retry with another model", true]]);
    assert.deepEqual(reduce(failed(true), { type: "user", user: { action: "retry" } }).effects, [{ type: "retry" }]);
    assert.deepEqual(view(failed(false)).buttons, []);
    assert.deepEqual(reduce(failed(false), { type: "user", user: { action: "retry" } }).effects, []);
  });

  it("a gate takes the panel when the writer asked, or when it is current work and the panel is free; a restored gate never", () => {
    assert.equal(takesPanel({ explicit: true, current: false, shownPhase: "gate" }), true, "the writer opened it from the queue");
    assert.equal(takesPanel({ explicit: false, current: false }), false, "restored at launch: it waits in the queue");
    assert.equal(takesPanel({ explicit: false, current: true }), true, "the writer's run, the panel free");
    assert.equal(takesPanel({ explicit: false, current: true, shownPhase: "finished" }), true, "a finished run gives the panel up");
    assert.equal(takesPanel({ explicit: false, current: true, shownPhase: "running" }), true);
    assert.equal(takesPanel({ explicit: false, current: true, shownPhase: "gate" }), false, "another run's open question keeps the panel");
    assert.equal(takesPanel({ explicit: false, current: true, shownPhase: "resolving" }), false);
  });

  it("undo finds the approved text nearest its line", () => {
    const text = "a\nNight fell.\nb\nc\nNight fell.\n";
    assert.equal(nearestOccurrence(text, "Night fell.", 0), 2);
    assert.equal(nearestOccurrence(text, "Night fell.", text.length), 18);
    assert.equal(nearestOccurrence(text, "gone", 0), undefined);
    assert.equal(nearestOccurrence(text, "", 0), undefined);
  });
});

/** Command argument building for the palette's pipeline commands. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { buildRunArgs, isSceneFile, PIPELINE_ACTIONS, type EditorState } from "../actions";

const action = (id: string) => {
  const a = PIPELINE_ACTIONS.find((x) => x.pipeline === id);
  assert.ok(a, id);
  return a;
};
const cursor = { line: 7, character: 12 };
const editor = (sel: EditorState["selection"], isScene = true): EditorState => ({ uri: "file:///p/story/ch1/arrival.md", selection: sel, isScene });
const empty = editor({ start: cursor, end: cursor });
const selected = editor({ start: { line: 2, character: 0 }, end: cursor });

describe("buildRunArgs", () => {
  it("selection actions send the selection and refuse an empty one", () => {
    for (const id of ["rewrite-selection", "expand-selection", "tighten-selection", "describe-selection", "research-selection"]) {
      const ok = buildRunArgs(action(id), selected);
      assert.deepEqual(ok, { ok: true, args: { pipeline: id, uri: selected.uri, range: selected.selection } });
      const bad = buildRunArgs(action(id), empty);
      assert.equal(bad.ok, false);
      assert.match(bad.ok ? "" : bad.message, /select the passage/);
    }
  });

  it("cursor actions send an empty range at the cursor (the end of a selection)", () => {
    const r = buildRunArgs(action("continue-scene"), selected, "local/llama3.1");
    assert.deepEqual(r, { ok: true, args: { pipeline: "continue-scene", uri: selected.uri, range: { start: cursor, end: cursor }, model: "local/llama3.1" } });
  });

  it("scene actions send no range", () => {
    for (const id of ["draft-scene", "continuity-check", "summarize-scene", "outline-chapter"]) {
      assert.deepEqual(buildRunArgs(action(id), selected), { ok: true, args: { pipeline: id, uri: selected.uri } });
    }
  });

  it("refuses without an editor or outside a scene", () => {
    const none = buildRunArgs(action("draft-scene"), undefined);
    assert.equal(none.ok, false);
    const notScene = buildRunArgs(action("draft-scene"), editor(selected.selection, false));
    assert.match(notScene.ok ? "" : notScene.message, /not a scene/);
  });

  it("every quick action and template of PROTOCOL.md and the issue has a command", () => {
    const pipelines = PIPELINE_ACTIONS.map((a) => a.pipeline).sort();
    assert.deepEqual(pipelines, [
      "brainstorm",
      "continue-scene",
      "continuity-check",
      "describe-selection",
      "draft-scene",
      "expand-selection",
      "outline-chapter",
      "research-selection",
      "rewrite-selection",
      "summarize-scene",
      "tighten-selection",
    ]);
    for (const a of PIPELINE_ACTIONS) assert.doesNotMatch(a.command, /^showrunner\.[a-z]+\.[a-z]+$/, "never a server command id");
  });
});

describe("isSceneFile", () => {
  const cases: [string, boolean][] = [
    ["/w/story/ch1/arrival.md", true],
    ["/w/story/arrival.md", true],
    ["story/Ünterwegs/Zoë.md", true],
    ["/w/notes/arrival.scene.md", true],
    ["/w/screen/lamp.fountain", true],
    ["C:\\w\\story\\ch1\\a.md", true],
    ["/w/README.md", false],
    ["/w/buckets/alice.yaml", false],
    ["/w/history/story.md", false],
    ["/w/story/.showrunner/runs/r/review.md", false],
  ];
  for (const [p, want] of cases) it(`${p} → ${want}`, () => assert.equal(isSceneFile(p), want));
});

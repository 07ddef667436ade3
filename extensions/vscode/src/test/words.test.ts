/** The status bar's words and goals (src/words.ts): arguments, parsing, text and tooltip. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { digits, goalsArgs, parseGoals, wordsText, wordsTooltip, type Goals } from "../words";

const base: Goals = {
  date: "2027-02-26",
  words: 80_501,
  project_goal: 90_000,
  project_percent: 89,
  deadline: "2027-03-01",
  days_left: 4,
  daily_goal: 2_500,
  daily_from_deadline: true,
  today: 500,
  today_percent: 20,
  session_goal: 500,
  session: 201,
  session_percent: 40,
  session_started: 1_803_642_600_000,
  scene_words: 1_234,
  selection_words: 12,
};

describe("words and goals in the status bar", () => {
  it("asks for the goals of the scene, with the selection only when it is not empty", () => {
    const sel = { start: { line: 3, character: 2 }, end: { line: 4, character: 0 } };
    assert.deepEqual(goalsArgs("file:///p/story/a.md", sel), { uri: "file:///p/story/a.md", only: "goals", range: sel });
    const caret = { start: { line: 3, character: 2 }, end: { line: 3, character: 2 } };
    assert.deepEqual(goalsArgs("file:///p/story/a.md", caret), { uri: "file:///p/story/a.md", only: "goals" });
    assert.deepEqual(goalsArgs("file:///p/story/a.md"), { uri: "file:///p/story/a.md", only: "goals" });
  });

  it("reads only answers that carry goals", () => {
    assert.equal(parseGoals({ goals: base }), base);
    assert.equal(parseGoals({ format: "text", text: "…" }), undefined);
    assert.equal(parseGoals({ goals: { words: "many", today: 0, session: 0, date: "x" } }), undefined);
    assert.equal(parseGoals(null), undefined);
  });

  it("shows selection, scene, project and progress toward each goal", () => {
    assert.equal(wordsText(base), "$(pencil) 12 selected · scene 1,234 · 80,501/90,000 words · today 500/2,500 · session 201/500");
    const bare: Goals = { date: "2027-02-26", words: 7_337, today: -40, session: 0, daily_from_deadline: false };
    assert.equal(wordsText(bare), "$(pencil) 7,337 words · today −40");
    assert.equal(digits(1_234_567), "1,234,567");
    assert.equal(digits(999), "999");
  });

  it("explains every number in the tooltip", () => {
    const tip = wordsTooltip(base, () => "11:50");
    assert.match(tip, /Project: 80,501 of 90,000 words \(89%\) — due 2027-03-01 \(4 days left\)/);
    assert.match(tip, /Today: 500 of 2,500 words \(20%\) — the deadline's daily quota/);
    assert.match(tip, /Session: 201 of 500 words \(40%\) — since 11:50/);
    assert.match(tip, /Selection: 12 words/);
    const idle = wordsTooltip({ ...base, session_started: null, days_left: 0, daily_from_deadline: false });
    assert.match(idle, /— starts with your next save/);
    assert.match(idle, /\(passed\)/);
    assert.doesNotMatch(idle, /daily quota/);
  });
});

/**
 * Words and goals for the status bar: the `goals` part of `showrunner.stats` (asked with
 * `only: "goals"`, the scene's `uri` and the selection's `range`) as the status bar item's text
 * and tooltip. The server counts today's and the session's words from the saved history, so
 * they move when the writer saves; scene, selection and project words include unsaved text.
 * Pure: no `vscode` import.
 */
import type * as wire from "./generated/protocol";
import type { Range } from "./protocol";

export type Goals = wire.Goals;

/** The arguments of the status bar's request: the scene, the selection when there is one. */
export function goalsArgs(uri: string, selection?: Range): wire.PictureArgs {
  const args: wire.PictureArgs = { uri, only: "goals" };
  const empty = !selection || (selection.start.line === selection.end.line && selection.start.character === selection.end.character);
  if (!empty) args.range = selection;
  return args;
}

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** The `goals` of an answer, or undefined when it is not one. */
export function parseGoals(result: unknown): Goals | undefined {
  if (typeof result !== "object" || result === null) return undefined;
  const g = (result as { goals?: unknown }).goals;
  if (typeof g !== "object" || g === null) return undefined;
  const o = g as Record<string, unknown>;
  if (!isNum(o.words) || !isNum(o.today) || !isNum(o.session) || typeof o.date !== "string") return undefined;
  return g as Goals;
}

/** 7337 → "7,337"; negative numbers keep their sign. */
export function digits(n: number): string {
  const s = String(Math.trunc(Math.abs(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return n < 0 ? `−${s}` : s;
}

const some = (v: number | null | undefined): v is number => typeof v === "number";

function of(done: number, goal: number | null | undefined): string {
  return some(goal) ? `${digits(done)}/${digits(goal)}` : digits(done);
}

function ofLong(done: number, goal: number | null | undefined, percent: number | null | undefined): string {
  return some(goal) ? `${digits(done)} of ${digits(goal)} words (${percent ?? 0}%)` : `${digits(done)} words`;
}

/** The status bar item: "12 selected · scene 581 · 7,337 words · today 456/1,000 · session 120/500". */
export function wordsText(g: Goals): string {
  const parts: string[] = [];
  if (some(g.selection_words)) parts.push(`${digits(g.selection_words)} selected`);
  if (some(g.scene_words)) parts.push(`scene ${digits(g.scene_words)}`);
  parts.push(some(g.project_goal) ? `${of(g.words, g.project_goal)} words` : `${digits(g.words)} words`);
  parts.push(`today ${of(g.today, g.daily_goal)}`);
  if (some(g.session_goal)) parts.push(`session ${of(g.session, g.session_goal)}`);
  return `$(pencil) ${parts.join(" · ")}`;
}

/** The tooltip (Markdown): every number in words; `timeOf` formats the session's start. */
export function wordsTooltip(g: Goals, timeOf: (ms: number) => string = (ms) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })): string {
  const lines = [`**Words and goals** · ${g.date}`, ""];
  let project = `Project: ${ofLong(g.words, g.project_goal, g.project_percent)}`;
  if (g.deadline && some(g.days_left)) {
    const left = g.days_left < 1 ? "passed" : g.days_left === 1 ? "today" : `${g.days_left} days left`;
    project += ` — due ${g.deadline} (${left})`;
  }
  lines.push(project);
  lines.push(`Today: ${ofLong(g.today, g.daily_goal, g.today_percent)}${g.daily_from_deadline ? " — the deadline's daily quota" : ""}`);
  const since = some(g.session_started) ? ` — since ${timeOf(g.session_started)}` : " — starts with your next save";
  lines.push(`Session: ${ofLong(g.session, g.session_goal, g.session_percent)}${since}`);
  if (some(g.scene_words)) lines.push(`Scene: ${digits(g.scene_words)} words`);
  if (some(g.selection_words)) lines.push(`Selection: ${digits(g.selection_words)} words`);
  lines.push("", "_Today and the session are counted from saved history: they move when you save._");
  return lines.join("\n\n").replace(/\n\n\n\n/g, "\n\n");
}

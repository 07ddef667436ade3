/**
 * The command palette's pipeline commands: which pipeline each runs and what part of the editor
 * it sends (the selection, the cursor, or the whole scene). Pure, so the argument building is
 * unit-tested; `extension.ts` registers one VS Code command per entry.
 */
import { isEmptyRange, pipelineRunArgs, type PipelineRunArgs, type Range } from "./protocol";

/** What a pipeline reads from the editor. */
export type Scope = "selection" | "cursor" | "scene";

export interface PipelineAction {
  /** VS Code command id (never one of the server's `showrunner.x.y` ids, which the client registers). */
  command: string;
  title: string;
  pipeline: string;
  scope: Scope;
}

export const PIPELINE_ACTIONS: readonly PipelineAction[] = [
  { command: "showrunner.draftScene", title: "Draft Scene", pipeline: "draft-scene", scope: "scene" },
  { command: "showrunner.rewriteSelection", title: "Rewrite Selection", pipeline: "rewrite-selection", scope: "selection" },
  { command: "showrunner.continueScene", title: "Continue Scene", pipeline: "continue-scene", scope: "cursor" },
  { command: "showrunner.expandSelection", title: "Expand Selection", pipeline: "expand-selection", scope: "selection" },
  { command: "showrunner.tightenSelection", title: "Tighten Selection", pipeline: "tighten-selection", scope: "selection" },
  { command: "showrunner.describeSelection", title: "Describe Selection", pipeline: "describe-selection", scope: "selection" },
  { command: "showrunner.researchSelection", title: "Research Selection", pipeline: "research-selection", scope: "selection" },
  { command: "showrunner.continuityCheck", title: "Continuity Check", pipeline: "continuity-check", scope: "scene" },
  { command: "showrunner.summarizeScene", title: "Summarize Scene", pipeline: "summarize-scene", scope: "scene" },
  { command: "showrunner.brainstorm", title: "Brainstorm", pipeline: "brainstorm", scope: "cursor" },
  { command: "showrunner.outlineChapter", title: "Outline Chapter", pipeline: "outline-chapter", scope: "scene" },
];

/** "rewrite-selection" → "Rewrite selection". */
export function humanize(id: string): string {
  const words = id.replace(/[-_]+/g, " ").trim();
  return words === "" ? "Run" : words[0]!.toUpperCase() + words.slice(1);
}

/** A pipeline's title as the palette shows it ("Rewrite Selection"), or its id in words. */
export function pipelineTitle(pipeline: string): string {
  return PIPELINE_ACTIONS.find((a) => a.pipeline === pipeline)?.title ?? humanize(pipeline);
}

/** What the active editor offers a command: its document, selection and cursor. */
export interface EditorState {
  uri: string;
  selection: Range;
  isScene: boolean;
}

export type BuildResult = { ok: true; args: PipelineRunArgs } | { ok: false; message: string };

/**
 * The `showrunner.pipeline.run` argument for an action, or the message to show instead.
 * `model` is the writer's choice from "Select Model" (empty: the cascade decides).
 */
export function buildRunArgs(action: { pipeline: string; scope: Scope; title: string }, editor: EditorState | undefined, model = ""): BuildResult {
  if (!editor) return { ok: false, message: `${action.title}: open a scene first.` };
  if (!editor.isScene) {
    return { ok: false, message: `${action.title}: this is not a scene (story/**/*.md, *.scene.md or *.fountain).` };
  }
  switch (action.scope) {
    case "selection":
      if (isEmptyRange(editor.selection)) return { ok: false, message: `${action.title}: select the passage first.` };
      return { ok: true, args: pipelineRunArgs(action.pipeline, editor.uri, { range: editor.selection, model }) };
    case "cursor": {
      const at = editor.selection.end;
      return { ok: true, args: pipelineRunArgs(action.pipeline, editor.uri, { range: { start: at, end: at }, model }) };
    }
    case "scene":
      return { ok: true, args: pipelineRunArgs(action.pipeline, editor.uri, { model }) };
  }
}

/** Scene documents (spec 1): `story/**\/*.md`, `**\/*.scene.md`, `**\/*.fountain`. */
export function isSceneFile(path: string): boolean {
  const p = path.replace(/\\/g, "/");
  if (/\.fountain$/i.test(p) || /\.scene\.md$/i.test(p)) return true;
  return /(^|\/)story\/(.+\/)?[^/]+\.md$/i.test(p) && !/(^|\/)\.showrunner\//.test(p);
}

/** A label for the pipeline picker: the layer tells writers where a pipeline comes from. */
export function layerLabel(layer: string): string {
  switch (layer) {
    case "quick_action":
      return "quick action";
    case "template":
      return "template";
    case "custom":
      return "custom (workflows/)";
    default:
      return layer;
  }
}

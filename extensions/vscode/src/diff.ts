/**
 * Reads the unified diff the server ships with a gate's edit (`edit.diff`), so the review panel
 * shows exactly the change approving applies, with the scene's line numbers. The extension never
 * computes a diff of its own: only the server knows where an approved text goes. Pure.
 */

export type DiffRowKind = "hunk" | "context" | "add" | "del" | "note";

export interface DiffRow {
  kind: DiffRowKind;
  /** The line without its `+`/`-`/` ` marker (the whole header for `hunk`, the remark for `note`). */
  text: string;
  /** 1-based line in the text before the change (context and removed lines). */
  oldLine?: number;
  /** 1-based line in the text after the change (context and added lines). */
  newLine?: number;
}

export interface ParsedDiff {
  /** The paths of the `---` / `+++` lines, without git's `a/` / `b/`. */
  oldPath?: string;
  newPath?: string;
  rows: DiffRow[];
  added: number;
  removed: number;
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

function filePath(line: string, marker: string): string {
  const p = line.slice(marker.length).replace(/\t.*$/, "").trim();
  return p.replace(/^[ab]\//, "");
}

/** The first line of a side; a side with no lines names the line before it (`-29,0`). */
function sideStart(start: string, count: string | undefined): number {
  const n = Number(start);
  return count !== undefined && Number(count) === 0 ? n + 1 : n;
}

/** Parses a unified diff (one file, any number of hunks); text outside hunks is ignored. */
export function parseUnifiedDiff(diff: string): ParsedDiff {
  const out: ParsedDiff = { rows: [], added: 0, removed: 0 };
  let inHunk = false;
  let oldNo = 0;
  let newNo = 0;
  const lines = diff.replace(/\r\n?/g, "\n").split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (const line of lines) {
    const h = HUNK.exec(line);
    if (h) {
      inHunk = true;
      oldNo = sideStart(h[1]!, h[2]);
      newNo = sideStart(h[3]!, h[4]);
      out.rows.push({ kind: "hunk", text: line });
      continue;
    }
    if (!inHunk) {
      if (line.startsWith("--- ")) out.oldPath = filePath(line, "--- ");
      else if (line.startsWith("+++ ")) out.newPath = filePath(line, "+++ ");
      continue;
    }
    const mark = line[0];
    const text = line.slice(1);
    if (mark === "+") {
      out.rows.push({ kind: "add", text, newLine: newNo++ });
      out.added++;
    } else if (mark === "-") {
      out.rows.push({ kind: "del", text, oldLine: oldNo++ });
      out.removed++;
    } else if (mark === "\\") {
      out.rows.push({ kind: "note", text: line.slice(1).trim() });
    } else {
      // A context line (`' '`; an empty line when a tool stripped its trailing space).
      out.rows.push({ kind: "context", text: mark === " " ? text : line, oldLine: oldNo++, newLine: newNo++ });
    }
  }
  return out;
}

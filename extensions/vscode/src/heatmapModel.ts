/**
 * The Mention Heatmap panel's data and HTML: the server's `showrunner.stats` answer (JSON)
 * checked, and a table of entities (rows, by name) × chapters (columns, in reading order), each
 * cell shaded by how often the entity is mentioned there. Shades are classes (`h1`…`h5` in
 * pictures.css), so the page needs no inline style. Pure: no `vscode` import.
 */
import type * as wire from "./generated/protocol";
import { displayName } from "./graphModel";
import { escapeHtml, thousands } from "./pictureHtml";

export type Stats = wire.Stats;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const count = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.trunc(v) : 0);
const optStr = (v: unknown): string | null => (typeof v === "string" ? v : null);

/**
 * The stats of a `showrunner.stats` answer, or undefined when it is not the JSON object (a
 * rendered text, the goals alone). Entries without an id or a name are left out; a row's
 * `per_chapter` is cut or padded to the chapters' length.
 */
export function parseStats(raw: unknown): Stats | undefined {
  if (!isObject(raw) || !Array.isArray(raw.chapters) || !Array.isArray(raw.entities)) return undefined;
  const chapters: wire.ChapterStats[] = (raw.chapters as unknown[])
    .filter(isObject)
    .map((c) => ({ id: optStr(c.id), name: str(c.name) || str(c.id) || "(no chapter)", words: count(c.words), scenes: count(c.scenes) }));
  const entities: wire.EntityStats[] = (raw.entities as unknown[])
    .filter((e): e is Record<string, unknown> => isObject(e) && typeof e.id === "string" && e.id !== "")
    .map((e) => {
      const per = Array.isArray(e.per_chapter) ? (e.per_chapter as unknown[]).map(count) : [];
      return {
        id: e.id as string,
        kind: str(e.kind),
        name: str(e.name) || (e.id as string),
        mentions: count(e.mentions),
        scenes: count(e.scenes),
        per_chapter: chapters.map((_, i) => per[i] ?? 0),
        first: optStr(e.first),
        last: optStr(e.last),
      };
    });
  const structure: wire.ContainerStats[] = (Array.isArray(raw.structure) ? (raw.structure as unknown[]) : [])
    .filter((c): c is Record<string, unknown> => isObject(c) && typeof c.id === "string")
    .map((c) => ({ id: c.id as string, kind: str(c.kind), name: str(c.name) || (c.id as string), parent: optStr(c.parent), depth: count(c.depth), words: count(c.words), scenes: count(c.scenes) }));
  const scenes: wire.SceneStats[] = (Array.isArray(raw.scenes) ? (raw.scenes as unknown[]) : [])
    .filter((s): s is Record<string, unknown> => isObject(s) && typeof s.id === "string")
    .map((s) => ({ id: s.id as string, path: str(s.path), title: optStr(s.title), chapter: optStr(s.chapter), pov: optStr(s.pov), words: count(s.words), mentions: count(s.mentions) }));
  const gaps: wire.Gap[] = (Array.isArray(raw.gaps) ? (raw.gaps as unknown[]) : [])
    .filter(isObject)
    .map((g) => ({ entity: str(g.entity), name: str(g.name) || str(g.entity), after: str(g.after), resumes: str(g.resumes), chapters: count(g.chapters) }));
  return { project: str(raw.project), words: count(raw.words), scenes, structure, chapters, pov: [], entities, gap: count(raw.gap), gaps };
}

/** 0 for no mention, else 1…5 by the share of the table's largest count. */
export function heatLevel(n: number, max: number): number {
  if (n <= 0 || max <= 0) return 0;
  return Math.min(5, Math.max(1, Math.ceil((5 * n) / max)));
}

const plural = (n: number, one: string, many = `${one}s`) => `${thousands(n)} ${n === 1 ? one : many}`;

/**
 * The panel's body. Hooks: `table#heatmap`, `thead th[data-chapter]` (a chapter's id; empty for
 * the scenes under no chapter), `tbody tr[data-entity][data-kind]`, `td.cell[data-count]`
 * (shaded `h0`…`h5`), the entity's name as `button[data-open]`, `#gaps li`, `#refresh`.
 * `openable`: ids whose bucket the panel can open (their names become buttons).
 */
export function heatmapBody(s: Stats, openable: ReadonlySet<string> = new Set()): string {
  const toolbar = `<header class="toolbar">
<h1>Mention Heatmap</h1>${s.project ? `<span class="project">${escapeHtml(s.project)}</span>` : ""}
<button id="refresh" type="button" title="Ask the server again">Refresh</button>
</header>`;
  if (s.entities.length === 0 || s.chapters.length === 0) {
    const why = s.entities.length === 0 ? "This project has no characters, places or other buckets to count yet." : "This project has no chapters or scenes yet.";
    return `${toolbar}\n<p id="heatmap-empty" class="empty">${escapeHtml(why)}</p>`;
  }
  const max = Math.max(0, ...s.entities.flatMap((e) => e.per_chapter));
  const chapterName = new Map(s.chapters.map((c) => [c.id ?? "", c.name]));
  const sceneName = new Map(s.scenes.map((sc) => [sc.id, sc.title || displayName({ id: `scene:${sc.id}`, kind: "scene", name: sc.id })]));
  const head = s.chapters
    .map((c) => {
      const title = `${c.name}: ${plural(c.scenes, "scene")}, ${plural(c.words, "word")}`;
      return `<th scope="col" data-chapter="${escapeHtml(c.id ?? "")}" title="${escapeHtml(title)}"><span>${escapeHtml(c.name)}</span></th>`;
    })
    .join("");
  const rows = s.entities
    .map((e) => {
      const name = openable.has(e.id)
        ? `<button type="button" class="open" data-open="${escapeHtml(e.id)}" title="Open ${escapeHtml(e.id)}">${escapeHtml(e.name)}</button>`
        : `<span title="${escapeHtml(e.id)}">${escapeHtml(e.name)}</span>`;
      const cells = e.per_chapter
        .map((n, i) => {
          const ch = s.chapters[i]!;
          const title = `${e.name} in ${ch.name}: ${plural(n, "mention")}`;
          return `<td class="cell h${heatLevel(n, max)}" data-count="${n}" title="${escapeHtml(title)}">${n > 0 ? n : ""}</td>`;
        })
        .join("");
      const span = e.first && e.last ? `first in “${sceneName.get(e.first) ?? e.first}”, last in “${sceneName.get(e.last) ?? e.last}”` : "never mentioned";
      return `<tr data-entity="${escapeHtml(e.id)}" data-kind="${escapeHtml(e.kind)}"><th scope="row">${name}</th><td class="kind">${escapeHtml(e.kind)}</td><td class="total" title="${escapeHtml(`${plural(e.scenes, "scene")}; ${span}`)}">${e.mentions}</td>${cells}</tr>`;
    })
    .join("\n");
  const gaps =
    s.gaps.length === 0
      ? ""
      : `<section id="gaps"><h2>Long absences</h2><p class="hint">Absent for more than ${plural(s.gap, "written chapter")} between two appearances.</p><ul>${s.gaps
          .map((g) => `<li data-entity="${escapeHtml(g.entity)}">${escapeHtml(g.name)}: ${plural(g.chapters, "chapter")} between ${escapeHtml(chapterName.get(g.after) ?? g.after)} and ${escapeHtml(chapterName.get(g.resumes) ?? g.resumes)}</li>`)
          .join("")}</ul></section>`;
  return `${toolbar}
<p class="hint">Mentions of each bucket per chapter, in reading order; darker is more. Hover a cell for its count.</p>
<div class="scroll"><table id="heatmap">
<thead><tr><th scope="col">Entity</th><th scope="col">Kind</th><th scope="col" title="Mentions in the whole project">Total</th>${head}</tr></thead>
<tbody>
${rows}
</tbody>
</table></div>
${gaps}`;
}

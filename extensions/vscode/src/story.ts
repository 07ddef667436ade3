/**
 * The Story view's tree (season → arc → act → chapter → scene, with word counts), built from the
 * project's files. The server has no command for the structure yet, so this reads only the few
 * top-level keys it needs (`id`, `kind`, `name`, `parent`, a scene's frontmatter) with a small
 * line parser; a file it cannot read is left out, never an error. Pure: files come in as text.
 */
export interface StoryFile {
  /** Path relative to the project root, with `/`. */
  path: string;
  text: string;
}

export interface StoryNode {
  id: string;
  label: string;
  kind: string;
  path: string;
  words: number;
  children: StoryNode[];
}

const STRUCTURE = ["season", "arc", "act", "chapter"];

function unquote(v: string): string {
  const t = v.replace(/\s+#.*$/, "").trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return t.slice(1, -1);
  return t;
}

/** Top-level `key: scalar` pairs of a YAML text (nested and block values are skipped). */
export function topLevelKeys(yaml: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of yaml.replace(/\r\n?/g, "\n").split("\n")) {
    const m = /^([A-Za-z_][\w-]*)\s*:\s*(.*)$/.exec(line);
    if (m && m[2] !== undefined && m[2] !== "" && !m[2].startsWith("|") && !m[2].startsWith(">")) out[m[1]!] = unquote(m[2]);
  }
  return out;
}

/** Frontmatter keys and the body of a Markdown scene. */
export function splitFrontmatter(text: string): { keys: Record<string, string>; body: string } {
  const t = text.replace(/\r\n?/g, "\n");
  const m = /^---\n([\s\S]*?)\n(?:---|\.\.\.)[ \t]*(?:\n|$)/.exec(t);
  if (!m) return { keys: {}, body: t };
  return { keys: topLevelKeys(m[1]!), body: t.slice(m[0].length) };
}

/** Fountain: title-page keys (lower-cased) and the script after it. */
export function fountainTitlePage(text: string): { keys: Record<string, string>; body: string } {
  const t = text.replace(/\r\n?/g, "\n");
  const lines = t.split("\n");
  if (!/^[^\s:][^:]*:/.test(lines[0] ?? "")) return { keys: {}, body: t };
  const keys: Record<string, string> = {};
  let i = 0;
  for (; i < lines.length && lines[i]!.trim() !== ""; i++) {
    const m = /^([^\s:][^:]*):\s*(.*)$/.exec(lines[i]!);
    if (m) keys[m[1]!.trim().toLowerCase()] = m[2]!.trim();
  }
  return { keys, body: lines.slice(i).join("\n") };
}

export function countWords(text: string): number {
  const m = text.match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu);
  return m ? m.length : 0;
}

function stem(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return base.replace(/\.scene\.md$/i, "").replace(/\.(md|fountain|ya?ml)$/i, "");
}

export function buildStory(files: StoryFile[]): StoryNode[] {
  const nodes = new Map<string, StoryNode & { parent?: string }>();
  const order: (StoryNode & { parent?: string })[] = [];
  for (const f of files) {
    const p = f.path.replace(/\\/g, "/");
    if (/(^|\/)buckets\/.*\.ya?ml$/i.test(p)) {
      const k = topLevelKeys(f.text);
      if (!k.kind || !STRUCTURE.includes(k.kind)) continue;
      const id = k.id ?? stem(p);
      const node = { id, label: k.name ?? id, kind: k.kind, path: p, words: 0, children: [], parent: k.parent && k.parent !== "null" ? k.parent : undefined };
      nodes.set(id, node);
      order.push(node);
    } else if (/\.fountain$/i.test(p) || /\.md$/i.test(p)) {
      const { keys, body } = /\.fountain$/i.test(p) ? fountainTitlePage(f.text) : splitFrontmatter(f.text);
      const id = keys.id ?? stem(p);
      const title = keys.title ?? (/^#\s+(.+)$/m.exec(body)?.[1] ?? id);
      const node = { id, label: title.replace(/[_*]/g, "").trim() || id, kind: "scene", path: p, words: countWords(body), children: [], parent: keys.parent };
      if (!nodes.has(id)) nodes.set(id, node);
      order.push(node);
    }
  }
  const roots: StoryNode[] = [];
  for (const n of order) {
    const parent = n.parent ? nodes.get(n.parent) : undefined;
    if (parent && parent !== n && parent.kind !== "scene") parent.children.push(n);
    else roots.push(n);
  }
  const total = (n: StoryNode, seen: Set<StoryNode>): number => {
    if (seen.has(n)) return 0; // a parent cycle (SR006) must not hang the view
    seen.add(n);
    if (n.kind !== "scene") n.words = n.children.reduce((s, c) => s + total(c, seen), 0);
    return n.words;
  };
  const seen = new Set<StoryNode>();
  for (const r of roots) total(r, seen);
  const strip = (n: StoryNode & { parent?: string }): StoryNode => ({ id: n.id, label: n.label, kind: n.kind, path: n.path, words: n.words, children: n.children.map(strip) });
  return roots.map(strip);
}

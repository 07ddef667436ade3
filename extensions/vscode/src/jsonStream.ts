/**
 * Items of a JSON answer that is still streaming: `{"ideas": [{…}, {…}, {…` yields the objects
 * that are already complete, so a brainstorm shows each idea as soon as it parses. Pure.
 */

/** Complete top-level elements of the first JSON array in `text` (the array may be unfinished). */
export function completedItems(text: string): unknown[] {
  const start = text.indexOf("[");
  if (start < 0) return [];
  const items: unknown[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let itemStart = -1;
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      if (depth === 0 && itemStart < 0) itemStart = i;
      continue;
    }
    if (c === "{" || c === "[") {
      if (depth === 0) itemStart = i;
      depth++;
    } else if (c === "}" || c === "]") {
      if (depth === 0) {
        // The array itself closed; a scalar item may end here.
        if (itemStart >= 0) {
          try {
            items.push(JSON.parse(text.slice(itemStart, i)));
          } catch {
            /* skip */
          }
        }
        break;
      }
      depth--;
      if (depth === 0 && itemStart >= 0) {
        try {
          items.push(JSON.parse(text.slice(itemStart, i + 1)));
        } catch {
          // Not valid JSON after all (a model's typo): leave it to the server's repair.
        }
        itemStart = -1;
      }
    } else if (c === "," && depth === 0 && itemStart >= 0) {
      // A scalar item ended (strings and numbers).
      try {
        items.push(JSON.parse(text.slice(itemStart, i)));
      } catch {
        /* skip */
      }
      itemStart = -1;
    } else if (depth === 0 && itemStart < 0 && c !== undefined && /[-0-9tfn]/.test(c)) {
      itemStart = i;
    }
  }
  return items;
}

/** A one-line label for a streamed item: its title/name/quote field, else compact JSON. */
export function itemLabel(item: unknown): string {
  if (typeof item === "string") return item;
  if (typeof item === "object" && item !== null) {
    const o = item as Record<string, unknown>;
    for (const key of ["title", "name", "quote", "problem", "summary"]) {
      const v = o[key];
      if (typeof v === "string" && v !== "") {
        const rest = ["pitch", "problem", "summary"].find((k) => k !== key && typeof o[k] === "string");
        return rest ? `${v} — ${String(o[rest])}` : v;
      }
    }
  }
  return JSON.stringify(item);
}

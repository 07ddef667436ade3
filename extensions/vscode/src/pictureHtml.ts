/**
 * The page around the pictures (Story Graph, Mention Heatmap): a strict Content-Security-Policy
 * (scripts only with the page's nonce, styles and images only from the extension's `media/`),
 * HTML escaping, and JSON that is safe inside a `<script type="application/json">` block.
 * Pure: no `vscode` import.
 */

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** JSON for a data block: `<`, `>`, `&` and the two JavaScript line separators are escaped, so no text can close the block. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** "7337" → "7,337". */
export function thousands(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

export interface PageOptions {
  nonce: string;
  /** The webview's `cspSource`. */
  cspSource: string;
  title: string;
  styleUri: string;
  /** The stylesheet link's id (cytoscape's, for the pictures). */
  styleId?: string;
  /** Scripts in the order they run; each gets the nonce. */
  scriptUris: string[];
  body: string;
}

/**
 * A whole webview page (the pictures and the review panel). For the pictures, the stylesheet's
 * `<link>` carries the id cytoscape looks for before it injects its own `<style>` (which this CSP
 * would refuse); pictures.css holds that one rule instead.
 */
export function picturePage(o: PageOptions): string {
  const csp = `default-src 'none'; style-src ${o.cspSource}; img-src ${o.cspSource} data:; font-src ${o.cspSource}; script-src 'nonce-${o.nonce}';`;
  const scripts = o.scriptUris.map((u) => `<script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(u)}"></script>`).join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link${o.styleId ? ` id="${escapeHtml(o.styleId)}"` : ""} rel="stylesheet" href="${escapeHtml(o.styleUri)}">
<title>${escapeHtml(o.title)}</title>
</head>
<body>
${o.body}
${scripts}
</body>
</html>`;
}

/** The body shown instead of a picture when the server could not draw it. */
export function problemBody(title: string, message: string): string {
  return `<header class="toolbar"><h1>${escapeHtml(title)}</h1><button id="refresh" type="button">Refresh</button></header>
<p id="picture-problem" class="problem">${escapeHtml(message)}</p>`;
}

/**
 * HTML for the prompt-review panel, rendered from the state machine's view model. Pure string
 * building with escaping, so what reaches the webview is unit-tested (a prompt is untrusted
 * text: it holds whatever the project's buckets and the model said).
 */
import type { ViewModel } from "./reviewState";

export function escapeHtml(value: string | number | null | undefined): string {
  const s = value === null || value === undefined ? "" : String(value);
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function chain(vm: ViewModel): string {
  if (!vm.model) return "";
  // Levels the project leaves unset come back with a null value: they show the cascade skipped them.
  const steps = vm.chain
    .map((c) => `<li${c.value ? "" : ' class="unset"'}><span class="level">${escapeHtml(c.level)}</span> ${c.value ? escapeHtml(c.value) : "—"}</li>`)
    .join("");
  return `<section class="model"><div>Model: <code id="model">${escapeHtml(vm.model)}</code></div>${
    steps ? `<details><summary>Why this model (cascade)</summary><ol class="chain">${steps}</ol></details>` : ""
  }</section>`;
}

function sections(vm: ViewModel): string {
  if (vm.mode === "edit") {
    return `<textarea id="text" data-version="${vm.version}" spellcheck="true">${escapeHtml(vm.text)}</textarea>`;
  }
  const parts = vm.sections.map((s) =>
    s.collapsible
      ? `<details class="context-section"><summary>${escapeHtml(s.title)}</summary><pre>${escapeHtml(s.body)}</pre></details>`
      : `<pre class="prompt">${escapeHtml(s.body)}</pre>`,
  );
  return `<div id="sections">${parts.join("")}</div><textarea id="text" hidden data-version="${vm.version}">${escapeHtml(vm.text)}</textarea>`;
}

function diff(vm: ViewModel): string {
  if (!vm.diff) return "";
  const rows = vm.diff.ops
    .map((o) => `<div class="d-${o.op}">${o.op === "add" ? "+" : o.op === "del" ? "−" : " "} ${escapeHtml(o.line)}</div>`)
    .join("");
  return `<details class="diff" open><summary>Changes against the scene: +${vm.diff.added} −${vm.diff.removed}</summary><div class="diff-body">${rows}</div></details>`;
}

function input(vm: ViewModel): string {
  if (vm.mode === "chat") {
    const log = vm.chat.map((m) => `<div class="chat-msg">» ${escapeHtml(m)}</div>`).join("");
    return `<div class="input">${log}<label for="chat">Ask the model to change the prompt:</label><textarea id="chat" rows="3"></textarea><button data-action="chat" class="primary">Send</button></div>`;
  }
  if (vm.mode === "paste") {
    return `<div class="input"><label for="paste">Paste an answer produced elsewhere (the model is not called):</label><textarea id="paste" rows="8"></textarea><button data-action="paste" class="primary">Use this answer</button></div>`;
  }
  return "";
}

function stream(vm: ViewModel): string {
  const items = vm.streamItems.length
    ? `<ol class="items">${vm.streamItems.map((i) => `<li>${escapeHtml(i)}</li>`).join("")}</ol>`
    : "";
  const hidden = vm.stream === "" && vm.phase !== "running" ? " hidden" : "";
  return `<section class="stream"${hidden}><h3>Live output</h3>${items}<pre id="stream">${escapeHtml(vm.stream)}</pre></section>`;
}

/** The panel's body; the webview script swaps it in on every render. */
export function renderBody(vm: ViewModel): string {
  const buttons = vm.buttons
    .map((b) => `<button data-action="${b.id}"${b.primary ? ' class="primary"' : ""}${b.enabled ? "" : " disabled"}>${escapeHtml(b.label)}</button>`)
    .join("");
  const notice = vm.notice ? `<div class="notice" role="status">${escapeHtml(vm.notice)}</div>` : "";
  const error = vm.error ? `<div class="error" role="alert">${escapeHtml(vm.error)}</div>` : "";
  return [
    `<header><h2>${escapeHtml(vm.title)}</h2><div id="status" data-phase="${vm.phase}">${escapeHtml(vm.status)}</div></header>`,
    chain(vm),
    notice,
    error,
    `<nav class="buttons">${buttons}</nav>`,
    input(vm),
    diff(vm),
    vm.phase === "gate" || vm.phase === "resolving" ? sections(vm) : "",
    stream(vm),
  ].join("\n");
}

export function renderPage(opts: { nonce: string; cspSource: string; scriptUri: string; styleUri: string; body: string }): string {
  const csp = `default-src 'none'; style-src ${opts.cspSource}; script-src 'nonce-${opts.nonce}';`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${opts.styleUri}">
<title>Showrunner review</title>
</head>
<body>
<main id="app">${opts.body}</main>
<script nonce="${opts.nonce}" src="${opts.scriptUri}"></script>
</body>
</html>`;
}

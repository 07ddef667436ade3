/**
 * HTML for the prompt-review panel, rendered from the state machine's view model. Pure string
 * building with escaping, so what reaches the webview is unit-tested (a prompt is untrusted
 * text: it holds whatever the project's buckets and the model said).
 */
import { escapeHtml as escapeText, picturePage, thousands } from "./pictureHtml";
import type { ViewModel } from "./reviewState";

export function escapeHtml(value: string | number | null | undefined): string {
  return escapeText(value === null || value === undefined ? "" : String(value));
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

/**
 * A textarea's content. HTML drops one line feed right after `<textarea>`, so one is always
 * written: a text that starts with a blank line keeps it, and the value the webview sends back
 * when approving is exactly the text under review (not an edit).
 */
function textareaBody(text: string): string {
  return `\n${escapeHtml(text)}`;
}

function sections(vm: ViewModel): string {
  if (vm.mode === "edit") {
    return `<textarea id="text" data-version="${vm.version}" spellcheck="true">${textareaBody(vm.text)}</textarea>`;
  }
  // The prompt's own text (the instruction, the passage) first; the context notes it carries
  // after the buttons, collapsed under one line (see `notes`).
  const own = vm.sections.filter((s) => !s.collapsible).map((s) => `<pre class="prompt">${escapeHtml(s.body)}</pre>`);
  return `<div id="sections">${own.join("")}</div><textarea id="text" hidden data-version="${vm.version}">${textareaBody(vm.text)}</textarea>`;
}

/** The context notes the prompt carries: one collapsed line, each note collapsible inside. */
function notes(vm: ViewModel): string {
  if (!vm.notes || vm.mode === "edit") return "";
  const parts = vm.sections
    .filter((s) => s.collapsible)
    .map((s) => `<details class="context-section"><summary>${escapeHtml(s.title)}</summary><pre>${escapeHtml(s.body)}</pre></details>`)
    .join("");
  const n = vm.notes.count;
  return `<details id="context" class="notes" data-key="context:${vm.version}"><summary>${thousands(n)} note${n === 1 ? "" : "s"} included · ≈${thousands(vm.notes.tokens)} tokens</summary>${parts}</details>`;
}

/** The pipeline's steps and their live states, in order. */
function runGraph(vm: ViewModel): string {
  if (vm.steps.length === 0) return "";
  const items = vm.steps
    .map((s) => `<li class="step s-${escapeHtml(s.state)}" data-step="${escapeHtml(s.id)}" data-state="${escapeHtml(s.state)}" title="${escapeHtml(`${s.id}: ${s.state}`)}">${escapeHtml(s.label)}</li>`)
    .join("");
  return `<ol id="run-graph" aria-label="The run's steps">${items}</ol>`;
}

function button(b: ViewModel["buttons"][number]): string {
  return `<button data-action="${b.id}"${b.primary ? ' class="primary"' : ""}${b.title ? ` title="${escapeHtml(b.title)}"` : ""}${b.enabled ? "" : " disabled"}>${escapeHtml(b.label)}</button>`;
}

function lineNo(n: number | undefined): string {
  return n === undefined ? "" : String(n);
}

const MARKS = { context: " ", add: "+", del: "−" } as const;

/**
 * The change approving makes, as the server planned it: the description in words, and its
 * unified diff with the scene's line numbers (before | after). Nothing here is computed by the
 * extension.
 */
function edit(vm: ViewModel): string {
  const e = vm.edit;
  if (!e) return "";
  const rows = e.diff.rows
    .map((r) => {
      if (r.kind === "hunk") return `<tr class="d-hunk"><td colspan="3">${escapeHtml(r.text)}</td></tr>`;
      if (r.kind === "note") return `<tr class="d-note"><td></td><td></td><td>\\ ${escapeHtml(r.text)}</td></tr>`;
      return `<tr class="d-${r.kind}"><td class="ln">${lineNo(r.oldLine)}</td><td class="ln">${lineNo(r.newLine)}</td><td class="code"><span class="mark">${MARKS[r.kind]}</span>${escapeHtml(r.text)}</td></tr>`;
    })
    .join("");
  const file = e.diff.newPath ?? e.path;
  const editing = e.editing
    ? `<p class="edit-editing">You are editing the text: approving applies your version at the same place. The diff shows the text before your edits.</p>`
    : "";
  return `<section class="edit" aria-label="What approving changes"><p class="edit-what">On approval, the text <strong id="edit-description">${escapeHtml(e.description)}</strong>${
    /[.!?]$/.test(e.description.trim()) ? "" : "."
  }</p>${editing}<details class="diff" open><summary>Diff of ${escapeHtml(file)}: +${e.diff.added} −${e.diff.removed}</summary><table class="diff-body">${rows}</table><button data-action="open_diff" class="link">Open the diff in an editor</button></details></section>`;
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

function words(n: number): string {
  return `${n} word${n === 1 ? "" : "s"}`;
}

export const REASONING_LABEL = "The model's reasoning (not part of the answer)";
export const RETRACTED_LABEL = "Not part of the answer: the model's reasoning, or an attempt that broke off";

/**
 * What the model reasoned before the answer under review: collapsed, outside the text under
 * review (and its textarea), so nothing of it is approved.
 */
function reasoning(vm: ViewModel): string {
  const r = vm.reasoning;
  if (!r) return "";
  return `<aside class="reasoning" aria-label="${escapeHtml(REASONING_LABEL)}"><details id="reasoning" data-key="reasoning:${vm.version}"><summary>${escapeHtml(REASONING_LABEL)} · ${words(r.words)}</summary><pre>${escapeHtml(r.text)}</pre><button data-action="open_reasoning" class="link">Open the reasoning in an editor</button></details></aside>`;
}

function stream(vm: ViewModel): string {
  const items = vm.streamItems.length
    ? `<ol class="items">${vm.streamItems.map((i) => `<li>${escapeHtml(i)}</li>`).join("")}</ol>`
    : "";
  // Streamed text the server retracted: kept visible, collapsed and marked as not the answer.
  const retracted = vm.retracted
    .map(
      (r, i) =>
        `<details class="retracted" data-key="retracted:${i}"><summary>${escapeHtml(RETRACTED_LABEL)} · ${words(r.words)}</summary><pre>${escapeHtml(r.text)}</pre></details>`,
    )
    .join("");
  const hidden = vm.stream === "" && vm.retracted.length === 0 && vm.phase !== "running" ? " hidden" : "";
  return `<section class="stream"${hidden}><h3>Live output</h3>${retracted}${items}<pre id="stream">${escapeHtml(vm.stream)}</pre></section>`;
}

/** The panel's body; the webview script swaps it in on every render. */
export function renderBody(vm: ViewModel): string {
  const more = vm.more.length ? `<details class="more" data-key="more"><summary>More</summary><div class="more-buttons">${vm.more.map(button).join("")}</div></details>` : "";
  const buttons = vm.buttons.length || more ? `<nav class="buttons">${vm.buttons.map(button).join("")}${more}</nav>` : "";
  const problem = vm.modelProblem
    ? `<div class="warning model-problem" role="alert"><strong>${escapeHtml(vm.model ?? "This model")} can't be called:</strong> ${escapeHtml(vm.modelProblem)}. Change the model, or set the key and start again.</div>`
    : "";
  const warning = vm.warning ? `<div class="warning" role="alert"><strong>Before you decide:</strong> ${escapeHtml(vm.warning)}</div>` : "";
  const notice = vm.notice ? `<div class="notice" role="status">${escapeHtml(vm.notice)}</div>` : "";
  const error = vm.error ? `<div class="error" role="alert">${escapeHtml(vm.error)}</div>` : "";
  const outcome = vm.outcome ? `<div class="outcome${vm.outcome.problem ? " problem" : ""}" role="status">${escapeHtml(vm.outcome.text)}</div>` : "";
  const score = vm.judged
    ? ` <span id="judged" class="judged" title="The judge's score of this answer (0 to 1): Approve Well-Judged Gates… approves the gates judged at least the score you give">${escapeHtml(vm.judged)}</span>`
    : "";
  const header = `<header><h2 id="title">${escapeHtml(vm.title)}</h2><div id="status" data-phase="${vm.phase}"${vm.gateKind ? ` data-kind="${escapeHtml(vm.gateKind)}"` : ""}>${escapeHtml(vm.status)}${score}</div></header>`;
  if (vm.applied) {
    // Done: the panel collapses to what happened, and the way back.
    const a = vm.applied;
    const line = a.undone
      ? `<div class="applied undone">Undone ↶</div>`
      : `<div class="applied">Applied ✓${a.undo ? ` — <button data-action="undo" class="link">Undo</button>` : ""}</div>`;
    const undoError = a.error ? `<div class="error" role="alert">${escapeHtml(a.error)}</div>` : "";
    return [header, line, outcome, undoError, notice].join("\n");
  }
  const atGate = vm.phase === "gate" || vm.phase === "resolving";
  return [
    header,
    runGraph(vm),
    problem,
    warning,
    notice,
    error,
    outcome,
    edit(vm),
    atGate ? sections(vm) : "",
    buttons,
    input(vm),
    atGate ? notes(vm) : "",
    chain(vm),
    reasoning(vm),
    stream(vm),
  ].join("\n");
}

/** The review panel's page: the body inside `<main id="app">`, its one script and stylesheet. */
export function renderPage(opts: { nonce: string; cspSource: string; scriptUri: string; styleUri: string; body: string }): string {
  return picturePage({
    nonce: opts.nonce,
    cspSource: opts.cspSource,
    title: "Showrunner review",
    styleUri: opts.styleUri,
    scriptUris: [opts.scriptUri],
    body: `<main id="app">${opts.body}</main>`,
  });
}

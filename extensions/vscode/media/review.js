// Webview side of the review panel: swaps in the body the extension renders, keeps the writer's
// unsent edits across re-renders, and posts button presses back. All decisions are made by the
// extension's state machine (src/reviewState.ts); this file only carries messages.
// @ts-check
(function () {
  // eslint-disable-next-line no-undef
  const vscode = acquireVsCodeApi();
  const app = /** @type {HTMLElement} */ (document.getElementById("app"));

  function value(id) {
    const el = /** @type {HTMLTextAreaElement | null} */ (document.getElementById(id));
    return el ? el.value : undefined;
  }

  app.addEventListener("click", (ev) => {
    const target = /** @type {HTMLElement} */ (ev.target);
    const button = target.closest("button[data-action]");
    if (!button || button.hasAttribute("disabled")) return;
    const action = button.getAttribute("data-action");
    const msg = { type: "user", user: { action } };
    if (action === "approve") msg.user.text = value("text");
    if (action === "chat") msg.user.text = value("chat");
    if (action === "paste") msg.user.text = value("paste");
    vscode.postMessage(msg);
  });

  window.addEventListener("message", (ev) => {
    const msg = ev.data;
    if (msg.type === "render") {
      // Keep text the writer typed but has not sent, as long as the server's text is the same.
      const kept = {};
      for (const id of ["text", "chat", "paste"]) {
        const el = /** @type {HTMLTextAreaElement | null} */ (document.getElementById(id));
        if (el) kept[id] = { value: el.value, version: el.getAttribute("data-version") };
      }
      // Keep collapsible parts the writer opened or closed (the reasoning, retracted text) as
      // they were, while the element stands for the same text.
      const opened = {};
      for (const d of app.querySelectorAll("details[data-key]")) opened[d.getAttribute("data-key") || ""] = /** @type {HTMLDetailsElement} */ (d).open;
      app.innerHTML = msg.html;
      for (const d of app.querySelectorAll("details[data-key]")) {
        const key = d.getAttribute("data-key") || "";
        if (Object.hasOwn(opened, key)) /** @type {HTMLDetailsElement} */ (d).open = opened[key];
      }
      for (const [id, k] of Object.entries(kept)) {
        const el = /** @type {HTMLTextAreaElement | null} */ (document.getElementById(id));
        if (el && (id !== "text" || el.getAttribute("data-version") === k.version)) el.value = k.value;
      }
    } else if (msg.type === "append") {
      const pre = document.getElementById("stream");
      if (pre) {
        pre.textContent += msg.text;
        pre.parentElement?.removeAttribute("hidden");
        pre.scrollTop = pre.scrollHeight;
      }
    }
  });
  vscode.postMessage({ type: "ready" });
})();

// Shared by the picture panels (Story Graph, Mention Heatmap): the Refresh button, and every
// `[data-open]` button, which asks the extension to open that node's file. The extension opens
// only files the server named, so an id is all a click sends.
(function () {
  // acquireVsCodeApi may be called once per page; graph.js takes it from here.
  const vscode = acquireVsCodeApi();
  window.showrunnerPictures = { vscode };
  document.addEventListener("click", (ev) => {
    const target = ev.target instanceof Element ? ev.target.closest("[data-open], #refresh") : null;
    if (!target) return;
    if (target.id === "refresh") vscode.postMessage({ type: "refresh" });
    else vscode.postMessage({ type: "open", id: target.getAttribute("data-open") });
  });
})();

// The Story Graph: draws `#graph-data` (written by src/graphModel.ts) with cytoscape. Two views:
// Relations (entities and their typed relations, force-directed "cose" layout) and Structure
// (season → arc → act → chapter → scene, a "breadthfirst" tree). Colours come from the theme
// through the legend's swatches (pictures.css), so they follow the theme and are never red.
// A click on a node opens its file. `#graph[data-view][data-nodes][data-edges][data-ready]`
// tells a test what is drawn.
(function () {
  const vscode = window.showrunnerPictures && window.showrunnerPictures.vscode;
  const dataEl = document.getElementById("graph-data");
  const container = document.getElementById("graph");
  if (!vscode || !dataEl || !container) return;
  const data = JSON.parse(dataEl.textContent || "{}");
  const byId = new Map(data.nodes.map((n) => [n.id, n]));
  const saved = vscode.getState() || {};
  let view = saved.view && data.views[saved.view] ? saved.view : data.initial;
  let cy;

  if (typeof cytoscape !== "function") {
    container.textContent = "The graph library did not load; the list below names every node.";
    return;
  }

  /** A theme colour as the browser resolved it (cytoscape reads rgb()/rgba(), not CSS variables). */
  function resolved(className, property) {
    const probe = document.createElement("span");
    probe.className = className;
    probe.hidden = true;
    document.body.appendChild(probe);
    const value = getComputedStyle(probe)[property];
    probe.remove();
    return value;
  }

  function theme() {
    const body = getComputedStyle(document.body);
    const colours = {};
    for (const n of data.nodes) if (!colours[n.group]) colours[n.group] = resolved(`swatch g-${n.group}`, "backgroundColor");
    return {
      colours,
      fg: body.color,
      muted: resolved("probe-muted", "color"),
      bg: resolved("probe-background", "backgroundColor"),
      line: resolved("probe-line", "backgroundColor"),
      focus: resolved("probe-focus", "backgroundColor"),
      font: body.fontFamily,
    };
  }

  /** `colW`: the tree's column width, so a container's name (above it) fits its column. */
  function style(t, colW) {
    return [
      {
        selector: "node",
        style: {
          "background-color": "data(colour)",
          label: "data(name)",
          color: t.fg,
          "font-family": t.font,
          "font-size": 11,
          "text-valign": "bottom",
          "text-halign": "center",
          "text-margin-y": 4,
          "text-wrap": "wrap",
          "text-max-width": 140,
          "text-background-color": t.bg,
          "text-background-opacity": 0.75,
          "text-background-padding": 2,
          width: 18,
          height: 18,
          "border-width": 1,
          "border-color": t.fg,
          "border-opacity": 0.3,
        },
      },
      { selector: "node.structure", style: { shape: "round-rectangle", width: 26, height: 16 } },
      { selector: "node.scene", style: { shape: "rectangle", width: 12, height: 15 } },
      { selector: "node:selected, node.hover", style: { "border-width": 3, "border-color": t.focus, "border-opacity": 1 } },
      {
        selector: "edge",
        style: {
          width: 1.2,
          "line-color": t.line,
          "target-arrow-color": t.line,
          "target-arrow-shape": "triangle",
          "arrow-scale": 0.8,
          "curve-style": "bezier",
          label: "data(label)",
          "font-family": t.font,
          "font-size": 9,
          color: t.muted,
          "text-rotation": "autorotate",
          "text-background-color": t.bg,
          "text-background-opacity": 0.8,
          "text-background-padding": 1,
        },
      },
      { selector: "edge.structure", style: { "curve-style": "taxi", "taxi-direction": "rightward", "target-arrow-shape": "none" } },
      // In the tree, a container's name sits above it (its edges leave to the right), a scene's beside it.
      { selector: "node.tree", style: { "text-valign": "top", "text-halign": "center", "text-margin-y": -4, "text-max-width": Math.max(60, (colW || 200) - 16) } },
      { selector: "node.tree.scene", style: { "text-valign": "center", "text-halign": "right", "text-margin-x": 6, "text-margin-y": 0, "text-max-width": 260 } },
    ];
  }

  function elements(t) {
    const v = data.views[view];
    const nodes = v.nodes.map((id) => {
      const n = byId.get(id);
      const classes = [n.layer, n.kind === "scene" ? "scene" : "", view === "structure" ? "tree" : ""].join(" ").trim();
      return { group: "nodes", data: { id: n.id, name: n.name, colour: t.colours[n.group] }, classes };
    });
    const edges = v.edges.map((i) => {
      const e = data.edges[i];
      return { group: "edges", data: { id: `e${i}`, source: e.from, target: e.to, label: e.label === "contains" ? "" : e.label }, classes: e.layer };
    });
    return nodes.concat(edges);
  }

  /**
   * The Structure view's tree, read left to right: one row per leaf in reading order, a container
   * level with the middle of its children, one column per depth (as wide as the panel allows,
   * leaving room for the scenes' names on the right).
   */
  function treePositions() {
    const v = data.views.structure;
    const kids = new Map();
    const hasParent = new Set();
    for (const i of v.edges) {
      const e = data.edges[i];
      if (!kids.has(e.from)) kids.set(e.from, []);
      kids.get(e.from).push(e.to);
      hasParent.add(e.to);
    }
    const at = {};
    const seen = new Set();
    let rows = 0;
    let depthMax = 0;
    const place = (id, depth) => {
      seen.add(id);
      depthMax = Math.max(depthMax, depth);
      const ks = (kids.get(id) || []).filter((k) => !seen.has(k));
      if (ks.length === 0) {
        at[id] = { depth, row: rows++ };
      } else {
        const r = ks.map((k) => place(k, depth + 1));
        at[id] = { depth, row: (r[0] + r[r.length - 1]) / 2 };
      }
      return at[id].row;
    };
    for (const id of v.nodes) if (!hasParent.has(id) && !seen.has(id)) place(id, 0);
    for (const id of v.nodes) if (!seen.has(id)) place(id, 0); // a loop: never from the server
    const width = container.clientWidth || 800;
    const colW = Math.min(220, Math.max(90, (width - 48 - 170) / Math.max(1, depthMax)));
    const positions = {};
    for (const [id, p] of Object.entries(at)) positions[id] = { x: p.depth * colW, y: p.row * 26 };
    return { positions, colW };
  }

  function layout() {
    if (view === "structure") {
      const { positions, colW } = treePositions();
      cy.style(style(theme(), colW));
      return { name: "preset", positions, fit: true, padding: 24, animate: false };
    }
    return { name: "cose", animate: false, fit: true, padding: 24, nodeDimensionsIncludeLabels: true, idealEdgeLength: () => 90, nodeRepulsion: () => 9000, componentSpacing: 100 };
  }

  /** After a layout: never larger than life; a tall tree keeps its width readable and starts at the top. */
  function settle() {
    if (cy.zoom() > 1.25) {
      cy.zoom(1.25);
      cy.center();
    }
    if (view === "structure" && cy.zoom() < 0.75) {
      const bb = cy.elements().boundingBox();
      const z = Math.min(1, Math.max(0.3, (container.clientWidth - 48) / Math.max(1, bb.w)));
      cy.zoom(z);
      cy.pan({ x: 24 - bb.x1 * z, y: 24 - bb.y1 * z });
    }
  }

  function arrange() {
    container.dataset.ready = "false";
    const l = cy.layout(layout());
    l.one("layoutstop", () => {
      settle();
      container.dataset.ready = "true";
    });
    l.run();
  }

  function mark() {
    const v = data.views[view];
    container.dataset.view = view;
    container.dataset.nodes = String(v.nodes.length);
    container.dataset.edges = String(v.edges.length);
    container.setAttribute("aria-label", `The story's ${view} as a graph: ${v.nodes.length} nodes, ${v.edges.length} edges; the list below names every node`);
    for (const b of document.querySelectorAll(".toggle button[data-view]")) b.setAttribute("aria-pressed", String(b.dataset.view === view));
    const groups = new Set(v.nodes.map((id) => byId.get(id).group));
    for (const li of document.querySelectorAll("#legend li[data-group]")) li.hidden = !groups.has(li.dataset.group);
    const empty = document.getElementById("graph-view-empty");
    if (empty) empty.hidden = v.nodes.length > 0;
  }

  function draw() {
    container.dataset.ready = "false";
    if (cy) cy.destroy();
    mark();
    const t = theme();
    cy = cytoscape({ container, elements: elements(t), style: style(t), minZoom: 0.1, maxZoom: 4 });
    cy.on("tap", "node", (ev) => vscode.postMessage({ type: "open", id: ev.target.id() }));
    cy.on("mouseover", "node", (ev) => {
      ev.target.addClass("hover");
      container.classList.add("pointing");
    });
    cy.on("mouseout", "node", (ev) => {
      ev.target.removeClass("hover");
      container.classList.remove("pointing");
    });
    arrange();
  }

  const emptyNote = document.createElement("p");
  emptyNote.id = "graph-view-empty";
  emptyNote.className = "empty";
  emptyNote.hidden = true;
  emptyNote.textContent = "Nothing to draw in this view.";
  container.before(emptyNote);

  for (const b of document.querySelectorAll(".toggle button[data-view]")) {
    b.addEventListener("click", () => {
      if (b.dataset.view === view) return;
      view = b.dataset.view;
      vscode.setState({ ...(vscode.getState() || {}), view });
      draw();
    });
  }
  const fit = document.getElementById("fit");
  if (fit) {
    fit.addEventListener("click", () => {
      if (!cy) return;
      cy.fit(undefined, 24);
      settle();
    });
  }

  // The panel resized (or the list below opened): the tree takes the new width; the relations
  // keep their places and are fitted again.
  let resizeTimer;
  let lastWidth = container.clientWidth;
  new ResizeObserver(() => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (!cy) return;
      cy.resize();
      if (view === "structure" && Math.abs(container.clientWidth - lastWidth) > 8) arrange();
      else {
        cy.fit(undefined, 24);
        settle();
      }
      lastWidth = container.clientWidth;
    }, 150);
  }).observe(container);

  // A theme change: recolour without moving anything.
  new MutationObserver(() => {
    if (!cy) return;
    const t = theme();
    cy.nodes().forEach((n) => {
      n.data("colour", t.colours[byId.get(n.id()).group]);
    });
    cy.style(style(t, view === "structure" ? treePositions().colW : undefined));
  }).observe(document.body, { attributes: true, attributeFilter: ["class"] });

  draw();
})();

// The packaged extension in a real VS Code (code-server) in a real browser (Debian's chromium):
// the .vsix installs, `showrunner lsp` starts on a scene, a mention's hover comes from the
// server, the Context view lists what the scene would send, and a rewrite goes through the review
// panel: the panel shows the server's own description and diff of the edit, and the model's
// reasoning apart and collapsed (the model reasons before a bare `</think>`, as DeepSeek-R1
// distills stream), approving puts the answer alone in the editor's buffer unsaved (the file on
// disk untouched), and saving writes it and records it in the history; a batch runs from the
// palette and shows in the Batches view until it is cancelled. Run through run.sh.
import { strict as assert } from "node:assert";
import { spawn, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = process.env.SHOWRUNNER_BIN;
const vsix = process.env.VSIX;
const codeServer = path.join(here, "node_modules", ".bin", "code-server");
// Screenshots (and the code-server log) are kept as CI artifacts under target/.
const shots = path.join(here, "..", "..", "target", "vscode-e2e");

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves when `child` prints a line matching `re` (or rejects when it exits first). */
function waitForOutput(child, re, what) {
  return new Promise((resolve, reject) => {
    let seen = "";
    const onData = (d) => {
      seen += d.toString();
      if (re.test(seen)) {
        child.stdout.off("data", onData);
        child.stderr.off("data", onData);
        resolve(seen);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${what} exited with ${code} before ready:\n${seen}`)));
  });
}

/** Polls `check` until it returns a truthy value or `ms` pass; each try waits on the page itself. */
async function eventually(check, ms, what) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
  }
  throw new Error(`${what} did not happen within ${ms} ms${last ? `: ${last.message}` : ""}`);
}

/** Opens a file by name with Quick Open. */
async function openFile(page, name) {
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor();
  await input.fill(name);
  await page.locator(".quick-input-list .monaco-list-row").first().waitFor();
  await page.keyboard.press("Enter");
}

async function runCommand(page, title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().waitFor();
  await page.keyboard.press("Enter");
}

/**
 * An OpenAI-compatible model server on 127.0.0.1 that streams one fixed answer (SSE), so a
 * pipeline runs without a real model. Records each request's messages.
 */
function startModelServer(answers) {
  const requests = [];
  let calls = 0;
  const srv = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const parsed = body ? JSON.parse(body) : {};
      requests.push(parsed);
      if (!req.url.endsWith("/chat/completions")) {
        res.writeHead(404).end();
        return;
      }
      // Each model call gets the next answer (the last one repeats).
      const answer = answers[Math.min(calls, answers.length - 1)];
      calls += 1;
      if (!parsed.stream) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ choices: [{ index: 0, message: { role: "assistant", content: answer }, finish_reason: "stop" }] }));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (const piece of answer.match(/\S+\s*/g)) res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: piece } }] })}\n\n`);
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`);
      res.end("data: [DONE]\n\n");
    });
  });
  return new Promise((resolve) => srv.listen(0, "127.0.0.1", () => resolve({ srv, port: srv.address().port, requests })));
}

const REWRITE = "Out there, somewhere, was Łukasz, and the lamp was all he had.";
/** What the model streams: reasoning, then a bare `</think>` (its `<think>` was opened in the chat template), then the answer. */
const REASONING = "Okay, plan.";
const STREAMED = `${REASONING}\n</think>\n\n${REWRITE}`;
const SELECTED = "Łukasz was somewhere out there, and the lamp was all he had.";
/** The second rewrite, of line 9, which the writer then undoes from the panel. */
const SECOND_SELECTED = "The lamp turned, and turned again.";
const SECOND_REWRITE = "The lamp turned once more.";

/** Every file under `dir` whose name ends with `suffix`. */
function filesEndingWith(dir, suffix) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(suffix)).map((f) => path.join(dir, f));
}

describe("the .vsix in code-server", () => {
  let server;
  let browser;
  let page;
  let project;
  let model;
  const logs = [];
  const consoleLines = [];

  before(async () => {
    assert.ok(bin && fs.existsSync(bin), `SHOWRUNNER_BIN (${bin}) must be the showrunner binary`);
    assert.ok(vsix && fs.existsSync(vsix), `VSIX (${vsix}) must be the packaged extension`);
    fs.mkdirSync(shots, { recursive: true });
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "sr-vscode-e2e-"));
    project = path.join(root, "Harbour Lights");
    fs.cpSync(path.join(here, "fixture"), project, { recursive: true });
    model = await startModelServer([STREAMED, `</think>\n\n${SECOND_REWRITE}`]);
    fs.writeFileSync(
      path.join(project, "showrunner.yaml"),
      `name: Harbour Lights\ndefault_model: local/test-model\nproviders:\n  local: { base_url: "http://127.0.0.1:${model.port}/v1" }\ncontext: { budget_tokens: 6000 }\ngoals: { project_words: 80000, daily_words: 1000, session_words: 300 }\n`,
    );
    const userData = path.join(root, "user-data");
    const extensions = path.join(root, "extensions");
    fs.mkdirSync(path.join(userData, "User"), { recursive: true });
    fs.writeFileSync(
      path.join(userData, "User", "settings.json"),
      JSON.stringify({
        "showrunner.serverPath": bin,
        "showrunner.progress.notifications": false,
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": false,
        "workbench.enableExperiments": false,
        "security.workspace.trust.enabled": false,
        "telemetry.telemetryLevel": "off",
        "extensions.autoUpdate": false,
        "extensions.autoCheckUpdates": false,
        "update.mode": "none",
        "editor.hover.delay": 100,
        "files.autoSave": "off",
      }),
    );
    const config = path.join(root, "config.yaml");
    fs.writeFileSync(config, "auth: none\ncert: false\n");
    const common = ["--config", config, "--user-data-dir", userData, "--extensions-dir", extensions];
    const installed = execFileSync(codeServer, [...common, "--install-extension", vsix], { encoding: "utf8" });
    assert.match(installed, /was successfully installed/, installed);
    const listed = execFileSync(codeServer, [...common, "--list-extensions"], { encoding: "utf8" });
    assert.match(listed, /^showrunner\.showrunner$/m);

    const port = await freePort();
    server = spawn(
      codeServer,
      [...common, "--bind-addr", `127.0.0.1:${port}`, "--auth", "none", "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", "--disable-getting-started-override", project],
      // The server's log file goes to the test's own state folder, not the user's.
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SHOWRUNNER_LOG: "info", XDG_STATE_HOME: path.join(root, "state") } },
    );
    server.stdout.on("data", (d) => logs.push(d.toString()));
    server.stderr.on("data", (d) => logs.push(d.toString()));
    await waitForOutput(server, /HTTP server listening/, "code-server");

    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(project)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
  });

  after(async () => {
    await browser?.close();
    model?.srv.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await exited;
    }
    fs.writeFileSync(path.join(shots, "code-server.log"), logs.join(""));
  });

  it("opens a scene and shows the server's hover on a mention", async () => {
    await openFile(page, "arrival.md");
    const mention = page.locator(".monaco-editor .view-lines span", { hasText: "Port Sorrow" }).last();
    await mention.waitFor({ timeout: 30_000 });
    // The server indexes the project after start; hover until its answer arrives.
    const hover = page.locator(".monaco-hover-content", { hasText: "Port Sorrow" });
    await eventually(
      async () => {
        await page.mouse.move(5, 5);
        await mention.hover();
        await hover.first().waitFor({ timeout: 3_000 });
        return (await hover.first().innerText()).includes("location");
      },
      90_000,
      "a hover naming Port Sorrow's kind",
    );
    const text = await hover.first().innerText();
    assert.match(text, /Port Sorrow/);
    assert.match(text, /location/);
    // The hover is the server's, not a hint's: no SR001 line, no "No quick fixes available".
    assert.ok(!/SR001|No quick fixes/.test(text), text);
    await page.screenshot({ path: path.join(shots, "hover.png") });
    await page.mouse.move(5, 5);
  });

  it("the scene reads as prose: a book font, no line numbers or minimap, frontmatter folded, names quietly coloured and not underlined", async () => {
    const editor = page.locator(".editor-group-container.active .monaco-editor").first();
    await editor.waitFor();
    // No line numbers, no minimap.
    assert.equal(await editor.locator(".line-numbers").count(), 0, "no line numbers");
    const minimap = editor.locator(".minimap");
    assert.ok((await minimap.count()) === 0 || !(await minimap.first().isVisible()), "no minimap");
    // A proportional book font, not the code font.
    const font = await editor.locator(".view-lines").first().evaluate((e) => getComputedStyle(e).fontFamily);
    // (VS Code appends its own fallbacks after the writer's fonts.)
    assert.match(font.split(",")[0], /Charter/, font);
    // The frontmatter is folded: `pov: zoe` is not on screen, the prose is.
    await eventually(async () => (await editor.locator(".view-line", { hasText: "pov: zoe" }).count()) === 0, 30_000, "the frontmatter folded");
    assert.ok((await editor.locator(".view-line", { hasText: "The storm came in" }).count()) > 0);
    // A mention: coloured by the server's semantic token, never underlined, never red.
    const mention = editor.locator(".view-lines span", { hasText: /^Łukasz$/ }).first();
    await mention.waitFor();
    const style = await mention.evaluate((e) => {
      const cs = getComputedStyle(e);
      return { decoration: cs.textDecorationLine, color: cs.color, link: e.closest(".detected-link") !== null };
    });
    assert.equal(style.decoration, "none", JSON.stringify(style));
    assert.equal(style.link, false);
    const [r, g, b] = style.color.match(/\d+/g).map(Number);
    assert.ok(!(r > 150 && g < 110 && b < 110), `a mention is not red: ${style.color}`);
    // No hint dots (SR001 is off unless the project asks for it).
    assert.equal(await editor.locator(".squiggly-hint").count(), 0, "no hint dots");
    await page.screenshot({ path: path.join(shots, "prose.png") });
  });

  it("the status bar shows the scene's words and the goals", async () => {
    const words = page.locator(".statusbar-item", { hasText: /words/ }).first();
    await eventually(async () => /today \d[\d,]*\/1,000/.test(await words.innerText().catch(() => "")), 60_000, "the words item with today's goal");
    const text = await words.innerText();
    assert.match(text, /scene \d+/, text);
    assert.match(text, /[\d,]+\/80,000 words/, text);
    assert.match(text, /session \d+\/300/, text);
    await page.screenshot({ path: path.join(shots, "status-words.png") });
  });

  it("the Context view lists the scene's buckets with token counts", async () => {
    await page.locator('.activitybar [aria-label^="Showrunner"]').first().click();
    const view = page.locator(".pane", { has: page.locator(".pane-header", { hasText: /^Context/i }) });
    await view.waitFor();
    const summary = view.locator(".monaco-list-row", { hasText: /\/ 6,000 tokens/ });
    await eventually(
      async () => {
        try {
          await summary.first().waitFor({ timeout: 5_000 });
          return true;
        } catch {
          // The first answer may have come before the server indexed the project: ask again.
          await runCommand(page, "Showrunner: Refresh Views");
          return false;
        }
      },
      60_000,
      "the context summary row",
    );
    assert.match(await summary.first().innerText(), /[\d,]+ \/ 6,000 tokens/);
    const all = await view.locator(".monaco-list-row").allInnerTexts();
    // Names, not ids; the reason on its own row under the name.
    assert.ok(all.some((t) => /Zoë Marsh/.test(t) && /character/.test(t) && /tokens/.test(t)), `context rows: ${JSON.stringify(all)}`);
    assert.ok(!all.some((t) => /^zoe\b/.test(t)), `no ids: ${JSON.stringify(all)}`);
    assert.ok(all.some((t) => /point-of-view/.test(t)), `the reason is shown: ${JSON.stringify(all)}`);
    await page.screenshot({ path: path.join(shots, "context.png") });
  });

  it("the Story view comes first, by title", async () => {
    const panes = await page.locator(".pane .pane-header").allInnerTexts();
    const firstShowrunner = panes.find((t) => /^(Story|Context|Approval Queue|Runs|Timelines)/i.test(t.trim()));
    assert.match(firstShowrunner ?? "", /^Story/i, JSON.stringify(panes));
    const view = page.locator(".pane", { has: page.locator(".pane-header", { hasText: /^Story/i }) });
    await eventually(async () => (await view.locator(".monaco-list-row", { hasText: "The Storm" }).count()) > 0, 60_000, "the Story view's chapters");
    const rows = await view.locator(".monaco-list-row").allInnerTexts();
    assert.ok(rows.some((t) => /In the Tower/.test(t)), JSON.stringify(rows));
    assert.ok(!rows.some((t) => /^(ch1|ch2|tower|landing)\b/.test(t.trim())), `titles, not ids: ${JSON.stringify(rows)}`);
  });

  /** The frame of a webview that holds `selector`. */
  async function frameWith(selector, what) {
    return eventually(
      async () => {
        for (const f of page.frames()) {
          if ((await f.locator(selector).count().catch(() => 0)) > 0) return f;
        }
        return undefined;
      },
      60_000,
      what,
    );
  }

  it("the Story Graph draws the relations by name and opens a bucket on click", async () => {
    await runCommand(page, "Showrunner: Story Graph");
    const frame = await frameWith('#graph[data-ready="true"]', "the Story Graph");
    const names = (await frame.locator("#graph-names li").allTextContents()).map((t) => t.trim());
    for (const n of ["Zoë Marsh", "Łukasz Nowak", "Port Sorrow"]) assert.ok(names.some((t) => t.includes(n)), `${n} in ${JSON.stringify(names)}`);
    assert.ok(!names.some((t) => /^(zoe|lukasz|port-sorrow)$/.test(t)), `names, not ids: ${JSON.stringify(names)}`);
    assert.ok(Number(await frame.locator("#graph").getAttribute("data-edges")) >= 1, "the friend_of relation is drawn");
    assert.ok((await frame.locator("#legend li").count()) > 0);
    await page.screenshot({ path: path.join(shots, "story-graph.png") });
  });

  it("the Mention Heatmap shows entities by chapter", async () => {
    await runCommand(page, "Showrunner: Mention Heatmap");
    const frame = await frameWith("table#heatmap", "the heatmap");
    const chapters = (await frame.locator("thead th[data-chapter]").allInnerTexts()).map((t) => t.trim());
    assert.ok(chapters.some((t) => /The Storm/.test(t)) && chapters.some((t) => /The Crossing/.test(t)), JSON.stringify(chapters));
    const zoe = frame.locator('tbody tr[data-entity="zoe"]');
    assert.match(await zoe.innerText(), /Zoë Marsh/);
    const counts = (await zoe.locator("td.cell").evaluateAll((tds) => tds.map((td) => Number(td.getAttribute("data-count")))));
    assert.ok(counts.filter((n) => n > 0).length >= 2, `Zoë is in both chapters: ${JSON.stringify(counts)}`);
    await page.screenshot({ path: path.join(shots, "heatmap.png") });
    // Back to the scene alone for the review.
    await runCommand(page, "View: Close All Editor Groups");
    await openFile(page, "arrival.md");
  });

  /** Waits for `locator`; on a timeout, fails with what the panel and the window showed. */
  async function waitOrExplain(frame, locator, what) {
    try {
      await locator.first().waitFor({ timeout: 60_000 });
    } catch (e) {
      await page.screenshot({ path: path.join(shots, "failure.png") });
      const frames = [];
      for (const f of page.frames()) {
        if ((await f.locator("#app").count().catch(() => 0)) > 0) frames.push(await f.locator("#app #status").innerText().catch(() => "?"));
      }
      const shown = await frame.locator("#app").innerText().catch(() => "(no panel)");
      throw new Error(`${what} did not show: ${e.message}\npanel:\n${shown}\nframes with a panel: ${JSON.stringify(frames)}\nconsole:\n${consoleLines.slice(-30).join("\n")}`);
    }
  }

  it("a rewrite goes through the review panel: prompt gate, the server's edit and diff, an unsaved change, then save", async () => {
    const scene = path.join(project, "story", "ch1", "arrival.md");
    const original = fs.readFileSync(scene, "utf8");
    // Select line 7 of the scene and run the quick action from the palette.
    await page.locator(".monaco-editor .view-lines span", { hasText: "somewhere out there" }).first().click();
    await page.keyboard.press("Home");
    await page.keyboard.press("Shift+End");
    await runCommand(page, "Showrunner: Rewrite Selection");

    const panel = () =>
      eventually(
        async () => {
          for (const f of page.frames()) {
            if ((await f.locator("#app #status").count()) > 0) return f;
          }
          await page.locator(".monaco-workbench").waitFor();
          return undefined;
        },
        60_000,
        "the review panel",
      );
    let frame = await panel();
    await waitOrExplain(frame, frame.locator('#status[data-phase="gate"]'), "the prompt gate");
    // The prompt, its context sections collapsible, and the model that will answer. A prompt
    // changes no scene: no diff.
    // Titled in words; the prompt's own text first, its context notes collapsed under one line.
    assert.equal(await frame.locator("#title").innerText(), "Rewrite · arrival.md, line 7");
    await frame.locator("details.context-section summary", { hasText: "Zoë Marsh (character)" }).waitFor({ state: "attached" });
    const notes = frame.locator("details#context");
    assert.match(await notes.locator(":scope > summary").innerText(), /^\d+ notes? included · ≈[\d,]+ tokens$/);
    assert.equal(await notes.evaluate((d) => d.open), false, "the context is collapsed");
    assert.equal(await frame.locator("#model").innerText(), "local/test-model");
    assert.equal(await frame.locator(".edit, .diff").count(), 0, "a prompt gate shows no diff");
    // Approve / Edit / Reject, the rest under More.
    assert.deepEqual(await frame.locator("nav.buttons > button").evaluateAll((bs) => bs.map((b) => b.getAttribute("data-action"))), ["approve", "edit", "reject"]);
    assert.equal(await frame.locator("nav.buttons details.more summary").innerText(), "More");
    assert.equal(await frame.locator("details.more button[data-action=regenerate]").count(), 1);
    // The run graph: the step waiting for the writer.
    await waitOrExplain(frame, frame.locator('#run-graph li[data-state="waiting"]'), "the run graph with the waiting step");
    // One review panel, one review editor group beside the scene.
    assert.equal(await page.locator(".tabs-container .tab", { hasText: "Rewrite ·" }).count(), 1);
    assert.ok((await page.locator(".editor-group-container").count()) <= 2, "the scene and one review column");
    await page.screenshot({ path: path.join(shots, "review-prompt.png") });
    await frame.locator('button[data-action="approve"]').click();

    // The model's answer streams in, then waits at the output gate with the server's edit.
    frame = await panel();
    const description = frame.locator("#edit-description");
    await waitOrExplain(frame, description, "the output gate's edit");
    assert.equal(model.requests.filter((r) => r.messages).length, 1, "one model call");
    assert.match(JSON.stringify(model.requests[0].messages), /Zoë Marsh/, "the prompt carried the context");

    // What the panel shows is what the server planned: its `.diff` beside the review document
    // holds "# Approving: <description>" and the unified diff.
    const diffs = filesEndingWith(path.join(project, ".showrunner", "runs"), ".diff");
    assert.equal(diffs.length, 1, `one gate diff: ${JSON.stringify(diffs)}`);
    const [heading, ...diffLines] = fs.readFileSync(diffs[0], "utf8").replace(/\n$/, "").split("\n");
    const serverDescription = heading.replace(/^# Approving: /, "");
    assert.equal(serverDescription, "replaces the selection on line 7 of arrival.md");
    assert.equal(await description.innerText(), serverDescription);
    assert.match(await frame.locator(".edit-what").innerText(), /^On approval, the text replaces the selection on line 7 of arrival\.md\.$/);
    const hunk = diffLines.findIndex((l) => l.startsWith("@@"));
    assert.equal(diffLines[hunk], "@@ -4,6 +4,6 @@");
    assert.equal(await frame.locator("tr.d-hunk").innerText(), diffLines[hunk]);
    const shown = (await frame.locator("table.diff-body td.code").allInnerTexts()).map((t) => t.trimEnd());
    const expected = diffLines.slice(hunk + 1).map((l) => (l[0] === "-" ? "−" : l[0]) + l.slice(1)).map((t) => t.trimEnd());
    assert.deepEqual(shown, expected);
    assert.deepEqual(expected.slice(-4, -2), [`−${SELECTED}`, `+${REWRITE}`]);
    assert.equal(await frame.locator("tr.d-del td.ln").first().innerText(), "7");
    assert.equal(await frame.locator("tr.d-add td.ln").nth(1).innerText(), "7");
    assert.match(await frame.locator(".diff summary").innerText(), /story\/ch1\/arrival\.md: \+1 −1/);
    // The reasoning that streamed before `</think>` is shown apart from the answer, collapsed;
    // the text under review (what approving sends) is the answer alone.
    const reasoning = frame.locator("aside.reasoning details#reasoning");
    await waitOrExplain(frame, reasoning, "the model's reasoning section");
    assert.equal(await reasoning.evaluate((d) => d.open), false, "the reasoning is collapsed by default");
    assert.match(await reasoning.locator("summary").innerText(), /The model's reasoning \(not part of the answer\) · 2 words/);
    assert.equal((await reasoning.locator("pre").textContent()).trim(), REASONING);
    // What approving sends: the textarea's value, exactly the review document (so a plain
    // approve, not an edit), which holds the answer only.
    const underReview = fs.readFileSync(diffs[0].replace(/\.diff$/, ".md"), "utf8");
    assert.equal(underReview.trim(), REWRITE, "the review document holds the answer only");
    assert.equal(await frame.locator("textarea#text").inputValue(), underReview);
    assert.equal((await frame.locator("#sections").innerText()).trim(), REWRITE);
    // The live output marked what streamed before `</think>` as not the answer.
    assert.equal((await frame.locator(".stream details.retracted pre").first().textContent()).trim(), REASONING);
    assert.ok(!(await frame.locator("#stream").textContent()).includes(REASONING), "the live answer holds no reasoning");
    // The server's files: the reasoning beside the review document, never in it.
    const runsDir = path.join(project, ".showrunner", "runs");
    const reasoningFiles = filesEndingWith(runsDir, ".reasoning.md");
    assert.equal(reasoningFiles.length, 1, `one reasoning file: ${JSON.stringify(reasoningFiles)}`);
    assert.match(fs.readFileSync(reasoningFiles[0], "utf8"), /Okay, plan\./);
    for (const doc of filesEndingWith(runsDir, ".md").filter((f) => !f.endsWith(".reasoning.md"))) {
      assert.ok(!fs.readFileSync(doc, "utf8").includes(REASONING), `${doc} holds no reasoning`);
    }
    await reasoning.locator("summary").click();
    assert.equal(await reasoning.evaluate((d) => d.open), true);
    await page.screenshot({ path: path.join(shots, "review-reasoning.png") });
    // The approve button says what approving does.
    const approve = frame.locator('button[data-action="approve"]');
    assert.equal(await approve.innerText(), "Approve: replace the selection in arrival.md");
    assert.equal(await approve.getAttribute("title"), `On approval, the text ${serverDescription}.`);
    // The Approval Queue lists the open gate with what approving does.
    const queue = page.locator(".pane", { has: page.locator(".pane-header", { hasText: /^Approval Queue/i }) });
    await queue.locator(".monaco-list-row", { hasText: "Rewrite Selection: approve output" }).first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(shots, "review-output.png") });
    await approve.click();

    // The change lands in the editor's buffer through workspace/applyEdit, unsaved; the server
    // never writes a file the writer has open.
    await page.locator(".monaco-editor .view-lines span", { hasText: "Out there, somewhere, was" }).first().waitFor({ timeout: 60_000 });
    const dirtyTab = page.locator(".tabs-container .tab.dirty", { hasText: "arrival.md" });
    await dirtyTab.first().waitFor({ timeout: 10_000 });
    await waitOrExplain(frame, frame.locator(".outcome", { hasText: "not saved yet" }), "the panel's word that the change is unsaved");
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(fs.readFileSync(scene, "utf8"), original, "the file on disk is unchanged until the writer saves");
    await page.screenshot({ path: path.join(shots, "applied-unsaved.png") });

    // The writer saves: the file holds the change, and the server records it in the history.
    await page.locator(".monaco-editor .view-lines span", { hasText: "Out there, somewhere, was" }).first().click();
    await page.keyboard.press("Control+S");
    try {
      await eventually(async () => fs.readFileSync(scene, "utf8").includes(REWRITE), 30_000, "the saved file holding the rewrite");
    } catch (e) {
      await page.screenshot({ path: path.join(shots, "failure.png") });
      throw e;
    }
    assert.equal(fs.readFileSync(scene, "utf8"), original.replace(SELECTED, REWRITE), "the answer alone is applied, no reasoning");
    await eventually(async () => (await dirtyTab.count()) === 0, 10_000, "the tab no longer dirty");
    await waitOrExplain(frame, frame.locator(".outcome", { hasText: "recorded in the history" }), "the `recorded` event in the panel");
    assert.match(await frame.locator(".applied").innerText(), /^Applied ✓/);
    await page.screenshot({ path: path.join(shots, "applied-saved.png") });
  });

  it("a second rewrite reuses the one panel, and Undo puts the text back", async () => {
    await page.locator(".monaco-editor .view-lines span", { hasText: SECOND_SELECTED }).first().click();
    await page.keyboard.press("Home");
    await page.keyboard.press("Shift+End");
    await runCommand(page, "Showrunner: Rewrite Selection");
    const frame = await frameWith('#status[data-phase="gate"][data-kind="review_prompt"]', "the second run's prompt gate");
    assert.equal(await frame.locator("#title").innerText(), "Rewrite · arrival.md, line 9");
    assert.equal(await page.locator(".tabs-container .tab", { hasText: "Rewrite ·" }).count(), 1, "the same panel, not a new one");
    assert.ok((await page.locator(".editor-group-container").count()) <= 2, "no new column");
    await frame.locator('button[data-action="approve"]').click();
    await waitOrExplain(frame, frame.locator('#status[data-phase="gate"][data-kind="approve_output"]'), "the second run's output gate");
    assert.equal(await frame.locator("#edit-description").innerText(), "replaces the selection on line 9 of arrival.md");
    await frame.locator('button[data-action="approve"]').click();
    await page.locator(".monaco-editor .view-lines span", { hasText: SECOND_REWRITE }).first().waitFor({ timeout: 60_000 });
    const undo = frame.locator('.applied button[data-action="undo"]');
    await waitOrExplain(frame, undo, "Applied ✓ — Undo");
    assert.match(await frame.locator(".applied").innerText(), /^Applied ✓ — Undo$/);
    assert.equal(await frame.locator("nav.buttons").count(), 0, "nothing else to press");
    await page.screenshot({ path: path.join(shots, "review-applied.png") });
    await undo.click();
    await page.locator(".monaco-editor .view-lines span", { hasText: SECOND_SELECTED }).first().waitFor({ timeout: 30_000 });
    assert.equal(await page.locator(".monaco-editor .view-lines span", { hasText: SECOND_REWRITE }).count(), 0);
    await waitOrExplain(frame, frame.locator(".applied.undone"), "the panel's word that the change was undone");
    await page.screenshot({ path: path.join(shots, "review-undone.png") });
  });

  /** Waits for the quick input titled `title`, types `text` and presses Enter. */
  async function answer(title, text) {
    await page.locator(".quick-input-widget .quick-input-title", { hasText: title }).first().waitFor({ timeout: 30_000 });
    const input = page.locator(".quick-input-widget input");
    await input.fill(text);
    if (text !== "") await page.locator(".quick-input-list .monaco-list-row", { hasText: text }).first().waitFor();
    await page.keyboard.press("Enter");
  }

  it("a batch from the palette: a pipeline on typed targets, its counts and run in the Batches view, then Cancel Batch", async () => {
    await runCommand(page, "Showrunner: Run a Batch…");
    await answer("Run a Batch: pipeline", "Brainstorm");
    // No part of the story is called `landing`: the typed scene id is the target.
    await answer("Run a Batch: Brainstorm on", "landing");
    await answer("Run a Batch: Brainstorm on landing: which scenes", "");
    await answer("Run a Batch: Brainstorm on landing: judge the answers?", "Don't judge");
    const batches = page.locator(".pane", { has: page.locator(".pane-header", { hasText: /^Batches/i }) });
    // Brainstorm waits at its prompt gate, before any model call: the batch waits with it.
    await batches.locator(".monaco-list-row", { hasText: "0/1 done · 0 running · 1 waiting at a gate · 0 failed · 0 queued" }).first().waitFor({ timeout: 60_000 });
    await batches.locator(".monaco-list-row", { hasText: /Brainstorm.*waiting · landing\.md/ }).first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(shots, "batch-waiting.png") });
    await runCommand(page, "Showrunner: Cancel Batch");
    // A modal question names the batch and what it is doing.
    const dialog = page.locator(".monaco-dialog-box");
    await dialog.locator(".dialog-message-text", { hasText: /^Cancel batch batch-/ }).waitFor({ timeout: 10_000 });
    await dialog.locator(".monaco-button", { hasText: "Cancel Batch" }).first().click();
    await batches.locator(".monaco-list-row", { hasText: /0\/1 done · 0 running · 0 waiting at a gate.*finished · 1 cancelled/ }).first().waitFor({ timeout: 60_000 });
    await batches.locator(".monaco-list-row", { hasText: /Brainstorm.*cancelled · landing\.md/ }).first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(shots, "batch-cancelled.png") });
  });
});

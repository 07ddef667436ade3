/** package.json contributions agree with the code, the server's legend and the grammars. */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { PIPELINE_ACTIONS } from "../actions";
import { Commands } from "../protocol";
import { EXTENSION_ROOT, GRAMMARS, REPO_ROOT } from "./tm";

interface Manifest {
  main: string;
  engines: { vscode: string };
  devDependencies: Record<string, string>;
  contributes: {
    commands: { command: string; title: string; category?: string; icon?: string }[];
    keybindings: { command: string; key: string; when?: string }[];
    menus: Record<string, { command?: string; submenu?: string; when?: string }[]>;
    views: Record<string, { id: string; visibility?: string }[]>;
    languages: { id: string; extensions: string[] }[];
    grammars: { language?: string; scopeName: string; path: string; injectTo?: string[] }[];
    semanticTokenTypes: { id: string }[];
    semanticTokenModifiers: { id: string }[];
    semanticTokenScopes: { scopes: Record<string, string[]> }[];
    configuration: { properties: Record<string, unknown> };
    configurationDefaults: Record<string, Record<string, unknown>>;
  };
}

const pkg = JSON.parse(fs.readFileSync(path.join(EXTENSION_ROOT, "package.json"), "utf8")) as Manifest;
const c = pkg.contributes;
const declared = new Set(c.commands.map((x) => x.command));
const serverIds = new Set<string>(Object.values(Commands));

describe("package.json", () => {
  it("declares a palette command for every pipeline action, titled as in the issue", () => {
    for (const a of PIPELINE_ACTIONS) {
      const cmd = c.commands.find((x) => x.command === a.command);
      assert.ok(cmd, a.command);
      assert.equal(cmd.title, a.title);
      assert.equal(cmd.category, "Showrunner");
    }
    const titles = new Set(c.commands.map((x) => x.title));
    for (const t of ["Draft Scene", "Rewrite Selection", "Continue Scene", "Research…", "Ask an Agent…", "Show Context", "Approval Queue", "Switch Timeline", "Select Model", "New Bucket…"]) {
      assert.ok(titles.has(t), t);
    }
  });

  it("never declares a server command id (the language client registers those)", () => {
    for (const id of declared) assert.ok(!serverIds.has(id), id);
  });

  it("keybindings and menus name declared commands", () => {
    for (const k of c.keybindings) assert.ok(declared.has(k.command), k.command);
    for (const [menu, entries] of Object.entries(c.menus)) {
      for (const e of entries) if (e.command) assert.ok(declared.has(e.command), `${menu}: ${e.command}`);
    }
    const bound = new Set(c.keybindings.map((k) => k.command));
    for (const common of ["showrunner.rewriteSelection", "showrunner.continueScene", "showrunner.draftScene", "showrunner.showContext"]) assert.ok(bound.has(common), common);
  });

  it("every command the extension registers is declared", () => {
    const src = fs.readFileSync(path.join(EXTENSION_ROOT, "src", "extension.ts"), "utf8");
    const registered = [...src.matchAll(/register\("([\w.]+)"/g)].map((m) => m[1]!);
    assert.ok(registered.length > 10);
    for (const id of registered) assert.ok(declared.has(id), id);
    // The pictures register theirs in pictures.ts, by constant.
    const pictures = fs.readFileSync(path.join(EXTENSION_ROOT, "src", "pictures.ts"), "utf8");
    const ids = [...pictures.matchAll(/export const \w+ = "(showrunner\.[\w.]+)";/g)].map((m) => m[1]!);
    assert.deepEqual(ids, ["showrunner.storyGraph", "showrunner.mentionHeatmap"]);
    for (const id of ids) assert.ok(declared.has(id), id);
  });

  it("views are Story (first, open), Context, Approval Queue, Runs, Batches and Timelines", () => {
    assert.deepEqual(
      c.views.showrunner!.map((v) => v.id),
      ["showrunner.story", "showrunner.context", "showrunner.gates", "showrunner.runs", "showrunner.batches", "showrunner.timelines"],
    );
    assert.equal(c.views.showrunner![0]!.visibility, undefined);
  });

  it("Story Graph and Mention Heatmap are in the palette and the Story view's title bar", () => {
    for (const [id, title] of [["showrunner.storyGraph", "Story Graph"], ["showrunner.mentionHeatmap", "Mention Heatmap"]] as const) {
      const cmd = c.commands.find((x) => x.command === id);
      assert.equal(cmd?.title, title);
      assert.equal(cmd?.category, "Showrunner");
      assert.ok(cmd?.icon, `${id} has an icon`);
      assert.ok(c.menus.commandPalette!.some((m) => m.command === id && m.when !== "false"), `${id} in the palette`);
      assert.ok(c.menus["view/title"]!.some((m) => m.command === id && m.when === "view == showrunner.story"), `${id} in the Story view's title`);
    }
  });

  it("grammars point at files the build copies from grammars/", () => {
    const script = fs.readFileSync(path.join(EXTENSION_ROOT, "scripts", "copy-grammars.mjs"), "utf8");
    for (const g of c.grammars) {
      const name = path.basename(g.path);
      assert.equal(g.path, `./syntaxes/${name}`);
      assert.ok(fs.existsSync(path.join(GRAMMARS, name)), name);
      assert.ok(script.includes(name), `${name} is copied`);
      const grammar = JSON.parse(fs.readFileSync(path.join(GRAMMARS, name), "utf8")) as { scopeName: string };
      assert.equal(grammar.scopeName, g.scopeName);
    }
    assert.deepEqual(c.languages.find((l) => l.id === "fountain")?.extensions, [".fountain", ".spmd"]);
  });

  it("has a semantic token type and a scope for every type in the server's legend", () => {
    const tokens = fs.readFileSync(path.join(REPO_ROOT, "server", "lsp", "src", "tokens.rs"), "utf8");
    const types = /pub const TYPES: &\[&str\] =\s*&\[([^\]]*)\]/.exec(tokens);
    assert.ok(types, "TYPES in server/lsp/src/tokens.rs");
    const legend = [...types[1]!.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(legend.includes("character"));
    const ids = new Set(c.semanticTokenTypes.map((t) => t.id));
    const scopes = c.semanticTokenScopes[0]!.scopes;
    for (const t of [...legend, "place", "object", "lore"]) {
      assert.ok(ids.has(t), `semanticTokenTypes lacks ${t}`);
      assert.ok(scopes[t] && scopes[t].length > 0, `semanticTokenScopes lacks ${t}`);
    }
    const mods = /pub const MODIFIERS: &\[&str\] = &\[([^\]]*)\]/.exec(tokens);
    for (const m of [...(mods?.[1] ?? "").matchAll(/"([^"]+)"/g)]) assert.ok(c.semanticTokenModifiers.some((x) => x.id === m[1]), m[1]);
  });

  it("scenes read like prose: a book font, wrapped, no minimap, no line numbers, frontmatter folded (each a default the writer can override)", () => {
    const d = c.configurationDefaults;
    for (const lang of ["[markdown]", "[fountain]"]) {
      const s = d[lang]!;
      assert.ok(s, lang);
      assert.notEqual(s["editor.wordWrap"], "off", lang);
      assert.equal(s["editor.minimap.enabled"], false, lang);
      assert.equal(s["editor.lineNumbers"], "off", lang);
      assert.ok(Number(s["editor.lineHeight"]) >= 1.4, `${lang}: a comfortable line height`);
      assert.equal(s["editor.foldingImportsByDefault"], true, `${lang}: the server marks the frontmatter as the fold to close`);
      assert.equal(s["editor.links"], false, `${lang}: names are not underlined as links`);
      assert.equal(s["editor.quickSuggestions"] && (s["editor.quickSuggestions"] as Record<string, boolean>).other, false, `${lang}: no completion popups while writing`);
    }
    assert.match(String(d["[markdown]"]!["editor.fontFamily"]), /serif$/, "prose: a proportional book font");
    assert.match(String(d["[fountain]"]!["editor.fontFamily"]), /Courier/, "screenplays: Courier, as the format expects");
    // The run store stays out of the Explorer; the usual exclusions stay.
    const ex = d["files.exclude"] as Record<string, boolean>;
    assert.equal(ex["**/.showrunner"], true);
    for (const k of ["**/.git", "**/.DS_Store"]) assert.equal(ex[k], true, k);
  });

  it("no mention is red: every kind maps to a quiet type or constant colour, never a tag, string or invalid scope", () => {
    for (const [kind, scopes] of Object.entries(c.semanticTokenScopes[0]!.scopes)) {
      for (const s of scopes) {
        assert.ok(!/^(entity\.name\.tag|string|invalid|markup\.deleted|keyword|support\.type\.property-name|constant\.numeric)/.test(s), `${kind} → ${s}`);
      }
    }
  });

  it("@types/vscode is not newer than engines.vscode (vsce refuses that)", () => {
    const types = pkg.devDependencies["@types/vscode"]!.replace(/^[~^]/, "");
    const engine = pkg.engines.vscode.replace(/^[~^]/, "");
    const [a, b] = [types, engine].map((v) => v.split(".").map(Number));
    assert.ok(a![0]! < b![0]! || (a![0] === b![0] && a![1]! <= b![1]!), `${types} > ${engine}`);
  });
});

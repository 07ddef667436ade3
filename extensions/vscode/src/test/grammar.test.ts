/** The Fountain grammar on the repository's fixtures and on focused samples. */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { linesWith, REPO_ROOT, scopesOf, textWith, tokenize } from "./tm";

const FIXTURES = path.join(REPO_ROOT, "tests", "fixtures", "fountain");
const CUE = "entity.name.type.character.fountain";
const HEADING = "markup.heading.scene-heading.fountain";
const EXT = "support.type.character-extension.fountain";
const DUAL = "keyword.operator.dual-dialogue.fountain";

/** `N: text` headings, `---`, then `N: NAME | EXT | dual` cues (1-based lines), as the server's tests read them. */
function readExpected(name: string): { headings: Map<number, string>; cues: Map<number, { name: string; ext: string; dual: boolean }> } {
  const [h = "", c = ""] = fs.readFileSync(path.join(FIXTURES, name), "utf8").split(/^---$/m);
  const headings = new Map<number, string>();
  for (const m of h.matchAll(/^(\d+): (.*)$/gm)) headings.set(Number(m[1]) - 1, m[2]!);
  const cues = new Map<number, { name: string; ext: string; dual: boolean }>();
  for (const m of c.matchAll(/^(\d+): (.*?) \| (.*?) \| (yes|no)$/gm)) cues.set(Number(m[1]) - 1, { name: m[2]!, ext: m[3]!.trim(), dual: m[4] === "yes" });
  return { headings, cues };
}

for (const fixture of ["full", "crlf"]) {
  describe(`fixture ${fixture}.fountain`, () => {
    const source = fs.readFileSync(path.join(FIXTURES, `${fixture}.fountain`), "utf8");
    const expected = readExpected(`${fixture}.expected.txt`);

    it("scopes exactly the scene headings the server finds", async () => {
      const lines = await tokenize("text.fountain", source);
      assert.deepEqual(linesWith(lines, HEADING), [...expected.headings.keys()].sort((a, b) => a - b));
      for (const [line, text] of expected.headings) assert.equal(lines[line]!.map((t) => t.text).join(""), text);
    });

    it("scopes exactly the character cues the server finds, with names and extensions", async () => {
      const lines = await tokenize("text.fountain", source);
      assert.deepEqual(linesWith(lines, CUE), [...expected.cues.keys()].sort((a, b) => a - b));
      const srcLines = source.split(/\r?\n/);
      for (const [line, cue] of expected.cues) {
        assert.equal(textWith(lines, line, CUE), cue.name, `name on line ${line + 1}`);
        assert.equal(textWith(lines, line, EXT), cue.ext, `extension on line ${line + 1}`);
        // The caret marks the second speaker of a pair; the first is only known from the next cue.
        if (srcLines[line]!.trimEnd().endsWith("^")) assert.equal(textWith(lines, line, DUAL), "^");
      }
    });
  });
}

describe("every Fountain element in full.fountain", () => {
  const source = fs.readFileSync(path.join(FIXTURES, "full.fountain"), "utf8");
  const src = source.split("\n");
  const at = (prefix: string) => {
    const i = src.findIndex((l) => l.startsWith(prefix));
    assert.ok(i >= 0, `no line starts with ${prefix}`);
    return i;
  };

  it("title page: keys, values and indented continuations", async () => {
    const lines = await tokenize("text.fountain", source);
    assert.ok(scopesOf(lines, 0, "Title").includes("keyword.other.title-page.key.fountain"));
    assert.ok(scopesOf(lines, 0, "Title").includes("meta.title-page.fountain"));
    assert.ok(scopesOf(lines, at("Draft date"), "14 March 2025").includes("string.unquoted.title-page.value.fountain"));
    assert.ok(scopesOf(lines, at("    7 Quay Lane"), "7 Quay Lane").includes("string.unquoted.title-page.value.fountain"));
    // The title `_**THE KEEPER'S LAMP**_` is underlined bold.
    const title = scopesOf(lines, 1, "THE KEEPER'S LAMP");
    assert.ok(title.includes("markup.bold.fountain") && title.includes("markup.underline.fountain"));
    assert.ok(scopesOf(lines, at("Parent:"), "act-one").includes("meta.title-page.fountain"));
    // The title page ends at the first blank line.
    assert.ok(!scopesOf(lines, at("# ACT ONE"), "ACT ONE").includes("meta.title-page.fountain"));
  });

  it("sections, synopses and the page break", async () => {
    const lines = await tokenize("text.fountain", source);
    assert.ok(scopesOf(lines, at("# ACT ONE"), "ACT ONE").includes("entity.name.section.fountain"));
    assert.ok(scopesOf(lines, at("## The Tower"), "##").includes("punctuation.definition.heading.fountain"));
    const syn = at("= Zoë keeps");
    assert.ok(scopesOf(lines, syn, "Zoë keeps the lamp alone on the night of the gale; the sea gives up a stranger.").includes("comment.line.synopsis.fountain"));
    assert.ok(scopesOf(lines, at("==="), "===").includes("meta.separator.page-break.fountain"));
  });

  it("scene headings: place keyword, forced dot, scene numbers", async () => {
    const lines = await tokenize("text.fountain", source);
    const l = at("INT./EXT.");
    assert.ok(scopesOf(lines, l, "INT./EXT").includes("keyword.other.scene-heading.place.fountain"));
    assert.ok(scopesOf(lines, l, "OLGA'S CAR - MOVING - DAY").includes("entity.name.section.scene-heading.fountain"));
    assert.ok(scopesOf(lines, l, "5").includes("constant.numeric.scene-number.fountain"));
    const forced = at(".THE LAMP ROOM");
    assert.ok(scopesOf(lines, forced, ".").includes("punctuation.definition.scene-heading.forced.fountain"));
    assert.ok(scopesOf(lines, forced, "1A").includes("constant.numeric.scene-number.fountain"));
  });

  it("parentheticals, dialogue, lyrics and the two-space line inside dialogue", async () => {
    const lines = await tokenize("text.fountain", source);
    assert.ok(scopesOf(lines, at("(into the handset)"), "(into the handset)").includes("entity.other.attribute-name.parenthetical.fountain"));
    const d = at("Nine reads.");
    assert.ok(scopesOf(lines, d, "Nine reads. Barely. Say again?").includes("meta.dialogue.fountain"));
    // "  " keeps LI LEI's speech going: the line after it is still dialogue.
    const after = at("And Zoë -- a boat");
    assert.ok(scopesOf(lines, after, "And Zoë -- a boat left Kessel Point an hour ago. It hasn't called in.").includes("meta.dialogue.fountain"));
    const lyric = at("~Keep the lamp");
    assert.ok(scopesOf(lines, lyric, "~").includes("punctuation.definition.lyrics.fountain"));
    assert.ok(scopesOf(lines, lyric, "Keep the lamp and keep the flame,").includes("markup.italic.lyrics.fountain"));
    // Action after a blank line is no longer dialogue.
    assert.ok(!scopesOf(lines, at("Zoë sets the handset down."), "Zoë sets the handset down. Looks out at the black water.").includes("meta.dialogue-block.fountain"));
  });

  it("forced character @McCLANE keeps its lowercase letters", async () => {
    const lines = await tokenize("text.fountain", source);
    const l = at("@McCLANE");
    assert.ok(scopesOf(lines, l, "@").includes("punctuation.definition.character.forced.fountain"));
    assert.equal(textWith(lines, l, CUE), "McCLANE");
  });

  it("transitions (natural and forced), centred text and forced action", async () => {
    const lines = await tokenize("text.fountain", source);
    assert.ok(scopesOf(lines, at("CUT TO:"), "CUT TO:").includes("keyword.control.transition.fountain"));
    const smash = at("> SMASH TO BLACK.");
    assert.ok(scopesOf(lines, smash, ">").includes("punctuation.definition.transition.forced.fountain"));
    assert.ok(scopesOf(lines, smash, "SMASH TO BLACK.").includes("keyword.control.transition.fountain"));
    const end = at("> THE END <");
    assert.ok(scopesOf(lines, end, "THE END").includes("markup.other.centered.fountain"));
    assert.ok(!scopesOf(lines, end, "THE END").includes("keyword.control.transition.fountain"));
    const boom = at("!BOOM.");
    assert.ok(scopesOf(lines, boom, "!").includes("punctuation.definition.action.forced.fountain"));
    assert.ok(!linesWith(lines, CUE).includes(boom));
    // All-caps action ending in a full stop is not a cue.
    assert.ok(!linesWith(lines, CUE).includes(at("SILENCE.")));
  });

  it("notes inline and across lines; the boneyard hides a whole scene", async () => {
    const lines = await tokenize("text.fountain", source);
    assert.ok(scopesOf(lines, at("A RADIO hisses"), "Sound: let the hiss run under the whole scene.").includes("comment.block.note.fountain"));
    const n = at("[[Note for the director:");
    assert.ok(scopesOf(lines, n + 1, "keep Olga's face in shadow here,").includes("comment.block.note.fountain"));
    assert.ok(scopesOf(lines, n + 2, "]]").includes("punctuation.definition.comment.end.fountain"));
    const b = at("/*");
    assert.ok(scopesOf(lines, b + 1, "INT. CELLAR - NIGHT").includes("comment.block.boneyard.fountain"));
    assert.ok(!scopesOf(lines, b + 1, "INT. CELLAR - NIGHT").includes(HEADING));
    assert.ok(scopesOf(lines, b + 3, "ZOË").includes("comment.block.boneyard.fountain"));
    assert.ok(!linesWith(lines, CUE).includes(b + 3));
  });

  it("emphasis: italic, bold, bold italic, underline and escapes", async () => {
    const lines = await tokenize("text.fountain", source);
    assert.ok(scopesOf(lines, at("She winds the clockwork."), "turn").includes("markup.italic.fountain"));
    assert.ok(scopesOf(lines, at("We found a **man**"), "man").includes("markup.bold.fountain"));
    const bi = scopesOf(lines, at("***Nobody moves.***"), "Nobody moves.");
    assert.ok(bi.includes("markup.bold.fountain") && bi.includes("markup.italic.fountain"));
    assert.ok(scopesOf(lines, at("Everything in that water"), "Monday").includes("markup.underline.fountain"));
    const esc = at("\\*Dad\\*?");
    assert.ok(scopesOf(lines, esc, "\\*").includes("constant.character.escape.fountain"));
    assert.ok(!scopesOf(lines, esc, "Dad").includes("markup.italic.fountain"));
  });
});

describe("focused samples", () => {
  it("dual dialogue with extensions, and Unicode names", async () => {
    const text = [
      "INT. KITCHEN - DAY",
      "",
      "ZOË (V.O.)",
      "Are you listening?",
      "",
      "ŁUKASZ (CONT'D) ^",
      "(softly)",
      "Always.",
      "",
      "李雷 (O.S.)^",
      "准备好了。",
      "",
      "@McCLANE ^",
      "Miss.",
      "",
      "HANS (on the radio)",
      "Copy.",
    ].join("\n");
    const lines = await tokenize("text.fountain", text);
    assert.equal(textWith(lines, 2, CUE), "ZOË");
    assert.equal(textWith(lines, 2, EXT), "(V.O.)");
    assert.equal(textWith(lines, 5, CUE), "ŁUKASZ");
    assert.equal(textWith(lines, 5, EXT), "(CONT'D)");
    assert.equal(textWith(lines, 5, DUAL), "^");
    assert.equal(textWith(lines, 9, CUE), "李雷");
    assert.equal(textWith(lines, 9, DUAL), "^");
    assert.ok(scopesOf(lines, 10, "准备好了。").includes("meta.dialogue.fountain"));
    assert.equal(textWith(lines, 12, CUE), "McCLANE");
    assert.equal(textWith(lines, 12, DUAL), "^");
    // Lowercase extensions are allowed after an all-caps name.
    assert.equal(textWith(lines, 15, CUE), "HANS");
    assert.equal(textWith(lines, 15, EXT), "(on the radio)");
  });

  it("lines that look like cues but are not", async () => {
    const text = ["Zoë runs.", "", "BOOM!", "", "FADE TO:", "", "1984", "", "Łukasz (30s) waits.", "", "EXTRA ROOM"].join("\n");
    const lines = await tokenize("text.fountain", text);
    assert.deepEqual(linesWith(lines, CUE), [10]); // only "EXTRA ROOM": an all-caps line is a cue when dialogue may follow
    assert.ok(scopesOf(lines, 4, "FADE TO:").includes("keyword.control.transition.fountain"));
    assert.ok(!linesWith(lines, HEADING).includes(10), "EXTRA is not EXT.");
  });

  it("a document without a title page does not start one", async () => {
    const lines = await tokenize("text.fountain", "CUT TO:\n\nINT. HOUSE - DAY\n");
    assert.ok(!scopesOf(lines, 0, "CUT TO:").includes("meta.title-page.fountain"));
    assert.ok(scopesOf(lines, 0, "CUT TO:").includes("keyword.control.transition.fountain"));
    assert.deepEqual(linesWith(lines, HEADING), [2]);
  });

  it("scene headings in any case with I/E and EST, but not words starting with INT", async () => {
    const lines = await tokenize("text.fountain", "int. house - day\n\nI/E CAR\n\nINTERIOR DESIGN IS HARD\n\nEST. BRIDGE");
    assert.deepEqual(linesWith(lines, HEADING), [0, 2, 6]);
  });
});

describe("scene frontmatter injection (into Markdown)", () => {
  const scene = ["---", "id: arrival", "pov: alice", "parent: chapter-01", "context: [lighthouse, tom]", "tags: [storm]", "---", "pov: alice is not frontmatter here"].join("\n");

  it("marks Showrunner's keys and the bucket ids they name", async () => {
    const lines = await tokenize("text.html.markdown", scene);
    assert.ok(scopesOf(lines, 1, "id").includes("support.type.property-name.showrunner"));
    assert.ok(scopesOf(lines, 2, "alice").includes("variable.other.bucket-reference.showrunner"));
    assert.ok(scopesOf(lines, 3, "chapter-01").includes("variable.other.bucket-reference.showrunner"));
    assert.ok(scopesOf(lines, 4, "lighthouse").includes("variable.other.bucket-reference.showrunner"));
    assert.ok(scopesOf(lines, 4, "tom").includes("variable.other.bucket-reference.showrunner"));
  });

  it("leaves other keys to YAML and the body alone", async () => {
    const lines = await tokenize("text.html.markdown", scene);
    assert.ok(scopesOf(lines, 5, "tags").includes("entity.name.tag.yaml"));
    assert.ok(!scopesOf(lines, 5, "tags").includes("support.type.property-name.showrunner"));
    assert.ok(lines[7]!.every((t) => !t.scopes.includes("variable.other.bucket-reference.showrunner")));
  });
});

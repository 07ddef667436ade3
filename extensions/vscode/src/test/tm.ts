/** Test helper: tokenizes text with the repository's TextMate grammars (vscode-textmate + oniguruma). */
import * as fs from "node:fs";
import * as path from "node:path";
import * as vsctm from "vscode-textmate";
import * as onig from "vscode-oniguruma";

export const EXTENSION_ROOT = path.resolve(__dirname, "..", "..", "..");
export const REPO_ROOT = path.resolve(EXTENSION_ROOT, "..", "..");
export const GRAMMARS = path.join(REPO_ROOT, "grammars");

let registry: Promise<vsctm.Registry> | undefined;

/** A stand-in for VS Code's Markdown grammar: only its frontmatter rule, copied in shape. */
const MARKDOWN_STUB = {
  scopeName: "text.html.markdown",
  patterns: [
    {
      begin: "\\A(-{3})\\s*$",
      beginCaptures: { 1: { name: "punctuation.definition.tag.begin.markdown" } },
      contentName: "meta.embedded.block.frontmatter",
      while: "^(?!(-{3}|\\.{3})\\s*$)",
      patterns: [{ include: "source.yaml" }],
    },
  ],
};

/** A stand-in for the YAML grammar: keys and plain values. */
const YAML_STUB = {
  scopeName: "source.yaml",
  patterns: [{ match: "^([\\w-]+)(:)(.*)$", captures: { 1: { name: "entity.name.tag.yaml" }, 3: { name: "string.unquoted.plain.out.yaml" } } }],
};

function load(): Promise<vsctm.Registry> {
  registry ??= (async () => {
    const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
    await onig.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    return new vsctm.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (patterns: string[]) => new onig.OnigScanner(patterns),
        createOnigString: (s: string) => new onig.OnigString(s),
      }),
      loadGrammar: (scopeName: string) => {
        const file = (name: string) => vsctm.parseRawGrammar(fs.readFileSync(path.join(GRAMMARS, name), "utf8"), name);
        switch (scopeName) {
          case "text.fountain":
            return Promise.resolve(file("fountain.tmLanguage.json"));
          case "showrunner.frontmatter.injection":
            return Promise.resolve(file("showrunner-frontmatter.injection.tmLanguage.json"));
          case "text.html.markdown":
            return Promise.resolve(vsctm.parseRawGrammar(JSON.stringify(MARKDOWN_STUB), "markdown.json"));
          case "source.yaml":
            return Promise.resolve(vsctm.parseRawGrammar(JSON.stringify(YAML_STUB), "yaml.json"));
          default:
            return Promise.resolve(null);
        }
      },
      getInjections: (scopeName: string) => (scopeName === "text.html.markdown" ? ["showrunner.frontmatter.injection"] : undefined),
    });
  })();
  return registry;
}

export interface Token {
  text: string;
  scopes: string[];
}

/** Tokens of every line (lines split on LF or CRLF, as VS Code hands them to the tokenizer). */
export async function tokenize(scopeName: string, text: string): Promise<Token[][]> {
  const grammar = await (await load()).loadGrammar(scopeName);
  if (!grammar) throw new Error(`no grammar ${scopeName}`);
  let stack = vsctm.INITIAL;
  return text.split(/\r?\n/).map((line) => {
    const r = grammar.tokenizeLine(line, stack);
    stack = r.ruleStack;
    return r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}

/** The scopes of the first token on `line` whose text is `text` (throws when there is none). */
export function scopesOf(lines: Token[][], line: number, text: string): string[] {
  const t = lines[line]?.find((tok) => tok.text === text);
  if (!t) throw new Error(`no token ${JSON.stringify(text)} on line ${line}: ${JSON.stringify(lines[line]?.map((x) => x.text))}`);
  return t.scopes;
}

/** The text of the tokens on `line` carrying `scope`, joined. */
export function textWith(lines: Token[][], line: number, scope: string): string {
  return (lines[line] ?? []).filter((t) => t.scopes.includes(scope)).map((t) => t.text).join("");
}

export function linesWith(lines: Token[][], scope: string): number[] {
  return lines.flatMap((toks, i) => (toks.some((t) => t.scopes.includes(scope)) ? [i] : []));
}

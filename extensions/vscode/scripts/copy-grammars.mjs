// Copies the grammars the extension ships from the repository's grammars/ folder (their single
// source) into syntaxes/, which the .vsix packages. Run by `npm run compile`.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const from = join(here, "..", "..", "..", "grammars");
const to = join(here, "..", "syntaxes");
mkdirSync(to, { recursive: true });
for (const name of ["fountain.tmLanguage.json", "showrunner-frontmatter.injection.tmLanguage.json"]) {
  copyFileSync(join(from, name), join(to, name));
}

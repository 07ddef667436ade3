// Copies the browser build of the webview libraries from node_modules (installed from the
// committed lock file) into media/vendor/, which the .vsix packages and the Story Graph panel
// loads (its CSP allows scripts from media/ only). Run by `npm run compile`.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "..", "node_modules");
const to = join(here, "..", "media", "vendor");
mkdirSync(to, { recursive: true });
copyFileSync(join(modules, "cytoscape", "dist", "cytoscape.min.js"), join(to, "cytoscape.min.js"));
copyFileSync(join(modules, "cytoscape", "LICENSE"), join(to, "cytoscape.LICENSE"));

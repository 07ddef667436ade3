#!/usr/bin/env bash
# Everything the VS Code extension's CI checks, from a clean checkout: install (npm ci from the
# committed lock file, no install scripts), strict compile, lint, unit and grammar tests, and a
# packaged .vsix in extensions/vscode/dist/. Idempotent; needs no terminal and no stdin.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-true}" npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false npm_config_progress=false

step() { printf '\n== vscode: %s\n' "$*"; }

step "install (npm ci)"
lock_sha="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ -f node_modules/.showrunner-lock-sha && "$(cat node_modules/.showrunner-lock-sha)" == "$lock_sha" ]]; then
  echo "node_modules matches package-lock.json; skipping npm ci"
else
  npm ci --ignore-scripts --no-audit --no-fund </dev/null
  echo "$lock_sha" > node_modules/.showrunner-lock-sha
fi

step "compile (strict TypeScript)"
rm -rf out
npm run --silent compile </dev/null

step "lint (eslint, warnings are errors)"
npx --no-install eslint --max-warnings 0 src </dev/null

step "unit and grammar tests (node --test)"
node --test out/src/test/*.test.js </dev/null

step "package (.vsix)"
rm -rf dist
mkdir -p dist
version="$(node -p 'require("./package.json").version')"
vsix="dist/showrunner-${version}.vsix"
npx --no-install vsce package --no-update-package-json --skip-license --allow-missing-repository --out "$vsix" </dev/null
# The package must hold the compiled extension, the grammars, the webviews (with the vendored
# cytoscape) and the client library,
# and none of the tests or sources.
listing="$(unzip -Z1 "$vsix")"
for need in extension/package.json extension/readme.md extension/out/src/extension.js extension/out/src/reviewState.js \
  extension/syntaxes/fountain.tmLanguage.json extension/syntaxes/showrunner-frontmatter.injection.tmLanguage.json \
  extension/media/review.js extension/node_modules/vscode-languageclient/package.json \
  extension/out/src/pictures.js extension/media/graph.js extension/media/pictures.js extension/media/pictures.css \
  extension/media/vendor/cytoscape.min.js extension/media/vendor/cytoscape.LICENSE; do
  grep -qxF "$need" <<<"$listing" || { echo "bad package: $need is missing from $vsix" >&2; exit 1; }
done
if grep -E '^extension/(src/|out/src/test/|node_modules/(typescript|@vscode/vsce|eslint)/)' <<<"$listing" | head -3 | grep -q .; then
  echo "bad package: sources, tests or build tools are in $vsix" >&2
  exit 1
fi
echo "$vsix: $(wc -l <<<"$listing") files, contents checked"

step "all checks passed"

#!/usr/bin/env bash
# End-to-end: install the packaged .vsix into code-server, open a scene in Debian's chromium
# (driven by playwright-core) and check a hover from the real `showrunner lsp` and the Context
# view. Needs root for apt-get (chromium, ripgrep, libkrb5-dev) the first time.
#   SHOWRUNNER_BIN  the server binary (default: target/release/showrunner, built if missing)
#   VSIX            the package (default: extensions/vscode/dist/showrunner-*.vsix, built if missing)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export CI="${CI:-true}" npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false npm_config_progress=false

step() { printf '\n== vscode e2e: %s\n' "$*"; }

step "system packages (chromium, ripgrep, libkrb5-dev)"
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v rg >/dev/null || missing+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if ((${#missing[@]})); then
  apt-get update -qq </dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" </dev/null >/dev/null
fi

step "code-server and playwright-core (npm ci)"
# code-server's VS Code installs @vscode/ripgrep, whose postinstall downloads a prebuilt rg unless
# its cache holds one: give it Debian's.
rg_cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
rg_tar="$rg_cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [[ ! -s "$rg_tar" ]]; then
  mkdir -p "$rg_cache"
  tmp="$(mktemp -d)"
  cp "$(command -v rg)" "$tmp/rg"
  tar czf "$rg_tar" -C "$tmp" rg
  rm -rf "$tmp"
fi
cd "$here"
lock_sha="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ -f node_modules/.showrunner-lock-sha && "$(cat node_modules/.showrunner-lock-sha)" == "$lock_sha" ]]; then
  echo "node_modules matches package-lock.json; skipping npm ci"
else
  npm_config_yes=true npm_config_unsafe_perm=true npm ci --foreground-scripts --no-audit --no-fund </dev/null >"$here/npm-ci.log" 2>&1 \
    || { tail -40 "$here/npm-ci.log"; exit 1; }
  echo "$lock_sha" > node_modules/.showrunner-lock-sha
fi

step "server binary and .vsix"
export SHOWRUNNER_BIN="${SHOWRUNNER_BIN:-$repo/target/release/showrunner}"
if [[ ! -x "$SHOWRUNNER_BIN" ]]; then
  (cd "$repo" && cargo build --release --locked -p showrunner-cli)
fi
if [[ -z "${VSIX:-}" ]]; then
  shopt -s nullglob
  found=("$repo"/extensions/vscode/dist/showrunner-*.vsix)
  if ((${#found[@]} == 0)); then
    bash "$repo/extensions/vscode/scripts/test.sh"
    found=("$repo"/extensions/vscode/dist/showrunner-*.vsix)
  fi
  export VSIX="${found[0]}"
fi
echo "server: $SHOWRUNNER_BIN"
echo "vsix:   $VSIX"

step "code-server + chromium"
node --test e2e.test.mjs </dev/null

#!/usr/bin/env bash
# `showrunner mcp` end to end with the official MCP Python SDK (`mcp` from PyPI) as the client,
# and a running `showrunner lsp` for the proposal that waits as a gate there.
# The SDK and pytest live in a virtualenv under ${SHOWRUNNER_CACHE:-~/.cache/showrunner}/venv-mcp,
# made once (idempotent) and kept outside the clone; nothing depends on it existing beforehand.
# Usage: SHOWRUNNER_BIN=target/debug/showrunner tests/mcp/run.sh [pytest args]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${SHOWRUNNER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/showrunner}"
venv="$cache/venv-mcp"
# The SDK version the tests were written against; a newer one is a change to make on purpose.
MCP_VERSION="2.3.0"

if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('mcp') != '$MCP_VERSION')" 2>/dev/null \
   || ! "$venv/bin/python" -c "import pytest" 2>/dev/null; then
  echo "== installing the MCP Python SDK $MCP_VERSION and pytest into $venv" >&2
  mkdir -p "$cache"
  [[ -x "$venv/bin/python" ]] || { rm -rf "$venv"; python3 -m venv "$venv"; }
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "mcp==$MCP_VERSION" pytest >&2
fi

bin="${SHOWRUNNER_BIN:-showrunner}"
[[ "$bin" == */* ]] && bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
export SHOWRUNNER_BIN="$bin"
# Logs go to a state folder of the test's own, never the user's.
export XDG_STATE_HOME="$(mktemp -d)"
trap 'rm -rf "$XDG_STATE_HOME"' EXIT
cd "$here"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" test_mcp.py

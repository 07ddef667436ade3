#!/usr/bin/env bash
# `showrunner export` checked by independent readers: DOCX read back with python-docx (PyPI), EPUB
# validated by epubcheck (Debian), FDX parsed back with Python's own XML parser, and real
# screenplays (the afterwriting npm package's samples, `npm pack`ed once into the cache) round-
# tripped through FDX. python-docx lives
# in a virtualenv under ${SHOWRUNNER_CACHE:-~/.cache/showrunner}/venv-exports, made once
# (idempotent), outside the clone. epubcheck: .ci/run installs it; when it is not installed here
# the EPUB check says so and is skipped.
# Usage: SHOWRUNNER_BIN=target/debug/showrunner tests/exports/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${SHOWRUNNER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/showrunner}"
venv="$cache/venv-exports"
# The version the tests were written against; a newer one is a change to make on purpose.
DOCX_VERSION="1.2.0"

if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('python-docx') != '$DOCX_VERSION')" 2>/dev/null; then
  echo "== installing python-docx $DOCX_VERSION into $venv" >&2
  mkdir -p "$cache"
  [[ -x "$venv/bin/python" ]] || { rm -rf "$venv"; python3 -m venv "$venv"; }
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "python-docx==$DOCX_VERSION" >&2
fi

bin="${SHOWRUNNER_BIN:-showrunner}"
[[ "$bin" == */* ]] && bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
export SHOWRUNNER_BIN="$bin"
export XDG_STATE_HOME="$(mktemp -d)"
trap 'rm -rf "$XDG_STATE_HOME"' EXIT
exec "$venv/bin/python" "$here/check_exports.py" "$@"

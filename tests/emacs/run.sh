#!/usr/bin/env bash
# Emacs end to end: Debian's emacs-nox and elpa-eglot (1.9: no code lenses, no showDocument), set
# up exactly as the README's Emacs section says, against the real `showrunner lsp`
# ($SHOWRUNNER_BIN, default target/debug/showrunner, built when missing) and the scripted model
# server of the Neovim tests (tests/nvim/model_server.py). A rewrite's two gates are answered
# through window/showMessageRequest; see test.el.
#
# Installs emacs-nox, elpa-eglot and elpa-markdown-mode with apt-get when they are missing and
# this is root; otherwise says why it cannot run and exits 2 (tests/run reports it as skipped).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"

packages=(emacs-nox elpa-eglot elpa-markdown-mode)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "tests/emacs: needs ${missing[*]} (Debian packages) and is not root to install them" >&2
    exit 2
  fi
fi
command -v python3 >/dev/null || { echo "tests/emacs: python3 is needed for the model server" >&2; exit 1; }

bin="${SHOWRUNNER_BIN:-$repo/target/debug/showrunner}"
[[ "$bin" = /* ]] || bin="$repo/$bin"
if [[ ! -x "$bin" ]]; then
  echo "== building the showrunner binary (cargo build -p showrunner-cli)"
  cargo build --locked -p showrunner-cli
fi

scratch="$(mktemp -d)"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

# The model's one answer (the rewrite); the scripted server prints its port first.
printf '[{"text": "Łódź stała z dala — wznosiła się, opadała; «czekała»."}]\n' >"$scratch/script.json"
coproc MODEL { exec python3 tests/nvim/model_server.py --script "$scratch/script.json" --log "$scratch/requests.jsonl" 2>"$scratch/server.err"; }
server_pid=$MODEL_PID
line=""
read -r -t 30 line <&"${MODEL[0]}" || true
port="${line#PORT }"
[[ "$line" == "PORT "* && -n "$port" ]] || { cat "$scratch/server.err" >&2; echo "tests/emacs: the model server did not start" >&2; exit 1; }

# The example story, outside any repository, its model at the scripted server.
mkdir -p "$scratch/work"
(cd "$scratch/work" && "$bin" init story --example >/dev/null)
project="$scratch/work/story"
sed -i "s#http://127.0.0.1:11434/v1#http://127.0.0.1:$port/v1#" "$project/showrunner.yaml"

echo "== Emacs: $(emacs --version | head -n1), $("$bin" --version)"
export SHOWRUNNER_README="$repo/README.md" SHOWRUNNER_PROJECT="$project"
export HOME="$scratch/home" XDG_CONFIG_HOME="$scratch/config"
mkdir -p "$HOME" "$XDG_CONFIG_HOME"
PATH="$(dirname "$bin"):$PATH" timeout --kill-after=10 "${SHOWRUNNER_EMACS_TEST_TIMEOUT:-180}" \
  emacs --batch -l "$repo/tests/emacs/test.el" </dev/null

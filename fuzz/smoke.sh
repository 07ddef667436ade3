#!/usr/bin/env bash
# A bounded fuzz smoke pass for CI: each target for SMOKE_SECONDS (default 20) from the committed
# seeds, one fuzzer at a time. Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); without it
# this prints a notice and exits 0 (the seeds and reproducers still run in `cargo test`:
# server/model/tests/fuzz_regressions.rs).
#
# Stable Rust: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its nightly flags. The address sanitizer is
# on, as in the long runs (SMOKE_SANITIZER=none turns it off). Each fuzzer is one process (no
# -jobs/-workers: those fork a child that writes fuzz-N.log into the current folder).
set -euo pipefail

cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${SMOKE_SECONDS:-20}"
SANITIZER="${SMOKE_SANITIZER:-address}"
TARGETS=(bucket_yaml scene fountain matcher typing positions sync lsp_frames)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz/smoke.sh: cargo-fuzz is not installed (cargo install cargo-fuzz --locked); skipping the fuzz smoke pass"
    exit 0
fi

export RUSTC_BOOTSTRAP=1
echo "fuzz/smoke.sh: building ${#TARGETS[@]} targets (sanitizer: $SANITIZER)"
cargo fuzz build --debug-assertions --sanitizer "$SANITIZER" </dev/null

# A fresh corpus each run, in a temporary folder: the committed seeds are never written to.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=()
for t in "${TARGETS[@]}"; do
    mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
    echo "fuzz/smoke.sh: $t for ${SECONDS_PER_TARGET}s"
    if ! cargo fuzz run --debug-assertions --sanitizer "$SANITIZER" "$t" "$work/corpus/$t" "fuzz/seeds/$t" \
        -- -max_total_time="$SECONDS_PER_TARGET" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/$t/" \
        </dev/null >"$work/$t.log" 2>&1; then
        tail -n 40 "$work/$t.log"
        mkdir -p fuzz/artifacts/"$t"
        cp "$work/artifacts/$t/"* fuzz/artifacts/"$t"/ 2>/dev/null || true
        failed+=("$t")
    fi
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec)|^(Done|INFO: Done)' "$work/$t.log" || true
done

if ((${#failed[@]})); then
    echo "fuzz/smoke.sh: crashes in: ${failed[*]} (inputs under fuzz/artifacts/)"
    exit 1
fi
echo "fuzz/smoke.sh: ${#TARGETS[@]} targets ran ${SECONDS_PER_TARGET}s each without a crash"

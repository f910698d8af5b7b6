#!/usr/bin/env bash
# Fuzzes the scenario loader (tests/fuzz_loader.rs) for a long time: CASES inputs in all
# (default 1,000,000), split evenly over its three generators (arbitrary bytes, mutated
# fixtures, structured documents), in release mode. A failing input is shrunk and its seed
# kept in proptest-regressions/, to be checked in. Ends with the line
#   fuzz-loader: N cases in T s
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CASES="${CASES:-1000000}"
PER=$(( (CASES + 2) / 3 ))
cd "$ROOT"
cargo test --release --test fuzz_loader --no-run --quiet
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
start=$EPOCHREALTIME
status=0
PROPTEST_CASES="$PER" cargo test --release --quiet --test fuzz_loader -- --nocapture > "$LOG" 2>&1 || status=$?
end=$EPOCHREALTIME
grep -E 'cases in|test result' "$LOG" || true
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
if [ "$status" -ne 0 ]; then
    cat "$LOG" >&2
    echo "fuzz-loader: a property failed" >&2
    exit 1
fi
printf 'fuzz-loader: %d cases in %s s\n' $(( PER * 3 )) "$elapsed"

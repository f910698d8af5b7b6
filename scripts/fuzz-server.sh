#!/usr/bin/env bash
# Fuzzes the reference server in process (tests/fuzz_server.rs) for a long time: CASES
# random requests (default 300,000) over every operation of the catalogue, in release
# mode. A failing input is shrunk and its seed kept in proptest-regressions/, to be
# checked in. Ends with the test's own line
#   fuzz-server: N requests in T s (M cases not valid HTTP); statuses {...}
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CASES="${CASES:-300000}"
cd "$ROOT"
cargo test --release --test fuzz_server --no-run --quiet
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
status=0
RUST_BACKTRACE=0 PROPTEST_CASES="$CASES" cargo test --release --quiet --test fuzz_server -- --nocapture > "$LOG" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    cat "$LOG" >&2
    echo "fuzz-server: a property failed" >&2
    exit 1
fi
grep -E '^fuzz-server:' "$LOG"

#!/usr/bin/env bash
# The hostile answers of the test double of tests/it/double.rs (run as
# examples/hostile_double.rs) through the release binary under /usr/bin/time -v: an endless
# body, a gzip bomb (1 MB inflating to 1 GiB), 10 GB announced, a megabyte of headers, a
# redirect loop, a body that stalls, an answer that never starts, a reset and bad JSON. Each
# run must end on its own (5 s request timeout), failing its step with the reason; prints
# each reason and the peak resident memory, ending with the line
#   hostile-memory: peak RSS N kB (worst of <cases>)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cd "$ROOT"
cargo build --release --quiet --bin bpharness --example hostile_double
BIN="$TARGET_DIR/release/bpharness"
OUT="$(mktemp -d)"
"$TARGET_DIR/release/examples/hostile_double" > "$OUT/url" &
DOUBLE=$!
trap 'kill "$DOUBLE" 2>/dev/null || true; rm -rf "$OUT"' EXIT
for _ in $(seq 1 100); do
    [ -s "$OUT/url" ] && break
    sleep 0.05
done
URL="$(head -n 1 "$OUT/url")"
[ -n "$URL" ] || { echo "the double did not start" >&2; exit 1; }
worst=0
CASES=(endless gzip-bomb ten-gigabytes huge-headers redirect-loop stalls-mid-body never-answers reset bad-json)
for case in "${CASES[@]}"; do
    cat > "$OUT/$case.yaml" <<YAML
name: $case
steps:
  - name: get
    request:
      method: GET
      path: /v1/chat/users/$case
YAML
    status=0
    NO_COLOR=1 /usr/bin/time -v "$BIN" run "$OUT/$case.yaml" --target "$URL" --token bp_pat_hostile \
        --bot-id bot_01JDOUBLE0000000000000000000 --timeout 5 --report-dir "$OUT/reports-$case" \
        > /dev/null 2> "$OUT/$case.log" || status=$?
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$OUT/$case.log")
    elapsed=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$OUT/$case.log")
    reason=$(grep -m 1 -o 'response .*\|the connection .*\|no answer .*\|body is not valid JSON.*\|redirect .*' "$OUT/$case.log" || true)
    printf '%s: exit %d in %s, peak RSS %s kB: %s\n' "$case" "$status" "$elapsed" "$rss" "$reason"
    [ "$status" -eq 1 ] || { echo "$case: expected exit 1 (a check failed)" >&2; tail -20 "$OUT/$case.log" >&2; exit 1; }
    [ "$rss" -gt "$worst" ] && worst=$rss
done
printf 'hostile-memory: peak RSS %d kB (worst of %s)\n' "$worst" "${CASES[*]}"

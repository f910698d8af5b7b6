#!/usr/bin/env bash
# Cases per second of `bpharness fuzz` and of Schemathesis, side by side, each against a
# fresh `bpharness serve` (release build) on loopback, Schemathesis reading the contract
# exported by `bpharness schemas openapi`.
#
#   scripts/bench-fuzz.sh                    # Schemathesis gets 60 s
#   BENCH_SECONDS=30 scripts/bench-fuzz.sh
#
#   bpharness fuzz  default settings (all four phases, 40 examples, 16 in flight), seed 1
#   schemathesis    every default phase, --workers auto, --max-time BENCH_SECONDS
# Schemathesis is installed from PyPI into a virtualenv (target/bench-venv, kept between
# runs; SCHEMATHESIS_VERSION pins it, default 4.32.*). Only 127.0.0.1 is used.
# Ends with
#   bench-fuzz: bpharness X cases/s, schemathesis Y cases/s, ratio R
set -euo pipefail

SECONDS_BUDGET="${BENCH_SECONDS:-60}"
ST_VERSION="${SCHEMATHESIS_VERSION:-4.32.*}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ "$SECONDS_BUDGET" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_SECONDS must be a whole number" >&2; exit 2; }
log() { echo "bench-fuzz: $*" >&2; }
die() { echo "bench-fuzz: error: $*" >&2; exit 1; }

cd "$ROOT"
log "building bpharness (release)"
cargo build --release --quiet --bin bpharness
target_dir="$(cargo metadata --format-version 1 --no-deps | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)"
BPHARNESS="$target_dir/release/bpharness"
VENV="$target_dir/bench-venv"
if [[ ! -x "$VENV/bin/schemathesis" ]]; then
    log "installing schemathesis $ST_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "schemathesis==$ST_VERSION"
fi

TMP="$(mktemp -d)"
SERVER_PID=""
stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}
cleanup() { stop_server; rm -rf "$TMP"; }
trap cleanup EXIT

# Starts a fresh reference server; sets URL TOKEN BOT WORKSPACE OTHER_BOT.
start_server() {
    "$BPHARNESS" serve --listen 127.0.0.1:0 > "$TMP/serve.out" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        grep -q '^bot id:' "$TMP/serve.out" 2>/dev/null && break
        sleep 0.05
    done
    URL="$(sed -n 's/^url: //p' "$TMP/serve.out")"
    TOKEN="$(sed -n 's/^token: //p' "$TMP/serve.out")"
    BOT="$(sed -n 's/^bot id: //p' "$TMP/serve.out")"
    WORKSPACE="$(sed -n 's/^workspace id: //p' "$TMP/serve.out")"
    OTHER_BOT="$(sed -n 's/^other bot id: //p' "$TMP/serve.out")"
    [[ "$URL" == http://127.0.0.1:* && -n "$TOKEN" && -n "$BOT" ]] || die "the server did not start: $(cat "$TMP/serve.out")"
}

"$BPHARNESS" schemas openapi --out "$TMP/openapi.json" 2>/dev/null

log "bpharness fuzz (default settings, seed 1)"
start_server
"$BPHARNESS" fuzz --target "$URL" --token "$TOKEN" --bot-id "$BOT" --workspace-id "$WORKSPACE" \
    --other-bot-id "$OTHER_BOT" --seed 1 --color never \
    --report-dir "$TMP/ours" --corpus "$TMP/ours-corpus" > "$TMP/ours.log" 2>&1 || true
stop_server
ours_line="$(grep '^fuzz: ' "$TMP/ours.log" | tail -1)"
[[ -n "$ours_line" ]] || die "bpharness fuzz gave no summary: $(tail -20 "$TMP/ours.log")"
ours_cases="$(sed -E 's/^fuzz: ([0-9]+) cases.*/\1/' <<<"$ours_line")"
ours_secs="$(sed -E 's/.* in ([0-9.]+) s$/\1/' <<<"$ours_line")"
ours_failures="$(sed -E 's/.* ([0-9]+) failures.*/\1/' <<<"$ours_line")"

log "schemathesis (every default phase, --max-time $SECONDS_BUDGET)"
start_server
# From the temporary directory: Schemathesis leaves a .schemathesis/ cache where it runs.
(cd "$TMP" && "$VENV/bin/schemathesis" run "$TMP/openapi.json" --url "$URL" \
    -H "Authorization: Bearer $TOKEN" -H "x-bot-id: $BOT" -H "x-workspace-id: $WORKSPACE" \
    --workers auto --max-time "$SECONDS_BUDGET" --no-color > "$TMP/st.log" 2>&1) || true
stop_server
st_cases="$(grep -A1 '^Test cases:' "$TMP/st.log" | tail -1 | grep -oE '^ *[0-9]+' | tr -d ' ' || true)"
st_secs="$(grep -oE 'in [0-9.]+s' "$TMP/st.log" | tail -1 | grep -oE '[0-9.]+' || true)"
st_failures="$(grep -oE '[0-9]+ unique failures?' "$TMP/st.log" | tail -1 | grep -oE '^[0-9]+' || echo 0)"
[[ -n "$st_cases" && -n "$st_secs" ]] || die "schemathesis gave no summary: $(tail -30 "$TMP/st.log")"

awk -v oc="$ours_cases" -v os="$ours_secs" -v of="$ours_failures" \
    -v sc="$st_cases" -v ss="$st_secs" -v sf="$st_failures" 'BEGIN {
    ours = oc / os; theirs = sc / ss
    printf "%-14s %8s %8s %10s %9s\n", "tool", "cases", "seconds", "cases/s", "failures"
    printf "%-14s %8d %8.1f %10.0f %9d\n", "bpharness", oc, os, ours, of
    printf "%-14s %8d %8.1f %10.0f %9d\n", "schemathesis", sc, ss, theirs, sf
    printf "bench-fuzz: bpharness %.0f cases/s, schemathesis %.0f cases/s, ratio %.1f\n", ours, theirs, ours / theirs
}'

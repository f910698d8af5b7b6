#!/usr/bin/env bash
# Compares `bpharness load` with oha, wrk and a plain goose test, in one go, on the same
# machine, against the same trivial loopback target (examples/bare_axum.rs: one GET route).
#
#   scripts/bench-load.sh                 # 3 rounds, 10 s per tool and round
#   BENCH_SECONDS=5 BENCH_ROUNDS=1 scripts/bench-load.sh
#
# Each tool: 64 connections (users), one GET /v1/chat/users/{id}.
#   bpharness load  closed model, 64 virtual users, the runner's checks on every answer
#   oha             -c 64
#   wrk             -c 64 -t 2
#   plain goose     examples/plain_goose.rs: goose's own client and metrics
# Each round runs oha and then bpharness load, so the two are measured side by side and a
# machine whose speed drifts (a shared or virtual one) moves both; wrk and plain goose run
# once, after the rounds, for context. Prints a row per tool and round, then the mean
# requests/s and median p99 of each tool and their ratios to oha's, and ends with
#   bpharness load: X req/s, oha: Y req/s, ratio R
#   bpharness load p99: A ms, oha p99: B ms, ratio Q
# Installs wrk (apt) and oha (cargo) when missing. Only 127.0.0.1 is used.
set -euo pipefail

SECONDS_PER_RUN="${BENCH_SECONDS:-10}"
ROUNDS="${BENCH_ROUNDS:-3}"
USERS=64
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/rounds.sh
source "$ROOT/scripts/lib/rounds.sh"
[[ "$SECONDS_PER_RUN" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_SECONDS must be a whole number" >&2; exit 2; }
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_ROUNDS must be a positive whole number" >&2; exit 2; }
log() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }

if ! command -v wrk >/dev/null 2>&1; then
    log "installing wrk"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null; apt-get install -y -q wrk >/dev/null; }
fi
if ! command -v oha >/dev/null 2>&1; then
    log "installing oha (cargo install, once)"
    cargo install oha --locked --quiet
fi
command -v wrk >/dev/null && command -v oha >/dev/null || die "wrk and oha are needed"

cd "$ROOT"
log "building bpharness, examples/bare_axum and examples/plain_goose (release)"
cargo build --release --quiet --bin bpharness --example bare_axum --example plain_goose
target_dir="$(cargo metadata --format-version 1 --no-deps | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)"
BPHARNESS="$target_dir/release/bpharness"
BARE="$target_dir/release/examples/bare_axum"
GOOSE="$target_dir/release/examples/plain_goose"

TMP="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    # The script's status, not that of the server stopped here (143): `set -e` must not
    # end the trap at the `wait`.
    local status=$?
    [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
    rm -rf "$TMP"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$BARE" 127.0.0.1:0 >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q '^url: ' "$TMP/server.log" && break; sleep 0.1; done
URL="$(sed -n 's/^url: //p' "$TMP/server.log" | head -n1)"
[[ -n "$URL" ]] || die "the target did not start"
PATH_="/v1/chat/users/user_01JZ0000000000000000000000"
log "target $URL$PATH_, ${SECONDS_PER_RUN}s per tool"

: >"$TMP/rows"
row() { echo "$1 $2 $3 $4" >>"$TMP/rows"; }

run_oha() {
    log "oha, round $1"
    oha --no-tui -c "$USERS" -z "${SECONDS_PER_RUN}s" "$URL$PATH_" >"$TMP/oha.txt"
    rps="$(awk '/Requests\/sec:/ {print $2}' "$TMP/oha.txt")"
    p99="$(awk '$1 == "99.00%" && $2 == "in" { v = $3; u = $4; if (u == "secs" || u == "sec" || u == "s") v *= 1000; else if (u == "us" || u == "µs") v /= 1000; print v }' "$TMP/oha.txt" | head -n1)"
    row oha "$1" "$rps" "$p99"
}

run_bpharness() {
    log "bpharness load, round $1"
    rm -rf "$TMP/load"
    NO_COLOR=1 "$BPHARNESS" load --target "$URL" --token bench --profile scripts/bench-load/profile.yaml \
        --users "$USERS" --duration "${SECONDS_PER_RUN}s" --report-dir "$TMP/load" 2>"$TMP/load.log" \
        || { tail -20 "$TMP/load.log" >&2; die "bpharness load failed"; }
    read -r rps p99 failures < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
o = r["overall"]
print(o["requests"] / r["duration_s"], o["latency"]["p99"] / 1000.0, o["failures"])' "$TMP/load/load.json")
    [[ "$failures" == "0" ]] || die "bpharness load counted $failures failures"
    row bpharness_load "$1" "$rps" "$p99"
}

for ((round = 1; round <= ROUNDS; round++)); do
    run_oha "$round"
    run_bpharness "$round"
done

log "wrk"
wrk --latency -t 2 -c "$USERS" -d "${SECONDS_PER_RUN}s" "$URL$PATH_" >"$TMP/wrk.txt"
rps="$(awk '/^Requests\/sec:/ {print $2}' "$TMP/wrk.txt")"
p99="$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 } print v }' "$TMP/wrk.txt")"
row wrk 1 "$rps" "$p99"

log "plain goose"
"$GOOSE" "$URL" "$USERS" "$SECONDS_PER_RUN" >"$TMP/goose.txt" 2>"$TMP/goose.log" \
    || { tail -20 "$TMP/goose.log" >&2; die "plain goose failed"; }
rps="$(sed -n 's/.* \([0-9.]*\) req\/s.*/\1/p' "$TMP/goose.txt")"
p99="$(sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p' "$TMP/goose.txt")"
row plain_goose 1 "$rps" "$p99"

echo
awk 'BEGIN { printf "%-16s %6s %12s %10s\n", "tool", "round", "requests/s", "p99 ms" }
     { printf "%-16s %6s %12.0f %10.2f\n", $1, $2, $3, $4 }' "$TMP/rows"
echo
summary() { rounds_summary "$TMP/rows" "$1"; }
read -r oha_rps oha_p99 < <(summary oha)
printf '%-16s %12s %14s %10s\n' tool requests/s "median p99 ms" "vs oha"
for tool in bpharness_load oha wrk plain_goose; do
    read -r rps p99 < <(summary "$tool")
    awk -v t="$tool" -v r="$rps" -v p="$p99" -v o="$oha_rps" \
        'BEGIN { printf "%-16s %12.0f %14.2f %10.2f\n", t, r, p, (o > 0 ? r / o : 0) }'
done
echo
read -r load_rps load_p99 < <(summary bpharness_load)
awk -v l="$load_rps" -v o="$oha_rps" \
    'BEGIN { printf "bpharness load: %.0f req/s, oha: %.0f req/s, ratio %.2f\n", l, o, (o > 0 ? l / o : 0) }'
awk -v l="$load_p99" -v o="$oha_p99" \
    'BEGIN { printf "bpharness load p99: %.2f ms, oha p99: %.2f ms, ratio %.2f\n", l, o, (o > 0 ? l / o : 0) }'

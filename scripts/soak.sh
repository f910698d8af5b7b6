#!/usr/bin/env bash
# Soak: a closed-model load with sustained writes (scenarios/load/soak.yaml) against the
# reference server run as its own process (`bpharness serve`), so the generator's memory
# and the server's are measured apart.
#
#   scripts/soak.sh                      # 10 minutes
#   SOAK_SECONDS=180 scripts/soak.sh     # shorter
#   SOAK_USERS=16 (default)
#
# Prints, per minute of the run, requests/s and p99 (from load.json's per-second
# p99s; a minute's is the largest of its seconds', an upper bound), then the RSS of the generator and of the server at the
# start (after 10 s, once both are warm) and at the end, and the store's size (`serve
# --stats-every`). Ends with the two verdicts:
#   throughput: last minute X% of the first (goal: within 20%)
#   rss: generator Y×, server Z× their start (goal: at most 1.5×)
# and exits 1 if either is missed. Only 127.0.0.1 is used; the server is stopped on exit.
set -euo pipefail

SECONDS_TOTAL="${SOAK_SECONDS:-600}"
USERS="${SOAK_USERS:-16}"
TOKEN="soak-token"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ "$SECONDS_TOTAL" =~ ^[1-9][0-9]*$ ]] || { echo "SOAK_SECONDS must be a whole number" >&2; exit 2; }
(( SECONDS_TOTAL >= 60 )) || { echo "SOAK_SECONDS must be at least 60 (a minute to compare with)" >&2; exit 2; }
log() { echo "soak: $*" >&2; }
die() { echo "soak: error: $*" >&2; exit 1; }

cd "$ROOT"
log "building bpharness (release)"
cargo build --release --quiet --bin bpharness
target_dir="$(cargo metadata --format-version 1 --no-deps | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)"
BPHARNESS="$target_dir/release/bpharness"

TMP="$(mktemp -d)"
SERVER_PID=""
LOAD_PID=""
cleanup() {
    # The verdict's status, not that of the server stopped here (143), is the script's; `set -e` must not end the trap early.
    local status=$?
    [[ -n "$LOAD_PID" ]] && kill "$LOAD_PID" 2>/dev/null && wait "$LOAD_PID" 2>/dev/null || true
    [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
    rm -rf "$TMP"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

"$BPHARNESS" serve --listen 127.0.0.1:0 --token "$TOKEN" --stats-every 10 >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 150); do grep -q '^url: ' "$TMP/server.log" && break; sleep 0.1; done
URL="$(sed -n 's/^url: //p' "$TMP/server.log" | head -n1)"
BOT="$(sed -n 's/^bot id: //p' "$TMP/server.log" | head -n1)"
WS="$(sed -n 's/^workspace id: //p' "$TMP/server.log" | head -n1)"
[[ -n "$URL" && -n "$BOT" ]] || { cat "$TMP/server.log" >&2; die "the server did not start"; }
log "server $URL (bot $BOT), $USERS users, ${SECONDS_TOTAL}s"

NO_COLOR=1 "$BPHARNESS" load --target "$URL" --token "$TOKEN" --bot-id "$BOT" --workspace-id "$WS" \
    --profile scenarios/load/soak.yaml --users "$USERS" --duration "${SECONDS_TOTAL}s" \
    --report-dir "$TMP/report" >"$TMP/load.out" 2>"$TMP/load.log" &
LOAD_PID=$!

sleep 10
kill -0 "$LOAD_PID" 2>/dev/null || { tail -20 "$TMP/load.log" >&2; die "the load stopped early"; }
gen_start="$(rss_kb "$LOAD_PID")"
srv_start="$(rss_kb "$SERVER_PID")"
store_start="$(grep '^stats: ' "$TMP/server.log" | tail -n1 | sed 's/^stats: //')"
log "after 10 s: generator RSS ${gen_start} kB, server RSS ${srv_start} kB; store: ${store_start}"

# RSS once a minute, and the last sample before the load ends.
gen_end="$gen_start"
srv_end="$srv_start"
while kill -0 "$LOAD_PID" 2>/dev/null; do
    g="$(rss_kb "$LOAD_PID")"; s="$(rss_kb "$SERVER_PID")"
    [[ "$g" != "0" ]] && gen_end="$g"
    [[ "$s" != "0" ]] && srv_end="$s"
    sleep 5
done
status=0
wait "$LOAD_PID" || status=$?
LOAD_PID=""
srv_end="$(rss_kb "$SERVER_PID")"
store_end="$(grep '^stats: ' "$TMP/server.log" | tail -n1 | sed 's/^stats: //')"
tail -n 12 "$TMP/load.log" >&2
[[ -f "$TMP/report/load.json" ]] || die "no load.json (load exit status $status)"

python3 - "$TMP/report/load.json" "$gen_start" "$gen_end" "$srv_start" "$srv_end" "$store_start" "$store_end" <<'PY'
import base64, json, sys

report, gen_start, gen_end, srv_start, srv_end, store_start, store_end = sys.argv[1:]
r = json.load(open(report))

# A minute's p99 is reported as the largest p99 of its seconds: an upper bound (no more
# than 1% of any second's answers are above it, so no more than 1% of the minute's).
minutes = {}
for s in r["series"]:
    minutes.setdefault(s["second"] // 60, []).append(s)
rows = []
for m in sorted(minutes):
    secs = minutes[m]
    n = sum(s["requests"] for s in secs)
    failures = sum(s["failures"] for s in secs)
    p99 = max((s["p99"] or 0) for s in secs)
    rows.append((m, n / max(len(secs), 1), p99 / 1000.0, failures, len(secs)))

print()
print(f"{'minute':>6} {'seconds':>8} {'req/s':>10} {'p99 ms':>8} {'failures':>9}   (p99: the largest of the minute's per-second p99s)")
for m, rps, p99, failures, secs in rows:
    print(f"{m + 1:>6} {secs:>8} {rps:>10.0f} {p99:>8.2f} {failures:>9}")
o = r["overall"]
print(f"\noverall: {o['requests']} requests, {o['failures']} failures, p99 {o['latency']['p99'] / 1000:.2f} ms, "
      f"max {o['latency']['max'] / 1000:.2f} ms, {o['throughput']:.0f} req/s")
gen_start, gen_end, srv_start, srv_end = (int(x) for x in (gen_start, gen_end, srv_start, srv_end))
print(f"generator RSS: {gen_start / 1024:.1f} MiB at 10 s, {gen_end / 1024:.1f} MiB at the end ({gen_end / gen_start:.2f}x)")
print(f"server RSS:    {srv_start / 1024:.1f} MiB at 10 s, {srv_end / 1024:.1f} MiB at the end ({srv_end / srv_start:.2f}x)")
print(f"store at 10 s: {store_start}")
print(f"store at end:  {store_end}")

# Whole minutes only: the last partial minute (the load's final second) is not compared.
full = [row for row in rows if row[4] >= 55]
first, last = full[0], full[-1]
ratio = last[1] / first[1] if first[1] else 0
ok = True
print(f"\nthroughput: last minute {ratio * 100:.0f}% of the first (goal: within 20%)")
if abs(1 - ratio) > 0.20:
    ok = False
worst = max(gen_end / gen_start, srv_end / srv_start)
print(f"rss: generator {gen_end / gen_start:.2f}x, server {srv_end / srv_start:.2f}x their start (goal: at most 1.5x)")
if worst > 1.5:
    ok = False
if o["failures"] > 0:
    print(f"failures: {o['failures']} (goal: none)")
    ok = False
sys.exit(0 if ok else 1)
PY

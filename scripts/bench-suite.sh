#!/usr/bin/env bash
# Times the whole scenario suite against the embedded reference server and counts the
# requests it sent. Builds in release first; runs the suite RUNS times (default 5) and
# prints each run, then the median, ending with the line
#   suite: N requests in T s
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${RUNS:-5}"
cd "$ROOT"
cargo build --release --quiet
BIN="$ROOT/target/release/bpharness"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
times=()
requests=0
for i in $(seq 1 "$RUNS"); do
    start=$EPOCHREALTIME
    NO_COLOR=1 "$BIN" run scenarios --report-dir "$OUT/r$i" > /dev/null 2> "$OUT/log$i" || {
        echo "run $i failed:" >&2; tail -20 "$OUT/log$i" >&2; exit 1; }
    end=$EPOCHREALTIME
    elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
    requests=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['summary']['requests'])" "$OUT/r$i/report.json")
    times+=("$elapsed")
    printf 'run %d: %d requests in %.3f s\n' "$i" "$requests" "$elapsed"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
printf 'suite: %d requests in %.3f s\n' "$requests" "$median"

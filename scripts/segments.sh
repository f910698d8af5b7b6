#!/usr/bin/env bash
# One load run as N segments in local processes, as deploy/kubernetes/load-job.yaml runs it
# in pods: segment i of N (`--segment i/N`) writes OUT/i/load.json, against its own embedded
# server; then `bpharness report merge` makes OUT/merged/load.json, and this script checks
# that the merge is the sum of its parts: requests, successes, failures, rate-limited and
# contract failures overall and per operation.
#
# usage: scripts/segments.sh [N] [DURATION] [USERS]    (default: 3 segments, 2s, 6 users)
# env:   BPHARNESS (default target/debug/bpharness), OUT (default target/segments)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}
duration=${2:-2s}
users=${3:-6}
bin=${BPHARNESS:-target/debug/bpharness}
out=${OUT:-target/segments}
[ -x "$bin" ] || { echo "segments: no binary at $bin (cargo build first, or set BPHARNESS)" >&2; exit 2; }
command -v jq >/dev/null || { echo "segments: jq is needed to check the merge" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out"

pids=()
for ((i = 0; i < n; i++)); do
    "$bin" load --users "$users" --duration "$duration" --segment "$i/$n" --report-dir "$out/$i" \
        >"$out/$i.log" 2>&1 &
    pids+=("$!")
done
for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
        echo "segments: segment $i/$n failed:" >&2
        cat "$out/$i.log" >&2
        exit 1
    fi
done
parts=()
for ((i = 0; i < n; i++)); do parts+=("$out/$i/load.json"); done
"$bin" report merge "${parts[@]}" --out "$out/merged" >"$out/merge.log" 2>&1 || {
    cat "$out/merge.log" >&2
    exit 1
}

# The counts of one report: overall, then per operation, sorted.
counts='[(.overall | {requests, successes, failures, rate_limited, contract_failures}),
         (.operations | map({operation, requests, successes, failures, rate_limited, contract_failures})
                      | sort_by(.operation))]'
# The same counts summed over the parts.
summed=$(jq -s '
    def c: {requests, successes, failures, rate_limited, contract_failures};
    def add_counts: reduce .[] as $x ({}; . as $a | $x | to_entries
        | reduce .[] as $e ($a; .[$e.key] += $e.value));
    [(map(.overall | c) | add_counts),
     (map(.operations[] | {operation} + c) | group_by(.operation)
        | map({operation: .[0].operation} + (map(del(.operation)) | add_counts)))]' "${parts[@]}")
merged=$(jq "$counts" "$out/merged/load.json")
if [ "$(jq -S . <<<"$summed")" != "$(jq -S . <<<"$merged")" ]; then
    echo "segments: the merged report is not the sum of its parts" >&2
    diff <(jq -S . <<<"$summed") <(jq -S . <<<"$merged") >&2 || true
    exit 1
fi
requests=$(jq '.overall.requests' "$out/merged/load.json")
[ "$requests" -gt 0 ] || { echo "segments: no requests were sent" >&2; exit 1; }
echo "segments: $n segments, $requests requests; the merge equals the sum of the parts ($out/merged/load.json)"

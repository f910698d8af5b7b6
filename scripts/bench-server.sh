#!/usr/bin/env bash
# Measures the reference server (`bpharness serve`) over loopback with wrk, and compares its
# getUser throughput with a bare axum server (examples/bare_axum.rs) answering the same
# route on the same machine in the same run.
#
#   scripts/bench-server.sh                      # 3 rounds, 10 s per target and round
#   BENCH_SECONDS=3 BENCH_ROUNDS=1 scripts/bench-server.sh
#
# Targets, each 64 connections on 2 wrk threads:
#   bare axum      GET  /v1/chat/users/{id}  on examples/bare_axum.rs
#   getUser        GET  /v1/chat/users/{id}  on the reference server
#   createMessage  POST /v1/chat/messages    on the reference server
#
# Each round runs the three in that order, so the baseline and the server are measured
# side by side and a machine whose speed drifts (a shared or virtual one) moves both.
# Prints a row per target and round (requests/s, p99 latency, non-2xx responses), then
# over all rounds the requests/s of each target and its median p99, and ends with
#   getUser: X req/s, bare axum: Y req/s, ratio R
#   createMessage p99: A, getUser p99: B, ratio Q
# Exits non-zero if any target answered a non-2xx status, during the check before its run
# or under load. Only 127.0.0.1 is used; both servers are stopped on exit.
set -euo pipefail

SECONDS_PER_RUN="${BENCH_SECONDS:-10}"
ROUNDS="${BENCH_ROUNDS:-3}"
CONNECTIONS=64
THREADS=2
TOKEN="bench-token"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/rounds.sh
source "$ROOT/scripts/lib/rounds.sh"

if ! [[ "$SECONDS_PER_RUN" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: BENCH_SECONDS must be a positive whole number of seconds, got '$SECONDS_PER_RUN'" >&2
    exit 2
fi
if ! [[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: BENCH_ROUNDS must be a positive whole number, got '$ROUNDS'" >&2
    exit 2
fi

log() { echo "bench: $*" >&2; }
die() {
    echo "bench: error: $*" >&2
    exit 1
}

# --- the load tool ----------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
    log "installing wrk"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q wrk >/dev/null 2>&1; then
        apt-get update -q >/dev/null
        apt-get install -y -q wrk >/dev/null
    fi
    command -v wrk >/dev/null 2>&1 || die "wrk is not installed and could not be"
fi

# --- the two servers, in release ---------------------------------------------------------
cd "$ROOT"
log "building bpharness and examples/bare_axum (release)"
cargo build --release --quiet --bin bpharness --example bare_axum
target_dir="$(cargo metadata --format-version 1 --no-deps | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)"
BPHARNESS="$target_dir/release/bpharness"
BARE="$target_dir/release/examples/bare_axum"
[[ -x "$BPHARNESS" && -x "$BARE" ]] || die "built binaries not found under $target_dir/release"

TMP="$(mktemp -d)"
PIDS=()
NAMES=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts a server that prints `url: ...` once it listens; waits up to 15 s for that line.
# Sets STARTED_URL.
start_server() {
    local name="$1" logfile="$TMP/$1.log"
    shift
    : >"$logfile"
    "$@" >"$logfile" 2>&1 &
    PIDS+=("$!")
    NAMES+=("$name")
    local pid="$!" i
    for ((i = 0; i < 150; i++)); do
        if grep -q '^url: ' "$logfile"; then
            STARTED_URL="$(sed -n 's/^url: //p' "$logfile" | head -n1)"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$logfile" >&2
    die "$name did not start"
}

# Fails, with the server's output and exit status, if a server is no longer running.
check_alive() {
    local i status
    for i in "${!PIDS[@]}"; do
        if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
            status=0
            wait "${PIDS[$i]}" || status=$?
            tail -n 20 "$TMP/${NAMES[$i]}.log" >&2
            die "${NAMES[$i]} stopped (exit status $status)"
        fi
    done
}

# curl with a bound on time; writes the body to $TMP/body and prints the status.
call() {
    curl -sS --max-time 5 -o "$TMP/body" -w '%{http_code}' "$@"
}

# Fails unless `call ARGS...` answers `want`.
expect_status() {
    local want="$1" what="$2" got
    shift 2
    got="$(call "$@")" || {
        check_alive
        die "$what: request failed"
    }
    if [[ "$got" != "$want" ]]; then
        cat "$TMP/body" >&2
        echo >&2
        die "$what answered $got, expected $want"
    fi
}

# The `id` of the single resource in $TMP/body (`{"user":{"id":"user_..."}}`).
body_id() {
    grep -o '"id":"[^"]*"' "$TMP/body" | head -n1 | cut -d'"' -f4
}

start_server bpharness "$BPHARNESS" serve --listen 127.0.0.1:0 --token "$TOKEN"
API="$STARTED_URL"
BOT="$(sed -n 's/^bot id: //p' "$TMP/bpharness.log" | head -n1)"
[[ -n "$BOT" ]] || die "no bot id in the output of bpharness serve"
start_server bare_axum "$BARE" 127.0.0.1:0
BARE_URL="$STARTED_URL"
log "reference server $API (bot $BOT), bare axum $BARE_URL"

AUTH=(-H "Authorization: Bearer $TOKEN" -H "x-bot-id: $BOT")
JSON=(-H "content-type: application/json")

expect_status 201 "createUser" "${AUTH[@]}" "${JSON[@]}" -X POST -d '{"tags":{}}' "$API/v1/chat/users"
USER_ID="$(body_id)"
expect_status 201 "createConversation" "${AUTH[@]}" "${JSON[@]}" -X POST \
    -d '{"channel":"bench","tags":{}}' "$API/v1/chat/conversations"
CONV_ID="$(body_id)"
[[ -n "$USER_ID" && -n "$CONV_ID" ]] || die "could not read the ids of the user and conversation"
MESSAGE="{\"conversationId\":\"$CONV_ID\",\"userId\":\"$USER_ID\",\"type\":\"text\",\"payload\":{\"text\":\"hi\"},\"tags\":{}}"

# wrk sends a body only from a script.
cat >"$TMP/post.lua" <<EOF
wrk.method = "POST"
wrk.body = [[$MESSAGE]]
wrk.headers["content-type"] = "application/json"
EOF

# Runs wrk against one target and appends a row to $TMP/rows: name, round, req/s, p99 in
# ms, non-2xx.
bench() {
    local name="$1" round="$2" out="$TMP/wrk-$1-$2.txt"
    shift 2
    log "$name, round $round: ${SECONDS_PER_RUN}s, $CONNECTIONS connections, $THREADS threads"
    timeout $((SECONDS_PER_RUN + 30)) wrk --latency --timeout 5s -t "$THREADS" -c "$CONNECTIONS" \
        -d "${SECONDS_PER_RUN}s" "$@" >"$out" || die "wrk failed on $name: $(cat "$out")"
    local rps p99 non2xx errors
    rps="$(awk '/^Requests\/sec:/ {print $2}' "$out")"
    p99="$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 } print v }' "$out")"
    non2xx="$(awk -F': *' '/Non-2xx or 3xx responses/ {print $2}' "$out")"
    errors="$(sed -n 's/^ *Socket errors: *//p' "$out")"
    check_alive
    [[ -n "$rps" && -n "$p99" ]] || die "cannot read the wrk output of $name: $(cat "$out")"
    [[ -z "$errors" ]] || log "$name: socket errors: $errors"
    echo "$name $round ${rps} ${p99} ${non2xx:-0}" >>"$TMP/rows"
}

USER_PATH="/v1/chat/users/$USER_ID"
expect_status 200 "getUser" "${AUTH[@]}" "$API$USER_PATH"
expect_status 201 "createMessage" "${AUTH[@]}" "${JSON[@]}" -X POST -d "$MESSAGE" "$API/v1/chat/messages"
expect_status 200 "bare axum getUser" "$BARE_URL$USER_PATH"
for ((round = 1; round <= ROUNDS; round++)); do
    bench "bare_axum" "$round" "$BARE_URL$USER_PATH"
    bench getUser "$round" "${AUTH[@]}" "$API$USER_PATH"
    bench createMessage "$round" "${AUTH[@]}" -s "$TMP/post.lua" "$API/v1/chat/messages"
done

echo
awk 'BEGIN { printf "%-15s %6s %12s %12s %10s\n", "target", "round", "requests/s", "p99 ms", "non-2xx" }
     { printf "%-15s %6s %12.0f %12.2f %10s\n", $1, $2, $3, $4, $5 }' "$TMP/rows"
echo
summary() { rounds_summary "$TMP/rows" "$1"; }
read -r bare_rps bare_p99 < <(summary bare_axum)
read -r get_rps get_p99 < <(summary getUser)
read -r post_rps post_p99 < <(summary createMessage)
printf '%-15s %12s %16s\n' "over $ROUNDS rounds" "requests/s" "median p99 ms"
printf '%-15s %12s %16s\n' bare_axum "$bare_rps" "$bare_p99" getUser "$get_rps" "$get_p99" createMessage "$post_rps" "$post_p99"
echo
awk -v g="$get_rps" -v b="$bare_rps" \
    'BEGIN { printf "getUser: %.0f req/s, bare axum: %.0f req/s, ratio %.2f\n", g, b, (b > 0 ? g / b : 0) }'
awk -v c="$post_p99" -v g="$get_p99" \
    'BEGIN { printf "createMessage p99: %.2f ms, getUser p99: %.2f ms, ratio %.2f\n", c, g, (g > 0 ? c / g : 0) }'

if awk '$5 != 0 { bad = 1 } END { exit !bad }' "$TMP/rows"; then
    echo "bench: error: a target answered non-2xx responses under load" >&2
    exit 1
fi

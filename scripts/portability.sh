#!/usr/bin/env bash
# The suite against three targets, each given only what a new user would give: the embedded
# reference server (no flags), a `bpharness serve` reached over --target with a token and a
# workspace id, and `bpharness serve --variant other` (a conformant server that is not the
# reference one) with a token and a workspace id. Prints, for each, the run's closing lines:
# steps run, skipped and blocked by reason, rate-limit waits, operations covered.
#
#   scripts/portability.sh            # builds the release binary first
#   BIN=target/debug/bpharness scripts/portability.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/bpharness}
[ -n "${BIN_BUILT:-}" ] || [ "$BIN" != target/release/bpharness ] || cargo build --release --quiet
out=$(mktemp -d)
# `serve` runs in a subshell (process substitution): its servers' pids go to a file.
trap 'kill $(cat "$out"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$out"' EXIT

summary() { # report dir -> the closing lines of the run
  python3 - "$1/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
ran = s["steps"] - s["steps_skipped"] - s["steps_blocked"]
print(f"  outcome {r['outcome']}: {s['steps_failed']} failed steps; {ran} of {s['steps']} steps run "
      f"({100 * ran / s['steps']:.1f}%), {s['steps_skipped']} skipped, {s['steps_blocked']} blocked; "
      f"{s['operations_covered']} of {s['operations_total']} operations")
for reason, n in sorted(s["skipped_by_reason"].items(), key=lambda kv: -kv[1]):
    print(f"    {n:4}  {reason}")
print(f"  rate limited: {s['rate_limit_retries']} answers waited out, {s['rate_limit_wait_ms'] / 1000:.1f} s")
PY
}

serve() { # variant -> "url token workspace"
  local log="$out/serve-$1.log"
  "$BIN" serve --listen 127.0.0.1:0 --variant "$1" >"$log" 2>&1 &
  echo $! >"$out/serve-$1.pid"
  for _ in $(seq 100); do grep -q '^workspace id:' "$log" && break; sleep 0.1; done
  echo "$(sed -n 's/^url: //p' "$log") $(sed -n 's/^token: //p' "$log" | head -1) $(sed -n 's/^workspace id: //p' "$log")"
}

echo "embedded reference server (bpharness run):"
"$BIN" run --report-dir "$out/embedded" >/dev/null 2>&1 || true
summary "$out/embedded"

for variant in reference other; do
  read -r url token workspace < <(serve "$variant")
  echo "bpharness serve --variant $variant, reached with --target, --token and --workspace-id only:"
  env -u BP_BOT_ID -u BP_OTHER_BOT_ID -u BP_OTHER_WORKSPACE_ID -u BP_OTHER_WORKSPACE_BOT_ID \
    "$BIN" run --target "$url" --token "$token" --workspace-id "$workspace" --report-dir "$out/$variant" \
    >/dev/null 2>&1 || true
  summary "$out/$variant"
done

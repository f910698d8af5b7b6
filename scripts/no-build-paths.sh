#!/usr/bin/env bash
# The binary users install names no path of the machine that built it: the checkout's
# absolute path must not appear in it (the crate's own panic locations are relative, and the
# suite and schemas are built in, never read from the build machine at run time).
#
# usage: scripts/no-build-paths.sh [BINARY]    (default target/release/bpharness)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/bpharness}
checkout=$(pwd -P)
[ -f "$bin" ] || { echo "no-build-paths: no binary at $bin" >&2; exit 2; }
if grep -c -F -a -- "$checkout" "$bin" >/dev/null; then
    echo "no-build-paths: $bin contains the checkout path $checkout:" >&2
    grep -o -F -a -- "$checkout" "$bin" | head -3 >&2 || true
    strings -n 8 "$bin" | grep -F -- "$checkout" | sort -u | head -10 >&2 || true
    exit 1
fi
echo "no-build-paths: $bin holds no path of the checkout ($checkout)"

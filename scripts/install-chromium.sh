#!/usr/bin/env bash
# Installs Debian's chromium for the load.html test (tests/it/load_html.rs), which opens the
# page headless and checks that every chart drew its data. Quick when it is already there.
#
#   scripts/install-chromium.sh        # needs root (CI runs as root) and apt
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-chromium: apt-get install chromium" >&2
if ! apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends chromium >/dev/null
fi
command -v chromium >/dev/null 2>&1 || { echo "install-chromium: chromium is still missing" >&2; exit 1; }

#!/usr/bin/env bash
# The README's picture of the report: py_threads' page at op 100 (an arena's mprotect, merged
# into the area before it), drawn by headless Chromium into docs/images/report-py_threads.png.
# Needs Debian's chromium (apt-get install chromium) or MAPLE_CHROMIUM naming a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
browser="${MAPLE_CHROMIUM:-chromium}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo run --release -q -- report tests/traces/py_threads.strace \
    --initial tests/traces/py_threads.initial.smaps --final tests/traces/py_threads.final.smaps \
    -o "$work/py_threads.html" >/dev/null
mkdir -p docs/images
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-quic \
    --user-data-dir="$work/profile" --hide-scrollbars --window-size=1400,1250 \
    --screenshot="$PWD/docs/images/report-py_threads.png" "file://$work/py_threads.html#op=100" 2>/dev/null
echo "wrote docs/images/report-py_threads.png"

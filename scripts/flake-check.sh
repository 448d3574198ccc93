#!/usr/bin/env bash
# Runs the README's test command N times in a row (default 20) and reports how many runs
# passed; the log of every failed run is kept. Usage: bash scripts/flake-check.sh [N]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
logs="${CARGO_TARGET_DIR:-target}/flake-check"
mkdir -p "$logs"
cargo test --workspace --no-run >/dev/null 2>&1 || { echo "the tests do not build" >&2; exit 2; }
passed=0
for run in $(seq 1 "$runs"); do
    start=$(date +%s)
    if cargo test --workspace >"$logs/run-$run.log" 2>&1; then
        passed=$((passed + 1))
        rm -f "$logs/run-$run.log"
        echo "run $run: passed ($(( $(date +%s) - start )) s)"
    else
        echo "run $run: FAILED ($(( $(date +%s) - start )) s), log: $logs/run-$run.log"
        grep -E "^test .* FAILED|panicked at" "$logs/run-$run.log" | head -5
    fi
done
echo "flake check: $passed of $runs runs of 'cargo test --workspace' passed"
[ "$passed" -eq "$runs" ]

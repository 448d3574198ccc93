#!/usr/bin/env bash
# The stress test (tests/stress.rs) under valgrind memcheck: no invalid read or write, no use
# of uninitialised memory and no definitely lost block while readers and a writer share the
# address space and crossbeam-epoch frees replaced nodes and areas behind the readers.
#
# Leak kinds: crossbeam-epoch keeps garbage in per-thread bags and a global queue that live as
# long as the process, and the harness's thread-locals die with it; valgrind reports these as
# "possibly lost" or "still reachable". Only "definitely lost" (a block nothing points to) is
# a leak we made, so only that kind counts as an error.
#
# The test binary is the one `cargo test` builds (the test profile: optimised, with debug
# info and debug assertions), so in CI it is already built and valgrind's reports name lines.
#
# Environment: MAPLE_STRESS_SECS (default here 5: under valgrind the threads run one at a
# time and about 40 times slower, so 5 s is some 2000 ops and 1000 snapshots), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${MAPLE_STRESS_SECS:-5}"
if ! command -v valgrind >/dev/null; then
    echo "stress-valgrind: valgrind is not installed" >&2
    exit 2
fi

# The executable's path comes from cargo's JSON messages (its hash changes with the build).
binary=$(cargo test --test stress --no-run --message-format=json 2>/dev/null |
    grep '"name":"stress"' | grep -o '"executable":"[^"]*"' | tail -n 1 | cut -d'"' -f4)
if [ -z "$binary" ] || [ ! -x "$binary" ]; then
    echo "stress-valgrind: could not build or find the stress test binary" >&2
    cargo test --test stress --no-run >&2
    exit 2
fi

log="${CARGO_TARGET_DIR:-target}/stress-valgrind.log"
mkdir -p "$(dirname "$log")"
echo "stress-valgrind: $binary, MAPLE_STRESS_SECS=$secs, valgrind log: $log"
started=$(date +%s)
status=0
# --fair-sched=yes: valgrind runs one thread at a time; without fair scheduling the writer can
# keep the lock for the whole bound and starve the readers.
MAPLE_STRESS_SECS="$secs" valgrind --tool=memcheck --fair-sched=yes --error-exitcode=1 --leak-check=full \
    --show-leak-kinds=definite --errors-for-leak-kinds=definite --log-file="$log" \
    "$binary" readers_see_only_whole_consistent_snapshots --exact || status=$?
elapsed=$(($(date +%s) - started))

# valgrind prints "definitely lost: N bytes" only when something leaked at all.
errors=$(grep -o 'ERROR SUMMARY: [0-9,]* errors' "$log" | tail -n 1 | grep -o '[0-9,]*' | tr -d , || true)
lost=$(grep -o 'definitely lost: [0-9,]* bytes' "$log" | tail -n 1 | grep -o '[0-9,]*' | tr -d , || true)
lost=${lost:-0}
grep -E 'definitely lost|possibly lost|still reachable|ERROR SUMMARY|no leaks are possible' "$log" | sed 's/^==[0-9]*== */  /'
echo "stress-valgrind: ${elapsed} s, exit status $status, ${errors:-?} errors, $lost bytes definitely lost"
if [ "$status" -ne 0 ] || [ "${errors:-1}" != 0 ] || [ "$lost" != 0 ]; then
    tail -n 60 "$log" >&2
    echo "FAIL: memcheck found errors or definitely lost memory (or the test failed)" >&2
    exit 1
fi

#!/usr/bin/env bash
# Runs the loom models of the reader contract: maple's publication (maple/tests/loom.rs), the
# VMA merge engine's operations on top of it (vma/tests/loom.rs), and whole system calls of
# the address space (mm/tests/loom.rs). docs/concurrency.md
# describes what each model covers.
#
#   bash scripts/loom.sh                 # the models must pass: exit 0
#   MAPLE_CANARY=1 bash scripts/loom.sh  # planted Relaxed publication: the models must FAIL
#
# With MAPLE_CANARY=1 the crates are also built with `--cfg maple_canary` (maple publishes the
# root with a Relaxed store) and every model is expected to fail with loom reporting a
# causality violation. Both test binaries run to the end either way (`--no-fail-fast`), and
# the script prints, per model, whether it passed, caught the canary, or failed otherwise.
# Exit statuses, so CI can tell an expected failure from a broken build:
#   0    the models passed (in canary mode: the planted bug went unnoticed, a real failure)
#   101  the models failed (in canary mode: expected, and EVERY model failed with a
#        causality violation)
#   3    the loom build failed
#   4    canary mode only: the run failed, but not every model failed with a causality
#        violation (some model passed, or failed for another reason): see the log
#
# Artifacts go to ${CARGO_TARGET_DIR:-target}/loom, so the normal build cache is untouched
# (cargo keeps the plain and canary builds apart there, keyed by their RUSTFLAGS). Under loom
# maple keeps replaced nodes until the tree drops, so neither `crossbeam_loom` nor an epoch
# collector is involved. LOOM_MAX_PREEMPTIONS is left unset by default: the models are small
# enough for loom's exhaustive exploration (1217 interleavings for each, one commit racing
# the readers; a few seconds in all); set it to bound them.
set -uo pipefail

cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/loom"
flags="--cfg loom"
mode="loom"
canary=0
if [[ "${MAPLE_CANARY:-0}" == "1" ]]; then
    canary=1
    flags="$flags --cfg maple_canary"
    mode="loom + maple_canary (the models must fail)"
fi
export RUSTFLAGS="${RUSTFLAGS:-} $flags"
export RUST_BACKTRACE="${RUST_BACKTRACE:-0}"

# The loom test targets, one per crate.
packages=(-p maple-mm-tree -p maple-mm-vma -p maple-mm-core)

now() { date +%s.%N; }
since() { awk -v start="$1" -v end="$(now)" 'BEGIN { printf "%.1fs", end - start }'; }

echo "== loom models: $mode"
echo "   RUSTFLAGS='$RUSTFLAGS' CARGO_TARGET_DIR=$CARGO_TARGET_DIR LOOM_MAX_PREEMPTIONS=${LOOM_MAX_PREEMPTIONS:-unbounded}"

start=$(now)
if ! cargo test "${packages[@]}" --release --test loom --no-run; then
    echo "== loom build FAILED after $(since "$start")" >&2
    exit 3
fi
echo "== loom build: $(since "$start")"

log="$CARGO_TARGET_DIR/loom-models.log"
mkdir -p "$CARGO_TARGET_DIR"
start=$(now)
cargo test "${packages[@]}" --release --test loom --no-fail-fast -- --nocapture --test-threads=1 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
echo "== loom models: $(since "$start"), status $status"

# One line per model: passed, caught (failed with a causality violation), or failed. With
# --test-threads=1 each model's output lies between its "test NAME ..." line and the next.
outcomes=$(awk '
    function report() { if (name != "") print (ok ? "passed" : (cv ? "caught" : "failed")), name; name = "" }
    /^test [^ ]+ \.\.\. / { report(); name = $2; ok = ($0 ~ /\.\.\. ok$/); cv = 0; next }
    name != "" && /^ok$/ { ok = 1 }
    name != "" && /Causality violation/ { cv = 1 }
    /^test result:/ { report() }
' "$log")
count() { grep -c "^$1 " <<<"$outcomes" || true; }
passed=$(count passed)
caught=$(count caught)
failed=$(count failed)
echo "== per model: $passed passed, $caught failed with a causality violation, $failed failed otherwise"

if [[ $canary -eq 1 ]]; then
    if [[ $status -eq 0 ]]; then
        echo "== CANARY NOT CAUGHT: the models passed with a Relaxed publication" >&2
    elif [[ $passed -eq 0 && $failed -eq 0 && $caught -gt 0 ]]; then
        echo "== canary caught as expected: all $caught models reported a causality violation (exit $status)"
    else
        echo "== the canary was not caught by every model (see $log):" >&2
        grep -v "^caught " <<<"$outcomes" >&2
        exit 4
    fi
fi
exit "$status"

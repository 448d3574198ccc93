#!/usr/bin/env bash
# Runs the libFuzzer targets of fuzz/ (cargo-fuzz) for a bounded time each:
#   script     op-script text: parse, replay (`maple-mm run`), explain, printer round trips
#   mm_calls   mm::Mm calls with unconstrained arguments, invariants after every call
#   maple_txn  maple transactions against a BTreeMap model
#
# Usage (from anywhere; needs the nightly toolchain, installs cargo-fuzz if missing):
#   bash scripts/fuzz.sh              # every target, FUZZ_SECS seconds each
#   bash scripts/fuzz.sh mm_calls     # some targets
# Environment: FUZZ_SECS (default 75) per target; FUZZ_TIMEOUT (default 30) seconds for one
# input before libFuzzer calls it a hang; FUZZ_WORK (default: a new temporary directory)
# for the corpora and logs.
#
# Each target starts from a copy of its checked-in seed corpus (fuzz/corpus/<target>) in the
# work directory, so a run leaves the repository as it was. Prints, per target, the number
# of executions and the seconds they took; exits 1 if any target crashed, hung or ran out of
# memory, naming the input that did it (reproduce with
# `cargo +nightly fuzz run <target> <input>`, from the repository root).
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${FUZZ_SECS:-75}"
timeout="${FUZZ_TIMEOUT:-30}"
all_targets=(script mm_calls maple_txn trace)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
work="${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/maple-mm-fuzz.XXXXXX")}"
mkdir -p "$work"

step() { printf '\n=== %s\n' "$*"; }

step "toolchain"
if ! cargo +nightly --version; then
    echo "FAIL: the nightly toolchain is missing (rustup toolchain install nightly)" >&2
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --version '^0.13' --locked
fi
cargo fuzz --version

step "build (${targets[*]})"
build_start=$SECONDS
if [ $# -eq 0 ]; then
    cargo +nightly fuzz build # all of them, in one cargo build
else
    for target in "${targets[@]}"; do cargo +nightly fuzz build "$target"; done
fi
echo "built in $((SECONDS - build_start)) s"

declare -A summary
failed=0
for target in "${targets[@]}"; do
    step "$target: ${secs} s"
    corpus="$work/corpus/$target"
    artifacts="$work/artifacts/$target"
    log="$work/$target.log"
    mkdir -p "$corpus" "$artifacts"
    if [ -d "fuzz/corpus/$target" ]; then
        cp -R "fuzz/corpus/$target/." "$corpus/"
    fi
    extra=()
    if [ -f "fuzz/$target.dict" ]; then
        extra+=("-dict=fuzz/$target.dict")
    fi
    status=0
    cargo +nightly fuzz run "$target" "$corpus" -- \
        -max_total_time="$secs" -timeout="$timeout" -report_slow_units="$timeout" \
        -artifact_prefix="$artifacts/" -print_final_stats=1 "${extra[@]}" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
    took=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -n 1)
    if [ -z "$runs" ]; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    fi
    if [ -z "$runs" ]; then
        # A crash ends the run without a Done line: the last status line's count.
        runs=$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#')
    fi
    # crash-*, timeout-*, oom-*, leak-* (not slow-unit-*: slow, but within the timeout)
    inputs=$(find "$artifacts" -type f ! -name 'slow-unit-*' | sort)
    if [ "$status" -ne 0 ] || [ -n "$inputs" ]; then
        failed=1
        summary[$target]="FAILED after ${runs:-?} executions (exit $status)"
        grep -v '^INFO:\|^#[0-9]' "$log" | grep -m 1 -B 2 -A 30 'panicked\|ERROR: \|SUMMARY' || tail -n 40 "$log"
        echo "log: $log"
        if [ -n "$inputs" ]; then
            echo "crash input(s):"
            echo "$inputs" | sed 's/^/  /'
            echo "reproduce: cargo +nightly fuzz run $target <input>"
        fi
    else
        summary[$target]="ok: ${runs:-?} executions in ${took:-$secs} s"
    fi
    echo "$target: ${summary[$target]}"
done

step "summary (work directory: $work)"
for target in "${targets[@]}"; do
    printf '%-10s %s\n' "$target" "${summary[$target]}"
done
if [ "$failed" -ne 0 ]; then
    echo "FAIL: a fuzz target failed" >&2
    exit 1
fi
echo "all fuzz targets ran clean"

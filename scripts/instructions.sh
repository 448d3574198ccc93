#!/usr/bin/env bash
# Instructions per maple operation (valgrind, no cache simulation): runs
# `examples/op_costs.rs` with N operations and with none, and divides the difference by N.
# Instruction counts repeat exactly from run to run, so they show what a change bought on a
# noisy machine where times do not. Usage: scripts/instructions.sh [N] [KIND...]
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-4096}
shift || true
kinds=("$@")
if [ ${#kinds[@]} -eq 0 ]; then
    kinds=(mut_exact txn_exact mut_split txn_split mut_churn txn_churn lookup iterate)
fi
cargo build --release --example op_costs -q
bin=${CARGO_TARGET_DIR:-target}/release/examples/op_costs

count() {
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 |
        awk '/I *refs:/ { gsub(",", "", $NF); print $NF }'
}

printf '%-10s %14s\n' kind "instr/op"
for kind in "${kinds[@]}"; do
    base=$(count "$kind" 0)
    total=$(count "$kind" "$n")
    awk -v k="$kind" -v a="$base" -v b="$total" -v n="$n" 'BEGIN { printf "%-10s %14.0f\n", k, (b - a) / n }'
done

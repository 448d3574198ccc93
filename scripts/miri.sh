#!/usr/bin/env bash
# Miri over maple's and vma's tests, the threaded ones included, under Tree Borrows.
#
#   bash scripts/miri.sh            (from the repository root; CI runs it on a fresh machine)
#
# Installs what it needs (a nightly toolchain with the miri and rust-src components, and Miri's
# sysroot), runs the unit and integration tests of `maple` and `vma` under Miri, and exits
# non-zero on any failure or undefined behaviour. Prints how long it took.
#
# Flags, and why:
#   -Zmiri-tree-borrows          the aliasing model: crossbeam-epoch's own intrusive list
#                                trips Stacked Borrows, which is not ours to fix.
#   -Zmiri-permissive-provenance crossbeam-epoch packs tags into pointers through integers.
#   -Zmiri-ignore-leaks          crossbeam-epoch's global collector keeps its thread records
#                                and garbage queue nodes for the life of the process behind
#                                tagged pointers Miri cannot follow, so every test using
#                                `Tree::new()` "leaks" (rust-lang/miri#1618). Hence a second,
#                                leak-checked pass below over the tests that use only their own
#                                collectors and drop them: those prove no node or value leaks.
#
# The tests shrink their sizes under cfg(miri) (a tree write costs Miri about a tenth of a
# second), so the run takes some minutes on two cores. Doc-tests are left out by default: they
# are usage examples that `cargo test` runs natively, and under Miri they would add some four
# minutes (maple's 52 took three, one of them over a minute; vma's 185 two and a half), about
# half again the whole run. MIRI_DOCTESTS=1 adds them. Loom models are cfg(loom) and not part
# of this.
#
# Environment: MIRI_TOOLCHAIN (default nightly) picks the toolchain, e.g. a pinned
# nightly-YYYY-MM-DD; MIRIFLAGS is appended to the flags above; MIRI_DOCTESTS=1 also runs the
# doc-tests; extra arguments go to the test binaries (e.g. a test name filter).

set -euo pipefail
cd "$(dirname "$0")/.."

toolchain=${MIRI_TOOLCHAIN:-nightly}
started=$(date +%s)
elapsed() { echo "$(( $(date +%s) - started )) s"; }

if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
    rustup toolchain install "$toolchain" --profile minimal
fi
rustup component add --toolchain "$toolchain" miri rust-src
cargo "+$toolchain" miri setup

base="-Zmiri-tree-borrows -Zmiri-permissive-provenance"
extra=${MIRIFLAGS:-}
status=0

echo "miri: maple and vma, unit and integration tests ($(elapsed) so far)"
MIRIFLAGS="$base -Zmiri-ignore-leaks $extra" \
    cargo "+$toolchain" miri test -p maple-mm-tree -p maple-mm-vma --lib --tests -- "$@" || status=$?

if [ "$status" -eq 0 ] && [ "${MIRI_DOCTESTS:-0}" = 1 ]; then
    echo "miri: doc-tests ($(elapsed) so far)"
    MIRIFLAGS="$base -Zmiri-ignore-leaks $extra" \
        cargo "+$toolchain" miri test -p maple-mm-tree -p maple-mm-vma --doc -- "$@" || status=$?
fi

if [ "$status" -eq 0 ] && [ "$#" -eq 0 ]; then
    # Leak-checked: trees with their own collector, dropped with it before the test ends.
    echo "miri: leak check of the own-collector tests ($(elapsed) so far)"
    MIRIFLAGS="$base $extra" cargo "+$toolchain" miri test -p maple-mm-tree --test threads --test atomic -- \
        replaced_values_are_dropped_once_when_readers_are_gone \
        a_snapshot_keeps_overwritten_values_alive \
        a_dropped_transaction_drops_its_own_values_at_once \
        values_are_dropped_once_whether_the_transaction_commits_or_not \
        published_values_move_to_copies_and_are_dropped_once || status=$?
fi

if [ "$status" -eq 0 ]; then
    echo "miri: passed in $(elapsed)"
else
    echo "miri: FAILED (exit $status) after $(elapsed)"
fi
exit "$status"

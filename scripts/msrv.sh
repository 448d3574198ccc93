#!/usr/bin/env bash
# Checks the declared minimum Rust versions (rust-version in the manifests) with the toolchains
# themselves:
#
#   cargo +1.80.0 check -p maple-mm-tree -p maple-mm-vma -p maple-mm-core   (the libraries)
#   cargo +1.85.0 check -p maple-mm                                          (the binary package)
#
#   bash scripts/msrv.sh            (from anywhere)
#
# Both run against the committed Cargo.lock, in their own target directory
# (${CARGO_TARGET_DIR:-target}/msrv). MSRV_FRESH=1 first resolves every dependency to its newest
# compatible version in a copy of the workspace (what a user without our lock file gets when
# their resolver ignores rust-version, as resolver 2 does) and checks that copy instead.
#
# A missing toolchain is installed with rustup; when that cannot be done the script exits 2,
# or, with MSRV_ALLOW_MISSING=1, reports the check as skipped and exits 0.
# Timing, on two cores: under a second with a warm target directory, about 15 s cold (with the
# dependencies already downloaded). CI runs it.
#
# Only the libraries and the binary are checked: the tests and benchmarks are not, as their
# dev-dependencies need a newer toolchain (criterion's pull in edition-2024 crates).

set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

libs=(-p maple-mm-tree -p maple-mm-vma -p maple-mm-core)
lib_toolchain=1.80.0
bin_toolchain=1.85.0
started=$(date +%s)
elapsed() { echo "$(($(date +%s) - started)) s"; }

have() {
    rustup run "$1" cargo --version >/dev/null 2>&1 && return 0
    echo "msrv: toolchain $1 missing; installing it"
    rustup toolchain install "$1" --profile minimal >/dev/null 2>&1 && return 0
    if [[ "${MSRV_ALLOW_MISSING:-0}" == "1" ]]; then
        echo "msrv: SKIPPED: toolchain $1 is not installed and could not be installed"
        exit 0
    fi
    echo "msrv: FAIL: toolchain $1 is not installed and could not be installed" >&2
    exit 2
}
have "$lib_toolchain"
have "$bin_toolchain"

target="${CARGO_TARGET_DIR:-$root/target}/msrv"
work=$root
if [[ "${MSRV_FRESH:-0}" == "1" ]]; then
    work=$(mktemp -d "${TMPDIR:-/tmp}/maple-mm-msrv.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    git -C "$root" ls-files -z --cached --others --exclude-standard -- . ':!fuzz' |
        tar cf - -C "$root" --null -T - | tar xf - -C "$work"
    rm -f "$work/Cargo.lock"
    (cd "$work" && cargo generate-lockfile)
    echo "msrv: fresh resolution in $work"
fi
export CARGO_TARGET_DIR=$target
lock_before=$(cksum <"$work/Cargo.lock")

cd "$work"
echo "msrv: cargo +$lib_toolchain check ${libs[*]}"
cargo "+$lib_toolchain" check "${libs[@]}"
echo "msrv: cargo +$bin_toolchain check -p maple-mm"
cargo "+$bin_toolchain" check -p maple-mm

# An old cargo must not have rewritten the lock file (its format or its versions).
if [[ "$(cksum <"$work/Cargo.lock")" != "$lock_before" ]]; then
    echo "msrv: FAIL: Cargo.lock changed under the old toolchains" >&2
    exit 1
fi
echo "msrv: ok: libraries on $lib_toolchain, maple-mm on $bin_toolchain ($(elapsed))"

#!/usr/bin/env bash
# Checks that every package of the workspace can be published:
#
# 1. the license files: each library directory (maple/, vma/, mm/) ships its own copies of
#    LICENSE-MIT and LICENSE-APACHE (a package holds only files inside its directory), and
#    they must stay identical to the ones at the root; each has its README.md;
# 2. `cargo publish --workspace --dry-run`: packages the four packages (the libraries against
#    each other, as the registry will see them), builds each from its package, uploads nothing.
#
#   bash scripts/package-check.sh           (from anywhere)
#   PACKAGE_DRY_RUN=0 bash scripts/package-check.sh    (the file checks alone)
#
# The dry run refuses uncommitted changes (ALLOW_DIRTY=1 passes --allow-dirty) and needs the
# registry's index. Packaged sizes are printed; over 10 MB a package cannot be uploaded.

set -euo pipefail
cd "$(dirname "$0")/.."

status=0
for crate in maple vma mm; do
    for file in LICENSE-MIT LICENSE-APACHE; do
        if ! cmp -s "$file" "$crate/$file"; then
            echo "package-check: FAIL: $crate/$file differs from ./$file (cp $file $crate/)" >&2
            status=1
        fi
    done
    [[ -f "$crate/README.md" ]] || { echo "package-check: FAIL: $crate/README.md missing" >&2; status=1; }
done
[[ $status -eq 0 ]] || exit 1
echo "package-check: license files and READMEs in place"

if [[ "${PACKAGE_DRY_RUN:-1}" == "0" ]]; then
    exit 0
fi
# `cargo publish --workspace` verifies each package against the others through a local
# registry overlay, which cargo extracts under $CARGO_HOME/registry/src/-<hash of the path>/ and
# does not extract again when it is there: a dry run from an earlier checkout at the same path
# would shadow today's packages with stale sources. Remove our own packages' old extractions.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/maple-mm-*
args=(--workspace --dry-run)
[[ "${ALLOW_DIRTY:-0}" == "1" ]] && args+=(--allow-dirty)
log=$(mktemp "${TMPDIR:-/tmp}/maple-mm-publish.XXXXXX")
trap 'rm -f "$log"' EXIT
if ! cargo publish "${args[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    echo "package-check: FAIL: cargo publish ${args[*]}" >&2
    exit 1
fi
grep -E "^ +(Packaging|Packaged|Verifying|Uploading) " "$log" || true
echo "package-check: ok: cargo publish ${args[*]}"

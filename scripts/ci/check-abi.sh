#!/usr/bin/env bash
# The C library's ABI against its releases (scripts/ci/abi.py): the shared
# library exports exactly adamp.h's functions, a released version's ABI is
# unchanged, and a change that breaks the last release's comes with a new
# MAJOR version. Then the check itself: a header that breaks 1.0.0's ABI
# under a 1.x version must fail it. And docs/c-api.md's list of functions is
# the header's (scripts/ci/c-api-doc.py).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
make -s -C CKernels shared
python3 scripts/ci/abi.py check build/c/shared/libcadamp.so.$(python3 -c "
import sys; sys.path.insert(0, 'scripts/ci'); import abi; print('.'.join(map(str, abi.version_of(abi.HEADER))))")
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sed -e 's/^#define ADAMP_VERSION_MAJOR .*/#define ADAMP_VERSION_MAJOR 1/' -e 's/^#define ADAMP_VERSION_MINOR .*/#define ADAMP_VERSION_MINOR 9/' \
    CKernels/include/adamp.h >"$work/adamp.h"
if out=$(ADAMP_ABI_HEADER="$work/adamp.h" python3 scripts/ci/abi.py check 2>&1); then
    echo "$out" >&2
    echo "check-abi: a 1.9.0 header that breaks 1.0.0's ABI passed the check" >&2
    exit 1
fi
grep -q "adamp_hparams.reserved" <<<"$out" || { echo "$out" >&2; echo "check-abi: the break was not named" >&2; exit 1; }
echo "check-abi: a 1.9.0 header breaking 1.0.0 (adamp_hparams.reserved) is refused"
# docs/c-api.md lists exactly the header's functions, as the header describes them.
python3 scripts/ci/c-api-doc.py --check
stale="$(mktemp)"; trap 'rm -f "$stale"' EXIT
grep -v '^- `adamp_step(' docs/c-api.md > "$stale"
if ADAMP_C_API_DOC="$stale" python3 scripts/ci/c-api-doc.py --check 2>/dev/null; then
    echo "check-abi: a docs/c-api.md missing adamp_step passed c-api-doc --check" >&2; exit 1
fi

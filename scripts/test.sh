#!/usr/bin/env bash
# The test command: the Swift tests (fixture replay, reference, bad input, C
# API from Swift), the C-only test against the library built without Swift,
# and a package that depends on this one by version.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && ! command -v swift >/dev/null 2>&1 && export PATH="/opt/swift/usr/bin:$PATH"
swift test
make -s -C CKernels check
# ADAMP_ISA forces a variant; an unknown name is reported, never fatal.
ADAMP_ISA=scalar make -s -C CKernels check
out=$(ADAMP_ISA=no-such-isa make -s -C CKernels check 2>&1)
echo "$out" | grep -q "ADAMP_ISA=no-such-isa is not one of" || { echo "ADAMP_ISA: unknown name not reported" >&2; exit 1; }
echo "$out" | tail -1
bash scripts/check-dependent.sh

#!/usr/bin/env bash
# The test command: the Swift tests (fixture replay, reference, bad input, C
# API from Swift), the C-only test against the library built without Swift,
# and a package that depends on this one by version.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && ! command -v swift >/dev/null 2>&1 && export PATH="/opt/swift/usr/bin:$PATH"
swift test
make -s -C CKernels check
bash scripts/check-dependent.sh

#!/usr/bin/env bash
# The core (AdamPKit and the C library) builds and passes its tests on a
# machine with no OpenBLAS, LAPACKE or Open MPI: with the package's traits
# off (Package.swift) and pkg-config finding none of them, the test binary
# links none of them, the fixtures replay through AdamPKit, and the demo and
# the MPI benchmark, built empty, say what they need.
set -euo pipefail
cd "$(dirname "$0")/../.."
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
core=(--disable-default-traits --scratch-path "$scratch")
export PKG_CONFIG_LIBDIR=/nonexistent PKG_CONFIG_PATH=
swift build --build-tests "${core[@]}" 2>&1 | grep -E "error|warning: |Build complete" || true
bin="$scratch/debug"
[ -x "$bin/swift-adampPackageTests.xctest" ] || { echo "check-core: the core's tests did not build without the traits" >&2; exit 1; }
linked=$(ldd "$bin/swift-adampPackageTests.xctest" | grep -Ei "openblas|lapack|libblas|libmpi" || true)
[ -z "$linked" ] || { echo "$linked" >&2; echo "check-core: the core's tests link a library only a trait should bring" >&2; exit 1; }
echo "the core's tests link no BLAS, LAPACK or MPI library"
out=$(swift test --skip-build "${core[@]}" --filter "FixtureReplayTests|FirstUseTests" 2>&1) &&
    ran=$(grep -E "Test run with [1-9][0-9]* tests? in .* passed" <<<"$out") ||
    { echo "$out" | tail -20 >&2; echo "check-core: the core's fixture replays failed or did not run" >&2; exit 1; }
echo "${ran#*✔ }"
for tool in adamp-demo adamp-bench-mpi; do
    set +e
    msg=$("$bin/$tool" 2>&1)
    rc=$?
    set -e
    [ "$rc" -eq 2 ] && grep -q "built without the package's .* trait" <<<"$msg" ||
        { echo "$msg" >&2; echo "check-core: $tool without its trait did not say what it needs (exit $rc)" >&2; exit 1; }
done
echo "adamp-demo and adamp-bench-mpi without their traits exit 2 naming what they need"

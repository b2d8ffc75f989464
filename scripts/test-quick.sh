#!/usr/bin/env bash
# A contributor's tier, a few minutes: the C library's tests (API, scheduler,
# fused steps, 16-bit storages, every fixture replayed, under every ISA this
# CPU has) and the Swift tests of AdamPKit under one ISA, the best this CPU
# has (ADAMP_TEST_ISAS=name[,name] chooses others). The full tier, which CI
# runs, is scripts/test.sh: all of this under every ISA, sanitizers, fuzzers,
# the demo, install, the PyTorch drop-in, MPI, the ABI and a dependent package.
# Neither tier's core needs OpenBLAS, LAPACKE or Open MPI: where pkg-config
# finds them, this tier shares `swift build`'s build; where not, it builds
# with the package's traits off (Package.swift), which leave them out.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && ! command -v swift >/dev/null 2>&1 && export PATH="/opt/swift/usr/bin:$PATH"
stage() { printf '\n== %s  [%s]\n' "$1" "$(date +%T)"; }
stage "C library: make -C CKernels check"
make -s -C CKernels check
isa=$(build/c/capi_threads_test --isas | tr ' ' '\n' | grep -v '^$' | tail -1)
export ADAMP_TEST_ISAS="${ADAMP_TEST_ISAS:-$isa}"
traits=()
pkg-config --exists openblas lapacke ompi-c 2>/dev/null ||
    traits=(--disable-default-traits --scratch-path .build/core)
stage "Swift: AdamPKitTests under $ADAMP_TEST_ISAS ${traits[*]:+(traits off: no OpenBLAS, LAPACKE or Open MPI found)}"
swift test "${traits[@]}" --filter AdamPKitTests
stage "done"

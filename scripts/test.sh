#!/usr/bin/env bash
# The test command: the Swift tests (fixture replay, reference, bad input, C
# API from Swift), the core without OpenBLAS, LAPACKE or MPI (the package's
# traits off), the C-only tests against the library built without Swift, the
# same under AddressSanitizer and UndefinedBehaviorSanitizer for every ISA
# and 1-3 threads, the API fuzzer and the checkpoint readers' fuzzers (Swift
# and the converter) for a bounded time each ($FUZZ_SECONDS, 60 by
# default), adamp-bench on bad input, adamp-demo as a user runs it, the C
# library installed and linked as a C and C++ user would, the PyTorch drop-in
# installed with pip and tested against adamp and torch.optim, the sharded
# optimizer on 1-4 MPI ranks against one process, the C ABI against its
# releases, a package that depends on this one by version, and every code
# block of the README and docs/ (scripts/ci/check-snippets.py).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && ! command -v swift >/dev/null 2>&1 && export PATH="/opt/swift/usr/bin:$PATH"
# The sanitizer build and the fuzzer use the Swift toolchain's clang (and lld),
# which has the libFuzzer and sanitizer runtimes.
command -v clang >/dev/null 2>&1 || export PATH="$(dirname "$(readlink -f "$(command -v swift)")"):$PATH"
# Each stage says what it runs and when it began: the whole takes 25-40 minutes.
n=0 stages=$(grep -c '^stage ' "$0")
stage() { n=$((n + 1)); printf '\n== [%d/%d %s] %s\n' "$n" "$stages" "$(date +%T)" "$1"; }
stage "swift test: the Swift tests (fixture replays, every ISA)"
swift test
stage "check-core: the core built and tested with no OpenBLAS, LAPACKE or MPI (the package's traits off)"
bash scripts/ci/check-core.sh
stage "make -C CKernels check: the C tests, under each ISA's default, scalar, and an unknown ADAMP_ISA"
make -s -C CKernels check
# ADAMP_ISA forces a variant; an unknown name is reported, never fatal.
ADAMP_ISA=scalar make -s -C CKernels check
out=$(ADAMP_ISA=no-such-isa make -s -C CKernels check 2>&1)
echo "$out" | grep "ADAMP_ISA=no-such-isa is not one of" >/dev/null || { echo "ADAMP_ISA: unknown name not reported" >&2; exit 1; }
echo "$out" | tail -1
stage "make -C CKernels sanitize: the C tests under ASan and UBSan, every ISA, 1-3 threads"
make -s -C CKernels sanitize
stage "check-abi: the C ABI against its releases"
bash scripts/ci/check-abi.sh
stage "fuzz_api: the C API fuzzer"
mkdir -p build
if ! make -s -C CKernels fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}" >build/fuzz.log 2>&1; then
    tail -60 build/fuzz.log
    echo "fuzz_api: a finding (above); its input is in build/san/crash-*" >&2
    exit 1
fi
grep -E '^(Done|stat::new_units_added)' build/fuzz.log
stage "fuzz-checkpoints: the checkpoint readers' fuzzers"
bash scripts/ci/fuzz-checkpoints.sh
stage "check-bench-input: adamp-bench on bad input"
bash scripts/ci/check-bench-input.sh
stage "check-demo: adamp-demo as a user runs it"
bash scripts/ci/check-demo.sh
stage "check-install: the C library installed and linked from C and C++"
bash scripts/ci/check-install.sh
stage "check-python: the PyTorch drop-in installed and tested"
bash scripts/ci/check-python.sh
stage "check-mpi: the sharded optimizer on 1-4 ranks"
bash scripts/ci/check-mpi.sh
stage "check-dependent: a package that depends on this one by version"
bash scripts/ci/check-dependent.sh
stage "check-snippets: every code block of the README and docs/, run as written"
python3 scripts/ci/check-snippets.py --self-test
python3 scripts/ci/check-snippets.py
stage "build-docs: the DocC reference of AdamPKit and AdamPDistributed, no warning"
bash scripts/build-docs.sh

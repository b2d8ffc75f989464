#!/usr/bin/env bash
# The sharded optimizer (AdamPDistributed over Open MPI) on 1, 2, 3 and 4
# ranks: every fixture, 20 steps of ResNet-18 with AdamP, SGDP and Adam, and
# consolidated checkpoints, each bitwise equal to one process; input that is
# bad on one rank, or differs between ranks, refused on every rank. A rank
# that hangs fails the run after $MPI_TIMEOUT seconds (300 by default).
# Release build: the checks step 11.7M parameters a few hundred times.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
swift build -q -c release --product adamp-mpi-tests
swift build -q -c release --product adamp-bench-mpi
tests="$(swift build -c release --show-bin-path)/adamp-mpi-tests"
bench="$(swift build -c release --show-bin-path)/adamp-bench-mpi"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# As root (CI), Open MPI wants to be told; more ranks than cores need --oversubscribe.
mpi=(mpirun --oversubscribe --timeout "${MPI_TIMEOUT:-300}")
[ "$(id -u)" -eq 0 ] && mpi+=(--allow-run-as-root)
for n in 1 2 3 4; do
    if ! ADAMP_MPI_TMP="$work" "${mpi[@]}" -np "$n" "$tests" >"$work/out-$n.txt" 2>&1; then
        grep -E "FAIL|rror" "$work/out-$n.txt" | head -40 >&2 || tail -40 "$work/out-$n.txt" >&2
        echo "check-mpi: failed on $n ranks (output above)" >&2
        exit 1
    fi
    grep "^adamp-mpi-tests" "$work/out-$n.txt"
done
# A rank that exits between steps makes the job fail within seconds, saying
# which rank left (it hung forever); ranks that end apart end cleanly.
for n in 2 3; do
    set +e
    out=$(timeout 60 "${mpi[@]}" -np "$n" "$tests" --leave 2>&1)
    rc=$?
    set -e
    pkill -f "$tests" 2>/dev/null || true
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "adamp_mpi: rank $((n - 1)) left the job" <<<"$out" ||
        { echo "$out" | tail -20 >&2; echo "check-mpi: a rank that left did not end the job on $n ranks (exit $rc)" >&2; exit 1; }
    timeout 60 "${mpi[@]}" -np "$n" "$tests" --finish-apart >/dev/null 2>&1 ||
        { echo "check-mpi: ranks that ended a second apart did not end cleanly on $n ranks" >&2; exit 1; }
done
echo "a rank that exits between steps ends the job at once (2, 3 ranks); ranks that end apart end cleanly"
# From C alone: adamp_mpi.h over the C library built without Swift (its
# flags the library's, CKernels/build.conf).
make -s -C CKernels
read -r -a cflags <<<"$(bash scripts/ci/build-conf.sh ADAMP_CFLAGS)"
mpi_c=(mpicc "${cflags[@]}" -Wall -Wextra -Werror -I "$(bash scripts/ci/build-conf.sh ADAMP_INCLUDE)"
       -I Distributed/CAdamPMPI/include)
"${mpi_c[@]}" Examples/mpi/sharded_step.c Distributed/CAdamPMPI/[a-z]*.c build/c/libcadamp.a -lgomp \
    $(bash scripts/ci/build-conf.sh ADAMP_LIBS) -o "$work/sharded_step"
out=$("${mpi[@]}" -np 3 "$work/sharded_step")
[ "$(echo "$out" | grep -c ': OK$')" -eq 3 ] || { echo "$out" >&2; echo "check-mpi: Examples/mpi/sharded_step.c failed" >&2; exit 1; }
echo "Examples/mpi/sharded_step.c from C on 3 ranks: bitwise adamp_step's"
# What the ranks must agree on: the values the algorithm reads; a shape that
# differs named as the ranks passed it.
"${mpi_c[@]}" Tests/MPIFromC/agree_test.c Distributed/CAdamPMPI/[a-z]*.c build/c/libcadamp.a -lgomp \
    $(bash scripts/ci/build-conf.sh ADAMP_LIBS) -o "$work/agree_test"
for n in 2 3; do
    out=$("${mpi[@]}" -np "$n" "$work/agree_test") || { echo "$out" >&2; echo "check-mpi: agree_test failed on $n ranks" >&2; exit 1; }
    grep "^agree_test" <<<"$out"
done
# adamp-bench-mpi as a user runs it: a table on 2 ranks; bad options exit 2
# with one line naming the option.
out=$("${mpi[@]}" -np 2 "$bench" --model resnet18 --optimizer sgdp --steps 2 --warmup 1)
grep -q "sharded (ZeRO-1)" <<<"$out" && grep -q "state 23.4 MB on rank 0" <<<"$out" ||
    { echo "$out" >&2; echo "check-mpi: adamp-bench-mpi printed no table" >&2; exit 1; }
for bad in "--steps 0" "--model nope" "--optimizer nope" "--gradients nope" "--shapes /nonexistent.json" "--frobnicate"; do
    set +e
    msg=$("$bench" $bad 2>&1 >/dev/null)
    rc=$?
    set -e
    [ "$rc" -eq 2 ] && grep -q "^adamp-bench-mpi: " <<<"$msg" ||
        { echo "check-mpi: adamp-bench-mpi $bad: exit $rc, said: $msg" >&2; exit 1; }
done
echo "adamp-bench-mpi: a table on 2 ranks; 6 bad options refused"

#!/usr/bin/env bash
# The checkpoint readers under libFuzzer-style fuzzing, $FUZZ_SECONDS each
# (60 by default): AdamPKit's JSON and safetensors readers and
# load(stateDict:) (Tests/Fuzz/swift, compiled with AdamPKit's sources by
# swiftc -sanitize=fuzzer,address: no unsafeFlags in Package.swift), and
# the checkpoint converter's reader (cadamp.convert; Tests/Fuzz/fuzz_convert.py under
# atheris, in the venv setup.sh makes). Both start from the seeds in
# Tests/Fuzz/corpus-checkpoints (make_corpus_checkpoints.py): a good
# checkpoint and one file per defect issue 28 found. A finding fails the run
# and leaves its input in build/fuzz-checkpoints/. ADAMP_NO_TORCH=1 (or no
# venv) skips the Python one, saying so.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
seconds="${FUZZ_SECONDS:-60}"
out="build/fuzz-checkpoints"
mkdir -p "$out/modules" "$out/obj" "$out/corpus-swift" "$out/corpus-python"
seeds="Tests/Fuzz/corpus-checkpoints"
swiftc_bin="$(command -v swiftc)"
toolchain="$(dirname "$(readlink -f "$swiftc_bin")")"
cc="${SAN_CC:-$toolchain/clang}"

# The C modules AdamPKit imports, as SwiftPM would make them.
cat >"$out/modules/module.modulemap" <<EOF
module CAdamP { header "$root/CKernels/include/adamp.h" export * }
module CSHA256 { header "$root/Sources/CSHA256/include/sha256.h" export * }
EOF
objs=()
read -r -a cflags <<<"$(bash scripts/ci/build-conf.sh ADAMP_CFLAGS)"
for src in $(bash scripts/ci/build-conf.sh ADAMP_SOURCES) Sources/CSHA256/sha256.c; do
    o="$out/obj/$(basename "$src" .c).o"
    "$cc" "${cflags[@]}" -O1 -g -fsanitize=address,fuzzer-no-link -I"$(bash scripts/ci/build-conf.sh ADAMP_INCLUDE)" \
        -ISources/CSHA256/include -c "$src" -o "$o"
    objs+=("$o")
done
swiftc -module-name AdamPKit -package-name swift_adamp -parse-as-library -O -g -sanitize=fuzzer,address \
    -Xcc -fmodule-map-file="$out/modules/module.modulemap" \
    Sources/AdamPKit/*.swift Tests/Fuzz/swift/fuzz_checkpoint.swift "${objs[@]}" -lgomp -lm -use-ld=lld \
    -o "$out/fuzz_checkpoint"
if ! "$out/fuzz_checkpoint" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$out/" "$out/corpus-swift" "$seeds" >"$out/swift.log" 2>&1; then
    tail -40 "$out/swift.log"
    echo "fuzz_checkpoint: a finding (above); its input is in $out/crash-*" >&2
    exit 1
fi
echo "fuzz_checkpoint (Swift readers): $(grep -E '^stat::number_of_executed_units' "$out/swift.log" | awk '{print $2}') inputs in ${seconds} s, no finding"

py="${ADAMP_PYTHON:-$root/.venv/bin/python}"
if [ -n "${ADAMP_NO_TORCH:-}" ] || ! "$py" -c "import atheris" >/dev/null 2>&1; then
    echo "fuzz_convert (cadamp.convert): SKIPPED (no Python with atheris at $py; ADAMP_NO_TORCH=${ADAMP_NO_TORCH:-})"
    exit 0
fi
if ! "$py" Tests/Fuzz/fuzz_convert.py -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
        -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus-python" "$seeds" >"$out/python.log" 2>&1; then
    tail -40 "$out/python.log"
    echo "fuzz_convert: a finding (above); its input is in $out/crash-*" >&2
    exit 1
fi
echo "fuzz_convert (cadamp.convert): $(grep -E '^stat::number_of_executed_units' "$out/python.log" | awk '{print $2}') inputs in ${seconds} s, no finding"

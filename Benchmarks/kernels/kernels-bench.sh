#!/usr/bin/env bash
# Every micro-kernel of every ISA and storage in ns per element, hot and
# streaming, beside this machine's roofline (kernels_bench.c says what each
# column is). Arguments go to kernels_bench: --isa NAME, --storage NAME,
# --kernel SUBSTRING, --cols N (8: a [64, 8] weight's rows).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
make -s -C "$root/CKernels" bench-kernels
exec "$root/build/c/kernels_bench" "$@"

#!/usr/bin/env bash
# The PyTorch drop-in (Bindings/python) as a PyTorch user installs it: pip
# install into the venv that setup.sh made (torch's CPU build, the official
# adamp 0.3.0, pytest), then its tests: the shared fixtures replayed, the five
# classes against adamp and torch.optim (groups, closures, schedulers,
# state_dicts both ways, the reference path), one OpenMP runtime, hostile
# use (also under AddressSanitizer); and the checkpoint converter under
# hostile input. Uses
# $ADAMP_PYTHON, else .venv/bin/python; ADAMP_NO_TORCH=1 skips it, saying so.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
py="${ADAMP_PYTHON:-$root/.venv/bin/python}"
if [ -n "${ADAMP_NO_TORCH:-}" ] || ! "$py" -c "import torch, adamp, pytest" >/dev/null 2>&1; then
    echo "python binding: SKIPPED (no Python with torch, adamp and pytest at $py; ADAMP_NO_TORCH=${ADAMP_NO_TORCH:-})"
    exit 0
fi
"$py" -m pip install -q ./Bindings/python
# From the tests' folder, so that the installed package is the one imported.
(cd Bindings/python/tests && "$py" -m pytest -q -p no:cacheprovider .)
# The checkpoint converter (cadamp.convert) under hostile input.
(cd Tests/Convert && "$py" -m pytest -q -p no:cacheprovider .)

# The hostile-use tests again, with thousands of mutation sequences, against
# the same library built with AddressSanitizer (loaded by CADAMP_LIBRARY,
# the ASan runtime preloaded into Python): a read or write outside the
# current tensors, or into freed memory, ends the run with its report.
cc="${SAN_CC:-clang}"
runtime="$("$cc" -print-file-name=libclang_rt.asan-x86_64.so 2>/dev/null || true)"
if [ ! -f "$runtime" ]; then
    echo "python binding under AddressSanitizer: SKIPPED (no libclang_rt.asan-x86_64.so from $cc)"
    exit 0
fi
mkdir -p build/asan-python
read -r -a cflags <<<"$(bash scripts/ci/build-conf.sh ADAMP_CFLAGS)"
read -r -a sources <<<"$(bash scripts/ci/build-conf.sh ADAMP_SOURCES)"
"$cc" "${cflags[@]}" -O1 -g -fno-omit-frame-pointer -fsanitize=address -fPIC -shared \
    -I"$(bash scripts/ci/build-conf.sh ADAMP_INCLUDE)" "${sources[@]}" Bindings/python/src/bind.c \
    $(bash scripts/ci/build-conf.sh ADAMP_LIBS) -o build/asan-python/libcadamp.so
(cd Bindings/python/tests && LD_PRELOAD="$runtime" ASAN_OPTIONS=detect_leaks=0 \
    CADAMP_LIBRARY="$root/build/asan-python/libcadamp.so" CADAMP_MUTATION_SEQUENCES="${CADAMP_MUTATION_SEQUENCES:-3000}" \
    "$py" -m pytest -q -p no:cacheprovider test_hostile.py)

#!/usr/bin/env bash
# Installs what building and testing need on a Debian machine with the Swift
# toolchain: C and C++ compilers, make and CMake (for the C-only build of the
# kernels and the install check, which links it from C, C++ and CMake), the
# OpenMP runtime the kernels' threads come from (libgomp), and OpenBLAS and
# LAPACKE with pkg-config (for the linear-algebra tests and the training demo;
# the optimizer library itself uses neither), Open MPI (for the sharded
# optimizer, AdamPDistributed, and its tests under mpirun). OpenBLAS comes as its OpenMP
# build (libopenblas-openmp-dev, which satisfies libopenblas-dev), so that
# BLAS and the optimizer share one OpenMP thread pool: with the pthreads
# build each spins while the other works (docs/performance.md, "Between steps"). On a machine
# that already has the pthreads build, update-alternatives chooses.
# Installs nothing that is already there.
set -euo pipefail
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
command -v swift >/dev/null 2>&1 || { echo "setup: the Swift toolchain (6.1 or later) is needed: https://www.swift.org/install/linux/" >&2; exit 1; }
packages=(gcc g++ make cmake libc6-dev libgomp1 pkg-config libopenblas-openmp-dev libopenblas-dev liblapacke-dev
          libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# PyTorch's CPU build and the official adamp package, in .venv, for the
# checkpoint interop tests (Tests/Interop), the PyTorch drop-in's tests
# (Bindings/python), the converter's tests and fuzzer (atheris) and the
# comparisons: never a
# dependency of the package. ADAMP_NO_TORCH=1 skips it; the interop tests
# then report themselves skipped.
if [ -z "${ADAMP_NO_TORCH:-}" ] && ! .venv/bin/python -c "import torch, adamp, pytest, atheris" >/dev/null 2>&1; then
    if command -v python3 >/dev/null 2>&1 && python3 -m venv .venv &&
        .venv/bin/pip install -q "torch==2.13.0+cpu" "adamp==0.3.0" numpy pytest atheris; then
        echo "setup: .venv has $(.venv/bin/python -c 'import torch; print("torch", torch.__version__)') and adamp 0.3.0"
    else
        echo "setup: WARNING: could not make .venv with torch and adamp; the PyTorch interop tests will be skipped" >&2
    fi
fi

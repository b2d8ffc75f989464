"""Builds the C kernels (csrc -> ../../CKernels), with the drop-in's binder
(src/bind.c), into the package as a plain shared library that cadamp loads
with ctypes. It is deliberately not linked
to an OpenMP runtime: at import, cadamp binds it to the runtime the process
already has (PyTorch's), so that one thread pool serves both."""
import glob
import os
import re

from setuptools import Extension, setup

here = os.path.dirname(os.path.abspath(__file__))
sources = sorted(os.path.relpath(p, here) for p in glob.glob(os.path.join(here, "csrc", "src", "*.c")))
if not sources:
    raise SystemExit("cadamp: the C sources are not in csrc/src (csrc links to the repository's CKernels)")
sources.append("src/bind.c")   # the drop-in's own: reads PyTorch tensors for the library (bind.c)

with open(os.path.join(here, "csrc", "include", "adamp.h")) as f:
    header = f.read()
version = ".".join(re.search(rf"#define ADAMP_VERSION_{part} (\d+)", header).group(1) for part in ("MAJOR", "MINOR", "PATCH"))

setup(
    version=version,   # the C library's, written once in adamp.h
    ext_modules=[
        Extension(
            "cadamp._libcadamp",
            sources=sources,
            include_dirs=["csrc/include"],
            extra_compile_args=["-O2", "-std=c11", "-ffp-contract=off", "-fvisibility=hidden"],
            libraries=["m"],
        )
    ],
)

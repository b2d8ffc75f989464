"""Builds the C kernels (csrc -> ../../CKernels) into the package as a plain
shared library that cadamp loads with ctypes. It is deliberately not linked
to an OpenMP runtime: at import, cadamp binds it to the runtime the process
already has (PyTorch's), so that one thread pool serves both."""
import glob
import os

from setuptools import Extension, setup

here = os.path.dirname(os.path.abspath(__file__))
sources = sorted(os.path.relpath(p, here) for p in glob.glob(os.path.join(here, "csrc", "src", "*.c")))
if not sources:
    raise SystemExit("cadamp: the C sources are not in csrc/src (csrc links to the repository's CKernels)")

setup(
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

"""Builds the C kernels (csrc -> ../../CKernels), with the drop-in's binder
(src/bind.c), into the package as a plain shared library that cadamp loads
with ctypes. Its sources, flags and headers are the C library's one build
description, csrc/build.conf, read here. It is deliberately not linked to
an OpenMP runtime: at import, cadamp binds it to the runtime the process
already has (PyTorch's), so that one thread pool serves both."""
import glob
import os
import re

from setuptools import Extension, setup

here = os.path.dirname(os.path.abspath(__file__))
csrc = os.path.join(here, "csrc")
if not os.path.exists(os.path.join(csrc, "build.conf")):
    raise SystemExit("cadamp: the C library is not in csrc (csrc links to the repository's CKernels)")
with open(os.path.join(csrc, "build.conf")) as f:
    conf = dict(re.findall(r"^(ADAMP_\w+) *= *(.*)$", f.read(), re.M))


def paths(name):
    """The files of a build.conf entry, relative to this folder (globs expanded)."""
    return sorted(os.path.relpath(p, here) for word in conf[name].split()
                  for p in glob.glob(os.path.join(csrc, word)))


with open(os.path.join(csrc, "include", "adamp.h")) as f:
    header = f.read()
version = ".".join(re.search(rf"#define ADAMP_VERSION_{part} (\d+)", header).group(1) for part in ("MAJOR", "MINOR", "PATCH"))

setup(
    version=version,   # the C library's, written once in adamp.h
    ext_modules=[
        Extension(
            "cadamp._libcadamp",
            # The drop-in's own C beside the library's: reads PyTorch tensors for it.
            sources=paths("ADAMP_SOURCES") + ["src/bind.c"],
            # A header changed rebuilds the library (setuptools compares times).
            depends=paths("ADAMP_HEADERS") + [os.path.join("csrc", "build.conf")],
            include_dirs=[os.path.join("csrc", conf["ADAMP_INCLUDE"])],
            extra_compile_args=conf["ADAMP_CFLAGS"].split() + conf["ADAMP_SHARED_CFLAGS"].split(),
            libraries=[lib[2:] for lib in conf["ADAMP_LIBS"].split()],
        )
    ],
)

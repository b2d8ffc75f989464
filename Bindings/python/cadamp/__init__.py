"""cadamp: AdamP, SGDP, Adam, AdamW and SGD for PyTorch on CPU, each step one
call of swift-adamp's C kernels (SIMD, threads) over every parameter.

    import cadamp
    optimizer = cadamp.AdamP(model.parameters(), lr=1e-3, weight_decay=1e-2)

The classes take the arguments of, and save and load the state_dicts of, the
official adamp 0.3.0 (AdamP, SGDP) and torch.optim (Adam, AdamW, SGD).
"""
from ._c import library_path, openmp_runtime, version
from .optim import SGD, SGDP, Adam, AdamP, AdamW

__all__ = ["AdamP", "SGDP", "Adam", "AdamW", "SGD", "version", "library_path", "openmp_runtime"]
__version__ = version   # the C library's (adamp.h), as the package's

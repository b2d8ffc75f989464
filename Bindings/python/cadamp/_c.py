"""The C library (CKernels/include/adamp.h) through ctypes: its structs, its
loading, and the OpenMP runtime it runs on.

The library built with this package is not linked to an OpenMP runtime. It
is bound, at load, to the one the process already has: PyTorch's (which its
wheels bundle), so that PyTorch's threads and the optimizer's are one pool.
Two runtimes in one process each keep their own threads, which spin after
their work and take the cores the other needs next (README, "OpenMP
runtimes"). Two environment variables override this:
CADAMP_OPENMP_RUNTIME=/path/to/libgomp.so binds it to that runtime instead,
and CADAMP_LIBRARY=/path/to/libcadamp.so uses another build of the library
(an installed one names its own runtime, libgomp.so.1, which is PyTorch's
when PyTorch's has that name, as in its CPU wheels).
"""
import ctypes
import glob
import os

import torch  # noqa: F401  (loads PyTorch's OpenMP runtime before the library binds to it)


class HParams(ctypes.Structure):
    _fields_ = [(f, ctypes.c_double) for f in ("lr", "beta1", "beta2", "momentum", "dampening", "eps",
                                               "weight_decay", "delta", "wd_ratio")] + \
               [(f, ctypes.c_int32) for f in ("nesterov", "amsgrad", "maximize", "projection")]


class Tensor(ctypes.Structure):
    _fields_ = [("param", ctypes.c_void_p), ("grad", ctypes.c_void_p), ("state0", ctypes.c_void_p),
                ("state1", ctypes.c_void_p), ("state2", ctypes.c_void_p), ("hparams", ctypes.c_void_p),
                ("rows", ctypes.c_size_t), ("cols", ctypes.c_size_t), ("ndim", ctypes.c_int32),
                ("projection", ctypes.c_int32), ("step", ctypes.c_int64)]


class Config(ctypes.Structure):
    _fields_ = [("isa", ctypes.c_int), ("threads", ctypes.c_int32), ("block", ctypes.c_int64)]


# adamp_tensor as 10 int64 columns, so that a step fills its table with a few
# tensor operations instead of a Python loop per field.
assert ctypes.sizeof(Tensor) == 80
COLUMNS = dict(param=0, grad=1, state0=2, state1=3, state2=4, hparams=5, rows=6, cols=7, ndim_projection=8, step=9)

ALGORITHMS = {"adamp": 1, "sgdp": 2, "adam": 3, "adamw": 4, "sgd": 5}
DTYPES = {torch.float32: 1, torch.float64: 2}
FIELDS = ["none", "lr", "betas[0]", "betas[1]", "momentum", "dampening", "eps", "weight_decay", "delta",
          "wd_ratio", "nesterov", "amsgrad", "maximize", "projection"]


def _openmp_runtime():
    """The path of the OpenMP runtime already in this process, else None."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "/libgomp" in path or "/libiomp" in path or "/libomp" in path:
                return path
    return None


class StepOptions(ctypes.Structure):
    """adamp_step_options (adamp.h). A library older than this header reads
    the fields its own struct has, by `size`."""
    _fields_ = [("size", ctypes.c_size_t), ("grad_mul", ctypes.c_double), ("drop_stats", ctypes.c_int32)]


def _load():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.environ.get("CADAMP_LIBRARY") or next(iter(glob.glob(os.path.join(here, "_libcadamp*.so"))), None)
    if path is None:
        raise ImportError("cadamp: its C library was not built (pip install ./Bindings/python builds it; "
                          "or set CADAMP_LIBRARY to an installed libcadamp.so)")
    runtime = os.environ.get("CADAMP_OPENMP_RUNTIME") or _openmp_runtime() or "libgomp.so.1"
    try:
        ctypes.CDLL(runtime, mode=ctypes.RTLD_GLOBAL)  # already loaded: now also global
    except OSError as e:
        raise ImportError(f"cadamp: no OpenMP runtime to run on ({e})") from e
    lib = ctypes.CDLL(path)
    lib.adamp_version.restype = ctypes.c_char_p
    lib.adamp_status_string.restype = ctypes.c_char_p
    lib.adamp_field_name.restype = ctypes.c_char_p
    lib.adamp_stats_len.restype = ctypes.c_size_t
    lib.adamp_stats_len.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    lib.adamp_step_ex.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t,
                                  ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(StepOptions)]
    lib.adamp_hparams_check.argtypes = [ctypes.c_int, ctypes.POINTER(HParams), ctypes.POINTER(ctypes.c_int),
                                        ctypes.POINTER(ctypes.c_char_p)]
    return lib, path, runtime


lib, library_path, openmp_runtime = _load()
version = lib.adamp_version().decode()


def check(algorithm, h):
    """Raises ValueError naming the first hyperparameter out of range."""
    field, rule = ctypes.c_int(0), ctypes.c_char_p()
    if lib.adamp_hparams_check(algorithm, ctypes.byref(h), ctypes.byref(field), ctypes.byref(rule)) != 0:
        name = FIELDS[field.value] if 0 <= field.value < len(FIELDS) else str(field.value)
        value = getattr(h, {"betas[0]": "beta1", "betas[1]": "beta2"}.get(name, name), None)
        raise ValueError(f"Invalid {name} value: {value} ({name} {rule.value.decode()})")

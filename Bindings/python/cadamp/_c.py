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


ALGORITHMS = {"adamp": 1, "sgdp": 2, "adam": 3, "adamw": 4, "sgd": 5}
DTYPES = {torch.float32: 1, torch.float64: 2}


def _openmp_runtime():
    """The path of the OpenMP runtime already in this process, else None."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "/libgomp" in path or "/libiomp" in path or "/libomp" in path:
                return path
    return None


class Shim(ctypes.Structure):
    """cadamp_shim (src/bind.c): PyTorch's stable C shim functions and codes."""
    _fields_ = [(f, ctypes.c_void_p) for f in ("data_ptr", "dim", "sizes", "strides", "dtype", "device_type")] + \
               [(f, ctypes.c_int32) for f in ("cpu", "float32", "float64", "int64")] + [("storage_at", ctypes.c_int64)]


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
    lib.adamp_field_name.argtypes = [ctypes.c_int]
    lib.adamp_stats_len.restype = ctypes.c_size_t
    lib.adamp_stats_len.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    lib.adamp_step_ex.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t,
                                  ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(StepOptions)]
    lib.adamp_hparams_check.argtypes = [ctypes.c_int, ctypes.POINTER(HParams), ctypes.POINTER(ctypes.c_int),
                                        ctypes.POINTER(ctypes.c_char_p)]
    lib.adamp_validate.argtypes = lib.adamp_step_ex.argtypes
    p, size, i32, i64 = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int32, ctypes.c_int64
    lib.cadamp_bind.restype = i64
    lib.cadamp_bind.argtypes = [p, size, p, p, p, p, p, p, p, p, size, p, p, p, p, ctypes.POINTER(i32),
                               ctypes.POINTER(i32)]
    lib.cadamp_bind_why.restype = lib.cadamp_bind_slot.restype = ctypes.c_char_p
    lib.cadamp_bind_why.argtypes = lib.cadamp_bind_slot.argtypes = lib.cadamp_bind_refused.argtypes = [i32]
    lib.cadamp_bind_scratch_len.restype = lib.cadamp_tensor_size.restype = size
    lib.cadamp_bind_scratch_len.argtypes = [size]
    lib.cadamp_store_steps.argtypes = [p, size, p, p, p, p]
    lib.cadamp_read_results.argtypes = [p, size, p, p]
    lib.cadamp_describe.argtypes = [p, p, p]
    return lib, path, runtime


lib, library_path, openmp_runtime = _load()
version = lib.adamp_version().decode()
TENSOR_SIZE = lib.cadamp_tensor_size()
MAX_STATES = lib.cadamp_max_states()


def _storage_at():
    """Where a TensorImpl holds the address of its StorageImpl, if the same
    word in the first 256 bytes of a few tensors' TensorImpls holds it, else
    -1: a hint for prefetching (bind.c), never read as a pointer."""
    found = None
    for t in (torch.zeros(4, 8), torch.zeros(3, dtype=torch.float64)[1:], torch.nn.Parameter(torch.zeros(2)),
              torch.tensor(0.0)):
        words = (ctypes.c_uint64 * 32).from_address(t._cdata)
        at = {8 * k for k in range(32) if words[k] == t.untyped_storage()._cdata}
        found = at if found is None else found & at
    return min(found) if found else -1


def _shim():
    """PyTorch's stable C shim for src/bind.c, checked on tensors whose
    facts Python knows; (None, why) where this PyTorch lacks it or it does
    not read them right (then every step takes the reference path)."""
    name = "libtorch_cpu.so"
    path = os.path.join(os.path.dirname(torch.__file__), "lib", name)
    try:
        torch_lib = ctypes.CDLL(path if os.path.exists(path) else name)
        fns = {f: ctypes.cast(getattr(torch_lib, "aoti_torch_get_" + f), ctypes.c_void_p).value
               for f in ("data_ptr", "dim", "sizes", "strides", "dtype", "device_type")}
        codes = {f: getattr(torch_lib, "aoti_torch_" + f)() for f in
                 ("device_type_cpu", "dtype_float32", "dtype_float64", "dtype_int64")}
    except (OSError, AttributeError) as e:
        return None, f"PyTorch {torch.__version__} has no stable C shim ({e})"
    shim = Shim(**fns, cpu=codes["device_type_cpu"], float32=codes["dtype_float32"],
                float64=codes["dtype_float64"], int64=codes["dtype_int64"], storage_at=_storage_at())
    for t, dtype in ((torch.empty(3, 5)[:, 1:], codes["dtype_float32"]),
                     (torch.empty(2, dtype=torch.float64), codes["dtype_float64"]),
                     (torch.empty((), dtype=torch.int64), codes["dtype_int64"])):
        impl, out = ctypes.c_int64(t._cdata), (ctypes.c_int64 * 21)()
        lib.cadamp_describe(ctypes.byref(shim), ctypes.byref(impl), out)
        got = list(out)
        want = [0, t.data_ptr(), dtype, codes["device_type_cpu"], t.dim()]
        if got[:5] != want or got[5:5 + t.dim()] != list(t.shape) or got[13:13 + t.dim()] != list(t.stride()):
            return None, f"PyTorch {torch.__version__}'s C shim does not read tensors as cadamp expects"
    return shim, None


shim, shim_missing = _shim()


def check(algorithm, h):
    """Raises ValueError naming the first hyperparameter out of range."""
    field, rule = ctypes.c_int(0), ctypes.c_char_p()
    if lib.adamp_hparams_check(algorithm, ctypes.byref(h), ctypes.byref(field), ctypes.byref(rule)) != 0:
        name = lib.adamp_field_name(field.value).decode()
        value = getattr(h, {"betas[0]": "beta1", "betas[1]": "beta2"}.get(name, name), None)
        raise ValueError(f"Invalid {name} value: {value} ({name} {rule.value.decode()})")

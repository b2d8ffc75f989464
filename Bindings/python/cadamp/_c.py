"""The C library (CKernels/include/adamp.h) through ctypes: its structs, its
loading, and the OpenMP runtime it runs on.

The library built with this package is not linked to an OpenMP runtime. It
is bound, at load, to the one the process already has: PyTorch's (which its
wheels bundle), so that PyTorch's threads and the optimizer's are one pool.
Two runtimes in one process each keep their own threads, which spin after
their work and take the cores the other needs next (docs/pytorch.md, "OpenMP
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


def _openmp_runtime():
    """The path of the OpenMP runtime already in this process, else None."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "/libgomp" in path or "/libiomp" in path or "/libomp" in path:
                return path
    return None


class FieldInfo(ctypes.Structure):
    """adamp_field_info (adamp.h): the one struct of the library's that this
    module lays out itself, to read the others' layout from it."""
    _fields_ = [("field", ctypes.c_int), ("member", ctypes.c_char_p), ("name", ctypes.c_char_p),
                ("offset", ctypes.c_size_t), ("kind", ctypes.c_int32), ("own", ctypes.c_int32)]


#: The dtypes whose shim codes bind.c takes (cadamp_shim's members, in order).
_SHIM_DTYPES = ("float32", "float64", "int64", "bfloat16", "float16", "uint16")


class Shim(ctypes.Structure):
    """cadamp_shim (src/bind.c): PyTorch's stable C shim functions and codes."""
    _fields_ = [(f, ctypes.c_void_p) for f in ("data_ptr", "dim", "sizes", "strides", "dtype", "device_type")] + \
               [(f, ctypes.c_int32) for f in ("cpu",) + _SHIM_DTYPES] + [("storage_at", ctypes.c_int64)]


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
    p, size, i32, i64 = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int32, ctypes.c_int64
    lib.adamp_field_name.restype = ctypes.c_char_p
    lib.adamp_field_name.argtypes = [ctypes.c_int]
    lib.adamp_field_describe.restype = ctypes.POINTER(FieldInfo)
    lib.adamp_field_describe.argtypes = [ctypes.c_int]
    lib.adamp_field_used.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.adamp_enum_entry.argtypes = [ctypes.c_int, size, ctypes.POINTER(i32), ctypes.POINTER(ctypes.c_char_p)]
    lib.adamp_state_count.argtypes = [ctypes.c_int, p]
    lib.adamp_state_name.restype = ctypes.c_char_p
    lib.adamp_state_name.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.adamp_stats_len.restype = size
    lib.adamp_stats_len.argtypes = [p, size]
    lib.adamp_step_ex.argtypes = [p, ctypes.c_int, ctypes.c_int, p, size, p, size, p]
    lib.adamp_hparams_check.argtypes = [ctypes.c_int, p, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_char_p)]
    lib.adamp_validate.argtypes = lib.adamp_step_ex.argtypes
    lib.cadamp_bind.restype = i64
    lib.cadamp_bind.argtypes = [p, size, p, p, p, p, p, p, p, p, p, size, p, p, p, p, p, ctypes.POINTER(i32),
                               ctypes.POINTER(i32), p]
    lib.cadamp_bind_shared_memory.restype = i32
    lib.cadamp_bind_why.restype = lib.cadamp_bind_slot.restype = ctypes.c_char_p
    lib.cadamp_bind_why.argtypes = lib.cadamp_bind_slot.argtypes = lib.cadamp_bind_refused.argtypes = [i32]
    lib.cadamp_bind_scratch_len.restype = lib.cadamp_tensor_size.restype = lib.cadamp_hparams_size.restype = size
    lib.cadamp_step_options_size.restype = size
    lib.cadamp_step_options.argtypes = [p, ctypes.c_double, i32, i32, p]
    lib.adamp_master_buffer.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p)]
    lib.adamp_master_takes.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.adamp_state_dtype.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.cadamp_step_limit.restype = i64
    lib.cadamp_bind_scratch_len.argtypes = [size]
    lib.cadamp_store_steps.argtypes = [p, size, p, p, p, p]
    lib.cadamp_read_results.argtypes = [p, size, p, p]
    lib.cadamp_describe.argtypes = [p, p, p]
    return lib, path, runtime


lib, library_path, openmp_runtime = _load()
version = lib.adamp_version().decode()
TENSOR_SIZE = lib.cadamp_tensor_size()
MAX_STATES = lib.cadamp_max_states()
STEP_LIMIT = lib.cadamp_step_limit()   # the largest step count a step takes


# The C library's facts, as it lists them (adamp.h: adamp_enum_entry and
# adamp_field_describe), never restated here.
def _enum(kind):
    """{name: value} of one of adamp.h's enums (an adamp_enum)."""
    out, value, name, i = {}, ctypes.c_int32(), ctypes.c_char_p(), 0
    while lib.adamp_enum_entry(kind, i, ctypes.byref(value), ctypes.byref(name)):
        out[name.value.decode()] = value.value
        i += 1
    return out


_ENUM_ALGORITHM, _ENUM_DTYPE, _ENUM_PROJECTION, _ENUM_PROJECTION_RULE, _ENUM_MASTER = 1, 2, 4, 5, 7   # adamp_enum
_REAL = 1                                                                            # adamp_field_kind
#: "adamp" -> adamp_algorithm, and so on.
ALGORITHMS = _enum(_ENUM_ALGORITHM)
#: torch dtype -> adamp_dtype, by the names the two share ("float32", ...).
DTYPES = {getattr(torch, name): value for name, value in _enum(_ENUM_DTYPE).items()}
#: a group's "projection" ("auto", ...) -> adamp_projection_rule.
PROJECTION_RULES = _enum(_ENUM_PROJECTION_RULE)
#: adamp_projection code -> its name ("skipped", "none", "channel", "layer").
PROJECTIONS = {v: k for k, v in _enum(_ENUM_PROJECTION).items()}
#: "off", "float32", "split" -> adamp_master.
MASTERS = _enum(_ENUM_MASTER)
_DTYPE_OF = {v: k for k, v in DTYPES.items()}


def master_buffer(master):
    """(state name, torch dtype) of a master's buffer ("master_param",
    torch.float32), or None for "off"."""
    name, element = ctypes.c_char_p(), ctypes.c_char_p()
    lib.adamp_master_buffer(master, ctypes.byref(name), ctypes.byref(element))
    return (name.value.decode(), getattr(torch, element.value.decode())) if name.value else None


#: adamp_master -> (state name, torch dtype) of its buffer, for those that keep one.
MASTER_BUFFERS = {m: b for m, b in ((m, master_buffer(m)) for m in MASTERS.values()) if b}


def master_takes(master, dtype):
    """Whether parameters of torch dtype `dtype` may keep `master`."""
    return dtype in DTYPES and bool(lib.adamp_master_takes(master, DTYPES[dtype]))


def state_dtype(dtype, master):
    """The torch dtype of the state of a `dtype` parameter keeping `master`."""
    return _DTYPE_OF[lib.adamp_state_dtype(DTYPES[dtype], master)]


class Field:
    """One hyperparameter as adamp_field_describe() gives it: the group's
    key (and index in a pair: "betas[1]" is ("betas", 1)), the member of
    adamp_hparams, how it is held, and whether it is the library's own."""

    def __init__(self, info):
        self.field, self.member, self.name = info.field, info.member.decode(), info.name.decode()
        self.offset, self.real, self.own = info.offset, info.kind == _REAL, bool(info.own)
        key, _, index = self.name.partition("[")
        self.key, self.index = key, int(index[:-1]) if index else None


def _fields():
    out, f = [], 1
    while lib.adamp_field_describe(f):
        out.append(Field(lib.adamp_field_describe(f).contents))
        f += 1
    return out


FIELDS = _fields()


class HParams(ctypes.Structure):
    """adamp_hparams, laid out from the library's description of it."""
    _fields_ = [(f.member, ctypes.c_double if f.real else ctypes.c_int32) for f in sorted(FIELDS, key=lambda f: f.offset)]


if ctypes.sizeof(HParams) != lib.cadamp_hparams_size() or \
        any(getattr(HParams, f.member).offset != f.offset for f in FIELDS):
    raise ImportError("cadamp: adamp_hparams is not laid out as the library describes it")


def options(grad_mul, drop_stats, master=0, masters=None, buf=None):
    """An adamp_step_options, as a buffer the library fills (`buf`, or a new one)."""
    buf = buf if buf is not None else ctypes.create_string_buffer(lib.cadamp_step_options_size())
    lib.cadamp_step_options(buf, grad_mul, drop_stats, master, masters)
    return buf


def _value(f, group):
    """Field f of a PyTorch group, as the library holds it: a missing flag
    or own field is 0, as PyTorch's defaults and the library's are."""
    if f.key not in group and (f.own or not f.real):
        return 0
    v = group[f.key] if f.index is None else group[f.key][f.index]
    if f.field == _PROJECTION:
        if v not in PROJECTION_RULES:
            raise ValueError(f"cadamp: a group's {f.key} must be one of {', '.join(map(repr, PROJECTION_RULES))}, "
                             f"got {v!r}")
        return PROJECTION_RULES[v]
    if not f.real:
        return int(bool(v))
    return float(v.item()) if isinstance(v, torch.Tensor) else float(v)


_PROJECTION = next(f.field for f in FIELDS if f.key == "projection")


def hparams(algorithm, group):
    """The adamp_hparams of a PyTorch group for an algorithm: the fields it
    reads (adamp_field_used), from the group's keys as PyTorch names them."""
    return HParams(**{f.member: _value(f, group) for f in FIELDS if lib.adamp_field_used(algorithm, f.field)})


def buffers(algorithm, h):
    """The state names of the buffers a step uses under h (state0, ...)."""
    n = lib.adamp_state_count(algorithm, ctypes.byref(h))
    return [lib.adamp_state_name(algorithm, k).decode() for k in range(n)]


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
                 ("device_type_cpu",) + tuple("dtype_" + d for d in _SHIM_DTYPES)}
    except (OSError, AttributeError) as e:
        return None, f"PyTorch {torch.__version__} has no stable C shim ({e})"
    shim = Shim(**fns, cpu=codes["device_type_cpu"], **{d: codes["dtype_" + d] for d in _SHIM_DTYPES},
                storage_at=_storage_at())
    for t, dtype in ((torch.empty(3, 5)[:, 1:], codes["dtype_float32"]),
                     (torch.empty(2, dtype=torch.float64), codes["dtype_float64"]),
                     (torch.empty((), dtype=torch.int64), codes["dtype_int64"]),
                     (torch.empty(2, 3, dtype=torch.bfloat16), codes["dtype_bfloat16"]),
                     (torch.empty(4, dtype=torch.float16), codes["dtype_float16"]),
                     (torch.empty(1, 2, dtype=torch.uint16), codes["dtype_uint16"])):
        impl, out = ctypes.c_int64(t._cdata), (ctypes.c_int64 * 21)()
        lib.cadamp_describe(ctypes.byref(shim), ctypes.byref(impl), out)
        got = list(out)
        want = [0, t.data_ptr(), dtype, codes["device_type_cpu"], t.dim()]
        if got[:5] != want or got[5:5 + t.dim()] != list(t.shape) or got[13:13 + t.dim()] != list(t.stride()):
            return None, f"PyTorch {torch.__version__}'s C shim does not read tensors as cadamp expects"
    return shim, None


shim, shim_missing = _shim()
#: torch dtype -> its shim code, for the dtypes bind.c takes.
SHIM_CODES = {getattr(torch, d): getattr(shim, d) for d in _SHIM_DTYPES} if shim else {}


def check(algorithm, h):
    """Raises ValueError naming the first hyperparameter out of range."""
    field, rule = ctypes.c_int(0), ctypes.c_char_p()
    if lib.adamp_hparams_check(algorithm, ctypes.byref(h), ctypes.byref(field), ctypes.byref(rule)) != 0:
        f = next(f for f in FIELDS if f.field == field.value)
        raise ValueError(f"Invalid {f.name} value: {getattr(h, f.member)} ({f.name} {rule.value.decode()})")

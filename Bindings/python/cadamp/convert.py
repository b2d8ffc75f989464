"""Converts optimizer checkpoints between swift-adamp and PyTorch.

  python -m cadamp.convert to-torch   OURS.safetensors  OUT.pt
  python -m cadamp.convert from-torch STATE_DICT.pt     OUT.safetensors
                           [--optimizer adamp|sgdp|adam|adamw|sgd] [--dtype F32|F64|BF16|F16]

to-torch writes what `optimizer.state_dict()` of the official adamp.AdamP /
adamp.SGDP (adamp 0.3.0) or torch.optim.Adam / AdamW / SGD holds, saved with
torch.save, for `optimizer.load_state_dict(torch.load(OUT))`. from-torch reads
such a state_dict (torch.save of optimizer.state_dict()) and writes a
checkpoint for `opt.load(from:)`. The format is specified in
docs/checkpoint-format.md. (scripts/convert_checkpoint.py in a clone runs
this file, without cadamp installed.)

What differs between the two sides, and how it is carried:
- Step counts. AdamP keeps `step` as an int, Adam and AdamW as a float32
  tensor; SGD and SGDP keep none. Ours are I64 for every optimizer (SGD's
  first-step rule needs it). From PyTorch, a parameter with SGD or SGDP
  state gets step 1 (SGD's buffer exists after its first step; SGDP's step
  count is used by nothing), one without gets none.
- Keys. PyTorch's groups carry keys of its own (foreach, fused, capturable,
  differentiable, decoupled_weight_decay); to-torch takes them from the
  optimizer class's defaults, from-torch drops them.
- Mixed precision. Our state is in the parameters' dtype (`dtype`: F32,
  F64, BF16, F16), or with master weights (metadata `master_weights`:
  "float32", "split") F32 beside `master_param` (F32) or `master_trail`
  (U16). cadamp's groups say `master_weights` (True, "split"): to-torch
  writes it, from-torch reads it; a float32 master does not say whether the
  parameters were BF16 or F16: pass --dtype.
- Names and shapes. A state_dict has neither (unless built from named
  parameters: `param_names`); from-torch takes the names from `param_names`
  and the shapes from the state tensors, and leaves them null elsewhere
  (null shapes are not checked; null names match by position).

Every input is checked before anything is written, as the Swift reader
checks it (the safetensors layout byte for byte, the data's SHA-256 where
the header gives one, step counts, indices, dtypes and shapes); a file that
is not what it should be is refused in one line, `cadamp.convert: FILE:
problem`, with exit status 1. The output is written atomically: a file
already at OUT is replaced whole, or left as it was.

Needs torch; to-torch for adamp/sgdp uses the adamp package's defaults if it
is installed. No numpy.
"""
import argparse
import hashlib
import json
import math
import os
import struct
import sys
import tempfile

PROG = "cadamp.convert"   # the first word of every refusal
FORMAT, VERSION = "swift-adamp.optimizer", 1
# Which buffers and hyperparameters an optimizer has is not restated here:
# each file says it (our tensors `state.<i>.<buffer>` and our groups' keys;
# PyTorch's per-parameter state and group dicts), and both loaders ignore a
# group key that is not theirs.
OPTIMIZERS = ("adamp", "sgdp", "adam", "adamw", "sgd")
# Bytes per element of every dtype the safetensors format names (the Swift
# reader's list: a file may hold any of them; a checkpoint's state only F32,
# F64 and I64).
DTYPES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "I64": 8, "I32": 4, "I16": 2,
          "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1}
#: Each master_weights mode's buffer and its dtype (the C library's
#: ADAMP_MASTERS, which Tests/Convert checks this against), and how cadamp's
#: groups write the mode.
MASTERS = {"off": None, "float32": ("master_param", "F32"), "split": ("master_trail", "U16")}
GROUP_MASTER = {"off": False, "float32": True, "split": "split"}
PARAM_DTYPES = ("F32", "F64", "BF16", "F16")
MAX_HEADER = 100_000_000
DIGEST_KEY = "data_sha256"   # the SHA-256 of the data after the header (Safetensors.swift)
STEP_LIMIT = 2**63 - 1       # step counts are whole numbers in [0, 2^63 - 1)


class Refused(Exception):
    """What is wrong with an input, in words for the user."""


def fail(msg):
    sys.exit(f"{PROG}: {msg}")


def _json(text, what):
    """JSON as the Swift reader takes it: duplicate keys and NaN refused."""
    def pairs(items):
        out = {}
        for k, v in items:
            if k in out:
                raise Refused(f"{what}: duplicate key {k!r}")
            out[k] = v
        return out

    def constant(name):
        raise Refused(f"{what}: {name} is not JSON")
    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except (ValueError, RecursionError) as e:
        raise Refused(f"{what} is not valid JSON ({str(e).splitlines()[0][:100]})") from None


def _is_int(x):
    return type(x) is int


def parse_safetensors(data):
    """The tensors {name: (dtype, shape, bytes)} and metadata of safetensors
    bytes, checked as the Swift reader checks them; Refused otherwise."""
    if len(data) < 8:
        raise Refused(f"not a safetensors file: {len(data)} bytes, shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER:
        raise Refused(f"not a safetensors file, or a corrupt one: its header length {n} exceeds the {MAX_HEADER}-byte limit")
    if 8 + n > len(data):
        raise Refused(f"truncated: the header length says {n} bytes but only {len(data) - 8} follow")
    if data[8:9] != b"{":
        raise Refused("not a safetensors file: the header is not a JSON object")
    try:
        text = data[8:8 + n].decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("corrupt header: not UTF-8") from None
    header = _json(text, "corrupt header")
    if not isinstance(header, dict):
        raise Refused("corrupt header: not a JSON object")
    meta = header.pop("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise Refused("corrupt header: __metadata__ is not an object of strings")
    size = len(data) - 8 - n
    entries = []
    for name, e in header.items():
        at = f"tensor {name!r}"
        if not isinstance(e, dict) or not isinstance(e.get("dtype"), str) or e["dtype"] not in DTYPES:
            raise Refused(f"corrupt header: {at} has no known dtype")
        shape, offsets = e.get("shape"), e.get("data_offsets")
        if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
            raise Refused(f"corrupt header: {at} has no valid shape (a list of integers >= 0)")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_is_int, offsets))
                and 0 <= offsets[0] <= offsets[1]):
            raise Refused(f"corrupt header: {at} has no valid data_offsets [begin, end]")
        begin, end = offsets
        if end > size:
            raise Refused(f"{at} lies outside the file: its data ends at byte {end} but the data holds {size} (truncated?)")
        need = DTYPES[e["dtype"]] * math.prod(shape)
        if need != end - begin:
            raise Refused(f"corrupt header: {at} has {end - begin} bytes, but {e['dtype']} of shape {shape} needs {need}")
        entries.append((begin, end, name, e["dtype"], shape))
    at = 0
    for begin, end, name, _, _ in sorted(entries):
        if begin < at:
            raise Refused(f"corrupt header: tensor {name!r} overlaps another")
        if begin > at:
            raise Refused(f"corrupt header: bytes {at}..<{begin} of the data belong to no tensor")
        at = end
    if at != size:
        raise Refused(f"corrupt header: the tensors end at byte {at} of the data but the file holds {size}")
    body = data[8 + n:]
    if DIGEST_KEY in meta:
        got, want = hashlib.sha256(body).hexdigest(), meta.pop(DIGEST_KEY)
        if got != want:
            raise Refused(f"corrupt: the SHA-256 of its data is {got}, but its header says {want[:80]}")
    return {name: (dtype, shape, body[b:e]) for b, e, name, dtype, shape in entries}, meta


def read_safetensors(path):
    """parse_safetensors of the file at `path`."""
    with open(path, "rb") as f:
        return parse_safetensors(f.read())


def write_atomically(path, write):
    """Calls write(file) on a temporary file beside `path`, flushes it to
    disk, and renames it over `path`: a file already there is replaced whole
    or, on any failure, left as it was (and the temporary file removed)."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=".convert-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass  # some file systems refuse: the rename is made, if not yet durable


def safetensors_bytes(tensors, meta):
    """The file `write_safetensors` writes, with the data's SHA-256 in the metadata."""
    names = sorted(tensors)
    body = b"".join(tensors[k][2] for k in names)
    header, at = {"__metadata__": dict(meta, **{DIGEST_KEY: hashlib.sha256(body).hexdigest()})}, 0
    for name in names:
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [at, at + len(raw)]}
        at += len(raw)
    h = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + body


def write_safetensors(path, tensors, meta):
    data = safetensors_bytes(tensors, meta)
    write_atomically(path, lambda f: f.write(data))


def to_tensor(torch, dtype, shape, raw):
    t = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "BF16": torch.bfloat16,
         "F16": torch.float16, "U16": torch.uint16}[dtype]
    if len(raw) == 0:
        return torch.zeros(shape, dtype=t)
    return torch.frombuffer(bytearray(raw), dtype=t).reshape(shape).clone()


def whole_step(x, what):
    """A step count: a whole number in [0, 2^63 - 1), as the Swift reader takes."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or isinstance(x, float) and not x.is_integer():
        raise Refused(f"{what} is {x!r}: a step count is a whole number in [0, 2^63 - 1)")
    if not 0 <= x < STEP_LIMIT:
        raise Refused(f"{what} is {x!r}: a step count is a whole number in [0, 2^63 - 1)")
    return int(x)


def torch_class(torch, name):
    if name in ("adamp", "sgdp"):
        try:
            import adamp
        except ImportError:
            return None
        return {"adamp": adamp.AdamP, "sgdp": adamp.SGDP}[name]
    return {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}[name]


def checkpoint(tensors, meta):
    """A swift-adamp checkpoint's optimizer, groups, per-parameter state
    {index: (step, {buffer: (dtype, shape, bytes)})} and master weights, checked."""
    if meta.get("format") != FORMAT:
        raise Refused("not a swift-adamp optimizer checkpoint")
    version = meta.get("format_version", "")
    if not version.isdigit() or int(version) < 1:
        raise Refused(f"format_version {version!r} is not a version number")
    if int(version) > VERSION:
        raise Refused(f"format version {version} is newer than this script reads (up to {VERSION})")
    name, dtype = meta.get("optimizer"), meta.get("dtype")
    if name not in OPTIMIZERS:
        raise Refused(f"optimizer {name!r} is not one of {', '.join(OPTIMIZERS)}")
    if dtype not in PARAM_DTYPES:
        raise Refused(f"dtype {dtype!r} is not one of {', '.join(PARAM_DTYPES)}")
    master = meta.get("master_weights", "off")
    if master not in MASTERS or (MASTERS[master] and dtype not in ("BF16", "F16")):
        raise Refused(f"master_weights {master!r} is not one {dtype} parameters keep")
    state_dtype = "F32" if MASTERS[master] else dtype
    for key in ("param_groups", "parameters"):
        if key not in meta:
            raise Refused(f"metadata {key} is missing")
    groups, params = _json(meta["param_groups"], "param_groups"), _json(meta["parameters"], "parameters")
    if not isinstance(params, list) or not all(isinstance(p, dict) for p in params):
        raise Refused("parameters is not a list of objects")
    if not isinstance(groups, list) or not groups or not all(isinstance(g, dict) for g in groups):
        raise Refused("param_groups is not a list of objects")
    seen = []
    for gi, g in enumerate(groups):
        if not isinstance(g.get("params"), list) or not all(map(_is_int, g["params"])):
            raise Refused(f"param_groups[{gi}] has no params list")
        seen += g["params"]
        for k, v in g.items():   # hyperparameters: numbers and booleans (betas a list of them)
            if k != "params" and not all(isinstance(x, (bool, int, float)) or x is None
                                         for x in (v if isinstance(v, list) else [v])):
                raise Refused(f"param_groups[{gi}].{k} is {json.dumps(v)[:80]}, not a number or a boolean")
    if sorted(seen) != list(range(len(params))):
        raise Refused(f"param_groups' params are not each of 0..<{len(params)} once")
    state = {}
    for key in sorted(tensors):
        parts = key.split(".")
        if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit() or int(parts[1]) >= len(params):
            raise Refused(f"tensor {key!r} is not state.<parameter index>.<buffer> of one of {len(params)} parameters")
        i, buffer = int(parts[1]), parts[2]
        t_dtype, shape, raw = tensors[key]
        buffers = state.setdefault(i, [None, {}])[1]
        if buffer == "step":
            if math.prod(shape) != 1 or t_dtype not in ("I64", "F32", "F64"):
                raise Refused(f"{key} is {t_dtype} of shape {shape}: a step count is one I64")
            fmt = {"I64": "<q", "F32": "<f", "F64": "<d"}[t_dtype]
            state[i][0] = whole_step(struct.unpack(fmt, raw)[0], key)
            continue
        want = params[i].get("shape")
        want_dtype = MASTERS[master][1] if MASTERS[master] and buffer == MASTERS[master][0] else state_dtype
        if t_dtype != want_dtype:
            raise Refused(f"{key} is {t_dtype}; the checkpoint's is {want_dtype}")
        if want is not None and shape != want:
            raise Refused(f"{key} has shape {shape} but its parameter has shape {want}")
        buffers[buffer] = (t_dtype, shape, raw)
    for i, (step, buffers) in state.items():
        if step is None:
            raise Refused(f"parameter {i} has state buffers but no state.{i}.step")
    return name, groups, params, state, master


def to_torch(src, dst):
    import torch
    tensors, meta = read_safetensors(src)
    name, groups, params, state, master = checkpoint(tensors, meta)
    cls = torch_class(torch, name)
    # PyTorch's own keys (foreach, fused, ...), as the class sets them by default.
    extra = {}
    if cls is not None:
        kw = {"lr": groups[0].get("lr", 1.0)} if name == "sgdp" else {}
        try:
            defaults = cls([torch.zeros(1)], **kw).param_groups[0]
        except (TypeError, ValueError) as e:
            raise Refused(f"param_groups[0]: {name} refuses it ({e})") from None
        extra = {k: v for k, v in defaults.items() if k not in groups[0]}
    out_groups = []
    for g in groups:
        og = dict(extra)
        og.update({k: (tuple(v) if k == "betas" and isinstance(v, list) else v) for k, v in g.items()})
        if MASTERS[master]:
            og["master_weights"] = GROUP_MASTER[master]
        out_groups.append(og)
    out = {}
    for i, (step, buffers) in sorted(state.items()):
        s = {}
        if name == "adamp":
            s["step"] = step
        elif name in ("adam", "adamw"):
            s["step"] = torch.tensor(float(step), dtype=torch.float32)
        for buffer, entry in buffers.items():
            s[buffer] = to_tensor(torch, *entry)
        if s:
            out[i] = s
    write_atomically(dst, lambda f: torch.save({"state": out, "param_groups": out_groups}, f))


def raw_bytes(t):
    """A tensor's elements as bytes, row-major (a fresh copy owns exactly them)."""
    return bytes(t.reshape(-1).clone().untyped_storage())


def infer(groups):
    g = groups[0]
    if "delta" in g:
        return "adamp" if "betas" in g else "sgdp"
    if "betas" in g:
        if "decoupled_weight_decay" not in g:
            raise Refused("Adam or AdamW? this PyTorch's state_dict does not say: pass --optimizer")
        return "adamw" if g["decoupled_weight_decay"] else "adam"
    return "sgd"


def _plain(torch, v, what):
    """A group value as JSON holds it (tuples as lists, one-element tensors as numbers)."""
    if isinstance(v, (tuple, list)):
        return [_plain(torch, x, what) for x in v]
    if torch.is_tensor(v):
        if v.numel() != 1:
            raise Refused(f"{what} is a tensor of {v.numel()} elements, not a number")
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        raise Refused(f"{what} is {v}, not a finite number")
    if v is not None and not isinstance(v, (bool, int, float, str)):
        raise Refused(f"{what} is a {type(v).__name__}, not a number, a string or a boolean")
    return v


def _group_master(groups):
    """The master_weights mode ("off", "float32", "split") cadamp's groups
    keep: one for every group, as swift-adamp keeps one per optimizer."""
    modes = set()
    for gi, g in enumerate(groups):
        v = g.get("master_weights", False)
        mode = next((m for m, w in GROUP_MASTER.items() if v is w or (isinstance(v, str) and v == w)), None)
        if mode is None:
            raise Refused(f"param_groups[{gi}].master_weights is {v!r}, not False, True or 'split'")
        modes.add(mode)
    if len(modes) > 1:
        raise Refused("the groups keep different master weights; a swift-adamp optimizer keeps one")
    return modes.pop()


def from_torch(src, dst, name, dtype):
    import torch
    try:
        sd = torch.load(src, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds for a file that is not its own
        raise Refused(f"not a file torch.save wrote ({type(e).__name__}: {(str(e).splitlines() or [''])[0][:200]})") from None
    if not isinstance(sd, dict) or not isinstance(sd.get("state"), dict) or not isinstance(sd.get("param_groups"), list):
        raise Refused("not an optimizer state_dict (torch.save(optimizer.state_dict(), ...))")
    groups = sd["param_groups"]
    if not groups or not all(isinstance(g, dict) and isinstance(g.get("params"), list) for g in groups):
        raise Refused("param_groups is not a list of groups with params")
    ids = [i for g in groups for i in g["params"]]
    n = len(ids)
    if not all(map(_is_int, ids)) or sorted(ids) != list(range(n)):
        raise Refused(f"param_groups' params are not each of 0..<{n} once")
    name = name or infer(groups)
    names = [None] * n
    for gi, g in enumerate(groups):
        given = g.get("param_names")
        if given is not None:
            if not isinstance(given, list) or len(given) != len(g["params"]) or not all(isinstance(x, str) for x in given):
                raise Refused(f"param_groups[{gi}].param_names is not a name for each parameter")
            for k, idx in enumerate(g["params"]):
                names[idx] = given[k]
    master = _group_master(groups)
    if master == "split" and dtype not in (None, "BF16"):
        raise Refused(f"split master weights keep BF16 parameters, not the --dtype {dtype} given")
    if master == "float32" and dtype not in ("BF16", "F16"):
        raise Refused("float32 master weights: pass --dtype BF16 or F16, the parameters' dtype (the state is F32)")
    kinds = {torch.float32: "F32", torch.float64: "F64", torch.bfloat16: "BF16", torch.float16: "F16",
             torch.uint16: "U16"}
    master_buffer = MASTERS[master]
    tensors, shapes, seen = {}, [None] * n, set()
    for idx, s in sd["state"].items():
        if not _is_int(idx) or not 0 <= idx < n:
            raise Refused(f"state {idx!r} is not the index of one of the {n} parameters")
        if not isinstance(s, dict):
            raise Refused(f"state {idx} is not a dict of tensors")
        bufs = [b for b, v in s.items() if b != "step" and torch.is_tensor(v)]
        if not bufs and "step" not in s:
            continue
        if "step" in s:
            step = s["step"]
            if torch.is_tensor(step):
                if step.numel() != 1:
                    raise Refused(f"state {idx} step is a tensor of {step.numel()} elements, not a count")
                step = step.item()
            step = whole_step(step, f"state {idx} step")
        else:
            step = 1  # SGD, SGDP: state exists only after a step
        tensors[f"state.{idx}.step"] = ("I64", [], struct.pack("<q", step))
        for b in bufs:
            if not isinstance(b, str) or not b or "." in b:
                raise Refused(f"state {idx} has a buffer named {b!r}")
            t = s[b].detach()
            if t.dtype not in kinds:
                raise Refused(f"state {idx} {b} is {t.dtype}; not a dtype of swift-adamp's state")
            if master_buffer and b == master_buffer[0] and kinds[t.dtype] != master_buffer[1]:
                raise Refused(f"state {idx} {b} is {t.dtype}; a {master} master's {b} is {master_buffer[1]}")
            if t.is_sparse or t.layout != torch.strided:
                raise Refused(f"state {idx} {b} is not a dense tensor")
            t = t.contiguous().cpu()
            if shapes[idx] is not None and list(t.shape) != shapes[idx]:
                raise Refused(f"state {idx} {b} has shape {list(t.shape)} but its other state has {shapes[idx]}")
            if not (master_buffer and b == master_buffer[0]):
                seen.add(kinds[t.dtype])
            shapes[idx] = list(t.shape)
            tensors[f"state.{idx}.{b}"] = (kinds[t.dtype], list(t.shape), raw_bytes(t))
    if len(seen) > 1:
        raise Refused(f"state in more than one dtype ({', '.join(sorted(seen))})")
    if master_buffer:
        dt = dtype or "BF16"
        if seen and seen != {"F32"}:
            raise Refused(f"the state beside {master} master weights is {seen.pop()}, not F32")
    else:
        dt = dtype or (seen.pop() if seen else "F32")
        if seen and dt not in seen:
            raise Refused(f"the state is {seen.pop()}, not the --dtype {dt} given")
    out_groups = []
    for gi, g in enumerate(groups):
        og = {k: _plain(torch, v, f"param_groups[{gi}].{k}") for k, v in g.items()
              if k not in ("param_names", "params", "master_weights")}
        og["params"] = list(g["params"])
        out_groups.append(og)
    meta = {"format": FORMAT, "format_version": str(VERSION), "optimizer": name, "dtype": dt,
            "param_groups": json.dumps(out_groups, allow_nan=False),
            "parameters": json.dumps([{"name": names[i], "shape": shapes[i]} for i in range(n)])}
    if master_buffer:
        meta["master_weights"] = master
    write_safetensors(dst, tensors, meta)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m cadamp.convert", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("to-torch", help="a swift-adamp checkpoint to a PyTorch optimizer state_dict (.pt)")
    a.add_argument("src"), a.add_argument("dst")
    b = sub.add_parser("from-torch", help="a PyTorch optimizer state_dict (.pt) to a swift-adamp checkpoint")
    b.add_argument("src"), b.add_argument("dst")
    b.add_argument("--optimizer", choices=list(OPTIMIZERS), help="which optimizer wrote it (inferred from its keys if not given)")
    b.add_argument("--dtype", choices=list(PARAM_DTYPES),
                   help="the parameters' dtype, for a state_dict without state tensors (default F32) or with "
                        "float32 master weights")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "to-torch":
            to_torch(args.src, args.dst)
        else:
            from_torch(args.src, args.dst, args.optimizer, args.dtype)
    except Refused as e:
        fail(f"{args.src}: {e}")
    except OSError as e:   # the file system's own words, for either file
        fail(f"{e.filename or args.src}: {e.strerror or e}")
    except MemoryError:
        fail(f"{args.src}: too large to convert in memory")


if __name__ == "__main__":
    main()

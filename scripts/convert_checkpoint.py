#!/usr/bin/env python3
"""Converts optimizer checkpoints between swift-adamp and PyTorch.

  convert_checkpoint.py to-torch   OURS.safetensors  OUT.pt
  convert_checkpoint.py from-torch STATE_DICT.pt     OUT.safetensors
                        [--optimizer adamp|sgdp|adam|adamw|sgd] [--dtype F32|F64]

to-torch writes what `optimizer.state_dict()` of the official adamp.AdamP /
adamp.SGDP (adamp 0.3.0) or torch.optim.Adam / AdamW / SGD holds, saved with
torch.save, for `optimizer.load_state_dict(torch.load(OUT))`. from-torch reads
such a state_dict (torch.save of optimizer.state_dict()) and writes a
checkpoint for `opt.load(from:)`. The format is described in the README
("Checkpoints").

What differs between the two sides, and how it is carried:
- Step counts. AdamP keeps `step` as an int, Adam and AdamW as a float32
  tensor; SGD and SGDP keep none. Ours are I64 for every optimizer (SGD's
  first-step rule needs it). From PyTorch, a parameter with SGD or SGDP
  state gets step 1 (SGD's buffer exists after its first step; SGDP's step
  count is used by nothing), one without gets none.
- Keys. PyTorch's groups carry keys of its own (foreach, fused, capturable,
  differentiable, decoupled_weight_decay); to-torch takes them from the
  optimizer class's defaults, from-torch drops them.
- Names and shapes. A state_dict has neither (unless built from named
  parameters: `param_names`); from-torch takes the names from `param_names`
  and the shapes from the state tensors, and leaves them null elsewhere
  (null shapes are not checked; null names match by position).

Needs torch; to-torch for adamp/sgdp uses the adamp package's defaults if it
is installed. No numpy.
"""
import argparse, json, struct, sys

FORMAT, VERSION = "swift-adamp.optimizer", 1
# Which buffers and hyperparameters an optimizer has is not restated here:
# each file says it (our tensors `state.<i>.<buffer>` and our groups' keys;
# PyTorch's per-parameter state and group dicts), and both loaders ignore a
# group key that is not theirs.
DTYPES = {"F32": 4, "F64": 8, "I64": 8}


def fail(msg):
    sys.exit(f"convert_checkpoint: {msg}")


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        fail(f"{path}: not a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if n > 100_000_000 or 8 + n > len(data):
        fail(f"{path}: not a safetensors file, or truncated")
    try:
        header = json.loads(data[8:8 + n])
    except ValueError as e:
        fail(f"{path}: corrupt safetensors header ({e})")
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        tensors[name] = (e["dtype"], e["shape"], data[base + b:base + end])
    return tensors, meta


def write_safetensors(path, tensors, meta):
    header, blob = {"__metadata__": meta}, b""
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + blob)


def to_tensor(torch, dtype, shape, raw):
    t = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}[dtype]
    if len(raw) == 0:
        return torch.zeros(shape, dtype=t)
    return torch.frombuffer(bytearray(raw), dtype=t).reshape(shape).clone()


def torch_class(torch, name):
    if name in ("adamp", "sgdp"):
        try:
            import adamp
        except ImportError:
            return None
        return {"adamp": adamp.AdamP, "sgdp": adamp.SGDP}[name]
    return {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}[name]


def to_torch(src, dst):
    import torch
    tensors, meta = read_safetensors(src)
    if meta.get("format") != FORMAT:
        fail(f"{src}: not a swift-adamp optimizer checkpoint")
    if int(meta.get("format_version", "0")) > VERSION:
        fail(f"{src}: format version {meta['format_version']} is newer than this script reads")
    name = meta["optimizer"]
    groups = json.loads(meta["param_groups"])
    cls = torch_class(torch, name)
    # PyTorch's own keys (foreach, fused, ...), as the class sets them by default.
    extra = {}
    if cls is not None:
        kw = {"lr": groups[0]["lr"]} if name == "sgdp" else {}
        extra = {k: v for k, v in cls([torch.zeros(1)], **kw).param_groups[0].items() if k not in groups[0]}
    out_groups = []
    for g in groups:
        og = dict(extra)
        og.update({k: (tuple(v) if k == "betas" else v) for k, v in g.items()})
        out_groups.append(og)
    state = {}
    count = len(json.loads(meta["parameters"]))
    for i in range(count):
        if f"state.{i}.step" not in tensors:
            continue
        dtype, shape, raw = tensors[f"state.{i}.step"]
        step = int(to_tensor(torch, dtype, shape, raw).reshape(-1)[0].item())
        s = {}
        if name == "adamp":
            s["step"] = step
        elif name in ("adam", "adamw"):
            s["step"] = torch.tensor(float(step), dtype=torch.float32)
        for key, entry in tensors.items():
            buffer = key[len(f"state.{i}."):]
            if key.startswith(f"state.{i}.") and buffer != "step":
                s[buffer] = to_tensor(torch, *entry)
        if s:
            state[i] = s
    torch.save({"state": state, "param_groups": out_groups}, dst)


def raw_bytes(t):
    """A tensor's elements as bytes, row-major (a fresh copy owns exactly them)."""
    return bytes(t.reshape(-1).clone().untyped_storage())


def infer(groups):
    g = groups[0]
    if "delta" in g:
        return "adamp" if "betas" in g else "sgdp"
    if "betas" in g:
        if "decoupled_weight_decay" not in g:
            fail("Adam or AdamW? this PyTorch's state_dict does not say: pass --optimizer")
        return "adamw" if g["decoupled_weight_decay"] else "adam"
    return "sgd"


def from_torch(src, dst, name, dtype):
    import torch
    try:
        sd = torch.load(src, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds for a file that is not its own
        fail(f"{src}: not a file torch.save wrote ({type(e).__name__}: {str(e).splitlines()[0]})")
    if not isinstance(sd, dict) or "state" not in sd or "param_groups" not in sd:
        fail(f"{src}: not an optimizer state_dict (torch.save(optimizer.state_dict(), ...))")
    groups = sd["param_groups"]
    name = name or infer(groups)
    n = sum(len(g["params"]) for g in groups)
    names = [None] * n
    for g in groups:
        for k, idx in enumerate(g["params"]):
            if "param_names" in g:
                names[idx] = g["param_names"][k]
    kinds = {torch.float32: "F32", torch.float64: "F64"}
    tensors, shapes, seen = {}, [None] * n, set()
    for idx, s in sd["state"].items():
        idx = int(idx)
        bufs = [b for b, v in s.items() if b != "step" and torch.is_tensor(v)]
        if not bufs and "step" not in s:
            continue
        if "step" in s:
            step = s["step"].item() if torch.is_tensor(s["step"]) else s["step"]
        else:
            step = 1  # SGD, SGDP: state exists only after a step
        tensors[f"state.{idx}.step"] = ("I64", [], struct.pack("<q", int(step)))
        for b in bufs:
            t = s[b].detach().contiguous().cpu()
            if t.dtype not in kinds:
                fail(f"{src}: state {idx} {b} is {t.dtype}; only float32 and float64 are supported")
            seen.add(kinds[t.dtype])
            shapes[idx] = list(t.shape)
            tensors[f"state.{idx}.{b}"] = (kinds[t.dtype], list(t.shape), raw_bytes(t))
    if len(seen) > 1:
        fail(f"{src}: state in both float32 and float64")
    dt = dtype or (seen.pop() if seen else "F32")
    out_groups = []
    for g in groups:
        og = {k: (list(v) if isinstance(v, tuple) else (v.item() if torch.is_tensor(v) else v))
              for k, v in g.items() if k != "param_names"}
        og["params"] = list(g["params"])
        out_groups.append(og)
    meta = {"format": FORMAT, "format_version": str(VERSION), "optimizer": name, "dtype": dt,
            "param_groups": json.dumps(out_groups),
            "parameters": json.dumps([{"name": names[i], "shape": shapes[i]} for i in range(n)])}
    write_safetensors(dst, tensors, meta)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("to-torch", help="a swift-adamp checkpoint to a PyTorch optimizer state_dict (.pt)")
    a.add_argument("src"), a.add_argument("dst")
    b = sub.add_parser("from-torch", help="a PyTorch optimizer state_dict (.pt) to a swift-adamp checkpoint")
    b.add_argument("src"), b.add_argument("dst")
    b.add_argument("--optimizer", choices=["adamp", "sgdp", "adam", "adamw", "sgd"], help="which optimizer wrote it (inferred from its keys if not given)")
    b.add_argument("--dtype", choices=["F32", "F64"], help="for a state_dict without state tensors (default F32)")
    args = ap.parse_args(argv)
    if args.cmd == "to-torch":
        to_torch(args.src, args.dst)
    else:
        from_torch(args.src, args.dst, args.optimizer, args.dtype)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The PyTorch side of the checkpoint interop test (CheckpointInteropTests.swift
drives it; needs torch and adamp 0.3.0).

Each command runs in DIR/F32 and DIR/F64 (float32 and float64 parameters),
so that torch is imported once; the converter runs in-process, through its
command line (convert_checkpoint.main).

  checkpoint_interop.py torch-run   DIR OPTIMIZER
      Runs the official optimizer (adamp.AdamP / SGDP, torch.optim.Adam /
      AdamW / SGD) for K steps, saves its state_dict (DIR/torch_k.pt) and
      converts it with scripts/convert_checkpoint.py (DIR/from_torch.safetensors),
      then takes one more step. DIR/case.safetensors holds the initial values,
      every step's gradients, the parameters after K and K+1 steps and the
      state after K+1 (<i>.init, <i>.grad.<k>, <i>.after_k, <i>.after_k1,
      <i>.<state name>).
  checkpoint_interop.py torch-check DIR OPTIMIZER
      Converts the Swift side's checkpoint after K steps (DIR/swift_k.safetensors)
      to a state_dict, loads it into the official optimizer over the Swift
      side's parameters, takes step K+1 with the same gradient, and compares
      with the Swift side's result (DIR/swift_result.safetensors), within the
      fixture tolerances. Exits 1 on a mismatch.
"""
import json, os, sys
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CONVERT = os.path.join(HERE, "..", "..", "scripts", "convert_checkpoint.py")
sys.path.insert(0, os.path.dirname(CONVERT))
from convert_checkpoint import main as convert, read_safetensors, write_safetensors, to_tensor, raw_bytes  # noqa: E402

K = 3
SHAPES = [[4, 3, 3, 3], [4], [6, 5], [5], [2, 7]]
HPARAMS = {
    "adamp": {"lr": 0.01, "weight_decay": 1e-2, "nesterov": True},
    "sgdp": {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 1e-3},
    "adam": {"lr": 0.01, "weight_decay": 1e-2, "amsgrad": True},
    "adamw": {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.05},
    "sgd": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3},
}
TOL = {"F32": 2e-4, "F64": 1e-9}
DT = {"F32": torch.float32, "F64": torch.float64}


def make(name, params, **kw):
    import adamp
    ctor = {"adamp": adamp.AdamP, "sgdp": adamp.SGDP, "adam": torch.optim.Adam,
            "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}[name]
    if name in ("adam", "adamw", "sgd"):
        kw.setdefault("foreach", False)  # the single-tensor path, as the fixtures
    if name == "sgdp":
        kw.setdefault("lr", 1.0)
    return ctor(params, **kw)


def has_grad(i, k):
    # Parameter 3 skips step 1; parameter 4 starts at the step after the
    # checkpoint (no state at K: SGD's first-step rule across the boundary).
    return not (i == 3 and k == 1) and not (i == 4 and k < K)


def gradient(i, k, p, gen):
    g = torch.randn(p.shape, generator=gen, dtype=torch.float64).to(p.dtype) * 0.1
    if i == 0:  # a conv weight before normalisation: orthogonal per output channel
        w = p.detach().reshape(p.shape[0], -1)
        gr = g.reshape(p.shape[0], -1)
        gr -= (gr * w).sum(1, keepdim=True) / (w * w).sum(1, keepdim=True) * w
    return g


def rel(a, b):
    return ((a.double() - b.double()).abs() / (b.double().abs() + 1e-3)).max().item() if a.numel() else 0.0


def tensor(entry):
    return to_tensor(torch, *entry)


def torch_run(d, name, dtype):
    gen = torch.Generator().manual_seed(7)
    params = [torch.nn.Parameter(torch.randn(s, generator=gen, dtype=torch.float64).to(DT[dtype]) * 0.5) for s in SHAPES]
    out = {f"{i}.init": p.detach().clone() for i, p in enumerate(params)}
    opt = make(name, params, **HPARAMS[name])
    for k in range(K + 1):
        if k == K:
            torch.save(opt.state_dict(), os.path.join(d, "torch_k.pt"))
            for i, p in enumerate(params):
                out[f"{i}.after_k"] = p.detach().clone()
        for i, p in enumerate(params):
            p.grad = gradient(i, k, p, gen) if has_grad(i, k) else None
            if p.grad is not None:
                out[f"{i}.grad.{k}"] = p.grad.clone()
        opt.step()
    for i, p in enumerate(params):
        out[f"{i}.after_k1"] = p.detach().clone()
        for b, t in opt.state[p].items():
            if b != "step":
                out[f"{i}.{b}"] = t.clone()
    kinds = {torch.float32: "F32", torch.float64: "F64"}
    write_safetensors(os.path.join(d, "case.safetensors"),
                      {n: (kinds[t.dtype], list(t.shape), raw_bytes(t)) for n, t in out.items()},
                      {"optimizer": name, "dtype": dtype, "steps": str(K), "shapes": json.dumps(SHAPES)})
    convert(["from-torch", os.path.join(d, "torch_k.pt"), os.path.join(d, "from_torch.safetensors"), "--optimizer", name])


def torch_check(d, name, dtype):
    case, _ = read_safetensors(os.path.join(d, "case.safetensors"))
    ours, _ = read_safetensors(os.path.join(d, "swift_result.safetensors"))
    pt = os.path.join(d, "swift_k.pt")
    convert(["to-torch", os.path.join(d, "swift_k.safetensors"), pt])
    params = [torch.nn.Parameter(tensor(ours[f"{i}.after_k"])) for i in range(len(SHAPES))]
    opt = make(name, params)  # defaults: the state_dict brings the hyperparameters
    opt.load_state_dict(torch.load(pt, weights_only=True))
    for i, p in enumerate(params):
        p.grad = tensor(case[f"{i}.grad.{K}"]) if f"{i}.grad.{K}" in case else None
    opt.step()
    worst, failures = 0.0, []
    for i, p in enumerate(params):
        pairs = [("value", p.detach(), tensor(ours[f"{i}.after_k1"]))]
        theirs = {b for b in opt.state[p] if b != "step"}
        mine = {n.split(".", 1)[1] for n in ours if n.startswith(f"{i}.") and not n.startswith(f"{i}.after")}
        pairs += [(b, opt.state[p][b], tensor(ours[f"{i}.{b}"])) for b in sorted(theirs & mine)]
        missing = sorted(theirs ^ mine)
        if missing:
            failures.append(f"parameter {i}: state {missing} on one side only")
        for what, a, b in pairs:
            e = rel(a, b)
            worst = max(worst, e)
            if not e <= TOL[dtype]:
                failures.append(f"parameter {i} {what}: relative error {e:.3g} > {TOL[dtype]}")
    print(f"torch-check {name} {dtype}: worst relative error {worst:.3g} (tolerance {TOL[dtype]})")
    return failures


if __name__ == "__main__":
    cmd, d, name = sys.argv[1:4]
    failures = []
    for dtype in ("F32", "F64"):
        sub = os.path.join(d, dtype)
        os.makedirs(sub, exist_ok=True)
        failures += {"torch-run": torch_run, "torch-check": torch_check}[cmd](sub, name, dtype) or []
    if failures:
        sys.exit("\n".join(failures))

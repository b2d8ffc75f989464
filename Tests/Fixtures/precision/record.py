"""Mixed-precision trajectories, recorded from the official `adamp` 0.3.0
(AdamP, SGDP) and torch.optim (Adam, AdamW, SGD; single-tensor path) as
this project defines a 16-bit step (docs/mixed-precision.md):

- master "off": every step is the reference's float32 step on float32 copies
  of the 16-bit parameter, gradient and state, each stored value rounded
  once to nearest-even (the parameter and the state kept in 16 bits);
- master "float32": the reference's float32 trajectory itself (the master)
  from the 16-bit gradients widened; the parameter is the master rounded
  (and in split mode its upper half: the same master, so the same file).

The format is ../shared/fixtures/generate.py's, with 16-bit tensors stored as
BF16 or F16, metadata `dtype` "bfloat16" or "float16" and `master` "off" or
"float32", and in master mode `<name>.master.after.<k>` and
`<name>.master.final` (F32) beside the 16-bit `<name>.after.<k>`. States are
in the state's dtype: 16-bit without a master, F32 with one.

Usage: python record.py [OUTDIR]  (torch and adamp==0.3.0; reads the models
and gradient builders of ../shared/fixtures/generate.py)
"""
import json, math, os, struct, sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("ADAMP_SHARED_FIXTURES", os.path.join(HERE, "../../../../shared/fixtures")))
import generate  # noqa: E402  (the shared recorder: models, orthogonal gradients)
import adamp  # noqa: E402

NAMES = {torch.bfloat16: "bfloat16", torch.float16: "float16"}
STATE_KEYS = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "momentum", "momentum_buffer")


def as_stored(t):
    """(bytes, safetensors dtype) of a tensor as this format keeps it."""
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes(), "BF16"
    code = {torch.float16: "F16", torch.float32: "F32", torch.int64: "I64"}[t.dtype]
    return t.numpy().tobytes(), code


def write(path, tensors, metadata):
    header, blobs, off = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        b, code = as_stored(t)
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def record(path, optimizer, hparams, named, grad_fn, steps, dt, master):
    """grad_fn(k) sets float32 .grad on the parameters (or leaves it None);
    they are rounded to dt, as a 16-bit model's gradients are."""
    names, params = [n for n, _ in named], [p for _, p in named]
    kw = dict(hparams)
    if "betas" in kw:
        kw["betas"] = tuple(kw["betas"])
    if optimizer in ("Adam", "AdamW", "SGD"):
        kw["foreach"] = False
    opt = {"AdamP": adamp.AdamP, "SGDP": adamp.SGDP, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW,
           "SGD": torch.optim.SGD}[optimizer](params, **kw)
    decisions, name_of = {n: [] for n in names}, {id(p): n for n, p in named}
    original = getattr(opt, "_projection", None)

    def spy(p, grad, perturb, delta, wd_ratio, eps):  # generate.py's: which view fired
        out, wd = original(p, grad, perturb, delta, wd_ratio, eps)
        view = 0
        for code, view_func in ((1, opt._channel_view), (2, opt._layer_view)):
            if opt._cosine_similarity(grad, p.data, eps, view_func).max() < delta / math.sqrt(view_func(p.data).size(1)):
                view = code
                break
        decisions[name_of[id(p)]][-1] = view
        return out, wd
    if original is not None:
        opt._projection = spy
    with torch.no_grad():
        for p in params:  # the 16-bit parameter's value, exactly
            p.copy_(p.to(dt).float())
    t = {f"{n}.init": p.to(dt) for n, p in named}
    for k in range(steps):
        for p in params:
            p.grad = None
        grad_fn(k)
        for n, p in named:
            decisions[n].append(0 if p.grad is not None else -1)
            if p.grad is not None:
                t[f"{n}.grad.{k}"] = p.grad.to(dt)
                p.grad = t[f"{n}.grad.{k}"].float()
        opt.step()
        with torch.no_grad():
            for n, p in named:
                if master:
                    t[f"{n}.master.after.{k}"] = p.detach().clone()
                else:  # stored: rounded once
                    p.copy_(p.to(dt).float())
                    for key in STATE_KEYS:
                        if opt.state[p].get(key) is not None:
                            opt.state[p][key].copy_(opt.state[p][key].to(dt).float())
                if not master:  # with one, the parameter is the master rounded (or its upper half)
                    t[f"{n}.after.{k}"] = p.to(dt)
    for n, p in named:
        t[f"{n}.final"] = p.to(dt)
        if master:
            t[f"{n}.master.final"] = p.detach().clone()
        for key in STATE_KEYS:
            if opt.state[p].get(key) is not None:
                s = opt.state[p][key]
                t[f"{n}.{key}"] = s.clone() if master else s.to(dt)
        if "step" in opt.state[p]:
            t[f"{n}.step"] = torch.tensor(int(opt.state[p]["step"]), dtype=torch.int64)
    ref = (f"adamp 0.3.0 on torch {torch.__version__}" if original is not None
           else f"torch.optim.{optimizer} (foreach=False) on torch {torch.__version__}")
    how = "the float32 master's trajectory" if master else f"float32 copies, each stored value rounded to {NAMES[dt]}"
    write(path, t, {"optimizer": optimizer, "hparams": json.dumps(hparams), "steps": str(steps),
                    "params": json.dumps(names), "dtype": NAMES[dt], "master": "float32" if master else "off",
                    "projection": json.dumps(decisions), "source": f"{ref}: {how}"})


def network(path, optimizer, hparams, dt, master, steps=10):
    torch.manual_seed(0)
    x, y = torch.randn(4, 3, 8, 8), torch.randint(0, 10, (4,))
    torch.manual_seed(1)
    model = generate.ConvBN()
    named = [(n.replace(".", "_"), p) for n, p in model.named_parameters()]

    def grad_fn(k):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
    record(path, optimizer, hparams, named, grad_fn, steps, dt, master)


def synthetic(path, optimizer, hparams, dt, master, seed, steps=10):
    gen = torch.Generator().manual_seed(seed)
    named, kinds = [], {}
    for name, shape, kind in generate.SYNTHETIC_SHAPES:
        named.append((name, torch.nn.Parameter(torch.randn(shape, generator=gen) * 0.5)))
        kinds[name] = kind

    def grad_fn(k):
        for name, p in named:
            if kinds[name] == "sometimes" and k % 3 == 2:
                continue
            g = torch.randn(p.shape, generator=gen) * 0.1
            if kinds[name] == "channel":
                g = generate.orthogonal_rows(g, p.detach().to(dt).float())
            elif kinds[name] == "layer":
                g = generate.orthogonal_layer(g, p.detach().to(dt).float())
            p.grad = g
    record(path, optimizer, hparams, named, grad_fn, steps, dt, master)


def main(out):
    os.makedirs(out, exist_ok=True)
    adam_p = dict(lr=1e-2, betas=[0.9, 0.999], eps=1e-8, weight_decay=0.0, delta=0.1, wd_ratio=0.1, nesterov=False)
    sgd_p = dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=1e-4, nesterov=False, eps=1e-8, delta=0.1, wd_ratio=0.1)
    adam = dict(lr=1e-2, betas=[0.9, 0.999], eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False)
    sgd = dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=1e-4, nesterov=False, maximize=False)
    bf16, f16 = torch.bfloat16, torch.float16
    for dt, tag in ((bf16, "bf16"), (f16, "f16")):
        for master, mtag in ((False, ""), (True, "_master")):
            if master and dt == f16:  # float32 masters are the same in both: AdamP's alone
                network(f"{out}/adamp_convbn_{tag}{mtag}.safetensors", "AdamP", adam_p, dt, master)
                continue
            network(f"{out}/adamp_convbn_{tag}{mtag}.safetensors", "AdamP", adam_p, dt, master)
            network(f"{out}/sgdp_convbn_{tag}{mtag}.safetensors", "SGDP", dict(sgd_p, nesterov=True), dt, master)
            network(f"{out}/torch_adam_convbn_{tag}{mtag}.safetensors", "Adam", dict(adam, amsgrad=True), dt, master)
            network(f"{out}/torch_adamw_convbn_{tag}{mtag}.safetensors", "AdamW", dict(adam, weight_decay=1e-2), dt, master)
            network(f"{out}/torch_sgd_convbn_{tag}{mtag}.safetensors", "SGD", sgd, dt, master)
        synthetic(f"{out}/adamp_synthetic_{tag}.safetensors", "AdamP", dict(adam_p, lr=1e-3, weight_decay=1e-2), dt, False, 2)
        synthetic(f"{out}/sgdp_synthetic_{tag}.safetensors", "SGDP", dict(sgd_p, lr=0.05, dampening=0.1, weight_decay=1e-3),
                  dt, False, 3)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else HERE)

#!/usr/bin/env python3
"""Ours beside PyTorch on the same shapes, in one run: the official AdamP and
SGDP (adamp 0.3.0), torch.optim's fused Adam, AdamW and SGD (momentum 0.9,
nesterov), and our five optimizers with the same settings as adamp-bench's; and ours
AdamP and SGDP again with the groups a user who knows the model gives (the
normalised layers "projection": "channel", the rest "never": as adamp-bench
--projection rules), which step in one sweep.

    python Benchmarks/compare_pytorch.py [--model resnet50 | --shapes FILE.json] [--threads 2] [--steps 20]
                                         [--gradients orthogonal|random] [--dtype f32|bf16|f16]
                                         [--master off|float32|split]

With --dtype bf16 or f16 the parameters and gradients are that dtype: torch's
fused optimizers and ours compute in float32 and store in it (ours with the
--master weights asked, MasterWeights / master_weights), the official code
computes in it.

Needs torch, adamp and cadamp (pip install torch==2.13.0+cpu adamp==0.3.0
./Bindings/python, in a venv: never a dependency of the Swift package) and a
release build of adamp-bench (swift build -c release) for the shapes. Ours is
cadamp's classes, the PyTorch drop-in over the C library, on the same torch
tensors: the path a PyTorch user takes, Python included. Torch's steps and
ours take turns step by step in one process: this machine's speed drifts over
seconds, and only interleaving compares like with like. Prints a table of
median ms per step and the ratios.
"""
import argparse, json, os, statistics, subprocess, sys, time

try:
    import torch
    import adamp
    import cadamp
except ImportError as e:
    sys.exit(f"compare_pytorch.py needs torch, adamp and cadamp installed ({e})")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def bench_path(path):
    if not os.path.exists(path):
        sys.exit(f"{path} not found: run `swift build -c release` first")
    return path


def orthogonalise(params):
    """g_r -= (g_r . w_r / w_r . w_r) w_r for each row of each normalised
    weight: what a gradient behind BatchNorm is, and what makes AdamP and
    SGDP project (random gradients never do). Run before every timed step,
    untimed: the weights move, so a fixed gradient would stop being orthogonal."""
    with torch.no_grad():
        for p in params:
            if getattr(p, "normalised", False):
                w, g = p.view(p.shape[0], -1).float(), p.grad.view(p.shape[0], -1)
                gf = g.float()
                g.copy_(gf - w * ((gf * w).sum(1, keepdim=True) / (w * w).sum(1, keepdim=True)))


def median_ms(opt, steps, warmup, prepare=lambda: None):
    for _ in range(warmup):
        prepare()
        opt.step()
    times = []
    for _ in range(steps):
        prepare()
        t0 = time.perf_counter()
        opt.step()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def ruled(params):
    """The groups of `--projection rules`: the normalised weights always
    projected by channel, the others never (cadamp's "projection" key)."""
    return [{"params": [p for p in params if p.normalised], "projection": "channel"},
            {"params": [p for p in params if not p.normalised], "projection": "never"}]


DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}


def torch_params(shapes, normalised, seed=0, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    params = []
    for s, n in zip(shapes, normalised):
        p = torch.nn.Parameter(torch.empty(s).uniform_(-0.1, 0.1, generator=gen).to(dtype))
        p.grad = torch.empty(s).uniform_(-0.01, 0.01, generator=gen).to(dtype)
        p.normalised = n
        params.append(p)
    return params


def interleaved(bodies, steps, warmup, prepare=lambda: None, timed=lambda: None):
    """Median and min ms of each body, the bodies taking turns step by step
    (the starting one rotating), so that all see the same moments of a noisy
    machine; `prepare` before each round and `timed` after each timed one,
    untimed."""
    names = list(bodies)
    for _ in range(warmup):
        prepare()
        for n in names:
            bodies[n]()
    times = {n: [] for n in names}
    for k in range(steps):
        prepare()
        timed_round = names[k % len(names):] + names[:k % len(names)]
        for n in timed_round:
            t0 = time.perf_counter()
            bodies[n]()
            times[n].append((time.perf_counter() - t0) * 1e3)
        timed()
    return {n: (statistics.median(ts), min(ts)) for n, ts in times.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="resnet50")
    ap.add_argument("--shapes", help="a JSON list of shapes instead of --model (as adamp-bench --shapes)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--official-steps", type=int, default=5, help="the official package is slow")
    ap.add_argument("--bench", default=os.path.join(ROOT, ".build/release/adamp-bench"))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--gradients", choices=["orthogonal", "random"], default="orthogonal",
                    help="orthogonal (default): the normalised layers' gradients orthogonal to their weights before "
                         "every timed step (ResNets' convolutions, 4-D tensors of --shapes), as behind BatchNorm; "
                         "random: all random (AdamP and SGDP then never project)")
    ap.add_argument("--dtype", choices=list(DTYPES), default="f32", help="the parameters' and gradients' dtype")
    ap.add_argument("--master", choices=["off", "float32", "split"], default="off",
                    help="how ours keep bf16/f16 parameters (master_weights False, True, 'split')")
    a = ap.parse_args()
    if a.master != "off" and a.dtype == "f32":
        sys.exit("--master keeps bf16 or f16 parameters: add --dtype")
    if a.master == "split" and a.dtype != "bf16":
        sys.exit("--master split keeps bf16 parameters only")
    dtype, mw = DTYPES[a.dtype], {"off": False, "float32": True, "split": "split"}[a.master]
    bench = bench_path(a.bench)
    which = ["--shapes", a.shapes] if a.shapes else ["--model", a.model]
    shapes = json.loads(subprocess.check_output([bench, *which, "--list-shapes"]))
    if a.shapes:
        a.model = os.path.basename(a.shapes)
    torch.set_num_threads(a.threads)
    # Which weights are followed by normalisation (as adamp-bench --gradients decides).
    conv_normalised = a.shapes is not None or a.model.startswith("resnet")
    normalised = [a.gradients == "orthogonal" and conv_normalised and len(s) == 4 for s in shapes]
    n = sum(torch.Size(s).numel() for s in shapes)
    print(f"{a.model}: {n} parameters in {len(shapes)} tensors, {a.threads} threads, torch {torch.__version__}", file=sys.stderr)

    # The same settings on both sides (and in adamp-bench), written once.
    adam_kw, adamw_kw = dict(lr=1e-3, weight_decay=1e-4), dict(lr=1e-3, weight_decay=1e-2)
    sgd_kw = dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
    official = [
        ("official AdamP", lambda ps: adamp.AdamP(ps, **adam_kw)),
        ("official SGDP", lambda ps: adamp.SGDP(ps, **sgd_kw)),
    ]
    rows = {}
    for name, make in official:
        print(f"timing {name}...", file=sys.stderr)
        ps = torch_params(shapes, normalised, dtype=dtype)
        rows[name] = median_ms(make(ps), a.official_steps, warmup=1, prepare=lambda: orthogonalise(ps))

    makers = {
        "torch Adam fused": lambda ps: torch.optim.Adam(ps, **adam_kw, fused=True),
        "torch AdamW fused": lambda ps: torch.optim.AdamW(ps, **adamw_kw, fused=True),
        "torch SGD fused": lambda ps: torch.optim.SGD(ps, **sgd_kw, fused=True),
        "ours Adam": lambda ps: cadamp.Adam(ps, **adam_kw, master_weights=mw),
        "ours AdamW": lambda ps: cadamp.AdamW(ps, **adamw_kw, master_weights=mw),
        "ours SGD": lambda ps: cadamp.SGD(ps, **sgd_kw, master_weights=mw),
        "ours AdamP": lambda ps: cadamp.AdamP(ps, **adam_kw, master_weights=mw),
        "ours SGDP": lambda ps: cadamp.SGDP(ps, **sgd_kw, master_weights=mw),
    }
    if any(normalised):
        makers["ours AdamP, rules"] = lambda ps: cadamp.AdamP(ruled(ps), **adam_kw, master_weights=mw)
        makers["ours SGDP, rules"] = lambda ps: cadamp.SGDP(ruled(ps), **sgd_kw, master_weights=mw)
    print(f"timing {len(makers)} optimizers, interleaved step by step...", file=sys.stderr)
    sets = {name: torch_params(shapes, normalised, seed=i, dtype=dtype) for i, name in enumerate(makers)}
    opts = {name: make(sets[name]) for name, make in makers.items()}
    mix = {name: {} for name in opts if hasattr(opts[name], "projections")}

    def tally():
        for name in mix:
            for code in opts[name].projections().values():
                mix[name][code] = mix[name].get(code, 0) + 1

    rows.update(interleaved({n: o.step for n, o in opts.items()}, a.steps, warmup=3,
                            prepare=lambda: [orthogonalise(ps) for ps in sets.values()], timed=tally))

    if a.json:
        print(json.dumps({"gradients": a.gradients, "dtype": a.dtype, "master": a.master, "projections_per_step": {k: {c: v / a.steps for c, v in m.items()}
                                                                             for k, m in mix.items()},
                          **{k: {"median_ms": v[0], "min_ms": v[1]} for k, v in rows.items()}}, indent=2))
        return
    print(f"{a.model}: {n} {a.dtype} parameters" + (f" (ours: master {a.master})" if a.dtype != "f32" else "")
          + f", {a.threads} threads, torch {torch.__version__}, {a.gradients} gradients")
    for name, o in opts.items():
        if name.startswith("ours") and getattr(o, "_cadamp_path", "c") != "c":
            print(f"warning: {name} took the {o._cadamp_path} path: {o._cadamp_reason}")
    print(f"median and min over {a.steps} steps (official: {a.official_steps}); all but the official ones interleaved")
    for name, counts in mix.items():
        print(f"{name} projections per timed step: " +
              ", ".join(f"{k} {v / a.steps:g}" for k, v in sorted(counts.items())))
    print(f"{'':24} {'median ms':>10} {'min ms':>8}")
    for k, (med, mn) in rows.items():
        print(f"{k:24} {med:10.2f} {mn:8.2f}")
    r = {k: v[0] for k, v in rows.items()}
    print()
    for ours, theirs in [("ours Adam", "torch Adam fused"), ("ours AdamW", "torch AdamW fused"),
                         ("ours SGD", "torch SGD fused"), ("ours AdamP", "ours Adam"), ("ours SGDP", "ours SGD"),
                         ("ours AdamP", "torch Adam fused"), ("ours SGDP", "torch SGD fused"),
                         ("ours AdamP, rules", "ours Adam"), ("ours SGDP, rules", "ours SGD"),
                         ("ours AdamP, rules", "torch Adam fused")]:
        if ours not in r or theirs not in r:
            continue
        print(f"{ours + ' / ' + theirs + ':':40} {r[ours] / r[theirs]:5.2f}x")
    for ours, official in [("ours AdamP", "official AdamP"), ("ours SGDP", "official SGDP")]:
        print(f"{official + ' / ' + ours + ':':40} {r[official] / r[ours]:5.1f}x faster")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Ours beside PyTorch on the same shapes, in one run: the official AdamP and
SGDP (adamp 0.3.0), torch.optim's fused Adam, AdamW and SGD (momentum 0.9,
nesterov), then adamp-bench's five optimizers with the same settings.

    python Benchmarks/compare_pytorch.py [--model resnet50] [--threads 2] [--steps 20]

Needs torch and adamp (pip install torch==2.13.0+cpu adamp==0.3.0, in a venv:
never a dependency of the package) and a release build of adamp-bench
(swift build -c release). Prints a table of median ms per step and ratios.
"""
import argparse, json, os, statistics, subprocess, sys, time

try:
    import torch
    import adamp
except ImportError as e:
    sys.exit(f"compare_pytorch.py needs torch and adamp installed ({e})")

OURS = {"adamp": "ours AdamP", "sgdp": "ours SGDP", "adam": "ours Adam", "adamw": "ours AdamW", "sgd": "ours SGD"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def bench_path(path):
    if not os.path.exists(path):
        sys.exit(f"{path} not found: run `swift build -c release` first")
    return path


def median_ms(opt, steps, warmup):
    for _ in range(warmup):
        opt.step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        opt.step()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def torch_params(shapes, seed=0):
    gen = torch.Generator().manual_seed(seed)
    params = []
    for s in shapes:
        p = torch.nn.Parameter(torch.empty(s).uniform_(-0.1, 0.1, generator=gen))
        p.grad = torch.empty(s).uniform_(-0.01, 0.01, generator=gen)
        params.append(p)
    return params


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="resnet50")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--official-steps", type=int, default=5, help="the official package is slow")
    ap.add_argument("--bench", default=os.path.join(ROOT, ".build/release/adamp-bench"))
    ap.add_argument("--rounds", type=int, default=3,
                    help="torch and ours alternate this many times; each figure is the median over rounds, "
                         "so that a machine whose speed drifts (a shared VM) biases neither side")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    bench = bench_path(a.bench)
    shapes = json.loads(subprocess.check_output([bench, "--model", a.model, "--list-shapes"]))
    torch.set_num_threads(a.threads)
    n = sum(torch.Size(s).numel() for s in shapes)
    print(f"{a.model}: {n} parameters in {len(shapes)} tensors, {a.threads} threads, torch {torch.__version__}", file=sys.stderr)

    fused = [
        ("torch Adam fused", lambda ps: torch.optim.Adam(ps, lr=1e-3, weight_decay=1e-4, fused=True)),
        ("torch AdamW fused", lambda ps: torch.optim.AdamW(ps, lr=1e-3, weight_decay=1e-2, fused=True)),
        ("torch SGD fused", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4, fused=True)),
    ]
    official = [
        ("official AdamP", lambda ps: adamp.AdamP(ps, lr=1e-3, weight_decay=1e-4)),
        ("official SGDP", lambda ps: adamp.SGDP(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)),
    ]
    samples = {}

    def add(name, value):
        samples.setdefault(name, []).append(value)

    for name, make in official:
        print(f"timing {name}...", file=sys.stderr)
        add(name, median_ms(make(torch_params(shapes)), a.official_steps, warmup=1))
    for rnd in range(a.rounds):
        for name, make in fused:
            print(f"round {rnd + 1}/{a.rounds}: {name}", file=sys.stderr)
            add(name, median_ms(make(torch_params(shapes)), a.steps, warmup=2))
        print(f"round {rnd + 1}/{a.rounds}: adamp-bench", file=sys.stderr)
        ours = json.loads(subprocess.check_output([bench, "--model", a.model, "--threads", str(a.threads),
                                                   "--steps", str(a.steps), "--json"], stderr=subprocess.DEVNULL))
        for r in ours:
            add(OURS[r["optimizer"]], (r["medianMs"], r["minMs"]))
            add(f"floor ({r['optimizer']} bytes)", (r["floorMs"], r["floorMs"]))
    rows = {k: (statistics.median(v[0] for v in vs), min(v[1] for v in vs)) for k, vs in samples.items()}

    if a.json:
        print(json.dumps({k: {"median_ms": v[0], "min_ms": v[1]} for k, v in rows.items()}, indent=2))
        return
    print(f"median over {a.rounds} rounds of the median step time; min over all steps")
    print(f"{'':24} {'median ms':>10} {'min ms':>8}")
    for k, (med, mn) in rows.items():
        print(f"{k:24} {med:10.2f} {mn:8.2f}")
    adam, adamw, sgd = (rows[f"torch {k} fused"][0] for k in ("Adam", "AdamW", "SGD"))
    ap_, sp = rows["ours AdamP"][0], rows["ours SGDP"][0]
    print()
    print(f"ours Adam  / torch Adam fused:   {rows['ours Adam'][0] / adam:5.2f}x   (goal <= 1.0)")
    print(f"ours AdamW / torch AdamW fused:  {rows['ours AdamW'][0] / adamw:5.2f}x   (goal <= 1.0)")
    print(f"ours SGD   / torch SGD fused:    {rows['ours SGD'][0] / sgd:5.2f}x   (goal <= 1.0)")
    print(f"ours AdamP / ours Adam:          {ap_ / rows['ours Adam'][0]:5.2f}x   (goal <= 1.3)")
    print(f"ours AdamP / torch Adam fused:   {ap_ / adam:5.2f}x   (goal <= 1.3)")
    print(f"ours SGDP  / torch SGD fused:    {sp / sgd:5.2f}x   (goal <= 1.4)")
    print(f"official AdamP / ours AdamP:     {rows['official AdamP'][0] / ap_:5.1f}x faster (goal >= 20)")
    print(f"official SGDP  / ours SGDP:      {rows['official SGDP'][0] / sp:5.1f}x faster (goal >= 20)")


if __name__ == "__main__":
    main()

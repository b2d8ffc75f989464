#!/usr/bin/env python3
"""Each optimizer's share of the streaming floor over repeated adamp-bench runs,
as a Markdown table: the figures docs/performance.md and the notes on the
speed goals quote, with their spread, from one command.

    swift build -c release --product adamp-bench
    python3 Benchmarks/floor-shares.py [--runs 4] [--isa avx2] [--threads 2]

Runs `.build/release/adamp-bench --optimizer all --json` (each run times all
five optimizers taking turns step by step, beside their floors) for ResNet-50
with the paper's test, ResNet-50 with rules, and 20,000 [64, 8] weights, the
three in turn, --runs times. Memory on a shared VM switches between a slower
and a faster regime from minute to minute, so each cell gives the range
within each regime, told apart by Adam's floor time (a run whose floor is
below --fast-below times the slowest run's is "faster"). Needs only
Python's standard library.
"""
import argparse
import json
import os
import platform
import subprocess
import sys

CONFIGS = [
    ("ResNet-50, the paper's test", ["--model", "resnet50"]),
    ("ResNet-50, rules", ["--model", "resnet50", "--projection", "rules"]),
    ("20,000 [64, 8], the paper's test", ["--model", "many-small"]),
]
OPTIMIZERS = ["adamp", "sgdp", "adam", "adamw", "sgd"]


def cpu_name():
    """The CPU's name with its family and model: a VM may call every
    generation "AMD EPYC", and family 25 (Zen 3, Zen 4) or 26 (Zen 5) is
    what tells which machine a table was measured on."""
    try:
        fields = {}
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if not key.strip():
                    break  # the first processor's fields only
                fields.setdefault(key.strip(), value.strip())
        name = fields["model name"]
        if "cpu family" in fields and "model" in fields:
            name += f" (family {fields['cpu family']}, model {fields['model']})"
        return name
    except (OSError, KeyError):
        return platform.processor() or "unknown CPU"


def spread(values):
    lo, hi = round(min(values) * 100), round(max(values) * 100)
    return f"{lo}%" if lo == hi else f"{lo}-{hi}%"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=4, help="runs of each configuration (default 4)")
    ap.add_argument("--isa", default="auto", help="adamp-bench --isa (default auto)")
    ap.add_argument("--threads", type=int, default=2, help="adamp-bench --threads (default 2)")
    ap.add_argument("--steps", type=int, default=20, help="adamp-bench --steps (default 20)")
    ap.add_argument("--fast-below", type=float, default=0.8,
                    help="a run is 'faster' if Adam's floor is below this times the slowest run's (default 0.8)")
    ap.add_argument("--bench", default=".build/release/adamp-bench", help="the adamp-bench binary")
    a = ap.parse_args()
    if a.runs < 1 or a.steps < 1 or a.threads < 1:
        sys.exit("floor-shares: --runs, --steps and --threads must be at least 1")
    if not os.access(a.bench, os.X_OK):
        sys.exit(f"floor-shares: no {a.bench}: build it first (swift build -c release --product adamp-bench)")
    runs = {name: [] for name, _ in CONFIGS}
    isa = None
    for r in range(a.runs):
        for name, args in CONFIGS:
            cmd = [a.bench, "--optimizer", "all", "--json", "--isa", a.isa, "--threads", str(a.threads),
                   "--steps", str(a.steps)] + args
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"floor-shares: {' '.join(cmd)} failed:\n{out.stderr}")
            rows = {row["optimizer"]: row for row in json.loads(out.stdout)}
            isa = rows["adam"]["isa"]
            runs[name].append(rows)
            print(f"run {r + 1}/{a.runs}: {name}: " + ", ".join(
                f"{o} {rows[o]['fractionOfFloor'] * 100:.0f}%" for o in OPTIMIZERS), file=sys.stderr)
    print(f"{cpu_name()}, {a.threads} threads, kernels {isa}; {a.runs} runs of each, "
          f"`{os.path.basename(a.bench)} --optimizer all` ({' | '.join(' '.join(c) for _, c in CONFIGS)})\n")
    print("| | regime (Adam's floor, ms) | runs | " + " | ".join(OPTIMIZERS) + " |")
    print("|---|---|---|" + "---|" * len(OPTIMIZERS))
    for name, _ in CONFIGS:
        slowest = max(rows["adam"]["floorMs"] for rows in runs[name])
        for regime, faster in (("slower", False), ("faster", True)):
            these = [rows for rows in runs[name] if (rows["adam"]["floorMs"] < a.fast_below * slowest) == faster]
            if not these:
                continue
            floors = [rows["adam"]["floorMs"] for rows in these]
            cells = []
            for o in OPTIMIZERS:
                cell = spread([rows[o]["fractionOfFloor"] for rows in these])
                two = [rows[o]["fractionOfTwoPassFloor"] for rows in these]
                if any(abs(t - rows[o]["fractionOfFloor"]) > 1e-9 for t, rows in zip(two, these)):
                    cell += f" (2-pass {spread(two)})"
                cells.append(cell)
            print(f"| {name} | {regime} ({min(floors):.2f}-{max(floors):.2f}) | {len(these)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

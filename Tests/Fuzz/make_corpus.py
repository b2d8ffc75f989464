#!/usr/bin/env python3
"""Writes the fuzzer's seed corpus: one input per defect fixed in issue 8 and
a few that reach the projections, in fuzz_api.c's input layout. Run it from
anywhere; it rewrites its own seeds in corpus/ beside this file. The files
named finding-* there are inputs the fuzzer found, kept as regressions."""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ENTRY = {"step": 0, "row_stats": 1, "decide": 2, "apply": 3, "stats_len": 4, "step_ex": 7, "grad_norms": 8,
         "diagnose": 9}
ALGO = {"adamp": 1, "sgdp": 2, "adam": 3, "adamw": 4, "sgd": 5}
# pick_size: a byte below 224 picks small[b % 12], 224 and above huge[b % 9].
SMALL = [1, 2, 3, 4, 7, 8, 9, 16, 17, 33, 64, 300]
HUGE = {"0": 225, "SIZE_MAX/8": 226, "SIZE_MAX/3+1": 227, "SIZE_MAX/2": 228, "SIZE_MAX": 229,
        "PTRDIFF_MAX/4+1": 230, "PTRDIFF_MAX/8": 231, "2^40": 232, "PTRDIFF_MAX/48+1": 224}
# pick_double's table (indices 0-15).
D = {0: 0, 1: 1, -1: 2, "nan": 3, "inf": 4, 0.5: 6, 0.9: 7, 0.999: 8, 1e-8: 9, 0.1: 10, 1e-3: 11}
THREADS = {0: 0, 1: 1, 2: 2, 3: 3, 8: 4, 16: 5, -1: 6, 100000: 7, 2**31 - 1: 8, 1024: 9}
GRAD, S0, S1, S2 = 1, 2, 4, 8


def size(x):
    return SMALL.index(x) if isinstance(x, int) else HUGE[x]


def _members():
    """adamp_hparams' members and whether each is a double, in the order of
    the one list (ADAMP_HPARAMS in adamp.h), which fuzz_api.c reads them in."""
    with open(os.path.join(HERE, "..", "..", "CKernels", "include", "adamp.h")) as f:
        return [(m, t == "double") for t, m in re.findall(r"X\(\w+, (double|int32_t), (\w+),", f.read())]


MEMBERS = _members()
DEFAULTS = dict(lr=0.1, beta1=0.9, beta2=0.999, momentum=0.9, dampening=0, eps=1e-8, weight_decay=0.1, delta=0.1,
                wd_ratio=0.1)


def hparams(**given):
    """Bytes of one adamp_hparams: a double by its index in pick_double's
    table, an int32_t as its value (fields not given: DEFAULTS, or 0)."""
    values = {**DEFAULTS, **given}
    return [D[values.get(m, 0)] if real else values.get(m, 0) for m, real in MEMBERS]


def tensor(rows, cols, ndim, flags, projection=0, step=1, mode=0):
    # ndim byte: value + 1; projection byte: code + 2; step byte: index in fuzz_api.c's steps.
    return [size(rows), size(cols), ndim + 1, flags, projection + 2, step, mode]


def options(mul_index=1, size_index=0, null=False):
    # The seed byte also picks adamp_step_ex's options: size (sizeof, 0, 8, 64)[b % 4],
    # grad_mul (1, 0.5, 0, -1, NaN, Inf, 1e-30, 3)[(b >> 2) % 8], NULL if bit 5.
    return size_index | mul_index << 2 | (32 if null else 0)


def storage_byte(grad=0, master=0, masters="all"):
    """fuzz_api.c's storage byte: the gradients' dtype (0 the call's, 1 float32,
    2 bfloat16, 3 float16), the master (0 off, 1 float32, 2 split), the masters
    given ("all", "none", "first missing")."""
    return grad + 6 * master + 24 * ("all", "none", "first missing").index(masters)


def call(entry, algo, tensors, h=None, threads=0, block=0, config_null=True, stats_mode=2, dtype=1, seed=7,
         storage=0):
    h = h or hparams()
    head = [ENTRY[entry], ALGO.get(algo, 0), dtype, 1 if config_null else 0, THREADS[threads], block,
            len(tensors), 0, stats_mode, seed, storage]
    return bytes(head + h + h + [b for t in tensors for b in t])


SEEDS = {
    # 1. SGD with momentum 0 and a buffer left in place (directed test: capi_test.c).
    "sgd-momentum0-stale-buffer": call("step", "sgd", [tensor(1, 33, 1, GRAD | S0)],
                                      h=hparams(momentum=0, dampening=0.5, weight_decay=0)),
    # 2. A tensor without gradient whose stats rows overflow, then a real one.
    "stats-offset-wrap": call("step", "adamp", [tensor("SIZE_MAX/8", 1, 2, S0 | S1),
                                                tensor(16, 17, 2, GRAD | S0 | S1)], stats_mode=3),
    # 2. cols of about SIZE_MAX/8 without gradient beside a 90,000-element SGD tensor, 8 and 16 threads.
    "thread-share-overflow-8": call("step", "sgd", [tensor(1, "SIZE_MAX/8", 1, 0), tensor(300, 300, 1, GRAD | S0)],
                                    threads=8, config_null=False),
    "thread-share-overflow-16": call("step", "sgd", [tensor(1, "SIZE_MAX/8", 1, 0), tensor(300, 300, 1, GRAD | S0)],
                                     threads=16, config_null=False),
    # 3. adamp_stats_len with 6 * rows wrapping.
    "stats-len-wrap": call("stats_len", "adamp", [tensor("SIZE_MAX/3+1", 1, 2, GRAD)]),
    # 4. Thread counts that ended or crashed the process.
    "threads-int32-max": call("step", "sgd", [tensor(300, 300, 1, GRAD | S0)], threads=2**31 - 1, config_null=False),
    "threads-100000": call("step", "adam", [tensor(300, 300, 2, GRAD | S0 | S1)], threads=100000, config_null=False),
    # The projected paths, on several threads: channel (mode 1) and layer (mode 2) orthogonal gradients.
    "adamp-channel": call("step", "adamp", [tensor(300, 300, 2, GRAD | S0 | S1, mode=1), tensor(1, 300, 1, GRAD | S0 | S1)],
                          threads=3, config_null=False),
    "sgdp-layer": call("step", "sgdp", [tensor(64, 300, 4, GRAD | S0, mode=2), tensor(300, 64, 2, GRAD | S0, mode=1)],
                       threads=2, config_null=False),
    "apply-layer-codes": call("apply", "adamp", [tensor(17, 33, 2, GRAD | S0 | S1, projection=2, mode=2)]),
    # Issue 11's entry points: a gradient multiplier (valid, and NaN: refused), the norms pass
    # over gradients with NaN and infinities on several threads, and the diagnostics.
    "step-ex-half": call("step_ex", "adamp", [tensor(300, 300, 2, GRAD | S0 | S1, mode=1)], threads=2,
                         config_null=False, seed=options(mul_index=1)),
    "step-ex-nan": call("step_ex", "sgd", [tensor(16, 17, 2, GRAD | S0)], seed=options(mul_index=4)),
    "grad-norms-nonfinite": call("grad_norms", "sgd", [tensor(300, 300, 1, GRAD | S0, mode=3), tensor(3, 7, 2, 0)],
                                 threads=3, config_null=False),
    "diagnose": call("diagnose", "adamp", [tensor(17, 33, 2, GRAD | S0 | S1, mode=2), tensor(1, 9, 1, GRAD)],
                     seed=options(null=False)),
    # Issue 30's storages: bfloat16 parameters with bfloat16 gradients and state, a float32
    # master with float16 gradients (projected), a split master, a float16 gradient's norms.
    "bf16-step": call("step_ex", "adam", [tensor(300, 64, 2, GRAD | S0 | S1)], dtype=3, seed=options(),
                      threads=2, config_null=False),
    "master-f16-grads": call("step_ex", "adamp", [tensor(64, 300, 2, GRAD | S0 | S1, mode=1)], dtype=3,
                             seed=options(), storage=storage_byte(grad=3, master=1)),
    "split": call("step_ex", "sgdp", [tensor(33, 17, 2, GRAD | S0, mode=2), tensor(1, 9, 1, GRAD | S0)], dtype=3,
                  seed=options(), storage=storage_byte(master=2)),
    "split-missing-trail": call("step_ex", "sgdp", [tensor(3, 17, 2, GRAD | S0)], dtype=3, seed=options(),
                                storage=storage_byte(master=2, masters="first missing")),
    "f16-grad-norms": call("grad_norms", "sgd", [tensor(300, 300, 1, GRAD | S0, mode=3)], dtype=4),
}

if __name__ == "__main__":
    out = os.path.join(HERE, "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds to {out}")

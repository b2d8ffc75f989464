#!/usr/bin/env python3
"""Writes the seeds of the checkpoint fuzzers (scripts/ci/fuzz-checkpoints.sh)
into corpus-checkpoints/: a good checkpoint of the Swift fuzz target's
optimizers (AdamP<Double>, and AdamP<BFloat16> with split master weights,
over w [3, 4], b [4], e [0, 3], two steps taken),
and one file for each defect issue 28 found in the readers (S1-S3, the
values no step writes, the digest; C2). Needs no torch: the layout is
convert_checkpoint.py's."""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import convert_checkpoint as C  # noqa: E402

OUT = os.path.join(HERE, "corpus-checkpoints")


def f64(values):
    return struct.pack(f"<{len(values)}d", *values)


def good(step=2, exp_avg_sq=None, exp_avg0=None):
    tensors = {}
    for i, (shape, n) in enumerate((([3, 4], 12), ([4], 4), ([0, 3], 0))):
        tensors[f"state.{i}.step"] = ("I64", [], struct.pack("<q", step))
        tensors[f"state.{i}.exp_avg"] = ("F64", shape, f64([0.01 * (k - 5) for k in range(n)]))
        tensors[f"state.{i}.exp_avg_sq"] = ("F64", shape, f64([1e-4 * (k + 1) for k in range(n)]))
    if exp_avg_sq is not None:
        tensors["state.0.exp_avg_sq"] = ("F64", [3, 4], f64(exp_avg_sq))
    if exp_avg0 is not None:
        tensors["state.0.exp_avg"] = ("F64", [3, 4], f64(exp_avg0))
    groups = [{"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0, "delta": 0.1, "wd_ratio": 0.1,
               "nesterov": False, "params": [0, 1, 2]}]
    params = [{"name": "w", "shape": [3, 4]}, {"name": "b", "shape": [4]}, {"name": "e", "shape": [0, 3]}]
    meta = {"format": C.FORMAT, "format_version": "1", "optimizer": "adamp", "dtype": "F64",
            "param_groups": json.dumps(groups), "parameters": json.dumps(params)}
    return tensors, meta


def main():
    os.makedirs(OUT, exist_ok=True)
    tensors, meta = good()
    base = C.safetensors_bytes(tensors, meta)
    (n,) = struct.unpack("<Q", base[:8])
    header = base[8:8 + n]
    seeds = {
        "good": base,
        "step-int64-max": C.safetensors_bytes(*good(step=2**63 - 1)),
        "step-negative": C.safetensors_bytes(*good(step=-1)),
        "exp-avg-sq-negative": C.safetensors_bytes(*good(exp_avg_sq=[-1.0] + [1e-4] * 11)),
        "exp-avg-nan": C.safetensors_bytes(*good(exp_avg0=[float("nan")] + [0.0] * 11)),
        "exp-avg-inf": C.safetensors_bytes(*good(exp_avg0=[float("inf")] + [0.0] * 11)),
        "digest-mismatch": base[:-1] + bytes([base[-1] ^ 1]),
        "truncated": base[:-5],
        "trailing-bytes": base + b"\0" * 8,
        "header-length-huge": struct.pack("<Q", 2**40) + base[8:],
        "duplicate-key": struct.pack("<Q", n + 14) + b'{"x":1,"x":2,' + header[1:] + b" " + base[8 + n:],
    }
    no_digest = dict(meta)
    for name, edit in (("param-groups-not-json", lambda m: m.update(param_groups="[{")),
                       ("parameters-count", lambda m: m.update(parameters='[{"name": "w", "shape": [3, 4]}]')),
                       ("format-version-future", lambda m: m.update(format_version="9"))):
        m = dict(no_digest)
        edit(m)
        seeds[name] = C.safetensors_bytes(tensors, m)
    t = dict(tensors)
    del t["state.1.step"]
    seeds["buffer-without-step"] = C.safetensors_bytes(t, meta)
    t = dict(tensors)
    t["state.0.junk"] = ("F64", [1], f64([1.0]))
    seeds["unknown-tensor"] = C.safetensors_bytes(t, meta)
    # The target's second optimizer, AdamP<BFloat16> with split masters:
    # float32 state and a uint16 trail per parameter (issue 30).
    split, split_meta = {}, dict(meta, dtype="BF16", master_weights="split")
    for key, (dtype, shape, raw) in tensors.items():
        if dtype == "F64":
            n = len(raw) // 8
            values = struct.unpack(f"<{n}d", raw)
            split[key] = ("F32", shape, struct.pack(f"<{n}f", *values))
            split[key.rsplit(".", 1)[0] + ".master_trail"] = ("U16", shape, struct.pack(f"<{n}H", *range(n)))
        else:
            split[key] = (dtype, shape, raw)
    seeds["bf16-split"] = C.safetensors_bytes(split, split_meta)
    seeds["bf16-split-as-float32"] = C.safetensors_bytes(split, dict(split_meta, master_weights="float32"))
    t = dict(split)
    del t["state.0.master_trail"]
    seeds["bf16-split-no-trail"] = C.safetensors_bytes(t, split_meta)
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds)} seeds to {OUT}")


if __name__ == "__main__":
    main()

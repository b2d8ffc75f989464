"""Writes adamp_v1.safetensors: a format-version-1 AdamP checkpoint, made
once and kept, so that later versions of the library are tested to keep
loading it (CheckpointTests.versionOneFileLoads). Written from the format
specification in docs/checkpoint-format.md alone (no Swift, no torch), as a C or Python user
would write one. Usage: python3 make_v1.py"""
import json, struct

def f32(values):
    return struct.pack("<%df" % len(values), *values)

tensors = {  # name: (dtype, shape, bytes)
    "state.0.step": ("I64", [], struct.pack("<q", 2)),
    "state.0.exp_avg": ("F32", [2, 3], f32([0.019, -0.038, 0.0, 0.057, 0.0095, -0.0019])),
    "state.0.exp_avg_sq": ("F32", [2, 3], f32([3.6e-6, 1.44e-5, 0.0, 3.24e-5, 9.0e-7, 3.6e-8])),
    "state.1.step": ("I64", [], struct.pack("<q", 1)),
    "state.1.exp_avg": ("F32", [3], f32([0.05, -0.1, 0.2])),
    "state.1.exp_avg_sq": ("F32", [3], f32([0.00025, 0.001, 0.004])),
}
metadata = {
    "format": "swift-adamp.optimizer",
    "format_version": "1",
    "optimizer": "adamp",
    "dtype": "F32",
    "param_groups": json.dumps([{"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-08, "weight_decay": 0.0001,
                                 "delta": 0.1, "wd_ratio": 0.1, "nesterov": True, "params": [0, 1]}]),
    "parameters": json.dumps([{"name": "conv.weight", "shape": [2, 3]}, {"name": "conv.bias", "shape": [3]}]),
}
header, blob = {"__metadata__": metadata}, b""
for name in sorted(tensors):
    dtype, shape, data = tensors[name]
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
    blob += data
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
with open("adamp_v1.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + blob)

"""Every recorded trajectory of ../shared/fixtures (the official adamp 0.3.0
and torch.optim), replayed through cadamp's classes: each step's parameters,
the projection decisions, and the final state, under the names the
reference gave them."""
import json
import os

import pytest
import torch

import cadamp
from conftest import FIXTURES, fixture_files, read_safetensors

CLASSES = {"AdamP": cadamp.AdamP, "SGDP": cadamp.SGDP, "Adam": cadamp.Adam, "AdamW": cadamp.AdamW, "SGD": cadamp.SGD}


def relative_error(ours, ref):
    return ((ours.double() - ref.double()).abs() / (ref.double().abs() + 1e-3)).max().item() if ref.numel() else 0.0


@pytest.mark.skipif(not fixture_files(), reason=f"no fixtures in {FIXTURES} (set ADAMP_FIXTURES)")
@pytest.mark.parametrize("name", fixture_files())
def test_replay(name):
    t, meta = read_safetensors(os.path.join(FIXTURES, name))
    names, steps = json.loads(meta["params"]), int(meta["steps"])
    decisions = json.loads(meta["projection"])
    hp = json.loads(meta["hparams"])
    if "betas" in hp:
        hp["betas"] = tuple(hp["betas"])
    params = [torch.nn.Parameter(t[f"{n}.init"].clone()) for n in names]
    opt = CLASSES[meta["optimizer"]](params, **hp)
    f32 = meta["dtype"] == "float32"
    # SGD is torch's arithmetic, rounding for rounding: bitwise. So is SGDP
    # where it never projects. Elsewhere sums are accumulated in double
    # (and torch's float sqrt is not correctly rounded), so a tolerance.
    exact = lambda n: meta["optimizer"] == "SGD" or (meta["optimizer"] == "SGDP" and max(decisions[n]) <= 0)
    tol = lambda n: 0.0 if exact(n) else (2e-4 if f32 else 1e-9)
    for k in range(steps):
        for n, p in zip(names, params):
            g = t.get(f"{n}.grad.{k}")
            p.grad = None if g is None else g.clone()
        opt.step()
        for n, p in zip(names, params):
            after = t.get(f"{n}.after.{k}")
            if after is not None:
                assert relative_error(p.detach(), after) <= tol(n), f"{name}: {n} after step {k}"
    for n, p in zip(names, params):
        assert relative_error(p.detach(), t[f"{n}.final"]) <= tol(n), f"{name}: {n} final"
        state = opt.state[p]
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "momentum", "momentum_buffer"):
            if f"{n}.{key}" in t:
                assert key in state, f"{name}: {n} has no state {key}"
                assert relative_error(state[key], t[f"{n}.{key}"]) <= tol(n), f"{name}: {n}.{key}"
        if f"{n}.step" in t:
            assert int(state["step"]) == int(t[f"{n}.step"]), f"{name}: {n} step count"

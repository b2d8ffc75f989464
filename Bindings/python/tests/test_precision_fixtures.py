"""The 16-bit trajectories of Tests/Fixtures/precision (record.py there: the
official adamp 0.3.0 and torch.optim on float32 copies, rounded as this
project defines a 16-bit step), replayed through cadamp's classes in every
mode: without a master the 16-bit parameters and state; with one the master
(float32, and for bfloat16 also split) and the parameter as its rounding or
upper half."""
import json
import os

import pytest
import torch

import cadamp
from conftest import read_safetensors
from test_fixtures import CLASSES, relative_error
from test_precision import master_of

HERE = os.path.dirname(os.path.abspath(__file__))
PRECISION = os.path.normpath(os.path.join(HERE, "../../../Tests/Fixtures/precision"))
FILES = sorted(f for f in os.listdir(PRECISION) if f.endswith(".safetensors"))
STATE_KEYS = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "momentum", "momentum_buffer")


def ordered(x):
    """16-bit patterns as integers in the order of their values: ulps apart."""
    i = x.contiguous().view(torch.int16).to(torch.int32)
    return torch.where(i < 0, -(i & 0x7FFF), i)


class Ulps:
    """How far 16-bit results are from the recorded ones: the sums and the
    square roots round differently (torch's float sqrt is not correctly
    rounded), which rounding to 16 bits almost always absorbs; an element
    it does not is an ulp off, and may drift an ulp more. Rounding after
    every operation instead (torch's foreach path) differs in 9-14% of the
    elements."""

    def __init__(self):
        self.worst, self.differ, self.total = 0, 0, 0

    def add(self, ours, ref):
        d = (ordered(ours.detach()) - ordered(ref)).abs()
        self.worst = max(self.worst, int(d.max()) if d.numel() else 0)
        self.differ += int((d > 0).sum())
        self.total += d.numel()

    def check(self, where, exact):
        assert self.total > 0, where
        if exact:
            assert self.differ == 0, f"{where}: {self.differ} of {self.total} elements differ"
        assert self.worst <= 2 and self.differ <= self.total // 200, \
            f"{where}: {self.differ} of {self.total} elements differ, by up to {self.worst} ulps"


def test_present():
    # The replay below must not pass by having nothing to replay.
    assert len(FILES) >= 20, PRECISION


def modes(name):
    meta = read_safetensors(os.path.join(PRECISION, name))[1]
    if meta["master"] == "off":
        return [False]
    return [True, "split"] if meta["dtype"] == "bfloat16" else [True]


@pytest.mark.parametrize("name,mode", [(f, m) for f in FILES for m in modes(f)])
def test_replay(name, mode):
    t, meta = read_safetensors(os.path.join(PRECISION, name))
    names, steps = json.loads(meta["params"]), int(meta["steps"])
    hp = json.loads(meta["hparams"])
    if "betas" in hp:
        hp["betas"] = tuple(hp["betas"])
    params = [torch.nn.Parameter(t[f"{n}.init"].clone()) for n in names]
    opt = CLASSES[meta["optimizer"]](params, **hp, **({"master_weights": mode} if mode else {}))
    dt = params[0].dtype
    where = f"{name} master_weights={mode!r}"
    # SGD is torch's arithmetic rounding for rounding: bitwise in every mode.
    exact = meta["optimizer"] == "SGD"
    ulps = Ulps()
    for k in range(steps):
        for n, p in zip(names, params):
            g = t.get(f"{n}.grad.{k}")
            p.grad = None if g is None else g.clone()
        opt.step()
        assert opt._cadamp_path == "c", where
        for n, p in zip(names, params):
            if not mode:
                ulps.add(p, t[f"{n}.after.{k}"])
                continue
            m, ref = master_of(opt, p), t[f"{n}.master.after.{k}"]
            assert relative_error(m, ref) <= (0 if exact else 2e-4), f"{where}: {n}'s master after step {k}"
            # The parameter the model sees: the master rounded, or its upper half.
            seen = m.to(dt) if mode is True else (m.view(torch.int32) >> 16).to(torch.int16).view(torch.bfloat16)
            assert torch.equal(p.detach().view(torch.int16), seen.view(torch.int16)), f"{where}: {n} after step {k}"
    for n, p in zip(names, params):
        state = opt.state[p]
        for key in STATE_KEYS:
            if f"{n}.{key}" not in t:
                continue
            assert key in state, f"{where}: {n} has no state {key}"
            ref = t[f"{n}.{key}"]
            assert state[key].dtype == ref.dtype, f"{where}: {n}.{key} is {state[key].dtype}, not {ref.dtype}"
            if mode:
                assert relative_error(state[key], ref) <= (0 if exact else 2e-4), f"{where}: {n}.{key}"
            else:
                ulps.add(state[key], ref)
        if f"{n}.step" in t:
            assert int(state["step"]) == int(t[f"{n}.step"]), f"{where}: {n} step count"
    if not mode:
        ulps.check(where, exact)

"""cadamp's classes against the official adamp 0.3.0 and torch.optim on
models with real gradients: per-group hyperparameters, closures, learning-rate
schedulers, state_dicts saved by one and loaded by the other, the reference
path for tensors the C library does not take, and bad hyperparameters."""
import copy

import adamp
import pytest
import torch

import cadamp

PAIRS = {
    "AdamP": (cadamp.AdamP, adamp.AdamP, dict(lr=1e-2, weight_decay=1e-2, nesterov=True)),
    "SGDP": (cadamp.SGDP, adamp.SGDP, dict(lr=0.1, momentum=0.9, weight_decay=1e-4, nesterov=True)),
    "Adam": (cadamp.Adam, torch.optim.Adam, dict(lr=1e-2, weight_decay=1e-3, amsgrad=True)),
    "AdamW": (cadamp.AdamW, torch.optim.AdamW, dict(lr=1e-2, maximize=True)),
    "SGD": (cadamp.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=1e-4)),
}
# AdamP and SGDP sum in double where the reference sums in the dtype, and
# torch's float sqrt is not correctly rounded: Adam-family results agree to
# rounding, SGD bitwise.
TOL = {torch.float32: dict(rtol=2e-4, atol=1e-6), torch.float64: dict(rtol=1e-9, atol=1e-12)}


def model(dtype, seed=0):
    torch.manual_seed(seed)
    m = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, bias=False), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 8, 3, bias=False), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
        torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 10), torch.nn.LayerNorm(10), torch.nn.Linear(10, 5))
    return m.to(dtype)


def batches(dtype, n=6, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(16, 3, 8, 8, generator=g, dtype=dtype), torch.randint(0, 5, (16,), generator=g)) for _ in range(n)]


def train(m, opt, data, scheduler=None, closure=False):
    for x, y in data:
        def loss_fn():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(m(x), y)
            loss.backward()
            return loss
        if closure:
            loss = opt.step(loss_fn)
            assert isinstance(loss, torch.Tensor)
        else:
            loss_fn()
            opt.step()
        if scheduler is not None:
            scheduler.step()


def assert_same(ma, mb, oa, ob, dtype, exact):
    for (na, a), b in zip(ma.named_parameters(), mb.parameters()):
        if exact:
            assert torch.equal(a, b), na
        else:
            torch.testing.assert_close(a, b, **TOL[dtype], msg=na)
    sa, sb = oa.state_dict(), ob.state_dict()
    assert [{k: v for k, v in g.items()} for g in sa["param_groups"]] == sb["param_groups"]
    assert sa["state"].keys() == sb["state"].keys()
    for i in sa["state"]:
        assert sa["state"][i].keys() == sb["state"][i].keys(), i
        for k, v in sa["state"][i].items():
            w = sb["state"][i][k]
            assert type(v) is type(w), (i, k)
            if isinstance(v, torch.Tensor):
                assert v.dtype == w.dtype and v.shape == w.shape, (i, k)
                torch.testing.assert_close(v, w, **(dict(rtol=0, atol=0) if exact else TOL[dtype]))
            else:
                assert v == w, (i, k)


def groups(m, **override):
    """Two groups: weights, and the rest with their own hyperparameters."""
    ps = list(m.named_parameters())
    return [{"params": [p for n, p in ps if p.dim() > 1]},
            {"params": [p for n, p in ps if p.dim() <= 1], "weight_decay": 0, **override}]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", PAIRS)
def test_matches_reference_with_groups_closure_and_scheduler(name, dtype):
    ours, ref, kw = PAIRS[name]
    ma, mb = model(dtype), model(dtype)
    oa, ob = ours(groups(ma, lr=kw["lr"] / 2), **kw), ref(groups(mb, lr=kw["lr"] / 2), **kw)
    sa = torch.optim.lr_scheduler.OneCycleLR(oa, max_lr=kw["lr"], total_steps=6,
                                             cycle_momentum=name in ("SGD", "SGDP", "Adam"))
    sb = torch.optim.lr_scheduler.OneCycleLR(ob, max_lr=kw["lr"], total_steps=6,
                                             cycle_momentum=name in ("SGD", "SGDP", "Adam"))
    data = batches(dtype)
    train(ma, oa, data, sa, closure=True)
    train(mb, ob, data, sb, closure=True)
    assert oa._cadamp_path == "c"
    assert_same(ma, mb, oa, ob, dtype, exact=name == "SGD")


@pytest.mark.parametrize("name", PAIRS)
def test_state_dict_moves_both_ways(name):
    """Saved by the reference class and loaded by ours, and the reverse,
    training continues as if it had not moved."""
    ours, ref, kw = PAIRS[name]
    dtype, data = torch.float32, batches(torch.float32, n=8)
    base, reference = model(dtype), model(dtype)
    o_base, o_ref = ref(base.parameters(), **kw), ref(reference.parameters(), **kw)
    train(base, o_base, data[:4])
    train(reference, o_ref, data)                  # the reference, uninterrupted
    # reference -> ours
    m1 = copy.deepcopy(base)
    o1 = ours(m1.parameters(), **kw)
    o1.load_state_dict(copy.deepcopy(o_base.state_dict()))
    train(m1, o1, data[4:])
    assert_same(m1, reference, o1, o_ref, dtype, exact=name == "SGD")
    # ours -> reference
    m2, m3 = model(dtype), model(dtype)
    o2 = ours(m2.parameters(), **kw)
    train(m2, o2, data[:4])
    m3.load_state_dict(m2.state_dict())
    o3 = ref(m3.parameters(), **kw)
    o3.load_state_dict(copy.deepcopy(o2.state_dict()))
    train(m3, o3, data[4:])
    assert_same(m3, reference, o3, o_ref, dtype, exact=name == "SGD")


@pytest.mark.parametrize("name", PAIRS)
def test_replaced_state_and_parameters_are_followed(name):
    """Between steps the state is replaced (load_state_dict) and a parameter
    given new memory (p.data = ...): the next step uses the new tensors."""
    ours, ref, kw = PAIRS[name]
    dtype, data = torch.float32, batches(torch.float32, n=9)
    ma, mb, other = model(dtype), model(dtype), model(dtype, seed=5)
    oa, ob, oo = ours(ma.parameters(), **kw), ref(mb.parameters(), **kw), ref(other.parameters(), **kw)
    train(ma, oa, data[:3])
    train(other, oo, data[3:6])
    # Both continue from the other run's model and optimizer state.
    for m, o in ((ma, oa), (mb, ob)):
        m.load_state_dict(other.state_dict())
        o.load_state_dict(copy.deepcopy(oo.state_dict()))
        first = next(m.parameters())
        first.data = first.data.clone()
    train(ma, oa, data[6:])
    train(mb, ob, data[6:])
    assert oa._cadamp_path == "c"
    assert_same(ma, mb, oa, ob, dtype, exact=name == "SGD")


@pytest.mark.parametrize("name", PAIRS)
def test_mixed_dtypes_skipped_grads_and_the_reference_path(name):
    """float32 and float64 parameters in one optimizer (one C call each); a
    parameter without a gradient keeps its state; a non-contiguous parameter
    takes the reference path alone, the others the C path, with the same
    results."""
    ours, ref, kw = PAIRS[name]
    torch.manual_seed(3)
    base = [torch.randn(6, 4), torch.randn(5, dtype=torch.float64), torch.randn(4, 6).t(), torch.randn(3, 3)]
    for contiguous in (True, False):
        pa = [torch.nn.Parameter(b.contiguous().clone() if contiguous else b.clone()) for b in base]
        pb = [torch.nn.Parameter(b.contiguous().clone()) for b in base]   # the official code needs contiguous
        oa, ob = ours(pa, **kw), ref(pb, **kw)
        for k in range(4):
            for i, (a, b) in enumerate(zip(pa, pb)):
                g = None if (i == 3 and k % 2) else torch.randn(a.shape, dtype=a.dtype)
                a.grad = None if g is None else g.clone()
                b.grad = None if g is None else g.clone()
            oa.step()
            ob.step()
            # The non-contiguous parameter takes the reference path alone.
            assert oa._cadamp_path == ("c" if contiguous else "c and reference")
            assert oa._cadamp_alone == ([] if contiguous else [pa[2]])
        for a, b in zip(pa, pb):
            torch.testing.assert_close(a, b, **TOL[torch.float32])
        assert oa.state_dict()["state"].keys() == ob.state_dict()["state"].keys()


@pytest.mark.parametrize("contiguous", [True, False])
@pytest.mark.parametrize("name", PAIRS)
def test_empty_parameters_are_stepped(name, contiguous):
    """Parameters with no elements ([0, 4] and [0]) beside real ones: the step
    takes the C path (the reference path for a real one that is not contiguous),
    the real ones move as the reference moves them, and the empty ones get
    the state and step count any parameter gets (the official AdamP and SGDP
    fail half way on an empty weight, so the reference steps the real ones
    alone)."""
    ours, ref, kw = PAIRS[name]
    torch.manual_seed(4)
    real = [torch.randn(6, 4), torch.randn(5)]
    first = real[0].clone() if contiguous else real[0].t().contiguous().t()
    pa = [torch.nn.Parameter(first), torch.nn.Parameter(real[1].clone()),
          torch.nn.Parameter(torch.empty(0, 4)), torch.nn.Parameter(torch.empty(0))]
    pb = [torch.nn.Parameter(b.clone()) for b in real]
    oa, ob = ours(pa, **kw), ref(pb, **kw)
    for _ in range(2):
        for a in pa:
            a.grad = torch.randn(a.shape)
        for a, b in zip(pa, pb):
            b.grad = a.grad.clone()
        oa.step()
        ob.step()
        assert oa._cadamp_path == ("c" if contiguous else "c and reference")
    for a, b in zip(pa, pb):
        torch.testing.assert_close(a, b, **TOL[torch.float32])
    like = ob.state[pb[0]]
    for e in pa[2:]:
        state = oa.state[e]
        assert state.keys() == like.keys()
        for k, v in like.items():
            if isinstance(v, torch.Tensor) and v.dim() > 0:
                assert state[k].shape == e.shape and state[k].dtype == e.dtype, k
            else:
                assert type(state[k]) is type(v) and state[k] == v, k   # the step count


def test_bad_hyperparameter_raises_at_construction_and_at_step():
    """An impossible value raises ValueError naming it: in the constructor,
    before the parameters are looked at (as torch.optim checks; the
    official classes take any value), and, when a group is changed later,
    at the step, on the C path and the reference path alike (a
    non-contiguous parameter), before anything changes."""
    for cls, kw, field in ((cadamp.AdamP, dict(lr=-1.0), "lr"), (cadamp.AdamP, dict(betas=(0.9, 1.5)), "betas[1]"),
                           (cadamp.SGDP, dict(lr=0.1, momentum=1.0), "momentum"),
                           (cadamp.AdamP, dict(wd_ratio=-1e-3), "wd_ratio"), (cadamp.SGDP, dict(eps=-1e-6), "eps"),
                           (cadamp.SGDP, dict(weight_decay=-1e-3), "weight_decay"),
                           (cadamp.AdamP, dict(betas=(-0.1, 0.1)), "betas[0]"),
                           (cadamp.Adam, dict(lr=float("inf")), "lr"), (cadamp.SGD, dict(lr=0.1, dampening=float("nan")), "dampening")):
        pattern = field.replace("[", r"\[").replace("]", r"\]")
        with pytest.raises(ValueError, match=pattern):
            cls(None, **kw)   # the parameters are not looked at (pytorch_optimizer's tests pass None)
        with pytest.raises(ValueError, match=pattern):
            cls([{"params": [torch.nn.Parameter(torch.ones(2))], **kw}], lr=0.1)
        for contiguous in (True, False):
            p = torch.nn.Parameter(torch.ones(4, 4) if contiguous else torch.ones(4, 4).t())
            p.grad = torch.ones(4, 4)
            opt = cls([p], lr=0.1)
            opt.param_groups[0].update(kw)
            with pytest.raises(ValueError, match=pattern):
                opt.step()
            assert torch.equal(p, torch.ones(4, 4)) and len(opt.state) == 0


def test_one_openmp_runtime_in_the_process():
    """cadamp runs on PyTorch's OpenMP runtime: after a torch operation and
    a step, the process has one runtime loaded, the one cadamp names."""
    torch.randn(256, 256) @ torch.randn(256, 256)
    p = torch.nn.Parameter(torch.randn(512, 512))
    p.grad = torch.randn(512, 512)
    cadamp.AdamP([p]).step()
    with open("/proc/self/maps") as f:
        runtimes = {line.split()[-1] for line in f if "libgomp" in line or "libomp" in line or "libiomp" in line}
    assert runtimes == {cadamp.openmp_runtime}, runtimes


def test_projections_say_what_the_step_did():
    """Behind BatchNorm a convolution's gradient is orthogonal to its weights
    row by row: AdamP and SGDP project it by channel; the linear layer and
    the 1-D parameters are not projected."""
    for cls, kw in ((cadamp.AdamP, {}), (cadamp.SGDP, dict(lr=0.1, momentum=0.9))):
        m = model(torch.float32)
        opt = cls(m.parameters(), **kw)
        train(m, opt, batches(torch.float32, n=1))
        got = {name: opt.projections()[p] for name, p in m.named_parameters()}
        assert got["0.weight"] == got["3.weight"] == "channel", got
        assert got["7.weight"] == got["9.weight"] == "none" and got["1.weight"] == "none", got


@pytest.mark.parametrize("name", ["AdamP", "SGDP"])
def test_projection_rules_in_groups(name):
    """A group's "projection" decides instead of the paper's test, on the C
    path and on the reference path alike: where the rule says what the test
    says (convolutions behind BatchNorm "channel", the last linear layer
    "never"; the one behind LayerNorm is left to the test, which projects
    it as a layer at times) the step is bitwise the test's; where it
    overrides, the projections say so; a bad rule raises and changes
    nothing."""
    ours, _, kw = PAIRS[name]

    def run(conv, linear, reference=False):
        m = model(torch.float32)
        named = dict(m.named_parameters())
        gs = [{"params": [named["0.weight"], named["3.weight"]], "projection": conv},
              {"params": [named["9.weight"]], "projection": linear},
              {"params": [p for n, p in named.items() if n not in ("0.weight", "3.weight", "9.weight")]}]
        opt = ours(gs, **kw)
        if reference:  # the official code's step, as taken for tensors the C library does not handle
            opt.step = lambda: cadamp._reference.adamp_step(opt) if name == "AdamP" else cadamp._reference.sgdp_step(opt)
        train(m, opt, batches(torch.float32, n=3))
        return m, opt

    auto, auto_opt = run("auto", "auto")
    ruled, ruled_opt = run("channel", "never")
    for (n, a), b in zip(auto.named_parameters(), ruled.parameters()):
        assert torch.equal(a, b), n
    assert ruled_opt.projections()[dict(ruled.named_parameters())["0.weight"]] == "channel"

    forced, forced_opt = run("never", "layer")
    got = {n: forced_opt.projections()[p] for n, p in forced.named_parameters()}
    assert got["0.weight"] == got["3.weight"] == "none" and got["9.weight"] == "layer", got
    reference, _ = run("never", "layer", reference=True)
    for (n, a), b in zip(forced.named_parameters(), reference.parameters()):
        torch.testing.assert_close(a, b, **TOL[torch.float32], msg=n)
    assert not torch.equal(dict(forced.named_parameters())["0.weight"], dict(auto.named_parameters())["0.weight"])

    message = "projection must be one of 'auto', 'never', 'channel', 'layer', got 'sometimes'"
    m = model(torch.float32)
    with pytest.raises(ValueError, match=message):
        ours([{"params": list(m.parameters()), "projection": "sometimes"}], **kw)
    before = [p.detach().clone() for p in m.parameters()]
    opt = ours(m.parameters(), **kw)
    opt.param_groups[0]["projection"] = "sometimes"
    with pytest.raises(ValueError, match=message):
        train(m, opt, batches(torch.float32, n=1))
    assert all(torch.equal(a, b) for a, b in zip(before, m.parameters())) and not opt.state


@pytest.mark.parametrize("both", [False, True])
def test_state_buffers_replaced_between_steps(both):
    """A state tensor replaced between steps is followed, whether the groups
    keep the same buffers (Adam with amsgrad in both) or not (amsgrad in
    one)."""
    dtype, data = torch.float32, batches(torch.float32, n=6)
    ma, mb = model(dtype), model(dtype)
    oa = cadamp.Adam(groups(ma, amsgrad=True), lr=1e-2, weight_decay=1e-3, amsgrad=both)
    ob = torch.optim.Adam(groups(mb, amsgrad=True), lr=1e-2, weight_decay=1e-3, amsgrad=both)
    train(ma, oa, data[:3])
    train(mb, ob, data[:3])
    for o in (oa, ob):
        o.load_state_dict(copy.deepcopy(ob.state_dict()))
    train(ma, oa, data[3:4])
    train(mb, ob, data[3:4])
    # One buffer of the amsgrad group replaced by a tensor of other memory
    # (doubled, so that following the old one would show).
    for o in (oa, ob):
        p = o.param_groups[1]["params"][0]
        o.state[p]["max_exp_avg_sq"] = o.state[p]["max_exp_avg_sq"] * 2
    train(ma, oa, data[4:])
    train(mb, ob, data[4:])
    assert oa._cadamp_path == "c"
    assert_same(ma, mb, oa, ob, dtype, exact=False)


@pytest.mark.parametrize("name", PAIRS)
def test_channels_last_takes_the_c_path(name):
    """A model in channels_last: its convolutions' rows (output channels)
    are still blocks of memory, so the C path takes them; the result is the
    contiguous model's up to the order of the rows' sums, the projections
    the same. A parameter whose gradient is laid out otherwise takes the
    reference path alone, which the optimizer says."""
    ours, _, kw = PAIRS[name]
    a = model(torch.float32)
    b = copy.deepcopy(a).to(memory_format=torch.channels_last)
    assert not b[0].weight.is_contiguous() and b[0].weight.is_contiguous(memory_format=torch.channels_last)
    oa, ob = ours(a.parameters(), **kw), ours(b.parameters(), **kw)
    for x, y in batches(torch.float32, n=4):
        for m, o in ((a, oa), (b, ob)):
            o.zero_grad()
            torch.nn.functional.cross_entropy(m(x.contiguous(memory_format=torch.channels_last) if m is b else x), y).backward()
        assert b[0].weight.grad.stride() == b[0].weight.stride()
        oa.step()
        ob.step()
        assert ob._cadamp_path == "c", ob._cadamp_reason
        if hasattr(oa, "projections"):
            pa, pb = oa.projections(), ob.projections()
            assert [pa[p] for p in a.parameters()] == [pb[p] for p in b.parameters()]
    for (n, x), y in zip(a.named_parameters(), b.parameters()):
        torch.testing.assert_close(x, y, rtol=1e-4, atol=1e-6, msg=n)
        for k, v in oa.state[x].items():
            if isinstance(v, torch.Tensor) and v.dim() > 0:
                assert ob.state[y][k].stride() == y.stride()
                torch.testing.assert_close(v, ob.state[y][k], rtol=1e-4, atol=1e-6, msg=f"{n} {k}")
    w = b[0].weight
    w.grad = w.grad.contiguous()
    ob.step()
    assert ob._cadamp_path == "c and reference" and ob._cadamp_alone == [w]
    assert ob._cadamp_reason == "cadamp: parameter 0 of group 0: its gradient has other strides than its parameter"

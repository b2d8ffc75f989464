"""Mixed precision in the drop-in: bfloat16 and float16 parameters on the C
path, as the one definition (the float32 step of widened values, each stored
value rounded once to nearest-even), with and without master weights, and
torch.amp.GradScaler's fused unscale.

What each is compared with:
- no master, Adam and AdamW: torch's fused kernels, bitwise (they compute
  the definition); every class: cadamp's own float32 step on widened copies
  of parameter, gradient and state, rounded, bitwise; AdamP and SGDP also
  the official code on such copies, to rounding, decisions identical;
- float32 master and split: the master bitwise the float32 optimizer's given
  the same widened gradients; the parameter the master rounded (float32) or
  its upper half (split);
- GradScaler: the scale history and parameters of torch.optim's fused Adam
  and AdamW (up to torch's sqrt, an ulp), of torch's SGD and the official
  AdamP and SGDP through GradScaler's ordinary unscale path. torch 2.13's
  fused SGD is not the reference: after a skipped first step its momentum
  buffers hold uninitialised memory (seen here: parameters of 1e16)."""
import copy

import adamp
import pytest
import torch

import cadamp

LOW = (torch.bfloat16, torch.float16)
KW = {
    "Adam": dict(lr=1e-2, weight_decay=1e-2),
    "AdamW": dict(lr=1e-2, weight_decay=1e-2, amsgrad=True),
    "SGD": dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=1e-3, nesterov=False),
    "AdamP": dict(lr=1e-2, weight_decay=1e-2, nesterov=True),
    "SGDP": dict(lr=0.1, momentum=0.9, weight_decay=1e-3, nesterov=True),
}
OFFICIAL = {"AdamP": adamp.AdamP, "SGDP": adamp.SGDP}
SHAPES = [(8, 3, 3, 3), (40, 17), (33,), (1, 200)]


def orthogonal(g, w):
    """g without its component along each row of w: a gradient of a weight
    followed by normalisation, which AdamP's test projects."""
    w2, g2 = w.reshape(w.shape[0], -1).double(), g.reshape(g.shape[0], -1).double()
    g2 = g2 - (g2 * w2).sum(1, keepdim=True) / (w2 * w2).sum(1, keepdim=True) * w2
    return g2.reshape(g.shape).float()


def gradients(params, seed):
    gen = torch.Generator().manual_seed(seed)
    out = []
    for p in params:
        g = torch.randn(p.shape, generator=gen)
        out.append(orthogonal(g, p.detach().float()) if p.dim() > 1 else g)
    return out


def make(dtype, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(s, generator=gen).to(dtype)) for s in SHAPES]


def widened_copy(opt, params, cls, kw):
    """An optimizer of `cls` over float32 copies of params and of opt's state."""
    copies = [torch.nn.Parameter(p.detach().float()) for p in params]
    o = cls(copies, **kw)
    for p, c in zip(params, copies):
        o.state[c] = {k: (v.float() if isinstance(v, torch.Tensor) and v.is_floating_point() and k != "step"
                          else copy.deepcopy(v)) for k, v in opt.state[p].items()}
    return o, copies


@pytest.mark.parametrize("name", KW)
@pytest.mark.parametrize("dtype", LOW, ids=str)
def test_no_master_is_the_float32_step_rounded_once(name, dtype):
    params = make(dtype)
    opt = getattr(cadamp, name)(params, **KW[name])
    projected = set()
    for step in range(8):
        grads = gradients(params, step)
        ref, copies = widened_copy(opt, params, getattr(cadamp, name), KW[name])
        for p, c, g in zip(params, copies, grads):
            p.grad, c.grad = g.to(dtype), g.to(dtype).float()
        opt.step()
        ref.step()
        assert opt._cadamp_path == "c", opt._cadamp_reason
        for p, c in zip(params, copies):
            assert p.dtype == dtype and torch.equal(p.detach(), c.detach().to(dtype))
            for k, v in ref.state[c].items():
                if isinstance(v, torch.Tensor) and k != "step":
                    assert opt.state[p][k].dtype == dtype and torch.equal(opt.state[p][k], v.to(dtype)), k
        if name in OFFICIAL:
            projected |= {v for v in opt.projections().values()}
    if name in OFFICIAL:
        assert "channel" in projected   # the projection's path was taken


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("dtype", LOW, ids=str)
def test_no_master_is_torchs_fused_kernel_bitwise(name, dtype):
    a, b = make(dtype), make(dtype)
    oa = getattr(cadamp, name)(a, **KW[name])
    ob = getattr(torch.optim, name)(b, fused=True, **KW[name])
    for step in range(12):
        for x, y, g in zip(a, b, gradients(a, step)):
            x.grad, y.grad = g.to(dtype), g.to(dtype)
        oa.step()
        ob.step()
    for x, y in zip(a, b):
        assert torch.equal(x, y)
        for k in ob.state[y]:
            assert torch.equal(oa.state[x][k], ob.state[y][k]), k


@pytest.mark.parametrize("name", OFFICIAL)
@pytest.mark.parametrize("dtype", LOW, ids=str)
def test_no_master_against_the_official_code_on_widened_copies(name, dtype):
    """One step from the same state: the official step on float32 copies,
    rounded once, within an ulp of the dtype (its sums are in float32,
    ours in double), the same projections."""
    params = make(dtype)
    opt = getattr(cadamp, name)(params, **KW[name])
    for step in range(6):
        grads = gradients(params, step)
        ref, copies = widened_copy(opt, params, OFFICIAL[name], KW[name])
        for p, c, g in zip(params, copies, grads):
            p.grad, c.grad = g.to(dtype), g.to(dtype).float()
        opt.step()
        ref.step()
        for p, c in zip(params, copies):
            ulp = torch.finfo(dtype).eps * c.detach().abs().clamp_min(torch.finfo(dtype).tiny)
            assert ((p.detach().float() - c.detach().to(dtype).float()).abs() <= ulp).all()


def master_of(opt, p):
    st = opt.state[p]
    if "master_param" in st:
        return st["master_param"]
    high = p.detach().view(torch.int16).to(torch.int32) << 16
    return (high | st["master_trail"].to(torch.int32)).view(torch.float32)


MODES = [(torch.bfloat16, True), (torch.float16, True), (torch.bfloat16, "split")]


@pytest.mark.parametrize("name", KW)
@pytest.mark.parametrize("dtype,mode", MODES, ids=lambda v: str(v))
def test_master_is_the_float32_optimizer_bitwise(name, dtype, mode):
    params = make(dtype)
    floats = [torch.nn.Parameter(p.detach().float()) for p in params]
    opt = getattr(cadamp, name)(params, master_weights=mode, **KW[name])
    ref = getattr(cadamp, name)(floats, **KW[name])
    for step in range(10):
        for p, f, g in zip(params, floats, gradients(floats, step)):
            p.grad, f.grad = g.to(dtype), g.to(dtype).float()
        opt.step()
        ref.step()
        assert opt._cadamp_path == "c", opt._cadamp_reason
    buffer = "master_param" if mode is True else "master_trail"
    for p, f in zip(params, floats):
        assert torch.equal(master_of(opt, p), f.detach())
        if mode is True:
            assert torch.equal(p.detach(), f.detach().to(dtype))   # rounded to nearest-even
        else:
            assert torch.equal(p.detach().view(torch.int16), (f.detach().view(torch.int32) >> 16).to(torch.int16))
        assert opt.state[p][buffer].dtype == (torch.float32 if mode is True else torch.uint16)
        for k, v in ref.state[f].items():
            if isinstance(v, torch.Tensor) and k != "step":
                assert opt.state[p][k].dtype == torch.float32 and torch.equal(opt.state[p][k], v), k


@pytest.mark.parametrize("dtype,mode", MODES, ids=lambda v: str(v))
def test_master_state_dict_resumes_bitwise(dtype, mode):
    def run(steps, opt, params, start=0):
        for step in range(start, start + steps):
            for p, g in zip(params, gradients(params, step)):
                p.grad = g.to(dtype)
            opt.step()
    a = make(dtype)
    oa = cadamp.AdamP(a, master_weights=mode, **KW["AdamP"])
    run(4, oa, a)
    saved, saved_params = copy.deepcopy(oa.state_dict()), [p.detach().clone() for p in a]
    run(4, oa, a, 4)
    b = [torch.nn.Parameter(p) for p in saved_params]
    ob = cadamp.AdamP(b, master_weights=mode, **KW["AdamP"])
    ob.load_state_dict(saved)
    for p in b:   # torch.optim would have cast them to the parameter's dtype
        assert all(v.dtype in (torch.float32, torch.uint16) for k, v in ob.state[p].items() if k != "step")
    run(4, ob, b, 4)
    for x, y in zip(a, b):
        assert torch.equal(x, y) and torch.equal(master_of(oa, x), master_of(ob, y))


def test_bad_master_weights_are_refused_and_change_nothing():
    with pytest.raises(ValueError, match="master_weights must be False, True or 'split'"):
        cadamp.Adam(make(torch.bfloat16), master_weights="yes")
    params = make(torch.float16)
    opt = cadamp.AdamW(params, master_weights="split")
    before = [p.detach().clone() for p in params]
    for p in params:
        p.grad = torch.ones_like(p)
    with pytest.raises(ValueError, match="is torch.float16: master_weights='split' takes bfloat16 parameters only"):
        opt.step()
    assert all(torch.equal(p, b) for p, b in zip(params, before)) and not opt.state
    # In a mixed group, the first parameter that cannot keep the master is named.
    mixed = make(torch.bfloat16)[:2] + [torch.nn.Parameter(torch.zeros(3))] + make(torch.float16)[:2]
    for p in mixed:
        p.grad = torch.ones_like(p)
    with pytest.raises(ValueError, match=r"parameter 3 of group 0 is torch.float16: master_weights='split'"):
        cadamp.Adam(mixed, master_weights="split").step()
    # A master needs the kernels: a parameter they cannot take is refused, not stepped another way.
    p = torch.nn.Parameter(torch.zeros(6, 4, dtype=torch.bfloat16).t())
    p.grad = torch.ones_like(p)
    opt = cadamp.Adam([p], master_weights=True)
    with pytest.raises(ValueError, match="keeping master weights steps only on the C library's path"):
        opt.step()
    assert not opt.state and (p == 0).all()


def test_float32_parameters_are_their_own_master():
    a, b = make(torch.float32), make(torch.float32)
    oa, ob = cadamp.Adam(a, master_weights=True), cadamp.Adam(b)
    for step in range(3):
        for x, y, g in zip(a, b, gradients(a, step)):
            x.grad, y.grad = g, g.clone()
        oa.step()
        ob.step()
    assert all(torch.equal(x, y) and "master_param" not in oa.state[x] for x, y in zip(a, b))


def amp_run(make_opt, steps=14, seed=0, overflow_at=5, noncontiguous=False):
    """A float32 model trained under float16 autocast with GradScaler."""
    torch.manual_seed(seed)
    m = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.BatchNorm1d(32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    if noncontiguous:   # a weight the kernels do not take: the reference path
        m[3].weight = torch.nn.Parameter(m[3].weight.detach().t().contiguous().t())
    opt = make_opt(m.parameters())
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 18, growth_interval=3)
    gen = torch.Generator().manual_seed(seed + 1)
    scales, paths = [], []
    for step in range(steps):
        x, y = torch.randn(64, 16, generator=gen), torch.randint(0, 4, (64,), generator=gen)
        with torch.autocast("cpu", dtype=torch.float16):
            loss = torch.nn.functional.cross_entropy(m(x), y)
        opt.zero_grad()
        scaler.scale(loss).backward()
        if step == overflow_at:
            m[0].weight.grad[0, 0] = float("inf")
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
        paths.append(getattr(opt, "_cadamp_path", None))
    return list(m.parameters()), scales, paths, opt


@pytest.mark.parametrize("name,reference", [
    ("Adam", lambda ps: torch.optim.Adam(ps, fused=True, **KW["Adam"])),
    ("AdamW", lambda ps: torch.optim.AdamW(ps, fused=True, **KW["AdamW"])),
    ("SGD", lambda ps: torch.optim.SGD(ps, **KW["SGD"])),
    ("AdamP", lambda ps: adamp.AdamP(ps, **KW["AdamP"])),
    ("SGDP", lambda ps: adamp.SGDP(ps, **KW["SGDP"])),
])
def test_grad_scaler_fused_unscale(name, reference):
    a, sa, paths, oa = amp_run(lambda ps: getattr(cadamp, name)(ps, **KW[name]))
    b, sb, _, ob = amp_run(reference)
    assert sa == sb and "skipped" in paths and "reference" not in paths
    assert not hasattr(oa, "grad_scale") and not hasattr(oa, "found_inf")   # GradScaler's to delete
    for x, y in zip(a, b):
        if name == "SGD":
            assert torch.equal(x, y)
        else:   # torch's sqrt (an ulp); AdamP and SGDP sum in double where the official code sums in float32
            torch.testing.assert_close(x, y, rtol=2e-6, atol=1e-7)
    steps = [s["step"] for s in oa.state.values() if "step" in s]
    assert all(int(s) == len(sa) - paths.count("skipped") for s in steps)


def test_grad_scaler_skipped_step_changes_nothing():
    p = torch.nn.Parameter(torch.randn(5, 3, dtype=torch.bfloat16))
    opt = cadamp.Adam([p], master_weights="split")
    p.grad = torch.ones_like(p)
    opt.step()
    state, before = copy.deepcopy(opt.state[p]), p.detach().clone()
    opt.grad_scale, opt.found_inf = torch.tensor(8.0), torch.tensor(1.0)
    p.grad = torch.full_like(p, float("nan"))
    opt.step()
    assert opt._cadamp_path == "skipped" and torch.equal(p, before)
    assert all(torch.equal(opt.state[p][k], v) for k, v in state.items())


def test_grad_scaler_on_the_reference_path_unscales_first():
    """A parameter the kernels do not take sends the step to torch's own,
    which gets unscaled gradients (as GradScaler's ordinary path gives)."""
    a, sa, paths, _ = amp_run(lambda ps: cadamp.SGD(ps, **KW["SGD"]), noncontiguous=True)
    b, sb, _, _ = amp_run(lambda ps: torch.optim.SGD(ps, **KW["SGD"]), noncontiguous=True)
    assert "c and reference" in paths and sa == sb
    assert all(torch.equal(x, y) for x, y in zip(a, b))

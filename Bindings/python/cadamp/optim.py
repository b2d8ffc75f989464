"""The five optimizers: constructors, defaults, param_groups, state names and
state_dict() of torch.optim's Adam, AdamW and SGD (they are subclasses) and of
the official adamp 0.3.0's AdamP and SGDP, stepped by one C call over all
parameters of all groups (cadamp._engine).

A step the C library does not handle takes the reference path instead,
unchanged: a parameter that is not a dense CPU float32, float64, bfloat16
or float16 tensor whose rows are blocks of memory (row-major, or
channels_last), its gradient and state laid out alike, a sparse gradient,
or a group with capturable or differentiable set. For Adam, AdamW and SGD
that is torch's own step; for AdamP and SGDP the official code's
(cadamp._reference). A parameter with no elements is stepped as any other
(its state made, its step counted), where the official AdamP and SGDP fail.

Mixed precision: a bfloat16 or float16 parameter is stepped as the float32
step of its widened values, each stored value rounded once to nearest-even
(torch's fused Adam and AdamW compute exactly this), its state in its dtype.
Each class also takes `master_weights`: False (that), True (a float32 copy,
state "master_param", and float32 state: the copy's trajectory is the
float32 optimizer's, bitwise, and the parameter is the copy rounded) or
"split" (bfloat16 only: the float32 master is the parameter and a uint16
trail, state "master_trail", 2 bytes per parameter more instead of 4; the
model sees the master truncated). float32 and float64 parameters are their
own master. Under torch.amp.GradScaler the unscale is fused into the step
(grad_scale, found_inf: _step_supports_amp_scaling), as torch's fused
optimizers take it; a step with non-finite gradients changes nothing.
"""
import itertools

import torch
from torch.optim.optimizer import Optimizer, required

from . import _engine, _reference


class _TorchAdamRule(_engine.Rule):
    steps = "tensor"

    def __init__(self, decoupled):
        self.decoupled = decoupled

    def algorithm(self, g):
        return "adamw" if self.decoupled or g.get("decoupled_weight_decay", False) else "adam"

    def eligible_group(self, g):
        return not g.get("capturable", False) and not g.get("differentiable", False)


class _TorchSGDRule(_engine.Rule):
    steps = "first"

    def algorithm(self, g):
        return "sgd"

    def eligible_group(self, g):
        return not g.get("differentiable", False)


class _AdamPRule(_engine.Rule):
    steps = "int"

    def algorithm(self, g):
        return "adamp"


class _SGDPRule(_engine.Rule):
    steps = "none"

    def algorithm(self, g):
        return "sgdp"


def _step(opt, rule, closure, reference):
    loss = None
    if closure is not None:
        with torch.enable_grad():
            loss = closure()
    with torch.no_grad():
        # Which path the step took ("c", "reference", "c and reference" when
        # the parameters the kernels cannot take (_cadamp_alone) took the
        # reference path alone, or "skipped" for GradScaler's non-finite
        # gradients; None if it raised before either), and why not "c"
        # (_cadamp_reason, the first such parameter's), for tests and curious users.
        opt._cadamp_path = None
        g = _engine.Groups(rule, opt.param_groups)   # one check for both paths, before either writes
        g.check_params(opt.param_groups)
        # Set by torch.amp.GradScaler.step() (we take _step_supports_amp_scaling).
        grad_scale, found_inf = getattr(opt, "grad_scale", None), getattr(opt, "found_inf", None)
        if found_inf is not None and float(found_inf) != 0:
            opt._cadamp_path = "skipped"
            return loss
        grad_mul = 1.0 if grad_scale is None else 1.0 / float(grad_scale)

        def alone(params):
            """The reference step of `params` alone: the others' gradients
            hidden from it (it skips a parameter without one)."""
            keep = {id(p) for p in params}
            hidden = [(p, p.grad) for grp in opt.param_groups for p in grp["params"]
                      if p.grad is not None and id(p) not in keep]
            try:
                for p, _ in hidden:
                    p.grad = None
                _unscaled(opt, grad_scale, found_inf, reference)
            finally:
                for p, grad in hidden:
                    p.grad = grad
        opt._cadamp_path = "c" if _engine.step(opt, rule, g, grad_mul, alone) else "reference"
        if opt._cadamp_path == "reference":
            _unscaled(opt, grad_scale, found_inf, reference)
        elif opt._cadamp_alone:
            opt._cadamp_path = "c and reference"
    return loss


def _unscaled(opt, grad_scale, found_inf, reference):
    """The reference step, its gradients unscaled first as GradScaler's
    ordinary path unscales them (in place, times the float32 reciprocal),
    with grad_scale and found_inf hidden from it (torch's unfused steps
    refuse them) and restored for GradScaler, which deletes them."""
    if grad_scale is not None:
        inv = grad_scale.double().reciprocal().float()
        for p in itertools.chain.from_iterable(grp["params"] for grp in opt.param_groups):
            if p.grad is not None:
                p.grad.mul_(inv.to(p.grad.device))
    saved = {k: opt.__dict__[k] for k in ("grad_scale", "found_inf") if k in opt.__dict__}
    opt.__dict__.update(grad_scale=None, found_inf=None)
    try:
        reference()
    finally:
        for k in ("grad_scale", "found_inf"):
            opt.__dict__.pop(k, None)
        opt.__dict__.update(saved)


class _Checked(Optimizer):
    """Checks each group's hyperparameters as it joins (the constructor's
    defaults first, before `params` is touched, as torch.optim checks
    them): ValueError naming the first out of range. A value changed in
    param_groups later is checked when the step reads it. It stands just
    before Optimizer in each class's MRO, after torch.optim's own class."""

    #: GradScaler passes grad_scale and found_inf (see _step).
    _step_supports_amp_scaling = True

    def __init__(self, params, defaults):
        # A group key only when asked for, so that param_groups and
        # state_dict() are otherwise exactly torch.optim's and adamp's.
        master_weights = self.__dict__.pop("_master_weights", False)
        if master_weights is not False:
            defaults = {**defaults, "master_weights": master_weights}
        self._check_group(defaults)
        super().__init__(params, defaults)

    def load_state_dict(self, state_dict):
        """torch.optim's, except that the state of a parameter keeping master
        weights keeps its dtypes (torch.optim casts every floating state
        tensor to its parameter's dtype, which would round a float32 master
        and its float32 moments to bfloat16)."""
        super().load_state_dict(state_dict)
        g = _engine.Groups(self._rule, self.param_groups)
        saved_ids = itertools.chain.from_iterable(grp["params"] for grp in state_dict["param_groups"])
        for gi, grp in enumerate(self.param_groups):
            for p, pid in zip(grp["params"], saved_ids):
                master = _engine.master_of(g.masters[gi], p.dtype)
                if master not in _engine._c.MASTER_BUFFERS:
                    continue
                buffer, buffer_dtype = _engine._c.MASTER_BUFFERS[master]
                state_dtype = _engine._c.state_dtype(p.dtype, master)
                for k, v in state_dict["state"].get(pid, {}).items():
                    if k != "step" and isinstance(v, torch.Tensor):
                        self.state[p][k] = v.to(dtype=buffer_dtype if k == buffer else state_dtype, device=p.device)

    def add_param_group(self, param_group):
        if isinstance(param_group, dict):
            self._check_group({**self.defaults, **param_group})
        super().add_param_group(param_group)

    def _check_group(self, group):
        g = {k: (0.0 if v is required else v) for k, v in group.items()}   # lr=required: torch says so
        _engine.Groups(self._rule, [g])


class Adam(torch.optim.Adam, _Checked):
    """torch.optim.Adam (same arguments, defaults, state and state_dict),
    each step one call of cadamp's C kernels over every parameter."""
    _rule = _TorchAdamRule(decoupled=False)

    def __init__(self, params, *args, master_weights=False, **kwargs):
        self._master_weights = master_weights
        super().__init__(params, *args, **kwargs)

    def step(self, closure=None):
        return _step(self, self._rule, closure, lambda: torch.optim.Adam.step(self))


class AdamW(torch.optim.AdamW, _Checked):
    """torch.optim.AdamW, each step one call of cadamp's C kernels."""
    _rule = _TorchAdamRule(decoupled=True)

    def __init__(self, params, *args, master_weights=False, **kwargs):
        self._master_weights = master_weights
        super().__init__(params, *args, **kwargs)

    def step(self, closure=None):
        return _step(self, self._rule, closure, lambda: torch.optim.AdamW.step(self))


class SGD(torch.optim.SGD, _Checked):
    """torch.optim.SGD, each step one call of cadamp's C kernels."""
    _rule = _TorchSGDRule()

    def __init__(self, params, *args, master_weights=False, **kwargs):
        self._master_weights = master_weights
        super().__init__(params, *args, **kwargs)

    def step(self, closure=None):
        return _step(self, self._rule, closure, lambda: torch.optim.SGD.step(self))


def _projections(opt):
    return {p: _engine._c.PROJECTIONS[c] for p, c in _engine.last_projections(opt).items()}


class AdamP(_Checked):
    """AdamP as the official adamp 0.3.0 defines it (Heo et al., ICLR 2021):
    same arguments, defaults, param_groups and state ("step", "exp_avg",
    "exp_avg_sq"), each step one call of cadamp's C kernels. A group may
    also set "projection" (cadamp's extension): "auto" (the default, the
    paper's test), or "never", "channel", "layer", which decide without the
    test; a large weight so decided ("never", "channel") steps in one sweep
    over memory instead of two, e.g. convolutions behind BatchNorm, which
    the test projects by channel at every step."""
    _rule = _AdamPRule()

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                 weight_decay=0, delta=0.1, wd_ratio=0.1, nesterov=False, master_weights=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        delta=delta, wd_ratio=wd_ratio, nesterov=nesterov)
        self._master_weights = master_weights
        super().__init__(params, defaults)

    def step(self, closure=None):
        return _step(self, self._rule, closure, lambda: _reference.adamp_step(self))

    def projections(self):
        """What the last step did to each parameter it stepped: "channel",
        "layer" (projected by that view), "none" (not scale-invariant, or
        one-dimensional). Empty after a step on the reference path."""
        return _projections(self)


class SGDP(_Checked):
    """SGDP as the official adamp 0.3.0 defines it: same arguments (lr
    required), defaults, param_groups and state ("momentum"), each step one
    call of cadamp's C kernels; a group's "projection" as in AdamP."""
    _rule = _SGDPRule()

    def __init__(self, params, lr=required, momentum=0, dampening=0,
                 weight_decay=0, nesterov=False, eps=1e-8, delta=0.1, wd_ratio=0.1, master_weights=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, eps=eps, delta=delta, wd_ratio=wd_ratio)
        self._master_weights = master_weights
        super().__init__(params, defaults)

    def step(self, closure=None):
        return _step(self, self._rule, closure, lambda: _reference.sgdp_step(self))

    def projections(self):
        """As AdamP.projections()."""
        return _projections(self)

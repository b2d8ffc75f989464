"""The five optimizers: constructors, defaults, param_groups, state names and
state_dict() of torch.optim's Adam, AdamW and SGD (they are subclasses) and of
the official adamp 0.3.0's AdamP and SGDP, stepped by one C call over all
parameters of all groups (cadamp._engine).

A step the C library does not handle takes the reference path instead,
unchanged: a parameter that is not a contiguous CPU float32/float64 tensor
(or its gradient or state), a sparse gradient, or a group with capturable
or differentiable set. For Adam, AdamW and SGD that is torch's own step; for
AdamP and SGDP the official code's (cadamp._reference). A parameter with no
elements is stepped as any other (its state made, its step counted), where
the official AdamP and SGDP fail.
"""
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
        # Which path the step took ("c" or "reference"; None if it raised
        # before either), and why not "c" (_cadamp_reason), for tests and
        # curious users.
        opt._cadamp_path = None
        g = _engine.Groups(rule, opt.param_groups)   # one check for both paths, before either writes
        opt._cadamp_path = "c" if _engine.step(opt, rule, g) else "reference"
        if opt._cadamp_path == "reference":
            reference()
    return loss


class _Checked(Optimizer):
    """Checks each group's hyperparameters as it joins (the constructor's
    defaults first, before `params` is touched, as torch.optim checks
    them): ValueError naming the first out of range. A value changed in
    param_groups later is checked when the step reads it. It stands just
    before Optimizer in each class's MRO, after torch.optim's own class."""

    def __init__(self, params, defaults):
        self._check_group(defaults)
        super().__init__(params, defaults)

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

    def step(self, closure=None):
        return _step(self, self._rule, closure, lambda: torch.optim.Adam.step(self))


class AdamW(torch.optim.AdamW, _Checked):
    """torch.optim.AdamW, each step one call of cadamp's C kernels."""
    _rule = _TorchAdamRule(decoupled=True)

    def step(self, closure=None):
        return _step(self, self._rule, closure, lambda: torch.optim.AdamW.step(self))


class SGD(torch.optim.SGD, _Checked):
    """torch.optim.SGD, each step one call of cadamp's C kernels."""
    _rule = _TorchSGDRule()

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
                 weight_decay=0, delta=0.1, wd_ratio=0.1, nesterov=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        delta=delta, wd_ratio=wd_ratio, nesterov=nesterov)
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
                 weight_decay=0, nesterov=False, eps=1e-8, delta=0.1, wd_ratio=0.1):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, eps=eps, delta=delta, wd_ratio=wd_ratio)
        super().__init__(params, defaults)

    def step(self, closure=None):
        return _step(self, self._rule, closure, lambda: _reference.sgdp_step(self))

    def projections(self):
        """As AdamP.projections()."""
        return _projections(self)

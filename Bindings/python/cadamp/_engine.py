"""One C call per (algorithm, dtype) steps every parameter of every group.

The tensors' descriptors are an int64 table in adamp_tensor's layout, built
once and kept while the parameters and their state buffers stay the same
tensors (a plan); a step then rewrites only the gradients' column. The step
counts live in the table (the C library increments them) and are mirrored
into the state as the reference keeps them. The hyperparameters are one
struct per group, rebuilt every step (a scheduler may have changed them)."""
import ctypes
import itertools
import operator

import torch

from . import _c

_GRAD = operator.attrgetter("grad")
_OPTIONS = _c.StepOptions(ctypes.sizeof(_c.StepOptions), 1.0, 1)  # grad_mul 1, drop_stats


class Rule:
    """What a class of optimizer asks of the engine (see optim.py)."""
    #: How the state keeps the step count: "tensor" (torch.optim: a 0-dim
    #: float tensor), "int" (the official AdamP), "none" (the official
    #: SGDP), "first" (torch.optim.SGD: only whether the buffer exists).
    steps = "tensor"

    def algorithm(self, group):
        raise NotImplementedError

    def hparams(self, group):
        raise NotImplementedError

    def buffers(self, group):
        """The state names of state0, state1, ... that a step uses."""
        raise NotImplementedError

    def eligible_group(self, group):
        return True


def _eligible(t, like):
    """A dense contiguous CPU tensor of like's dtype and shape."""
    return (t is not None and t.is_cpu and t.dtype is like.dtype and t.layout is torch.strided
            and t.is_contiguous() and t.shape == like.shape)


class _Plan:
    """The descriptor table of one (algorithm, dtype) batch of parameters."""

    def __init__(self, opt, rule, groups, items):
        self.items = items
        self.params = [p for p, _ in items]
        self.pending = []   # SGD buffers that join the state after the step
        for p, gi in items:
            _new_state(opt, rule, groups[gi], p, self.pending)
        staged = {(id(p), name): t for p, name, t in self.pending}

        def buffer(p, gi, slot):
            names = rule.buffers(groups[gi])
            if slot >= len(names):
                return 0
            t = opt.state[p].get(names[slot])
            return (t if t is not None else staged[(id(p), names[slot])]).data_ptr()

        n, ps = len(items), self.params
        self.table = table = torch.empty((n, 10), dtype=torch.int64)
        table[:, 0] = torch.tensor([p.data_ptr() for p in ps], dtype=torch.int64)
        for slot in range(3):
            table[:, 2 + slot] = torch.tensor([buffer(p, gi, slot) for p, gi in items], dtype=torch.int64)
        table[:, 5] = torch.tensor([gi for _, gi in items], dtype=torch.int64)   # made addresses in run()
        rows = [p.shape[0] if p.dim() > 0 else 1 for p in ps]
        table[:, 6] = torch.tensor(rows, dtype=torch.int64)
        table[:, 7] = torch.tensor([p.numel() // r for p, r in zip(ps, rows)], dtype=torch.int64)
        table[:, 8] = torch.tensor([p.dim() for p in ps], dtype=torch.int64)  # projection (high half) 0
        if rule.steps == "tensor":
            # torch.optim keeps a 0-dim tensor per parameter; here they are
            # views of one tensor, so that counting a step is one operation
            # (not one per parameter, which on 20,000 tensors took 60 ms).
            counts = torch.stack([opt.state[p]["step"].detach().reshape(()) for p in ps])
            self.step_counts = counts.to(_scalar_dtype() if counts.dtype.is_floating_point else counts.dtype)
            for i, p in enumerate(ps):
                opt.state[p]["step"] = self.step_counts[i]
            table[:, 9] = counts.to(torch.int64)
        elif rule.steps == "int":
            table[:, 9] = torch.tensor([int(opt.state[p]["step"]) for p in ps], dtype=torch.int64)
        elif rule.steps == "first":
            table[:, 9] = torch.tensor([int("momentum_buffer" in opt.state[p]) for p in ps], dtype=torch.int64)
        else:
            table[:, 9] = 0
        self.groups_column = table[:, 5].clone()
        self.hparams_base = None
        need = _c.lib.adamp_stats_len(table.data_ptr(), n)
        self.stats = torch.empty(need, dtype=torch.float64)

    def run(self, opt, rule, algorithm, dtype, hparams):
        table, n = self.table, len(self.items)
        base = ctypes.addressof(hparams)
        if base != self.hparams_base:
            table[:, 5] = self.groups_column * ctypes.sizeof(_c.HParams) + base
            self.hparams_base = base
        table[:, 1] = torch.tensor(list(map(torch.Tensor.data_ptr, map(_GRAD, self.params))), dtype=torch.int64)
        # Nothing here reads the statistics after the step: small tensors may
        # keep theirs out of the buffer (adamp_step_options.drop_stats).
        status = _c.lib.adamp_step_ex(None, _c.ALGORITHMS[algorithm], _c.DTYPES[dtype], table.data_ptr(), n,
                                      self.stats.data_ptr() if self.stats.numel() else None, self.stats.numel(),
                                      ctypes.byref(_OPTIONS))
        if status != 0:
            raise RuntimeError(f"cadamp: adamp_step_ex failed: {_c.lib.adamp_status_string(status).decode()}")
        if rule.steps == "tensor":
            self.step_counts.add_(1)
        elif rule.steps == "int":
            for p in self.params:
                opt.state[p]["step"] += 1
        for p, name, t in self.pending:
            opt.state[p][name] = t
        self.pending = []


def _signature(opt, rule, groups, items):
    """What a plan depends on: the parameters' memory, their groups' buffer
    lists, and the state's tensors (load_state_dict replaces them all). Built
    column by column with map() over C-level callables, for each run of
    parameters of one group a column per buffer name: over 20,000
    parameters, one tuple per parameter took 2.4 µs each, most of a step."""
    ps = [p for p, _ in items]
    empty = {}
    states = [opt.state.get(p, empty) for p in ps]
    sig = [id(opt.state), tuple(map(id, ps)), tuple(map(torch.Tensor.data_ptr, ps))]
    start = 0
    for gi, run in itertools.groupby(items, key=operator.itemgetter(1)):
        end = start + sum(1 for _ in run)
        names = tuple(rule.buffers(groups[gi])) + (("step",) if rule.steps == "tensor" else ())
        sig.append((gi, end, names))
        sig.extend(tuple(map(id, map(operator.methodcaller("get", name), states[start:end]))) for name in names)
        start = end
    return sig


def step(opt, rule):
    """Steps `opt` with the C library and returns True, or returns False
    having changed nothing when a parameter or group is outside what it
    handles (then the caller takes the reference path). Raises ValueError
    for a hyperparameter out of range, before anything changes."""
    groups = opt.param_groups
    if not all(rule.eligible_group(g) for g in groups):
        return False
    batches = {}  # (algorithm, dtype) -> [(param, group index)]
    empties = []  # parameters with no elements: the C library takes none
    dtypes, strided = _c.DTYPES, torch.strided
    for gi, g in enumerate(groups):
        algorithm = rule.algorithm(g)
        for p in g["params"]:
            grad = p.grad
            if grad is None:
                continue
            # A gradient the kernels can read (torch already makes its shape,
            # dtype and device the parameter's). Inline: this loop runs once
            # per parameter per step.
            if p.dtype not in dtypes or grad.layout is not strided or not grad.is_contiguous():
                return False
            if p.numel() == 0:
                empties.append((p, gi))
                continue
            batches.setdefault((algorithm, p.dtype), []).append((p, gi))
    if not batches and not empties:
        return True
    hparams = (_c.HParams * len(groups))(*[rule.hparams(g) for g in groups])
    for gi, g in enumerate(groups):
        _c.check(_c.ALGORITHMS[rule.algorithm(g)], hparams[gi])

    cache = opt.__dict__.setdefault("_cadamp_plans", {})
    plans = []
    for key, items in batches.items():
        sig = _signature(opt, rule, groups, items)
        cached = cache.get(key)
        if cached is None or cached[0] != sig:
            # New or changed tensors: everything is checked again, and the
            # reference path taken if anything is not as the kernels need.
            for p, gi in items:
                state = opt.state.get(p, {})
                if not _eligible(p, p) or any(name in state and not _eligible(state[name], p)
                                              for name in rule.buffers(groups[gi])):
                    return False
            plans.append((key, None, items, sig))
        else:
            plans.append((key, cached[1], items, sig))
    for i, (key, plan, items, sig) in enumerate(plans):
        if plan is None:
            plans[i] = (key, _Plan(opt, rule, groups, items), items, None)
    for key, plan, items, sig in plans:
        plan.run(opt, rule, key[0], key[1], hparams)
        # A new plan has put its state in place (step counts, SGD's buffers
        # once the step has run): its signature is taken now.
        cache[key] = (sig if sig is not None else _signature(opt, rule, groups, items), plan)
    _step_empty(opt, rule, groups, empties)
    return True


def _new_state(opt, rule, group, p, pending=None):
    """What p's state lacks before a step: the step count (0) and zeroed
    buffers. torch.optim.SGD's buffers (steps "first") go to `pending` when
    given, to join the state once the step has run (its first step reads
    none)."""
    state = opt.state[p]
    if "step" not in state:
        if rule.steps == "tensor":
            state["step"] = torch.tensor(0.0, dtype=_scalar_dtype())
        elif rule.steps == "int":
            state["step"] = 0
    for name in rule.buffers(group):
        if name not in state:
            t = torch.zeros_like(p, memory_format=torch.preserve_format)
            if pending is not None and rule.steps == "first":
                pending.append((p, name, t))
            else:
                state[name] = t


def _step_empty(opt, rule, groups, empties):
    """Parameters with no elements have nothing to update; their state is
    made and their steps counted as for any other (torch.optim does the
    same; the official AdamP and SGDP, viewing an empty weight by rows,
    fail half way through a step). The Swift optimizers count them too."""
    for p, gi in empties:
        _new_state(opt, rule, groups[gi], p)
        if rule.steps in ("tensor", "int"):
            opt.state[p]["step"] += 1


def last_projections(opt):
    """{parameter: adamp_projection code} of the last step the C library took."""
    out = {}
    for _, plan in getattr(opt, "_cadamp_plans", {}).values():
        for p, code in zip(plan.params, (plan.table[:, 8] >> 32).tolist()):
            out[p] = code
    return out


def _scalar_dtype():
    """The dtype torch.optim gives a step count (its _get_scalar_dtype)."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32

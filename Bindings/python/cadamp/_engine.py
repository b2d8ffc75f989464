"""One C call per (algorithm, dtype) steps every parameter of every group.

A plan, kept between steps while the same tensor objects take part, says
which parameters go to which call, and holds the state it made for
parameters that had none (which joins their state once the step has run).
Nothing else is taken from it: at every step the binder (src/bind.c) reads
every parameter, gradient, state tensor and step count as it is now
(memory, shape, dtype, value) into the C library's descriptors. A tensor
the plan cannot take as it now is (another dtype, no longer contiguous,
sharing memory) makes a new plan, or sends the step to the reference path;
a step count no optimizer writes is refused. All of it, and every call
(adamp_validate), is checked before anything is written: a step that
raises has changed nothing."""
import ctypes
import itertools
import math
import operator

import torch

from . import _c

_GRAD = operator.attrgetter("grad")
_DTYPE = operator.attrgetter("dtype")
_IMPL = operator.attrgetter("_cdata")
_GET_STEP = operator.methodcaller("get", "step", 0)
_NO_STATE = {}


class Rule:
    """What a class of optimizer asks of the engine (see optim.py). The rest
    (its hyperparameters, their ranges, its state buffers' names) is the C
    library's, read from a group by the names PyTorch gives its keys."""
    #: How the state keeps the step count: "tensor" (torch.optim: a 0-dim
    #: float tensor), "int" (the official AdamP), "none" (the official
    #: SGDP), "first" (torch.optim.SGD: only whether the buffer exists).
    steps = "tensor"

    def algorithm(self, group):
        """The C library's name of the group's algorithm ("adamw", ...)."""
        raise NotImplementedError

    def eligible_group(self, group):
        return True


class NotHandled(Exception):
    """The step is one the C library does not take: the reference path's."""


#: A group's "master_weights" (the constructors' argument) -> the C library's name.
MASTER_WEIGHTS = {False: "off", True: "float32", "split": "split"}


def master_weights(group):
    """The adamp_master a group asks of its bfloat16 and float16 parameters."""
    v = group.get("master_weights", False)
    if not any(v is k or (type(v) is str and v == k) for k in MASTER_WEIGHTS):
        raise ValueError(f"cadamp: master_weights must be False, True or 'split', got {v!r}")
    return _c.MASTERS[MASTER_WEIGHTS[v]]


def master_of(master, dtype):
    """The master a parameter of `dtype` keeps in a group asking `master`:
    float32 and float64 parameters are their own master (off)."""
    return master if dtype in (torch.bfloat16, torch.float16) else _c.MASTERS["off"]


class Groups:
    """Every group's algorithm, adamp_hparams, master weights and state
    buffers' names, as the C library reads the group; ValueError naming the
    first value out of range, for the C path and the reference path alike."""

    def __init__(self, rule, groups):
        self.masters = [master_weights(g) for g in groups]
        self.algorithms = [_c.ALGORITHMS[rule.algorithm(g)] for g in groups]
        self.h = (_c.HParams * len(groups))(*[_c.hparams(a, g) for a, g in zip(self.algorithms, groups)])
        for a, h in zip(self.algorithms, self.h):
            _c.check(a, h)
        step = ("step",) if rule.steps == "tensor" else ()
        #: Per group, the state names of state0, state1, ... that a step uses.
        self.buffers = [_c.buffers(a, h) for a, h in zip(self.algorithms, self.h)]
        #: Per group, the state entries whose tensors a plan holds.
        self.state_names = [tuple(b) + step + ((_c.MASTER_BUFFERS[m][0],) if m in _c.MASTER_BUFFERS else ())
                            for b, m in zip(self.buffers, self.masters)]

    def check_params(self, groups):
        """ValueError naming a parameter whose dtype cannot keep its group's
        master (a float16 parameter in a group asking for 'split')."""
        for gi, (grp, m) in enumerate(zip(groups, self.masters)):
            # Whether a parameter may keep m depends on its dtype alone: one
            # question per dtype, not one C call per parameter at every step.
            dtypes = list(map(_DTYPE, grp["params"]))
            refused = [d for d in set(dtypes) if not _c.master_takes(master_of(m, d), d)]
            if refused:
                k = min(map(dtypes.index, refused))
                raise ValueError(f"cadamp: parameter {k} of group {gi} is {dtypes[k]}: master_weights="
                                 f"{grp.get('master_weights')!r} takes bfloat16 parameters only")


def _zeros(p, dtype):
    return torch.zeros_like(p, dtype=dtype, memory_format=torch.preserve_format)


def _new_master(p, master):
    """A parameter's master buffer as it starts: its value in float32, or
    (split) a trail of zeros, the parameter then being the master's upper half."""
    name, dtype = _c.MASTER_BUFFERS[master]
    if dtype == torch.float32:
        return p.detach().to(torch.float32, memory_format=torch.preserve_format, copy=True)
    return _zeros(p, dtype)


class _Plan:
    """The calls of a step: parameters in batches of one (algorithm, dtype,
    master), each batch's rows contiguous in the descriptor table."""

    def __init__(self, opt, rule, g, params, runs, states):
        items = [(p, gi) for (gi, end), start in zip(runs, [0] + [e for _, e in runs]) for p in params[start:end]]
        batches = {}
        for k, (p, gi) in enumerate(items):
            batches.setdefault((g.algorithms[gi], p.dtype, master_of(g.masters[gi], p.dtype)), []).append(k)
        #: Why the kernels cannot take this plan's parameters, if they cannot.
        self.unhandled = next((f"cadamp: a parameter is {dtype}, which the C library does not take"
                               for _, dtype, _ in batches if dtype not in _c.DTYPES), None)
        order = [k for ks in batches.values() for k in ks]
        self.take = operator.itemgetter(*order) if len(order) > 1 else (lambda xs: (xs[order[0]],))
        self.batches, start = [], 0
        for (algorithm, dtype, master), ks in batches.items():
            self.batches.append((algorithm, _c.DTYPES.get(dtype, 0), master, start, start + len(ks)))
            start += len(ks)
        self.params = [items[k][0] for k in order]
        self.groups = [items[k][1] for k in order]
        n = self.n = len(order)
        masters = [master_of(g.masters[gi], p.dtype) for p, gi in zip(self.params, self.groups)]
        #: Whether a parameter keeps a master: only the kernels step it.
        self.has_masters = any(m in _c.MASTER_BUFFERS for m in masters)
        # The dtypes the binder expects of each parameter's tensors, as the
        # shim codes them: parameter, state, master (-1: none).
        codes = _c.SHIM_CODES
        state_dtypes = [_c.state_dtype(p.dtype, m) if p.dtype in _c.DTYPES else p.dtype
                        for p, m in zip(self.params, masters)]
        dtype_codes = [(codes.get(p.dtype, -1), codes.get(sd, -1),
                        codes[_c.MASTER_BUFFERS[m][1]] if m in _c.MASTER_BUFFERS else -1)
                       for p, sd, m in zip(self.params, state_dtypes, masters)]

        # The state: each tensor the table holds stays referenced here (so
        # that no other object takes its id, and its TensorImpl lives);
        # what a parameter lacks is made, to join its state after the step.
        self.held, self.new_state = [], []
        states_t = self.take(states)
        impls = torch.zeros((n, _c.MAX_STATES), dtype=torch.int64)
        master_impls = torch.zeros(n, dtype=torch.int64)
        step_impls = torch.zeros(n, dtype=torch.int64)
        steps = torch.zeros(n, dtype=torch.int64)
        for i, (p, gi, st, m, sd) in enumerate(zip(self.params, self.groups, states_t, masters, state_dtypes)):
            for k, name in enumerate(g.buffers[gi]):
                t = st.get(name)
                if t is None:
                    t = _zeros(p, sd)
                    self.new_state.append((p, name, t))
                impls[i, k] = t._cdata
                self.held.append(t)
            if m in _c.MASTER_BUFFERS:
                name = _c.MASTER_BUFFERS[m][0]
                t = st.get(name)
                if t is None:
                    t = _new_master(p, m)
                    self.new_state.append((p, name, t))
                if not isinstance(t, torch.Tensor):
                    raise NotHandled(f"cadamp: a {name} is a {type(t).__name__}, not a tensor")
                master_impls[i] = t._cdata
                self.held.append(t)
            if rule.steps == "tensor":
                t = st.get("step")
                if t is None:
                    t = torch.tensor(0.0, dtype=_scalar_dtype())
                    self.new_state.append((p, "step", t))
                if not isinstance(t, torch.Tensor):   # torch.optim takes a number too
                    raise NotHandled(f"cadamp: a step count is a {type(t).__name__}, not a tensor")
                step_impls[i] = t._cdata
                self.held.append(t)
            elif rule.steps == "first":   # whether its (one) buffer exists already
                steps[i] = int(bool(g.buffers[gi]) and st.get(g.buffers[gi][0]) is not None)
        self.param_impls = torch.tensor([p._cdata for p in self.params], dtype=torch.int64)
        self.state_impls, self.master_impls, self.step_impls, self.steps = impls, master_impls, step_impls, steps
        self.dtypes = torch.tensor(dtype_codes, dtype=torch.int32).reshape(-1)
        self.masters = torch.zeros(n, dtype=torch.int64)   # each one's master memory, as bound
        self.options = [_c.options(1.0, 1) for _ in self.batches]
        self.group_index = torch.tensor(self.groups, dtype=torch.int64)
        self.table = torch.zeros(n * _c.TENSOR_SIZE, dtype=torch.uint8)
        self.step_data = torch.zeros(n, dtype=torch.int64)
        self.step_dtypes = torch.zeros(n, dtype=torch.int32)
        self.scratch = torch.zeros(_c.lib.cadamp_bind_scratch_len(n), dtype=torch.int64)
        self.stats = [torch.empty(0, dtype=torch.float64) for _ in self.batches]
        self.int_steps = None
        self.sig = None

    def bind(self, opt, rule, groups, states, grads, h, kernels=True, unbound=None):
        """Checks every parameter for what is refused (ValueError: a
        gradient or state tensor of another shape than its parameter's, a
        step count out of range); then, with `kernels`, fills the
        descriptors from the tensors as they are. None, or why a parameter
        cannot be stepped as planned; with `unbound` (a list), every such
        parameter is appended to it, with why."""
        if rule.steps == "int":
            values = list(map(_GET_STEP, self.take(states)))
            self.int_steps = _whole_steps(values)
            if self.int_steps is None:
                bad = next(i for i, v in enumerate(values) if _whole_steps([v]) is None)
                raise ValueError(self._where(groups, bad, f"its step count {values[bad]!r} "
                                            f"{_c.lib.cadamp_bind_why(_c.lib.cadamp_bad_step()).decode()}"))
            self.steps = torch.tensor(self.int_steps, dtype=torch.int64)
        grads = torch.tensor(list(map(_IMPL, self.take(grads))), dtype=torch.int64)
        why, slot = ctypes.c_int32(), ctypes.c_int32()
        row_why = torch.zeros(self.n, dtype=torch.int32) if unbound is not None else None
        bad = _c.lib.cadamp_bind(ctypes.byref(_c.shim), self.n, self.param_impls.data_ptr(), grads.data_ptr(),
                                 self.state_impls.data_ptr(), self.master_impls.data_ptr(), self.step_impls.data_ptr(),
                                 self.dtypes.data_ptr(), self.group_index.data_ptr(), self.steps.data_ptr(),
                                 ctypes.addressof(h), len(groups), self.table.data_ptr() if kernels else None,
                                 self.masters.data_ptr(), self.step_data.data_ptr(), self.step_dtypes.data_ptr(),
                                 self.scratch.data_ptr(), ctypes.byref(why), ctypes.byref(slot),
                                 row_why.data_ptr() if row_why is not None else None)
        if bad < 0:
            return None
        if unbound is not None and not _c.lib.cadamp_bind_refused(why.value):
            for row in torch.nonzero(row_why).flatten().tolist():
                unbound.append((self.params[row], int(row_why[row]),
                                self._where(groups, row, f"{_c.lib.cadamp_bind_why(int(row_why[row])).decode()}")))
        what = (f"its {_c.lib.cadamp_bind_slot(slot.value).decode()} "
                f"{_c.lib.cadamp_bind_why(why.value).decode()}")
        if _c.lib.cadamp_bind_refused(why.value):
            detail = self.take(states)[bad].get("step") if slot.value == _c.lib.cadamp_bind_slot_step() else None
            raise ValueError(self._where(groups, bad, what + (f" ({detail!r})" if detail is not None else "")))
        return self._where(groups, bad, what)

    def _where(self, groups, row, what):
        p, gi = self.params[row], self.groups[row]
        k = next((j for j, q in enumerate(groups[gi]["params"]) if q is p), "?")
        return f"cadamp: parameter {k} of group {gi}: {what}"

    def run(self, opt, rule, grad_mul=1.0, before=None):
        """Validates every call, then (after `before()`, if given) makes
        them, then writes the state. Every gradient is taken times
        `grad_mul` (an unscale), in the step."""
        calls = []
        for b, (algorithm, dtype, master, start, end) in enumerate(self.batches):
            desc = self.table.data_ptr() + start * _c.TENSOR_SIZE
            need = _c.lib.adamp_stats_len(desc, end - start)
            if need > self.stats[b].numel():
                self.stats[b] = torch.empty(need, dtype=torch.float64)
            stats = self.stats[b]
            options = _c.options(grad_mul, 1, master, self.masters.data_ptr() + 8 * start, self.options[b])
            call = (None, algorithm, dtype, desc, end - start, stats.data_ptr() if need else None, stats.numel(),
                    options)
            status = _c.lib.adamp_validate(*call)
            if status != 0:
                raise RuntimeError(f"cadamp: adamp_validate failed: {_c.lib.adamp_status_string(status).decode()}")
            calls.append(call)
        if before is not None:
            before()
        for call in calls:
            status = _c.lib.adamp_step_ex(*call)
            if status != 0:   # validated: not reached
                raise RuntimeError(f"cadamp: adamp_step_ex failed: {_c.lib.adamp_status_string(status).decode()}")
        for p, name, t in self.new_state:
            opt.state[p][name] = t
        if rule.steps == "tensor":
            _c.lib.cadamp_store_steps(ctypes.byref(_c.shim), self.n, self.step_impls.data_ptr(), self.table.data_ptr(),
                                      self.step_data.data_ptr(), self.step_dtypes.data_ptr())
        elif rule.steps == "int":
            state = opt.state
            for p, v in zip(self.params, self.int_steps):
                state[p]["step"] = v + 1
        elif rule.steps == "first":
            self.steps.fill_(1)   # every buffer now exists
        joined, self.new_state = bool(self.new_state), []
        return joined

    def projections(self):
        codes = torch.zeros(self.n, dtype=torch.int32)
        _c.lib.cadamp_read_results(self.table.data_ptr(), self.n, None, codes.data_ptr())
        return codes.tolist()


def _whole_steps(values):
    """The step counts as ints if each is a whole number in [0, 2^63 - 1)
    (an int, or a float or one-element tensor holding one), else None."""
    values = list(values)
    if not all(type(v) is int for v in values):
        out = []
        for v in values:
            try:
                v = operator.index(v)
            except TypeError:
                try:
                    f = float(v)
                except (TypeError, ValueError, RuntimeError):
                    return None
                if not (math.isfinite(f) and f == math.floor(f)):
                    return None
                v = int(f)
            out.append(v)
        values = out
    if values and (min(values) < 0 or max(values) > _c.STEP_LIMIT):
        return None
    return values


def _gather(groups):
    """The parameters with a gradient, in group order, their gradients, and
    the runs of one group's: [(group index, end)]. No object per parameter
    is made, which over many parameters would wake the garbage collector."""
    params, grads, runs = [], [], []
    for gi, g in enumerate(groups):
        ps = g["params"]
        gs = list(map(_GRAD, ps))
        missing = list(map(operator.is_, gs, itertools.repeat(None)))
        if any(missing):
            keep = list(map(operator.not_, missing))
            ps, gs = list(itertools.compress(ps, keep)), list(itertools.compress(gs, keep))
        if ps:
            params += ps
            grads += gs
            runs.append((gi, len(params)))
    return params, grads, runs


def _signature(opt, g, params, runs):
    """What a plan depends on, and the parameters' state dicts: the state's
    identity, the parameters with a gradient, their groups, and the tensor
    objects of their state (the plan holds every one, so that no other
    object can take its id). Everything a tensor holds is the binder's to
    check, at every step."""
    states = list(map(opt.state.get, params, itertools.repeat(_NO_STATE)))
    sig = [id(opt.state), tuple(map(id, params)), tuple(runs)]
    start = 0
    for gi, end in runs:
        for name in g.state_names[gi]:
            sig.append(tuple(map(id, map(operator.methodcaller("get", name), states[start:end]))))
        start = end
    return sig, states


def step(opt, rule, g, grad_mul=1.0, alone=None):
    """Steps `opt` with the C library, every gradient taken times
    `grad_mul`, and returns True, or returns False having changed nothing
    when a parameter or group is outside what it handles (then the caller
    takes the reference path; opt._cadamp_reason says why). `g`: the Groups
    of opt's groups, already checked. Raises ValueError for a step count out
    of range, or for parameters keeping master weights that the kernels
    cannot take (no other path keeps them), before anything changes.

    `alone(params)`, if given, steps those parameters alone on the
    reference path: a parameter the kernels cannot take (another device,
    layout or dtype) then takes it alone, after the C calls are validated
    and before they run, the others staying on the C path
    (opt._cadamp_path "c and reference", opt._cadamp_alone the
    parameters); the whole step takes the reference path where a group
    asks for it, or where such a parameter shares memory with another."""
    groups = opt.param_groups
    opt._cadamp_reason = None
    opt._cadamp_alone = []
    if _c.shim is None:
        if any(master_of(m, p.dtype) in _c.MASTER_BUFFERS for grp, m in zip(groups, g.masters) for p in grp["params"]):
            raise ValueError(f"cadamp: master weights need the C library's path: {_c.shim_missing}")
        opt._cadamp_reason = f"cadamp: {_c.shim_missing}"
        return False
    eligible = all(rule.eligible_group(g) for g in groups)
    params, grads, runs = _gather(groups)
    if not params:
        return True
    sig, states = _signature(opt, g, params, runs)
    plan = opt.__dict__.get("_cadamp_plan")
    if plan is not None and plan.sig != sig:
        plan = None
    for fresh in (plan is None, True):
        if fresh:
            try:
                plan = _Plan(opt, rule, g, params, runs, states)
            except NotHandled as e:
                opt._cadamp_reason = str(e)
                return False
            plan.sig = sig
        # A plan the kernels cannot take is still checked for what is refused.
        unhandled = plan.unhandled or (None if eligible else "cadamp: a group asks for what only the reference "
                                                             "implementation does (capturable, differentiable)")
        reason = plan.bind(opt, rule, groups, states, grads, g.h, kernels=unhandled is None) or unhandled
        if reason is None:
            break
        if fresh:
            if alone is not None and plan.unhandled is None and eligible:
                split = _split(opt, rule, g, params, grads, runs, states, plan)
                if split is not None:
                    sub, aside = split
                    opt._cadamp_reason = reason
                    # Set before the reference runs: an error of its own is the reference's.
                    opt._cadamp_path, opt._cadamp_alone = "c and reference", [p for p, _ in aside]
                    sub.run(opt, rule, grad_mul, before=lambda: alone(opt._cadamp_alone))
                    opt.__dict__["_cadamp_plan"] = sub   # for projections(); a mixed step plans anew
                    return True
            if plan.has_masters:
                raise ValueError(f"{reason}; a parameter keeping master weights steps only on the C library's path")
            opt._cadamp_reason = reason
            opt.__dict__["_cadamp_plan"] = plan if unhandled else None   # its checks serve the next step
            return False
    if plan.run(opt, rule, grad_mul):
        plan.sig = _signature(opt, g, params, runs)[0]   # its new state is the state now
    opt._cadamp_plan = plan
    return True


def _split(opt, rule, g, params, grads, runs, states, plan):
    """The plan of the parameters the kernels take, and the others with
    why: (plan, [(param, why)]); or None if the step cannot be split (a
    parameter set aside shares memory with another, or keeps a master)."""
    aside = []
    for _ in range(len(params)):
        unbound = []
        plan.bind(opt, rule, opt.param_groups, states, grads, g.h, unbound=unbound)
        if not unbound:
            return (plan, aside) if not _shares_storage(opt, plan, aside) else None
        if any(why == _SHARED_MEMORY or _keeps_master(g, opt, p) for p, why, _ in unbound):
            return None
        aside += [(p, reason) for p, _, reason in unbound]
        out = {id(p) for p, _ in aside}
        keep = [id(p) not in out for p in params]
        params, grads, runs = _without(params, grads, runs, keep)
        states = list(itertools.compress(states, keep))
        if not params:
            return None
        try:
            plan = _Plan(opt, rule, g, params, runs, states)
        except NotHandled:
            return None
        if plan.unhandled is not None:
            return None
    return None


def _tensors(opt, p):
    """A parameter's tensors: itself, its gradient, its state's tensors."""
    return [p] + ([p.grad] if p.grad is not None else []) + \
        [v for v in opt.state.get(p, _NO_STATE).values() if isinstance(v, torch.Tensor)]


def _shares_storage(opt, plan, aside):
    """Whether a parameter set aside shares memory with one the kernels
    step (a view of it, say): the order of their writes would then differ
    from the reference's, which steps both."""
    def storages(ps):
        return {t.untyped_storage().data_ptr() for p in ps for t in _tensors(opt, p)
                if t.layout == torch.strided and t.numel() > 0}   # a sparse gradient has its own memory
    return not storages(plan.params).isdisjoint(storages([p for p, _ in aside]))


_SHARED_MEMORY = _c.lib.cadamp_bind_shared_memory()


def _keeps_master(g, opt, p):
    gi = next(i for i, grp in enumerate(opt.param_groups) if any(q is p for q in grp["params"]))
    return master_of(g.masters[gi], p.dtype) in _c.MASTER_BUFFERS


def _without(params, grads, runs, keep):
    """params, grads and runs of _gather with only the kept parameters."""
    out_p, out_g, out_runs, start = [], [], [], 0
    for gi, end in runs:
        for k in range(start, end):
            if keep[k]:
                out_p.append(params[k])
                out_g.append(grads[k])
        if out_p and (not out_runs or out_runs[-1][1] != len(out_p)):
            out_runs.append((gi, len(out_p)))
        start = end
    return out_p, out_g, out_runs


def last_projections(opt):
    """{parameter: adamp_projection code} of the last step the C library took."""
    plan = opt.__dict__.get("_cadamp_plan")
    if plan is None or getattr(opt, "_cadamp_path", None) not in ("c", "c and reference"):
        return {}
    return dict(zip(plan.params, plan.projections()))


def _scalar_dtype():
    """The dtype torch.optim gives a step count (its _get_scalar_dtype)."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32

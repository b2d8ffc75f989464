"""The official AdamP and SGDP steps (clovaai/AdamP, adamp 0.3.0, MIT license,
Copyright (c) 2020-present NAVER Corp.), for the parameters the C library
does not handle (not contiguous CPU float32/float64). Transcribed from
adamp/adamp.py and adamp/sgdp.py, with the state created as they create it;
two changes: the views are `reshape`, so that a non-contiguous parameter
(on which the official code's `view` raises) steps too, and a weight with no
elements is not viewed by rows (which raises; its projection would change
nothing); and one addition:
a group's "projection" rule (cadamp's extension: "auto", the paper's test,
or "never", "channel", "layer"), as the C library applies it."""
import math

import torch
import torch.nn.functional as F


def _channel_view(x):
    return x.reshape(x.size(0), -1)


def _layer_view(x):
    return x.reshape(1, -1)


#: The views each rule tries, in order (the paper's test: both).
_VIEWS = {"auto": (_channel_view, _layer_view), "never": (), "channel": (_channel_view,), "layer": (_layer_view,)}


def _projection(p, grad, perturb, delta, wd_ratio, eps, rule="auto"):
    expand_size = [-1] + [1] * (len(p.shape) - 1)
    for view in _VIEWS[rule]:
        cosine_sim = F.cosine_similarity(view(grad), view(p.data), dim=1, eps=eps).abs_()
        if rule != "auto" or cosine_sim.max() < delta / math.sqrt(view(p.data).size(1)):
            p_n = p.data / view(p.data).norm(dim=1).view(expand_size).add_(eps)
            perturb -= p_n * view(p_n * perturb).sum(dim=1).view(expand_size)
            return perturb, wd_ratio
    return perturb, 1


def adamp_step(opt):
    for group in opt.param_groups:
        for p in group["params"]:
            if p.grad is None:
                continue
            grad = p.grad.data
            beta1, beta2 = group["betas"]
            state = opt.state[p]
            if len(state) == 0:
                state["step"] = 0
                state["exp_avg"] = torch.zeros_like(p.data)
                state["exp_avg_sq"] = torch.zeros_like(p.data)
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            state["step"] += 1
            bias_correction1 = 1 - beta1 ** state["step"]
            bias_correction2 = 1 - beta2 ** state["step"]
            exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(group["eps"])
            step_size = group["lr"] / bias_correction1
            if group["nesterov"]:
                perturb = (beta1 * exp_avg + (1 - beta1) * grad) / denom
            else:
                perturb = exp_avg / denom
            wd_ratio = 1
            if len(p.shape) > 1 and p.numel() > 0:
                perturb, wd_ratio = _projection(p, grad, perturb, group["delta"], group["wd_ratio"], group["eps"],
                                                group.get("projection", "auto"))
            if group["weight_decay"] > 0:
                p.data.mul_(1 - group["lr"] * group["weight_decay"] * wd_ratio)
            p.data.add_(perturb, alpha=-step_size)


def sgdp_step(opt):
    for group in opt.param_groups:
        momentum, dampening, nesterov = group["momentum"], group["dampening"], group["nesterov"]
        for p in group["params"]:
            if p.grad is None:
                continue
            grad = p.grad.data
            state = opt.state[p]
            if len(state) == 0:
                state["momentum"] = torch.zeros_like(p.data)
            buf = state["momentum"]
            buf.mul_(momentum).add_(grad, alpha=1 - dampening)
            d_p = grad + momentum * buf if nesterov else buf
            wd_ratio = 1
            if len(p.shape) > 1 and p.numel() > 0:
                d_p, wd_ratio = _projection(p, grad, d_p, group["delta"], group["wd_ratio"], group["eps"],
                                            group.get("projection", "auto"))
            if group["weight_decay"] > 0:
                p.data.mul_(1 - group["lr"] * group["weight_decay"] * wd_ratio / (1 - momentum))
            p.data.add_(d_p, alpha=-group["lr"])

"""Optimisers over stacked parameters: every tensor is (sessions, ...), every hyperparameter (sessions,).

Each follows torch.optim's update rule exactly, so one row trains as torch.optim would train it
alone (tests/unit/test_engine_equivalence.py checks this step for step). `h` holds the
per-session hyperparameters and scalars: lr, t (this step's number, from 1), and the names an
optimiser lists in `hyper` and `scalars`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

Tensors = list[torch.Tensor]
Hyper = dict[str, torch.Tensor]
Update = Callable[[Tensors, Tensors, dict[str, Tensors], Hyper], None]


def _col(h: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(sessions,) -> (sessions, 1, 1, ...) so it broadcasts over one stacked parameter."""
    return h.view(-1, *([1] * (like.dim() - 1)))


@dataclass(frozen=True)
class BatchedOptimizer:
    """An update rule plus the state it needs: per-parameter slots and per-session scalars."""

    update: Update
    slots: tuple[str, ...] = ()  # state tensors per parameter, zero-initialised, shaped like it
    hyper: tuple[str, ...] = ()  # hyperparameters besides lr (settable, live)
    scalars: dict[str, float] = field(default_factory=dict)  # per-session running state, initial value


def _coupled_decay(p: torch.Tensor, g: torch.Tensor, h: Hyper) -> torch.Tensor:
    """torch.optim's weight_decay for all but AdamW: g + wd * p (skipped when no row decays)."""
    wd = h.get("weight_decay")
    return g if wd is None else g + _col(wd, p) * p


def _cols(h: torch.Tensor, like: Tensors) -> Tensors:
    return [_col(h, p) for p in like]


# The common optimisers use torch's _foreach ops (one call for every parameter tensor): the
# tensors are tiny, so per-op overhead, not arithmetic, is what a step costs.
def _sgd(params: Tensors, grads: Tensors, state: dict[str, Tensors], h: Hyper) -> None:
    grads = [_coupled_decay(p, g, h) for p, g in zip(params, grads, strict=True)]
    torch._foreach_sub_(params, torch._foreach_mul(grads, _cols(h["lr"], params)))


def _momentum(nesterov: bool) -> Update:
    def update(params: Tensors, grads: Tensors, state: dict[str, Tensors], h: Hyper) -> None:
        # A zero buffer gives torch's first step (buf = g) since dampening is 0.
        bufs = state["momentum_buffer"]
        grads = [_coupled_decay(p, g, h) for p, g in zip(params, grads, strict=True)]
        mu = _cols(h["momentum"], params)
        torch._foreach_mul_(bufs, mu)
        torch._foreach_add_(bufs, grads)
        step = torch._foreach_add(grads, torch._foreach_mul(bufs, mu)) if nesterov else bufs
        torch._foreach_sub_(params, torch._foreach_mul(step, _cols(h["lr"], params)))

    return update


def _adagrad(params: Tensors, grads: Tensors, state: dict[str, Tensors], h: Hyper) -> None:
    for p, g, acc in zip(params, grads, state["sum"], strict=True):
        g = _coupled_decay(p, g, h)
        acc.addcmul_(g, g)
        p.sub_(_col(h["lr"], p) * g / (acc.sqrt() + _col(h["eps"], p)))


def _adadelta(params: Tensors, grads: Tensors, state: dict[str, Tensors], h: Hyper) -> None:
    for p, g, sq, acc in zip(params, grads, state["square_avg"], state["acc_delta"], strict=True):
        g = _coupled_decay(p, g, h)
        rho, eps = _col(h["rho"], p), _col(h["eps"], p)
        sq.mul_(rho).addcmul_(g * (1 - rho), g)
        delta = (acc + eps).sqrt() / (sq + eps).sqrt() * g
        acc.mul_(rho).addcmul_(delta * (1 - rho), delta)
        p.sub_(_col(h["lr"], p) * delta)


def _rmsprop(params: Tensors, grads: Tensors, state: dict[str, Tensors], h: Hyper) -> None:
    for p, g, sq in zip(params, grads, state["square_avg"], strict=True):
        g = _coupled_decay(p, g, h)
        alpha = _col(h["alpha"], p)
        sq.mul_(alpha).addcmul_(g * (1 - alpha), g)
        p.sub_(_col(h["lr"], p) * g / (sq.sqrt() + _col(h["eps"], p)))


def _adam(decoupled: bool) -> Update:
    def update(params: Tensors, grads: Tensors, state: dict[str, Tensors], h: Hyper) -> None:
        b1, b2, t = h["beta1"], h["beta2"], h["t"]
        bias2_sqrt = (1 - b2**t).sqrt()
        step_size = h["lr"] / (1 - b1**t)
        ms, vs = state["m"], state["v"]
        if decoupled and h.get("weight_decay") is not None:
            torch._foreach_mul_(params, _cols(1 - h["lr"] * h["weight_decay"], params))
        else:
            grads = [_coupled_decay(p, g, h) for p, g in zip(params, grads, strict=True)]
        torch._foreach_lerp_(ms, grads, _cols(1 - b1, ms))
        torch._foreach_mul_(vs, _cols(b2, vs))
        torch._foreach_addcmul_(vs, torch._foreach_mul(grads, _cols(1 - b2, vs)), grads)
        denom = torch._foreach_div(torch._foreach_sqrt(vs), _cols(bias2_sqrt, vs))
        torch._foreach_add_(denom, _cols(h["eps"], vs))
        torch._foreach_sub_(params, torch._foreach_div(torch._foreach_mul(ms, _cols(step_size, ms)), denom))

    return update


def _nadam(params: Tensors, grads: Tensors, state: dict[str, Tensors], h: Hyper) -> None:
    b1, b2, t, psi = h["beta1"], h["beta2"], h["t"], h["momentum_decay"]
    mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
    mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
    h["mu_product"].mul_(mu)
    mu_product = h["mu_product"]
    bias2 = 1 - b2**t
    for p, g, m, v in zip(params, grads, state["m"], state["v"], strict=True):
        g = _coupled_decay(p, g, h)
        m.lerp_(g, 1 - _col(b1, m))
        v.mul_(_col(b2, v)).addcmul_(g * (1 - _col(b2, v)), g)
        denom = (v / _col(bias2, v)).sqrt() + _col(h["eps"], v)
        lr = h["lr"]
        p.sub_(_col(lr * (1 - mu) / (1 - mu_product), p) * g / denom)
        p.sub_(_col(lr * mu_next / (1 - mu_product * mu_next), p) * m / denom)


def _adamax(params: Tensors, grads: Tensors, state: dict[str, Tensors], h: Hyper) -> None:
    b1, b2, t = h["beta1"], h["beta2"], h["t"]
    clr = h["lr"] / (1 - b1**t)
    for p, g, m, u in zip(params, grads, state["m"], state["u"], strict=True):
        g = _coupled_decay(p, g, h)
        m.lerp_(g, 1 - _col(b1, m))
        torch.maximum(u * _col(b2, u), g.abs() + _col(h["eps"], u), out=u)
        p.sub_(_col(clr, p) * m / u)


_ADAM_HYPER = ("beta1", "beta2", "eps", "weight_decay")

OPTIMIZERS: dict[str, BatchedOptimizer] = {
    "sgd": BatchedOptimizer(_sgd, hyper=("weight_decay",)),
    "momentum": BatchedOptimizer(_momentum(False), ("momentum_buffer",), ("momentum", "weight_decay")),
    "nesterov": BatchedOptimizer(_momentum(True), ("momentum_buffer",), ("momentum", "weight_decay")),
    "adagrad": BatchedOptimizer(_adagrad, ("sum",), ("eps", "weight_decay")),
    "adadelta": BatchedOptimizer(_adadelta, ("square_avg", "acc_delta"), ("rho", "eps", "weight_decay")),
    "rmsprop": BatchedOptimizer(_rmsprop, ("square_avg",), ("alpha", "eps", "weight_decay")),
    "adam": BatchedOptimizer(_adam(False), ("m", "v"), _ADAM_HYPER),
    "adamw": BatchedOptimizer(_adam(True), ("m", "v"), _ADAM_HYPER),
    "nadam": BatchedOptimizer(_nadam, ("m", "v"), (*_ADAM_HYPER, "momentum_decay"), {"mu_product": 1.0}),
    "adamax": BatchedOptimizer(_adamax, ("m", "u"), _ADAM_HYPER),
}


def torch_optimizer(
    name: str, params: list[torch.nn.Parameter], lr: float, h: dict[str, float]
) -> torch.optim.Optimizer:
    """The torch.optim equivalent of a batched optimiser (reference for tests and exported scripts)."""
    wd = h.get("weight_decay", 0.0)
    betas = (h.get("beta1", 0.9), h.get("beta2", 0.999))
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if name in ("momentum", "nesterov"):
        return torch.optim.SGD(params, lr=lr, momentum=h["momentum"], nesterov=name == "nesterov", weight_decay=wd)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, eps=h["eps"], weight_decay=wd)
    if name == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, rho=h["rho"], eps=h["eps"], weight_decay=wd)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=h["alpha"], eps=h["eps"], weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=h["eps"], weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=betas, eps=h["eps"], weight_decay=wd)
    if name == "nadam":
        return torch.optim.NAdam(params, lr=lr, betas=betas, eps=h["eps"], weight_decay=wd,
                                 momentum_decay=h["momentum_decay"])
    if name == "adamax":
        return torch.optim.Adamax(params, lr=lr, betas=betas, eps=h["eps"], weight_decay=wd)
    raise KeyError(name)

"""Optimisers over stacked parameters: every tensor is (sessions, ...), every hyperparameter (sessions,).

Each follows torch.optim's update rule exactly, so one row trains as torch.optim would train it
alone (tests/unit/test_engine_equivalence.py checks this step for step).
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch

Tensors = list[torch.Tensor]


def _col(h: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(sessions,) -> (sessions, 1, 1, ...) so it broadcasts over one stacked parameter."""
    return h.view(-1, *([1] * (like.dim() - 1)))


@dataclass(frozen=True)
class BatchedOptimizer:
    """An update rule plus the per-parameter state slots and hyperparameters it needs."""

    slots: tuple[str, ...]  # state tensors per parameter, zero-initialised, shaped like it
    hyper: tuple[str, ...]  # per-session hyperparameters besides lr
    update: Callable[[Tensors, Tensors, dict[str, Tensors], dict[str, torch.Tensor]], None]


def _sgd(params: Tensors, grads: Tensors, state: dict[str, Tensors], h: dict[str, torch.Tensor]) -> None:
    for p, g in zip(params, grads, strict=True):
        p.sub_(_col(h["lr"], p) * g)


def _adam(params: Tensors, grads: Tensors, state: dict[str, Tensors], h: dict[str, torch.Tensor]) -> None:
    # h["t"] is the step number, already incremented for this step: (sessions,)
    b1, b2, eps, t = h["beta1"], h["beta2"], h["eps"], h["t"]
    bias1 = 1 - b1**t
    bias2_sqrt = (1 - b2**t).sqrt()
    step_size = h["lr"] / bias1
    for p, g, m, v in zip(params, grads, state["m"], state["v"], strict=True):
        m.lerp_(g, 1 - _col(b1, m))
        v.mul_(_col(b2, v)).addcmul_(g * (1 - _col(b2, v)), g)
        denom = v.sqrt() / _col(bias2_sqrt, v) + _col(eps, v)
        p.sub_(_col(step_size, p) * m / denom)


OPTIMIZERS: dict[str, BatchedOptimizer] = {
    "sgd": BatchedOptimizer(slots=(), hyper=(), update=_sgd),
    "adam": BatchedOptimizer(slots=("m", "v"), hyper=("beta1", "beta2", "eps"), update=_adam),
}

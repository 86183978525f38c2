"""Activations and losses keyed by the catalog's wire names, with hand-written derivatives.

Activations are elementwise, so batching over sessions is free. `prelu` and `maxout` have
parameters or change shapes: the network module handles them (autograd path).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

Fn = Callable[[torch.Tensor], torch.Tensor]
# (pre-activation z, activation a) -> da/dz, or None when it is 1 everywhere
Derivative = Callable[[torch.Tensor, torch.Tensor], torch.Tensor | None]

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
_INV_SQRT_2PI = 1.0 / math.sqrt(2 * math.pi)


@dataclass(frozen=True)
class Activation:
    forward: Fn
    derivative: Derivative | None  # None: train through autograd


def fast_tanh(z: torch.Tensor) -> torch.Tensor:
    """tanh(z) = 2·sigmoid(2z) − 1: within 2e-7 of torch.tanh and about 3× faster on CPU, where
    torch.tanh takes a slow path (bench: 8 ms against 2.4 ms for a 100-session decision grid)."""
    if z.requires_grad:
        return 2 * torch.sigmoid(2 * z) - 1
    return torch.sigmoid(z * 2).mul_(2).sub_(1)


def _step(z: torch.Tensor) -> torch.Tensor:
    # Heaviside with a zero gradient that still connects z to the graph (0 * z).
    return (z > 0).to(z.dtype) + 0 * z


def activation(name: str, slope: float = 0.01) -> Activation:
    """The activation named on the wire; `slope` is leaky ReLU's."""
    sig = torch.sigmoid
    table: dict[str, Activation] = {
        "linear": Activation(lambda z: z, lambda z, a: None),
        "step": Activation(_step, lambda z, a: torch.zeros_like(z)),
        "sigmoid": Activation(sig, lambda z, a: a * (1 - a)),
        "tanh": Activation(fast_tanh, lambda z, a: 1 - a * a),
        "relu": Activation(torch.relu, lambda z, a: (z > 0).to(z.dtype)),
        "leaky_relu": Activation(
            lambda z: F.leaky_relu(z, slope), lambda z, a: torch.where(z > 0, 1.0, slope).to(z.dtype)
        ),
        "elu": Activation(F.elu, lambda z, a: torch.where(z > 0, torch.ones_like(a), a + 1)),
        "selu": Activation(
            F.selu, lambda z, a: torch.where(z > 0, SELU_SCALE, a + SELU_SCALE * SELU_ALPHA).to(z.dtype)
        ),
        "swish": Activation(F.silu, lambda z, a: (s := sig(z)) * (1 + z * (1 - s))),
        "gelu": Activation(
            F.gelu, lambda z, a: 0.5 * (1 + torch.erf(z / math.sqrt(2))) + z * _INV_SQRT_2PI * torch.exp(-0.5 * z * z)
        ),
        "softsign": Activation(F.softsign, lambda z, a: 1 / (1 + z.abs()) ** 2),
        # torch's softplus is linear above 20; so is its derivative (sigmoid(z) is 1 there in float32).
        "softplus": Activation(F.softplus, lambda z, a: torch.where(z > 20, 1.0, sig(z)).to(z.dtype)),
        "prelu": Activation(torch.relu, None),  # placeholder: the network applies the learnt slope
        "maxout": Activation(lambda z: z, None),  # placeholder: the network takes the max of pairs
    }
    return table[name]


ACTIVATION_NAMES = (
    "linear", "step", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "selu", "swish", "gelu",
    "softsign", "softplus", "maxout",
)


@dataclass(frozen=True)
class Loss:
    """A loss on logits: per-point values, their gradient, and what the plane shows."""

    per_point: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (.., out) -> (.., 1)
    gradient: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # d per_point / d logits, (.., out)
    output: Fn  # logits -> shown value: probability (of class 1, or of each class) or prediction


def loss(name: str, huber_delta: float = 1.0) -> Loss:
    """The loss named on the wire. Targets: 0/1 (bce, tf_squared), one-hot (cce), values (regression)."""
    d = huber_delta
    table: dict[str, Loss] = {
        "bce": Loss(
            lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="none"),
            lambda z, y: torch.sigmoid(z) - y,
            torch.sigmoid,
        ),
        "cce": Loss(
            lambda z, y: -(y * F.log_softmax(z, dim=-1)).sum(dim=-1, keepdim=True),
            lambda z, y: torch.softmax(z, dim=-1) - y,
            lambda z: torch.softmax(z, dim=-1),
        ),
        # TensorFlow Playground: tanh output, error ½(out − t)² with t = ±1.
        "tf_squared": Loss(
            lambda z, y: 0.5 * (torch.tanh(z) - (2 * y - 1)) ** 2,
            lambda z, y: (torch.tanh(z) - (2 * y - 1)) * (1 - torch.tanh(z) ** 2),
            lambda z: (torch.tanh(z) + 1) / 2,
        ),
        "mse": Loss(lambda z, y: (z - y) ** 2, lambda z, y: 2 * (z - y), lambda z: z),
        "mae": Loss(lambda z, y: (z - y).abs(), lambda z, y: (z - y).sign(), lambda z: z),
        "huber": Loss(
            lambda z, y: F.huber_loss(z, y, reduction="none", delta=d),
            lambda z, y: (z - y).clamp(-d, d),
            lambda z: z,
        ),
    }
    return table[name]


LOSS_NAMES = ("bce", "cce", "tf_squared", "mse", "mae", "huber")


def predicted_class(loss_name: str, z: torch.Tensor) -> torch.Tensor:
    """Class index per point from logits (.., out) -> (..)."""
    if loss_name == "cce":
        return z.argmax(dim=-1)
    return (z[..., 0] > 0).to(torch.int64)

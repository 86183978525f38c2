"""Activations and losses, keyed by the catalog's wire names; elementwise, so batching is free."""

from collections.abc import Callable

import torch
import torch.nn.functional as F

Activation = Callable[[torch.Tensor], torch.Tensor]
# (prediction logits (..., out), target (..., out)) -> per-sample loss (..., out)
Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

ACTIVATIONS: dict[str, Activation] = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "linear": lambda x: x,
}

# Hand-written derivatives (z: pre-activation, a: activation) -> da/dz, for the fast backward
# pass; an activation missing here trains through autograd instead.
Derivative = Callable[[torch.Tensor, torch.Tensor], torch.Tensor | None]
DERIVATIVES: dict[str, Derivative] = {
    "relu": lambda z, a: (z > 0).to(z.dtype),
    "tanh": lambda z, a: 1 - a * a,
    "sigmoid": lambda z, a: a * (1 - a),
    "linear": lambda z, a: None,  # identity: the gradient passes unchanged
}

# d(loss)/d(logit) per point, for the fast backward pass: (logits, targets) -> same shape.
LOSS_GRADIENTS: dict[str, Loss] = {
    "bce": lambda z, y: torch.sigmoid(z) - y,
    "mse": lambda z, y: 2 * (z - y),
}

LOSSES: dict[str, Loss] = {
    "bce": lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="none"),
    "mse": lambda z, y: (z - y) ** 2,
}

# How a loss's raw output becomes the value shown on the plane (probability or prediction).
OUTPUTS: dict[str, Activation] = {
    "bce": torch.sigmoid,
    "mse": lambda z: z,
}

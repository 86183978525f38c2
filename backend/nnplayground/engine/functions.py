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

LOSSES: dict[str, Loss] = {
    "bce": lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="none"),
    "mse": lambda z, y: (z - y) ** 2,
}

# How a loss's raw output becomes the value shown on the plane (probability or prediction).
OUTPUTS: dict[str, Activation] = {
    "bce": torch.sigmoid,
    "mse": lambda z: z,
}

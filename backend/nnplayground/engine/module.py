"""A session's network as a plain torch.nn.Module: the reference for tests, the LR range test and exports.

It computes exactly what one row of a Group computes, layer for layer, with torch's own modules
(nn.Linear, nn.BatchNorm1d, nn.PReLU, the activation modules) wherever torch has one.
"""

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from .group import GroupKey
from .network import plan
from .optim import torch_optimizer


class Step(nn.Module):
    """Heaviside 0/1 with a zero gradient."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (z > 0).to(z.dtype) + 0 * z


class Maxout(nn.Module):
    """Max over adjacent pairs of a linear layer's outputs (k = 2)."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.maximum(z[..., 0::2], z[..., 1::2])


class Dropout(nn.Module):
    """Inverted dropout whose masks can be supplied, so a test can replay the engine's masks."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.masks: list[torch.Tensor] | None = None

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return h
        if self.masks is not None:
            return h * self.masks.pop(0)
        return nn.functional.dropout(h, self.p, training=True)


def activation_module(name: str, slope: float) -> nn.Module:
    return {
        "linear": nn.Identity, "step": Step, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(slope), "prelu": lambda: nn.PReLU(1, 0.25), "elu": nn.ELU,
        "selu": nn.SELU, "swish": nn.SiLU, "gelu": nn.GELU, "softsign": nn.Softsign, "softplus": nn.Softplus,
        "maxout": Maxout,
    }[name]()


class PlainNetwork(nn.Module):
    """One session's network: Linear → [BatchNorm] → activation → [BatchNorm] → [Dropout] per hidden layer."""

    def __init__(self, key: GroupKey) -> None:
        super().__init__()
        self.key = key
        self.layers = nn.ModuleList()
        for lp in plan(key):
            block = nn.Sequential()
            block.add_module("linear", nn.Linear(lp.fan_in, lp.linear_out))
            if lp.activation is not None:
                if lp.batch_norm == "before":
                    block.add_module("norm", nn.BatchNorm1d(lp.bn_width))
                block.add_module("act", activation_module(lp.activation, key.leaky_slope))
                if lp.batch_norm == "after":
                    block.add_module("norm", nn.BatchNorm1d(lp.bn_width))
                if lp.dropout > 0:
                    block.add_module("dropout", Dropout(lp.dropout))
            self.layers.append(block)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.layers:
            x = block(x)
        return x

    @torch.no_grad()
    def load_row(self, params: dict[str, torch.Tensor]) -> "PlainNetwork":
        """Copy a group row's parameters and buffers in (W is stored (in, out), nn.Linear (out, in))."""
        for i, block in enumerate(self.layers):
            block.linear.weight.copy_(params[f"W{i}"].T)
            block.linear.bias.copy_(params[f"b{i}"][0])
            if hasattr(block, "norm"):
                block.norm.weight.copy_(params[f"g{i}"][0])
                block.norm.bias.copy_(params[f"e{i}"][0])
                block.norm.running_mean.copy_(params[f"rm{i}"][0])
                block.norm.running_var.copy_(params[f"rv{i}"][0])
            if isinstance(getattr(block, "act", None), nn.PReLU):
                block.act.weight.copy_(params[f"a{i}"][0])
        return self

    def row_params(self) -> dict[str, torch.Tensor]:
        """The inverse of load_row."""
        out: dict[str, torch.Tensor] = {}
        for i, block in enumerate(self.layers):
            out[f"W{i}"] = block.linear.weight.detach().T.clone()
            out[f"b{i}"] = block.linear.bias.detach()[None].clone()
            if hasattr(block, "norm"):
                out[f"g{i}"] = block.norm.weight.detach()[None].clone()
                out[f"e{i}"] = block.norm.bias.detach()[None].clone()
                out[f"rm{i}"] = block.norm.running_mean.detach()[None].clone()
                out[f"rv{i}"] = block.norm.running_var.detach()[None].clone()
            if isinstance(getattr(block, "act", None), nn.PReLU):
                out[f"a{i}"] = block.act.weight.detach()[None].clone()
        return out


def loss_module(key: GroupKey) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """torch's loss for a key, on group-shaped targets (one-hot for cce, (n, 1) otherwise)."""
    if key.loss == "bce":
        return nn.BCEWithLogitsLoss()
    if key.loss == "cce":
        ce = nn.CrossEntropyLoss()
        return lambda z, y: ce(z, y.argmax(dim=-1))
    if key.loss == "tf_squared":
        return lambda z, y: (0.5 * (torch.tanh(z) - (2 * y - 1)) ** 2).mean()
    if key.loss == "mae":
        return nn.L1Loss()
    if key.loss == "huber":
        return nn.HuberLoss(delta=key.huber_delta)
    return nn.MSELoss()


class LearningRateFinder:
    """Leslie Smith's range test: the rate grows exponentially each mini-batch; stops when the loss explodes."""

    BETA = 0.98  # loss smoothing, as fastai's finder

    def __init__(
        self, key: GroupKey, params: dict[str, torch.Tensor], hyper: dict[str, float], x: torch.Tensor,
        y: torch.Tensor, batch: int, start: float, end: float, steps: int,
    ) -> None:
        self.model = PlainNetwork(key).load_row(params).train()
        self.loss_fn = loss_module(key)
        self.optimizer = torch_optimizer(key.optimizer, list(self.model.parameters()), start, hyper)
        self.x, self.y, self.batch = x, y, max(1, min(batch, len(x)))
        self.rates = np.geomspace(start, end, steps)
        self.learning_rates: list[float] = []
        self.losses: list[float] = []
        self._avg = 0.0
        self._best = math.inf
        self.done = False

    @property
    def progress(self) -> float:
        return 1.0 if self.done else len(self.learning_rates) / len(self.rates)

    def run(self, steps: int) -> None:
        """Advance up to `steps` mini-batches."""
        for _ in range(steps):
            i = len(self.learning_rates)
            if self.done or i >= len(self.rates):
                self.done = True
                return
            lr = float(self.rates[i])
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            start = (i * self.batch) % len(self.x)
            xb, yb = self.x[start : start + self.batch], self.y[start : start + self.batch]
            if len(xb) < 2 and any(isinstance(m, nn.BatchNorm1d) for m in self.model.modules()):
                xb, yb = self.x[: self.batch + 1], self.y[: self.batch + 1]
            loss = self.loss_fn(self.model(xb), yb)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            value = loss.item()
            if not math.isfinite(value):
                self.done = True
                return
            self._avg = self.BETA * self._avg + (1 - self.BETA) * value
            smoothed = self._avg / (1 - self.BETA ** (i + 1))
            self.learning_rates.append(lr)
            self.losses.append(smoothed)
            self._best = min(self._best, smoothed)
            if smoothed > 4 * self._best and i > 10:
                self.done = True

    def result(self) -> dict[str, object]:
        """Rates and smoothed losses so far, and, when done, the suggestion: a tenth of the best rate."""
        out: dict[str, object] = {
            "type": "lr_range_test",
            "progress": round(self.progress, 3),
            "done": self.done,
            "learning_rates": self.learning_rates,
            "losses": self.losses,
        }
        if self.done and self.losses:
            best = int(np.argmin(self.losses))
            out["min_loss_rate"] = self.learning_rates[best]
            out["suggested"] = self.learning_rates[best] / 10
        return out

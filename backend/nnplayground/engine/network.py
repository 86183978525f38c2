"""The batched network: layer plan, initialisation, forward pass and hand-written backward pass.

Every tensor carries a leading sessions dimension: weights W (sessions, in, out), biases and
batch-norm parameters (sessions, 1, width), PReLU slopes (sessions, 1, 1).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from .functions import activation, loss, predicted_class

if TYPE_CHECKING:
    from .group import GroupKey

BN_EPS = 1e-5
BN_MOMENTUM = 0.1


@dataclass(frozen=True)
class LayerPlan:
    """One linear layer and what follows it."""

    index: int
    fan_in: int
    linear_out: int  # outputs of the linear map (2 per unit for maxout)
    units: int  # outputs after the activation
    activation: str | None  # None for the output layer
    batch_norm: str  # "none" | "before" | "after"
    dropout: float

    @property
    def bn_width(self) -> int:
        return self.linear_out if self.batch_norm == "before" else self.units


def plan(key: "GroupKey") -> list[LayerPlan]:
    """The layers of a group's network, input to output."""
    layers = []
    fan_in = len(key.features)
    for i, (width, act) in enumerate(zip(key.widths, key.activations, strict=True)):
        linear_out = 2 * width if act == "maxout" else width
        layers.append(LayerPlan(i, fan_in, linear_out, width, act, key.batch_norm, key.dropout))
        fan_in = width
    layers.append(LayerPlan(len(key.widths), fan_in, key.n_out, key.n_out, None, "none", 0.0))
    return layers


def parameter_shapes(key: "GroupKey") -> dict[str, tuple[int, ...]]:
    """Trainable tensors per session, in a fixed order: W, b, then batch norm's g, e, then PReLU's a."""
    shapes: dict[str, tuple[int, ...]] = {}
    for lp in plan(key):
        shapes[f"W{lp.index}"] = (lp.fan_in, lp.linear_out)
        shapes[f"b{lp.index}"] = (1, lp.linear_out)
        if lp.batch_norm != "none" and lp.activation is not None:
            shapes[f"g{lp.index}"] = (1, lp.bn_width)
            shapes[f"e{lp.index}"] = (1, lp.bn_width)
        if lp.activation == "prelu":
            shapes[f"a{lp.index}"] = (1, 1)
    return shapes


def buffer_shapes(key: "GroupKey") -> dict[str, tuple[int, ...]]:
    """Untrained state per session: batch norm's running mean and variance."""
    shapes: dict[str, tuple[int, ...]] = {}
    for lp in plan(key):
        if lp.batch_norm != "none" and lp.activation is not None:
            shapes[f"rm{lp.index}"] = (1, lp.bn_width)
            shapes[f"rv{lp.index}"] = (1, lp.bn_width)
    return shapes


def initial_state(key: "GroupKey", init: str, gen: torch.Generator) -> dict[str, torch.Tensor]:
    """Parameters and buffers of one session, drawn with the named initialisation."""
    out: dict[str, torch.Tensor] = {}
    for lp in plan(key):
        fan_in, fan_out = lp.fan_in, lp.linear_out
        shape = (fan_in, fan_out)
        bias = torch.zeros(1, fan_out)
        if init == "tf":
            w = torch.rand(shape, generator=gen) - 0.5
            bias = torch.full((1, fan_out), 0.1)
        elif init == "normal":
            w = torch.randn(shape, generator=gen) * 0.1
        elif init == "xavier_uniform":
            w = (torch.rand(shape, generator=gen) * 2 - 1) * math.sqrt(6 / (fan_in + fan_out))
        elif init == "xavier_normal":
            w = torch.randn(shape, generator=gen) * math.sqrt(2 / (fan_in + fan_out))
        elif init == "he_uniform":
            w = (torch.rand(shape, generator=gen) * 2 - 1) * math.sqrt(6 / fan_in)
        elif init == "he_normal":
            w = torch.randn(shape, generator=gen) * math.sqrt(2 / fan_in)
        elif init == "zeros":
            w = torch.zeros(shape)
        elif init == "pytorch":
            bound = 1 / math.sqrt(fan_in)
            w = (torch.rand(shape, generator=gen) * 2 - 1) * bound
            bias = (torch.rand((1, fan_out), generator=gen) * 2 - 1) * bound
        else:
            raise KeyError(init)
        out[f"W{lp.index}"], out[f"b{lp.index}"] = w, bias
    for name, shape in parameter_shapes(key).items():
        if name[0] == "g":
            out[name] = torch.ones(shape)
        elif name[0] == "e":
            out[name] = torch.zeros(shape)
        elif name[0] == "a":
            out[name] = torch.full(shape, 0.25)
    for name, shape in buffer_shapes(key).items():
        out[name] = torch.zeros(shape) if name.startswith("rm") else torch.ones(shape)
    return out


DropoutMasks = Callable[[tuple[int, ...], float, torch.device], torch.Tensor]
Product = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def broadcast_product(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(k, n, m) @ (k, m, p) as a multiply and a sum over m, which a compiler fuses into one loop
    (BLAS pays a call per tiny matrix; widths here are at most a few dozen)."""
    return (a.unsqueeze(-1) * b.unsqueeze(1)).sum(dim=2)  # (k, n, m, p) -> (k, n, p)


def add_penalty_gradients(
    names: list[str], params: list[torch.Tensor], grads: list[torch.Tensor],
    l1: torch.Tensor | None, l2: torch.Tensor | None,
) -> None:
    """L1 (rate·sign w) and L2 (rate·w) gradients on weights, not biases, added into `grads`;
    l1, l2 are (k, 1, 1) rates, or None when no row uses that penalty."""
    for j, name in enumerate(names):
        if name[0] == "W":
            if l1 is not None:
                grads[j] = grads[j] + l1 * params[j].sign()
            if l2 is not None:
                grads[j] = grads[j] + l2 * params[j]


def layer_norms(names: list[str], grads: list[torch.Tensor], layer_matrix: torch.Tensor) -> torch.Tensor:
    """(k, layers) norm of each layer's weight and bias gradients, in a handful of ops:
    `layer_matrix` (weights and biases, layers) is 1 where a flat gradient entry belongs to a layer."""
    k = grads[0].shape[0]
    flat = torch.cat([g.reshape(k, -1) for n, g in zip(names, grads, strict=True) if n[0] in "Wb"], dim=1)
    return ((flat * flat).unsqueeze(-1) * layer_matrix).sum(dim=1).sqrt()  # (k, entries, layers) -> (k, layers)


def evaluate_part(
    net: "BatchedNetwork", params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, n: torch.Tensor,
    classification: bool, product: Product | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Eval-mode loss (rows,), accuracy (rows,) and predicted class (rows, points) of each row on
    one data part, padded: x (rows, points, features), y (rows, points, out), n (rows,) real
    points. NaN loss and accuracy where a row has no points; accuracy and classes are None for
    regression. The eager evaluation and the compiled one (engine/compiled.py) both run this."""
    mask = (torch.arange(x.shape[1], device=x.device) < n[:, None]).to(x.dtype)[:, :, None]  # (rows, points, 1)
    # Points last: evaluation passes are long and thin (3x faster on 250 points, 4x on a grid).
    z = net.forward_wide(params, x.transpose(1, 2), product).transpose(1, 2)  # (rows, points, out)
    loss_ = torch.where(n > 0, net.per_session_loss(z, y, mask, n), torch.nan)
    if not classification:
        return loss_, None, None
    pred = predicted_class(net.key.loss, z)  # (rows, points)
    truth = y.argmax(dim=-1) if net.key.loss == "cce" else y[..., 0].to(torch.int64)
    correct = ((pred == truth).to(x.dtype) * mask[..., 0]).sum(dim=1) / n.clamp(min=1)
    return loss_, torch.where(n > 0, correct, torch.nan), pred


def bernoulli_masks(shape: tuple[int, ...], p: float, device: torch.device) -> torch.Tensor:
    """Inverted dropout: keep with probability 1 - p, scaled by 1 / (1 - p)."""
    return (torch.rand(shape, device=device) >= p).to(torch.get_default_dtype()) / (1 - p)


class BatchedNetwork:
    """Forward and backward passes of one group's shape over stacked sessions."""

    def __init__(self, key: "GroupKey") -> None:
        self.key = key
        self.layers = plan(key)
        self.acts = [activation(lp.activation, key.leaky_slope) if lp.activation else None for lp in self.layers]
        self.loss = loss(key.loss, key.huber_delta)
        self.param_names = list(parameter_shapes(key))
        self.buffer_names = list(buffer_shapes(key))
        self.dropout_masks: DropoutMasks = bernoulli_masks  # tests swap in a recorder
        # Hand-written backward where every piece has a derivative; autograd otherwise.
        self.manual = key.batch_norm == "none" and all(
            a is None or a.derivative is not None for a in self.acts
        )

    def _batch_norm(
        self, h: torch.Tensor, i: int, p: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor],
        train: bool, mask: torch.Tensor | None, count: torch.Tensor | None,
    ) -> torch.Tensor:
        """Per-session batch norm over the points axis; masked points neither count nor move stats."""
        rm, rv = buffers[f"rm{i}"], buffers[f"rv{i}"]
        if train:
            n = count[:, None, None] if count is not None else torch.full_like(rm[:, :, :1], h.shape[1])
            hm = h if mask is None else h * mask
            mean = hm.sum(dim=1, keepdim=True) / n  # (k, 1, width)
            centred = h - mean
            c2 = centred * centred if mask is None else centred * centred * mask
            var = c2.sum(dim=1, keepdim=True) / n
            with torch.no_grad():
                rm.mul_(1 - BN_MOMENTUM).add_(BN_MOMENTUM * mean)
                rv.mul_(1 - BN_MOMENTUM).add_(BN_MOMENTUM * var * n / (n - 1).clamp(min=1))
            normed = centred / torch.sqrt(var + BN_EPS)
        else:
            normed = (h - rm) / torch.sqrt(rv + BN_EPS)
        return normed * p[f"g{i}"] + p[f"e{i}"]

    def forward(
        self, p: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor], x: torch.Tensor, train: bool = False,
        mask: torch.Tensor | None = None, count: torch.Tensor | None = None,
        hidden: list[torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """x (sessions, points, features) -> logits (sessions, points, n_out); autograd-friendly.

        `hidden`, when given, collects every hidden layer's output (sessions, points, units).
        """
        h = x
        for lp, act in zip(self.layers, self.acts, strict=True):
            i = lp.index
            h = torch.baddbmm(p[f"b{i}"], h, p[f"W{i}"])  # (sessions, points, linear_out)
            if act is None:
                return h
            if lp.batch_norm == "before":
                h = self._batch_norm(h, i, p, buffers, train, mask, count)
            if lp.activation == "prelu":
                h = torch.where(h > 0, h, p[f"a{i}"] * h)
            elif lp.activation == "maxout":
                h = torch.maximum(h[..., 0::2], h[..., 1::2])  # (sessions, points, units)
            else:
                h = act.forward(h)
            if lp.batch_norm == "after":
                h = self._batch_norm(h, i, p, buffers, train, mask, count)
            if train and lp.dropout > 0:
                h = h * self.dropout_masks(tuple(h.shape), lp.dropout, h.device)
            if hidden is not None:
                hidden.append(h)
        raise AssertionError("the output layer returns")

    @torch.no_grad()
    def forward_wide(
        self, p: dict[str, torch.Tensor], x_t: torch.Tensor, product: Product | None = None,
        hidden: list[torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Eval-mode logits with points last: x_t (sessions, features, points) -> (sessions, n_out, points).

        For many points (decision grids) the batched products are then long and thin the way BLAS
        is fast at (bench: 1.1 ms against 4.6 ms for one layer of a 100-session 100×100 grid).
        `product` replaces them (compiled evaluations pass broadcast_product, see backward).
        `hidden`, when given, collects every hidden layer's output (sessions, units, points).
        """
        h = x_t
        for lp, act in zip(self.layers, self.acts, strict=True):
            i = lp.index
            b, w_t = p[f"b{i}"].transpose(1, 2), p[f"W{i}"].transpose(1, 2)
            h = torch.baddbmm(b, w_t, h) if product is None else b + product(w_t, h)  # (sessions, out, points)
            if act is None:
                return h
            if lp.batch_norm == "before":
                h = self._batch_norm_wide(h, i, p)
            if lp.activation == "prelu":
                h = torch.where(h > 0, h, p[f"a{i}"] * h)
            elif lp.activation == "maxout":
                h = torch.maximum(h[:, 0::2], h[:, 1::2])  # (sessions, units, points)
            else:
                h = act.forward(h)
            if lp.batch_norm == "after":
                h = self._batch_norm_wide(h, i, p)
            if hidden is not None:
                hidden.append(h)
        raise AssertionError("the output layer returns")

    @staticmethod
    def _batch_norm_wide(h: torch.Tensor, i: int, p: dict[str, torch.Tensor]) -> torch.Tensor:
        """Eval-mode batch norm on (sessions, width, points), from the running statistics."""
        col = {n: p[f"{n}{i}"].transpose(1, 2) for n in ("rm", "rv", "g", "e")}  # (sessions, width, 1)
        return (h - col["rm"]) / torch.sqrt(col["rv"] + BN_EPS) * col["g"] + col["e"]

    @torch.no_grad()
    def backward(
        self, p: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, scale: torch.Tensor | float,
        product: Product | None = None,
    ) -> dict[str, torch.Tensor]:
        """Gradients of the per-session mean loss by hand (only when `manual`); same masks as forward.

        `product` replaces torch's batched matrix products (engine/compiled.py passes
        broadcast_product, which a compiler fuses with the rest of the step)."""
        mm = torch.bmm if product is None else product

        def affine(h: torch.Tensor, i: int) -> torch.Tensor:
            if product is None:
                return torch.baddbmm(p[f"b{i}"], h, p[f"W{i}"])
            return product(h, p[f"W{i}"]) + p[f"b{i}"]

        inputs, pre, drops = [x], [], []  # layer inputs, hidden pre-activations, dropout masks
        h = x
        for lp, act in zip(self.layers, self.acts, strict=True):
            z = affine(h, lp.index)  # (k, points, units)
            if act is None:
                h = z
                break
            h = act.forward(z)
            mask = self.dropout_masks(tuple(h.shape), lp.dropout, h.device) if lp.dropout > 0 else None
            if mask is not None:
                h = h * mask
            pre.append((z, h if mask is None else act.forward(z)))
            drops.append(mask)
            inputs.append(h)
        g = self.loss.gradient(h, y) * scale  # (k, points, n_out) dLoss/dlogit
        grads: dict[str, torch.Tensor] = {}
        for lp in reversed(self.layers):
            i = lp.index
            grads[f"W{i}"] = mm(inputs[i].transpose(1, 2), g)  # (k, in, out)
            grads[f"b{i}"] = g.sum(dim=1, keepdim=True)  # (k, 1, out)
            if i > 0:
                g = mm(g, p[f"W{i}"].transpose(1, 2))  # (k, points, in)
                if drops[i - 1] is not None:
                    g = g * drops[i - 1]
                z, a = pre[i - 1]
                d = self.acts[i - 1].derivative(z, a)  # type: ignore[union-attr]
                if d is not None:
                    g = g * d
        return grads

    def per_session_loss(
        self, z: torch.Tensor, y: torch.Tensor, mask: torch.Tensor | None, count: torch.Tensor
    ) -> torch.Tensor:
        """Mean loss over each session's real points: (k, points, out) -> (k,)."""
        per_point = self.loss.per_point(z, y)  # (k, points, 1 or out)
        if mask is not None:
            per_point = per_point * mask
        return per_point.sum(dim=(1, 2)) / (count * per_point.shape[2]).clamp(min=1)

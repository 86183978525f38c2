"""A group: every session of one network shape, trained as one batched computation.

Row tensors have a first dimension of `capacity`; rows [0, running) are the sessions that train,
rows [running, size) are paused ones (they cost nothing), rows past `size` are free. Parameters
are stacked as W (sessions, in, out) and b (sessions, 1, out); hyperparameters are (sessions,).
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from .functions import ACTIVATIONS, DERIVATIVES, LOSS_GRADIENTS, LOSSES, OUTPUTS
from .optim import OPTIMIZERS

if TYPE_CHECKING:
    from .session import Session

# Per-row host counters (numpy int64), kept beside the device tensors.
# l1_on / l2_on mirror whether a row's penalty rate is non-zero, so the step skips penalties
# without asking the device.
HOST_FIELDS = ("batch", "n_train", "n_test", "epoch_len", "steps_in_epoch", "epoch", "step", "l1_on", "l2_on")


@dataclass(frozen=True)
class GroupKey:
    """What must be equal for sessions to share one batched computation."""

    features: tuple[str, ...]
    widths: tuple[int, ...]  # hidden layers
    n_out: int
    activation: str
    loss: str
    optimizer: str
    batch_cap: int  # a power of two >= every member's batch size; smaller batches are masked

    @property
    def dims(self) -> list[int]:
        return [len(self.features), *self.widths, self.n_out]


def batch_cap(batch: int) -> int:
    """Round a batch size up to a power of two, so close sizes share a group."""
    return 1 << max(0, int(batch - 1).bit_length())


@dataclass
class RowData:
    """Everything one session contributes to a group (CPU tensors; rows move between groups this way)."""

    params: dict[str, torch.Tensor]  # "W0": (in, out), "b0": (1, out), ...
    slots: dict[str, torch.Tensor]  # optimiser state, same shapes as params, e.g. "m.W0"
    hyper: dict[str, float]  # "lr", "l1", "l2", "t", "beta1", ...
    x_train: torch.Tensor  # (n_train, features)
    y_train: torch.Tensor  # (n_train, n_out)
    x_test: torch.Tensor  # (n_test, features)
    y_test: torch.Tensor  # (n_test, n_out)
    counters: dict[str, int]  # HOST_FIELDS


class Group:
    """Stacked tensors of same-shape sessions and the batched step, evaluation and grid."""

    def __init__(self, key: GroupKey, device: torch.device) -> None:
        self.key = key
        self.device = device
        self.optimizer = OPTIMIZERS[key.optimizer]
        self.activation = ACTIVATIONS[key.activation]
        self.loss_fn = LOSSES[key.loss]
        self.output_fn = OUTPUTS[key.loss]
        # Hand-written backward pass where every piece has a derivative; autograd otherwise.
        self.manual_backward = key.activation in DERIVATIVES and key.loss in LOSS_GRADIENTS
        self.n_layers = len(key.dims) - 1
        self.param_names = [f"{p}{i}" for i in range(self.n_layers) for p in ("W", "b")]
        self.slot_names = [f"{s}.{p}" for s in self.optimizer.slots for p in self.param_names]
        self.hyper_names = ["lr", "l1", "l2", "t", *self.optimizer.hyper, *self.optimizer.scalars]
        self.capacity = 0
        self.size = 0
        self.running = 0
        self.n_train_cap = 0
        self.n_test_cap = 0
        self.sessions: list[Session] = []
        self.tensors: dict[str, torch.Tensor] = {}
        self.host: dict[str, np.ndarray] = {f: np.zeros(0, dtype=np.int64) for f in HOST_FIELDS}
        self._arange = torch.arange(key.batch_cap, device=device)  # (batch_cap,)
        self._grid_cache: dict[int, torch.Tensor] = {}

    # ---- membership -------------------------------------------------------------------------

    def _shape(self, name: str, capacity: int) -> tuple[int, ...]:
        """Full shape of a row tensor for a given capacity."""
        dims, f = self.key.dims, len(self.key.features)
        base = name.split(".")[-1]  # optimiser slots "m.W0" are shaped like their parameter "W0"
        if base in self.param_names:
            i = int(base[1:])
            return (capacity, dims[i], dims[i + 1]) if base[0] == "W" else (capacity, 1, dims[i + 1])
        return {
            "x_train": (capacity, self.n_train_cap, f),
            "y_train": (capacity, self.n_train_cap, self.key.n_out),
            "x_test": (capacity, self.n_test_cap, f),
            "y_test": (capacity, self.n_test_cap, self.key.n_out),
        }.get(name, (capacity,))

    def _names(self) -> list[str]:
        return [*self.param_names, *self.slot_names, *self.hyper_names, "x_train", "y_train", "x_test", "y_test"]

    def _reserve(self, capacity: int, n_train: int, n_test: int) -> None:
        """Grow row tensors (capacity doubles; data pads to the longest member) keeping contents."""
        if capacity <= self.capacity and n_train <= self.n_train_cap and n_test <= self.n_test_cap:
            return
        new_cap = max(capacity, 2 * self.capacity, 4)
        self.n_train_cap = max(self.n_train_cap, n_train)
        self.n_test_cap = max(self.n_test_cap, n_test)
        for name in self._names():
            new = torch.zeros(self._shape(name, new_cap), device=self.device)
            old = self.tensors.get(name)
            if old is not None:
                new[tuple(slice(0, s) for s in old.shape)] = old
            self.tensors[name] = new
        for f in HOST_FIELDS:
            grown = np.zeros(new_cap, dtype=np.int64)
            grown[: self.size] = self.host[f][: self.size]
            self.host[f] = grown
        self.capacity = new_cap

    def add(self, session: "Session", row: RowData) -> None:
        """Append a session (paused) from its row data."""
        self._reserve(self.size + 1, row.x_train.shape[0], row.x_test.shape[0])
        r = self.size
        t = self.tensors
        with torch.no_grad():
            for name, value in [*row.params.items(), *row.slots.items()]:
                t[name][r] = value.to(self.device)
            for name in self.hyper_names:
                t[name][r] = row.hyper.get(name, self.optimizer.scalars.get(name, 0.0))
            for name in ("x_train", "y_train", "x_test", "y_test"):
                t[name][r].zero_()
                value = getattr(row, name)
                t[name][r, : value.shape[0]] = value.to(self.device)
        for f in HOST_FIELDS:
            self.host[f][r] = row.counters.get(f, 0)
        self._mirror_penalties(r, row.hyper)
        self.sessions.append(session)
        session.group, session.row = self, r
        self.size += 1

    def export(self, r: int) -> RowData:
        """A row's full state as CPU tensors (to move it to another group or save it)."""
        t = self.tensors
        counters = {f: int(self.host[f][r]) for f in HOST_FIELDS}
        n_train, n_test = counters["n_train"], counters["n_test"]
        return RowData(
            params={n: t[n][r].detach().cpu().clone() for n in self.param_names},
            slots={n: t[n][r].detach().cpu().clone() for n in self.slot_names},
            hyper={n: float(t[n][r]) for n in self.hyper_names},
            x_train=t["x_train"][r, :n_train].cpu().clone(),
            y_train=t["y_train"][r, :n_train].cpu().clone(),
            x_test=t["x_test"][r, :n_test].cpu().clone(),
            y_test=t["y_test"][r, :n_test].cpu().clone(),
            counters=counters,
        )

    def _swap(self, a: int, b: int) -> None:
        """Exchange two rows in every tensor and counter."""
        if a == b:
            return
        idx = torch.tensor([a, b], device=self.device)
        rev = torch.tensor([b, a], device=self.device)
        with torch.no_grad():
            for t in self.tensors.values():
                t[idx] = t[rev]
        for f in HOST_FIELDS:
            h = self.host[f]
            h[a], h[b] = h[b], h[a]
        sa, sb = self.sessions[a], self.sessions[b]
        self.sessions[a], self.sessions[b] = sb, sa
        sa.row, sb.row = b, a

    def set_running(self, r: int, running: bool) -> None:
        """Move a row into or out of the running block [0, running)."""
        if running and r >= self.running:
            self._swap(r, self.running)
            self.running += 1
        elif not running and r < self.running:
            self._swap(r, self.running - 1)
            self.running -= 1

    def remove(self, r: int) -> None:
        """Drop a row, keeping rows packed."""
        self.set_running(r, False)
        last = self.size - 1
        self._swap(self.sessions[r].row if False else r, last)
        session = self.sessions.pop()
        session.group, session.row = None, -1
        self.size -= 1

    # ---- hyperparameters --------------------------------------------------------------------

    def set_hyper(self, r: int, values: dict[str, float]) -> None:
        with torch.no_grad():
            for name, value in values.items():
                self.tensors[name][r] = value
        self._mirror_penalties(r, values)

    def _mirror_penalties(self, r: int, values: dict[str, float]) -> None:
        for name in ("l1", "l2"):
            if name in values:
                self.host[f"{name}_on"][r] = values[name] != 0

    def set_batch(self, r: int, batch: int) -> None:
        """Live batch-size change within this group's cap; the epoch restarts at its beginning."""
        h = self.host
        h["batch"][r] = batch
        h["epoch_len"][r] = -(-h["n_train"][r] // batch)
        h["steps_in_epoch"][r] = 0

    # ---- training ---------------------------------------------------------------------------

    def _forward(self, params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """x (sessions, points, features) -> logits (sessions, points, n_out)."""
        h = x
        for i in range(self.n_layers):
            h = torch.baddbmm(params[2 * i + 1], h, params[2 * i])  # (sessions, points, width)
            if i < self.n_layers - 1:
                h = self.activation(h)
        return h

    def step(self) -> np.ndarray:
        """One optimiser step for every running row; returns the rows that finished an epoch."""
        k = self.running
        h = self.host
        batch, n_train = h["batch"][:k], h["n_train"][:k]
        pos = h["steps_in_epoch"][:k] * batch  # (k,) start of this step's batch
        count = np.minimum(pos + batch, n_train) - pos  # (k,) real points in this batch
        t = self.tensors
        cap = self.key.batch_cap
        if pos.min() == pos.max() and count.min() == cap and pos[0] + cap <= self.n_train_cap:
            # Fast path: every row takes the same full slice; no gather, no mask.
            p0 = int(pos[0])
            xb = t["x_train"][:k, p0 : p0 + cap]  # (k, cap, features)
            yb = t["y_train"][:k, p0 : p0 + cap]  # (k, cap, n_out)
            mask = None
        else:
            pos_t = torch.from_numpy(pos).to(self.device)
            count_t = torch.from_numpy(count).to(self.device)
            idx = (pos_t[:, None] + self._arange).clamp_(max=self.n_train_cap - 1)  # (k, cap)
            xb = t["x_train"][:k].gather(1, idx[:, :, None].expand(-1, -1, t["x_train"].shape[2]))
            yb = t["y_train"][:k].gather(1, idx[:, :, None].expand(-1, -1, self.key.n_out))
            mask = (self._arange < count_t[:, None]).to(xb.dtype)[:, :, None]  # (k, cap, 1)
        if mask is None:
            scale: torch.Tensor | float = 1.0 / (cap * self.key.n_out)
        else:
            denom = torch.from_numpy(count * self.key.n_out).to(self.device, xb.dtype)
            scale = mask / denom[:, None, None]  # (k, cap, 1): masked mean over real points
        if self.manual_backward:
            params = [t[n][:k] for n in self.param_names]
            grads = self._backward(params, xb, yb, scale, k)
        else:
            params = [t[n][:k].detach().requires_grad_() for n in self.param_names]
            per_point = self.loss_fn(self._forward(params, xb), yb)  # (k, cap, n_out)
            total = (per_point * scale).sum() + self._penalty(params, k)
            grads = list(torch.autograd.grad(total, params))
        with torch.no_grad():
            hyper = {n: t[n][:k] for n in self.hyper_names}
            hyper["t"].add_(1)
            slots = {s: [t[f"{s}.{p}"][:k] for p in self.param_names] for s in self.optimizer.slots}
            self.optimizer.update([p.detach() for p in params], grads, slots, hyper)
        h["steps_in_epoch"][:k] += 1
        h["step"][:k] += 1
        done = h["steps_in_epoch"][:k] >= h["epoch_len"][:k]
        if not done.any():
            return np.empty(0, dtype=np.int64)
        rows = np.flatnonzero(done)
        h["steps_in_epoch"][rows] = 0
        h["epoch"][rows] += 1
        return rows

    @torch.no_grad()
    def _backward(
        self, params: list[torch.Tensor], xb: torch.Tensor, yb: torch.Tensor, scale: torch.Tensor | float, k: int
    ) -> list[torch.Tensor]:
        """Gradients of the per-session mean loss plus penalties, by hand (fewer, fused ops than autograd)."""
        derivative = DERIVATIVES[self.key.activation]
        inputs, pre = [xb], []  # layer inputs (k, cap, in) and hidden pre-activations (k, cap, width)
        h = xb
        for i in range(self.n_layers):
            z = torch.baddbmm(params[2 * i + 1], h, params[2 * i])  # (k, cap, out)
            if i < self.n_layers - 1:
                h = self.activation(z)
                pre.append(z)
                inputs.append(h)
            else:
                h = z
        g = LOSS_GRADIENTS[self.key.loss](h, yb) * scale  # (k, cap, n_out) dLoss/dlogit
        grads: list[torch.Tensor] = [torch.empty(0)] * len(params)
        for i in reversed(range(self.n_layers)):
            grads[2 * i] = torch.bmm(inputs[i].transpose(1, 2), g)  # (k, in, out)
            grads[2 * i + 1] = g.sum(dim=1, keepdim=True)  # (k, 1, out)
            if i > 0:
                g = torch.bmm(g, params[2 * i].transpose(1, 2))  # (k, cap, in)
                d = derivative(pre[i - 1], inputs[i])
                if d is not None:
                    g = g * d
        l1, l2 = self.tensors["l1"][:k], self.tensors["l2"][:k]
        if self.host["l1_on"][:k].any():
            for i in range(0, len(params), 2):
                grads[i] = grads[i] + l1[:, None, None] * params[i].sign()
        if self.host["l2_on"][:k].any():
            for i in range(0, len(params), 2):
                grads[i] = grads[i] + l2[:, None, None] * params[i]
        return grads

    def _penalty(self, params: list[torch.Tensor], k: int) -> torch.Tensor | float:
        """L1 and L2 penalties on weights (not biases), per-session rates; skipped when all zero."""
        l1, l2 = self.tensors["l1"][:k], self.tensors["l2"][:k]
        total: torch.Tensor | float = 0.0
        weights = params[0::2]
        if self.host["l1_on"][:k].any():
            total = total + sum((l1 * w.abs().sum(dim=(1, 2))).sum() for w in weights)
        if self.host["l2_on"][:k].any():
            total = total + sum((l2 * 0.5 * (w * w).sum(dim=(1, 2))).sum() for w in weights)
        return total

    # ---- evaluation -------------------------------------------------------------------------

    def _rows_params(self, rows: np.ndarray) -> tuple[torch.Tensor | slice, list[torch.Tensor]]:
        if len(rows) == rows[-1] + 1 and (rows == np.arange(len(rows))).all():
            sel: torch.Tensor | slice = slice(0, len(rows))
        else:
            sel = torch.from_numpy(rows).to(self.device)
        return sel, [self.tensors[n][sel] for n in self.param_names]

    @torch.no_grad()
    def outputs(self, rows: np.ndarray, x: torch.Tensor) -> torch.Tensor:
        """Shown values (probability or prediction) of rows on shared points x (points, features)."""
        _, params = self._rows_params(rows)
        xs = x.expand(len(rows), -1, -1)  # (rows, points, features)
        return self.output_fn(self._forward(params, xs))  # (rows, points, n_out)

    @torch.no_grad()
    def evaluate(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Loss (and accuracy for classification) on the whole train and test sets of rows."""
        sel, params = self._rows_params(rows)
        out: dict[str, np.ndarray] = {}
        for part in ("train", "test"):
            x, y = self.tensors[f"x_{part}"][sel], self.tensors[f"y_{part}"][sel]
            n = torch.from_numpy(self.host[f"n_{part}"][rows]).to(self.device)  # (rows,)
            mask = (torch.arange(x.shape[1], device=self.device) < n[:, None]).to(x.dtype)[:, :, None]
            z = self._forward(params, x)  # (rows, points, n_out)
            denom = (n * self.key.n_out).clamp(min=1).to(x.dtype)
            out[f"{part}_loss"] = ((self.loss_fn(z, y) * mask).sum(dim=(1, 2)) / denom).cpu().numpy()
            if self.key.loss == "bce":
                correct = ((z > 0).to(x.dtype) == y).to(x.dtype) * mask
                out[f"{part}_accuracy"] = (correct.sum(dim=(1, 2)) / denom).cpu().numpy()
                out[f"{part}_predicted"] = (z > 0).squeeze(-1).to(torch.int64).cpu().numpy()
        return out

"""A group: every session of one network shape, trained as one batched computation.

Row tensors have a first dimension of `capacity`; rows [0, running) are the sessions that train,
rows [running, size) are paused ones (they cost nothing), rows past `size` are free. Parameters
are stacked as W (sessions, in, out) and b (sessions, 1, out); hyperparameters are (sessions,).
"""

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import torch

from .. import catalog
from .capture import StepCapture
from .compiled import LONE_STEPS, MIN_ROWS, CompiledSteps, StepInputs, StepVariant, step_args
from .network import BatchedNetwork, add_penalty_gradients, buffer_shapes, evaluate_part, layer_norms, parameter_shapes
from .optim import OPTIMIZERS
from .schedules import ScheduleTable

if TYPE_CHECKING:
    from ..schemas import ScheduleSpec
    from .session import Session

PARTS = ("train", "val", "test")
# Per-row host counters (numpy int64) beside the device tensors. The *_on flags mirror whether
# a row uses a penalty, clipping or input noise, so the step skips them without asking the device.
HOST_FIELDS = (
    "batch", "n_train", "n_val", "n_test", "epoch_len", "steps_in_epoch", "epoch", "step",
    "l1_on", "l2_on", "clip_on", "noise_on", "decay_on",
)
# Per-session hyperparameters every group holds, besides the optimiser's own.
BASE_HYPER = ("lr", "l1", "l2", "t", "clip_norm", "clip_val", "noise")
FLAGS = {
    "l1": "l1_on", "l2": "l2_on", "clip_norm": "clip_on", "clip_val": "clip_on", "noise": "noise_on",
    "weight_decay": "decay_on",
}
OFF = {"clip_norm": float("inf"), "clip_val": float("inf")}  # values that mean "not used"


@dataclass(frozen=True)
class GroupKey:
    """What must be equal for sessions to share one batched computation."""

    features: tuple[str, ...]
    widths: tuple[int, ...]  # hidden layers
    activations: tuple[str, ...]  # one per hidden layer
    n_out: int
    loss: str
    optimizer: str
    batch_cap: int  # a power of two >= every member's batch size; smaller batches are masked
    leaky_slope: float = 0.01
    huber_delta: float = 1.0
    batch_norm: str = "none"
    dropout: float = 0.0


def batch_cap(batch: int) -> int:
    """Round a batch size up to a power of two, so close sizes share a group."""
    return 1 << max(0, int(batch - 1).bit_length())


@dataclass
class RowData:
    """Everything one session contributes to a group (CPU tensors; rows move between groups this way)."""

    params: dict[str, torch.Tensor]  # parameters and buffers, per-session shapes
    slots: dict[str, torch.Tensor]  # optimiser state, e.g. "m.W0"
    hyper: dict[str, float]
    data: dict[str, torch.Tensor]  # x_train, y_train, x_val, y_val, x_test, y_test: (n, features|out)
    counters: dict[str, int]


@dataclass
class ParkedEpochs:
    """Rows that ended an epoch, kept for one batched evaluation at the end of a training slice:
    copies of their parameters at that moment, so later steps do not change what is evaluated."""

    sessions: list["Session"]
    epochs: list[int]
    steps: list[int]
    norms: np.ndarray  # (rows, layers) gradient norms at the epoch's last step
    params: dict[str, "RowTensor"]  # (rows, ...) parameters and buffers, numpy on the CPU (take_rows)


RowTensor = torch.Tensor | np.ndarray  # a row tensor, or a numpy view of one (on the CPU)


def swap_rows(tensors: list[RowTensor], a: int, b: int) -> None:
    """Exchange rows a and b of each tensor (dim 0), in place.

    A group passes numpy views of its CPU tensors (Group.row_views): a pause or play swaps some
    20 tensors, and each torch call (even `detach`) gives the GIL away, so with a class streaming
    a swap waited to win it back some 40 times (docs/performance.md). Tensors on other devices
    take torch indexing.
    """
    for t in tensors:
        if isinstance(t, np.ndarray):
            row_a = t[a].copy()
            t[a] = t[b]
            t[b] = row_a
        else:
            with torch.no_grad():
                t[[a, b]] = t[[b, a]]


def take_rows(t: RowTensor, rows: np.ndarray) -> RowTensor:
    """A copy of t's rows `rows` (dim 0): numpy for a numpy view, a tensor for a tensor.

    Rows are parked at nearly every step of a class (some session always ends an epoch), six
    tensors each, and each torch call there (`from_numpy` too) gives the GIL away: the worker then
    waits to win it back from the event loop. So the copies stay numpy, and become tensors once
    per training slice (concat_rows, as_tensor): 1.6-2x less time parking with a thread contending."""
    if isinstance(t, np.ndarray):
        return t.take(rows, axis=0)
    return t.index_select(0, torch.from_numpy(rows).to(t.device))


def concat_rows(parts: list[RowTensor]) -> RowTensor:
    """Copies of rows (take_rows), one after another (dim 0)."""
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if isinstance(parts[0], np.ndarray) else torch.cat(parts)  # type: ignore[arg-type]


def as_tensor(t: RowTensor) -> torch.Tensor:
    """A tensor sharing t's memory (a torch call: done once per batch of copies, not per copy)."""
    return torch.from_numpy(t) if isinstance(t, np.ndarray) else t


def write_row(t: RowTensor, r: int, value: float) -> None:
    """t[r] = value, in place; through numpy for a numpy view, as swap_rows (a live change per command)."""
    if isinstance(t, np.ndarray):
        t[r] = value
    else:
        with torch.no_grad():
            t[r] = value


def to_host(t: torch.Tensor) -> np.ndarray:
    """t as numpy: a view on the CPU (`.cpu()` is a torch call even there, and gives the GIL away
    at every step of a class), a copy from other devices."""
    return t.numpy() if t.device.type == "cpu" else t.cpu().numpy()


class Group:
    """Stacked tensors of same-shape sessions and the batched step and evaluation."""

    def __init__(
        self, key: GroupKey, device: torch.device, compile_steps: bool = False, capture: StepCapture | None = None
    ) -> None:
        self.key = key
        self.device = device
        self.net = BatchedNetwork(key)
        self.optimizer = OPTIMIZERS[key.optimizer]
        self.shapes = {**parameter_shapes(key), **buffer_shapes(key)}
        self.param_names = self.net.param_names
        self.slot_names = [f"{s}.{p}" for s in self.optimizer.slots for p in self.param_names]
        self.hyper_names = [*BASE_HYPER, *self.optimizer.hyper, *self.optimizer.scalars]
        self.capacity = self.size = self.running = 0
        self.caps = {part: 0 for part in PARTS}  # padded points per data part
        self.sessions: list[Session] = []
        self.tensors: dict[str, torch.Tensor] = {}
        # What row swaps, writes and copies act on: numpy views of the tensors on the CPU (no torch
        # call, so no GIL handoff, not even a `detach`), the tensors on other devices; see swap_rows.
        self.row_views: dict[str, RowTensor] = {}
        self.host: dict[str, np.ndarray] = {f: np.zeros(0, dtype=np.int64) for f in HOST_FIELDS}
        self.schedules = ScheduleTable(0)
        self._views: dict[int, dict[str, torch.Tensor]] = {}  # k -> name -> tensor[:k]
        # The compiled step's arguments built from those views: (views, variant, inputs).
        self._step_inputs: tuple[dict[str, torch.Tensor], StepVariant, StepInputs] | None = None
        self.noise_like = torch.randn_like  # tests swap in a recorder, like net.dropout_masks
        self.last_grad_norms = np.zeros((0, len(self.net.layers)))  # at the last epoch-ending step
        # (weights and biases, layers): 1 where a flat gradient entry belongs to a layer.
        wb = [n for n in self.param_names if n[0] in "Wb"]
        layer = torch.tensor([int(n[1:]) for n in wb for _ in range(int(np.prod(self.shapes[n])))])
        # float32 0/1 entries: a float64 group's gradients promote it, exactly.
        self._layer_matrix = torch.nn.functional.one_hot(layer, len(self.net.layers)).to(device, torch.float32)
        self.lone_steps = 0  # consecutive steps as a lone row on a quiet server (compiled.LONE_STEPS)
        # Compiled steps (engine/compiled.py) for a hand-written backward without random masks.
        self.compiled = (
            CompiledSteps(self.net, self.optimizer, self.param_names, self._layer_matrix, self.classification, capture)
            if compile_steps and self.net.manual and key.dropout == 0 else None
        )

    @property
    def classification(self) -> bool:
        return self.key.loss in catalog.PROBLEM_LOSSES["classification"]

    def on_device(self, a: np.ndarray) -> torch.Tensor:
        """A host array as a tensor on the group's device; on the CPU without a torch call (see to_host)."""
        t = torch.from_numpy(a)
        return t if self.device.type == "cpu" else t.to(self.device)

    @property
    def manual_backward(self) -> bool:
        return self.net.manual

    @manual_backward.setter
    def manual_backward(self, value: bool) -> None:
        self.net.manual = value

    # ---- membership -------------------------------------------------------------------------

    def _shape(self, name: str, capacity: int) -> tuple[int, ...]:
        """Full shape of a row tensor for a given capacity."""
        base = name.split(".")[-1]  # optimiser slots "m.W0" are shaped like their parameter "W0"
        if base in self.shapes:
            return (capacity, *self.shapes[base])
        if name[:2] in ("x_", "y_"):
            width = len(self.key.features) if name[0] == "x" else self.key.n_out
            return (capacity, self.caps[name[2:]], width)
        return (capacity,)

    def _names(self) -> list[str]:
        data = [f"{xy}_{part}" for part in PARTS for xy in "xy"]
        return [*self.shapes, *self.slot_names, *self.hyper_names, *data]

    def _reserve(self, capacity: int, counts: dict[str, int]) -> None:
        """Grow row tensors (capacity doubles; data pads to the longest member) keeping contents."""
        if capacity <= self.capacity and all(counts[p] <= self.caps[p] for p in PARTS):
            return
        new_cap = max(capacity, 2 * self.capacity, 4) if capacity > self.capacity else self.capacity
        for p in PARTS:
            self.caps[p] = max(self.caps[p], counts[p])
        for name in self._names():
            new = torch.zeros(self._shape(name, new_cap), device=self.device)
            old = self.tensors.get(name)
            if old is not None:
                new[tuple(slice(0, s) for s in old.shape)] = old
            self.tensors[name] = new
        self.row_views = {n: t.numpy() if t.device.type == "cpu" else t for n, t in self.tensors.items()}
        self._views = {}
        if self.compiled is not None:
            self.compiled.forget_captures()  # graphs recorded on the old tensors would keep them alive
        for f in HOST_FIELDS:
            grown = np.zeros(new_cap, dtype=np.int64)
            grown[: self.size] = self.host[f][: self.size]
            self.host[f] = grown
        self.schedules.grow(new_cap)
        self.capacity = new_cap

    def add(self, session: "Session", row: RowData, schedule: "ScheduleSpec") -> None:
        """Append a session (paused) from its row data."""
        self._reserve(self.size + 1, {p: row.data[f"x_{p}"].shape[0] for p in PARTS})
        r = self.size
        t = self.tensors
        with torch.no_grad():
            for name, value in [*row.params.items(), *row.slots.items()]:
                t[name][r] = value.to(self.device)
            for name in self.hyper_names:
                t[name][r] = row.hyper.get(name, self.optimizer.scalars.get(name, OFF.get(name, 0.0)))
            for name, value in row.data.items():
                t[name][r].zero_()
                t[name][r, : value.shape[0]] = value.to(self.device)
        for f in HOST_FIELDS:
            self.host[f][r] = row.counters.get(f, 0)
        self._mirror_flags(r, row.hyper)
        self.schedules.set_row(r, schedule, row.hyper["lr"])
        self.sessions.append(session)
        session.group, session.row = self, r
        self.size += 1

    def export(self, r: int, with_data: bool = True) -> RowData:
        """A row's state as CPU tensors (to move it to another group or save it); checkpoints skip
        the data, which the session's data spec (or its own table) rebuilds."""
        t = self.tensors
        counters = {f: int(self.host[f][r]) for f in HOST_FIELDS}
        data = (
            {f"{xy}_{p}": t[f"{xy}_{p}"][r, : counters[f"n_{p}"]].cpu().clone() for p in PARTS for xy in "xy"}
            if with_data else {}
        )
        return RowData(
            params=self.export_params(r),
            slots={n: t[n][r].detach().cpu().clone() for n in self.slot_names},
            hyper={n: float(t[n][r]) for n in self.hyper_names},
            data=data,
            counters=counters,
        )

    def export_params(self, r: int) -> dict[str, torch.Tensor]:
        return {n: self.tensors[n][r].detach().cpu().clone() for n in self.shapes}

    def load_params(self, r: int, params: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for name, value in params.items():
                self.tensors[name][r] = value.to(self.device)

    def _swap(self, a: int, b: int) -> None:
        """Exchange two rows in every tensor and counter."""
        if a == b:
            return
        swap_rows(list(self.row_views.values()), a, b)
        for f in HOST_FIELDS:
            h = self.host[f]
            h[a], h[b] = h[b], h[a]
        self.schedules.swap(a, b)
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
        session = self.sessions[r]
        self.set_running(r, False)  # may move the session to another row: follow it
        self._swap(session.row, self.size - 1)
        last = self.sessions.pop()
        assert last is session
        session.group, session.row = None, -1
        self.size -= 1

    # ---- live settings ----------------------------------------------------------------------

    def set_hyper(self, r: int, values: dict[str, float], schedule: "ScheduleSpec") -> None:
        for name, value in values.items():
            write_row(self.row_views[name], r, value)
        self._mirror_flags(r, values)
        self.schedules.set_row(r, schedule, values["lr"])

    def _mirror_flags(self, r: int, values: dict[str, float]) -> None:
        on: dict[str, bool] = {}
        for name, flag in FLAGS.items():
            if name in values:
                on[flag] = on.get(flag, False) or values[name] != OFF.get(name, 0.0)
        for flag, value in on.items():
            self.host[flag][r] = value

    # ---- training ---------------------------------------------------------------------------

    def _window(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Where each running row's batch starts this step, and how many real points it has: (k,) each."""
        h = self.host
        batch, n_train = h["batch"][:k], h["n_train"][:k]
        pos = h["steps_in_epoch"][:k] * batch
        return pos, np.minimum(pos + batch, n_train) - pos

    def _batch(self, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, np.ndarray]:
        """This step's inputs (k, width, features), targets, mask (k, width, 1) or None, and counts (k,).

        width is the largest batch among the rows this step, not the group's power-of-two cap, so
        a class of batch-10 sessions computes on 10 points, and needs no mask when all are full."""
        t = self.tensors
        pos, count = self._window(k)
        width, full = int(count.max()), bool(count.min() == count.max())
        if full and pos.min() == pos.max():
            # Fast path (sessions in step): every row takes the same slice; no gather, no mask.
            p0 = int(pos[0])
            return t["x_train"][:k, p0 : p0 + width], t["y_train"][:k, p0 : p0 + width], None, count
        cap = self.caps["train"]
        idx = np.minimum(pos[:, None] + np.arange(width), cap - 1) + np.arange(k)[:, None] * cap  # (k, width)
        flat = self.on_device(idx.ravel())
        xb = t["x_train"].view(-1, t["x_train"].shape[2]).index_select(0, flat).view(k, width, -1)
        yb = t["y_train"].view(-1, self.key.n_out).index_select(0, flat).view(k, width, -1)
        if full:
            return xb, yb, None, count
        mask = torch.from_numpy((np.arange(width) < count[:, None]).astype(np.float32))  # (k, width)
        return xb, yb, mask.to(self.device, xb.dtype)[:, :, None], count

    def _running_views(self, k: int) -> dict[str, torch.Tensor]:
        """tensor[:k] for every row tensor, kept between steps: slicing two dozen tensors each step
        cost more than some kernels. Kept per k (sessions pause and play: the same views come back,
        and a GPU's recorded step still fits them) until the tensors are reallocated (_reserve)."""
        views = self._views.get(k)
        if views is None:
            views = self._views[k] = {name: tensor[:k] for name, tensor in self.tensors.items()}
        return views

    def step(self, compile_lone: bool = False) -> np.ndarray:
        """One optimiser step for every running row; returns the rows that finished an epoch.

        `compile_lone`: few sessions train server-wide, so one running row may take a graph of its
        own after LONE_STEPS such steps (one user's session, not a class's loners)."""
        k = self.running
        h, v = self.host, self._running_views(k)
        if self.schedules.any_scheduled(k):
            rates = self.schedules.rates(k, h["epoch"][:k], h["step"][:k], h["epoch_len"][:k])
            v["lr"].copy_(torch.from_numpy(rates))
        epoch_ends = bool((h["steps_in_epoch"][:k] + 1 >= h["epoch_len"][:k]).any())
        norms = self._compiled_step(k, v, compile_lone)
        if norms is None:
            xb, yb, mask, counts = self._batch(k)
            # (k,) points per row: only a masked batch or the autograd path needs it as a tensor.
            count = (
                torch.from_numpy(counts).to(self.device, xb.dtype) if mask is not None or not self.net.manual else None
            )
            if h["noise_on"][:k].any():
                xb = xb + self.noise_like(xb) * v["noise"][:, None, None]  # input noise as augmentation
            scale = 1.0 / xb.shape[1] if mask is None else mask / count[:, None, None]
            grad_list = self._gradients(k, v, xb, yb, mask, count, scale)
            self._update(k, v, grad_list, epoch_ends)
        elif epoch_ends:  # the compiled step updated the rows already
            self.last_grad_norms = to_host(norms)
        h["steps_in_epoch"][:k] += 1
        h["step"][:k] += 1
        done = h["steps_in_epoch"][:k] >= h["epoch_len"][:k]
        if not done.any():
            return np.empty(0, dtype=np.int64)
        rows = np.flatnonzero(done)
        h["steps_in_epoch"][rows] = 0
        h["epoch"][rows] += 1
        return rows

    def _gradients(
        self, k: int, v: dict[str, torch.Tensor], xb: torch.Tensor, yb: torch.Tensor, mask: torch.Tensor | None,
        count: torch.Tensor | None, scale: torch.Tensor | float,
    ) -> list[torch.Tensor]:
        """The eager step's first half: gradients of the running rows, penalties included."""
        if self.net.manual:
            params = [v[n] for n in self.param_names]
            grads = self.net.backward(dict(zip(self.param_names, params, strict=True)), xb, yb, scale)
            grad_list = [grads[n] for n in self.param_names]
            add_penalty_gradients(self.param_names, params, grad_list, *self._penalty_rates(k))
            return grad_list
        params = {n: v[n].detach().requires_grad_() for n in self.param_names}
        buffers = {n: v[n] for n in self.net.buffer_names}
        z = self.net.forward(params, buffers, xb, train=True, mask=mask, count=count)
        total = self.net.per_session_loss(z, yb, mask, count).sum() + self._penalty(params, k)
        return list(torch.autograd.grad(total, list(params.values()), materialize_grads=True))

    @torch.no_grad()
    def _update(self, k: int, v: dict[str, torch.Tensor], grad_list: list[torch.Tensor], epoch_ends: bool) -> None:
        """The eager step's second half: gradient norms, clipping, the optimiser update."""
        h = self.host
        if epoch_ends:
            self.last_grad_norms = self._layer_norms(grad_list, k)  # raw, before clipping
        if h["clip_on"][:k].any():
            self._clip(grad_list, k)
        hyper = {n: v[n] for n in self.hyper_names}
        if "weight_decay" in hyper and not h["decay_on"][:k].any():
            del hyper["weight_decay"]  # no row decays: skip the extra ops
        hyper["t"].add_(1)
        slots = {s: [v[f"{s}.{p}"] for p in self.param_names] for s in self.optimizer.slots}
        self.optimizer.update([v[n] for n in self.param_names], grad_list, slots, hyper)

    def _compiled_step(self, k: int, v: dict[str, torch.Tensor], compile_lone: bool) -> torch.Tensor | None:
        """Step the running rows with a compiled graph, if this step's variant has one ready;
        returns each layer's gradient norm (k, layers), or None when the eager step must run."""
        h = self.host
        self.lone_steps = self.lone_steps + 1 if k == 1 and compile_lone else 0
        lone = self.lone_steps >= LONE_STEPS
        if self.compiled is None or (k < MIN_ROWS and not lone) or not self.net.manual or h["clip_on"][:k].any():
            return None
        pos, count = self._window(k)
        width = int(count[0])
        if (count != width).any():
            return None  # batches of several sizes this step: masked, eager
        index = self.on_device(pos[:, None] + np.arange(width))  # (k, width): each row's points
        l1, l2 = self._penalty_rates(k)
        decay_on = bool(h["decay_on"][:k].any())
        variant = StepVariant(width, l1 is not None, l2 is not None, decay_on, v["x_train"].dtype, lone)
        cached = self._step_inputs
        if cached is None or cached[0] is not v or cached[1] != variant:
            names = ["lr", "t", *self.optimizer.hyper, *self.optimizer.scalars]
            cached = self._step_inputs = (v, variant, StepInputs(
                [v[n] for n in self.param_names],
                {s: [v[f"{s}.{p}"] for p in self.param_names] for s in self.optimizer.slots},
                {n: v[n] for n in names if n != "weight_decay" or decay_on}, v["x_train"], v["y_train"], index, l1, l2,
            ))
        inputs = replace(cached[2], index=index)  # the same views (cached per v), this step's positions
        graph = self.compiled.get(variant, lambda: inputs)
        if graph is None:
            return None
        if h["noise_on"][:k].any():
            # Input noise: drawn as the eager step draws it (its shape, the same random numbers)
            # and added to the batch's points only, in a copy of the rows' inputs.
            x = inputs.x
            noise = self.noise_like(torch.empty((k, width, x.shape[2]), dtype=x.dtype, device=x.device))
            flat = (index + torch.arange(k, device=self.device)[:, None] * x.shape[1]).reshape(-1)
            added = (noise * v["noise"][:, None, None]).reshape(-1, x.shape[2])  # (k * width, features)
            inputs.x = x.reshape(-1, x.shape[2]).index_add(0, flat, added).view_as(x)
        return graph(*step_args(inputs))

    def park(self, rows: np.ndarray) -> ParkedEpochs:
        """Copy what evaluating these rows' epoch ends needs; see ParkedEpochs."""
        return ParkedEpochs(
            [self.sessions[r] for r in rows.tolist()], self.host["epoch"][rows].tolist(),
            self.host["step"][rows].tolist(), self.last_grad_norms[rows],  # norms of this very step
            self.copy_params(rows),
        )

    def copy_params(self, rows: np.ndarray) -> dict[str, RowTensor]:
        """These rows' parameters, copied (rows, ...) so training may go on while they are read:
        numpy arrays on the CPU, tensors elsewhere (take_rows)."""
        return {n: take_rows(self.row_views[n], rows) for n in self.shapes}

    def _weights(self, params: dict[str, torch.Tensor]) -> list[str]:
        return [n for n in self.param_names if n[0] == "W"]

    def _penalty_rates(self, k: int) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """The running rows' L1 and L2 rates (k, 1, 1), each None when no row uses it."""
        v, h = self._running_views(k), self.host
        l1 = v["l1"][:, None, None] if h["l1_on"][:k].any() else None
        l2 = v["l2"][:, None, None] if h["l2_on"][:k].any() else None
        return l1, l2

    def _penalty(self, params: dict[str, torch.Tensor], k: int) -> torch.Tensor | float:
        """L1 and L2 penalties on weights (not biases), per-session rates; skipped when all zero."""
        l1, l2 = self.tensors["l1"][:k], self.tensors["l2"][:k]
        weights = [params[n] for n in self._weights(params)]
        total: torch.Tensor | float = 0.0
        if self.host["l1_on"][:k].any():
            total = total + sum((l1 * w.abs().sum(dim=(1, 2))).sum() for w in weights)
        if self.host["l2_on"][:k].any():
            total = total + sum((l2 * 0.5 * (w * w).sum(dim=(1, 2))).sum() for w in weights)
        return total

    def _layer_norms(self, grads: list[torch.Tensor], k: int) -> np.ndarray:
        """(k, layers) gradient norm of each layer's weights and bias, for the diagnostics."""
        return to_host(layer_norms(self.param_names, grads, self._layer_matrix))

    def _clip(self, grads: list[torch.Tensor], k: int) -> None:
        """Per-session clipping as torch.nn.utils does: by total norm, then by value (inf = off)."""
        norm = torch.sqrt(sum((g * g).sum(dim=tuple(range(1, g.dim()))) for g in grads))  # (k,)
        coef = (self.tensors["clip_norm"][:k] / (norm + 1e-6)).clamp(max=1.0)
        bound = self.tensors["clip_val"][:k]
        for j, g in enumerate(grads):
            shape = (-1, *([1] * (g.dim() - 1)))
            grads[j] = torch.clamp(g * coef.view(shape), min=-bound.view(shape), max=bound.view(shape))

    # ---- evaluation -------------------------------------------------------------------------

    def _select(self, rows: np.ndarray) -> torch.Tensor | slice:
        if (rows == np.arange(len(rows))).all():
            return slice(0, len(rows))
        return self.on_device(rows)

    def _row_params(self, sel: torch.Tensor | slice) -> dict[str, torch.Tensor]:
        """The current parameters and buffers of the selected rows, (rows, ...) each."""
        return {n: self.tensors[n][sel] for n in self.shapes}

    @torch.no_grad()
    def logits(
        self, rows: np.ndarray, x: torch.Tensor, params: dict[str, torch.Tensor] | None = None
    ) -> torch.Tensor:
        """Logits of rows (eval mode) on x: shared points (points, features) or per row (rows, points, features).

        `params` (rows, ...) replaces the rows' current parameters (parked copies)."""
        params = self._row_params(self._select(rows)) if params is None else params
        xs = x.expand(len(rows), -1, -1) if x.dim() == 2 else x
        # Points last: evaluation passes are long and thin (3x faster on 250 points, 4x on a grid).
        return self.net.forward_wide(params, xs.transpose(1, 2)).transpose(1, 2)

    def outputs(self, rows: np.ndarray, x: torch.Tensor) -> torch.Tensor:
        """Shown values (probabilities or predictions) of rows on x: (rows, points, out)."""
        return self.net.loss.output(self.logits(rows, x))

    @torch.no_grad()
    def evaluate(self, rows: np.ndarray, params: dict[str, torch.Tensor] | None = None) -> dict[str, np.ndarray]:
        """Loss, accuracy and predicted classes on each data part of rows (NaN loss for an empty part);
        rows may repeat when `params` holds several parked copies of one row."""
        sel = self._select(rows)
        params = self._row_params(sel) if params is None else params
        out: dict[str, np.ndarray] = {}
        for part in PARTS:
            if self.caps[part] == 0:
                out[f"{part}_loss"] = np.full(len(rows), np.nan)
                continue
            x, y = self.tensors[f"x_{part}"][sel], self.tensors[f"y_{part}"][sel]
            n = torch.from_numpy(self.host[f"n_{part}"][rows]).to(self.device, x.dtype)  # (rows,)
            # A class's evaluations take a compiled graph once it is ready (engine/compiled.py).
            result = self.compiled.evaluate(params, x, y, n) if self.compiled is not None else None
            if result is None:
                result = evaluate_part(self.net, params, x, y, n, self.classification)
            loss, accuracy, pred = result
            out[f"{part}_loss"] = to_host(loss)
            if accuracy is not None and pred is not None:
                out[f"{part}_accuracy"] = to_host(accuracy)
                out[f"{part}_predicted"] = to_host(pred)
        return out

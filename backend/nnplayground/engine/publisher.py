"""Frames built on a thread of their own, so drawing decision grids overlaps training on another core.

The worker thread takes a `FrameJob` at each stream tick: copies of the watched rows' parameters
and data (cheap: small tensors), plus each session's header and history. The publisher thread
runs the grid forward pass, the confusion matrices and the encoding, and hands the bytes to the
watchers. Torch releases the GIL inside its kernels, so the two threads run on two cores. A
publisher that falls behind keeps only the newest job per group: frames are latest-wins anyway.
"""

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..data import EXTENT
from ..frames import Frame, encode_frame
from .functions import predicted_class
from .network import BatchedNetwork
from .views import DecisionGrid, confusion

if TYPE_CHECKING:
    from .engine import Watcher

PARTS = (("train", "train"), ("val", "validation"), ("test", "test"))
NEURON_RESOLUTION = 20


@dataclass
class FrameMeta:
    """What one watched session's frame needs besides the network's outputs."""

    header: dict[str, Any]
    history: np.ndarray  # (rows, points) float32
    labels: dict[str, np.ndarray]  # part -> (n,) class indices (classification only)
    classes: int
    value_range: tuple[float, float]
    watchers: list["Watcher"]
    session: Any  # the Session: its view_version is read, its `shown` count written
    view_version: int
    changes: int  # the session's change count when this frame was drawn
    neurons: bool = False  # a watcher asked for neuron maps
    data: Any = None  # the SessionData: its own plane (extent, projection) when not the standard one


@dataclass
class FrameJob:
    """A group's watched rows at one tick: copied tensors, so training may go on meanwhile."""

    key: Any  # GroupKey: one pending job per group
    net: BatchedNetwork
    params: dict[str, torch.Tensor]  # (rows, ...) copies, parameters and buffers
    data: dict[str, torch.Tensor] = field(default_factory=dict)  # x_<part> copies (rows, points, features)
    sessions: list[FrameMeta] = field(default_factory=list)


class FramePublisher:
    """A thread that turns FrameJobs into encoded frames for the watchers."""

    def __init__(self, device: torch.device, resolution: int) -> None:
        self.grid = DecisionGrid(device)
        self.resolution = resolution
        self._pending: dict[Any, FrameJob] = {}
        self._urgent: list[FrameJob] = []  # frames answering commands: before any group frame
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="nnpg-frames", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout=10)

    def submit(self, job: FrameJob, urgent: bool = False) -> None:
        """Queue a job, replacing an older one of the same group that has not started; an urgent
        one (the sessions a command changed) is never replaced and goes first."""
        with self._cond:
            if urgent:
                self._urgent.append(job)
            else:
                self._pending[job.key] = job
            self._cond.notify()

    @property
    def busy(self) -> bool:
        with self._cond:
            return bool(self._pending or self._urgent)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._urgent and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                # Oldest first: a replaced job keeps its group's place, so every group gets its turn.
                # (popitem() took the newest, and under load the groups queued first never got frames.)
                job = self._urgent.pop(0) if self._urgent else self._pending.pop(next(iter(self._pending)))
            try:
                self.publish(job)
            except Exception:  # noqa: BLE001 - one bad frame must not stop the stream
                import logging

                logging.getLogger(__name__).exception("building frames failed")

    @torch.no_grad()
    def publish(self, job: FrameJob) -> None:
        """Grid forward pass for every row at once, then one encoded frame per session."""
        for meta, data in zip(job.sessions, self.build(job), strict=True):
            if meta.session.view_version != meta.view_version:
                continue  # a config or dataset event went out meanwhile: this frame is older than it
            if meta.header["seq"] <= meta.session.published_seq:
                continue  # a command's urgent frame, drawn later, went out first: this one is stale
            meta.session.published_seq = meta.header["seq"]
            for w in meta.watchers:
                w.frame(data)
            meta.session.shown = max(meta.session.shown, meta.changes)

    @torch.no_grad()
    def build(self, job: FrameJob) -> list[bytes]:
        res = self.resolution
        x_t = self._plane_inputs(job, res).transpose(1, 2)  # (rows, features, points)
        z = job.net.forward_wide(job.params, x_t)  # (rows, out, points)
        out = torch.softmax(z, dim=1) if job.net.key.loss == "cce" else job.net.loss.output(z)  # elementwise else
        out = torch.nan_to_num(out, nan=0.0, posinf=1e6, neginf=-1e6)
        values = out.reshape(len(job.sessions), -1, res, res).cpu().numpy()  # (rows, channels, res, res)
        maps = self._neuron_maps(job) if any(m.neurons for m in job.sessions) else None
        weights = [job.params[n].reshape(len(job.sessions), -1) for n in job.net.param_names if n[0] in "Wb"]
        # A diverged run has NaN or infinite weights; no number in a frame may be either (protocol).
        flat = np.nan_to_num(torch.cat(weights, dim=1).cpu().numpy().astype(np.float32), nan=0.0)  # (rows, all)
        layout, offset = [], 0
        for name in (n for n in job.net.param_names if n[0] in "Wb"):
            shape = list(job.params[name].shape[1:])
            layout.append({"name": name, "shape": shape, "offset": offset})
            offset += int(np.prod(shape))
        predicted = {}
        if any(m.classes for m in job.sessions):
            for part, _ in PARTS:
                if f"x_{part}" in job.data:
                    z = job.net.forward_wide(job.params, job.data[f"x_{part}"].transpose(1, 2)).transpose(1, 2)
                    predicted[part] = predicted_class(job.net.key.loss, z).cpu().numpy()  # (rows, points)
        frames = []
        for i, meta in enumerate(job.sessions):
            lo, hi = meta.value_range
            channels = values[i] if values.shape[1] > 1 else values[i, 0]
            grid_u8 = np.rint(np.clip((channels - lo) / (hi - lo), 0.0, 1.0) * 255).astype(np.uint8)
            header = dict(meta.header)
            extent = meta.data.extent if meta.data is not None else EXTENT
            header["grid"] = {
                "resolution": res, "extent": [-extent, extent], "value_range": [lo, hi], "classes": meta.classes,
            }
            header["confusion"] = self._confusions(meta, predicted, i) if meta.classes else None
            header["weights"] = {"layers": layout}
            arrays = {"grid": grid_u8, "history": meta.history, "weights": flat[i]}
            if maps is not None and meta.neurons:
                units, scale, q = maps
                header["neurons"] = {"resolution": NEURON_RESOLUTION, "layers": units, "scale": scale[i].tolist()}
                arrays["neurons"] = q[i]
            frames.append(encode_frame(Frame(header, arrays)))
        return frames

    def _neuron_maps(self, job: FrameJob) -> tuple[list[int], np.ndarray, np.ndarray]:
        """Every hidden unit's output over a coarse grid: units per layer, scale (rows, units), uint8 maps."""
        res = NEURON_RESOLUTION
        x = self._plane_inputs(job, res)
        hidden: list[torch.Tensor] = []
        job.net.forward(job.params, job.params, x, hidden=hidden)
        units = [h.shape[2] for h in hidden]
        if not hidden:
            return units, np.zeros((len(job.sessions), 0)), np.zeros((len(job.sessions), 0, res, res), np.uint8)
        h = torch.nan_to_num(torch.cat(hidden, dim=2)).transpose(1, 2)  # (rows, units, points)
        scale = h.abs().amax(dim=2).clamp(min=1e-6)  # (rows, units)
        q = torch.round((h / scale[:, :, None] + 1) / 2 * 255).clamp(0, 255).to(torch.uint8)
        return units, scale.cpu().numpy(), q.reshape(len(job.sessions), -1, res, res).cpu().numpy()

    def _plane_inputs(self, job: FrameJob, res: int) -> torch.Tensor:
        """(rows, res², inputs): the shared standard grid, or each session's own plane."""
        features = job.net.key.features
        if all(m.data is None or m.data.standard_plane for m in job.sessions):
            return self.grid.inputs(features, res).expand(len(job.sessions), -1, -1)
        return torch.stack([m.data.grid_inputs(features, res, self.grid.device) for m in job.sessions])

    @staticmethod
    def _confusions(meta: FrameMeta, predicted: dict[str, np.ndarray], i: int) -> dict[str, Any]:
        out: dict[str, Any] = {"labels": list(range(meta.classes))}
        for part, name in PARTS:
            labels = meta.labels.get(part)
            if labels is not None and len(labels) and part in predicted:
                out[name] = confusion(labels, predicted[part][i, : len(labels)], meta.classes)
        return out

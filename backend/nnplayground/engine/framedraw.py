"""Drawing frames: a DrawRequest (plain data, picklable) in, one encoded frame per session out.

Pure and stateless but for caches, so it runs on the publisher thread or in the frame-builder
process (`framebuilder.py`) alike: the request carries copies of the rows' parameters and data,
never a Session or a watcher.
"""

from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
import torch

from ..data import EXTENT
from ..frames import Frame, encode_frame
from .functions import predicted_class
from .gridpass import GridPasses
from .group import GroupKey, RowTensor, as_tensor
from .network import BatchedNetwork
from .views import DecisionGrid, confusion

K = TypeVar("K")  # a dict's keys: names, or a plane's resolutions

PARTS = (("train", "train"), ("val", "validation"), ("test", "test"))
NEURON_RESOLUTION = 20


@dataclass
class DrawItem:
    """One session's part of a request: what its frame shows besides the network's outputs."""

    header: dict[str, Any]
    history: np.ndarray  # (rows, points) float32
    # part -> (n,) class indices (classification only); None once the builder process has them
    # under labels_key, since they change only with the dataset.
    labels: dict[str, np.ndarray] | None
    classes: int
    value_range: tuple[float, float]
    neurons: bool = False  # a watcher asked for neuron maps
    extent: float = EXTENT
    # The session's own plane's inputs by resolution, when it is not the standard one (a projection).
    planes: dict[int, torch.Tensor] | None = None  # resolution -> (resolution², inputs)
    labels_key: int | None = None  # SessionData.uid


@dataclass
class DrawRequest:
    """A group's watched rows at one tick: copied tensors, so training may go on meanwhile."""

    key: GroupKey
    resolution: int
    # (rows, ...) copies of parameters and buffers, and x_<part> (rows, points, features): numpy on
    # the CPU (Group.copy_params: a torch call per copy would give the worker's GIL away).
    params: dict[str, RowTensor]
    data: dict[str, RowTensor] = field(default_factory=dict)
    items: list[DrawItem] = field(default_factory=list)
    forget_labels: bool = False  # the builder process drops the label sets it holds first
    compile: bool = False  # the engine compiles its graphs: a class's plane passes (gridpass.py) may be too

    def __getstate__(self) -> dict[str, Any]:
        # Tensors travel to the builder process as numpy arrays: plain bytes in a pickle, no shared
        # memory, and never a device tensor (a session's own plane is on a GPU server's device).
        state = dict(self.__dict__)
        state["params"], state["data"] = _as_numpy(self.params), _as_numpy(self.data)
        state["items"] = [replace(m, planes=_as_numpy(m.planes)) if m.planes else m for m in self.items]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["params"], state["data"] = _as_tensors(state["params"]), _as_tensors(state["data"])
        for m in state["items"]:
            if m.planes:
                m.planes = _as_tensors(m.planes)
        self.__dict__.update(state)


def _as_numpy(tensors: dict[K, RowTensor]) -> dict[K, np.ndarray]:
    return {k: t if isinstance(t, np.ndarray) else t.detach().cpu().numpy() for k, t in tensors.items()}


def _as_tensors(arrays: dict[K, np.ndarray]) -> dict[K, torch.Tensor]:
    return {k: torch.from_numpy(a) for k, a in arrays.items()}


class FrameDrawer:
    """Grid forward pass for every row of a request at once, then one encoded frame per session."""

    def __init__(self, device: torch.device, compiles: bool = True) -> None:
        self.grid = DecisionGrid(device)
        self.passes = GridPasses(compiles)  # compiles: False for a drawer that only stands in a while
        self._nets: dict[GroupKey, BatchedNetwork] = {}

    def net(self, key: GroupKey) -> BatchedNetwork:
        if key not in self._nets:
            if len(self._nets) > 64:
                self._nets.clear()
            self._nets[key] = BatchedNetwork(key)
        return self._nets[key]

    @torch.no_grad()
    def draw(self, req: DrawRequest) -> list[bytes]:
        net, res, rows = self.net(req.key), req.resolution, len(req.items)
        params = {k: as_tensor(v).to(self.grid.device) for k, v in req.params.items()}
        names = [n for n in net.param_names if n[0] in "Wb"]
        x_t = self._plane_inputs(req, res).transpose(1, 2)  # (rows or 1, features, points)
        ranges = torch.tensor([m.value_range for m in req.items], dtype=params[names[0]].dtype, device=x_t.device)
        lo, hi = ranges.unbind(1)  # (rows,) each
        levels = self.passes.levels(net, params, x_t, lo, hi, req.compile)  # (rows, channels, points)
        levels_np = levels.reshape(rows, -1, res, res).cpu().numpy()
        maps = self._neuron_maps(req, net, params) if any(m.neurons for m in req.items) else None
        # A diverged run has NaN or infinite weights; no number in a frame may be either (protocol).
        weights = torch.cat([params[n].reshape(rows, -1) for n in names], dim=1)
        flat = np.nan_to_num(weights.cpu().numpy().astype(np.float32), nan=0.0)  # (rows, all)
        layout, offset = [], 0
        for name in names:
            shape = list(params[name].shape[1:])
            layout.append({"name": name, "shape": shape, "offset": offset})
            offset += int(np.prod(shape))
        predicted = {}
        if any(m.classes for m in req.items):
            for part, _ in PARTS:
                if f"x_{part}" in req.data:
                    x = as_tensor(req.data[f"x_{part}"]).to(self.grid.device)
                    z = net.forward_wide(params, x.transpose(1, 2)).transpose(1, 2)
                    predicted[part] = predicted_class(req.key.loss, z).cpu().numpy()  # (rows, points)
        frames = []
        for i, item in enumerate(req.items):
            grid_u8 = levels_np[i] if levels_np.shape[1] > 1 else levels_np[i, 0]
            header = dict(item.header)
            header["grid"] = {
                "resolution": res, "extent": [-item.extent, item.extent], "value_range": list(item.value_range),
                "classes": item.classes,
            }
            header["confusion"] = self._confusions(item, predicted, i) if item.classes else None
            header["weights"] = {"layers": layout}
            arrays = {"grid": grid_u8, "history": item.history, "weights": flat[i]}
            if maps is not None and item.neurons:
                units, scale, q = maps
                header["neurons"] = {"resolution": NEURON_RESOLUTION, "layers": units, "scale": scale[i].tolist()}
                arrays["neurons"] = q[i]
            frames.append(encode_frame(Frame(header, arrays)))
        return frames

    def _neuron_maps(
        self, req: DrawRequest, net: BatchedNetwork, params: dict[str, torch.Tensor]
    ) -> tuple[list[int], np.ndarray, np.ndarray]:
        """Every hidden unit's output over a coarse grid: units per layer, scale (rows, units), uint8 maps."""
        res, rows = NEURON_RESOLUTION, len(req.items)
        units = [lp.units for lp in net.layers if lp.activation is not None]
        if not units:
            return units, np.zeros((rows, 0)), np.zeros((rows, 0, res, res), np.uint8)
        x_t = self._plane_inputs(req, res).transpose(1, 2)  # (rows or 1, features, points)
        scale, q = self.passes.neurons(net, params, x_t, req.compile)
        return units, scale.cpu().numpy(), q.reshape(rows, -1, res, res).cpu().numpy()

    def _plane_inputs(self, req: DrawRequest, res: int) -> torch.Tensor:
        """(1, res², inputs) for the shared standard grid, or (rows, res², inputs): each session's own plane."""
        if all(m.planes is None for m in req.items):
            return self.grid.inputs(req.key.features, res).unsqueeze(0)
        return torch.stack([
            self.grid.inputs(req.key.features, res) if m.planes is None else m.planes[res].to(self.grid.device)
            for m in req.items
        ])

    @staticmethod
    def _confusions(item: DrawItem, predicted: dict[str, np.ndarray], i: int) -> dict[str, Any]:
        out: dict[str, Any] = {"labels": list(range(item.classes))}
        for part, name in PARTS:
            labels = (item.labels or {}).get(part)
            if labels is not None and len(labels) and part in predicted:
                out[name] = confusion(labels, predicted[part][i, : len(labels)], item.classes)
        return out

"""What watchers and scripts see: decision grids, confusion matrices and binary frames, batched per group."""

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..data import EXTENT, feature_matrix, grid_points
from ..metrics import classification_report, confusion_matrix, regression_report
from .group import Group

if TYPE_CHECKING:
    from .dataset import SessionData
    from .session import Session


class DecisionGrid:
    """Feature matrices of the input plane's grid, cached per (features, resolution) and device."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._cache: dict[tuple[tuple[str, ...], int], torch.Tensor] = {}

    def inputs(self, features: tuple[str, ...], resolution: int) -> torch.Tensor:
        """(resolution * resolution, features), row-major: index r * resolution + c is (x[c], y[r])."""
        key = (features, resolution)
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            points = grid_points(resolution, EXTENT)
            self._cache[key] = torch.from_numpy(feature_matrix(points, list(features))).to(self.device)
        return self._cache[key]


def confusion(labels: np.ndarray, predicted: np.ndarray, classes: int) -> list[list[int]]:
    """matrix[true][predicted] counts."""
    return confusion_matrix(labels, predicted, classes).tolist()


def plane_inputs(data: "SessionData", features: tuple[str, ...], resolution: int, grid: DecisionGrid) -> torch.Tensor:
    """(resolution², inputs): the shared standard grid, or the session's own plane."""
    if data.standard_plane:
        return grid.inputs(features, resolution)
    return data.grid_inputs(features, resolution, grid.device)


def grid_json(group: Group, session: "Session", grid: DecisionGrid, resolution: int) -> dict[str, Any]:
    """The grid as JSON numbers for scripts: values[r][c] at (x[c], y[r]); per class for K > 2."""
    features = group.key.features
    data = session.data
    x = plane_inputs(data, features, resolution, grid)
    out_t = group.outputs(np.array([session.row]), x)  # (1, points, channels)
    values = torch.nan_to_num(out_t[0].T, nan=0.0).reshape(-1, resolution, resolution).cpu().numpy()
    axis = np.linspace(-data.extent, data.extent, resolution)
    out: dict[str, Any] = {"resolution": resolution, "x": axis.round(6).tolist(), "y": axis.round(6).tolist()}
    if values.shape[0] > 1:
        out["classes"] = values.shape[0]
        out["values"] = values.argmax(axis=0).tolist()  # the predicted class
        out["probabilities"] = values.astype(float).round(6).tolist()
    else:
        out["values"] = values[0].astype(float).round(6).tolist()
    return out


def metrics_json(group: Group, session: "Session") -> dict[str, Any]:
    """Per data part: loss plus the classification report (confusion, per-class scores, ROC and PR
    curves) or the regression report (MSE, MAE, R², predicted against true)."""
    rows = np.array([session.row])
    ev = group.evaluate(rows)
    out: dict[str, Any] = {"problem": session.config.problem}
    for part, name in (("train", "train"), ("val", "validation"), ("test", "test")):
        labels = session.data.labels[part]
        n = len(labels)
        if n == 0:
            continue
        loss = float(ev[f"{part}_loss"][0])
        x = group.tensors[f"x_{part}"][session.row, :n]  # (n, features)
        shown = group.outputs(rows, x)[0].cpu().numpy().astype(np.float64)  # (n, out)
        entry: dict[str, Any] = {"loss": loss if np.isfinite(loss) else None, "count": n}
        if session.classification:
            probs = shown if shown.shape[1] > 1 else np.concatenate([1 - shown, shown], axis=1)
            entry.update(classification_report(labels.astype(np.int64), np.nan_to_num(probs)))
        else:
            entry.update(regression_report(labels.astype(np.float64), np.nan_to_num(shown[:, 0])))
        out[name] = entry
    return out


RELU_LIKE = ("relu", "leaky_relu", "prelu", "elu", "selu", "softplus", "swish", "gelu")


def _histogram(values: torch.Tensor) -> dict[str, list[float]]:
    v = values.detach().flatten().cpu().numpy().astype(np.float64)
    v = v[np.isfinite(v)]
    counts, edges = np.histogram(v, bins=20) if v.size else (np.zeros(20, int), np.linspace(-1, 1, 21))
    return {"counts": counts.tolist(), "edges": edges.round(6).tolist()}


def diagnostics_json(group: Group, session: "Session") -> dict[str, Any]:
    """Gradient norms over time, dead units, weight and activation histograms per layer."""
    n = len(session.data.labels["train"])
    x = group.tensors["x_train"][session.row : session.row + 1, :n]  # (1, n, features)
    params = {name: group.tensors[name][session.row : session.row + 1] for name in group.shapes}
    hidden: list[torch.Tensor] = []
    with torch.no_grad():
        group.net.forward(params, params, x, hidden=hidden)
    acts = session.config.network.activations
    dead = [
        float((h[0].amax(dim=0) <= 0).float().mean()) if act in RELU_LIKE else None
        for h, act in zip(hidden, acts, strict=True)
    ]
    h = session.history
    layers = len(group.net.layers)
    norms = [[g[i] if i < len(g) else 0.0 for g in h.grad_norms] for i in range(layers)]
    return {
        "grad_norms": {"epoch": list(h.epoch), "layers": norms},
        "dead_units": dead,
        "weights": [{"layer": i, **_histogram(params[f"W{i}"])} for i in range(layers)],
        "activations": [{"layer": i, **_histogram(a)} for i, a in enumerate(hidden)],
    }


def network_json(group: Group, session: "Session", grid: DecisionGrid, resolution: int) -> dict[str, Any]:
    """Every layer's weights and biases, and every hidden unit's output over the plane (the diagram)."""
    params = {name: group.tensors[name][session.row : session.row + 1] for name in group.shapes}
    data = session.data
    features = group.key.features
    x = plane_inputs(data, features, resolution, grid)
    hidden: list[torch.Tensor] = []
    with torch.no_grad():
        group.net.forward(params, params, x[None], hidden=hidden)
    layers = [
        {"weights": params[f"W{lp.index}"][0].tolist(), "bias": params[f"b{lp.index}"][0, 0].tolist(),
         "activation": lp.activation or "output"}
        for lp in group.net.layers
    ]
    maps = [h[0].T.reshape(-1, resolution, resolution).cpu().numpy().round(5).tolist() for h in hidden]
    return {"inputs": list(features), "layers": layers,
            "neurons": {"resolution": resolution, "extent": data.extent, "maps": maps}}

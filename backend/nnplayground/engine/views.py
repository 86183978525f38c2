"""What watchers and scripts see: decision grids, confusion matrices and binary frames, batched per group."""

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..data import EXTENT, feature_matrix, grid_points
from ..frames import Frame, encode_frame
from .group import Group

if TYPE_CHECKING:
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

    def values(self, group: Group, rows: np.ndarray, resolution: int) -> np.ndarray:
        """(rows, resolution, resolution) float32 of shown values, NaN replaced so none is streamed."""
        out = group.outputs(rows, self.inputs(group.key.features, resolution))  # (rows, points, 1)
        out = torch.nan_to_num(out[..., 0], nan=0.0, posinf=1e6, neginf=-1e6)
        return out.reshape(len(rows), resolution, resolution).cpu().numpy()


def confusion(labels: np.ndarray, predicted: np.ndarray, classes: int = 2) -> list[list[int]]:
    """matrix[true][predicted] counts."""
    codes = labels.astype(np.int64) * classes + predicted.astype(np.int64)
    return np.bincount(codes, minlength=classes * classes).reshape(classes, classes).tolist()


def value_range(session: "Session") -> tuple[float, float]:
    return (0.0, 1.0) if session.classification else (-1.0, 1.0)


def build_frames(group: Group, sessions: list["Session"], grid: DecisionGrid, resolution: int) -> list[bytes]:
    """One encoded frame per watched session of a group, from one batched forward pass."""
    rows = np.array([s.row for s in sessions], dtype=np.int64)
    values = grid.values(group, rows, resolution)  # (rows, res, res)
    evals = group.evaluate(rows) if any(s.classification for s in sessions) else {}
    frames = []
    for i, s in enumerate(sessions):
        lo, hi = value_range(s)
        q = np.clip((values[i] - lo) / (hi - lo), 0.0, 1.0)
        grid_u8 = np.rint(q * 255).astype(np.uint8)
        conf: dict[str, Any] | None = None
        if s.classification and evals:
            n_tr, n_te = len(s.data.train_labels), len(s.data.test_labels)
            conf = {
                "labels": [0, 1],
                "train": confusion(s.data.train_labels, evals["train_predicted"][i, :n_tr]),
                "test": confusion(s.data.test_labels, evals["test_predicted"][i, :n_te]),
            }
        h = s.history
        hist = np.array([h.epoch, h.train_loss, h.test_loss], dtype=np.float32).reshape(3, -1)
        s.frame_seq += 1
        header = {
            "type": "frame",
            "id": s.id,
            "seq": s.frame_seq,
            "data_version": s.data.version,
            "state": s.snapshot().model_dump(),
            "grid": {"resolution": resolution, "extent": [-EXTENT, EXTENT], "value_range": [lo, hi]},
            "confusion": conf,
            "history": {"length": hist.shape[1], "stride": h.stride},
        }
        frames.append(encode_frame(Frame(header, {"grid": grid_u8, "history": hist})))
    return frames


def grid_json(group: Group, session: "Session", grid: DecisionGrid, resolution: int) -> dict[str, Any]:
    """The grid as JSON numbers for scripts: values[r][c] at (x[c], y[r])."""
    values = grid.values(group, np.array([session.row]), resolution)[0]
    axis = np.linspace(-EXTENT, EXTENT, resolution)
    return {
        "resolution": resolution,
        "x": axis.round(6).tolist(),
        "y": axis.round(6).tolist(),
        "values": values.astype(float).round(6).tolist(),
    }


def metrics_json(group: Group, session: "Session") -> dict[str, Any]:
    """Loss, accuracy and confusion matrices (classification) or MSE/MAE (regression), train and test."""
    rows = np.array([session.row])
    ev = group.evaluate(rows)
    out: dict[str, Any] = {"problem": session.config.problem}
    for part, labels in (("train", session.data.train_labels), ("test", session.data.test_labels)):
        n = len(labels)
        loss = float(ev[f"{part}_loss"][0])
        entry: dict[str, Any] = {"loss": loss if np.isfinite(loss) else None, "count": n}
        if session.classification:
            entry["accuracy"] = float(ev[f"{part}_accuracy"][0])
            entry["labels"] = [0, 1]
            entry["confusion"] = confusion(labels, ev[f"{part}_predicted"][0, :n])
        else:
            x = group.tensors[f"x_{part}"][session.row, :n]  # (n, features)
            pred = group.outputs(rows, x)[0, :, 0].cpu().numpy()
            err = pred - labels
            entry["mse"] = float(np.mean(err**2))
            entry["mae"] = float(np.mean(np.abs(err)))
        out[part] = entry
    return out

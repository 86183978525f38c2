"""Points drawn on the plane: a 2-D session's data becomes the user's own, plus or minus one point."""

import numpy as np

from ..data.tabular import Table
from ..schemas import SessionConfig
from .dataset import SessionData
from .errors import Refused

REMOVE_RADIUS = 0.5  # a removal takes the nearest point within this distance on the plane
MAX_CLASSES = 10


def _raw(data: SessionData, plane: np.ndarray) -> np.ndarray:
    """Plane coordinates back to the data's own units (undoing standardisation)."""
    p = data.projection
    if p is None or not p.standardize:
        return plane
    return plane * p.std + p.mean


def drawable(data: SessionData) -> None:
    """Raise ValueError unless points can be drawn on this data (it must be 2-D)."""
    if data.inputs is not None:
        raise Refused("points can be drawn on two-dimensional data only; this data has more columns")


def _table(data: SessionData, config: SessionConfig, x: np.ndarray, y: np.ndarray) -> Table:
    names = data.table.class_names if data.table is not None and data.table.class_names else None
    if config.problem == "classification":
        classes = int(y.max()) + 1 if len(y) else 2
        names = (names or [])[:classes] + [str(c) for c in range(len(names or []), classes)]
    columns = data.table.columns if data.table is not None else ["x1", "x2"]
    return Table("drawn", list(columns), x.astype(np.float32), y.astype(np.float32),
                 names if config.problem == "classification" else None, config.problem)


def with_point(data: SessionData, config: SessionConfig, x: float, y: float, label: float) -> Table:
    """All the session's points (in their own units) and one more."""
    drawable(data)
    if config.problem == "classification" and not (label == int(label) and 0 <= label < MAX_CLASSES):
        raise Refused(f"label must be a class 0 to {MAX_CLASSES - 1} (got {label})")
    points, labels = data.all_points()
    raw = _raw(data, points) if data.table is not None else points
    new = _raw(data, np.array([[x, y]])) if data.table is not None else np.array([[x, y]])
    return _table(data, config, np.concatenate([raw, new]), np.append(labels, label))


def without_point(data: SessionData, config: SessionConfig, x: float, y: float) -> Table:
    """All the session's points but the one nearest (x, y) on the plane; ValueError when none is near."""
    drawable(data)
    points, labels = data.all_points()
    if not len(points):
        raise Refused("there are no points to remove")
    points = points.astype(np.float64)  # a far-off query must not overflow float32
    distance = np.hypot(points[:, 0] - x, points[:, 1] - y)
    nearest = int(np.argmin(distance))
    if distance[nearest] > REMOVE_RADIUS:
        raise Refused(f"no point within {REMOVE_RADIUS} of ({x:g}, {y:g})")
    keep = np.arange(len(points)) != nearest
    raw = _raw(data, points) if data.table is not None else points
    return _table(data, config, raw[keep], labels[keep])

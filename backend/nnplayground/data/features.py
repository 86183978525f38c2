"""Input-feature transforms of TensorFlow Playground, and the grid the decision surface is drawn on."""

from collections.abc import Callable

import numpy as np

FeatureFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]

FEATURE_FUNCTIONS: dict[str, FeatureFunction] = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1,
    "x2^2": lambda x1, x2: x2 * x2,
    "x1x2": lambda x1, x2: x1 * x2,
    "sin_x1": lambda x1, x2: np.sin(x1),
    "sin_x2": lambda x1, x2: np.sin(x2),
    "cos_x1": lambda x1, x2: np.cos(x1),
    "cos_x2": lambda x1, x2: np.cos(x2),
}


def feature_matrix(points: np.ndarray, features: list[str]) -> np.ndarray:
    """(n, 2) points to an (n, len(features)) float32 matrix, columns in the order given."""
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2) (got {points.shape})")
    unknown = [f for f in features if f not in FEATURE_FUNCTIONS]
    if unknown:
        raise ValueError(f"unknown features {unknown}; choose from {list(FEATURE_FUNCTIONS)}")
    # Computed in float64 so squares and sines of float32 inputs round once, at the end.
    x1, x2 = points[:, 0].astype(np.float64), points[:, 1].astype(np.float64)
    out = np.empty((len(points), len(features)), dtype=np.float32)
    for j, name in enumerate(features):
        out[:, j] = FEATURE_FUNCTIONS[name](x1, x2)
    return out


def grid_points(resolution: int, extent: float = 6.0) -> np.ndarray:
    """(resolution**2, 2) float32, row-major: index r * resolution + c is (x[c], y[r]).

    x and y are both np.linspace(-extent, extent, resolution), as the grid endpoints report.
    """
    if resolution < 1:
        raise ValueError(f"resolution must be at least 1 (got {resolution})")
    axis = np.linspace(-extent, extent, resolution)
    # "xy" indexing: xs[r, c] = axis[c], ys[r, c] = axis[r], so ravel gives row-major order.
    xs, ys = np.meshgrid(axis, axis, indexing="xy")
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)

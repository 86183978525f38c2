"""A session's data: generated 2-D points, a shipped table, or the user's own (uploaded or drawn).

Two-dimensional data feed the network through the input features (x1, x1², sin x1, …) and are
drawn as they are. Data of d > 2 columns feed the network all d columns and are drawn on a
plane: two chosen columns (the others at their mean) or the first two principal components.
"""

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..data import EXTENT, feature_matrix, generate, grid_points, split3
from ..schemas import SessionConfig
from .errors import Refused

if TYPE_CHECKING:
    from ..data.tabular import Projection, Table

PARTS = ("train", "val", "test")
_uids = itertools.count(1)


@dataclass
class SessionData:
    """Points split into train, validation and test, with what the network and the plane need."""

    points: dict[str, np.ndarray]  # part -> (n, 2) coordinates on the plane
    labels: dict[str, np.ndarray]  # part -> (n,) class index or value
    classes: int  # 0 for regression
    version: int
    inputs: dict[str, np.ndarray] | None = None  # part -> (n, d) network inputs when d > 2
    extent: float = EXTENT  # the plane spans [-extent, extent]²
    projection: "Projection | None" = None
    table: "Table | None" = None  # the user's own data (saved with the session), or a shipped table
    custom: bool = False
    _grid: dict[int, torch.Tensor] = field(default_factory=dict, repr=False)
    # Names this instance in the frame builder's label cache (a version may be shared on a restore).
    uid: int = field(default_factory=lambda: next(_uids), repr=False, compare=False)

    @classmethod
    def build(cls, config: SessionConfig, version: int, custom: "Table | None" = None) -> "SessionData":
        d = config.data
        if d.dataset == "custom" or d.dataset in TABLES:
            from ..data.tabular import load_table

            table = custom if d.dataset == "custom" else load_table(d.dataset)
            if table is None:
                raise Refused("this session has no data of its own yet: upload a CSV or draw points first")
            return cls.from_table(config, version, table, custom=d.dataset == "custom")
        points, labels = generate(d.dataset, d.num_points, d.noise, d.seed, d.classes)
        parts = split3(points, labels, d.train_ratio, d.validation_ratio)
        return cls(
            points={name: part[0] for name, part in zip(PARTS, parts, strict=True)},
            labels={name: part[1] for name, part in zip(PARTS, parts, strict=True)},
            classes=config.num_classes,
            version=version,
        )

    @classmethod
    def from_table(cls, config: SessionConfig, version: int, table: "Table", custom: bool) -> "SessionData":
        from ..data.tabular import Projection

        d = config.data
        order = np.random.default_rng(d.seed).permutation(len(table.y))  # tables come sorted by class
        try:
            projection = Projection(table.x, standardize=d.standardize, mode=d.plane.mode, x=d.plane.x, y=d.plane.y)
        except ValueError as e:  # plane columns this table does not have: the request's fault, a 422
            raise Refused(str(e)) from None
        inputs = projection.inputs(table.x[order]).astype(np.float32)
        labels = table.y[order].astype(np.float32)
        parts = split3(inputs, labels, d.train_ratio, d.validation_ratio)
        wide = table.x.shape[1] != 2  # two columns use the input features; other counts go in as they are
        named = dict(zip(PARTS, parts, strict=True))
        return cls(
            points={n: projection.plane(p[0]).astype(np.float32) if wide else p[0] for n, p in named.items()},
            labels={n: p[1] for n, p in named.items()},
            classes=len(table.class_names) if table.class_names else 0,
            version=version,
            inputs={n: p[0] for n, p in named.items()} if wide else None,
            # Drawn points keep the standard plane they were drawn on.
            extent=EXTENT if table.name == "drawn" and not d.standardize else projection.extent(),
            projection=projection,
            table=table,
            custom=custom,
        )

    @property
    def standard_plane(self) -> bool:
        """2-D data on [-6, 6]²: the grid every such session shares."""
        return self.inputs is None and self.extent == EXTENT

    @property
    def n_train(self) -> int:
        return len(self.labels["train"])

    def feature_names(self, features: list[str]) -> tuple[str, ...]:
        """The network's inputs: the chosen features for 2-D data, the columns otherwise."""
        if self.inputs is None:
            return tuple(features)
        assert self.table is not None
        return tuple(f"col:{c}" for c in self.table.columns)

    def network_inputs(self, part: str, features: list[str]) -> torch.Tensor:
        """(n, inputs) float32 for one part."""
        if self.inputs is None:
            return torch.from_numpy(feature_matrix(self.points[part], features).reshape(-1, len(features)))
        return torch.from_numpy(np.ascontiguousarray(self.inputs[part]))

    def grid_inputs(self, features: tuple[str, ...], resolution: int, device: torch.device) -> torch.Tensor:
        """(resolution², inputs) network inputs of the plane's grid, row-major as grid_points."""
        if resolution not in self._grid:
            plane = grid_points(resolution, self.extent)
            if self.inputs is None:
                x = feature_matrix(plane, list(features))
            else:
                assert self.projection is not None
                x = self.projection.lift(plane)
            self._grid[resolution] = torch.from_numpy(np.asarray(x, dtype=np.float32)).to(device)
        return self._grid[resolution]

    def targets(self, part: str, loss: str) -> torch.Tensor:
        """Training targets: one-hot (n, classes) for cce, else (n, 1)."""
        y = torch.from_numpy(self.labels[part]).float()
        if loss == "cce":
            return torch.nn.functional.one_hot(y.long(), self.classes).float()
        return y[:, None]

    def all_points(self) -> tuple[np.ndarray, np.ndarray]:
        """Every point on the plane and its label, parts joined (to draw on, for 2-D data)."""
        return np.concatenate([self.points[p] for p in PARTS]), np.concatenate([self.labels[p] for p in PARTS])

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "dataset", "version": self.version, "classes": self.classes, "extent": self.extent,
            "custom": self.custom,
        }
        if self.table is not None:
            out["columns"] = list(self.table.columns)
            if self.table.class_names:
                out["class_names"] = list(self.table.class_names)
            if self.inputs is not None and self.projection is not None:
                out["plane"] = {"mode": self.projection.mode, "x": self.projection.x, "y": self.projection.y}
        for part, name in (("train", "train"), ("val", "validation"), ("test", "test")):
            if part == "val" and not len(self.labels[part]):
                continue
            labels = self.labels[part]
            out[name] = {
                "x": self.points[part].round(4).tolist(),
                "y": labels.astype(int).tolist() if self.classes else labels.round(4).tolist(),
            }
        return out


TABLES = ("iris", "pass_fail")

"""Small decision grids for many sessions at once (a teacher's roster): one forward pass per group.

Runs on the engine's worker thread (Engine.thumbnails), reading the groups' stacked weights
directly: no copies, and a whole room costs one batched pass per network shape.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch

from .views import DecisionGrid, plane_inputs

if TYPE_CHECKING:
    from .group import Group
    from .session import Session

ThumbnailKind = Literal["probability", "class", "regression"]
RESOLUTION = 32


@dataclass(frozen=True)
class Thumbnail:
    """uint8 (res, res), row 0 at the top of the plane (x2 max). probability: P(class 1) * 255;
    class: the predicted class index (0 to classes - 1); regression: the output over [-1, 1] to 0..255."""

    kind: ThumbnailKind
    classes: int
    grid: np.ndarray


def _to_u8(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.rint(np.clip((values - lo) / (hi - lo), 0.0, 1.0) * 255).astype(np.uint8)


@torch.no_grad()
def thumbnails(sessions: list["Session"], grid: DecisionGrid, resolution: int = RESOLUTION) -> dict[str, Thumbnail]:
    """A thumbnail per session (sessions without a group are left out), batched by group."""
    by_group: dict[int, tuple[Group, list[Session]]] = {}
    for s in sessions:
        if s.group is not None:
            by_group.setdefault(id(s.group), (s.group, []))[1].append(s)
    out: dict[str, Thumbnail] = {}
    for group, members in by_group.values():
        rows = np.array([s.row for s in members], dtype=np.int64)
        features = group.key.features
        if all(s.data.standard_plane for s in members):
            x = grid.inputs(features, resolution)  # shared by every row
        else:
            x = torch.stack([plane_inputs(s.data, features, resolution, grid) for s in members])
        shown = group.outputs(rows, x)  # (rows, points, channels)
        shown = torch.nan_to_num(shown, nan=0.0, posinf=1e6, neginf=-1e6).cpu().numpy()
        shown = shown.reshape(len(members), resolution, resolution, -1)[:, ::-1]  # row 0 = top (y max)
        for i, s in enumerate(members):
            values = shown[i]
            if not s.classification:
                out[s.id] = Thumbnail("regression", 0, _to_u8(values[..., 0], -1.0, 1.0))
            elif values.shape[-1] == 1:
                out[s.id] = Thumbnail("probability", 2, _to_u8(values[..., 0], 0.0, 1.0))
            elif values.shape[-1] == 2:
                out[s.id] = Thumbnail("probability", 2, _to_u8(values[..., 1], 0.0, 1.0))
            else:
                out[s.id] = Thumbnail("class", values.shape[-1], values.argmax(axis=-1).astype(np.uint8))
    return out

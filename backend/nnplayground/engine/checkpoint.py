"""Checkpoints: a session as a dict of state_dicts plus its config (nanoGPT style).

Everything in it is a tensor, a number, a string, a list, a dict or None, so `torch.save` writes
it and `torch.load(..., weights_only=True)` reads it back without unpickling arbitrary objects.
Data sets are not stored: a data spec regenerates the same points (seeded).
"""

from typing import TYPE_CHECKING, Any

import torch

from ..schemas import SessionConfig
from .errors import Refused
from .group import Group
from .history import History
from .session import Session, SessionData

if TYPE_CHECKING:
    from ..data.tabular import Table

FORMAT = "nnplayground-checkpoint"
VERSION = 1
_PROGRESS = (
    "epoch", "step", "train_loss", "test_loss", "validation_loss", "train_accuracy", "test_accuracy",
    "validation_accuracy", "best_validation_loss", "best_epoch", "init_count", "stop_reason",
)


def checkpoint(session: Session) -> dict[str, Any]:
    """The session's config, weights, optimiser state, counters, progress and history."""
    group = session.group
    assert group is not None
    row = group.export(session.row, with_data=False)
    h = session.history
    return {
        "format": FORMAT,
        "version": VERSION,
        "id": session.id,
        "config": session.config.model_dump(mode="json"),
        "model": row.params,
        "optimizer": row.slots,
        "hyper": row.hyper,
        "counters": row.counters,
        "progress": {name: getattr(session, name) for name in _PROGRESS} | {"data_version": session.data.version},
        "custom_data": _table_dict(session.data.table) if session.data.custom else None,
        "history": {
            # Shallow copies: a recorded epoch's norms list is never changed afterwards, and a
            # deep copy of 2,000 of them per session was most of an autosave's time on the worker.
            "stride": h.stride, "epoch": list(h.epoch), "grad_norms": list(h.grad_norms),
            **{n: list(getattr(h, n)) for n in History.SERIES},
        },
    }


def check(ckpt: dict[str, Any]) -> SessionConfig:
    """Validate a checkpoint's envelope and config; ValueError says what is wrong."""
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise Refused(f"not an nnplayground checkpoint (format must be {FORMAT!r})")
    if ckpt.get("version") != VERSION:
        raise Refused(f"checkpoint version {ckpt.get('version')!r} is not supported (expected {VERSION})")
    try:
        return SessionConfig.model_validate(ckpt.get("config"))
    except ValueError as e:
        raise Refused(f"the checkpoint's config is not valid: {e}") from None


def restore(session_id: str, ckpt: dict[str, Any]) -> tuple[Session, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """A paused Session with the checkpoint's progress, plus the weights and optimiser state to place."""
    config = check(ckpt)
    progress = ckpt.get("progress", {})
    own = _table_of(ckpt["custom_data"]) if ckpt.get("custom_data") else None
    session = Session(session_id, config, SessionData.build(config, int(progress.get("data_version", 1)), custom=own))
    for name in _PROGRESS:
        if name in progress:
            setattr(session, name, progress[name])
    hist = ckpt.get("history") or {}
    session.history = History(
        stride=int(hist.get("stride", 1)),
        epoch=[int(e) for e in hist.get("epoch", [])],
        grad_norms=[[float(v) for v in g] for g in hist.get("grad_norms", [])],
        **{n: [float(v) for v in hist.get(n, [])] for n in History.SERIES},
    )
    return session, dict(ckpt.get("model") or {}), dict(ckpt.get("optimizer") or {})


def matches(group: Group, params: dict[str, torch.Tensor], slots: dict[str, torch.Tensor]) -> None:
    """Raise ValueError unless the tensors fit the group's shapes (a checkpoint from another network)."""
    for name, shape in group.shapes.items():
        if name not in params or tuple(params[name].shape) != shape:
            raise Refused(f"checkpoint tensor {name!r} does not fit the network (expected shape {shape})")
    for name in group.slot_names:
        base = name.split(".")[-1]
        if name in slots and tuple(slots[name].shape) != group.shapes[base]:
            raise Refused(f"checkpoint optimiser state {name!r} does not fit the network")


def _table_dict(table: "Table | None") -> dict[str, Any] | None:
    """The user's own data: plain values and tensors, like the rest of a checkpoint."""
    if table is None:
        return None
    return {
        "name": table.name, "columns": list(table.columns), "x": torch.from_numpy(table.x.copy()),
        "y": torch.from_numpy(table.y.copy()), "class_names": table.class_names, "problem": table.problem,
    }


def _table_of(d: dict[str, Any]) -> "Table":
    from ..data.tabular import Table

    x, y = d["x"], d["y"]
    if not (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor) and x.dim() == 2 and len(x) == len(y)):
        raise Refused("checkpoint custom_data must hold tensors x (n, d) and y (n,)")
    return Table(str(d["name"]), [str(c) for c in d["columns"]], x.numpy().astype("float32"),
                 y.numpy().astype("float32"), d.get("class_names"), d["problem"])

"""Checkpoints: a session as a dict of state_dicts plus its config (nanoGPT style).

Everything in it is a tensor, a number, a string, a list, a dict or None, so `torch.save` writes
it and `torch.load(..., weights_only=True)` reads it back without unpickling arbitrary objects.
Data sets are not stored: a data spec regenerates the same points (seeded).
"""

from typing import Any

import torch

from ..schemas import SessionConfig
from .group import Group
from .history import History
from .session import Session, SessionData

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
    row = group.export(session.row)
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
        "history": {
            "stride": h.stride, "epoch": list(h.epoch), "grad_norms": [list(g) for g in h.grad_norms],
            **{n: list(getattr(h, n)) for n in History.SERIES},
        },
    }


def check(ckpt: dict[str, Any]) -> SessionConfig:
    """Validate a checkpoint's envelope and config; ValueError says what is wrong."""
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"not an nnplayground checkpoint (format must be {FORMAT!r})")
    if ckpt.get("version") != VERSION:
        raise ValueError(f"checkpoint version {ckpt.get('version')!r} is not supported (expected {VERSION})")
    return SessionConfig.model_validate(ckpt["config"])


def restore(session_id: str, ckpt: dict[str, Any]) -> tuple[Session, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """A paused Session with the checkpoint's progress, plus the weights and optimiser state to place."""
    config = check(ckpt)
    progress = ckpt.get("progress", {})
    session = Session(session_id, config, SessionData.build(config, int(progress.get("data_version", 1))))
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
    return session, dict(ckpt["model"]), dict(ckpt.get("optimizer", {}))


def matches(group: Group, params: dict[str, torch.Tensor], slots: dict[str, torch.Tensor]) -> None:
    """Raise ValueError unless the tensors fit the group's shapes (a checkpoint from another network)."""
    for name, shape in group.shapes.items():
        if name not in params or tuple(params[name].shape) != shape:
            raise ValueError(f"checkpoint tensor {name!r} does not fit the network (expected shape {shape})")
    for name in group.slot_names:
        base = name.split(".")[-1]
        if name in slots and tuple(slots[name].shape) != group.shapes[base]:
            raise ValueError(f"checkpoint optimiser state {name!r} does not fit the network")

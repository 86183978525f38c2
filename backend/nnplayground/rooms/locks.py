"""Locked controls: which config fields a student may not change while in a room."""

from typing import Any

from .. import catalog
from ..schemas import SessionConfig


class ControlLocked(Exception):
    """A student's config change touches a control the teacher locked; the message names it."""

    def __init__(self, label: str) -> None:
        super().__init__(f"the teacher locked {label}")
        self.label = label


def unknown_controls(names: list[str]) -> list[str]:
    """The names that are not lockable controls (catalog.CONTROLS)."""
    return [n for n in names if n not in catalog.CONTROLS]


def _changed(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the leaves that differ (a list counts as one leaf)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in old.keys() | new.keys():
            out += _changed(old.get(key), new.get(key), f"{prefix}{key}.")
        return out
    return [] if old == new else [prefix.rstrip(".")]


def _covers(path: str, field: str) -> bool:
    return field == path or field.startswith(path + ".")


def locked_change(old: SessionConfig, new: SessionConfig, locked: list[str]) -> str | None:
    """The label of the first locked control that the change from old to new touches, else None."""
    if not locked:
        return None
    return _first_locked(_changed(old.model_dump(mode="json"), new.model_dump(mode="json")), locked)


def locked_own_data(old: SessionConfig, locked: list[str], problem: str | None = None) -> str | None:
    """The label of the lock that forbids own data (drawn points, an upload), else None.

    Own data replaces the data set whatever the config says, so a lock on the data set (or on all
    data controls) refuses it; an upload of another `problem` type also touches "problem".
    """
    touched = ["data.dataset"] + (["problem"] if problem is not None and problem != old.problem else [])
    return _first_locked(touched, locked)


def _first_locked(changed: list[str], locked: list[str]) -> str | None:
    for name in locked:
        control = catalog.CONTROLS.get(name)
        if control is None:
            continue
        paths = (control.name, *control.covers)
        if any(_covers(p, f) for p in paths for f in changed):
            return control.label
    return None

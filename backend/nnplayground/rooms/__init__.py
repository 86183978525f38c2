"""Classroom rooms: a teacher's room of student sessions, join codes, locks and the roster."""

from ..schemas import SessionConfig
from .locks import ControlLocked
from .service import RoomError, RoomService


def check_locked(rooms: RoomService | None, session_id: str, old: SessionConfig, new: SessionConfig) -> None:
    """ControlLocked when a student of a live room changes a control its teacher locked.

    The one check REST (PATCH) and the websocket (update) make before a config change; `rooms`
    is None in an app without its lifespan.
    """
    if rooms is not None:
        rooms.check_change(session_id, old, new)


def check_own_data(rooms: RoomService | None, session_id: str, old: SessionConfig, problem: str | None = None) -> None:
    """ControlLocked when a student of a live room draws or removes points, or uploads a CSV (of
    `problem` type), while its teacher locks the data set (or all data controls, or the problem type)."""
    if rooms is not None:
        rooms.check_own_data(session_id, old, problem)


__all__ = ["ControlLocked", "RoomError", "RoomService", "check_locked", "check_own_data"]

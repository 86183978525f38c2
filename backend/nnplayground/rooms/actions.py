"""What a teacher does to a room (and a student's fork): push a config, pause or play everyone,
lock controls, expire the code, close the room, the projector, results as CSV.

Public for other modules (a lesson endpoint reuses `push_config` and RoomService.broadcast).
"""

import asyncio
import csv
import io
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ..engine import Refused, UnknownSession
from ..schemas import SessionConfig, SessionState
from .locks import unknown_controls
from .model import Room, Student
from .service import RoomError, RoomService

log = logging.getLogger(__name__)

CSV_COLUMNS = (
    "nickname", "session_id", "epoch", "train_loss", "test_loss", "test_accuracy", "dataset", "hidden_layers",
    "activation", "optimizer", "learning_rate", "config_json",
)


def require_live(room: Room) -> None:
    if room.status == "closed":
        raise RoomError(410, "this room is closed")


async def _each_student(rooms: RoomService, room: Room, act: Callable[[str], Awaitable[Any]]) -> int:
    """Run `act` on every student session at once; a session gone meanwhile is skipped. Returns how many ran."""
    rooms.prune(room)

    async def one(session_id: str) -> bool:
        try:
            await act(session_id)
            return True
        except UnknownSession:
            return False
        except Refused as e:  # e.g. a student's own data that the new config cannot take
            log.warning("room %s: student session %s refused: %s", room.code, session_id, e)
            return False

    done = await asyncio.gather(*(one(sid) for sid in list(room.students)))
    return sum(done)


async def push_config(rooms: RoomService, room: Room, config: SessionConfig) -> int:
    """Make `config` the room's and reset every student's session to it (new weights, epoch 0).
    `config` must be checked against the server's limits already. Returns the sessions reset."""
    require_live(room)
    room.config = config
    engine, persistence = rooms.engine, rooms.persistence

    async def reset_to(session_id: str) -> None:
        # Through persistence: a run that ends here goes to the student's history.
        await persistence.change(session_id, lambda: engine.configure(session_id, config))
        await persistence.change(session_id, lambda: engine.reset(session_id))

    count = await _each_student(rooms, room, reset_to)
    await rooms.save(room)
    return count


async def set_running(rooms: RoomService, room: Room, running: bool) -> int:
    """Play or pause every student's session."""
    require_live(room)
    command = rooms.engine.play if running else rooms.engine.pause
    return await _each_student(rooms, room, lambda sid: asyncio.wrap_future(command(sid)))


async def set_locked(rooms: RoomService, room: Room, names: list[str]) -> None:
    require_live(room)
    unknown = unknown_controls(names)
    if unknown:
        raise RoomError(422, f"unknown controls {unknown}; see the catalog's controls")
    room.locked = list(dict.fromkeys(names))
    await rooms.changed(room)


async def expire(rooms: RoomService, room: Room) -> None:
    """No new students; those in the room stay."""
    require_live(room)
    room.status = "expired"
    await rooms.changed(room)


async def close(rooms: RoomService, room: Room) -> None:
    """Students' streams hear "closed"; their sessions stay theirs, outside any room."""
    if room.status == "closed":
        return
    room.status = "closed"
    room.projector_session_id = None
    await rooms.changed(room)


async def set_projector(rooms: RoomService, room: Room, session_id: str | None) -> None:
    require_live(room)
    if not room.allow_projector:
        raise RoomError(403, "this room does not allow showing a session on the projector")
    if session_id is not None and session_id != room.teacher_session_id and session_id not in room.students:
        raise RoomError(404, f"no session {session_id[:64]} in this room")
    room.projector_session_id = session_id
    await rooms.save(room)


async def fork(rooms: RoomService, room: Room, student: Student) -> SessionState:
    """The teacher session's config, data and weights into the student's own session (paused)."""
    require_live(room)
    engine = rooms.engine
    try:
        ckpt = await asyncio.wrap_future(engine.checkpoint(room.teacher_session_id))
    except UnknownSession:
        raise RoomError(404, "the teacher's session is gone") from None
    sid = student.session_id
    return await rooms.persistence.change(sid, lambda: engine.adopt(sid, ckpt))


def _cell(value: Any) -> Any:
    """A spreadsheet must not run a nickname as a formula: "=1+1" is written as "'=1+1"."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def results_csv(rooms: RoomService, room: Room) -> str:
    """One row per student session still there (closed rooms too): progress and configuration."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rooms.prune(room)
    for student in list(room.students.values()):
        try:
            state, config = rooms.engine.state(student.session_id), rooms.engine.config(student.session_id)
        except UnknownSession:
            continue
        writer.writerow([_cell(v) for v in (
            student.nickname, student.session_id, state.epoch, state.train_loss, state.test_loss,
            state.test_accuracy, config.data.dataset, "-".join(map(str, config.network.hidden_layers)),
            config.network.activation, config.training.optimizer, config.training.learning_rate,
            json.dumps(config.model_dump(mode="json"), separators=(",", ":")),
        )])
    return out.getvalue()

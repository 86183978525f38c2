"""What a teacher sees: the room with every student's progress, as JSON and as roster frames."""

import asyncio
import math
from typing import Any

import numpy as np

from ..engine import UnknownSession
from ..frames import Frame, encode_frame
from .model import Room
from .schemas import RoomOut, StudentOut
from .service import RoomService

THUMBNAIL_RESOLUTION = 32


def _number(value: float | None) -> float | None:
    """NaN and infinities (a diverged run) become None: no number on the wire may be either."""
    return value if value is not None and math.isfinite(value) else None


def students_out(rooms: RoomService, room: Room) -> list[StudentOut]:
    """Every student whose session still exists, in joining order."""
    rooms.prune(room)
    out = []
    for student in list(room.students.values()):
        try:
            state = rooms.engine.state(student.session_id)
            config = rooms.engine.config(student.session_id)
        except UnknownSession:
            continue  # joining right now, or deleted a moment ago
        out.append(StudentOut(
            session_id=student.session_id, nickname=student.nickname, joined_at=student.joined_at,
            epoch=state.epoch, running=state.running, train_loss=_number(state.train_loss),
            test_loss=_number(state.test_loss), test_accuracy=_number(state.test_accuracy),
            config_changed=config != room.config,
        ))
    return out


def room_out(rooms: RoomService, room: Room, with_students: bool = True) -> RoomOut:
    return RoomOut(
        code=room.code, name=room.name, status=room.status, locked=list(room.locked),
        max_students=room.max_students, allow_projector=room.allow_projector, config=room.config,
        teacher_session_id=room.teacher_session_id, projector_session_id=room.projector_session_id,
        lesson=room.lesson, students=students_out(rooms, room) if with_students else [],
    )


async def roster_frame(rooms: RoomService, room: Room, seq: int) -> bytes:
    """A binary frame (nnplayground.frames): header {type: roster, seq, room, students} and the
    section `thumbnails` (k, 32, 32) uint8; a student's "thumbnail" is its index there, or null."""
    students = students_out(rooms, room)
    ids = [s.session_id for s in students]
    thumbs = await asyncio.wrap_future(rooms.engine.thumbnails(ids, THUMBNAIL_RESOLUTION))
    grids: list[np.ndarray] = []
    entries: list[dict[str, Any]] = []
    for student in students:
        entry = student.model_dump(mode="json")
        thumb = thumbs.get(student.session_id)
        entry["thumbnail"] = len(grids) if thumb is not None else None
        entry["thumbnail_kind"] = thumb.kind if thumb is not None else None
        entry["classes"] = thumb.classes if thumb is not None else None
        if thumb is not None:
            grids.append(thumb.grid)
        entries.append(entry)
    res = THUMBNAIL_RESOLUTION
    stack = np.stack(grids) if grids else np.zeros((0, res, res), np.uint8)
    header = {
        "type": "roster", "seq": seq, "room": room_out(rooms, room, with_students=False).model_dump(mode="json"),
        "students": entries,
    }
    del header["room"]["students"]
    return encode_frame(Frame(header, {"thumbnails": stack}))

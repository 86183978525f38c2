"""A room's state: who teaches, who joined, what is locked; plain values the store keeps as JSON."""

import time
from dataclasses import dataclass, field
from typing import Any

from ..schemas import SessionConfig
from .schemas import Lesson, RoomPublic, RoomStatus


@dataclass
class Student:
    session_id: str
    nickname: str
    joined_at: float


@dataclass
class Room:
    code: str
    name: str
    token_hash: str  # the teacher token's sha256: the teacher session's own token
    teacher_session_id: str
    config: SessionConfig
    locked: list[str]
    max_students: int
    allow_projector: bool = True
    status: RoomStatus = "open"
    projector_session_id: str | None = None
    lesson: Lesson | None = None
    created: float = field(default_factory=time.time)
    students: dict[str, Student] = field(default_factory=dict)  # by session id, in joining order

    @property
    def live(self) -> bool:
        """Open or expired: the room still holds its students (a closed one does not)."""
        return self.status != "closed"

    def nickname_for(self, wanted: str) -> str:
        """`wanted`, or "wanted 2", "wanted 3", ... whichever no student of the room has (any case)."""
        taken = {s.nickname.casefold() for s in self.students.values()}
        if wanted.casefold() not in taken:
            return wanted
        n = 2
        while f"{wanted} {n}".casefold() in taken:
            n += 1
        return f"{wanted} {n}"

    def public(self) -> RoomPublic:
        return RoomPublic(
            code=self.code, name=self.name, status=self.status, students=len(self.students),
            max_students=self.max_students,
        )

    def room_message(self) -> dict[str, Any]:
        """What students' session streams get when the room changes."""
        return {
            "type": "room", "code": self.code, "locked": list(self.locked), "status": self.status,
            "lesson": self.lesson.model_dump() if self.lesson else None,
        }

    # ---- storage -----------------------------------------------------------------------------

    def record(self) -> dict[str, Any]:
        """The room without its students, as JSON values (the store's rooms.data)."""
        return {
            "name": self.name, "token_hash": self.token_hash, "teacher_session_id": self.teacher_session_id,
            "config": self.config.model_dump(mode="json"), "locked": self.locked,
            "max_students": self.max_students, "allow_projector": self.allow_projector, "status": self.status,
            "projector_session_id": self.projector_session_id,
            "lesson": self.lesson.model_dump() if self.lesson else None, "created": self.created,
        }

    @classmethod
    def from_record(cls, code: str, data: dict[str, Any], students: list[tuple[str, str, float]]) -> "Room":
        room = cls(
            code=code, name=data["name"], token_hash=data["token_hash"],
            teacher_session_id=data["teacher_session_id"], config=SessionConfig.model_validate(data["config"]),
            locked=list(data["locked"]), max_students=int(data["max_students"]),
            allow_projector=bool(data["allow_projector"]), status=data["status"],
            projector_session_id=data.get("projector_session_id"),
            lesson=Lesson.model_validate(data["lesson"]) if data.get("lesson") else None,
            created=float(data["created"]),
        )
        room.students = {sid: Student(sid, nick, joined) for sid, nick, joined in students}
        return room

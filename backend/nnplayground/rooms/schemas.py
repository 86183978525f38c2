"""Room request and answer bodies (docs/protocol.md, "Classroom rooms"); configs are SessionConfig."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..schemas import SessionConfig

RoomStatus = Literal["open", "expired", "closed"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RoomCreate(Body):
    name: str = Field(min_length=1, max_length=60)
    config: SessionConfig | None = Field(None, description="the students' starting config; null: defaults")
    locked: list[str] = Field(default_factory=list, description="lockable control names (catalog controls)")
    max_students: int | None = Field(None, ge=1, description="at most Settings.max_students_per_room")
    allow_projector: bool = True

    @field_validator("name")
    @classmethod
    def _trimmed(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("name must not be blank")
        return v


class JoinRequest(Body):
    nickname: str = Field(min_length=1, max_length=60)

    @field_validator("nickname")
    @classmethod
    def _trimmed(cls, v: str) -> str:
        v = " ".join(v.split())
        if not 1 <= len(v) <= 24:
            raise ValueError("nickname must be 1 to 24 characters (spaces trimmed)")
        return v


class LockedBody(Body):
    locked: list[str]


class ProjectorBody(Body):
    session_id: str | None = None


class Lesson(BaseModel):
    lesson_id: str
    step: int


class RoomPublic(BaseModel):
    code: str
    name: str
    status: RoomStatus
    students: int
    max_students: int


class StudentOut(BaseModel):
    session_id: str
    nickname: str
    joined_at: float
    epoch: int = 0
    running: bool = False
    train_loss: float | None = None
    test_loss: float | None = None
    test_accuracy: float | None = Field(None, description="null for regression")
    config_changed: bool = Field(False, description="the student's config differs from the room's")


class RoomOut(BaseModel):
    code: str
    name: str
    status: RoomStatus
    locked: list[str]
    max_students: int
    allow_projector: bool
    config: SessionConfig
    teacher_session_id: str
    projector_session_id: str | None = None
    lesson: Lesson | None = None
    students: list[StudentOut] = Field(default_factory=list)


class RoomCreated(BaseModel):
    code: str
    teacher_token: str = Field(description="drives the room and the teacher's own session; shown once")
    room: RoomOut


class Joined(BaseModel):
    session_id: str
    token: str
    nickname: str
    room: RoomPublic
    locked: list[str]
    teacher_session_id: str


class RoomMe(BaseModel):
    nickname: str
    session_id: str
    locked: list[str]
    status: RoomStatus
    teacher_session_id: str
    lesson: Lesson | None = None


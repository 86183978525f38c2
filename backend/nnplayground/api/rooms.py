"""REST routes of classroom rooms (docs/protocol.md, "Classroom rooms"); the logic is in rooms/.

Teacher routes take the teacher token (answered once by POST /api/rooms) as a bearer token;
student routes the token of the student's own session. An unknown code answers 404 only after
Settings.join_failure_delay_seconds and counts against the caller's address.
"""

from collections.abc import Awaitable
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response, status
from starlette.requests import HTTPConnection

from ..rooms import RoomError, RoomService, actions
from ..rooms.model import Room, Student
from ..rooms.roster import room_out
from ..rooms.schemas import (
    Joined,
    JoinRequest,
    LockedBody,
    ProjectorBody,
    RoomCreate,
    RoomCreated,
    RoomMe,
    RoomOut,
    RoomPublic,
)
from ..schemas import SessionConfig, SessionState
from .configs import ConfigError, check_config
from .deps import SettingsDep, TokenDep
from .responses import BODY, ROOM_CLOSED, ROOM_CODE, ROOM_JOIN, STUDENT, TEACHER, error

router = APIRouter(prefix="/api/rooms", tags=["rooms"])


def get_rooms(conn: HTTPConnection) -> RoomService:
    return conn.app.state.rooms


RoomsDep = Annotated[RoomService, Depends(get_rooms)]


def client_address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "unknown"


def http_error(e: RoomError) -> HTTPException:
    headers = {"WWW-Authenticate": "Bearer"} if e.status == 401 else None
    if e.status == 422:  # the API's one 422 shape: a list of items, as FastAPI's own validation
        return HTTPException(422, [{"loc": ["body"], "msg": e.message, "type": "refused"}])
    return HTTPException(e.status, e.message, headers=headers)


async def teacher_room(code: str, request: Request, rooms: RoomsDep, credentials: TokenDep) -> Room:
    """The room whose teacher token the request carries (401 missing, 404 unknown, 403 wrong)."""
    try:
        return await rooms.as_teacher(code, credentials.credentials if credentials else None, client_address(request))
    except RoomError as e:
        raise http_error(e) from None


async def student_seat(
    code: str, request: Request, rooms: RoomsDep, credentials: TokenDep
) -> tuple[Room, Student]:
    """The room and the student whose session token the request carries."""
    try:
        return await rooms.as_student(code, credentials.credentials if credentials else None, client_address(request))
    except RoomError as e:
        raise http_error(e) from None


TeacherDep = Annotated[Room, Depends(teacher_room)]
StudentDep = Annotated[tuple[Room, Student], Depends(student_seat)]


def _checked(config: SessionConfig | None, settings: SettingsDep) -> SessionConfig:
    config = config or SessionConfig()
    try:
        return check_config(config, settings)
    except ConfigError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, e.prefixed("body", "config")) from None


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=RoomCreated,
    responses={**BODY, 429: error("max_rooms reached, or a session limit")},
)
async def create_room(request: Request, rooms: RoomsDep, settings: SettingsDep, body: RoomCreate) -> RoomCreated:
    """Open a room and the teacher's own session; the teacher token is shown once."""
    config = _checked(body.config, settings)
    try:
        room, token = await rooms.create(body, config, client_address(request))
    except RoomError as e:
        raise http_error(e) from None
    return RoomCreated(code=room.code, teacher_token=token, room=room_out(rooms, room))


@router.get("/{code}", response_model=RoomPublic, responses=ROOM_CODE)
async def public_room(code: str, request: Request, rooms: RoomsDep) -> RoomPublic:
    """What a join page shows before joining (no token)."""
    try:
        room = await rooms.find(code, client_address(request))
    except RoomError as e:
        raise http_error(e) from None
    rooms.prune(room)
    return room.public()


@router.post(
    "/{code}/join", status_code=status.HTTP_201_CREATED, response_model=Joined, responses={**ROOM_JOIN, **BODY}
)
async def join(code: str, request: Request, rooms: RoomsDep, body: JoinRequest) -> Joined:
    """A student's own session, from the room's config; no account, only a nickname."""
    try:
        room = await rooms.find(code, client_address(request))
        student, token, _ = await rooms.join(room, body.nickname)
    except RoomError as e:
        raise http_error(e) from None
    return Joined(
        session_id=student.session_id, token=token, nickname=student.nickname, room=room.public(),
        locked=list(room.locked), teacher_session_id=room.teacher_session_id,
    )


@router.get("/{code}/me", response_model=RoomMe, responses=STUDENT)
async def me(seat: StudentDep) -> RoomMe:
    room, student = seat
    return RoomMe(
        nickname=student.nickname, session_id=student.session_id, locked=list(room.locked), status=room.status,
        teacher_session_id=room.teacher_session_id, lesson=room.lesson,
    )


@router.post(
    "/{code}/fork", response_model=SessionState,
    responses={**STUDENT, **ROOM_CLOSED, 404: error("no room with that code, or the teacher's session is gone")},
)
async def fork(seat: StudentDep, rooms: RoomsDep) -> SessionState:
    """Copy the teacher session (config, data, weights) into the student's own session, paused."""
    room, student = seat
    try:
        return await actions.fork(rooms, room, student)
    except RoomError as e:
        raise http_error(e) from None


# ---- teacher -----------------------------------------------------------------------------------


@router.get("/{code}/teacher", response_model=RoomOut, responses=TEACHER)
async def teacher_view(room: TeacherDep, rooms: RoomsDep) -> RoomOut:
    return room_out(rooms, room)


async def _act(rooms: RoomService, room: Room, action: Awaitable[object]) -> RoomOut:
    try:
        await action
    except RoomError as e:
        raise http_error(e) from None
    return room_out(rooms, room)


@router.post("/{code}/config", response_model=RoomOut, responses={**TEACHER, **ROOM_CLOSED, **BODY})
async def push_config(
    room: TeacherDep, rooms: RoomsDep, settings: SettingsDep, config: Annotated[SessionConfig, Body()]
) -> RoomOut:
    """The room's config := this; every student's session is reset to it (new weights, epoch 0)."""
    checked = _checked(config, settings)
    return await _act(rooms, room, actions.push_config(rooms, room, checked))


@router.post("/{code}/pause", response_model=RoomOut, responses={**TEACHER, **ROOM_CLOSED})
async def pause_all(room: TeacherDep, rooms: RoomsDep) -> RoomOut:
    return await _act(rooms, room, actions.set_running(rooms, room, False))


@router.post("/{code}/play", response_model=RoomOut, responses={**TEACHER, **ROOM_CLOSED})
async def play_all(room: TeacherDep, rooms: RoomsDep) -> RoomOut:
    return await _act(rooms, room, actions.set_running(rooms, room, True))


@router.put("/{code}/locked", response_model=RoomOut, responses={**TEACHER, **ROOM_CLOSED, **BODY})
async def set_locked(room: TeacherDep, rooms: RoomsDep, body: LockedBody) -> RoomOut:
    return await _act(rooms, room, actions.set_locked(rooms, room, body.locked))


@router.post("/{code}/expire", response_model=RoomOut, responses={**TEACHER, **ROOM_CLOSED})
async def expire(room: TeacherDep, rooms: RoomsDep) -> RoomOut:
    """No new students (joins answer 410); those in the room stay."""
    return await _act(rooms, room, actions.expire(rooms, room))


@router.delete("/{code}", response_model=RoomOut, responses=TEACHER)
async def close(room: TeacherDep, rooms: RoomsDep) -> RoomOut:
    """Close the room: students' streams hear it; their sessions stay theirs, outside the room."""
    return await _act(rooms, room, actions.close(rooms, room))


@router.put(
    "/{code}/projector", response_model=RoomOut,
    responses={
        **TEACHER, **ROOM_CLOSED, **BODY,
        403: error("wrong token, or this room does not allow the projector"),
        404: error("no room with that code, or no such session in it"),
    },
)
async def projector(room: TeacherDep, rooms: RoomsDep, body: ProjectorBody) -> RoomOut:
    return await _act(rooms, room, actions.set_projector(rooms, room, body.session_id))


@router.get("/{code}/results.csv", response_class=Response, responses=TEACHER)
async def results(room: TeacherDep, rooms: RoomsDep) -> Response:
    """nickname, session_id, epoch, losses, accuracy and the configuration of every student."""
    return Response(
        actions.results_csv(rooms, room), media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="room-{room.code}.csv"'},
    )

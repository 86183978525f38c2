"""REST routes for lessons: the menu, one lesson with its steps' configs, and a session's progress.

Lessons are read-only data (lessons/library/ and Settings.lessons_dir), served to anyone; a
session's place in a lesson is its owner's, kept in the store so it survives a restart.
"""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Response, status
from starlette.requests import HTTPConnection

from ..lessons import LessonLibrary, LessonOut, LessonPosition, LessonSummary
from ..rooms import RoomError, actions
from ..rooms.roster import room_out
from ..rooms.schemas import Lesson as RoomLesson
from ..rooms.schemas import RoomOut
from .configs import ConfigError, check_config
from .deps import PersistenceDep, RegistryDep, SessionDep, SettingsDep
from .responses import BODY, ROOM_CLOSED, SESSION, TEACHER, error
from .rooms import RoomsDep, TeacherDep, http_error


def get_lessons(conn: HTTPConnection) -> LessonLibrary:
    """The app's lessons, loaded at start-up (or on first use where no lifespan ran)."""
    library = getattr(conn.app.state, "lessons", None)
    if library is None:
        library = LessonLibrary.for_settings(conn.app.state.settings)
        conn.app.state.lessons = library
    return library


LessonsDep = Annotated[LessonLibrary, Depends(get_lessons)]

router = APIRouter(tags=["lessons"])


def lesson_or_404(library: LessonLibrary, lesson_id: str) -> LessonOut:
    lesson = library.get(lesson_id)
    if lesson is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown lesson {lesson_id}")
    return lesson


def checked_position(library: LessonLibrary, position: LessonPosition) -> LessonPosition:
    """`position` if its lesson exists (else 404) and has that step (else 422)."""
    lesson = lesson_or_404(library, position.lesson_id)
    if position.step > len(lesson.steps):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["body", "step"], "msg": f"lesson {lesson.id} has steps 1 to {len(lesson.steps)}",
              "type": "limit"}],
        )
    return position


@router.get("/api/lessons", response_model=list[LessonSummary])
async def list_lessons(library: LessonsDep) -> list[LessonSummary]:
    """Every lesson in course order, with its step count (the lessons menu)."""
    return library.summaries()


@router.get("/api/lessons/{lesson_id}", response_model=LessonOut, responses={404: error("unknown lesson")})
async def get_lesson(lesson_id: str, library: LessonsDep) -> LessonOut:
    """A lesson with each step's full config (earlier steps' changes merged in)."""
    return lesson_or_404(library, lesson_id)


@router.get("/api/sessions/{session_id}/lesson", response_model=LessonPosition | None, responses=SESSION)
async def get_progress(session: SessionDep, persistence: PersistenceDep) -> LessonPosition | None:
    """Where this session stands in a lesson; null when it follows none."""
    found = await asyncio.to_thread(persistence.store.lesson_progress, session.id)
    return LessonPosition(lesson_id=found[0], step=found[1]) if found else None


@router.put(
    "/api/sessions/{session_id}/lesson", response_model=LessonPosition,
    responses={**SESSION, **BODY, 404: error("unknown session or lesson")},
)
async def put_progress(
    session: SessionDep,
    persistence: PersistenceDep,
    registry: RegistryDep,
    library: LessonsDep,
    position: Annotated[LessonPosition, Body()],
) -> LessonPosition:
    """Record the lesson and step this session shows (the panel calls it on every Next / Back).

    Recording does not change the session's config: the page loads the step's config itself,
    through the same update any control sends.
    """
    checked_position(library, position)
    await asyncio.to_thread(persistence.store.set_lesson_progress, session.id, (position.lesson_id, position.step))
    if session.id not in registry:  # deleted meanwhile: its row must not outlive it
        await asyncio.to_thread(persistence.store.set_lesson_progress, session.id, None)
    return position


@router.delete(
    "/api/sessions/{session_id}/lesson", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
    responses=SESSION,
)
async def delete_progress(session: SessionDep, persistence: PersistenceDep) -> Response:
    """The student closed the lesson."""
    await asyncio.to_thread(persistence.store.set_lesson_progress, session.id, None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/api/rooms/{code}/lesson", response_model=RoomOut, tags=["rooms"],
    responses={**TEACHER, **ROOM_CLOSED, **BODY, 404: error("no room with that code, or unknown lesson")},
)
async def start_room_lesson(
    room: TeacherDep,
    rooms: RoomsDep,
    settings: SettingsDep,
    persistence: PersistenceDep,
    library: LessonsDep,
    position: Annotated[LessonPosition, Body()],
) -> RoomOut:
    """The teacher opens a lesson step for the whole room: every student's session is reset to the
    step's config (and plays if the step says so), and each student's panel opens at that step."""
    lesson = checked_position(library, position)
    step = lesson_or_404(library, position.lesson_id).steps[position.step - 1]
    try:
        config = check_config(step.config, settings)
    except ConfigError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, e.prefixed("lesson", "config")) from None
    try:
        await actions.push_config(rooms, room, config)
        if step.play:
            await actions.set_running(rooms, room, True)
    except RoomError as e:
        raise http_error(e) from None
    for session_id in [sid for sid in room.students if sid in rooms.registry]:  # a reloaded page asks the server
        await asyncio.to_thread(persistence.store.set_lesson_progress, session_id, (lesson.lesson_id, lesson.step))
    room.lesson = RoomLesson(lesson_id=lesson.lesson_id, step=lesson.step)
    await rooms.changed(room)  # stored, and a `room` message with the lesson to every student
    return room_out(rooms, room)


@router.delete("/api/rooms/{code}/lesson", response_model=RoomOut, tags=["rooms"], responses={**TEACHER, **ROOM_CLOSED})
async def stop_room_lesson(room: TeacherDep, rooms: RoomsDep) -> RoomOut:
    """The teacher ends the room's lesson: students' panels stop following it; their sessions,
    configs and lesson progress stay as they are."""
    try:
        actions.require_live(room)
    except RoomError as e:
        raise http_error(e) from None
    room.lesson = None
    await rooms.changed(room)  # stored, and a `room` message with `lesson: null` to every student
    return room_out(rooms, room)

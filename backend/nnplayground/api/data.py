"""The user's own data: drawn points and uploaded CSVs (docs/protocol.md, "Your own data")."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from ..data.tabular import CsvError, parse_csv
from ..rooms import ControlLocked, check_own_data
from ..schemas import SessionOut
from .deps import EngineDep, SessionDep, SettingsDep
from .responses import BODY, LOCKED, SESSION, UPLOAD

# Every route here is a session's, and refused under a room's data lock.
router = APIRouter(prefix="/api/sessions", tags=["data"], responses={**SESSION, **LOCKED})


class PointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: float = Field(ge=-1e6, le=1e6)
    y: float = Field(ge=-1e6, le=1e6)
    label: float = Field(ge=-1e6, le=1e6, description="class index, or the value for regression")


def _unprocessable(msg: str, loc: list[str | int]) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": loc, "msg": msg, "type": "value_error"}])


async def _answer(session_id: str, engine: EngineDep, fut: "asyncio.Future[object] | object") -> SessionOut:
    try:
        state = await asyncio.wrap_future(fut)  # type: ignore[arg-type]
    except ValueError as e:
        raise _unprocessable(str(e), ["body"]) from None
    return SessionOut(id=session_id, config=engine.config(session_id), state=state)  # type: ignore[arg-type]


def _refuse_if_locked(request: Request, session_id: str, engine: EngineDep, problem: str | None = None) -> None:
    """403 when the session's room locks the data set: own data would replace the teacher's."""
    try:
        check_own_data(getattr(request.app.state, "rooms", None), session_id, engine.config(session_id), problem)
    except ControlLocked as e:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(e)) from None


@router.post("/{session_id}/points", response_model=SessionOut, responses=BODY)
async def add_point(request: Request, session: SessionDep, engine: EngineDep, point: PointIn) -> SessionOut:
    """Add a point (2-D data); the session's data becomes its own and the network keeps its weights."""
    _refuse_if_locked(request, session.id, engine)
    return await _answer(session.id, engine, engine.add_point(session.id, point.x, point.y, point.label))


@router.delete("/{session_id}/points", response_model=SessionOut)
async def remove_point(
    request: Request, session: SessionDep, engine: EngineDep, x: Annotated[float, Query()], y: Annotated[float, Query()]
) -> SessionOut:
    """Remove the point nearest (x, y), within 0.5 on the plane."""
    _refuse_if_locked(request, session.id, engine)
    return await _answer(session.id, engine, engine.remove_point(session.id, x, y))


@router.post("/{session_id}/data", response_model=SessionOut, responses=UPLOAD)
async def upload(
    request: Request,
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    label: Annotated[str, Query(min_length=1, max_length=200, description="the label column's name")],
    standardize: Annotated[bool, Query()] = True,
) -> SessionOut:
    """A CSV (header row, numeric features, a label column) becomes the session's data; it re-initialises."""
    _refuse_if_locked(request, session.id, engine)  # before reading: a locked student's CSV is not parsed
    body = await request.body()
    if len(body) > settings.max_upload_bytes:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"the upload has {len(body)} bytes, more than the limit of {settings.max_upload_bytes}",
        )
    try:
        text = body.decode("utf-8")
        table = parse_csv(text, label, max_rows=settings.max_points, max_bytes=settings.max_upload_bytes)
    except UnicodeDecodeError:
        raise _unprocessable("the CSV must be UTF-8 text", ["body"]) from None
    except CsvError as e:
        loc: list[str | int] = ["body"]
        if e.line is not None:
            loc.append(e.line)
        if e.column is not None:
            loc.append(e.column)
        raise _unprocessable(str(e), loc) from None
    _refuse_if_locked(request, session.id, engine, table.problem)
    return await _answer(session.id, engine, engine.set_data(session.id, table, standardize=standardize))

"""REST routes for sessions: create, read, configure, drive, inspect, delete (docs/protocol.md).

Handlers only translate: they hand commands to the engine and await its futures with
`asyncio.wrap_future`, so a long training run never blocks the event loop.
"""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request, Response, status
from pydantic import BaseModel

from ..engine import Engine, keeps_weights
from ..rooms import ControlLocked, check_locked
from ..schemas import (
    GridOut,
    HistoryOut,
    LRRangeTestOut,
    LRRangeTestRequest,
    MetricsOut,
    SessionConfig,
    SessionCreated,
    SessionOut,
    SessionState,
    TrainRequest,
)
from .configs import ConfigError, check_config, patched_config
from .deps import EngineDep, PersistenceDep, RegistryDep, SessionDep, SettingsDep
from .registry import RegistryFull
from .responses import BODY, LIMITS, LOCKED, SESSION

router = APIRouter(prefix="/api/sessions", tags=["sessions"])


class DatasetOut(BaseModel):
    version: int
    classes: int = 0
    extent: float = 6.0
    custom: bool = False
    columns: list[str] | None = None
    class_names: list[str] | None = None
    plane: dict[str, Any] | None = None
    train: dict[str, Any]
    validation: dict[str, Any] | None = None
    test: dict[str, Any]


def _unprocessable(loc: list[str | int], msg: str) -> HTTPException:
    """A 422 in FastAPI's shape for a check the schema cannot make (it depends on Settings)."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": loc, "msg": msg, "type": "limit"}])


def _out(engine: Engine, session_id: str, state: SessionState | None = None) -> SessionOut:
    return SessionOut(id=session_id, config=engine.config(session_id), state=state or engine.state(session_id))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SessionCreated, responses={**BODY, **LIMITS})
async def create_session(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    registry: RegistryDep,
    config: Annotated[SessionConfig | None, Body(description="any part of a config; the rest defaults")] = None,
) -> SessionCreated:
    """Create a session; the answer's token is needed for every later call on it."""
    config = config or SessionConfig()
    try:
        check_config(config, settings)
    except ConfigError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, e.prefixed("body")) from None
    client = request.client.host if request.client else "unknown"
    try:
        entry, token = registry.reserve(client, settings.max_sessions, settings.max_sessions_per_client)
    except RegistryFull as e:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(e)) from None
    try:
        state = await asyncio.wrap_future(engine.create_session(entry.id, config))
    except BaseException:
        # Free the slot; if the engine created the session anyway (we were cancelled while it
        # ran), delete it there too, or it would train on with nobody able to reach it.
        registry.remove(entry.id)
        engine.delete_session(entry.id)
        raise
    return SessionCreated(id=entry.id, token=token, config=engine.config(entry.id), state=state)


@router.get("/{session_id}", response_model=SessionOut, responses=SESSION)
async def get_session(session: SessionDep, engine: EngineDep) -> SessionOut:
    return _out(engine, session.id)


@router.patch("/{session_id}", response_model=SessionOut, responses={**SESSION, **LOCKED, **BODY})
async def update_session(
    request: Request,
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    persistence: PersistenceDep,
    patch: Annotated[dict[str, Any], Body(description="a partial config, merged into the current one")],
) -> SessionOut:
    """Change the config: rates apply live, anything else re-initialises the session."""
    current = engine.config(session.id)
    try:
        config = patched_config(current, patch, settings)
    except ConfigError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, e.prefixed("body")) from None
    if config == current:
        return _out(engine, session.id)  # nothing to change: do not disturb the session
    try:
        check_locked(getattr(request.app.state, "rooms", None), session.id, current, config)
    except ControlLocked as e:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(e)) from None
    # A change that re-initialises the session ends its run: that run goes to the history.
    state = await persistence.change(
        session.id, lambda: engine.configure(session.id, config), may_reset=not keeps_weights(current, config)
    )
    return _out(engine, session.id, state)


@router.post("/{session_id}/train", response_model=SessionOut, responses={**SESSION, **BODY})
async def train(
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    body: Annotated[TrainRequest | None, Body()] = None,
) -> SessionOut:
    """Train n more epochs and answer when they are done (for scripts and tests)."""
    epochs = (body or TrainRequest()).epochs
    if epochs > settings.max_epochs_per_train:
        raise _unprocessable(
            ["body", "epochs"], f"epochs must be 1 to {settings.max_epochs_per_train} (got {epochs})"
        )
    state = await asyncio.wrap_future(engine.train(session.id, epochs))
    return _out(engine, session.id, state)


@router.post("/{session_id}/play", response_model=SessionOut, responses=SESSION)
async def play(session: SessionDep, engine: EngineDep) -> SessionOut:
    state = await asyncio.wrap_future(engine.play(session.id))
    return _out(engine, session.id, state)


@router.post("/{session_id}/pause", response_model=SessionOut, responses=SESSION)
async def pause(session: SessionDep, engine: EngineDep) -> SessionOut:
    state = await asyncio.wrap_future(engine.pause(session.id))
    return _out(engine, session.id, state)


@router.post("/{session_id}/step", response_model=SessionOut, responses=SESSION)
async def step(session: SessionDep, engine: EngineDep) -> SessionOut:
    """Train one epoch; answers when it is done."""
    state = await asyncio.wrap_future(engine.step(session.id))
    return _out(engine, session.id, state)


@router.post("/{session_id}/reset", response_model=SessionOut, responses=SESSION)
async def reset(session: SessionDep, engine: EngineDep, persistence: PersistenceDep) -> SessionOut:
    """New weights, epoch 0, same data; the run it ends goes to the history."""
    state = await persistence.change(session.id, lambda: engine.reset(session.id))
    return _out(engine, session.id, state)


@router.get("/{session_id}/history", response_model=HistoryOut, responses=SESSION)
async def history(session: SessionDep, engine: EngineDep) -> Any:
    return await asyncio.wrap_future(engine.history(session.id))


@router.get("/{session_id}/grid", response_model=GridOut, responses=SESSION)
async def grid(
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    resolution: Annotated[int | None, Query(description="cells per side; default from the server")] = None,
) -> Any:
    """The network's output on a resolution x resolution grid over [-6, 6]²."""
    res = settings.grid_resolution if resolution is None else resolution
    if not 2 <= res <= settings.max_grid_resolution:
        raise _unprocessable(
            ["query", "resolution"], f"resolution must be 2 to {settings.max_grid_resolution} (got {res})"
        )
    return await asyncio.wrap_future(engine.grid(session.id, res))


@router.post("/{session_id}/lr-range-test", response_model=LRRangeTestOut, responses={**SESSION, **BODY})
async def lr_range_test(
    session: SessionDep, engine: EngineDep, body: Annotated[LRRangeTestRequest | None, Body()] = None
) -> Any:
    """Sweep the learning rate on a copy of the session (untouched) and suggest one."""
    req = body or LRRangeTestRequest()
    return await asyncio.wrap_future(engine.lr_range_test(session.id, req.start, req.end, req.steps, lambda _: None))


@router.get("/{session_id}/metrics", response_model=MetricsOut, responses=SESSION)
async def metrics(session: SessionDep, engine: EngineDep) -> Any:
    return await asyncio.wrap_future(engine.metrics(session.id))


@router.get("/{session_id}/dataset", response_model=DatasetOut, responses=SESSION)
async def dataset(session: SessionDep, engine: EngineDep) -> Any:
    return await asyncio.wrap_future(engine.dataset(session.id))


@router.delete(
    "/{session_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=SESSION
)
async def delete_session(session: SessionDep, persistence: PersistenceDep) -> Response:
    """Delete the session and its stored data; its websockets close with 4404. What it trained
    stays in its run history (GET /api/sessions/{id}/runs with the same token)."""
    await persistence.end_session(session.id, "deleted")
    return Response(status_code=status.HTTP_204_NO_CONTENT)

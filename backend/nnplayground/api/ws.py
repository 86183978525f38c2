"""The session stream: `WS /ws/sessions/{id}?token=…` (docs/protocol.md, "Websocket").

Server to client: hello, dataset, then frames (latest wins) and events (config, dataset, error)
through a Subscriber. Client to server: JSON commands, checked like their REST twins.
"""

import asyncio
import json
import logging
from concurrent.futures import Future
from contextlib import nullcontext, suppress
from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket
from pydantic import Field, TypeAdapter, ValidationError

from ..config import Settings
from ..engine import Engine, UnknownSession, keeps_weights
from ..persistence import Persistence
from ..rooms import ControlLocked, RoomService, check_locked, check_own_data
from ..schemas import (
    AddPointCommand,
    Command,
    LRRangeTestCommand,
    PauseCommand,
    PlayCommand,
    RemovePointCommand,
    ResetCommand,
    SetWeightCommand,
    StepCommand,
    UpdateCommand,
    ViewsCommand,
)
from ..streaming import Subscriber
from .configs import ConfigError, patched_config, validation_items
from .deps import AuthError, EngineDep, RegistryDep, SettingsDep, authorize, room_reader

log = logging.getLogger(__name__)

router = APIRouter(tags=["stream"])

_commands: TypeAdapter[Command] = TypeAdapter(Annotated[Command, Field(discriminator="type")])


class CommandError(Exception):
    """A client message that cannot be run; answered with an error message, not a close."""

    def __init__(self, message: str, loc: list[str | int], code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.code = code  # 403: refused (a read-only stream, a locked control), not malformed


def _error(message: str, loc: list[str | int] | None = None, code: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": "error", "message": message, "loc": loc or []}
    if code is not None:
        error["code"] = code
    return error


def _items_error(items: list[dict[str, Any]]) -> CommandError:
    """One error message for a list of 422 items: every problem in the text, the first's loc."""
    message = "; ".join(f"{'.'.join(map(str, i['loc']))}: {i['msg']}" if i["loc"] else i["msg"] for i in items)
    return CommandError(message, items[0]["loc"] if items else [])


def parse_command(text: str) -> Command:
    """A command from a client's JSON text, or CommandError saying what is wrong and where."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise CommandError(f"invalid JSON: {e}", []) from None
    except RecursionError:  # valid JSON nested deeper than Python's recursion limit
        raise CommandError("invalid JSON: nested too deeply", []) from None
    except ValueError as e:  # valid JSON Python will not read, e.g. an integer over 4,300 digits
        raise CommandError(f"invalid JSON: {e}", []) from None
    try:
        return _commands.validate_python(obj)
    except ValidationError as e:
        items = validation_items(e)
    tag = obj.get("type") if isinstance(obj, dict) else None
    for item in items:
        if item["type"] in ("union_tag_invalid", "union_tag_not_found"):
            item["loc"] = ["type"]
        elif item["loc"][:1] == [tag]:
            item["loc"] = item["loc"][1:]  # pydantic puts the union's tag first; the client never sent it
    raise _items_error(items)


def _start_lr_range_test(command: LRRangeTestCommand, session_id: str, engine: Engine, subscriber: Subscriber) -> None:
    """Runs beside training; progress and the result arrive as lr_range_test events."""
    fut = engine.lr_range_test(session_id, command.start, command.end, command.steps, subscriber.event)

    def failed(f: "Future[Any]") -> None:
        if f.exception() is not None:
            subscriber.event(_error(f"learning-rate range test failed: {f.exception()}"))

    fut.add_done_callback(failed)


async def _run_command(
    command: Command, session_id: str, engine: Engine, settings: Settings, subscriber: Subscriber,
    persistence: Persistence, rooms: RoomService | None = None,
) -> None:
    match command:
        case LRRangeTestCommand():
            _start_lr_range_test(command, session_id, engine, subscriber)
            return
        case AddPointCommand() | RemovePointCommand():
            try:
                check_own_data(rooms, session_id, engine.config(session_id))
            except ControlLocked as e:
                raise CommandError(str(e), [], 403) from None
            try:
                await asyncio.wrap_future(
                    engine.add_point(session_id, command.x, command.y, command.label)
                    if isinstance(command, AddPointCommand)
                    else engine.remove_point(session_id, command.x, command.y)
                )
            except ValueError as e:
                raise CommandError(str(e), []) from None
            return
        case ViewsCommand(neurons=neurons):
            fut = engine.set_views(session_id, subscriber, neurons)
        case SetWeightCommand():
            try:
                await asyncio.wrap_future(
                    engine.set_weight(session_id, command.layer, command.source, command.to, command.value)
                )
            except ValueError as e:
                raise CommandError(str(e), []) from None
            return
        case PlayCommand():
            fut = engine.play(session_id)
        case PauseCommand():
            fut = engine.pause(session_id)
        case StepCommand():
            fut = engine.step(session_id)
        case ResetCommand():
            # Through persistence: a re-initialisation ends a run, which goes to the history.
            await persistence.change(session_id, lambda: engine.reset(session_id))
            return
        case UpdateCommand(config=patch):
            current = engine.config(session_id)
            try:
                config = patched_config(current, patch, settings)
            except ConfigError as e:
                raise _items_error(e.prefixed("config")) from None
            if config == current:
                return  # nothing changes: leave the session alone
            try:
                check_locked(rooms, session_id, current, config)
            except ControlLocked as e:
                raise CommandError(str(e), [], 403) from None
            await persistence.change(
                session_id, lambda: engine.configure(session_id, config), may_reset=not keeps_weights(current, config)
            )
            return
    # The engine tells every watcher (this one included) about changes with config/dataset
    # events and a fresh frame; this only waits so that commands run in the order they came.
    await asyncio.wrap_future(fut)


async def _receive_commands(
    websocket: WebSocket, subscriber: Subscriber, session_id: str, engine: Engine, settings: Settings,
    persistence: Persistence, read_only: bool = False,
) -> None:
    rooms: RoomService | None = getattr(websocket.app.state, "rooms", None)
    limit = settings.max_message_bytes
    while not subscriber.closing:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text: str | None = message.get("text")
        data: bytes | None = message.get("bytes")
        size = len(data) if data is not None else len(text.encode()) if text is not None else 0
        if size > limit:
            subscriber.close(1009, f"message of {size} bytes is over the limit of {limit} bytes")
            return
        if text is None:
            subscriber.send(_error("binary messages are not accepted; send JSON text commands"))
            continue
        try:
            command = parse_command(text)
            if read_only and not isinstance(command, ViewsCommand):
                raise CommandError("read-only stream: only the session's owner drives it", [], 403)
            await _run_command(command, session_id, engine, settings, subscriber, persistence, rooms)
        except CommandError as e:
            subscriber.send(_error(e.message, e.loc, e.code))
        except UnknownSession:
            subscriber.close(4404, f"unknown session {session_id}")
            return
        except Exception as e:  # an engine failure on one command should not end the stream
            log.exception("websocket command failed for session %s", session_id)
            subscriber.send(_error(f"command failed: {e}"))


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """May a page from `origin` open a session websocket on the server reached as `host`?

    Yes without an Origin header (scripts and tools send none; browsers always do), for the
    server's own pages (the origin's host[:port] is the Host header, whatever the scheme, so a
    TLS proxy in front does not matter), and for origins listed in Settings.allowed_origins
    (`"*"`: any). A page on another site never gets the token, but if one had it, this stops it
    from driving the session from a visitor's browser.
    """
    if origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    if "*" in allowed or origin in {o.strip().rstrip("/").lower() for o in allowed}:
        return True
    scheme, sep, netloc = origin.partition("://")
    if not sep or scheme not in ("http", "https") or not host:
        return False  # "null" (sandboxed frames, file: pages) and anything odd
    return netloc == host.strip().lower()


@router.websocket("/ws/sessions/{session_id}")
async def stream(
    websocket: WebSocket,
    session_id: str,
    engine: EngineDep,
    settings: SettingsDep,
    registry: RegistryDep,
    token: Annotated[str | None, Query()] = None,
) -> None:
    # Accept first: close codes and reasons only reach a browser on an open websocket.
    await websocket.accept()
    if not origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host"), settings.allowed_origins):
        await websocket.close(4403, "origin not allowed")
        return
    read_only = False
    try:
        authorize(registry, session_id, token)
    except AuthError as e:
        # A room's teacher may watch its students, and students their teacher, read-only.
        read_only = e.close_code == 4403 and room_reader(websocket, session_id, token)
        if not read_only:
            await websocket.close(e.close_code, e.detail)
            return
    subscriber = Subscriber(websocket)
    try:
        # Watch before taking the hello snapshot, so no change can fall between the two:
        # events from now on queue up behind hello and dataset.
        await asyncio.wrap_future(engine.watch(session_id, subscriber))
        hello = {
            "type": "hello",
            "id": session_id,
            "config": engine.config(session_id).model_dump(mode="json"),
            "state": engine.state(session_id).model_dump(mode="json"),
            "stream_fps": settings.stream_fps,
            "read_only": read_only,
        }
        data = await asyncio.wrap_future(engine.dataset(session_id))
        # First in line: any dataset event queued meanwhile is at least as new as this one.
        subscriber.send_first([hello, {"type": "dataset", **{k: v for k, v in data.items() if k != "type"}}])
        rooms: RoomService | None = getattr(websocket.app.state, "rooms", None)
        # A student's own stream hears of its room (locks, status); a read-only one does not.
        listening = rooms.listening(session_id, subscriber) if rooms and not read_only else nullcontext()
        async with subscriber:
            with listening:
                await _receive_commands(
                    websocket, subscriber, session_id, engine, settings, websocket.app.state.persistence, read_only
                )
    except UnknownSession:
        # Deleted between accept and hello: nothing was sent yet, so close directly.
        with suppress(RuntimeError):
            await websocket.close(4404, f"unknown session {session_id}")
    finally:
        # Not awaited: the engine drops the watcher in order with its other commands, and a
        # cancelled connection must not wait on the worker to finish cleaning up.
        engine.unwatch(session_id, subscriber)

"""The teacher's dashboard stream: `WS /ws/rooms/{code}?token=<teacher token>` (docs/protocol.md).

Server to client only: a roster frame (binary, nnplayground.frames) at Settings.roster_fps with
every student's progress and a 32×32 thumbnail of their decision boundary. A slow client gets
the roster less often (the next one is built only after the last one went out), never a backlog.
"""

import asyncio
import logging
import time
from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket
from starlette.websockets import WebSocketDisconnect

from ..rooms import RoomError, RoomService
from ..rooms.model import Room
from ..rooms.roster import roster_frame
from .deps import SettingsDep
from .rooms import client_address
from .ws import origin_allowed

log = logging.getLogger(__name__)

router = APIRouter(tags=["stream"])


async def _send_rosters(websocket: WebSocket, rooms: RoomService, room: Room, fps: float) -> None:
    seq = 0
    next_at = time.monotonic()
    while True:
        if room.status == "closed":
            await websocket.close(4410, "this room is closed")
            return
        seq += 1
        await websocket.send_bytes(await roster_frame(rooms, room, seq))
        next_at = max(next_at + 1.0 / fps, time.monotonic())
        await asyncio.sleep(next_at - time.monotonic())


async def _drain(websocket: WebSocket) -> None:
    """Read until the client goes away (it has nothing to say; whatever it sends is dropped)."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


@router.websocket("/ws/rooms/{code}")
async def dashboard(
    websocket: WebSocket, code: str, settings: SettingsDep, token: Annotated[str | None, Query()] = None
) -> None:
    await websocket.accept()  # first: close codes and reasons only reach a browser on an open socket
    if not origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host"), settings.allowed_origins):
        await websocket.close(4403, "origin not allowed")
        return
    rooms: RoomService = websocket.app.state.rooms
    try:
        room = await rooms.as_teacher(code, token, client_address(websocket))
    except RoomError as e:
        await websocket.close(e.close_code, e.message[:120])
        return
    if room.status == "closed":
        await websocket.close(4410, "this room is closed")
        return
    sender = asyncio.create_task(_send_rosters(websocket, rooms, room, settings.roster_fps))
    receiver = asyncio.create_task(_drain(websocket))
    try:
        done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            exc = task.exception()
            if exc is not None and not isinstance(exc, (WebSocketDisconnect, RuntimeError, OSError)):
                log.error("room dashboard %s failed", room.code, exc_info=exc)
                with suppress(Exception):
                    await websocket.close(1011, "internal error")
    finally:
        for task in (sender, receiver):
            task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await task

"""Websocket subscribers: a latest-wins outbox for frames, a FIFO for events, one sender task each.

The engine's worker thread calls a Subscriber's Watcher methods; they only hand data over to the
event loop (through a `LoopHandoff`) and return, so a slow or dead client never blocks training or
other clients. The sender task sends every pending event first, then the newest frame; a frame
that is replaced before it goes out is skipped. Order is kept: a frame made before an event is
sent before it (frames are skipped, never reordered), so a client never sees a frame older than
the config or dataset message it already has.
"""

import asyncio
import logging
import threading
import weakref
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any

import pydantic_core
from starlette.websockets import WebSocket, WebSocketDisconnect

log = logging.getLogger(__name__)

# A close reason must fit in a control frame: 125 bytes less the 2-byte code.
_MAX_REASON_BYTES = 123


def to_json_text(message: Any) -> str:
    """JSON text for the wire; NaN and infinities become null, which browsers can parse."""
    return pydantic_core.to_json(message, inf_nan_mode="null").decode()


def _clip_reason(reason: str) -> str:
    raw = reason.encode()
    if len(raw) <= _MAX_REASON_BYTES:
        return reason
    return raw[:_MAX_REASON_BYTES].decode(errors="ignore")


class LoopHandoff:
    """Calls from the engine's threads to the event loop, in order, many per wake-up.

    One `call_soon_threadsafe` per frame woke the loop ~2,000 times a second with a class
    watching, and each wake-up took the GIL from the training thread; a burst (a group chunk's
    frames) now costs one. Events go the same way, so nothing overtakes what was handed over first.
    """

    _by_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopHandoff]" = weakref.WeakKeyDictionary()
    _registry_lock = threading.Lock()

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._pending: list[tuple[Callable[..., None], tuple[Any, ...]]] = []

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> "LoopHandoff":
        with cls._registry_lock:
            handoff = cls._by_loop.get(loop)
            if handoff is None:
                handoff = cls._by_loop[loop] = cls(loop)
            return handoff

    def call(self, fn: Callable[..., None], *args: Any) -> None:
        """Any thread: queue fn(*args) for the loop; the first of a burst schedules the run."""
        with self._lock:
            self._pending.append((fn, args))
            if len(self._pending) > 1:
                return
        try:
            self._loop.call_soon_threadsafe(self._run)
        except RuntimeError:
            with self._lock:
                self._pending.clear()  # the loop is closed: the server is shutting down

    def _run(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for fn, args in pending:
            fn(*args)


class Subscriber:
    """One websocket watching one session; implements the engine's Watcher protocol.

    Create it on the event loop, then `async with subscriber:` runs its sender task and stops it
    on exit, whatever the way out. Messages queued before entering are sent first.
    """

    def __init__(self, websocket: WebSocket, *, max_events: int = 1000, close_timeout: float = 5.0) -> None:
        self._ws = websocket
        self._loop = asyncio.get_running_loop()
        self._handoff = LoopHandoff.of(self._loop)
        # Must-deliver messages in order: JSON events, and frames that an event overtook.
        self._events: deque[dict[str, Any] | bytes] = deque()
        self._frame: bytes | None = None
        self._close: tuple[int, str] | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._max_events = max_events
        self._close_timeout = close_timeout
        self.frames_sent = 0
        self.frames_skipped = 0

    # Watcher protocol: called from the engine's worker thread, must return at once.
    def frame(self, data: bytes) -> None:
        self._handoff.call(self._put_frame, data)

    def event(self, message: dict[str, Any]) -> None:
        self._call(self.send, message)

    def closed(self, code: int, reason: str) -> None:
        self._call(self.close, code, reason)

    def _call(self, fn: Any, *args: Any) -> None:
        self._handoff.call(fn, *args)

    # Event-loop side.
    @property
    def closing(self) -> bool:
        """True once a close was requested: nothing but the close frame goes out any more."""
        return self._close is not None

    def send(self, message: dict[str, Any]) -> None:
        """Queue a must-deliver JSON message (behind those already queued)."""
        if self._close is not None:
            return
        if len(self._events) >= self._max_events:
            # Dropping a must-deliver event would leave the client wrong without knowing it;
            # closing tells it to reconnect and start from a fresh hello.
            self.close(1013, f"client too slow: {len(self._events)} messages pending")
            return
        if self._frame is not None:
            # The pending frame predates this event: it goes out first, and is no longer
            # replaceable, since a newer frame must come after the event.
            self._events.append(self._frame)
            self._frame = None
        self._events.append(message)
        self._wake.set()

    def send_first(self, messages: list[dict[str, Any]]) -> None:
        """Queue messages ahead of everything queued so far, in the given order (hello, dataset)."""
        if self._close is not None:
            return
        self._events.extendleft(reversed(messages))
        self._wake.set()

    def close(self, code: int, reason: str) -> None:
        """Close the websocket with code and reason; what is still pending is dropped."""
        if self._close is not None:
            return
        self._close = (code, _clip_reason(reason))
        self._events.clear()
        self._frame = None
        self._wake.set()

    def _put_frame(self, data: bytes) -> None:
        if self._close is not None:
            return
        if self._frame is not None:
            self.frames_skipped += 1
        self._frame = data  # latest wins
        self._wake.set()

    async def _run(self) -> None:
        ws = self._ws
        try:
            while True:
                if self._close is not None:
                    code, reason = self._close
                    await ws.close(code, reason)
                    return
                if self._events:
                    item = self._events.popleft()
                    if isinstance(item, bytes):
                        await ws.send_bytes(item)
                        self.frames_sent += 1
                    else:
                        await ws.send_text(to_json_text(item))
                    continue
                if self._frame is not None:
                    data, self._frame = self._frame, None
                    await ws.send_bytes(data)
                    self.frames_sent += 1
                    continue
                self._wake.clear()
                await self._wake.wait()
        except (WebSocketDisconnect, RuntimeError, OSError):
            # The client went away (or the socket is already closed): the receive loop sees the
            # disconnect and ends the connection; there is nothing left to send to.
            self._close = self._close or (1006, "disconnected")
        except Exception:
            log.exception("websocket sender failed")
            self._close = (1011, "internal error")
            try:
                await ws.close(1011, "internal error")
            except Exception:  # the socket may be half-gone; the close is best effort
                pass

    async def __aenter__(self) -> "Subscriber":
        self._task = asyncio.create_task(self._run(), name="websocket-sender")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task = self._task
        if task is None:
            return
        self._task = None
        if self._close is not None and not task.done():
            # A close is next in line: give it a moment to reach the client.
            await asyncio.wait({task}, timeout=self._close_timeout)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # we are being cancelled ourselves: do not swallow it

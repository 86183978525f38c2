"""Engine: owns every session's tensors and steps them from one worker thread.

Public interface (all thread-safe; the API calls these from the event loop):
- commands return `concurrent.futures.Future`s resolved by the worker thread
  (`await asyncio.wrap_future(fut)` on the async side); a missing session raises UnknownSession;
- `state(id)` and `session_ids()` answer at once from snapshots;
- `watch(id, watcher)` registers a Watcher that receives encoded binary frames at the stream
  rate (latest wins is the watcher's job) and must-deliver events (dataset, config).
"""

from concurrent.futures import Future
from typing import Any, Protocol

from ..config import Settings
from ..schemas import SessionConfig, SessionState


class UnknownSession(KeyError):
    """No session with this id (never created, or deleted)."""


class Watcher(Protocol):
    """Receives a session's stream; called from the worker thread, must not block."""

    def frame(self, data: bytes) -> None:
        """An encoded binary frame (nnplayground.frames); a newer one may replace it unsent."""

    def event(self, message: dict[str, Any]) -> None:
        """A JSON message that must be delivered: {"type": "dataset" | "config", ...}."""

    def closed(self, code: int, reason: str) -> None:
        """The session is gone (deleted): close the stream with this code and reason."""


class Engine:
    """One per device. Sessions are created with an id chosen by the caller."""

    device_name: str  # "cpu" or "cuda:0"

    def __init__(self, settings: Settings) -> None: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...

    def create_session(self, session_id: str, config: SessionConfig) -> "Future[SessionState]": ...
    def delete_session(self, session_id: str) -> "Future[None]": ...
    def configure(self, session_id: str, config: SessionConfig) -> "Future[SessionState]":
        """Apply a full, validated config: live for rates, re-initialise otherwise."""
    def play(self, session_id: str) -> "Future[SessionState]": ...
    def pause(self, session_id: str) -> "Future[SessionState]": ...
    def reset(self, session_id: str) -> "Future[SessionState]": ...
    def step(self, session_id: str) -> "Future[SessionState]":
        """Train one epoch; resolves when it is done."""
    def train(self, session_id: str, epochs: int) -> "Future[SessionState]":
        """Train `epochs` more epochs; resolves when done (session keeps its play/pause state)."""

    def state(self, session_id: str) -> SessionState: ...
    def config(self, session_id: str) -> SessionConfig: ...
    def session_ids(self) -> list[str]: ...

    def history(self, session_id: str) -> "Future[dict[str, list[float]]]": ...
    def grid(self, session_id: str, resolution: int) -> "Future[dict[str, Any]]": ...
    def metrics(self, session_id: str) -> "Future[dict[str, Any]]": ...
    def dataset(self, session_id: str) -> "Future[dict[str, Any]]": ...

    def watch(self, session_id: str, watcher: Watcher) -> None:
        """Start streaming to watcher: it gets hello-independent events and frames."""
    def unwatch(self, session_id: str, watcher: Watcher) -> None: ...

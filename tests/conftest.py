"""Shared fixtures: settings, an in-process client (lifespan runs), and a real uvicorn server."""

import os
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

with warnings.catch_warnings():
    # starlette warns (once, at import) that its TestClient will move to httpx2; it works the same.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

# One process hosts many servers here: none freezes the collector's objects (engine/collector.py),
# unless a test asks (Settings.gc_freeze).
os.environ.setdefault("NNPG_GC_FREEZE", "false")
# Nor does a lone session compile a step of its own: many tests compare runs exactly, and its
# graph would take over at a moment the compile decides (tests/unit/test_compiled_step.py turns it on).
os.environ.setdefault("NNPG_COMPILE_LONE", "false")

from nnplayground.app import create_app
from nnplayground.config import Settings


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for tests: their own data dir; device and the rest from defaults / NNPG_* env."""
    return Settings(data_dir=data_dir, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """An in-process client; as a context manager, so the lifespan starts and stops the engine."""
    with TestClient(create_app(settings)) as c:
        yield c


@dataclass
class SessionHandle:
    """A created session: its id, the headers that carry its token, and the 201 answer."""

    id: str
    token: str
    created: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def new_session(client: TestClient) -> Callable[..., SessionHandle]:
    """Factory: new_session(config_dict=None, client=client) creates a session and checks the 201."""

    def make(config: dict[str, Any] | None = None, via: TestClient | None = None) -> SessionHandle:
        r = (via or client).post("/api/sessions", json=config or {})
        assert r.status_code == 201, r.text
        body = r.json()
        return SessionHandle(body["id"], body["token"], body)

    return make


class LiveServer:
    """uvicorn serving create_app(settings) from a background thread, on a socket bound up front."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Binding here, not in uvicorn, means the port is known before start and cannot be taken.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings),
            log_level="warning",
            lifespan="on",
            ws_per_message_deflate=False,  # as in production: frames are already compressed
            loop=settings.event_loop,  # as in production: uvloop where it is installed
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="live-server", daemon=True
        )

    def start(self, timeout: float = 60.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the live server stopped during start-up; see the log above")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the live server did not start within {timeout} s")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()


@pytest.fixture(scope="session")
def live_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # Every test of the run creates sessions from 127.0.0.1: room for them all under one client.
    return make_settings(
        tmp_path_factory.mktemp("live") / "data", max_sessions=500, max_sessions_per_client=500
    )


@pytest.fixture(scope="session")
def live_server(live_settings: Settings) -> Iterator[str]:
    """Base URL (http://127.0.0.1:PORT) of a real uvicorn server, shared by the whole test run."""
    server = LiveServer(live_settings)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()

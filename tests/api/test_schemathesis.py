"""Schemathesis against the live OpenAPI schema of a real uvicorn server: every operation, no 5xx.

The cases come from the schema the running server serves at `/openapi.json`, positive and negative. Most
are sent with a real session's bearer token and, where the path names a session (or a run), that session's
id (or its run's), so that generated bodies and query strings reach the handlers instead of stopping at
401/404; the rest go as drawn, so the refusals are exercised too. The server runs with a small
`max_epochs_per_train` so that generated `train` calls stay short, and no `join_failure_delay_seconds` so
that room routes answer made-up codes at once; every other limit is the default.
"""

import random
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from nnplayground.app import create_app
from nnplayground.config import Settings

MAX_EXAMPLES = 15  # per operation, half positive and half negative on average
UNTOUCHED_SHARE = 0.1  # cases sent as drawn: no token, or a made-up session id
SMALL_SESSION = {"data": {"num_points": 40}}


class _Server:
    """create_app(settings) under uvicorn, on a port bound up front, in a background thread.

    Like conftest's LiveServer, but with settings of its own (conftest cannot be imported by name here:
    tests/e2e has a conftest too).
    """

    def __init__(self, settings: Settings) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on", ws_per_message_deflate=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def __enter__(self) -> "_Server":
        self._thread.start()
        started = threading.Event()
        for _ in range(6000):  # up to a minute of 10 ms waits; no assertion depends on it
            if self._server.started or not self._thread.is_alive():
                break
            started.wait(0.01)
        if not self._server.started:
            raise RuntimeError("the server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()


@pytest.fixture(scope="module")
def schema_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("schemathesis") / "data"
    # No slow-failure delay: the room routes are fuzzed with made-up codes, each would wait a second.
    server_settings = Settings(
        data_dir=data_dir, max_epochs_per_train=20, max_sessions=1000, max_sessions_per_client=1000,
        join_failure_delay_seconds=0.0,
    )  # type: ignore[arg-type]
    with _Server(server_settings) as server:
        yield server.url


def _app_schema() -> dict[str, Any]:
    """The app's OpenAPI document, built without starting it (no engine, nothing written)."""
    unused = Path(tempfile.gettempdir()) / "nnplayground-schemathesis-unused"
    return create_app(Settings(data_dir=unused)).openapi()  # type: ignore[arg-type]


# Read at import only to name one test per operation; the cases come from the live server's schema.
APP_SCHEMA = _app_schema()
OPERATIONS = [
    (method.upper(), path)
    for path, item in APP_SCHEMA["paths"].items()
    for method in item
    if method in ("get", "put", "post", "patch", "delete")
]


@pytest.fixture(scope="module")
def live_schema(schema_server: str) -> Any:
    return schemathesis.openapi.from_url(f"{schema_server}/openapi.json")


class Sessions:
    """The session every case is aimed at; made again when a case deleted it."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, trust_env=False, timeout=120)
        self.made: list[dict[str, Any]] = []
        self.current = self._make()

    def _make(self) -> dict[str, Any]:
        r = self.http.post("/api/sessions", json=SMALL_SESSION)
        assert r.status_code == 201, r.text
        self.made.append(r.json())
        return r.json()

    def run_id(self) -> str:
        """A past run of the current session (made by training an epoch and resetting), for /api/runs/{run_id}."""
        headers = self.headers()
        sid = self.current["id"]
        runs = self.http.get(f"/api/sessions/{sid}/runs", headers=headers).json()["runs"]
        if not runs:
            assert self.http.post(f"/api/sessions/{sid}/step", headers=headers).status_code == 200
            assert self.http.post(f"/api/sessions/{sid}/reset", headers=headers).status_code == 200
            runs = self.http.get(f"/api/sessions/{sid}/runs", headers=headers).json()["runs"]
        assert runs, "a reset after an epoch of training should end a run"
        return runs[0]["id"]

    def live(self) -> dict[str, Any]:
        if self.http.get(f"/api/sessions/{self.current['id']}", headers=self.headers()).status_code == 404:
            self.current = self._make()
        return self.current

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.current['token']}"}

    def close(self) -> None:
        for s in self.made:
            self.http.delete(f"/api/sessions/{s['id']}", headers={"Authorization": f"Bearer {s['token']}"})
        self.http.close()


@pytest.fixture
def sessions(schema_server: str) -> Iterator[Sessions]:
    """A session per operation, so one operation's cases (a PATCH to 2,000 points) do not slow the next's."""
    s = Sessions(schema_server)
    yield s
    s.close()


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_operation_answers_5xx(method: str, path: str, schema_server: str, live_schema: Any,
                                  sessions: Sessions) -> None:
    operation = live_schema[path][method]
    documented = set(APP_SCHEMA["paths"][path][method.lower()].get("responses", {}))
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))
    rng = random.Random(f"{method} {path}")  # seeded: the same cases are authorised on every run

    @given(case=cases)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        session = sessions.live()
        if rng.random() >= UNTOUCHED_SHARE:
            # Into the case itself: headers the case drew (negative cases draw a bad Authorization) win over
            # headers passed to call().
            case.headers = {**(case.headers or {}), **sessions.headers()}
            if case.path_parameters and "session_id" in case.path_parameters:
                case.path_parameters["session_id"] = session["id"]
            if case.path_parameters and "run_id" in case.path_parameters:
                case.path_parameters["run_id"] = sessions.run_id()
        response = case.call(base_url=schema_server)
        code = response.status_code
        # 5xx only where the schema documents it (501: an export format whose optional package is missing).
        assert code < 500 or str(code) in documented, f"{code} {response.text[:500]}\n{case.as_curl_command()}"

    run()


def test_the_live_schema_is_the_one_tested(schema_server: str) -> None:
    """The cases above come from the very document the running server serves at /openapi.json."""
    live = httpx.get(f"{schema_server}/openapi.json", trust_env=False, timeout=60)
    assert live.status_code == 200
    assert live.json() == APP_SCHEMA
    operations = [r.ok() for r in schemathesis.openapi.from_dict(live.json()).get_all_operations()]
    names = {f"{op.method.upper()} {op.path}" for op in operations}
    assert names == {f"{m} {p}" for m, p in OPERATIONS}
    assert {"GET /api/health", "POST /api/sessions", "PATCH /api/sessions/{session_id}",
            "POST /api/sessions/{session_id}/train", "DELETE /api/sessions/{session_id}"} <= names

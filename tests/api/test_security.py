"""Security measures of docs/security.md.

Origin checks on the session websocket: a page from another site cannot open a session's stream from a
visitor's browser, even with the token; the server's own pages, tools that send no Origin, and origins listed
in Settings.allowed_origins can. Tokens are redacted from the server's logs, and uvicorn buffers no websocket
message much larger than the app's limit.
"""

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from nnplayground.__main__ import log_config, serve
from nnplayground.api.ws import origin_allowed
from nnplayground.app import create_app
from nnplayground.config import Settings

RECV_TIMEOUT = 30.0  # only so that a bug fails instead of hanging


@pytest.fixture
def live_session(live_server: str) -> Iterator[dict]:
    with httpx.Client(base_url=live_server, trust_env=False, timeout=60) as http:
        r = http.post("/api/sessions", json={"data": {"num_points": 40}})
        assert r.status_code == 201, r.text
        session = r.json()
        yield session
        http.delete(f"/api/sessions/{session['id']}", headers={"Authorization": f"Bearer {session['token']}"})


def first_message_or_close(live_server: str, session: dict, origin: str | None) -> dict | tuple[int, str]:
    """The first JSON message of a stream opened with this Origin header, or the close (code, reason)."""
    uri = live_server.replace("http://", "ws://", 1) + f"/ws/sessions/{session['id']}?token={session['token']}"
    headers = {"Origin": origin} if origin is not None else None
    with connect(uri, compression=None, proxy=None, open_timeout=RECV_TIMEOUT, additional_headers=headers) as ws:
        try:
            return json.loads(ws.recv(timeout=RECV_TIMEOUT))
        except ConnectionClosed as e:
            assert e.rcvd is not None
            return e.rcvd.code, e.rcvd.reason


def test_no_origin_and_the_servers_own_origin_are_accepted(live_server, live_session):
    assert first_message_or_close(live_server, live_session, None)["type"] == "hello"
    assert first_message_or_close(live_server, live_session, live_server)["type"] == "hello"
    assert first_message_or_close(live_server, live_session, live_server.upper() + "/")["type"] == "hello"


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "http://127.0.0.1:1", "null", "file://", "http://127.0.0.1.evil.example", "garbage"],
)
def test_another_origin_closes_4403_even_with_the_right_token(live_server, live_session, origin):
    assert first_message_or_close(live_server, live_session, origin) == (4403, "origin not allowed")


def test_allowed_origins_from_settings(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "data", allowed_origins=["https://class.example.org/"])  # type: ignore[arg-type]
    with TestClient(create_app(settings)) as c:
        s = c.post("/api/sessions", json={"data": {"num_points": 40}}).json()
        url = f"/ws/sessions/{s['id']}?token={s['token']}"
        for origin in ("https://class.example.org", "HTTPS://CLASS.EXAMPLE.ORG", "http://testserver"):
            with c.websocket_connect(url, headers={"origin": origin}) as ws:
                assert ws.receive_json()["type"] == "hello"
        with c.websocket_connect(url, headers={"origin": "https://other.example.org"}) as ws:
            with pytest.raises(WebSocketDisconnect) as info:
                ws.receive_json()
            assert (info.value.code, info.value.reason) == (4403, "origin not allowed")


def test_origin_is_checked_before_the_token(live_server, live_session):
    """A foreign page learns nothing about tokens or session ids: its origin is refused first."""
    unknown = {"id": "no-such-session", "token": "guess"}
    assert first_message_or_close(live_server, unknown, "https://evil.example") == (4403, "origin not allowed")
    assert first_message_or_close(live_server, unknown, None)[0] == 4404


def test_origin_rules():
    assert not origin_allowed("https://evil.example", "127.0.0.1:8000", [])
    assert origin_allowed("https://anything.example", "127.0.0.1:8000", ["*"])
    assert origin_allowed("https://127.0.0.1:8000", "127.0.0.1:8000", [])  # TLS proxy in front: scheme ignored
    assert not origin_allowed("ws://127.0.0.1:8000", "127.0.0.1:8000", [])
    assert not origin_allowed("http://127.0.0.1:8000", None, [])


def test_allowed_origins_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NNPG_ALLOWED_ORIGINS", '["https://a.example", "https://b.example"]')
    assert Settings(data_dir=tmp_path).allowed_origins == ["https://a.example", "https://b.example"]  # type: ignore[arg-type]


# ---- tokens stay out of logs; websocket buffering is bounded -----------------------------------------------

def test_tokens_in_websocket_urls_are_redacted_from_uvicorns_logs():
    config = log_config()
    assert all("redact_tokens" in h["filters"] for h in config["handlers"].values())
    redact = config["filters"]["redact_tokens"]["()"]()
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" [accepted]',
                               ("127.0.0.1:5000", "/ws/sessions/abc?token=s3cr3t-T0ken_x&x=1"), None)
    assert redact.filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "WebSocket /ws/sessions/abc?token=[redacted]&x=1" [accepted]'


def test_serve_bounds_what_uvicorn_buffers_per_websocket_message(monkeypatch, tmp_path):
    seen: dict = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: seen.update(kwargs))
    serve(Settings(data_dir=tmp_path, max_message_bytes=10_000))  # type: ignore[arg-type]
    assert seen["ws_max_size"] == 20_000
    assert "redact_tokens" in seen["log_config"]["filters"]

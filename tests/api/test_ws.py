"""The session websocket (docs/protocol.md) against a real uvicorn server and the `websockets` client.

Receives have a generous timeout only so that a bug fails the test instead of hanging it; no
assertion depends on how fast anything happens.
"""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from nnplayground.frames import Frame, decode_frame

RECV_TIMEOUT = 30.0
MAX_MESSAGES = 2000  # messages read while waiting for something before giving up


@pytest.fixture
def http(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, trust_env=False, timeout=60) as c:
        yield c


Session = dict[str, Any]


@pytest.fixture
def new_live_session(http: httpx.Client) -> Iterator[Callable[..., Session]]:
    """Factory for sessions on the live server; they are deleted after the test."""
    made: list[Session] = []

    def make(config: dict[str, Any] | None = None) -> Session:
        r = http.post("/api/sessions", json=config or {})
        assert r.status_code == 201, r.text
        made.append(r.json())
        return r.json()

    yield make
    for s in made:
        http.delete(f"/api/sessions/{s['id']}", headers=auth(s))


def auth(session: Session) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['token']}"}


def open_ws(live_server: str, session_id: str, token: str | None) -> ClientConnection:
    query = f"?token={token}" if token is not None else ""
    uri = live_server.replace("http://", "ws://", 1) + f"/ws/sessions/{session_id}{query}"
    # compression=None as a browser would negotiate with our server; proxy=None: local only.
    return connect(uri, compression=None, proxy=None, open_timeout=RECV_TIMEOUT, max_size=None)


@contextmanager
def stream(live_server: str, session: Session) -> Iterator[ClientConnection]:
    """An open stream with hello and dataset already read (and checked to come first)."""
    with open_ws(live_server, session["id"], session["token"]) as ws:
        assert json.loads(ws.recv(timeout=RECV_TIMEOUT))["type"] == "hello"
        assert json.loads(ws.recv(timeout=RECV_TIMEOUT))["type"] == "dataset"
        yield ws


def next_frame(ws: ClientConnection, events: list[dict[str, Any]] | None = None) -> Frame:
    """The next binary frame, decoded; JSON messages on the way go to `events`."""
    for _ in range(MAX_MESSAGES):
        message = ws.recv(timeout=RECV_TIMEOUT)
        if isinstance(message, bytes):
            return decode_frame(message)
        if events is not None:
            events.append(json.loads(message))
    raise AssertionError(f"no frame in {MAX_MESSAGES} messages")


def frame_where(ws: ClientConnection, predicate: Callable[[Frame], bool]) -> Frame:
    for _ in range(MAX_MESSAGES):
        frame = next_frame(ws)
        if predicate(frame):
            return frame
    raise AssertionError(f"no matching frame in {MAX_MESSAGES} frames")


def next_json(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next JSON message of type `kind`, skipping frames (and checking no error comes instead)."""
    for _ in range(MAX_MESSAGES):
        message = ws.recv(timeout=RECV_TIMEOUT)
        if isinstance(message, bytes):
            continue
        data = json.loads(message)
        if data["type"] == kind:
            return data
        assert data["type"] != "error", data
    raise AssertionError(f"no {kind} message in {MAX_MESSAGES} messages")


def close_of(ws: ClientConnection) -> tuple[int, str]:
    """Read until the server closes; its close code and reason."""
    with pytest.raises(ConnectionClosed) as info:
        for _ in range(MAX_MESSAGES):
            ws.recv(timeout=RECV_TIMEOUT)
    rcvd = info.value.rcvd
    assert rcvd is not None, "closed without a close frame"
    return rcvd.code, rcvd.reason


def epoch(frame: Frame) -> int:
    return frame.header["state"]["epoch"]


# ---- the opening ---------------------------------------------------------------------------------


def test_hello_then_dataset_then_decodable_frames(live_server, live_settings, new_live_session):
    s = new_live_session({"data": {"num_points": 200, "train_ratio": 0.6}})
    with open_ws(live_server, s["id"], s["token"]) as ws:
        hello = json.loads(ws.recv(timeout=RECV_TIMEOUT))
        assert hello["type"] == "hello" and hello["id"] == s["id"]
        assert hello["config"] == s["config"]
        assert hello["state"]["epoch"] == 0 and hello["state"]["running"] is False
        assert hello["stream_fps"] == live_settings.stream_fps
        dataset = json.loads(ws.recv(timeout=RECV_TIMEOUT))
        assert dataset["type"] == "dataset"
        assert len(dataset["train"]["x"]) == len(dataset["train"]["y"]) == 120
        assert len(dataset["test"]["x"]) == len(dataset["test"]["y"]) == 80
        raw = ws.recv(timeout=RECV_TIMEOUT)
        assert isinstance(raw, bytes)
        frame = decode_frame(raw)
        h = frame.header
        assert h["type"] == "frame" and h["id"] == s["id"]
        assert h["data_version"] == dataset["version"]
        assert h["state"]["epoch"] == 0
        res = live_settings.grid_resolution
        assert h["grid"]["resolution"] == res and h["grid"]["value_range"] == [0, 1]
        assert frame.arrays["grid"].shape == (res, res) and frame.arrays["grid"].dtype.name == "uint8"
        assert frame.arrays["history"].shape == (3, h["history"]["length"])
        assert sum(map(sum, h["confusion"]["train"])) == 120
        assert sum(map(sum, h["confusion"]["test"])) == 80


def test_play_advances_epochs_across_frames(live_server, new_live_session, http):
    s = new_live_session()
    with stream(live_server, s) as ws:
        ws.send(json.dumps({"type": "play"}))
        first = frame_where(ws, lambda f: f.header["state"]["running"] and epoch(f) > 0)
        later = frame_where(ws, lambda f: epoch(f) > epoch(first))
        assert later.header["seq"] > first.header["seq"]
        history = later.arrays["history"]
        assert history.shape[1] == later.header["history"]["length"] >= 1
        assert history[0, -1] <= epoch(later)  # rows: epoch, train loss, test loss
        ws.send(json.dumps({"type": "pause"}))
        paused = frame_where(ws, lambda f: not f.header["state"]["running"])
        state = http.get(f"/api/sessions/{s['id']}", headers=auth(s)).json()["state"]
        assert state["running"] is False and state["epoch"] >= epoch(paused)


def test_step_and_reset_commands(live_server, new_live_session):
    s = new_live_session()
    with stream(live_server, s) as ws:
        for _ in range(3):
            ws.send(json.dumps({"type": "step"}))
        assert epoch(frame_where(ws, lambda f: epoch(f) == 3)) == 3
        ws.send(json.dumps({"type": "reset"}))
        config = next_json(ws, "config")
        assert config["state"]["epoch"] == 0
        after = next_frame(ws)
        assert epoch(after) == 0 and after.header["history"]["length"] == 0


# ---- configuration ---------------------------------------------------------------------------------


def test_update_learning_rate_is_announced_and_shown_in_later_frames(live_server, new_live_session, http):
    s = new_live_session()
    with stream(live_server, s) as ws:
        ws.send(json.dumps({"type": "step"}))
        frame_where(ws, lambda f: epoch(f) == 1)
        ws.send(json.dumps({"type": "update", "config": {"training": {"learning_rate": 0.1}}}))
        config = next_json(ws, "config")
        assert config["config"]["training"]["learning_rate"] == 0.1
        assert config["state"]["learning_rate"] == 0.1
        assert config["state"]["epoch"] == 1  # applied live
        # Frames never arrive out of order with events: every later frame shows the new rate.
        for _ in range(2):
            assert next_frame(ws).header["state"]["learning_rate"] == 0.1
            ws.send(json.dumps({"type": "step"}))
        assert http.get(f"/api/sessions/{s['id']}", headers=auth(s)).json()["config"]["training"][
            "learning_rate"
        ] == 0.1


def test_update_of_data_sends_the_new_dataset(live_server, new_live_session):
    s = new_live_session()
    with stream(live_server, s) as ws:
        ws.send(json.dumps({"type": "update", "config": {"data": {"dataset": "xor", "num_points": 100}}}))
        dataset = next_json(ws, "dataset")
        assert dataset["version"] == 2
        assert len(dataset["train"]["x"]) + len(dataset["test"]["x"]) == 100
        config = next_json(ws, "config")
        assert config["config"]["data"]["dataset"] == "xor" and config["state"]["epoch"] == 0
        # Frames after the new data refer to it.
        assert next_frame(ws).header["data_version"] == 2


def test_rest_changes_reach_every_watcher(live_server, new_live_session, http):
    s = new_live_session()
    with stream(live_server, s) as one, stream(live_server, s) as two:
        r = http.patch(f"/api/sessions/{s['id']}", json={"network": {"activation": "relu"}}, headers=auth(s))
        assert r.status_code == 200
        for ws in (one, two):
            assert next_json(ws, "config")["config"]["network"]["activation"] == "relu"


# ---- bad input keeps the connection ------------------------------------------------------------------


def test_bad_json_gets_an_error_and_the_stream_goes_on(live_server, new_live_session):
    s = new_live_session()
    with stream(live_server, s) as ws:
        ws.send("{not json")
        error = next_json(ws, "error")
        assert "invalid JSON" in error["message"] and error["loc"] == []
        ws.send(json.dumps({"type": "step"}))
        assert epoch(frame_where(ws, lambda f: epoch(f) == 1)) == 1


@pytest.mark.parametrize(
    ("command", "loc", "hint"),
    [
        ({"type": "jump"}, ["type"], "jump"),
        ({"kind": "play"}, ["type"], "type"),
        ({"type": "play", "speed": 2}, ["speed"], "Extra"),
        ({"type": "update"}, ["config"], "required"),
        ({"type": "update", "config": {"network": {"hidden_layers": [9]}}}, ["config", "network", "hidden_layers", 0],
         "1 to 8"),
        ({"type": "update", "config": {"training": {"learning_rate": -1}}}, ["config", "training", "learning_rate"],
         "greater than 0"),
        ([1, 2, 3], [], "object"),
    ],
)
def test_invalid_commands_get_an_error_naming_the_field(live_server, new_live_session, command, loc, hint):
    s = new_live_session()
    with stream(live_server, s) as ws:
        ws.send(json.dumps(command))
        error = next_json(ws, "error")
        assert error["loc"] == loc
        assert hint in error["message"]
        ws.send(json.dumps({"type": "update", "config": {"training": {"learning_rate": 0.3}}}))
        assert next_json(ws, "config")["config"]["training"]["learning_rate"] == 0.3


def test_binary_message_gets_an_error(live_server, new_live_session):
    s = new_live_session()
    with stream(live_server, s) as ws:
        ws.send(b"\x00\x01binary")
        assert "binary" in next_json(ws, "error")["message"]
        ws.send(json.dumps({"type": "step"}))
        assert epoch(frame_where(ws, lambda f: epoch(f) == 1)) == 1


def test_oversized_message_closes_with_1009(live_server, live_settings, new_live_session):
    s = new_live_session()
    with stream(live_server, s) as ws:
        padding = "x" * live_settings.max_message_bytes
        ws.send(json.dumps({"type": "update", "config": {"padding": padding}}))
        code, reason = close_of(ws)
        assert code == 1009
        assert str(live_settings.max_message_bytes) in reason


# ---- refusals and endings ----------------------------------------------------------------------------


def test_missing_token_closes_4401(live_server, new_live_session):
    s = new_live_session()
    with open_ws(live_server, s["id"], None) as ws:
        assert close_of(ws) == (4401, "missing token")


def test_wrong_token_closes_4403(live_server, new_live_session):
    s, other = new_live_session(), new_live_session()
    with open_ws(live_server, s["id"], other["token"]) as ws:
        assert close_of(ws) == (4403, "wrong token")


def test_unknown_session_closes_4404(live_server, new_live_session):
    s = new_live_session()
    with open_ws(live_server, "no-such-session", s["token"]) as ws:
        assert close_of(ws) == (4404, "unknown session no-such-session")


def test_deleting_the_session_closes_its_streams_4404(live_server, new_live_session, http):
    s = new_live_session()
    with stream(live_server, s) as ws:
        assert http.delete(f"/api/sessions/{s['id']}", headers=auth(s)).status_code == 204
        code, _ = close_of(ws)
        assert code == 4404


# ---- size and concurrency ----------------------------------------------------------------------------


def test_a_100x100_frame_is_under_16_kb(live_server, live_settings, new_live_session, http):
    assert live_settings.grid_resolution == 100
    s = new_live_session({"data": {"dataset": "spiral", "noise": 20}, "network": {"hidden_layers": [8, 8, 8]}})
    http.post(f"/api/sessions/{s['id']}/train", json={"epochs": 50}, headers=auth(s))
    with stream(live_server, s) as ws:
        raw = ws.recv(timeout=RECV_TIMEOUT)
        assert isinstance(raw, bytes)
        frame = decode_frame(raw)
        assert frame.arrays["grid"].shape == (100, 100)
        assert frame.header["history"]["length"] == 50
        assert len(raw) < 16 * 1024


def test_two_sessions_stream_at_once(live_server, new_live_session):
    a = new_live_session()
    b = new_live_session({"data": {"dataset": "xor"}, "network": {"hidden_layers": [3]}})
    with stream(live_server, a) as wa, stream(live_server, b) as wb:
        wa.send(json.dumps({"type": "play"}))
        wb.send(json.dumps({"type": "play"}))
        wa.send(json.dumps({"type": "update", "config": {"training": {"learning_rate": 0.3}}}))
        fa = frame_where(wa, lambda f: epoch(f) > 2 and f.header["state"]["learning_rate"] == 0.3)
        fb = frame_where(wb, lambda f: epoch(f) > 2)
        assert fa.header["id"] == a["id"] and fb.header["id"] == b["id"]
        assert fb.header["state"]["learning_rate"] == 0.03  # a's change stayed with a
        wa.send(json.dumps({"type": "pause"}))
        frame_where(wa, lambda f: not f.header["state"]["running"])
        # b trains on while a is paused.
        gb = frame_where(wb, lambda f: epoch(f) > epoch(fb))
        assert gb.header["state"]["running"] is True and gb.header["id"] == b["id"]
        wb.send(json.dumps({"type": "pause"}))


def test_lr_range_test_streams_progress_then_a_suggestion(live_server, new_live_session):
    s = new_live_session({"data": {"dataset": "xor"}})
    with stream(live_server, s) as ws:
        ws.send(json.dumps({"type": "lr_range_test", "start": 1e-5, "end": 10, "steps": 60}))
        updates = []
        for _ in range(MAX_MESSAGES):
            message = ws.recv(timeout=RECV_TIMEOUT)
            if isinstance(message, str) and json.loads(message)["type"] == "lr_range_test":
                updates.append(json.loads(message))
                if updates[-1]["done"]:
                    break
        assert updates[-1]["done"] and updates[-1]["suggested"] > 0
        assert any(not u["done"] for u in updates)  # progress came before the end
        ws.send(json.dumps({"type": "lr_range_test", "start": 1, "end": 0.1}))
        errors = []
        for _ in range(MAX_MESSAGES):
            message = ws.recv(timeout=RECV_TIMEOUT)
            if isinstance(message, str) and json.loads(message)["type"] == "error":
                errors.append(json.loads(message))
                break
        assert "end" in errors[0]["message"]

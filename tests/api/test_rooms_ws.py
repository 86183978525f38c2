"""Room websockets on a real uvicorn server: the teacher's dashboard (roster frames, close codes),
read-only streams (teacher watching a student, a student following the teacher), and `room`
messages and locks on a student's own stream. No assertion depends on timing; receives only have
a generous timeout so that a bug fails instead of hanging."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from nnplayground.frames import decode_frame

RECV_TIMEOUT = 30.0
MAX_MESSAGES = 2000


@pytest.fixture
def http(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, trust_env=False, timeout=60) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def room(http: httpx.Client) -> Iterator[dict[str, Any]]:
    """A room with two students (Ana trained 2 epochs); closed after the test."""
    created = http.post("/api/rooms", json={"name": "ws", "locked": ["training.learning_rate"]}).json()
    code = created["code"]
    students = [http.post(f"/api/rooms/{code}/join", json={"nickname": n}).json() for n in ("Ana", "Bo")]
    ana = students[0]
    http.post(f"/api/sessions/{ana['session_id']}/train", json={"epochs": 2}, headers=bearer(ana["token"]))
    yield {"code": code, "token": created["teacher_token"], "teacher_session": created["room"]["teacher_session_id"],
           "students": students}
    http.delete(f"/api/rooms/{code}", headers=bearer(created["teacher_token"]))
    for s in students:
        http.delete(f"/api/sessions/{s['session_id']}", headers=bearer(s["token"]))


def ws_url(live_server: str, path: str, token: str | None) -> str:
    query = f"?token={token}" if token is not None else ""
    return live_server.replace("http://", "ws://", 1) + path + query


def open_ws(live_server: str, path: str, token: str | None, origin: str | None = None) -> ClientConnection:
    return connect(
        ws_url(live_server, path, token), compression=None, proxy=None, open_timeout=RECV_TIMEOUT, max_size=None,
        origin=origin,  # type: ignore[arg-type]
    )


def close_of(ws: ClientConnection) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as info:
        for _ in range(MAX_MESSAGES):
            ws.recv(timeout=RECV_TIMEOUT)
    rcvd = info.value.rcvd
    assert rcvd is not None, "closed without a close frame"
    return rcvd.code, rcvd.reason


def next_json(ws: ClientConnection, kind: str) -> dict[str, Any]:
    for _ in range(MAX_MESSAGES):
        message = ws.recv(timeout=RECV_TIMEOUT)
        if isinstance(message, bytes):
            continue
        data = json.loads(message)
        if data["type"] == kind:
            return data
    raise AssertionError(f"no {kind} message in {MAX_MESSAGES} messages")


def next_frame(ws: ClientConnection) -> Any:
    for _ in range(MAX_MESSAGES):
        message = ws.recv(timeout=RECV_TIMEOUT)
        if isinstance(message, bytes):
            return decode_frame(message)
    raise AssertionError("no frame")


def test_dashboard_streams_roster_frames_with_thumbnails(live_server, room) -> None:
    with open_ws(live_server, f"/ws/rooms/{room['code']}", room["token"]) as ws:
        first, second = next_frame(ws), next_frame(ws)
    header = first.header
    assert header["type"] == "roster" and second.header["seq"] == header["seq"] + 1
    assert header["room"]["code"] == room["code"] and "students" not in header["room"]
    assert header["room"]["locked"] == ["training.learning_rate"]
    students = header["students"]
    assert [(s["nickname"], s["session_id"], s["epoch"]) for s in students] == [
        ("Ana", room["students"][0]["session_id"], 2), ("Bo", room["students"][1]["session_id"], 0),
    ]
    assert [s["thumbnail"] for s in students] == [0, 1]
    assert [(s["thumbnail_kind"], s["classes"]) for s in students] == [("probability", 2)] * 2
    thumbnails = first.arrays["thumbnails"]
    assert thumbnails.shape == (2, 32, 32) and thumbnails.dtype.name == "uint8"
    assert students[0]["test_accuracy"] is not None and students[1]["test_accuracy"] is None


@pytest.mark.parametrize(("who", "expected"), [(None, 4401), ("student", 4403), ("other", 4403)])
def test_dashboard_refuses_other_tokens(live_server, http, room, who, expected) -> None:
    other = http.post("/api/sessions", json={}).json()
    token = {None: None, "student": room["students"][0]["token"], "other": other["token"]}[who]
    with open_ws(live_server, f"/ws/rooms/{room['code']}", token) as ws:
        assert close_of(ws)[0] == expected
    http.delete(f"/api/sessions/{other['id']}", headers=bearer(other["token"]))


def test_dashboard_closes_4404_for_unknown_rooms_and_4403_for_foreign_origins(live_server, room) -> None:
    with open_ws(live_server, "/ws/rooms/AAAAAA", room["token"]) as ws:
        assert close_of(ws) == (4404, "no room with code AAAAAA")
    with open_ws(live_server, f"/ws/rooms/{room['code']}", room["token"], origin="https://evil.example") as ws:
        assert close_of(ws) == (4403, "origin not allowed")


def test_closing_the_room_closes_the_dashboard_and_tells_students(live_server, http, room) -> None:
    ana = room["students"][0]
    with open_ws(live_server, f"/ws/rooms/{room['code']}", room["token"]) as dash, \
            open_ws(live_server, f"/ws/sessions/{ana['session_id']}", ana["token"]) as own:
        next_frame(dash)
        assert next_json(own, "room")["status"] == "open"
        http.delete(f"/api/rooms/{room['code']}", headers=bearer(room["token"]))
        assert next_json(own, "room")["status"] == "closed"
        assert close_of(dash) == (4410, "this room is closed")
    with open_ws(live_server, f"/ws/rooms/{room['code']}", room["token"]) as ws:
        assert close_of(ws)[0] == 4410


def test_a_students_stream_hears_locks_and_refuses_locked_updates(live_server, http, room) -> None:
    ana = room["students"][0]
    with open_ws(live_server, f"/ws/sessions/{ana['session_id']}", ana["token"]) as ws:
        hello = json.loads(ws.recv(timeout=RECV_TIMEOUT))
        assert hello["type"] == "hello" and hello["read_only"] is False
        first = next_json(ws, "room")
        assert first["locked"] == ["training.learning_rate"] and first["code"] == room["code"]
        ws.send(json.dumps({"type": "update", "config": {"training": {"learning_rate": 0.3}}}))
        error = next_json(ws, "error")
        assert error == {"type": "error", "code": 403, "message": "the teacher locked Learning rate", "loc": []}
        http.put(f"/api/rooms/{room['code']}/locked", json={"locked": ["data"]}, headers=bearer(room["token"]))
        assert next_json(ws, "room")["locked"] == ["data"]
        ws.send(json.dumps({"type": "update", "config": {"training": {"learning_rate": 0.3}}}))
        assert next_json(ws, "config")["config"]["training"]["learning_rate"] == 0.3  # the stream stayed open


@pytest.mark.parametrize("direction", ["teacher_watches_student", "student_follows_teacher"])
def test_read_only_streams_refuse_commands_and_stay_open(live_server, http, room, direction) -> None:
    ana = room["students"][0]
    if direction == "teacher_watches_student":
        session, token, owner_token = ana["session_id"], room["token"], ana["token"]
    else:
        session, token, owner_token = room["teacher_session"], ana["token"], room["token"]
    with open_ws(live_server, f"/ws/sessions/{session}", token) as ws:
        hello = json.loads(ws.recv(timeout=RECV_TIMEOUT))
        assert hello["type"] == "hello" and hello["id"] == session and hello["read_only"] is True
        for command in ({"type": "play"}, {"type": "reset"}, {"type": "update", "config": {}}):
            ws.send(json.dumps(command))
            error = next_json(ws, "error")
            assert error["code"] == 403 and error["message"].startswith("read-only stream")
        # Still watching: the owner's step shows up in the read-only stream.
        http.post(f"/api/sessions/{session}/step", headers=bearer(owner_token))
        for _ in range(MAX_MESSAGES):
            frame = next_frame(ws)
            if frame.header["state"]["epoch"] >= 1 and frame.header["id"] == session:
                break
        else:
            raise AssertionError("the read-only stream never showed the owner's step")
        assert http.get(f"/api/sessions/{session}", headers=bearer(owner_token)).json()["state"]["running"] is False


def test_other_sessions_stay_closed_to_room_tokens(live_server, http, room) -> None:
    other = http.post("/api/sessions", json={}).json()
    with open_ws(live_server, f"/ws/sessions/{other['id']}", room["token"]) as ws:
        assert close_of(ws) == (4403, "wrong token")
    bo = room["students"][1]
    with open_ws(live_server, f"/ws/sessions/{bo['session_id']}", room["students"][0]["token"]) as ws:
        assert close_of(ws) == (4403, "wrong token")
    http.delete(f"/api/sessions/{other['id']}", headers=bearer(other["token"]))

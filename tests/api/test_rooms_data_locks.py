"""A room's lock on the data set also covers a student's own data: drawn points (REST and the
websocket's add_point / remove_point) and uploaded CSVs are refused with 403 while the teacher locks
"data.dataset" (or all of "data"), and allowed again once the lock is lifted. Real uvicorn server."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

RECV_TIMEOUT = 30.0
MAX_MESSAGES = 2000
CSV = "hours,attended,passed\n" + "\n".join(
    f"{h},{a},{'yes' if h + a / 4 > 9 else 'no'}" for h in range(0, 16, 2) for a in range(0, 32, 6)
)
REGRESSION_CSV = "x,y\n" + "\n".join(f"{i},{i * 0.5}" for i in range(20))
LABELS = {"data.dataset": "Data set", "data": "Data (all data controls)"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def http(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, trust_env=False, timeout=60) as c:
        yield c


class Room:
    """A room with one student; `lock` sets the teacher's locks."""

    def __init__(self, http: httpx.Client, locked: list[str]) -> None:
        self.http = http
        created = http.post("/api/rooms", json={"name": "locks", "locked": locked}).json()
        self.code, self.token = created["code"], created["teacher_token"]
        self.teacher_session = created["room"]["teacher_session_id"]
        joined = http.post(f"/api/rooms/{self.code}/join", json={"nickname": "Ana"}).json()
        self.student, self.student_token = joined["session_id"], joined["token"]

    def lock(self, locked: list[str]) -> None:
        r = self.http.put(f"/api/rooms/{self.code}/locked", json={"locked": locked}, headers=bearer(self.token))
        assert r.status_code == 200, r.text

    def url(self, path: str) -> str:
        return f"/api/sessions/{self.student}{path}"

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.student_token)

    def dataset(self) -> dict[str, Any]:
        return self.http.get(self.url("/dataset"), headers=self.headers).json()

    def close(self) -> None:
        self.http.delete(f"/api/rooms/{self.code}", headers=bearer(self.token))
        self.http.delete(f"/api/sessions/{self.student}", headers=self.headers)
        self.http.delete(f"/api/sessions/{self.teacher_session}", headers=bearer(self.token))


@pytest.fixture
def make_room(http: httpx.Client) -> Iterator[Any]:
    made: list[Room] = []

    def make(locked: list[str]) -> Room:
        made.append(Room(http, locked))
        return made[-1]

    yield make
    for room in made:
        room.close()


def upload(room: Room, csv: str, label: str) -> httpx.Response:
    return room.http.post(
        room.url(f"/data?label={label}"), content=csv, headers={**room.headers, "Content-Type": "text/csv"}
    )


@pytest.mark.parametrize("lock", ["data.dataset", "data"])
def test_a_data_lock_refuses_drawn_points_and_uploads_over_rest(http, make_room, lock) -> None:
    room = make_room([lock])
    before = room.dataset()
    message = f"the teacher locked {LABELS[lock]}"
    r = http.post(room.url("/points"), json={"x": 1.0, "y": 1.0, "label": 1}, headers=room.headers)
    assert (r.status_code, r.json()["detail"]) == (403, message)
    x, y = before["train"]["x"][0]
    r = http.delete(room.url(f"/points?x={x}&y={y}"), headers=room.headers)
    assert (r.status_code, r.json()["detail"]) == (403, message)
    r = upload(room, CSV, "passed")
    assert (r.status_code, r.json()["detail"]) == (403, message)
    after = room.dataset()
    assert after["train"]["x"] == before["train"]["x"] and not after["custom"]
    config = http.get(room.url(""), headers=room.headers).json()["config"]
    assert config["data"]["dataset"] != "custom"


def test_lifting_the_lock_allows_own_data_again(http, make_room) -> None:
    room = make_room(["data.dataset"])
    point = {"x": 5.5, "y": 5.5, "label": 1}
    assert http.post(room.url("/points"), json=point, headers=room.headers).status_code == 403
    room.lock(["training.learning_rate"])  # other locks do not touch the data
    r = http.post(room.url("/points"), json=point, headers=room.headers)
    assert r.status_code == 200, r.text
    assert r.json()["config"]["data"]["dataset"] == "custom"
    assert http.delete(room.url("/points?x=5.5&y=5.5"), headers=room.headers).status_code == 200
    r = upload(room, CSV, "passed")
    assert r.status_code == 200, r.text
    assert room.dataset()["columns"] == ["hours", "attended"]


def test_a_problem_lock_refuses_uploads_of_another_problem_type(http, make_room) -> None:
    room = make_room(["problem"])
    r = upload(room, REGRESSION_CSV, "y")
    assert (r.status_code, r.json()["detail"]) == (403, "the teacher locked Problem type")
    assert upload(room, CSV, "passed").status_code == 200  # classification, like the room's config


def test_the_teachers_own_session_is_not_locked(http, make_room) -> None:
    room = make_room(["data"])
    url = f"/api/sessions/{room.teacher_session}/points"
    r = http.post(url, json={"x": 1.0, "y": 1.0, "label": 0}, headers=bearer(room.token))
    assert r.status_code == 200, r.text


def open_stream(live_server: str, session_id: str, token: str) -> ClientConnection:
    url = live_server.replace("http://", "ws://", 1) + f"/ws/sessions/{session_id}?token={token}"
    return connect(url, compression=None, proxy=None, open_timeout=RECV_TIMEOUT, max_size=None)


def next_json(ws: ClientConnection, *kinds: str) -> dict[str, Any]:
    for _ in range(MAX_MESSAGES):
        message = ws.recv(timeout=RECV_TIMEOUT)
        if isinstance(message, bytes):
            continue
        data = json.loads(message)
        if data["type"] in kinds:
            return data
    raise AssertionError(f"no {kinds} message in {MAX_MESSAGES} messages")


def test_a_data_lock_refuses_add_and_remove_point_on_the_websocket(live_server, make_room) -> None:
    room = make_room(["data.dataset"])
    x, y = room.dataset()["train"]["x"][0]
    with open_stream(live_server, room.student, room.student_token) as ws:
        assert next_json(ws, "room")["locked"] == ["data.dataset"]
        for command in ({"type": "add_point", "x": 1.0, "y": 1.0, "label": 1},
                        {"type": "remove_point", "x": x, "y": y}):
            ws.send(json.dumps(command))
            error = next_json(ws, "error", "dataset")
            assert error == {"type": "error", "code": 403, "message": "the teacher locked Data set", "loc": []}
        room.lock([])
        assert next_json(ws, "room")["locked"] == []
        ws.send(json.dumps({"type": "add_point", "x": 5.5, "y": 5.5, "label": 1}))
        dataset = next_json(ws, "error", "dataset")  # the stream stayed open and the point went in
        assert dataset["type"] == "dataset" and dataset["custom"]
        assert [5.5, 5.5] in dataset["train"]["x"] + dataset["test"]["x"]

"""Classroom rooms over REST (docs/protocol.md, "Classroom rooms"): create, join, teacher actions,
fork, CSV, limits, and rooms surviving a restart. Access boundaries are in test_rooms_security.py."""

import csv
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from nnplayground.app import create_app
from nnplayground.config import Settings


def room_settings(data_dir: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {"join_failure_delay_seconds": 0.0, "device": "cpu"}
    return Settings(data_dir=data_dir, **{**base, **overrides})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return room_settings(tmp_path / "data")


@dataclass
class Seat:
    """A student in a room: the join answer and the headers carrying the student's token."""

    body: dict[str, Any]

    @property
    def id(self) -> str:
        return self.body["session_id"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.body['token']}"}


@dataclass
class ClassRoom:
    code: str
    token: str
    body: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def new_room(client: TestClient) -> Callable[..., ClassRoom]:
    def make(**body: Any) -> ClassRoom:
        r = client.post("/api/rooms", json={"name": "Class", **body})
        assert r.status_code == 201, r.text
        out = r.json()
        return ClassRoom(out["code"], out["teacher_token"], out)

    return make


def join(client: TestClient, room: ClassRoom, nickname: str = "Ana") -> Seat:
    r = client.post(f"/api/rooms/{room.code}/join", json={"nickname": nickname})
    assert r.status_code == 201, r.text
    return Seat(r.json())


def test_create_answers_code_token_and_the_teacher_session(client: TestClient, new_room) -> None:
    room = new_room(locked=["training.learning_rate"], config={"network": {"hidden_layers": [3]}})
    out = room.body["room"]
    assert len(room.code) == 6 and out["status"] == "open" and out["students"] == []
    assert out["locked"] == ["training.learning_rate"] and out["config"]["network"]["hidden_layers"] == [3]
    # The teacher token drives the teacher's own session like an owner.
    teacher = out["teacher_session_id"]
    r = client.post(f"/api/sessions/{teacher}/step", headers=room.headers)
    assert r.status_code == 200 and r.json()["state"]["epoch"] == 1
    assert client.get(f"/api/rooms/{room.code}").json() == {
        "code": room.code, "name": "Class", "status": "open", "students": 0, "max_students": 120,
    }


def test_create_refuses_unknown_controls_bad_configs_and_too_many_students(client: TestClient) -> None:
    r = client.post("/api/rooms", json={"name": "x", "locked": ["training.nope"]})
    assert r.status_code == 422 and "training.nope" in r.json()["detail"][0]["msg"]
    r = client.post("/api/rooms", json={"name": "x", "config": {"network": {"hidden_layers": [99]}}})
    assert r.status_code == 422
    r = client.post("/api/rooms", json={"name": "x", "max_students": 10_000})
    assert r.status_code == 422 and "max_students" in r.json()["detail"][0]["msg"]
    assert client.post("/api/rooms", json={"name": "   "}).status_code == 422


def test_join_starts_from_the_room_config_with_unique_nicknames(client: TestClient, new_room) -> None:
    room = new_room(config={"data": {"dataset": "xor"}}, locked=["data"])
    ana = join(client, room, "  Ana  ")
    twin = join(client, room, "ana")
    third = join(client, room, "Ana")
    assert [ana.body["nickname"], twin.body["nickname"], third.body["nickname"]] == ["Ana", "ana 2", "Ana 3"]
    assert ana.body["locked"] == ["data"] and ana.body["teacher_session_id"] == room.body["room"]["teacher_session_id"]
    assert ana.body["room"]["students"] == 1 and third.body["room"]["students"] == 3
    session = client.get(f"/api/sessions/{ana.id}", headers=ana.headers).json()
    assert session["config"]["data"]["dataset"] == "xor"
    me = client.get(f"/api/rooms/{room.code}/me", headers=ana.headers).json()
    assert me["nickname"] == "Ana" and me["session_id"] == ana.id and me["status"] == "open"
    assert client.post(f"/api/rooms/{room.code}/join", json={"nickname": " "}).status_code == 422
    assert client.post(f"/api/rooms/{room.code}/join", json={"nickname": "x" * 25}).status_code == 422


def test_full_expired_closed_and_unknown_rooms_answer_clearly(client: TestClient, new_room) -> None:
    room = new_room(max_students=1)
    join(client, room)
    r = client.post(f"/api/rooms/{room.code}/join", json={"nickname": "Bo"})
    assert r.status_code == 409 and r.json()["detail"] == "the room is full (1 students)"
    open_room = new_room()
    assert client.post(f"/api/rooms/{open_room.code}/expire", headers=open_room.headers).json()["status"] == "expired"
    r = client.post(f"/api/rooms/{open_room.code}/join", json={"nickname": "Bo"})
    assert r.status_code == 410 and r.json()["detail"] == "the teacher closed this code to new students"
    assert client.delete(f"/api/rooms/{open_room.code}", headers=open_room.headers).json()["status"] == "closed"
    r = client.post(f"/api/rooms/{open_room.code}/join", json={"nickname": "Bo"})
    assert r.status_code == 410 and r.json()["detail"] == "this room is closed"
    r = client.post("/api/rooms/AAAAAA/join", json={"nickname": "Bo"})
    assert r.status_code == 404 and r.json()["detail"] == "no room with code AAAAAA"
    assert client.get("/api/rooms/not-a-code").status_code == 404


def test_codes_are_read_forgivingly(client: TestClient, new_room) -> None:
    room = new_room()
    r = client.post(f"/api/rooms/{room.code.lower()[:3]}-{room.code.lower()[3:]}/join", json={"nickname": "Ana"})
    assert r.status_code == 201 and r.json()["room"]["code"] == room.code


def test_unknown_codes_are_limited_per_address(tmp_path: Path) -> None:
    with TestClient(create_app(room_settings(tmp_path / "d", join_attempts_per_minute=3))) as c:
        assert [c.get("/api/rooms/AAAAAA").status_code for _ in range(3)] == [404] * 3
        r = c.post("/api/rooms/AAAAAA/join", json={"nickname": "x"})
        assert r.status_code == 429 and "too many attempts" in r.json()["detail"]


def test_rooms_per_server_are_limited(tmp_path: Path) -> None:
    with TestClient(create_app(room_settings(tmp_path / "d", max_rooms=1))) as c:
        first = c.post("/api/rooms", json={"name": "a"}).json()
        r = c.post("/api/rooms", json={"name": "b"})
        assert r.status_code == 429 and r.json()["detail"] == "the server holds its maximum of 1 rooms; try again later"
        c.delete(f"/api/rooms/{first['code']}", headers=bearer(first["teacher_token"]))
        second = c.post("/api/rooms", json={"name": "b"})
        assert second.status_code == 201  # closed rooms do not count
        # A room whose teacher session and students are all gone closes itself when space is needed.
        teacher = second.json()["room"]["teacher_session_id"]
        c.delete(f"/api/sessions/{teacher}", headers=bearer(second.json()["teacher_token"]))
        assert c.post("/api/rooms", json={"name": "c"}).status_code == 201
        assert c.get(f"/api/rooms/{second.json()['code']}").json()["status"] == "closed"


def test_room_joins_do_not_count_against_the_address_limit(tmp_path: Path) -> None:
    # A lecture hall shares one address: its students count per room, not per address.
    with TestClient(create_app(room_settings(tmp_path / "d", max_sessions_per_client=2))) as c:
        room = c.post("/api/rooms", json={"name": "a", "max_students": 4}).json()
        for i in range(4):
            assert c.post(f"/api/rooms/{room['code']}/join", json={"nickname": f"s{i}"}).status_code == 201
        assert c.post("/api/sessions", json={}).status_code == 201  # the teacher's plus this one: 2
        assert c.post("/api/sessions", json={}).status_code == 429


def test_locked_controls_refuse_student_changes_until_unlocked(client: TestClient, new_room) -> None:
    room = new_room(locked=["training.learning_rate", "network"])
    ana = join(client, room)
    r = client.patch(f"/api/sessions/{ana.id}", json={"training": {"learning_rate": 0.1}}, headers=ana.headers)
    assert r.status_code == 403 and r.json()["detail"] == "the teacher locked Learning rate"
    r = client.patch(f"/api/sessions/{ana.id}", json={"network": {"activation": "relu"}}, headers=ana.headers)
    assert r.status_code == 403 and "Network" in r.json()["detail"]
    assert client.patch(f"/api/sessions/{ana.id}", json={"data": {"noise": 10}}, headers=ana.headers).status_code == 200
    out = client.put(f"/api/rooms/{room.code}/locked", json={"locked": []}, headers=room.headers).json()
    assert out["locked"] == []
    r = client.patch(f"/api/sessions/{ana.id}", json={"training": {"learning_rate": 0.1}}, headers=ana.headers)
    assert r.status_code == 200 and r.json()["config"]["training"]["learning_rate"] == 0.1
    r = client.put(f"/api/rooms/{room.code}/locked", json={"locked": ["bogus"]}, headers=room.headers)
    assert r.status_code == 422


def test_push_config_resets_every_student_to_it(client: TestClient, new_room) -> None:
    room = new_room()
    seats = [join(client, room, n) for n in ("Ana", "Bo")]
    for s in seats:
        client.post(f"/api/sessions/{s.id}/train", json={"epochs": 2}, headers=s.headers)
    client.patch(f"/api/sessions/{seats[0].id}", json={"data": {"noise": 20}}, headers=seats[0].headers)
    pushed = {"network": {"hidden_layers": [5]}, "training": {"learning_rate": 0.1}}
    out = client.post(f"/api/rooms/{room.code}/config", json=pushed, headers=room.headers).json()
    assert out["config"]["network"]["hidden_layers"] == [5]
    assert [(s["epoch"], s["config_changed"]) for s in out["students"]] == [(0, False), (0, False)]
    for s in seats:
        body = client.get(f"/api/sessions/{s.id}", headers=s.headers).json()
        assert body["config"] == out["config"] and body["state"]["epoch"] == 0
    r = client.post(f"/api/rooms/{room.code}/config", json={"network": {"hidden_layers": [99]}}, headers=room.headers)
    assert r.status_code == 422


def test_play_and_pause_all(client: TestClient, new_room) -> None:
    room = new_room()
    seats = [join(client, room, n) for n in ("Ana", "Bo")]
    out = client.post(f"/api/rooms/{room.code}/play", headers=room.headers).json()
    assert [s["running"] for s in out["students"]] == [True, True]
    out = client.post(f"/api/rooms/{room.code}/pause", headers=room.headers).json()
    assert [s["running"] for s in out["students"]] == [False, False]
    assert client.get(f"/api/sessions/{seats[1].id}", headers=seats[1].headers).json()["state"]["running"] is False


def test_projector_only_where_allowed_and_only_room_sessions(client: TestClient, new_room) -> None:
    room = new_room()
    ana = join(client, room)
    out = client.put(f"/api/rooms/{room.code}/projector", json={"session_id": ana.id}, headers=room.headers).json()
    assert out["projector_session_id"] == ana.id
    r = client.put(f"/api/rooms/{room.code}/projector", json={"session_id": "elsewhere"}, headers=room.headers)
    assert r.status_code == 404
    shy = new_room(allow_projector=False)
    r = client.put(f"/api/rooms/{shy.code}/projector", json={"session_id": None}, headers=shy.headers)
    assert r.status_code == 403


def test_fork_copies_the_teacher_session_into_the_students(client: TestClient, new_room) -> None:
    room = new_room(locked=["network"])
    teacher = room.body["room"]["teacher_session_id"]
    client.patch(f"/api/sessions/{teacher}", json={"network": {"hidden_layers": [6, 3]}}, headers=room.headers)
    client.post(f"/api/sessions/{teacher}/train", json={"epochs": 3}, headers=room.headers)
    ana = join(client, room)
    r = client.post(f"/api/rooms/{room.code}/fork", headers=ana.headers)
    assert r.status_code == 200 and r.json()["epoch"] == 3 and r.json()["running"] is False
    mine = client.get(f"/api/sessions/{ana.id}", headers=ana.headers).json()
    theirs = client.get(f"/api/sessions/{teacher}", headers=room.headers).json()
    assert mine["config"] == theirs["config"] and mine["state"]["test_loss"] == theirs["state"]["test_loss"]
    grid = client.get(f"/api/sessions/{ana.id}/grid?resolution=8", headers=ana.headers).json()
    assert grid == client.get(f"/api/sessions/{teacher}/grid?resolution=8", headers=room.headers).json()
    # Still the student's own session: it trains on from the teacher's weights.
    r = client.post(f"/api/sessions/{ana.id}/step", headers=ana.headers)
    assert r.json()["state"]["epoch"] == 4


def test_results_csv_lists_every_student(client: TestClient, new_room) -> None:
    room = new_room()
    ana, bo = join(client, room, "Ana"), join(client, room, "=HYPERLINK(1)")
    client.post(f"/api/sessions/{ana.id}/train", json={"epochs": 2}, headers=ana.headers)
    r = client.get(f"/api/rooms/{room.code}/results.csv", headers=room.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == [
        "nickname", "session_id", "epoch", "train_loss", "test_loss", "test_accuracy", "dataset", "hidden_layers",
        "activation", "optimizer", "learning_rate", "config_json",
    ]
    assert [(row["nickname"], row["session_id"], row["epoch"]) for row in rows] == [
        ("Ana", ana.id, "2"), ("'=HYPERLINK(1)", bo.id, "0"),  # no formula reaches a spreadsheet
    ]
    assert float(rows[0]["test_loss"]) > 0 and rows[0]["hidden_layers"] == "4-2" and rows[1]["test_loss"] == ""


def test_closing_keeps_student_sessions_but_ends_the_room(client: TestClient, new_room) -> None:
    room = new_room(locked=["training"])
    ana = join(client, room)
    client.delete(f"/api/rooms/{room.code}", headers=room.headers)
    # The session is still the student's, and no longer bound by the room's locks.
    r = client.patch(f"/api/sessions/{ana.id}", json={"training": {"learning_rate": 0.3}}, headers=ana.headers)
    assert r.status_code == 200
    assert client.post(f"/api/rooms/{room.code}/play", headers=room.headers).status_code == 410
    assert client.post(f"/api/rooms/{room.code}/fork", headers=ana.headers).status_code == 410
    assert client.get(f"/api/rooms/{room.code}").json()["status"] == "closed"


def test_a_deleted_student_session_leaves_the_roster(client: TestClient, new_room) -> None:
    room = new_room()
    ana, bo = join(client, room, "Ana"), join(client, room, "Bo")
    assert client.delete(f"/api/sessions/{ana.id}", headers=ana.headers).status_code == 204
    out = client.get(f"/api/rooms/{room.code}/teacher", headers=room.headers).json()
    assert [s["session_id"] for s in out["students"]] == [bo.id]


def test_rooms_and_their_sessions_survive_a_restart(tmp_path: Path) -> None:
    settings = room_settings(tmp_path / "data")
    with TestClient(create_app(settings)) as c:
        room = c.post("/api/rooms", json={"name": "Kept", "locked": ["data"]}).json()
        code, headers = room["code"], bearer(room["teacher_token"])
        ana = c.post(f"/api/rooms/{code}/join", json={"nickname": "Ana"}).json()
        c.post(f"/api/sessions/{ana['session_id']}/train", json={"epochs": 2}, headers=bearer(ana["token"]))
        c.post(f"/api/rooms/{code}/expire", headers=headers)
    with TestClient(create_app(settings)) as c:
        out = c.get(f"/api/rooms/{code}/teacher", headers=headers)
        assert out.status_code == 200
        body = out.json()
        assert body["name"] == "Kept" and body["status"] == "expired" and body["locked"] == ["data"]
        assert [(s["nickname"], s["epoch"]) for s in body["students"]] == [("Ana", 2)]
        r = c.patch(f"/api/sessions/{ana['session_id']}", json={"data": {"noise": 5}}, headers=bearer(ana["token"]))
        assert r.status_code == 403  # the locks came back too
        assert c.get(f"/api/rooms/{code}/me", headers=bearer(ana["token"])).json()["nickname"] == "Ana"


def test_catalog_lists_lockable_controls(client: TestClient) -> None:
    controls = client.get("/api/catalog").json()["controls"]
    names = [c["name"] for c in controls]
    assert {"training.learning_rate", "data.dataset", "network.hidden_layers", "features", "training"} <= set(names)
    assert all(c["label"] for c in controls)


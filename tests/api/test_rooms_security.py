"""Who may do what in a classroom room: each boundary answers 401 (no token) or 403 (a token that
is not allowed). A student's token controls only that student's session; the teacher token reads
every session of its room and drives room actions, nothing outside it."""

import warnings
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from nnplayground.config import Settings


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", join_failure_delay_seconds=0.0, device="cpu")  # type: ignore[call-arg]


@pytest.fixture
def world(client: TestClient) -> dict[str, Any]:
    """Two rooms with a student each, and a session outside any room."""
    out: dict[str, Any] = {}
    for name in ("a", "b"):
        room = client.post("/api/rooms", json={"name": name}).json()
        student = client.post(f"/api/rooms/{room['code']}/join", json={"nickname": "S"}).json()
        out[name] = {
            "code": room["code"], "teacher": bearer(room["teacher_token"]),
            "teacher_session": room["room"]["teacher_session_id"],
            "student": bearer(student["token"]), "student_session": student["session_id"],
        }
    lone = client.post("/api/sessions", json={}).json()
    out["lone"] = {"id": lone["id"], "headers": bearer(lone["token"])}
    a2 = client.post(f"/api/rooms/{out['a']['code']}/join", json={"nickname": "T"}).json()
    out["a"]["other_student"], out["a"]["other_session"] = bearer(a2["token"]), a2["session_id"]
    return out


TEACHER_ACTIONS = [
    ("get", "teacher", None), ("post", "config", {}), ("post", "pause", None), ("post", "play", None),
    ("put", "locked", {"locked": []}), ("post", "expire", None), ("put", "projector", {"session_id": None}),
    ("get", "results.csv", None), ("delete", "", None),
]


def _call(client: TestClient, method: str, url: str, body: Any, headers: dict[str, str] | None) -> int:
    kwargs: dict[str, Any] = {"headers": headers or {}}
    if body is not None:
        kwargs["json"] = body
    return client.request(method.upper(), url, **kwargs).status_code


@pytest.mark.parametrize(("method", "action", "body"), TEACHER_ACTIONS)
def test_teacher_actions_need_this_rooms_teacher_token(client: TestClient, world, method, action, body) -> None:
    a, b = world["a"], world["b"]
    url = f"/api/rooms/{a['code']}/{action}".rstrip("/")
    assert _call(client, method, url, body, None) == 401
    assert _call(client, method, url, body, a["student"]) == 403  # a student of the room
    assert _call(client, method, url, body, b["teacher"]) == 403  # another room's teacher
    assert _call(client, method, url, body, world["lone"]["headers"]) == 403
    assert _call(client, method, url, body, a["teacher"]) == 200


@pytest.mark.parametrize(("method", "action"), [("get", "me"), ("post", "fork")])
def test_student_routes_need_a_student_token_of_this_room(client: TestClient, world, method, action) -> None:
    a, b = world["a"], world["b"]
    url = f"/api/rooms/{a['code']}/{action}"
    assert _call(client, method, url, None, None) == 401
    assert _call(client, method, url, None, b["student"]) == 403
    assert _call(client, method, url, None, a["teacher"]) == 403
    assert _call(client, method, url, None, a["student"]) == 200


def test_a_student_token_controls_only_that_students_session(client: TestClient, world) -> None:
    a, b = world["a"], world["b"]
    mine, theirs = a["student_session"], a["other_session"]
    assert client.post(f"/api/sessions/{mine}/play", headers=a["student"]).status_code == 200
    for session in (theirs, b["student_session"], world["lone"]["id"]):
        assert client.get(f"/api/sessions/{session}", headers=a["student"]).status_code == 403
        assert client.post(f"/api/sessions/{session}/play", headers=a["student"]).status_code == 403
        assert client.patch(f"/api/sessions/{session}", json={}, headers=a["student"]).status_code == 403
    assert client.delete(f"/api/sessions/{theirs}", headers=a["student"]).status_code == 403
    # Follow mode: the room's teacher session is readable, never drivable.
    teacher = a["teacher_session"]
    assert client.get(f"/api/sessions/{teacher}", headers=a["student"]).status_code == 200
    assert client.get(f"/api/sessions/{teacher}/grid?resolution=4", headers=a["student"]).status_code == 200
    assert client.post(f"/api/sessions/{teacher}/play", headers=a["student"]).status_code == 403
    assert client.patch(f"/api/sessions/{teacher}", json={}, headers=a["student"]).status_code == 403
    assert client.get(f"/api/sessions/{b['teacher_session']}", headers=a["student"]).status_code == 403


def test_the_teacher_token_reads_its_room_and_nothing_outside(client: TestClient, world) -> None:
    a, b = world["a"], world["b"]
    for session in (a["student_session"], a["other_session"]):
        assert client.get(f"/api/sessions/{session}", headers=a["teacher"]).status_code == 200
        assert client.get(f"/api/sessions/{session}/history", headers=a["teacher"]).status_code == 200
        # Reading is not driving: a student's session takes commands from its student only.
        assert client.post(f"/api/sessions/{session}/play", headers=a["teacher"]).status_code == 403
        assert client.patch(f"/api/sessions/{session}", json={}, headers=a["teacher"]).status_code == 403
        assert client.delete(f"/api/sessions/{session}", headers=a["teacher"]).status_code == 403
    for session in (b["student_session"], b["teacher_session"], world["lone"]["id"]):
        assert client.get(f"/api/sessions/{session}", headers=a["teacher"]).status_code == 403
    assert client.get(f"/api/sessions/{a['student_session']}").status_code == 401


def test_closing_a_room_ends_the_teachers_read_access(client: TestClient, world) -> None:
    a = world["a"]
    client.delete(f"/api/rooms/{a['code']}", headers=a["teacher"])
    assert client.get(f"/api/sessions/{a['student_session']}", headers=a["teacher"]).status_code == 403
    assert client.get(f"/api/sessions/{a['teacher_session']}", headers=a["student"]).status_code == 403
    assert client.get(f"/api/sessions/{a['student_session']}", headers=a["student"]).status_code == 200

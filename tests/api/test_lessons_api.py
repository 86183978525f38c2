"""Lessons over REST: the menu, a lesson's resolved steps, a session's progress across a restart,
and a teacher starting a lesson step for a whole room."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from websockets.sync.client import connect

from nnplayground.app import create_app
from nnplayground.config import Settings
from nnplayground.lessons import SHIPPED, LessonLibrary
from nnplayground.schemas import SessionConfig

LESSON = "xor-hidden-layer"  # shipped (the format's worked example); its content is read, not assumed
TEST_LESSON = "api-lesson"  # this module's own, in Settings.lessons_dir

API_LESSON = """\
id: api-lesson
order: 999
concept: testing
title: {en: A lesson for the API tests, es: Una lección para las pruebas de la API}
summary: {en: Three steps., es: Tres pasos.}
steps:
  - text: {en: XOR without a hidden layer., es: XOR sin capa oculta.}
    config:
      data: {dataset: xor, noise: 5}
      network: {hidden_layers: []}
  - text: {en: Now with one., es: Ahora con una.}
    config: {network: {hidden_layers: [4]}}
    play: true
    ask: {en: "Better?", es: "¿Mejor?"}
  - text: {en: "Same network, faster.", es: "La misma red, más rápida."}
    config: {training: {learning_rate: 0.3}}
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The shipped lessons plus this module's own (client and new_session use these settings)."""
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / f"{TEST_LESSON}.yaml").write_text(API_LESSON)
    return Settings(data_dir=tmp_path / "data", lessons_dir=folder)


def test_the_menu_lists_every_lesson_in_course_order(client: TestClient) -> None:
    r = client.get("/api/lessons")
    assert r.status_code == 200
    menu = r.json()
    shipped = LessonLibrary.load([SHIPPED])
    assert [x["id"] for x in menu] == [s.id for s in shipped.summaries()] + [TEST_LESSON]  # order 999: last
    entry = menu[-1]
    assert entry == {
        "id": TEST_LESSON, "order": 999, "concept": "testing",
        "title": {"en": "A lesson for the API tests", "es": "Una lección para las pruebas de la API"},
        "summary": {"en": "Three steps.", "es": "Tres pasos."}, "steps": 3,
    }


def test_a_lesson_comes_with_every_steps_full_config(client: TestClient) -> None:
    r = client.get(f"/api/lessons/{TEST_LESSON}")
    assert r.status_code == 200
    lesson = r.json()
    assert lesson["id"] == TEST_LESSON and lesson["title"]["es"] == "Una lección para las pruebas de la API"
    configs = [SessionConfig.model_validate(step["config"]) for step in lesson["steps"]]  # full, valid configs
    defaults = SessionConfig()
    assert configs[0].data.dataset == "xor" and configs[0].data.noise == 5 and configs[0].network.hidden_layers == []
    assert configs[0].training == defaults.training  # what step 1 does not name: the defaults
    assert configs[1].network.hidden_layers == [4] and configs[1].data == configs[0].data  # carried over
    assert configs[2].training.learning_rate == 0.3 and configs[2].network == configs[1].network
    assert [s["play"] for s in lesson["steps"]] == [False, True, False]
    assert lesson["steps"][1]["ask"] == {"en": "Better?", "es": "¿Mejor?"} and lesson["steps"][0]["ask"] is None
    assert lesson["steps"][2]["changes"] == {"training": {"learning_rate": 0.3}}
    r = client.get("/api/lessons/no-such-lesson")
    assert r.status_code == 404 and r.json()["detail"] == "unknown lesson no-such-lesson"


def test_a_bad_file_in_the_teachers_folder_is_left_out(tmp_path: Path) -> None:
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "good-lesson.yaml").write_text(API_LESSON.replace("api-lesson", "good-lesson"))
    (folder / "broken-lesson.yaml").write_text(API_LESSON.replace("api-lesson", "broken-lesson").replace("xor", "x"))
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", lessons_dir=folder))) as c:
        ids = [x["id"] for x in c.get("/api/lessons").json()]
        assert "good-lesson" in ids and LESSON in ids
        assert "broken-lesson" not in ids  # left out, and logged
        assert c.get("/api/lessons/broken-lesson").status_code == 404


def test_progress_is_the_owners_and_checked(client: TestClient, new_session: Callable[..., Any]) -> None:
    s = new_session()
    other = new_session()
    url = f"/api/sessions/{s.id}/lesson"
    assert client.get(url, headers=s.headers).json() is None
    r = client.put(url, json={"lesson_id": TEST_LESSON, "step": 2}, headers=s.headers)
    assert r.status_code == 200 and r.json() == {"lesson_id": TEST_LESSON, "step": 2}
    assert client.get(url, headers=s.headers).json() == {"lesson_id": TEST_LESSON, "step": 2}
    assert client.get(f"/api/sessions/{other.id}/lesson", headers=other.headers).json() is None
    # Tokens: as for every session route.
    assert client.get(url).status_code == 401
    assert client.put(url, json={"lesson_id": TEST_LESSON, "step": 1}, headers=other.headers).status_code == 403
    # Unknown lesson, a step it lacks, a bad body.
    r = client.put(url, json={"lesson_id": "nope", "step": 1}, headers=s.headers)
    assert r.status_code == 404 and r.json()["detail"] == "unknown lesson nope"
    r = client.put(url, json={"lesson_id": TEST_LESSON, "step": 4}, headers=s.headers)
    assert r.status_code == 422 and r.json()["detail"][0]["msg"] == f"lesson {TEST_LESSON} has steps 1 to 3"
    assert client.put(url, json={"lesson_id": TEST_LESSON, "step": 0}, headers=s.headers).status_code == 422
    assert client.put(url, json={"lesson_id": TEST_LESSON, "stp": 1}, headers=s.headers).status_code == 422
    assert client.get(url, headers=s.headers).json() == {"lesson_id": TEST_LESSON, "step": 2}  # unchanged
    # Recording progress never touches the session's config.
    assert client.get(f"/api/sessions/{s.id}", headers=s.headers).json()["config"] == s.created["config"]
    assert client.delete(url, headers=s.headers).status_code == 204
    assert client.get(url, headers=s.headers).json() is None


def test_progress_survives_a_restart_and_goes_with_the_session(settings: Settings) -> None:
    with TestClient(create_app(settings)) as c:
        r = c.post("/api/sessions", json={})
        sid, headers = r.json()["id"], {"Authorization": f"Bearer {r.json()['token']}"}
        gone = c.post("/api/sessions", json={}).json()
        gone_headers = {"Authorization": f"Bearer {gone['token']}"}
        r = c.put(f"/api/sessions/{sid}/lesson", json={"lesson_id": TEST_LESSON, "step": 3}, headers=headers)
        assert r.is_success
        assert c.put(
            f"/api/sessions/{gone['id']}/lesson", json={"lesson_id": TEST_LESSON, "step": 1}, headers=gone_headers
        ).is_success
        assert c.delete(f"/api/sessions/{gone['id']}", headers=gone_headers).status_code == 204
    with TestClient(create_app(settings)) as c:
        assert c.get(f"/api/sessions/{sid}/lesson", headers=headers).json() == {"lesson_id": TEST_LESSON, "step": 3}
        store = c.app.state.persistence.store  # type: ignore[attr-defined]
        assert store.lesson_progress(sid) == (TEST_LESSON, 3)
        assert store.lesson_progress(gone["id"]) is None  # deleted with its session


# ---- a teacher starts a lesson step for the room ------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def room_messages(ws: Any, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first JSON message on a session stream that `wanted` accepts (frames are skipped)."""
    for _ in range(5000):
        message = ws.recv(timeout=30)
        if isinstance(message, str) and wanted(data := json.loads(message)):
            return data
    raise AssertionError("no such message")


def test_a_teacher_starts_a_lesson_step_for_every_student(live_server: str) -> None:
    with httpx.Client(base_url=live_server, trust_env=False, timeout=60) as http:
        lesson = http.get(f"/api/lessons/{LESSON}").json()
        k = next((i for i, s in enumerate(lesson["steps"], 1) if s["play"]), 1)
        step = lesson["steps"][k - 1]
        created = http.post("/api/rooms", json={"name": "lesson"}).json()
        code, teacher = created["code"], bearer(created["teacher_token"])
        students = [http.post(f"/api/rooms/{code}/join", json={"nickname": n}).json() for n in ("Ana", "Bo")]
        try:
            ws_url = live_server.replace("http://", "ws://", 1)
            ana = students[0]
            with connect(f"{ws_url}/ws/sessions/{ana['session_id']}?token={ana['token']}", proxy=None) as ws:
                room_messages(ws, lambda m: m["type"] == "hello")
                r = http.post(f"/api/rooms/{code}/lesson", json={"lesson_id": LESSON, "step": k}, headers=teacher)
                assert r.status_code == 200, r.text
                assert r.json()["lesson"] == {"lesson_id": LESSON, "step": k}
                assert r.json()["config"] == step["config"]  # the step's config is the room's now
                # (A `room` message on connecting says where the room stood: no lesson yet.)
                message = room_messages(ws, lambda m: m["type"] == "room" and m["lesson"] is not None)
                assert message["lesson"] == {"lesson_id": LESSON, "step": k} and message["status"] == "open"
            for s in students:
                got = http.get(f"/api/sessions/{s['session_id']}", headers=bearer(s["token"])).json()
                assert got["config"] == step["config"]
                assert got["state"]["running"] is step["play"]
                progress = http.get(f"/api/sessions/{s['session_id']}/lesson", headers=bearer(s["token"])).json()
                assert progress == {"lesson_id": LESSON, "step": k}
                me = http.get(f"/api/rooms/{code}/me", headers=bearer(s["token"])).json()
                assert me["lesson"] == {"lesson_id": LESSON, "step": k}
            # Only the teacher may, and only with a lesson step that exists.
            body = {"lesson_id": LESSON, "step": 1}
            assert http.post(f"/api/rooms/{code}/lesson", json=body).status_code == 401
            assert http.post(f"/api/rooms/{code}/lesson", json=body, headers=bearer(ana["token"])).status_code == 403
            r = http.post(f"/api/rooms/{code}/lesson", json={"lesson_id": "nope", "step": 1}, headers=teacher)
            assert r.status_code == 404 and r.json()["detail"] == "unknown lesson nope"
            r = http.post(f"/api/rooms/{code}/lesson", json={"lesson_id": LESSON, "step": 6}, headers=teacher)
            assert r.status_code == 422
            assert http.get(f"/api/rooms/{code}/teacher", headers=teacher).json()["lesson"]["step"] == k  # unchanged
        finally:
            http.delete(f"/api/rooms/{code}", headers=teacher)
            for s in students:
                http.delete(f"/api/sessions/{s['session_id']}", headers=bearer(s["token"]))
        closed = http.post(f"/api/rooms/{code}/lesson", json={"lesson_id": LESSON, "step": 1}, headers=teacher)
        assert closed.status_code == 410

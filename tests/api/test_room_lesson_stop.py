"""A teacher ends the room's lesson (DELETE /api/rooms/{code}/lesson): the room forgets it, students'
streams hear `lesson: null`, and students keep their sessions, configs and lesson progress."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from websockets.sync.client import connect

from nnplayground.app import create_app
from nnplayground.config import Settings

LESSON = "xor-hidden-layer"  # shipped; its content is read, not assumed


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def first_message(ws: Any, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first JSON message on a session stream that `wanted` accepts (frames are skipped)."""
    for _ in range(5000):
        message = ws.recv(timeout=30)
        if isinstance(message, str) and wanted(data := json.loads(message)):
            return data
    raise AssertionError("no such message")


def test_a_teacher_stops_the_rooms_lesson(live_server: str) -> None:
    with httpx.Client(base_url=live_server, trust_env=False, timeout=60) as http:
        step = http.get(f"/api/lessons/{LESSON}").json()["steps"][1]
        created = http.post("/api/rooms", json={"name": "stop"}).json()
        code, teacher = created["code"], bearer(created["teacher_token"])
        url = f"/api/rooms/{code}/lesson"
        students = [http.post(f"/api/rooms/{code}/join", json={"nickname": n}).json() for n in ("Ana", "Bo")]
        ana = students[0]
        try:
            assert http.post(url, json={"lesson_id": LESSON, "step": 2}, headers=teacher).status_code == 200
            # Only the teacher may; the lesson is still running after a refused stop.
            assert http.delete(url).status_code == 401
            assert http.delete(url, headers=bearer(ana["token"])).status_code == 403
            assert http.delete(url, headers=bearer("not-a-token")).status_code == 403
            assert http.delete("/api/rooms/ZZZZZZ/lesson", headers=teacher).status_code == 404
            assert http.get(f"/api/rooms/{code}/teacher", headers=teacher).json()["lesson"]["step"] == 2

            ws_url = live_server.replace("http://", "ws://", 1)
            with connect(f"{ws_url}/ws/sessions/{ana['session_id']}?token={ana['token']}", proxy=None) as ws:
                # On connecting, a `room` message says where the room stands: the lesson at step 2.
                hello = first_message(ws, lambda m: m["type"] == "room")
                assert hello["lesson"] == {"lesson_id": LESSON, "step": 2}
                r = http.delete(url, headers=teacher)
                assert r.status_code == 200, r.text
                assert r.json()["lesson"] is None and r.json()["status"] == "open"
                message = first_message(ws, lambda m: m["type"] == "room" and m["lesson"] is None)
                assert message["status"] == "open"
            assert http.get(f"/api/rooms/{code}/teacher", headers=teacher).json()["lesson"] is None
            # Stopping again is harmless.
            assert http.delete(url, headers=teacher).json()["lesson"] is None
            for s in students:
                headers = bearer(s["token"])
                assert http.get(f"/api/rooms/{code}/me", headers=headers).json()["lesson"] is None
                # Their sessions keep the step's set-up and their progress record.
                assert http.get(f"/api/sessions/{s['session_id']}", headers=headers).json()["config"] == step["config"]
                progress = http.get(f"/api/sessions/{s['session_id']}/lesson", headers=headers).json()
                assert progress == {"lesson_id": LESSON, "step": 2}
        finally:
            http.delete(f"/api/rooms/{code}", headers=teacher)
            for s in students:
                http.delete(f"/api/sessions/{s['session_id']}", headers=bearer(s["token"]))
        assert http.delete(url, headers=teacher).status_code == 410


def test_the_stopped_lesson_stays_stopped_after_a_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", device="cpu", join_failure_delay_seconds=0.0)
    with TestClient(create_app(settings)) as c:
        created = c.post("/api/rooms", json={"name": "Kept"}).json()
        code, teacher = created["code"], bearer(created["teacher_token"])
        assert c.post(f"/api/rooms/{code}/lesson", json={"lesson_id": LESSON, "step": 1}, headers=teacher).is_success
        assert c.delete(f"/api/rooms/{code}/lesson", headers=teacher).json()["lesson"] is None
    with TestClient(create_app(settings)) as c:
        assert c.get(f"/api/rooms/{code}/teacher", headers=teacher).json()["lesson"] is None
        # Starting again after a stop works as the first time did.
        r = c.post(f"/api/rooms/{code}/lesson", json={"lesson_id": LESSON, "step": 1}, headers=teacher)
        assert r.json()["lesson"] == {"lesson_id": LESSON, "step": 1}

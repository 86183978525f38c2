"""Every server limit answers with a clear 4xx that names the limit (docs/security.md, "Limits").

Limits already tested elsewhere are not repeated here:
- request body over max_message_bytes -> 413 (declared and chunked): test_sessions.py, test_meta.py;
- websocket message over max_message_bytes -> close 1009: test_ws.py (and test_ws_fuzz.py);
- max_sessions and max_sessions_per_client on POST /api/sessions -> 429: test_sessions.py;
- num_points, hidden layers and neurons over the limits -> 422 on create and PATCH: test_sessions.py;
  over the websocket -> an error message: test_ws.py;
- epochs per train call and grid resolution -> 422: test_sessions.py;
- import over max_upload_bytes -> 413, imported network over the limits -> 422: test_persistence.py;
- CSV over max_upload_bytes -> 413: test_own_data.py.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nnplayground.app import create_app
from nnplayground.config import Settings


def auth(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['token']}"}


@pytest.fixture
def small(tmp_path: Path) -> Iterator[TestClient]:
    """A server with small limits, so that every one of them is quick to reach."""
    settings = Settings(  # type: ignore[arg-type]
        data_dir=tmp_path / "data", max_points=50, max_sessions=2, max_sessions_per_client=2,
        max_hidden_layers=2, max_neurons=3, max_epochs_per_train=5, max_message_bytes=2048,
        max_upload_bytes=20_000,
    )
    with TestClient(create_app(settings)) as c:
        yield c


def create(c: TestClient, config: dict[str, Any] | None = None) -> dict[str, Any]:
    r = c.post("/api/sessions", json=config or {"data": {"num_points": 40}, "network": {"hidden_layers": [3]}})
    assert r.status_code == 201, r.text
    return r.json()


def only_error(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert len(detail) == 1, detail
    return detail[0]


def test_the_catalog_reports_every_limit_enforced_here(small):
    limits = small.get("/api/catalog").json()["limits"]
    assert limits | {"max_points": 50, "max_neurons": 3, "max_hidden_layers": 2, "max_epochs_per_train": 5,
                     "max_message_bytes": 2048, "max_upload_bytes": 20_000, "max_sessions": 2} == limits


def test_batch_size_over_max_points_is_422_on_create_and_patch(small):
    err = only_error(small.post("/api/sessions", json={"data": {"num_points": 40}, "network": {"hidden_layers": [3]},
                                                       "training": {"batch_size": 51}}), 422)
    assert err["loc"] == ["body", "training", "batch_size"] and err["msg"] == "batch_size must be 1 to 50 (got 51)"
    s = create(small)
    err = only_error(small.patch(f"/api/sessions/{s['id']}", json={"training": {"batch_size": 51}}, headers=auth(s)),
                     422)
    assert err["loc"] == ["body", "training", "batch_size"]
    ok = small.patch(f"/api/sessions/{s['id']}", json={"training": {"batch_size": 50}}, headers=auth(s))
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("config", "loc", "message"),
    [
        ({"data": {"num_points": 51}}, ["config", "data", "num_points"], "num_points must be 10 to 50 (got 51)"),
        ({"network": {"hidden_layers": [1, 1, 1]}}, ["config", "network", "hidden_layers"],
         "at most 2 hidden layers (got 3)"),
        ({"network": {"hidden_layers": [4]}}, ["config", "network", "hidden_layers", 0],
         "each hidden layer has 1 to 3 neurons (got 4)"),
        ({"training": {"batch_size": 51}}, ["config", "training", "batch_size"], "batch_size must be 1 to 50 (got 51)"),
    ],
)
def test_websocket_updates_over_a_limit_get_an_error_naming_it(small, config, loc, message):
    s = create(small)
    with small.websocket_connect(f"/ws/sessions/{s['id']}?token={s['token']}") as ws:
        assert ws.receive_json()["type"] == "hello"
        ws.send_text(json.dumps({"type": "update", "config": config}))
        for _ in range(100):
            message_in = ws.receive()
            if message_in.get("text") and json.loads(message_in["text"])["type"] == "error":
                error = json.loads(message_in["text"])
                break
        else:
            raise AssertionError("no error message")
    assert error["loc"] == loc and message in error["message"]


def test_a_websocket_message_of_exactly_max_message_bytes_is_read_one_more_byte_closes_1009(small):
    s = create(small)
    with small.websocket_connect(f"/ws/sessions/{s['id']}?token={s['token']}") as ws:
        assert ws.receive_json()["type"] == "hello"
        base = json.dumps({"type": "jump", "pad": ""})
        ws.send_text(json.dumps({"type": "jump", "pad": "x" * (2048 - len(base))}))  # 2,048 bytes: read
        for _ in range(100):
            message = ws.receive()
            if message.get("text") and json.loads(message["text"])["type"] == "error":
                break
        else:
            raise AssertionError("no error message")
        ws.send_bytes(b"x" * 2049)
        for _ in range(100):
            message = ws.receive()
            if message["type"] == "websocket.close":
                assert message["code"] == 1009 and "2048" in message["reason"]
                break
        else:
            raise AssertionError("not closed")


def test_a_rest_body_of_exactly_max_message_bytes_is_read(small):
    body = json.dumps({"data": {"num_points": 40}, "network": {"hidden_layers": [3]}})
    body = body[:-1] + " " * (2048 - len(body)) + "}"
    assert len(body) == 2048
    assert small.post("/api/sessions", content=body, headers={"Content-Type": "application/json"}).status_code == 201
    r = small.post("/api/sessions", content=body + " ", headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "2048" in r.json()["detail"]


def test_epochs_per_train_boundary(small):
    s = create(small)
    assert small.post(f"/api/sessions/{s['id']}/train", json={"epochs": 5}, headers=auth(s)).json()["state"][
        "epoch"] == 5
    err = only_error(small.post(f"/api/sessions/{s['id']}/train", json={"epochs": 6}, headers=auth(s)), 422)
    assert err["loc"] == ["body", "epochs"] and err["msg"] == "epochs must be 1 to 5 (got 6)"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"steps": 1001}, "steps"), ({"steps": 9}, "steps"), ({"start": 2}, "start"), ({"end": 1001}, "end")],
)
def test_lr_range_test_bounds_are_422(small, body, field):
    s = create(small)
    err = only_error(small.post(f"/api/sessions/{s['id']}/lr-range-test", json=body, headers=auth(s)), 422)
    assert err["loc"] == ["body", field]


def test_session_limits_also_hold_for_imports_and_reopened_runs(small):
    a = create(small)
    small.post(f"/api/sessions/{a['id']}/train", json={"epochs": 2}, headers=auth(a))
    exported = small.get(f"/api/sessions/{a['id']}/export?format=json", headers=auth(a)).content
    assert small.post(f"/api/sessions/{a['id']}/reset", headers=auth(a)).status_code == 200
    runs = small.get(f"/api/sessions/{a['id']}/runs", headers=auth(a)).json()["runs"]
    assert runs
    create(small)  # the second and last session this server (and this client) may hold
    r = small.post("/api/sessions", json={"data": {"num_points": 40}, "network": {"hidden_layers": [3]}})
    assert r.status_code == 429 and "maximum of 2 sessions" in r.json()["detail"]
    r = small.post("/api/sessions/import", content=exported, headers={"Content-Type": "application/json"})
    assert r.status_code == 429 and "maximum of 2 sessions" in r.json()["detail"]
    r = small.post(f"/api/runs/{runs[0]['id']}/reopen", headers=auth(a))
    assert r.status_code == 429 and "maximum of 2 sessions" in r.json()["detail"]


def test_csv_rows_over_max_points_are_422(small):
    s = create(small)
    csv = "a,label\n" + "".join(f"{i},{i % 2}\n" for i in range(51))
    r = small.post(f"/api/sessions/{s['id']}/data?label=label", content=csv,
                   headers={**auth(s), "Content-Type": "text/csv"})
    assert r.status_code == 422 and "50" in r.text


def test_drawn_points_stop_at_max_points(small):
    s = create(small, {"data": {"num_points": 50}, "network": {"hidden_layers": [3]}})
    r = small.post(f"/api/sessions/{s['id']}/points", json={"x": 0.5, "y": 0.5, "label": 1}, headers=auth(s))
    err = only_error(r, 422)
    assert "50" in err["msg"]

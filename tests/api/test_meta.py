"""Health, catalog, the static frontend and the body-size limit."""

import gc
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from nnplayground import __version__, catalog
from nnplayground.app import create_app, plotly_js
from nnplayground.config import Settings
from nnplayground.frames import decode_frame
from nnplayground.schemas import SessionConfig


def test_health(client, new_session):
    r = client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["version"] == __version__
    assert body["device"] == client.app.state.engine.device_name
    assert body["device"].split(":")[0] in ("cpu", "cuda")
    assert body["sessions"] == 0
    new_session()
    new_session()
    assert client.get("/api/health").json()["sessions"] == 2
    # Two paused sessions: nothing to compile yet, but compiling is on by default.
    assert body["compiled_steps"] == {
        "enabled": True, "compiling": 0, "ready": 0, "failed": 0,
        "cuda_graphs": {"captures": 0, "replays": 0, "failed": 0},
    }


def test_health_counts_the_frames_streamed(client, new_session):
    assert client.get("/api/health").json()["frames"] == {"published": 0, "stale_undrawn": 0, "stale_drawn": 0}
    s = new_session()
    seqs = []
    with client.websocket_connect(f"/ws/sessions/{s.id}?token={s.token}") as ws:
        assert ws.receive_json()["type"] == "hello"
        ws.send_text('{"type": "play"}')
        while len(seqs) < 3:  # frames are binary; events (config, dataset) are text
            message = ws.receive()
            if message.get("bytes"):
                seqs.append(decode_frame(message["bytes"]).header["seq"])
    frames = client.get("/api/health").json()["frames"]
    assert frames["published"] >= len(seqs)
    # Every frame made for the session was sent or counted stale: the numbers leave no other gap.
    assert frames["published"] + frames["stale_undrawn"] + frames["stale_drawn"] >= max(seqs)


def test_health_says_when_steps_are_not_compiled(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path, compile_steps=False))) as c:
        assert c.get("/api/health").json()["compiled_steps"]["enabled"] is False


def test_health_counts_the_collector_freezes(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path, gc_freeze=True))) as c:
        deadline = time.monotonic() + 30
        while (collector := c.get("/api/health").json()["collector"])["freezes"] < 1:
            assert time.monotonic() < deadline, "the engine did not freeze at start"
            time.sleep(0.05)
        assert collector["enabled"] is True and collector["frozen_objects"] > 0
        assert collector["freeze_seconds"] > 0, "the first freeze collects the whole heap"
    assert gc.get_freeze_count() == 0, "a stopped server gives the collector its objects back"


def test_health_says_when_the_collector_is_left_alone(client) -> None:
    collector = client.get("/api/health").json()["collector"]  # tests turn freezing off (conftest.py)
    assert (collector["enabled"], collector["freezes"], collector["frozen_objects"]) == (False, 0, 0)


def test_catalog_lists_every_registry(client):
    c = client.get("/api/catalog").json()
    assert [d["name"] for d in c["datasets"]] == list(catalog.DATASETS)
    assert [f["name"] for f in c["features"]] == list(catalog.FEATURES)
    assert [a["name"] for a in c["activations"]] == list(catalog.ACTIVATIONS)
    assert [o["name"] for o in c["optimizers"]] == list(catalog.OPTIMIZERS)
    assert [r["name"] for r in c["regularizations"]] == list(catalog.REGULARIZATIONS)
    assert [p["name"] for p in c["problems"]] == ["classification", "regression"]
    assert {d["name"]: d["problem"] for d in c["datasets"]}["plane"] == "regression"
    assert c["default_loss"] == {"classification": "bce", "regression": "mse"}


def test_catalog_reports_limits_defaults_and_stream_settings(client, settings):
    c = client.get("/api/catalog").json()
    assert c["limits"] == settings.limits()
    assert c["defaults"] == SessionConfig().model_dump(mode="json")
    assert c["defaults"]["network"]["hidden_layers"] == [4, 2]
    assert c["stream_fps"] == settings.stream_fps
    assert c["grid_resolution"] == settings.grid_resolution


def test_catalog_limits_are_the_ones_enforced(tmp_path):
    s = Settings(data_dir=tmp_path, max_neurons=5, max_grid_resolution=50, stream_fps=7)
    with TestClient(create_app(s)) as c:
        cat = c.get("/api/catalog").json()
        assert cat["limits"]["max_neurons"] == 5 and cat["limits"]["max_grid_resolution"] == 50
        assert cat["stream_fps"] == 7
        r = c.post("/api/sessions", json={"network": {"hidden_layers": [6]}})
        assert r.status_code == 422 and "1 to 5 neurons" in r.json()["detail"][0]["msg"]


def test_frontend_files_are_served(tmp_path):
    front = tmp_path / "front"
    (front / "js").mkdir(parents=True)
    (front / "index.html").write_text("<!doctype html><title>nnplayground</title>")
    (front / "js" / "app.js").write_text("export const ok = 1;")
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", frontend_dir=front))) as c:
        index = c.get("/")
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        assert "<title>nnplayground</title>" in index.text
        js = c.get("/static/js/app.js")
        assert js.status_code == 200 and js.text == "export const ok = 1;"
        assert "javascript" in js.headers["content-type"]
        assert c.get("/static/js/missing.js").status_code == 404


def test_missing_frontend_is_404_not_a_crash(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path, frontend_dir=tmp_path / "nothing"))) as c:
        assert c.get("/").status_code == 404
        assert c.get("/api/health").status_code == 200


def test_default_frontend_dir_is_the_repositorys():
    from nnplayground.app import frontend_dir

    assert frontend_dir(Settings(frontend_dir=None)) == Path(__file__).resolve().parents[2] / "frontend"


def test_plotly_is_served_from_the_installed_package(client):
    path = plotly_js()
    assert path is not None and path.name == "plotly.min.js"
    r = client.get("/vendor/plotly.min.js")
    assert r.status_code == 200
    assert "javascript" in r.headers["content-type"]
    assert r.content == path.read_bytes()


def test_chunked_body_over_the_limit_is_413_on_a_real_server(live_server, live_settings):
    limit = live_settings.max_message_bytes

    def chunks(n: int):  # a generator: httpx sends it chunked, without Content-Length
        yield b'{"padding": "'
        for _ in range(n // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    headers = {"Content-Type": "application/json"}
    r = httpx.post(f"{live_server}/api/sessions", content=chunks(limit), headers=headers)
    assert r.status_code == 413
    r = httpx.post(f"{live_server}/api/sessions", content=b" " * (limit + 1), headers=headers)
    assert r.status_code == 413
    # Under the limit, chunked bodies reach the route whole.
    ok = httpx.post(f"{live_server}/api/sessions", content=iter([b'{"data": {"noise": ', b"5}}"]), headers=headers)
    assert ok.status_code == 201, ok.text
    body = ok.json()
    assert body["config"]["data"]["noise"] == 5
    httpx.delete(f"{live_server}/api/sessions/{body['id']}", headers={"Authorization": f"Bearer {body['token']}"})

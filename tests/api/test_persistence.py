"""Persistence through the app: restarts, run history, expiry, storage bound, export and import."""

import importlib.util
import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient

from nnplayground.app import create_app
from nnplayground.config import Settings
from nnplayground.persistence import next_autosave_at
from nnplayground.store import DB_NAME


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    return Settings(data_dir=data_dir, **overrides)


def create(c: TestClient, config: dict[str, Any] | None = None) -> tuple[str, dict[str, str]]:
    r = c.post("/api/sessions", json=config or {})
    assert r.status_code == 201, r.text
    return r.json()["id"], {"Authorization": f"Bearer {r.json()['token']}"}


def train(c: TestClient, sid: str, headers: dict[str, str], epochs: int) -> dict[str, Any]:
    r = c.post(f"/api/sessions/{sid}/train", json={"epochs": epochs}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["state"]


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_sessions_come_back_paused_at_their_epoch_after_a_restart(settings: Settings) -> None:
    with TestClient(create_app(settings)) as c:
        a, ha = create(c, {"data": {"dataset": "xor"}, "training": {"optimizer": "adam", "learning_rate": 0.01}})
        b, hb = create(c)
        state_a = train(c, a, ha, 12)
        assert c.post(f"/api/sessions/{b}/play", headers=hb).json()["state"]["running"]
        history_a = c.get(f"/api/sessions/{a}/history", headers=ha).json()
    with TestClient(create_app(settings)) as c:
        got = c.get(f"/api/sessions/{a}", headers=ha)
        assert got.status_code == 200
        assert got.json()["state"]["epoch"] == 12 and not got.json()["state"]["running"]
        assert got.json()["state"]["train_loss"] == state_a["train_loss"]
        assert c.get(f"/api/sessions/{a}/history", headers=ha).json() == history_a
        assert not c.get(f"/api/sessions/{b}", headers=hb).json()["state"]["running"]  # paused
        assert c.get(f"/api/sessions/{a}", headers=hb).status_code == 403  # b's token does not open a
        assert c.get(f"/api/sessions/{a}").status_code == 401
        assert c.get("/api/health").json()["sessions"] == 2
        # Training goes on from where it was.
        assert train(c, a, ha, 3)["epoch"] == 15


def test_the_database_holds_token_hashes_never_tokens(settings: Settings) -> None:
    with TestClient(create_app(settings)) as c:
        _, headers = create(c)
    token = headers["Authorization"].split()[1]
    raw = b"".join(p.read_bytes() for p in settings.data_dir.rglob("*") if p.is_file())
    assert token.encode() not in raw


def test_autosave_runs_on_its_interval_and_health_reports_storage(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", autosave_seconds=0.1)
    with TestClient(create_app(settings)) as c:
        sid, headers = create(c)
        c.post(f"/api/sessions/{sid}/play", headers=headers)
        # Saved with no shutdown. An autosave may run before the session exists (a slow start):
        # wait for one that wrote its file, reported by the health once it has finished.
        path = settings.data_dir / "checkpoints" / f"{sid}.pt"
        wait_for(lambda: path.exists() and c.get("/api/health").json()["last_autosave"] is not None)
        assert path.exists()
        health = c.get("/api/health").json()
        assert health["max_storage_bytes"] == settings.max_storage_bytes and health["autosave_seconds"] == 0.1
        assert health["storage_bytes"] > 0
        assert health["autosave_interval"] >= 0.1


def test_autosave_stretches_its_interval_to_keep_within_its_share(tmp_path: Path) -> None:
    # Any cycle takes well over 10 us (a thread round trip), so at a share of 1e-5 the next one
    # is at least a second away, ten intervals: health reports the stretched interval.
    settings = make_settings(tmp_path / "data", autosave_seconds=0.1, autosave_share=1e-5)
    with TestClient(create_app(settings)) as c:
        create(c)
        wait_for(lambda: c.get("/api/health").json()["last_autosave"] is not None)
        wait_for(lambda: c.get("/api/health").json()["autosave_interval"] > 1.0)


def test_next_autosave_keeps_its_cadence_unless_saving_would_pass_its_share() -> None:
    # Cheap cycles: a fixed cadence from when each was due, however late it started.
    assert next_autosave_at(10.0, 10.2, 0.1, 5.0, 0.05) == pytest.approx(15.0)
    # A cycle of 0.5 s at a share of 5 %: the next starts 10 s after this one did.
    assert next_autosave_at(10.0, 10.2, 0.5, 5.0, 0.05) == pytest.approx(20.2)
    # A cycle late by more than an interval: the next is due as soon as the share allows.
    assert next_autosave_at(10.0, 30.0, 0.1, 5.0, 0.05) == pytest.approx(32.0)
    assert next_autosave_at(10.0, 30.0, 0.1, 5.0, 1.0) == pytest.approx(30.1)


def test_a_reset_or_reinitialising_change_records_the_run_and_it_reopens(client: TestClient) -> None:
    sid, headers = create(client, {"data": {"dataset": "xor"}})
    ended = train(client, sid, headers, 7)
    assert client.post(f"/api/sessions/{sid}/reset", headers=headers).json()["state"]["epoch"] == 0
    train(client, sid, headers, 2)
    # A live change keeps the run going; a new network ends it.
    client.patch(f"/api/sessions/{sid}", json={"training": {"learning_rate": 0.1}}, headers=headers)
    client.patch(f"/api/sessions/{sid}", json={"network": {"hidden_layers": [3]}}, headers=headers)
    runs = client.get(f"/api/sessions/{sid}/runs", headers=headers).json()["runs"]
    assert [(r["epochs"], r["reason"], r["has_weights"]) for r in runs] == [(2, "reset", True), (7, "reset", True)]
    assert runs[1]["metrics"]["train_loss"] == ended["train_loss"]
    assert runs[0]["config"]["training"]["learning_rate"] == 0.1
    reopened = client.post(f"/api/runs/{runs[1]['id']}/reopen", headers=headers)
    assert reopened.status_code == 201
    body = reopened.json()
    assert body["id"] != sid and body["token"] != headers["Authorization"].split()[1]
    assert body["state"]["epoch"] == 7 and body["state"]["train_loss"] == ended["train_loss"]
    assert body["config"]["network"]["hidden_layers"] == [4, 2]


def test_runs_outlive_a_deleted_session_for_the_holder_of_its_token(client: TestClient) -> None:
    sid, headers = create(client)
    other, other_headers = create(client)
    train(client, sid, headers, 4)
    assert client.delete(f"/api/sessions/{sid}", headers=headers).status_code == 204
    assert client.get(f"/api/sessions/{sid}", headers=headers).status_code == 404
    [run] = client.get(f"/api/sessions/{sid}/runs", headers=headers).json()["runs"]
    assert run["reason"] == "deleted" and run["epochs"] == 4
    assert client.get(f"/api/sessions/{sid}/runs", headers=other_headers).status_code == 403
    assert client.get(f"/api/sessions/{sid}/runs").status_code == 401
    assert client.post(f"/api/runs/{run['id']}/reopen", headers=other_headers).status_code == 403
    assert client.post(f"/api/runs/{run['id']}/reopen").status_code == 401
    assert client.post("/api/runs/nope/reopen", headers=headers).status_code == 404
    assert client.get("/api/sessions/nope/runs", headers=headers).status_code == 404
    assert client.get(f"/api/sessions/{other}/runs", headers=other_headers).json()["runs"] == []
    assert client.post(f"/api/runs/{run['id']}/reopen", headers=headers).json()["state"]["epoch"] == 4


def test_deleting_a_session_deletes_its_stored_row_and_checkpoint(settings: Settings) -> None:
    with TestClient(create_app(settings)) as c:
        sid, headers = create(c)
    path = settings.data_dir / "checkpoints" / f"{sid}.pt"
    assert path.exists()
    with TestClient(create_app(settings)) as c:
        assert c.delete(f"/api/sessions/{sid}", headers=headers).status_code == 204
        assert not path.exists()
    with TestClient(create_app(settings)) as c:
        assert c.get(f"/api/sessions/{sid}", headers=headers).status_code == 404


def test_idle_sessions_expire_unless_a_websocket_watches(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", autosave_seconds=0.1, session_ttl_seconds=1.0)
    with TestClient(create_app(settings)) as c:
        watched, hw = create(c)
        token = hw["Authorization"].split()[1]
        with c.websocket_connect(f"/ws/sessions/{watched}?token={token}") as ws:
            ws.receive_json()
            idle, hi = create(c)
            train(c, idle, hi, 2)
            # Polled through health: a call with the idle session's token would keep it alive.
            wait_for(lambda: c.get("/api/health").json()["sessions"] == 1)
            assert c.get(f"/api/sessions/{idle}", headers=hi).status_code == 404
            assert c.get(f"/api/sessions/{watched}", headers=hw).status_code == 200
        [run] = c.get(f"/api/sessions/{idle}/runs", headers=hi).json()["runs"]
        assert run["reason"] == "expired" and run["epochs"] == 2


def test_over_the_storage_bound_old_checkpoints_are_dropped(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", autosave_seconds=0.1, max_storage_bytes=1)
    with TestClient(create_app(settings)) as c:
        sid, headers = create(c)
        train(c, sid, headers, 2)
        wait_for(lambda: not any((settings.data_dir / "checkpoints").glob("*.pt")))
        assert c.get("/api/health").json()["storage_bytes"] > 0  # the database itself stays
    with TestClient(create_app(settings)) as c:
        state = c.get(f"/api/sessions/{sid}", headers=headers).json()["state"]
        assert state["epoch"] == 0  # its config came back, its weights did not


# ---- export ---------------------------------------------------------------------------------


@pytest.fixture
def trained_session(client: TestClient) -> tuple[str, dict[str, str]]:
    config = {"data": {"dataset": "xor"}, "training": {"optimizer": "adam", "learning_rate": 0.01}}
    sid, headers = create(client, config)
    train(client, sid, headers, 5)
    return sid, headers


@pytest.mark.parametrize("fmt", ["pt", "json", "python", "onnx", "safetensors"])
def test_every_export_format(client: TestClient, trained_session, fmt: str) -> None:
    sid, headers = trained_session
    r = client.get(f"/api/sessions/{sid}/export", params={"format": fmt}, headers=headers)
    optional = {"onnx": "onnx", "safetensors": "safetensors"}.get(fmt)
    if optional and importlib.util.find_spec(optional) is None:
        assert r.status_code == 501
        assert f"pip install 'nnplayground[{optional}]'" in r.json()["detail"]
        return
    assert r.status_code == 200, r.text
    extension = {"python": "py"}.get(fmt, fmt)
    assert re.fullmatch(rf'attachment; filename="nnplayground_[\w-]+\.{extension}"', r.headers["content-disposition"])
    if fmt == "pt":
        ckpt = torch.load(io.BytesIO(r.content), weights_only=True)
        assert ckpt["config"]["data"]["dataset"] == "xor" and ckpt["progress"]["epoch"] == 5
        assert set(ckpt) >= {"model", "optimizer", "state_dict", "history"}
    elif fmt == "json":
        body = r.json()
        assert body["format"] == "nnplayground-json" and isinstance(body["model"]["W0"][0][0], float)
    elif fmt == "python":
        compile(r.text, "export.py", "exec")
        assert not re.search(r"^\s*(import|from)\s+nnplayground", r.text, re.MULTILINE)
    elif fmt == "safetensors":
        from safetensors.torch import load

        assert "layers.0.linear.weight" in load(r.content)
    elif fmt == "onnx":
        import onnx

        onnx.checker.check_model(onnx.load_from_string(r.content))


def test_export_needs_the_token_and_a_known_format(client: TestClient, trained_session) -> None:
    sid, headers = trained_session
    assert client.get(f"/api/sessions/{sid}/export").status_code == 401
    assert client.get(f"/api/sessions/{sid}/export?format=pickle", headers=headers).status_code == 422


@pytest.mark.parametrize(
    ("dataset", "epochs"), [("xor", 150), ("circle", 60)]
)
def test_the_python_export_runs_standalone_and_reproduces_the_session(
    client: TestClient, tmp_path: Path, dataset: str, epochs: int
) -> None:
    sid, headers = create(client, {"data": {"dataset": dataset}, "network": {"hidden_layers": [6, 4]}})
    state = train(client, sid, headers, epochs)
    script = tmp_path / "export.py"
    script.write_text(client.get(f"/api/sessions/{sid}/export?format=python", headers=headers).text)

    def run(*args: str) -> dict[str, float]:
        # The venv's python in an empty directory: nothing but numpy and torch to lean on.
        done = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                              cwd=tmp_path, timeout=300)
        assert done.returncode == 0, done.stderr
        last = done.stdout.strip().splitlines()[-1]
        return {f"{part}_{name}": float(v) for part, name, v in re.findall(r"(\w+) (loss|accuracy) ([\d.]+)", last)}

    loaded = run("--epochs", "0")  # the session's own weights
    assert loaded["train_loss"] == pytest.approx(state["train_loss"], abs=1e-5)
    assert loaded["test_accuracy"] == pytest.approx(state["test_accuracy"], abs=1e-6)
    again = run("--from-scratch")  # the same initial weights and loop: the session's run again
    assert again["test_accuracy"] >= 0.9
    assert again["test_loss"] == pytest.approx(state["test_loss"], rel=0.05, abs=1e-3)


# ---- import ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "content_type"), [("pt", "application/octet-stream"), ("json", "application/json"),
                                                   ("pt", None)])
def test_import_recreates_the_session(client: TestClient, trained_session, fmt: str, content_type: str | None) -> None:
    sid, headers = trained_session
    data = client.get(f"/api/sessions/{sid}/export?format={fmt}", headers=headers).content
    r = client.post("/api/sessions/import", content=data,
                    headers={"Content-Type": content_type} if content_type else {})
    assert r.status_code == 201, r.text
    new = r.json()
    new_headers = {"Authorization": f"Bearer {new['token']}"}
    original = client.get(f"/api/sessions/{sid}", headers=headers).json()
    assert new["id"] != sid and new["config"] == original["config"]
    assert new["state"]["epoch"] == 5 and new["state"]["train_loss"] == original["state"]["train_loss"]
    # Optimiser state came too: both go on identically.
    assert train(client, sid, headers, 2)["train_loss"] == train(client, new["id"], new_headers, 2)["train_loss"]
    assert client.get(f"/api/sessions/{new['id']}", headers=headers).status_code == 403


def test_a_crafted_pickle_is_refused_and_never_executed(client: TestClient, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    buffer = io.BytesIO()
    torch.save({"format": "nnplayground-checkpoint", "model": Exploit()}, buffer)
    import pickle

    for payload in (buffer.getvalue(), pickle.dumps(Exploit())):
        r = client.post("/api/sessions/import", content=payload, headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == ["body"]
    assert not marker.exists()
    assert client.get("/api/health").json()["sessions"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "send the bytes"),
        (b"not anything", "expected a torch.save file"),
        (b'{"format": "nnplayground-json"', "not a JSON export"),
        (json.dumps({"format": "nnplayground-json", "version": 1, "config": {"network": {"hidden_layers": [2]}},
                     "model": {}}).encode(), "missing"),
    ],
)
def test_bad_imports_answer_422_with_the_reason(client: TestClient, body: bytes, message: str) -> None:
    r = client.post("/api/sessions/import", content=body)
    assert r.status_code == 422 and message in r.json()["detail"][0]["msg"]


def test_imports_respect_the_upload_and_network_limits(tmp_path: Path) -> None:
    big = make_settings(tmp_path / "a")
    with TestClient(create_app(big)) as c:
        sid, headers = create(c, {"network": {"hidden_layers": [8, 8]}})
        data = c.get(f"/api/sessions/{sid}/export?format=json", headers=headers).content
    small = make_settings(tmp_path / "b", max_neurons=4, max_upload_bytes=len(data) + 10)
    with TestClient(create_app(small)) as c:
        r = c.post("/api/sessions/import", content=data, headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and "1 to 4 neurons" in r.json()["detail"][0]["msg"]
        r = c.post("/api/sessions/import", content=data + b" " * 20, headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        # Other routes keep their own, smaller limit.
        assert c.post("/api/sessions", content=b"{" + b" " * 70_000 + b"}").status_code == 413


def test_imported_sessions_are_stored_at_once(settings: Settings, tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path / "src"))) as c:
        sid, headers = create(c)
        train(c, sid, headers, 3)
        data = c.get(f"/api/sessions/{sid}/export?format=pt", headers=headers).content
    with TestClient(create_app(settings)) as c:
        new = c.post("/api/sessions/import", content=data).json()
        assert (settings.data_dir / "checkpoints" / f"{new['id']}.pt").exists()
    assert (settings.data_dir / DB_NAME).exists()

"""kill -9 of a real server in the middle of training, then a restart on the same data directory.

Every session must come back, paused, at least where it stood when an autosave that began after
we looked had finished, so at most about one autosave interval of training is lost; the database
must pass SQLite's integrity check. Nothing here asserts on timing: it polls with generous
timeouts and compares against what it observed.
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nnplayground.store import DB_NAME

AUTOSAVE_SECONDS = 1.0
CONFIGS: list[dict[str, Any]] = [
    {"data": {"dataset": "xor"}},
    {"data": {"dataset": "circle"}, "training": {"optimizer": "adam", "learning_rate": 0.01}},
    {"data": {"dataset": "spiral", "classes": 3}, "network": {"hidden_layers": [8, 8], "activation": "relu"}},
    {"problem": "regression", "training": {"batch_mode": "full", "optimizer": "momentum"}},
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], Any], timeout: float = 90.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class Server:
    """`python -m nnplayground serve` in its own process group, as a user would start it."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "NNPG_AUTOSAVE_SECONDS": str(AUTOSAVE_SECONDS)}
        self.log = open(log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nnplayground", "serve", "--port", str(self.port), "--data-dir", str(data_dir),
             "--log-level", "warning"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
        self.http = httpx.Client(base_url=self.url, timeout=30)
        wait_for(lambda: self.proc.poll() is None and self.http.get("/api/health").status_code == 200,
                 what=f"the server on port {self.port} (log: {log})")

    def health(self) -> dict[str, Any]:
        return self.http.get("/api/health").json()

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # graceful: uvicorn runs the lifespan's shutdown
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.http.close()
        self.log.close()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.close()


def test_kill_9_loses_at_most_an_autosave_interval_and_no_data(tmp_path: Path, servers: list[Server]) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "server.log"
    first = Server(data_dir, log)
    servers.append(first)
    sessions = []
    for config in CONFIGS:
        r = first.http.post("/api/sessions", json=config)
        assert r.status_code == 201, r.text
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        assert first.http.post(f"/api/sessions/{r.json()['id']}/play", headers=headers).status_code == 200
        sessions.append((r.json()["id"], headers))

    def epochs() -> dict[str, int]:
        return {sid: first.http.get(f"/api/sessions/{sid}", headers=h).json()["state"]["epoch"] for sid, h in sessions}

    wait_for(lambda: all(e > 0 for e in epochs().values()), what="every session to train")
    observed, seen_at = epochs(), time.time()
    # An autosave that finished after we looked may have taken its snapshot before; the one after
    # it began after it, so once two have finished, everything observed is on disk.
    saves: set[float] = set()

    def two_saves_after_observing() -> bool:
        last = first.health()["last_autosave"]
        if last is not None and last > seen_at:
            saves.add(last)
        return len(saves) >= 2

    wait_for(two_saves_after_observing, what="two autosaves")
    time.sleep(AUTOSAVE_SECONDS / 2)  # crash between two autosaves, with training in flight
    before_kill = epochs()
    rates = {sid: first.http.get(f"/api/sessions/{sid}", headers=h).json()["state"]["epochs_per_second"]
             for sid, h in sessions}
    first.kill9()

    # The database as the crash left it (WAL not yet checkpointed) opens and is intact.
    with sqlite3.connect(data_dir / DB_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == len(CONFIGS)

    second = Server(data_dir, log)
    servers.append(second)
    lost = {}
    for sid, headers in sessions:
        r = second.http.get(f"/api/sessions/{sid}", headers=headers)
        assert r.status_code == 200, r.text
        state = r.json()["state"]
        assert not state["running"]
        assert state["epoch"] >= observed[sid] > 0
        lost[sid] = before_kill[sid] - state["epoch"]
        assert second.http.get(f"/api/sessions/{sid}", headers=sessions[0][1] if sid != sessions[0][0]
                               else sessions[1][1]).status_code == 403
        # Training goes on from the restored state.
        r = second.http.post(f"/api/sessions/{sid}/train", json={"epochs": 1}, headers=headers)
        assert r.status_code == 200 and r.json()["state"]["epoch"] == state["epoch"] + 1
    assert second.health()["sessions"] == len(CONFIGS)
    with sqlite3.connect(data_dir / DB_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for sid, _ in sessions:
        seconds = lost[sid] / rates[sid] if rates[sid] else float("nan")
        print(f"kill -9: session {sid} lost {lost[sid]} epochs (~{seconds:.2f} s at {rates[sid]} epochs/s; "
              f"autosave every {AUTOSAVE_SECONDS} s)")

"""How much training a `kill -9` of the server loses, measured over repeated crashes.

    python bench/kill9.py [--sessions 20] [--cycles 10] [--autosave 5]

Starts `nnplayground serve` on a temporary data directory with N playing sessions (a mix of
configs), then repeats: let them train, `kill -9` the server at a random moment between two
autosaves, run SQLite's integrity check on the database as the crash left it, restart on the same
directory, and compare every session's restored epoch with the epoch it had just before the kill.
Loss is reported in epochs and in seconds of training (lost epochs / the session's mean rate over
the seconds before the kill).
Sessions are played again after each restart. Exit code 0 when every cycle restored every
session intact; 1 otherwise.
"""

import argparse
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

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


def start(data_dir: Path, autosave: float) -> tuple[subprocess.Popen[bytes], httpx.Client]:
    port = free_port()
    env = {**os.environ, "NNPG_AUTOSAVE_SECONDS": str(autosave), "NNPG_MAX_SESSIONS_PER_CLIENT": "1000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnplayground", "serve", "--port", str(port), "--data-dir", str(data_dir),
         "--log-level", "warning"],
        env=env, start_new_session=True,
    )
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    deadline = time.monotonic() + 120
    while True:
        try:
            if http.get("/api/health").status_code == 200:
                return proc, http
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.1)


def states(http: httpx.Client, sessions: list[tuple[str, dict[str, str]]]) -> dict[str, dict[str, Any]]:
    return {sid: http.get(f"/api/sessions/{sid}", headers=h).json()["state"] for sid, h in sessions}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--autosave", type=float, default=5.0, help="NNPG_AUTOSAVE_SECONDS")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        proc, http = start(data_dir, args.autosave)
        sessions = []
        for i in range(args.sessions):
            r = http.post("/api/sessions", json=CONFIGS[i % len(CONFIGS)])
            r.raise_for_status()
            sessions.append((r.json()["id"], {"Authorization": f"Bearer {r.json()['token']}"}))
        lost_epochs: list[int] = []
        lost_seconds: list[float] = []
        for cycle in range(args.cycles):
            for sid, h in sessions:
                http.post(f"/api/sessions/{sid}/play", headers=h).raise_for_status()
            time.sleep(1.0)
            first, t0 = states(http, sessions), time.monotonic()
            # Let every session train past at least one autosave, then crash at a random moment.
            time.sleep(args.autosave * 1.5 + rng.uniform(0, args.autosave))
            before, t1 = states(http, sessions), time.monotonic()
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            with sqlite3.connect(data_dir / "nnplayground.sqlite3") as db:
                integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
            proc, http = start(data_dir, args.autosave)
            after = states(http, sessions)
            missing = [sid for sid, _ in sessions if sid not in after]
            paused = all(not s["running"] for s in after.values())
            epochs = [before[sid]["epoch"] - after[sid]["epoch"] for sid, _ in sessions]
            # Seconds of training lost: lost epochs at the session's mean rate over the last seconds.
            rates = {sid: (before[sid]["epoch"] - first[sid]["epoch"]) / (t1 - t0) for sid, _ in sessions}
            seconds = [e / rates[sid] for e, (sid, _) in zip(epochs, sessions, strict=True) if rates[sid] > 0]
            lost_epochs += epochs
            lost_seconds += seconds
            cycle_ok = integrity == "ok" and not missing and paused and min(a["epoch"] for a in after.values()) > 0
            ok = ok and cycle_ok
            print(f"cycle {cycle + 1}: integrity {integrity}, sessions back {len(after)}/{len(sessions)}, "
                  f"all paused {paused}, lost seconds of training: max {max(seconds):.2f}, "
                  f"mean {statistics.mean(seconds):.2f}", flush=True)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    print(f"\n{args.cycles} kill -9 cycles x {args.sessions} sessions, autosave every {args.autosave} s:")
    print(f"  lost training per session: mean {statistics.mean(lost_seconds):.2f} s, "
          f"median {statistics.median(lost_seconds):.2f} s, max {max(lost_seconds):.2f} s")
    print(f"  lost epochs per session: mean {statistics.mean(lost_epochs):.0f}, max {max(lost_epochs)}")
    print(f"  every cycle intact: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

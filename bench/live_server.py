"""A real `nnplayground serve` process for the benchmarks: start it on a free port, stop it."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from nnplayground.engine.compiled import MIN_ROWS as MIN_COMPILED_ROWS


class BenchError(Exception):
    """Something broke (not a failed target): exit nonzero with this message."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    base: str
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def start_server(data_dir: Path, max_sessions: int, timeout: float = 120.0) -> Server:
    """A server on a free loopback port whose limits allow `max_sessions` from one address."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        NNPG_MAX_SESSIONS=str(max_sessions),
        NNPG_MAX_SESSIONS_PER_CLIENT=str(max_sessions),
        NNPG_IDLE_PAUSE_SECONDS="3600",
    )
    log = data_dir / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "nnplayground",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir / "data"),
        "--device",
        "cpu",
        "--log-level",
        "warning",
    ]
    with open(log, "wb") as out:
        # Own process group, so the kill at the end reaches anything it spawned.
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + timeout
    with httpx.Client(trust_env=False, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BenchError(f"server exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                if client.get(f"{server.base}/api/health").status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
    stop_server(server)
    raise BenchError(f"server not healthy after {timeout:.0f} s:\n{server.log_tail()}")


def stop_server(server: Server) -> None:
    proc = server.proc
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, 5.0), (signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
        try:
            os.killpg(proc.pid, sig)  # the group we created, led by the server's own pid
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


async def wait_for_compiled_steps(http: httpx.AsyncClient, playing: int, timeout: float = 300.0) -> float:
    """Seconds until the server's compiled training steps are ready (they compile in the
    background once 8 sessions of one shape play, or once one session has played alone for
    LONE_STEPS steps; steps are eager meanwhile). No wait when the server does not compile or
    2-7 sessions play."""
    t0 = time.monotonic()
    steps = (await http.get("/api/health")).json().get("compiled_steps", {})
    if not steps.get("enabled") or 1 < playing < MIN_COMPILED_ROWS:
        return 0.0
    # A lone session's graph is queued only after LONE_STEPS steps: wait for one more graph than now.
    before = steps["ready"] + steps["failed"] if playing == 1 else 0
    settled_at = None  # a group's evaluations may be queued a while after its step: settle 1.5 s
    while time.monotonic() - t0 < timeout:
        steps = (await http.get("/api/health")).json()["compiled_steps"]
        if not steps["compiling"] and steps["ready"] + steps["failed"] > before:
            settled_at = settled_at or time.monotonic()
            if time.monotonic() - settled_at >= 1.5:
                break
        else:
            settled_at = None
        await asyncio.sleep(0.5)
    return time.monotonic() - t0

"""Load: N websocket clients for a minute against a real server; no errors, bounded memory growth.

    python bench/load.py [--clients 200] [--seconds 60] [--warmup 20] [--rss-bound-mb 50] [--seed 0]

Starts `python -m nnplayground serve` as a subprocess (free loopback port, temporary data dir,
NNPG_MAX_SESSIONS and NNPG_MAX_SESSIONS_PER_CLIENT raised to fit), then:

1. creates one session per client by REST (a seeded mix of configs, so the engine holds several
   groups), 8 at a time;
2. connects every client (`websockets`, compression off), reads hello and dataset, sends `play`;
3. warms up for `--warmup` seconds (histories fill, allocators settle), then reads the server's
   RSS from /proc/<pid>/status ("before");
4. runs `--seconds`: every client reads its frames (header decoded and checked: its own session
   id, non-decreasing epoch and seq) and, at seeded random moments (about every 5 s each), sends a
   command: `update` of the learning rate, `pause` then `play`, `step`, or `reset` then `play`;
   every few seconds, REST reads and /api/health are checked too;
5. reads RSS again ("after"), closes the clients, deletes the sessions, reads RSS once more.

Errors (must be 0): a client exception or unexpected close, an `error` message from the server, a
frame of another session or going backwards, a REST call that fails, a client that saw no frame
for 30 s while its session trained (its last frame showed it running; a session that paused
itself, e.g. diverged after a command raised its rate, is counted apart). PASS when there are no
errors and RSS grew by at most `--rss-bound-mb` between "before" and "after". Exit code 0 on
PASS, 1 on FAIL, 2 when the run could not be made (server would not start, sessions could not be
created).
"""

import argparse
import asyncio
import json
import os
import random
import struct
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from live_server import BenchError, Server, start_server, stop_server
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

CONFIGS: list[dict[str, Any]] = [
    {},  # TensorFlow Playground's defaults: circle, 500 points, [4, 2] tanh, SGD
    {"data": {"dataset": "xor"}, "network": {"hidden_layers": [4, 4], "activation": "relu"}},
    {"data": {"dataset": "spiral", "classes": 3, "noise": 10}, "network": {"hidden_layers": [8, 8]},
     "training": {"optimizer": "adam", "learning_rate": 0.01}},
    {"problem": "regression", "training": {"optimizer": "momentum", "batch_mode": "full"}},
    {"data": {"dataset": "gauss", "num_points": 200}, "network": {"hidden_layers": [3]}},
]
COMMAND_EVERY = 5.0  # seconds between one client's commands, on average
STALL = 30.0  # a playing session whose client sees no frame for this long counts as an error
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes(pid: int) -> int:
    """Resident set size of a process, from /proc/<pid>/status (VmRSS)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise BenchError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mb(n: float) -> str:
    return f"{n / 2**20:.1f} MB"


# ---- the server: live_server.py (shared with serve.py) -----------------------------------------------

# ---- the clients -------------------------------------------------------------------------------------------

@dataclass
class Stats:
    frames: int = 0
    frame_bytes: int = 0
    json_messages: int = 0
    commands: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    rest_calls: int = 0
    stops: Counter[str] = field(default_factory=Counter)  # frames showing a session that paused itself, by reason


def header(data: bytes) -> dict[str, Any]:
    """The JSON header of a binary frame (u32 LE length + JSON); the sections are not decoded."""
    (length,) = struct.unpack_from("<I", data, 0)
    return json.loads(data[4 : 4 + length])


class Client:
    def __init__(self, base: str, session: dict[str, Any], rng: random.Random, stats: Stats) -> None:
        self.uri = base.replace("http://", "ws://", 1) + f"/ws/sessions/{session['id']}?token={session['token']}"
        self.id = session["id"]
        self.rng = rng
        self.stats = stats
        self.ws: ClientConnection | None = None
        self.last_epoch = -1
        self.last_seq = -1
        self.last_frame = time.monotonic()
        self.playing = False  # a play was sent and no pause, step or stop came since
        self.running = False  # as the last frame showed
        self.frames = 0
        self.stop = asyncio.Event()

    def error(self, message: str) -> None:
        self.stats.errors.append(f"{self.id}: {message}")

    async def open(self) -> None:
        self.ws = await connect(self.uri, compression=None, max_size=None, open_timeout=60, ping_interval=None)
        for kind in ("hello", "dataset"):
            message = json.loads(await asyncio.wait_for(self.ws.recv(), 60))
            if message.get("type") != kind:
                raise BenchError(f"{self.id}: expected {kind}, got {message.get('type')}")
        await self.command("play")

    async def command(self, kind: str, **fields: Any) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps({"type": kind, **fields}))
        self.stats.commands[kind] += 1
        if kind == "play":
            self.playing = True
        elif kind in ("pause", "step"):
            self.playing = False

    async def read(self) -> None:
        assert self.ws is not None
        try:
            async for message in self.ws:
                if isinstance(message, bytes):
                    self.on_frame(message)
                else:
                    self.stats.json_messages += 1
                    data = json.loads(message)
                    if data.get("type") == "error":
                        self.error(f"error message: {data.get('message')}")
                    elif data.get("type") == "config":
                        self.last_epoch = min(self.last_epoch, data["state"]["epoch"])  # reset: epoch 0 again
        except ConnectionClosed as e:
            if not self.stop.is_set():
                self.error(f"connection closed: {e}")
        except Exception as e:  # anything else is a client-side failure worth reporting
            self.error(f"{type(e).__name__}: {e}")

    def on_frame(self, data: bytes) -> None:
        h = header(data)
        self.stats.frames += 1
        self.frames += 1
        self.stats.frame_bytes += len(data)
        self.last_frame = time.monotonic()
        if h.get("type") != "frame" or h.get("id") != self.id:
            self.error(f"frame of {h.get('id')} on this session's stream")
        if h["seq"] <= self.last_seq:
            self.error(f"frame seq went from {self.last_seq} to {h['seq']}")
        self.last_seq = h["seq"]
        self.last_epoch = h["state"]["epoch"]
        self.running = bool(h["state"]["running"])
        reason = h["state"].get("stop_reason")
        if reason and not self.running:
            self.stats.stops[reason.split(":")[0].split(" (")[0]] += 1
            self.playing = False  # paused itself (diverged, say): frames stop until the next play

    async def drive(self) -> None:
        """Occasional commands, at seeded random moments, until stopped."""
        while not self.stop.is_set():
            try:
                await asyncio.wait_for(self.stop.wait(), self.rng.expovariate(1 / COMMAND_EVERY))
                return
            except TimeoutError:
                pass
            if self.playing and self.running and time.monotonic() - self.last_frame > STALL:
                self.error(f"no frame for {STALL:.0f} s while the session trained")
            choice = self.rng.random()
            try:
                if choice < 0.5:
                    await self.command("update", config={"training": {"learning_rate": self.rng.choice(
                        [0.003, 0.01, 0.03, 0.1, 0.3])}})
                elif choice < 0.75:
                    await self.command("pause")
                    await asyncio.sleep(self.rng.uniform(0.1, 1.0))
                    await self.command("play")
                elif choice < 0.9:
                    await self.command("step")
                    await self.command("play")
                else:
                    await self.command("reset")
                    await self.command("play")
            except ConnectionClosed as e:
                if not self.stop.is_set():
                    self.error(f"connection closed while sending: {e}")
                return

    async def close(self) -> None:
        self.stop.set()
        if self.ws is not None:
            await self.ws.close()


async def rest_checks(base: str, sessions: list[dict[str, Any]], stats: Stats, rng: random.Random,
                      stop: asyncio.Event) -> None:
    """REST beside the websockets: a session's state and /api/health every second or so."""
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=60) as http:
        while not stop.is_set():
            s = rng.choice(sessions)
            for r in (await http.get(f"/api/sessions/{s['id']}", headers={"Authorization": f"Bearer {s['token']}"}),
                      await http.get("/api/health")):
                stats.rest_calls += 1
                if r.status_code != 200:
                    stats.errors.append(f"REST {r.request.url.path}: {r.status_code} {r.text[:200]}")
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except TimeoutError:
                pass


async def create_sessions(base: str, n: int, rng: random.Random) -> list[dict[str, Any]]:
    gate = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=120) as http:

        async def one(config: dict[str, Any]) -> dict[str, Any]:
            async with gate:
                r = await http.post("/api/sessions", json=config)
            if r.status_code != 201:
                raise BenchError(f"creating a session: {r.status_code} {r.text[:300]}")
            return r.json()

        return list(await asyncio.gather(*(one(rng.choice(CONFIGS)) for _ in range(n))))


async def delete_sessions(base: str, sessions: list[dict[str, Any]]) -> int:
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=120) as http:
        codes = [
            (await http.delete(f"/api/sessions/{s['id']}", headers={"Authorization": f"Bearer {s['token']}"}))
            .status_code
            for s in sessions
        ]
    return sum(c != 204 for c in codes)


async def run(args: argparse.Namespace, server: Server) -> bool:
    rng = random.Random(args.seed)
    pid = server.proc.pid
    rss_idle = rss_bytes(pid)
    t0 = time.monotonic()
    sessions = await create_sessions(server.base, args.clients, rng)
    stats = Stats()
    clients = [Client(server.base, s, random.Random(rng.random()), stats) for s in sessions]
    gate = asyncio.Semaphore(20)

    async def open_one(c: Client) -> None:
        async with gate:
            await c.open()

    await asyncio.gather(*(open_one(c) for c in clients))
    readers = [asyncio.create_task(c.read()) for c in clients]
    print(f"{len(sessions)} sessions created and {len(clients)} clients playing in {time.monotonic() - t0:.1f} s; "
          f"warming up {args.warmup:.0f} s")
    await asyncio.sleep(args.warmup)

    rss_before, cpu_before, frames_before = rss_bytes(pid), cpu_seconds(pid), stats.frames
    per_client_before = [c.frames for c in clients]
    t_start = time.monotonic()
    stop = asyncio.Event()
    drivers = [asyncio.create_task(c.drive()) for c in clients]
    rest = asyncio.create_task(rest_checks(server.base, sessions, stats, rng, stop))
    await asyncio.sleep(args.seconds)
    elapsed = time.monotonic() - t_start
    rss_after, cpu_after, frames = rss_bytes(pid), cpu_seconds(pid), stats.frames - frames_before
    per_client = sorted(c.frames - b for c, b in zip(clients, per_client_before, strict=True))
    epochs = []
    async with httpx.AsyncClient(base_url=server.base, trust_env=False, timeout=60) as http:
        health = (await http.get("/api/health")).json()
        for s in sessions[:: max(1, len(sessions) // 20)]:
            epochs.append((await http.get(f"/api/sessions/{s['id']}",
                                          headers={"Authorization": f"Bearer {s['token']}"})).json()["state"]["epoch"])

    stop.set()
    for c in clients:
        c.stop.set()
    await asyncio.gather(*drivers, rest)
    await asyncio.gather(*(c.close() for c in clients))
    await asyncio.gather(*readers)
    failed_deletes = await delete_sessions(server.base, sessions)
    if failed_deletes:
        stats.errors.append(f"{failed_deletes} sessions could not be deleted")
    await asyncio.sleep(2.0)
    rss_end = rss_bytes(pid)

    growth = rss_after - rss_before
    bound = args.rss_bound_mb * 2**20
    ok = not stats.errors and growth <= bound
    commands = sum(stats.commands.values()) - len(clients)  # the first play of each client is not counted
    print(f"clients: {len(clients)}, measured for {elapsed:.1f} s after a {args.warmup:.0f} s warm-up")
    print(f"frames received: {frames} ({frames / elapsed:.0f}/s in all, {frames / elapsed / len(clients):.1f}/s "
          f"per client, mean {stats.frame_bytes / max(stats.frames, 1) / 1024:.1f} KB); per client: min "
          f"{per_client[0]}, median {per_client[len(per_client) // 2]}, max {per_client[-1]}")
    print(f"commands sent: {commands} ({dict(stats.commands)}); REST calls: {stats.rest_calls}; "
          f"JSON messages received: {stats.json_messages}")
    print(f"epochs of sampled sessions at the end: min {min(epochs)}, max {max(epochs)}; "
          f"server CPU {100 * (cpu_after - cpu_before) / elapsed:.0f}% of one core; health: {health['status']}")
    print(f"server RSS: idle {mb(rss_idle)}, after warm-up {mb(rss_before)}, after the run {mb(rss_after)} "
          f"(growth {mb(growth)}, bound {mb(bound)}), after closing and deleting every session {mb(rss_end)}")
    if stats.stops:
        print(f"frames of sessions that had paused themselves (a command's new rate made them diverge, say), by "
              f"reason: {dict(stats.stops)}")
    print(f"errors: {len(stats.errors)}")
    for e in stats.errors[:20]:
        print(f"  {e}")
    print("PASS" if ok else "FAIL")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0, help="measured run, after the warm-up")
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--rss-bound-mb", type=float, default=50.0, help="allowed RSS growth over the run")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nnpg-load-") as tmp:
        try:
            server = start_server(Path(tmp), args.clients + 50)
        except BenchError as e:
            print(f"could not start: {e}", file=sys.stderr)
            return 2
        try:
            ok = asyncio.run(run(args, server))
        except BenchError as e:
            print(f"could not run: {e}\n{server.log_tail()}", file=sys.stderr)
            return 2
        finally:
            stop_server(server)
        log = server.log_tail(15)
        if "Traceback" in log or "ERROR" in log:
            print(f"server log (tail):\n{log}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""A classroom on the real server: one room, N students playing over websockets, one dashboard.

    python bench/classroom.py [--sizes 30,100] [--seconds 5] [--warmup 3]

Starts `nnplayground serve` (bench/live_server.py: free loopback port, temporary data dir, limits
raised), and for each N:

1. a teacher creates a room (POST /api/rooms); N students join it (POST /api/rooms/{code}/join);
2. every student opens its session stream (`websockets`, compression off) and sends play; the
   teacher opens the dashboard (`/ws/rooms/{code}?token=`);
3. after the warm-up, it measures over `--seconds`: frames/s of every student stream (and epochs/s
   from the frames' headers), roster frames/s on the dashboard, how many of them held the whole
   roster (N students, each with a thumbnail), and their size;
4. closes the room and deletes the sessions.

Targets (issue 6): the dashboard receives the whole roster at >= 2 updates/s and every student
keeps >= 10 frames/s at N = 100. Clients decode only the JSON header of each frame (u32 LE length
+ JSON), all in this one asyncio process; its CPU% is printed, so a client-bound run shows as
such. Exit 0 whenever the measurement ran, pass or fail; nonzero only on errors.
"""

import argparse
import asyncio
import json
import os
import statistics
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from live_server import BenchError, start_server, stop_server, wait_for_compiled_steps
from websockets.asyncio.client import ClientConnection, connect

MIN_ROSTERS_PER_S = 2.0
MIN_STUDENT_FPS = 10.0


def frame_header(data: bytes) -> dict[str, Any]:
    (hlen,) = struct.unpack_from("<I", data, 0)
    return json.loads(data[4 : 4 + hlen])


@dataclass
class Stream:
    """One websocket's log: (time, header) of every binary frame."""

    ws: ClientConnection
    log: list[tuple[float, dict[str, Any], int]] = field(default_factory=list)
    error: str | None = None

    async def read(self) -> None:
        try:
            async for message in self.ws:
                if isinstance(message, bytes):
                    self.log.append((time.monotonic(), frame_header(message), len(message)))
                elif json.loads(message).get("type") == "error":
                    self.error = f"server error: {message[:200]}"
        except Exception as e:  # a closed socket ends the reader; the result says why
            self.error = self.error or f"{type(e).__name__}: {e}"

    def window(self, t0: float, t1: float) -> list[tuple[float, dict[str, Any], int]]:
        return [e for e in self.log if t0 <= e[0] <= t1]


async def _open(url: str) -> ClientConnection:
    return await connect(url, compression=None, max_size=None, proxy=None, open_timeout=30, ping_interval=None)


async def run_size(base: str, n: int, warmup: float, seconds: float, with_dashboard: bool = True) -> dict[str, Any]:
    ws_base = base.replace("http://", "ws://", 1)
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=60.0) as http:
        r = await http.post("/api/rooms", json={"name": f"bench {n}", "max_students": n})
        if r.status_code != 201:
            raise BenchError(f"POST /api/rooms: {r.status_code} {r.text[:300]}")
        room = r.json()
        code, teacher = room["code"], {"Authorization": f"Bearer {room['teacher_token']}"}
        sem = asyncio.Semaphore(8)

        async def join(i: int) -> dict[str, Any]:
            async with sem:
                j = await http.post(f"/api/rooms/{code}/join", json={"nickname": f"student {i}"})
                if j.status_code != 201:
                    raise BenchError(f"join: {j.status_code} {j.text[:300]}")
                return j.json()

        t_setup = time.monotonic()
        students = await asyncio.gather(*(join(i) for i in range(n)))

        async def open_student(s: dict[str, Any]) -> Stream:
            async with sem:
                ws = await _open(f"{ws_base}/ws/sessions/{s['session_id']}?token={s['token']}")
                for _ in range(2):  # hello, dataset
                    await asyncio.wait_for(ws.recv(), 30)
                return Stream(ws)

        streams = await asyncio.gather(*(open_student(s) for s in students))
        dashboard_url = f"{ws_base}/ws/rooms/{code}?token={room['teacher_token']}"
        # Without a dashboard: a stream on the teacher's own session instead (same socket count).
        dashboard = Stream(await _open(
            dashboard_url if with_dashboard else f"{ws_base}/ws/sessions/{room['room']['teacher_session_id']}"
            f"?token={room['teacher_token']}"
        ))
        setup_s = time.monotonic() - t_setup
        readers = [asyncio.create_task(s.read()) for s in [*streams, dashboard]]
        try:
            for s in streams:
                await s.ws.send(json.dumps({"type": "play"}))
            # The class's training step compiles in the background (steps eager meanwhile): the
            # warm-up starts once it is ready, as in a lesson after its first minute.
            compile_wait_s = await wait_for_compiled_steps(http, n)
            t0 = time.monotonic() + warmup
            t1 = t0 + seconds
            await asyncio.sleep(warmup)
            cpu0 = time.process_time()
            await asyncio.sleep(seconds)
            client_cpu = (time.process_time() - cpu0) / seconds * 100
        finally:
            for t in readers:
                t.cancel()
            await asyncio.gather(*(s.ws.close() for s in [*streams, dashboard]), return_exceptions=True)
            await http.delete(f"/api/rooms/{code}", headers=teacher)
            await asyncio.gather(*(
                http.delete(f"/api/sessions/{s['session_id']}", headers={"Authorization": f"Bearer {s['token']}"})
                for s in students
            ), return_exceptions=True)
    fps, eps = [], []
    for s in streams:
        w = s.window(t0, t1)
        fps.append(len(w) / seconds)
        if len(w) >= 2 and w[-1][0] > w[0][0]:
            eps.append((w[-1][1]["state"]["epoch"] - w[0][1]["state"]["epoch"]) / (w[-1][0] - w[0][0]))
    rosters = [e for e in dashboard.window(t0, t1) if e[1]["type"] == "roster"]
    whole = [
        h for _, h, _ in rosters
        if len(h["students"]) == n and all(x["thumbnail"] is not None for x in h["students"])
    ]
    return {
        "n": n, "setup_s": setup_s, "fps_min": min(fps), "fps_median": statistics.median(fps),
        "eps_min": min(eps) if eps else 0.0, "eps_median": statistics.median(eps) if eps else 0.0,
        "rosters_per_s": len(rosters) / seconds, "whole_rosters_per_s": len(whole) / seconds,
        "roster_bytes": statistics.mean(b for _, _, b in rosters) if rosters else 0,
        "client_cpu_pct": client_cpu, "compile_wait_s": compile_wait_s,
        "errors": [s.error for s in [*streams, dashboard] if s.error and "ConnectionClosed" not in s.error][:3],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="30,100")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--compare", action="store_true", help="also run each N without the dashboard")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    biggest = max(sizes)
    os.environ.update(
        NNPG_MAX_STUDENTS_PER_ROOM=str(biggest), NNPG_AUTOSAVE_SECONDS="60",
    )
    with tempfile.TemporaryDirectory(prefix="nnpg-classroom-") as tmp:
        server = start_server(Path(tmp), max_sessions=biggest + 10)
        try:
            print(f"load average {os.getloadavg()}, device cpu, {args.seconds:.0f} s windows")
            print("| N | student frames/s min / median | epochs/s min / median | rosters/s (whole) "
                  "| bytes/roster | client CPU | compiled after |")
            print("| --- | --- | --- | --- | --- | --- | --- |")
            failed = False
            runs = [(n, dash) for n in sizes for dash in ((True, False) if args.compare else (True,))]
            for n, dash in runs:
                r = asyncio.run(run_size(server.base, n, args.warmup, args.seconds, dash))
                label = f"{n}" if dash else f"{n}, no dashboard"
                print(f"| {label} | {r['fps_min']:.1f} / {r['fps_median']:.1f} | {r['eps_min']:.1f} / "
                      f"{r['eps_median']:.1f} | {r['rosters_per_s']:.1f} ({r['whole_rosters_per_s']:.1f}) "
                      f"| {r['roster_bytes']:,.0f} | {r['client_cpu_pct']:.0f} % | {r['compile_wait_s']:.1f} s |",
                      flush=True)
                if r["errors"]:
                    print(f"  errors: {r['errors']}")
                ok = r["whole_rosters_per_s"] >= MIN_ROSTERS_PER_S and r["fps_min"] >= MIN_STUDENT_FPS
                failed |= dash and n >= 100 and not ok
            print("targets at N >= 100 (whole roster >= 2/s, every student >= 10 frames/s):",
                  "met" if not failed else "NOT met")
        finally:
            stop_server(server)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)

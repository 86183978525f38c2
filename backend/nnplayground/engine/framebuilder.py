"""The frame-builder process: decision grids and frame encoding outside the server's interpreter.

Why: with every session of a class watched, drawing frames (grid passes, quantising, zlib, JSON)
took as much of the GIL as training did, and the two threads slowed each other down: the worker
gives the GIL up inside every torch op and waits to win it back. In a process of its own the
drawing runs on another core with its own interpreter (bench/serve.py: docs/performance.md).

`FrameBuilder.shared()` is one child per server process, started in the background on first use
and shared by every engine in it (tests start many). The child runs `serve(FD)` below: requests
(pickled `DrawRequest`s) come over a socket pair, frames go back. Until the child is ready, or
when it has died, the caller draws on its own thread: frames never stop.
"""

import logging
import os
import pickle
import queue
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from typing import Any

import torch

from .collector import LongLivedObjects
from .framedraw import DrawRequest, FrameDrawer

log = logging.getLogger(__name__)

START_TIMEOUT = 120.0  # seconds for the child to import torch and say it is ready
RETRY_AFTER = 5.0  # seconds before a child that failed or died is started again, doubling while
MAX_RETRY_AFTER = 300.0  # starts keep failing (each costs a torch import), up to this
DRAW_TIMEOUT = 10.0  # seconds a draw may take in the child before it counts as hung (a job takes ms)
MAX_LABEL_SETS = 10_000  # label sets the child may hold before it is told to forget them all
STATUS = b"status"  # a request for the child's graph states alone, nothing drawn
CHILD_MAIN = (
    "import sys; from nnplayground.engine.framebuilder import serve; serve(int(sys.argv[1]), int(sys.argv[2]))"
)


class FrameBuildError(RuntimeError):
    """The child could not draw a request (its traceback is the message); the child lives on."""


@dataclass(eq=False)
class Drawing:
    """A request sent to the child (`FrameBuilder.begin`), its reply read by `finish`."""

    req: DrawRequest
    sent: bool = False  # it went to the child (else it is drawn here at finish)
    labels: set[int] = field(default_factory=set)  # label sets the child holds once it is read
    generation: int = 0  # the child's label store it was sent to (FrameBuilder._generation)
    reply: tuple[str, Any] | None = None
    lost: bool = False  # the child failed before answering: drawn here instead


class FrameBuilder:
    """Draws requests in the child process when it is up, on the calling thread otherwise.

    `begin` sends a request and returns; `finish` reads its frames. Between the two the caller may
    send another: the child draws one while the caller hands out the last one's frames and
    prepares the next (serially, the child idled half the time: bench/serve.py at N = 200).
    Replies come in the order sent; any caller reads the ones ahead of its own.
    """

    _shared: "FrameBuilder | None" = None
    _shared_lock = threading.Lock()

    def __init__(self) -> None:
        self._local = FrameDrawer(torch.device("cpu"), compiles=False)  # stands in a while: no compiles
        self._lock = threading.Lock()  # one request at a time on the connection
        self._conn: Connection | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._starting = False
        self._failed_at = -MAX_RETRY_AFTER
        self._retry_after = RETRY_AFTER
        self._labels_sent: set[int] = set()  # what the current child holds
        self._generation = 0  # bumped whenever the child's label store is emptied
        self._inflight: deque[Drawing] = deque()  # sent, replies not read yet, oldest first
        self.draw_timeout = DRAW_TIMEOUT
        self.child_main = CHILD_MAIN
        self.niceness = 0  # added to the child's niceness when it starts (Settings.frame_builder_nice)
        self.remote_draws = 0
        self.local_draws = 0
        # The child's compiled plane passes (grid, neuron maps) by state, as it last said.
        self.grid_graphs: dict[str, int] = {}
        self.child_freezes = 0  # the child's collector freezes (collector.py), as it last said

    @classmethod
    def shared(cls) -> "FrameBuilder":
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    @property
    def ready(self) -> bool:
        return self._conn is not None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._conn is not None else None

    def start(self) -> None:
        """Start the child in the background, unless it runs, is starting, or failed a moment ago."""
        with self._lock:
            if self._conn is not None or self._starting or time.monotonic() - self._failed_at < self._retry_after:
                return
            self._starting = True
        threading.Thread(target=self._spawn, name="nnpg-frame-builder-start", daemon=True).start()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> bool:
        self.start()
        deadline = time.monotonic() + timeout
        while not self.ready and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.ready

    def _spawn(self) -> None:
        parent, child = socket.socketpair()
        proc: subprocess.Popen[bytes] | None = None
        try:
            env = {**os.environ, "OMP_NUM_THREADS": "1"}
            proc = subprocess.Popen(
                [sys.executable, "-c", self.child_main, str(child.fileno()), str(self.niceness)],
                pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, env=env,
            )
            child.close()
            conn = Connection(parent.detach())
            if not conn.poll(START_TIMEOUT) or conn.recv_bytes() != b"ready":
                raise RuntimeError("the frame builder did not start")
        except Exception:  # noqa: BLE001 - frames are drawn locally meanwhile
            log.exception("starting the frame-builder process failed; drawing frames in-process")
            if proc is not None:
                proc.kill()
                proc.wait(5)
            with self._lock:
                self._starting, self._failed_at = False, time.monotonic()
                self._retry_after = min(2 * self._retry_after, MAX_RETRY_AFTER)
            return
        with self._lock:
            self._conn, self._proc, self._starting = conn, proc, False
            self._retry_after = RETRY_AFTER
            self._forget_labels()

    def draw(self, req: DrawRequest) -> list[bytes]:
        return self.finish(self.begin(req))

    def begin(self, req: DrawRequest) -> Drawing:
        """Send a request to the child, if it is up, without waiting for its frames."""
        d = Drawing(req)
        with self._lock:
            if self._conn is None:
                return d
            try:
                wire_req, d.labels = self._wire(req)
                wire = pickle.dumps(wire_req, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - a bug, but frames must not stop over it
                log.exception("a frame request could not be pickled; drawing it in-process")
                return d
            if wire_req.forget_labels:
                self._forget_labels()
            d.generation = self._generation
            try:
                self._conn.send_bytes(wire)
            except OSError as exc:
                self._fail(exc)
                return d
            d.sent = True
            self._inflight.append(d)
        return d

    def finish(self, d: Drawing) -> list[bytes]:
        """The frames of a request `begin` sent: the child's, or drawn here if it was not sent or
        the child failed meanwhile. A request the child could not draw raises FrameBuildError."""
        with self._lock:
            while d.sent and d.reply is None and not d.lost:
                self._settle_next()
            if d.reply is not None:
                status, payload = d.reply
                if status != "ok":
                    raise FrameBuildError(payload)
                self.remote_draws += 1
                return payload[0]
        self.start()
        self.local_draws += 1
        return self._local.draw(d.req)

    def refresh_states(self) -> None:
        """Ask the child for its graphs' states. They come back with every draw; with nothing
        drawn (no one watching) a compile that finished would show as compiling for ever, and
        /api/health (and a benchmark waiting for it) would wait on it."""
        with self._lock:
            while self._conn is not None and self._inflight:  # replies come first, in order
                self._settle_next()
            if self._conn is None:
                return
            try:
                self._conn.send_bytes(STATUS)
            except OSError as exc:
                self._fail(exc)
                return
            reply = self._read()
            if reply is not None and reply[0] == "ok":
                _, self.grid_graphs, self.child_freezes = reply[1]

    def _read(self) -> tuple[str, Any] | None:
        """The child's next reply (lock held); None if it failed, which is then dropped
        (TimeoutError is an OSError: a hung child is killed)."""
        assert self._conn is not None
        try:
            if not self._conn.poll(self.draw_timeout):
                raise TimeoutError(f"no answer in {self.draw_timeout:.0f} s")
            reply: tuple[str, Any] = pickle.loads(self._conn.recv_bytes())
            return reply
        except (OSError, EOFError) as exc:
            self._fail(exc)
            return None

    def _settle_next(self) -> None:
        """Read the next reply (lock held) and record it for the oldest request in flight: the
        labels the child now holds, its graphs. A failed child leaves every request lost."""
        reply = self._read()
        if reply is None:
            return
        d = self._inflight.popleft()
        d.reply = reply
        status, payload = reply
        if d.generation == self._generation:  # else the child has forgotten them since
            self._labels_sent |= d.labels  # the child stored them before drawing
            if status != "ok":
                self._forget_labels()  # whatever the child lacked goes again next time
        if status == "ok":
            _, self.grid_graphs, self.child_freezes = payload

    def _forget_labels(self) -> None:
        self._labels_sent = set()
        self._generation += 1

    def _fail(self, exc: BaseException) -> None:
        """The child failed (lock held): what was sent to it is drawn here, and it is dropped."""
        log.warning("the frame-builder process failed (%s); drawing frames in-process until another is up", exc)
        for d in self._inflight:
            d.lost = True
        self._inflight.clear()
        self._drop()

    def _wire(self, req: DrawRequest) -> tuple[DrawRequest, set[int]]:
        """The request as sent, labels the child already holds left out (they were most of the
        bytes), and the label sets it will hold once this one has gone through."""
        forget = len(self._labels_sent) > MAX_LABEL_SETS
        held = set() if forget else self._labels_sent
        items, sent = [], set()
        for item in req.items:
            if item.labels_key is not None and item.labels_key in held:
                item = replace(item, labels=None)
            elif item.labels_key is not None and item.labels is not None:
                sent.add(item.labels_key)
            items.append(item)
        return replace(req, items=items, forget_labels=forget), sent

    def _drop(self) -> None:
        """Forget a dead child (lock held); the next draw starts another after a pause."""
        if self._conn is not None:
            self._conn.close()
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(5)
        self._conn, self._proc, self._failed_at = None, None, time.monotonic()
        self._forget_labels()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()  # the child reads EOF and exits
            if self._proc is not None:
                try:
                    self._proc.wait(10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
            for d in self._inflight:
                d.lost = True  # drawn here by whoever finishes it
            self._inflight.clear()
            self._conn, self._proc = None, None


def serve(fd: int, niceness: int = 0) -> None:
    """The child's loop: a request in, ("ok", (frames, grid graph states, freezes)) or ("error", text)
    out, until EOF."""
    if niceness and hasattr(os, "nice"):
        # Lower priority than the training thread: when both want a busy core, training gets it
        # (and the frames, paced by their cost, slow down a little instead of training).
        os.nice(niceness)
    torch.set_num_threads(1)
    drawer = FrameDrawer(torch.device("cpu"))
    heap = LongLivedObjects()  # a process of its own that only draws: it always freezes
    heap.freeze_if_new()
    labels: dict[int, dict[str, Any]] = {}  # labels_key -> a dataset's labels, sent once (FrameBuilder._wire)
    conn = Connection(fd)
    try:
        conn.send_bytes(b"ready")
    except OSError:
        return  # the server stopped before this process was ready
    # Requests are read by a thread of their own: the server sends the next request before it
    # reads the last reply, and with both sides blocked on a full socket each would wait for ever.
    requests: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    threading.Thread(target=_read_requests, args=(conn, requests), name="requests", daemon=True).start()
    while True:
        raw = requests.get()
        if raw is None:
            return  # the server closed the connection or died: nothing left to draw for
        reply: tuple[str, Any]
        if raw == STATUS:
            status = ("ok", ([], drawer.passes.states(), heap.freezes))
            conn.send_bytes(pickle.dumps(status, protocol=pickle.HIGHEST_PROTOCOL))
            continue
        try:
            req = pickle.loads(raw)
            if req.forget_labels:
                labels.clear()
            for item in req.items:
                if item.labels_key is not None:
                    if item.labels is None:
                        item.labels = labels[item.labels_key]
                    else:
                        labels[item.labels_key] = item.labels
            reply = ("ok", (drawer.draw(req), drawer.passes.states(), heap.freezes))
        except Exception as exc:  # noqa: BLE001 - one bad request must not end the process
            import traceback

            reply = ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}")
        conn.send_bytes(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
        heap.freeze_if_new()  # after the reply: a grid pass compiled for this request


def _read_requests(conn: Connection, requests: "queue.SimpleQueue[bytes | None]") -> None:
    """The child's reader: every request as it comes, then None at EOF."""
    while True:
        try:
            requests.put(conn.recv_bytes())
        except (EOFError, OSError):
            requests.put(None)
            return

"""EngineCore: the worker thread, its command queue, the training loop and the stream ticks.

Every method here runs on the worker thread except `_submit*`, which only enqueue. Engine
(engine.py) adds the public commands on top.
"""

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

import numpy as np
import torch

from ..config import Settings
from ..schemas import SessionState
from .capture import StepCapture, record_cuda_graph
from .collector import LongLivedObjects
from .compiled import MIN_ROWS
from .errors import Refused
from .framebuilder import FrameBuilder
from .group import PARTS, Group, GroupKey, ParkedEpochs, RowData, as_tensor, concat_rows, take_rows
from .module import LearningRateFinder
from .publisher import FrameJob, FrameMeta, FramePublisher
from .session import Session, hyper_values
from .views import DecisionGrid

log = logging.getLogger(__name__)
T = TypeVar("T")

FRAME_CHUNK = 50  # watched sessions per frame job (50 against 25: +10 % epochs/s at N = 100, p95 +10 ms)
# Training time given to one group before the next (and, after a round of all, the commands): a
# round is ROUND_SECONDS shared by the running groups, each slice 4 to 10 ms. Longer slices
# batch more epoch ends per evaluation (+10 % epochs/s at N = 100 for 10 ms against 4 ms); the
# round bound keeps a command's wait short when a mixed class trains many groups.
ROUND_SECONDS = 0.020
MIN_SLICE_SECONDS, MAX_SLICE_SECONDS = 0.004, 0.010


def slice_seconds(running_groups: int) -> float:
    """One group's training slice when `running_groups` groups train in turn."""
    return max(MIN_SLICE_SECONDS, min(MAX_SLICE_SECONDS, ROUND_SECONDS / max(1, running_groups)))


class UnknownSession(KeyError):
    """No session with this id (never created, or deleted)."""

    def __str__(self) -> str:
        return f"unknown session {self.args[0]}"


class Watcher(Protocol):
    """Receives a session's stream; called from the worker thread, must not block."""

    def frame(self, data: bytes) -> None:
        """An encoded binary frame (nnplayground.frames); a newer one may replace it unsent."""

    def event(self, message: dict[str, Any]) -> None:
        """A JSON message that must be delivered: {"type": "dataset" | "config", ...}."""

    def closed(self, code: int, reason: str) -> None:
        """The session is gone (deleted): close the stream with this code and reason."""


_EVAL_NAMES = ("train_loss", "test_loss", "val_loss", "train_accuracy", "test_accuracy", "val_accuracy")


def _columns(ev: dict[str, np.ndarray]) -> dict[str, list[float | None]]:
    """Evaluation arrays as Python lists (one conversion per epoch, not per session); None where absent.

    A NaN loss stays NaN (the run diverged); a NaN accuracy means "no such data" and becomes None.
    """
    rows = len(ev["train_loss"])
    out: dict[str, list[float | None]] = {}
    for name in _EVAL_NAMES:
        if name not in ev:
            out[name] = [None] * rows
        elif name.endswith("loss"):
            out[name] = ev[name].tolist()
        else:
            out[name] = [None if v != v else v for v in ev[name].tolist()]
    return out


def pick_device(setting: str) -> torch.device:
    """CUDA when asked for or when `auto` finds it, else CPU."""
    if setting == "cuda" or (setting == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def tick_period(
    framed: int, stream_fps: float, frame_budget: float, seconds_per_frame: float = 0.0, frame_share: float = 1.0
) -> float:
    """Seconds to the next stream tick: 1 / stream_fps, unless the sessions framed at this one
    exceed the server's frame budget, or the frames would keep the frame publisher busy more than
    `frame_share` of the time at its measured cost per frame (a slower machine); then every
    watched session gets an equal share of what can be drawn."""
    return max(1.0 / stream_fps, framed / frame_budget, framed * seconds_per_frame / frame_share)


def next_tick_at(deadline: float, now: float, period: float, stream_period: float) -> float:
    """When the tick after one due at `deadline` and run at `now` is due.

    At the stream rate (`period <= stream_period`) it is a period after the deadline, so ticks
    that start late (after a training slice, up to 10 ms) keep the cadence (counted from `now`,
    20 frames/s came out as 18.8); a tick late by a period or more starts afresh rather than
    bunching ticks to catch up. Paced down (a class, a slow machine), it is a period after `now`,
    as the pacing measured (anchored, 4 pairs at 100 sessions gave fewer epochs and frames)."""
    anchored = deadline + period
    return anchored if period <= stream_period and anchored > now else now + period


class EngineCore:
    """The worker thread, its queue and its bookkeeping; Engine adds the commands."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.device = pick_device(settings.device)
        self.device_name = str(self.device)
        self._sessions: dict[str, Session] = {}
        self._groups: dict[GroupKey, Group] = {}
        self._commands: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._grid = DecisionGrid(self.device)
        # The child inherits a socket (pass_fds): POSIX only; elsewhere frames are drawn on the thread.
        builder = FrameBuilder.shared() if settings.frame_builder == "process" and os.name == "posix" else None
        if builder is not None:
            builder.niceness = settings.frame_builder_nice  # for the child it starts next (one per server)
        self._publisher = FramePublisher(self.device, settings.grid_resolution, builder, settings.compile_steps)
        self._heap = LongLivedObjects() if settings.gc_freeze else None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._next_tick = 0.0
        self._prompt: dict[str, Session] = {}  # watched sessions a command changed: framed after the drain
        # Long jobs (learning-rate range tests) advance a slice at a time between training slices.
        self._jobs: list[tuple[LearningRateFinder, Callable[[dict[str, Any]], None], Future[dict[str, Any]]]] = []

    # ---- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            torch.set_num_threads(self.settings.torch_threads)
            self._publisher.start()
            self._thread = threading.Thread(target=self._run, name="nnpg-engine", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._commands.put((lambda: None, Future()))
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
            self._publisher.stop()
            if self._heap is not None:
                self._heap.thaw()

    # ---- commands ---------------------------------------------------------------------------

    def _submit(self, fn: Callable[[], T]) -> "Future[T]":
        fut: Future[T] = Future()
        self._commands.put((fn, fut))
        return fut

    def _submit_later(self, start: Callable[["Future[T]"], None]) -> "Future[T]":
        """A command whose future resolves later (after epochs, after a job), not when the command runs."""
        fut: Future[T] = Future()

        def run() -> None:
            try:
                start(fut)
            except Exception as exc:  # noqa: BLE001 - handed to the caller
                fut.set_exception(exc)

        self._commands.put((run, Future()))
        return fut

    def _get(self, session_id: str) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise UnknownSession(session_id)
        return session

    def _touch(self, session_id: str) -> Session:
        session = self._get(session_id)
        session.last_activity = time.monotonic()
        session.changes += 1
        if session.watchers:
            self._prompt[session_id] = session
        return session

    def _place(self, session: Session, row: RowData | None) -> None:
        """Put a session into the group of its shape, with fresh weights unless row is given."""
        key = session.key()
        group = self._groups.get(key)
        if group is None:
            # On a GPU, a compiled step is replayed as a CUDA graph once its inputs settle (capture.py).
            gpu = self.device.type == "cuda" and self.settings.cuda_graphs
            capture = StepCapture(record_cuda_graph) if gpu else None
            group = self._groups[key] = Group(key, self.device, self.settings.compile_steps, capture)
        group.add(session, row if row is not None else session.fresh_row(key), session.config.training.schedule)
        if session.wants_training:
            group.set_running(session.row, True)

    def _regroup(self, session: Session) -> None:
        """Move a session to the group its config now asks for, keeping weights and optimiser state."""
        assert session.group is not None
        old = session.group.export(session.row)
        self._unplace(session)
        key = session.key()
        self._place(session, session.row_with(key, old.params, old.slots))
        assert session.group is not None
        # Keep the optimiser's running scalars (step count t, Nadam's mu_product) too.
        hyper = {**old.hyper, **hyper_values(session.config)}
        session.group.set_hyper(session.row, hyper, session.config.training.schedule)

    def _unplace(self, session: Session) -> None:
        group = session.group
        if group is None:
            return
        group.remove(session.row)
        if group.size == 0:
            del self._groups[group.key]

    def _reinit(self, session: Session) -> None:
        """New weights and optimiser state, epoch 0; may move the session to another group."""
        self._unplace(session)
        session.init_count += 1
        session.clear_progress()
        for _, fut in session.train_waiters:
            fut.set_result(session.snapshot())
        session.train_waiters.clear()
        self._place(session, None)

    def _set_running(self, session: Session, running: bool) -> SessionState:
        session.running = running
        session.epochs_per_second = 0.0 if not running else session.epochs_per_second
        if running:
            session.stop_reason = None
            session.rate_epoch, session.rate_time = session.epoch, time.monotonic()
        self._sync_running(session)
        return session.snapshot()

    def _sync_running(self, session: Session) -> None:
        if session.group is not None:
            session.group.set_running(session.row, session.wants_training)

    def _announce(self, session: Session, data_changed: bool) -> None:
        session.view_version += 1  # frames drawn before this change are dropped, not sent after it
        message = {"type": "config", "config": session.config.model_dump(), "state": session.snapshot().model_dump()}
        dataset = session.data.as_json() if data_changed else None
        for w in session.watchers:
            if dataset is not None:
                w.event(dataset)
            w.event(message)

    def _stop(self, session: Session, reason: str) -> None:
        """Pause with a stated reason; scripted waits end with the state as it is."""
        session.running = False
        session.epochs_per_second = 0.0
        session.stop_reason = reason
        for _, fut in session.train_waiters:
            fut.set_result(session.snapshot())
        session.train_waiters.clear()
        self._sync_running(session)
        session.changes += 1

    # ---- the worker loop --------------------------------------------------------------------

    def _run(self) -> None:
        torch.set_grad_enabled(True)
        while not self._stopping.is_set():
            busy = bool(self._jobs) or any(g.running for g in self._groups.values())
            self._drain(block=not busy)
            if self._prompt:
                self._frame_changed_sessions()
            running = [g for g in self._groups.values() if g.running]
            # A quiet server: a lone row may compile (Settings.compile_lone).
            lone = self.settings.compile_lone and sum(g.running for g in running) < MIN_ROWS
            for group in running:
                self._train_group(group, slice_seconds(len(running)), lone)
            if self._jobs:
                self._advance_jobs()
            now = time.monotonic()
            if now >= self._next_tick:
                framed = self._tick(now)
                period = tick_period(
                    framed, self.settings.stream_fps, self.settings.frame_budget, self._publisher.seconds_per_frame,
                    self.settings.frame_share,
                )
                self._next_tick = next_tick_at(self._next_tick, now, period, 1.0 / self.settings.stream_fps)
                if self._heap is not None:
                    self._heap.freeze_if_new()

    def _drain(self, block: bool) -> None:
        """Run queued commands; wait for one (until the next stream tick) when nothing trains."""
        timeout = max(0.0, self._next_tick - time.monotonic()) if block else 0.0
        try:
            fn, fut = self._commands.get(timeout=timeout) if block else self._commands.get_nowait()
        except queue.Empty:
            return
        while True:
            self._execute(fn, fut)
            try:
                fn, fut = self._commands.get_nowait()
            except queue.Empty:
                return

    @staticmethod
    def _execute(fn: Callable[[], Any], fut: "Future[Any]") -> None:
        if not fut.set_running_or_notify_cancel():
            return
        try:
            fut.set_result(fn())
        except Exception as exc:  # noqa: BLE001 - a command's failure belongs to its caller
            if not isinstance(exc, (UnknownSession, Refused)):
                log.exception("engine command failed")
            fut.set_exception(exc)

    def _train_group(self, group: Group, seconds: float, compile_lone: bool) -> None:
        """A training slice; a fault in it stops that group's sessions, with the reason, instead
        of ending the worker and every session on the server with it."""
        try:
            self._train_slice(group, seconds, compile_lone)
        except Exception as exc:  # noqa: BLE001 - one group's fault must not stop the others
            log.exception("training a group failed; its sessions are stopped")
            for session in group.sessions[: group.running]:
                self._stop(session, f"training failed: {type(exc).__name__}: {exc}")

    def _train_slice(self, group: Group, seconds: float, compile_lone: bool = False) -> None:
        """Step a group for about `seconds`. Epoch ends that must be exact (waits, stop
        conditions) are handled at once; the others are parked and evaluated together at the end
        of the slice, one batched pass instead of one per step (sessions of a class end their
        epochs at different steps). No command runs inside a slice, so parked rows cannot move."""
        deadline = time.perf_counter() + seconds
        parked: list[ParkedEpochs] = []
        while group.running and time.perf_counter() < deadline:
            rows = group.step(compile_lone)
            if not rows.size:
                continue
            exact = np.fromiter((group.sessions[r].needs_exact_epochs for r in rows.tolist()), bool, len(rows))
            if not exact.all():
                parked.append(group.park(rows[~exact]))
            if exact.any():
                self._epochs_done(group, rows[exact])
        if parked:
            self._parked_epochs_done(group, parked)

    def _epochs_done(self, group: Group, rows: np.ndarray) -> None:
        """Evaluate rows that finished an epoch now, record history, check stop conditions, resolve waits."""
        sessions = [group.sessions[r] for r in rows.tolist()]
        epochs, steps = group.host["epoch"][rows].tolist(), group.host["step"][rows].tolist()
        self._record(group, sessions, epochs, steps, group.last_grad_norms[rows], group.evaluate(rows), None)

    def _parked_epochs_done(self, group: Group, parked: list[ParkedEpochs]) -> None:
        """One evaluation of every parked epoch end of a slice, then the same bookkeeping, in order."""
        sessions = [s for p in parked for s in p.sessions]
        rows = np.array([s.row for s in sessions], dtype=np.int64)
        # One concatenation and one tensor per parameter for the whole slice (see take_rows).
        params = {n: as_tensor(concat_rows([p.params[n] for p in parked])) for n in parked[0].params}
        ev = group.evaluate(rows, params)
        epochs = [e for p in parked for e in p.epochs]
        steps = [st for p in parked for st in p.steps]
        self._record(group, sessions, epochs, steps, np.concatenate([p.norms for p in parked]), ev, params)

    def _record(
        self, group: Group, sessions: list[Session], epochs: list[int], steps: list[int], norms: np.ndarray,
        ev: dict[str, np.ndarray], parked: dict[str, torch.Tensor] | None,
    ) -> None:
        columns = _columns(ev)
        stopped: set[int] = set()
        for i, s in enumerate(sessions):
            if id(s) in stopped:
                continue  # a parked later epoch of a session that a parked earlier one stopped
            s.epoch, s.step = epochs[i], steps[i]
            values: dict[str, Any] = {name: column[i] for name, column in columns.items()}
            values["grad_norms"] = norms[i].tolist()
            if not len(s.data.labels["val"]):
                values["val_loss"] = values["val_accuracy"] = None
            reason = s.record_epoch(values)
            if s.capture_best:
                best = group.export_params(s.row) if parked is None else {n: t[i].clone() for n, t in parked.items()}
                s.best_params, s.capture_best = best, False
            if reason is not None:
                if reason.startswith("early stopping") and s.best_params is not None:
                    group.load_params(s.row, s.best_params)
                    # The state shows the restored weights, not the last epoch's.
                    restored = _columns(group.evaluate(np.array([s.row])))
                    s.show_evaluation({name: column[0] for name, column in restored.items()})
                self._stop(s, reason)
                stopped.add(id(s))
                continue
            if s.train_waiters:
                done = [w for w in s.train_waiters if s.epoch >= w[0]]
                if done:
                    s.train_waiters = [w for w in s.train_waiters if s.epoch < w[0]]
                    s.changes += 1
                    for _, fut in done:
                        fut.set_result(s.snapshot())
                    self._sync_running(s)

    def _advance_jobs(self) -> None:
        """Give each learning-rate range test a few mini-batches and report its progress."""
        for job in list(self._jobs):
            finder, progress, fut = job
            try:
                finder.run(10)
                result = finder.result()
                progress(result)
            except Exception as exc:  # noqa: BLE001 - the caller hears of it
                self._jobs.remove(job)
                fut.set_exception(exc)
                continue
            if finder.done:
                self._jobs.remove(job)
                fut.set_result(result)

    def _tick(self, now: float) -> int:
        """Stream frames to watched sessions, update rates, pause idle ones; how many were framed."""
        idle_after = self.settings.idle_pause_seconds
        for s in self._sessions.values():
            if s.running and now - s.rate_time >= 0.5:
                s.epochs_per_second = (s.epoch - s.rate_epoch) / (now - s.rate_time)
                s.rate_epoch, s.rate_time = s.epoch, now
            if s.running and not s.watchers and now - s.last_activity > idle_after:
                self._stop(s, "idle: nobody watched or drove this session")
        framed = 0
        for group in list(self._groups.values()):
            watched = [s for s in group.sessions if s.watchers and (s.dirty or s.wants_training)]
            # Chunks: a command's urgent frame waits for at most one chunk's grids, not a class's.
            for i in range(0, len(watched), FRAME_CHUNK):
                if not self._publisher.waiting((group.key, i // FRAME_CHUNK)):  # else it would only replace it
                    self._publisher.submit(self._frame_job(group, watched[i : i + FRAME_CHUNK], i // FRAME_CHUNK))
            framed += len(watched)
        return framed

    def _frame_changed_sessions(self) -> None:
        """Frames right away for watched sessions that commands just changed, ahead of the group
        frames of the stream ticks: a pause or a new learning rate shows in milliseconds, not after
        the next tick and a whole group's grids."""
        by_group: dict[int, tuple[Group, list[Session]]] = {}
        for s in self._prompt.values():
            if s.group is not None and s.watchers and self._sessions.get(s.id) is s:
                by_group.setdefault(id(s.group), (s.group, []))[1].append(s)
        self._prompt.clear()
        for group, sessions in by_group.values():
            self._publisher.submit(self._frame_job(group, sessions), urgent=True)

    def _frame_job(self, group: Group, watched: list[Session], chunk: int = 0) -> FrameJob:
        """Copies of what the publisher thread needs, so training can go on while it draws."""
        rows = np.array([s.row for s in watched], dtype=np.int64)
        job = FrameJob((group.key, chunk), group.net, group.copy_params(rows))
        classification = watched[0].classification
        if classification:
            for part in PARTS:
                if group.caps[part]:
                    job.data[f"x_{part}"] = take_rows(group.row_views[f"x_{part}"], rows)
        for s in watched:
            s.step = int(group.host["step"][s.row])
            s.frame_seq += 1
            names = ["epoch", "train_loss", "test_loss"] + (["validation_loss"] if len(s.data.labels["val"]) else [])
            history = s.history.streamed(names)  # (rows, points) float32
            header = {
                "type": "frame", "id": s.id, "seq": s.frame_seq, "data_version": s.data.version,
                "state": s.state_values(),
                "history": {"length": history.shape[1], "stride": s.history.stride, "rows": names},
            }
            job.sessions.append(FrameMeta(
                header, history, s.data.labels if classification else {}, s.data.classes,
                (0.0, 1.0) if classification else (-1.0, 1.0), list(s.watchers), s, s.view_version, s.changes,
                bool(s.neuron_watchers), s.data,
            ))
        return job

"""Engine: owns every session's tensors and steps them from one worker thread.

Public interface (thread-safe; the API calls it from the event loop):
- commands return `concurrent.futures.Future`s resolved by the worker thread
  (`await asyncio.wrap_future(fut)` on the async side); a missing session raises UnknownSession;
- `state(id)`, `config(id)` and `session_ids()` answer at once from the sessions' snapshots;
- `watch(id, watcher)` registers a Watcher that receives encoded binary frames at the stream
  rate (latest wins is the watcher's job) and must-deliver events (dataset, config).
"""

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import torch

from ..config import Settings
from ..schemas import SessionConfig, SessionState

if TYPE_CHECKING:
    from ..data.tabular import Table
from .. import catalog
from ..schemas import merge_config
from . import checkpoint
from .drawing import with_point, without_point
from .errors import Refused
from .group import PARTS, Group, GroupKey, RowData
from .module import LearningRateFinder
from .network import parameter_shapes
from .publisher import FrameJob, FrameMeta, FramePublisher
from .session import LIVE_FIELDS, REGROUP_FIELDS, Session, SessionData, changed_paths, hyper_values
from .views import DecisionGrid, diagnostics_json, grid_json, metrics_json

log = logging.getLogger(__name__)
T = TypeVar("T")

SLICE_SECONDS = 0.004  # training time given to one group before the worker looks at commands again


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


class Engine:
    """One per device. Sessions are created with an id chosen by the caller."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.device = pick_device(settings.device)
        self.device_name = str(self.device)
        self._sessions: dict[str, Session] = {}
        self._groups: dict[GroupKey, Group] = {}
        self._commands: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._grid = DecisionGrid(self.device)
        self._publisher = FramePublisher(self.device, settings.grid_resolution)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._next_tick = 0.0
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

    def create_session(self, session_id: str, config: SessionConfig) -> "Future[SessionState]":
        def run() -> SessionState:
            if session_id in self._sessions:
                raise ValueError(f"session {session_id} exists")
            session = Session(session_id, config, SessionData.build(config, 1))
            self._sessions[session_id] = session
            self._place(session, None)
            return session.snapshot()

        return self._submit(run)

    def checkpoint(self, session_id: str) -> "Future[dict[str, Any]]":
        """The session as a checkpoint dict (see engine/checkpoint.py)."""
        return self._submit(lambda: checkpoint.checkpoint(self._get(session_id)))

    def changed_checkpoints(self) -> "Future[list[dict[str, Any]]]":
        """Checkpoints of the sessions that trained or changed since their last checkpoint here (autosave)."""

        def run() -> list[dict[str, Any]]:
            out = []
            for s in self._sessions.values():
                if s.group is not None:
                    s.step = int(s.group.host["step"][s.row])
                marker = (s.step, s.init_count, id(s.config))
                if marker != s.saved_marker:
                    out.append(checkpoint.checkpoint(s))
                    s.saved_marker = marker
            return out

        return self._submit(run)

    def restore_session(self, session_id: str, ckpt: dict[str, Any]) -> "Future[SessionState]":
        """Recreate a session, paused, from a checkpoint; ValueError when it does not fit."""

        def run() -> SessionState:
            if session_id in self._sessions:
                raise ValueError(f"session {session_id} exists")
            session, params, slots = checkpoint.restore(session_id, ckpt)
            key = session.key()
            probe = self._groups.get(key) or Group(key, self.device)
            checkpoint.matches(probe, params, slots)
            full_slots = {n: slots.get(n, torch.zeros_like(params[n.split(".")[-1]])) for n in probe.slot_names}
            row = session.row_with(key, params, full_slots)
            row.counters.update({k: int(v) for k, v in ckpt.get("counters", {}).items() if k in row.counters})
            # Keep the optimiser's running scalars (t, mu_product); the config decides the rest.
            row.hyper = {**{k: float(v) for k, v in ckpt.get("hyper", {}).items()}, **hyper_values(session.config)}
            self._sessions[session_id] = session
            self._place(session, row)
            session.saved_marker = (session.step, session.init_count, id(session.config))
            return session.snapshot()

        return self._submit(run)

    def delete_session(self, session_id: str) -> "Future[None]":
        def run() -> None:
            session = self._get(session_id)
            self._unplace(session)
            del self._sessions[session_id]
            for waiter in session.train_waiters:
                waiter[1].set_exception(UnknownSession(session_id))
            for w in session.watchers:
                w.closed(4404, "session deleted")

        return self._submit(run)

    def configure(self, session_id: str, config: SessionConfig) -> "Future[SessionState]":
        """Apply a full, validated config: live for rates, re-initialise otherwise."""

        def run() -> SessionState:
            session = self._touch(session_id)
            old = session.config
            paths = changed_paths(old.model_dump(), config.model_dump())
            if not paths:
                return session.snapshot()
            session.config = config
            if paths <= LIVE_FIELDS:
                assert session.group is not None
                session.group.set_hyper(session.row, hyper_values(config), config.training.schedule)
                self._announce(session, data_changed=False)
                return session.snapshot()
            if paths <= LIVE_FIELDS | REGROUP_FIELDS:
                self._regroup(session)
                self._announce(session, data_changed=False)
                return session.snapshot()
            data_changed = any(p[0] in ("data", "problem") for p in paths)
            if data_changed:
                own = session.data.table if session.data.custom else None
                session.data = SessionData.build(config, session.data.version + 1, custom=own)
            self._reinit(session)
            self._announce(session, data_changed=data_changed)
            return session.snapshot()

        return self._submit(run)

    def play(self, session_id: str) -> "Future[SessionState]":
        return self._submit(lambda: self._set_running(self._touch(session_id), True))

    def pause(self, session_id: str) -> "Future[SessionState]":
        return self._submit(lambda: self._set_running(self._touch(session_id), False))

    def reset(self, session_id: str) -> "Future[SessionState]":
        def run() -> SessionState:
            session = self._touch(session_id)
            self._reinit(session)
            self._announce(session, data_changed=False)
            return session.snapshot()

        return self._submit(run)

    def step(self, session_id: str) -> "Future[SessionState]":
        """Train one epoch; resolves when it is done."""
        return self.train(session_id, 1)

    def train(self, session_id: str, epochs: int) -> "Future[SessionState]":
        """Train `epochs` more epochs; resolves when done (the session keeps its play/pause state)."""

        def run(fut: "Future[SessionState]") -> None:
            session = self._touch(session_id)
            session.stop_reason = None
            session.train_waiters.append((session.epoch + epochs, fut))
            self._sync_running(session)

        return self._submit_later(run)

    def state(self, session_id: str) -> SessionState:
        return self._get(session_id).snapshot()

    def config(self, session_id: str) -> SessionConfig:
        return self._get(session_id).config

    def session_ids(self) -> list[str]:
        return list(self._sessions)

    def history(self, session_id: str) -> "Future[dict[str, Any]]":
        def run() -> dict[str, Any]:
            s = self._get(session_id)
            return s.history.as_dict(s.classification, bool(len(s.data.labels["val"])))

        return self._submit(run)

    def lr_range_test(
        self, session_id: str, start: float, end: float, steps: int, progress: Callable[[dict[str, Any]], None]
    ) -> "Future[dict[str, Any]]":
        """Sweep the learning rate on a copy of the session; `progress` gets partial results as it runs."""

        def run(fut: "Future[dict[str, Any]]") -> None:
            s = self._touch(session_id)
            assert s.group is not None
            row = s.group.export(s.row)
            hyper = {n: row.hyper[n] for n in s.group.optimizer.hyper}
            finder = LearningRateFinder(
                s.group.key, row.params, hyper, row.data["x_train"], row.data["y_train"],
                int(row.counters["batch"]), start, end, steps,
            )
            self._jobs.append((finder, progress, fut))

        return self._submit_later(run)

    def grid(self, session_id: str, resolution: int) -> "Future[dict[str, Any]]":
        def run() -> dict[str, Any]:
            s = self._get(session_id)
            assert s.group is not None
            return grid_json(s.group, s, self._grid, resolution)

        return self._submit(run)

    def diagnostics(self, session_id: str) -> "Future[dict[str, Any]]":
        def run() -> dict[str, Any]:
            s = self._get(session_id)
            assert s.group is not None
            return diagnostics_json(s.group, s)

        return self._submit(run)

    def metrics(self, session_id: str) -> "Future[dict[str, Any]]":
        def run() -> dict[str, Any]:
            s = self._get(session_id)
            assert s.group is not None
            return metrics_json(s.group, s)

        return self._submit(run)

    def dataset(self, session_id: str) -> "Future[dict[str, Any]]":
        return self._submit(lambda: self._get(session_id).data.as_json())

    def watch(self, session_id: str, watcher: Watcher) -> "Future[None]":
        """Start streaming to watcher; it gets a frame at once, then at the stream rate."""

        def run() -> None:
            session = self._touch(session_id)
            session.watchers.append(watcher)
            session.changes += 1

        return self._submit(run)

    def set_views(self, session_id: str, watcher: Watcher, neurons: bool) -> "Future[None]":
        """Neuron maps in the frames while any watcher of the session wants them."""

        def run() -> None:
            session = self._touch(session_id)
            if neurons:
                session.neuron_watchers.add(id(watcher))
            else:
                session.neuron_watchers.discard(id(watcher))

        return self._submit(run)

    def set_weight(self, session_id: str, layer: int, source: int | None, target: int, value: float) -> "Future[None]":
        """Set one link's weight (or, with source None, unit target's bias), live."""

        def run() -> None:
            session = self._touch(session_id)
            group = session.group
            assert group is not None
            name = f"W{layer}" if source is not None else f"b{layer}"
            if name not in group.shapes:
                raise Refused(f"layer must be 0 to {group.net.layers[-1].index} (got {layer})")
            fan_in, fan_out = group.shapes[f"W{layer}"]
            if not 0 <= target < fan_out:
                raise Refused(f"to must be 0 to {fan_out - 1} for layer {layer} (got {target})")
            if source is not None and not 0 <= source < fan_in:
                raise Refused(f"from must be 0 to {fan_in - 1} for layer {layer} (got {source})")
            if not math.isfinite(value):
                raise Refused("value must be a finite number")
            with torch.no_grad():
                if source is None:
                    group.tensors[name][session.row, 0, target] = value
                else:
                    group.tensors[name][session.row, source, target] = value

        return self._submit(run)

    def set_data(
        self, session_id: str, table: "Table", keep_weights: bool = False, standardize: bool | None = None
    ) -> "Future[SessionState]":
        """Make `table` the session's own data (an upload, or drawn points); ValueError if the config can't take it."""
        return self._submit(lambda: self._set_data(self._touch(session_id), table, keep_weights, standardize))

    def add_point(self, session_id: str, x: float, y: float, label: float) -> "Future[SessionState]":
        """Draw a point; the data becomes the session's own and the network keeps its weights."""

        def run() -> SessionState:
            s = self._touch(session_id)
            return self._set_data(s, with_point(s.data, s.config, x, y, label), keep_weights=True)

        return self._submit(run)

    def remove_point(self, session_id: str, x: float, y: float) -> "Future[SessionState]":
        def run() -> SessionState:
            s = self._touch(session_id)
            return self._set_data(s, without_point(s.data, s.config, x, y), keep_weights=True)

        return self._submit(run)

    def _set_data(
        self, s: Session, table: "Table", keep_weights: bool, standardize: bool | None = None
    ) -> SessionState:
        patch: dict[str, Any] = {"dataset": "custom", "classes": max(2, table.classes)}
        if standardize is not None:
            patch["standardize"] = standardize
        elif table.name == "drawn" and s.config.data.dataset != "custom":
            patch["standardize"] = False  # drawn on the standard plane: keep its coordinates
        merged = merge_config(s.config.model_dump(), {"problem": table.problem, "data": patch})
        if merged["training"]["loss"] not in catalog.PROBLEM_LOSSES[table.problem]:
            merged["training"]["loss"] = None
        try:
            config = SessionConfig.model_validate(merged)
        except ValueError as e:
            raise Refused(f"the session's config cannot take this data: {e}") from None
        old_shapes = parameter_shapes(s.key())
        s.config, s.data = config, SessionData.build(config, s.data.version + 1, custom=table)
        if keep_weights and parameter_shapes(s.key()) == old_shapes:
            self._regroup(s)
        else:
            self._reinit(s)
        self._announce(s, data_changed=True)
        return s.snapshot()

    def unwatch(self, session_id: str, watcher: Watcher) -> "Future[None]":
        def run() -> None:
            session = self._sessions.get(session_id)
            if session is not None and watcher in session.watchers:
                session.watchers.remove(watcher)
                session.neuron_watchers.discard(id(watcher))
                session.last_activity = time.monotonic()

        return self._submit(run)

    # ---- worker-side helpers (worker thread only) -------------------------------------------

    def _touch(self, session_id: str) -> Session:
        session = self._get(session_id)
        session.last_activity = time.monotonic()
        session.changes += 1
        return session

    def _place(self, session: Session, row: RowData | None) -> None:
        """Put a session into the group of its shape, with fresh weights unless row is given."""
        key = session.key()
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = Group(key, self.device)
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
            for group in [g for g in self._groups.values() if g.running]:
                self._train_slice(group)
            if self._jobs:
                self._advance_jobs()
            now = time.monotonic()
            if now >= self._next_tick:
                self._next_tick = now + 1.0 / self.settings.stream_fps
                self._tick(now)

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

    def _train_slice(self, group: Group) -> None:
        """Step a group for about SLICE_SECONDS, handling every epoch boundary as it comes."""
        deadline = time.perf_counter() + SLICE_SECONDS
        while group.running and time.perf_counter() < deadline:
            rows = group.step()
            if rows.size:
                self._epochs_done(group, rows)

    def _epochs_done(self, group: Group, rows: np.ndarray) -> None:
        """Evaluate rows that finished an epoch, record history, check stop conditions, resolve waits."""
        ev = group.evaluate(rows)
        columns = _columns(ev)
        epochs, steps = group.host["epoch"][rows].tolist(), group.host["step"][rows].tolist()
        for i, r in enumerate(rows.tolist()):
            s = group.sessions[r]
            s.epoch, s.step = epochs[i], steps[i]
            values: dict[str, Any] = {name: column[i] for name, column in columns.items()}
            if len(group.last_grad_norms) > r:
                values["grad_norms"] = group.last_grad_norms[r].tolist()
            if not len(s.data.labels["val"]):
                values["val_loss"] = values["val_accuracy"] = None
            reason = s.record_epoch(values)
            if s.capture_best:
                s.best_params, s.capture_best = group.export_params(s.row), False
            if reason is not None:
                if reason.startswith("early stopping") and s.best_params is not None:
                    group.load_params(s.row, s.best_params)
                    # The state shows the restored weights, not the last epoch's.
                    restored = _columns(group.evaluate(np.array([s.row])))
                    s.show_evaluation({name: column[0] for name, column in restored.items()})
                self._stop(s, reason)
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

    def _tick(self, now: float) -> None:
        """Stream frames to watched sessions, update rates, pause idle ones."""
        idle_after = self.settings.idle_pause_seconds
        for s in self._sessions.values():
            if s.running and now - s.rate_time >= 0.5:
                s.epochs_per_second = (s.epoch - s.rate_epoch) / (now - s.rate_time)
                s.rate_epoch, s.rate_time = s.epoch, now
            if s.running and not s.watchers and now - s.last_activity > idle_after:
                self._stop(s, "idle: nobody watched or drove this session")
        for group in list(self._groups.values()):
            watched = [s for s in group.sessions if s.watchers and (s.dirty or s.wants_training)]
            if watched:
                self._publisher.submit(self._frame_job(group, watched))

    def _frame_job(self, group: Group, watched: list[Session]) -> FrameJob:
        """Copies of what the publisher thread needs, so training can go on while it draws."""
        rows = np.array([s.row for s in watched], dtype=np.int64)
        sel = torch.from_numpy(rows).to(self.device)
        job = FrameJob(group.key, group.net, {n: group.tensors[n].index_select(0, sel) for n in group.shapes})
        classification = watched[0].classification
        if classification:
            for part in PARTS:
                if group.caps[part]:
                    job.data[f"x_{part}"] = group.tensors[f"x_{part}"].index_select(0, sel)
        for s in watched:
            s.step = int(group.host["step"][s.row])
            s.frame_seq += 1
            names = ["epoch", "train_loss", "test_loss"] + (["validation_loss"] if len(s.data.labels["val"]) else [])
            history = np.array(s.history.streamed(names), dtype=np.float32).reshape(len(names), -1)
            header = {
                "type": "frame", "id": s.id, "seq": s.frame_seq, "data_version": s.data.version,
                "state": s.snapshot().model_dump(),
                "history": {"length": history.shape[1], "stride": s.history.stride, "rows": names},
            }
            job.sessions.append(FrameMeta(
                header, history, s.data.labels if classification else {}, s.data.classes,
                (0.0, 1.0) if classification else (-1.0, 1.0), list(s.watchers), s, s.view_version, s.changes,
                bool(s.neuron_watchers), s.data,
            ))
        return job

"""Engine: owns every session's tensors and steps them from one worker thread.

Public interface (thread-safe; the API calls it from the event loop):
- commands return `concurrent.futures.Future`s resolved by the worker thread
  (`await asyncio.wrap_future(fut)` on the async side); a missing session raises UnknownSession,
  a request the engine cannot carry out raises Refused (the API answers 422);
- `state(id)`, `config(id)` and `session_ids()` answer at once from the sessions' snapshots;
- `watch(id, watcher)` registers a Watcher that receives encoded binary frames at the stream
  rate (latest wins is the watcher's job) and must-deliver events (dataset, config).
The worker thread, its queue and the training loop are in worker.py (EngineCore).
"""

import gc
import math
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

import torch

from .. import catalog
from ..schemas import SessionConfig, SessionState, merge_config
from . import checkpoint
from .drawing import with_point, without_point
from .errors import Refused
from .group import Group
from .module import LearningRateFinder
from .network import parameter_shapes
from .session import LIVE_FIELDS, REGROUP_FIELDS, VIEW_FIELDS, Session, SessionData, changed_paths, hyper_values
from .thumbnails import Thumbnail, thumbnails
from .views import diagnostics_json, grid_json, metrics_json, network_json
from .worker import EngineCore, UnknownSession, Watcher

if TYPE_CHECKING:
    from ..data.tabular import Table

T = TypeVar("T")


class Engine(EngineCore):
    """One per device. Sessions are created with an id chosen by the caller."""

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
            session = self._restored(session_id, ckpt)
            session.saved_marker = (session.step, session.init_count, id(session.config))
            return session.snapshot()

        return self._submit(run)

    def _restored(self, session_id: str, ckpt: dict[str, Any]) -> Session:
        """Worker side of restore_session: the checkpoint's session, placed in its group (paused)."""
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
        return session

    def adopt(self, session_id: str, ckpt: dict[str, Any]) -> "Future[SessionState]":
        """Replace a session's config, data and weights with a checkpoint's (a classroom fork),
        paused, keeping its id and its watchers (they get dataset and config events)."""

        def run() -> SessionState:
            old = self._get(session_id)
            checkpoint.check(ckpt)  # a bad checkpoint refuses before the old session goes
            assert old.group is not None
            kept = old.group.export(old.row)
            self._unplace(old)
            del self._sessions[session_id]
            try:
                session = self._restored(session_id, ckpt)
            except Exception:
                self._sessions[session_id] = old  # the old session comes back exactly as it was
                self._place(old, kept)
                raise
            session.watchers, session.neuron_watchers = old.watchers, old.neuron_watchers
            session.init_count = old.init_count + 1  # the student's own run ended here
            session.data.version = max(session.data.version, old.data.version + 1)
            for _, waiter in old.train_waiters:  # a scripted train on the old session ends here
                waiter.set_result(session.snapshot())
            self._announce(session, data_changed=True)
            return session.snapshot()

        return self._submit(run)

    def thumbnails(self, session_ids: list[str], resolution: int = 32) -> "Future[dict[str, Thumbnail]]":
        """Small decision grids of these sessions (unknown ids are left out), batched per group."""
        return self._submit(
            lambda: thumbnails([self._sessions[i] for i in session_ids if i in self._sessions], self._grid, resolution)
        )

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
            if paths <= LIVE_FIELDS:
                session.config = config
                assert session.group is not None
                session.group.set_hyper(session.row, hyper_values(config), config.training.schedule)
                self._announce(session, data_changed=False)
                return session.snapshot()
            own = session.data.table if session.data.custom else None
            if paths <= LIVE_FIELDS | REGROUP_FIELDS | VIEW_FIELDS:
                replot = bool(paths & VIEW_FIELDS)
                if replot:  # same inputs, drawn on another plane (built first: a Refused changes nothing)
                    session.data = SessionData.build(config, session.data.version + 1, custom=own)
                session.config = config
                self._regroup(session)
                self._announce(session, data_changed=replot)
                return session.snapshot()
            data_changed = any(p[0] in ("data", "problem") for p in paths)
            if data_changed:  # built before the config changes: a Refused leaves the session as it was
                session.data = SessionData.build(config, session.data.version + 1, custom=own)
            session.config = config
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

    def compiled_steps(self) -> dict[str, Any]:
        """Whether training steps are compiled (engine/compiled.py), and how many graphs (steps,
        evaluations and decision grids) are compiling, ready or failed."""
        counts: dict[str, Any] = dict.fromkeys(("compiling", "ready", "failed"), 0)
        counts["enabled"] = self.settings.compile_steps
        counts["cuda_graphs"] = {"captures": 0, "replays": 0, "failed": 0}  # a GPU's steps (capture.py)
        for group in list(self._groups.values()):  # a snapshot: groups come and go on the worker
            for compiled in group.compiled.graphs() if group.compiled else []:
                counts[compiled.state] += 1
            capture = group.compiled.capture if group.compiled else None
            if capture is not None:
                counts["cuda_graphs"]["captures"] += capture.captures
                counts["cuda_graphs"]["replays"] += capture.replays
                counts["cuda_graphs"]["failed"] += int(capture.failed)
        for state, n in self._publisher.grid_graphs().items():  # frames' plane passes (engine/gridpass.py)
            counts[state] += n
        return counts

    def frames(self) -> dict[str, int]:
        """Frames handed to watchers since start, and those that went stale (a command's frame or a
        config event went out first) before they were drawn, or while they were."""
        p = self._publisher
        return {"published": p.published, "stale_undrawn": p.stale_undrawn, "stale_drawn": p.stale_drawn}

    def collector(self) -> dict[str, Any]:
        """Whether long-lived objects are frozen out of Python's full collections (collector.py),
        how often this server and the frame-builder process froze them, what the server's freezes
        cost (each collects first), and how many objects are frozen."""
        builder = self._publisher.builder
        return {
            "enabled": self._heap is not None,
            "freezes": self._heap.freezes if self._heap is not None else 0,
            "freeze_seconds": round(self._heap.seconds, 3) if self._heap is not None else 0.0,
            "frozen_objects": gc.get_freeze_count(),
            "frame_builder_freezes": builder.child_freezes if builder is not None else 0,
        }

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

    def network(self, session_id: str, resolution: int) -> "Future[dict[str, Any]]":
        def run() -> dict[str, Any]:
            s = self._get(session_id)
            assert s.group is not None
            return network_json(s.group, s, self._grid, resolution)

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
            self._prompt[session_id] = session  # its first frame now, not at the next tick

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
        """Make `table` the session's own data (an upload, or drawn points); Refused if the config can't take it."""
        return self._submit(lambda: self._set_data(self._touch(session_id), table, keep_weights, standardize))

    def add_point(self, session_id: str, x: float, y: float, label: float) -> "Future[SessionState]":
        """Draw a point; the data becomes the session's own and the network keeps its weights."""

        def run() -> SessionState:
            s = self._touch(session_id)
            table = with_point(s.data, s.config, x, y, label)
            if len(table.y) > self.settings.max_points:
                raise Refused(f"a session holds at most {self.settings.max_points} points (max_points)")
            return self._set_data(s, table, keep_weights=True)

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

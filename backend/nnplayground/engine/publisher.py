"""Frames built off the worker thread, so drawing decision grids overlaps training on another core.

The worker thread takes a `FrameJob` at each stream tick: copies of the watched rows' parameters
and data (cheap: small tensors), plus each session's header and history. The publisher thread
turns it into a `DrawRequest` (plain data), has it drawn (in the frame-builder process, or on this
thread: `Settings.frame_builder`) and hands the bytes to the watchers. A publisher that falls
behind keeps only the newest job per group: frames are latest-wins anyway.
"""

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .framebuilder import Drawing, FrameBuilder
from .framedraw import NEURON_RESOLUTION, DrawItem, DrawRequest, FrameDrawer
from .group import RowTensor, concat_rows, take_rows
from .network import BatchedNetwork

if TYPE_CHECKING:
    from .engine import Watcher

log = logging.getLogger(__name__)

# Jobs in the frame builder at once: it draws one while this thread hands out the last one's frames
# and prepares the next (one at a time, the builder process idled half the time at N = 200).
PIPELINE_DEPTH = 2
STATE_POLL_SECONDS = 1.0  # how often an idle publisher asks a compiling builder for its graphs' states


@dataclass
class FrameMeta:
    """What one watched session's frame needs besides the network's outputs."""

    header: dict[str, Any]
    history: np.ndarray  # (rows, points) float32
    labels: dict[str, np.ndarray]  # part -> (n,) class indices (classification only)
    classes: int
    value_range: tuple[float, float]
    watchers: list["Watcher"]
    session: Any  # the Session: its view_version is read, its `shown` count written
    view_version: int
    changes: int  # the session's change count when this frame was drawn
    neurons: bool = False  # a watcher asked for neuron maps
    data: Any = None  # the SessionData: its own plane (extent, projection) when not the standard one


@dataclass
class FrameJob:
    """A group's watched rows at one tick: copied tensors, so training may go on meanwhile."""

    key: Any  # (GroupKey, chunk): one pending job per group chunk
    net: BatchedNetwork
    params: dict[str, RowTensor]  # (rows, ...) copies, parameters and buffers (numpy on the CPU)
    data: dict[str, RowTensor] = field(default_factory=dict)  # x_<part> copies (rows, points, features)
    sessions: list[FrameMeta] = field(default_factory=list)

    def request(self, resolution: int, device: torch.device, compile: bool = False) -> DrawRequest:
        """The plain-data part of the job, for the drawer (which may be another process)."""
        items = []
        for m in self.sessions:
            own = m.data is not None and not m.data.standard_plane
            planes = None
            if own:
                resolutions = (resolution, NEURON_RESOLUTION) if m.neurons else (resolution,)
                planes = {r: m.data.grid_inputs(self.net.key.features, r, device) for r in resolutions}
            items.append(DrawItem(
                m.header, m.history, m.labels, m.classes, m.value_range, m.neurons,
                m.data.extent if m.data is not None else DrawItem.extent, planes,
                m.data.uid if m.labels and m.data is not None else None,
            ))
        return DrawRequest(self.net.key, resolution, self.params, self.data, items, compile=compile)


@dataclass
class Begun:
    """A job whose frames are being drawn: by the frame builder (`drawing`) or already (`frames`)."""

    job: FrameJob
    started: float  # perf_counter at its start
    drawing: Drawing | None = None
    frames: list[bytes] | None = None


class FramePublisher:
    """A thread that turns FrameJobs into encoded frames for the watchers."""

    def __init__(
        self, device: torch.device, resolution: int, builder: FrameBuilder | None = None, compiles: bool = False
    ) -> None:
        self.device = device
        self.resolution = resolution
        self.compiles = compiles  # a class's plane passes may be compiled (Settings.compile_steps)
        self.drawer = FrameDrawer(device)  # on this thread, when there is no builder process
        self.builder = builder
        self._pending: dict[Any, FrameJob] = {}
        self._urgent: list[FrameJob] = []  # frames answering commands: before any group frame
        self._cond = threading.Condition()
        self._stopping = False
        self._recent = (0.0, 0.0)  # decaying sums over recent jobs: seconds busy, frames drawn
        self._done_at = 0.0  # when the last job's frames were handed out
        self.published = 0  # frames handed to watchers
        self.stale_undrawn = 0  # frames that went stale while queued, and were not drawn
        self.stale_drawn = 0  # frames that went stale while they were drawn, and were not sent
        self._thread = threading.Thread(target=self._run, name="nnpg-frames", daemon=True)

    def start(self) -> None:
        if self.builder is not None:
            self.builder.start()
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout=10)

    def submit(self, job: FrameJob, urgent: bool = False) -> None:
        """Queue a job, replacing an older one of the same group that has not started; an urgent
        one (the sessions a command changed) is never replaced and goes first."""
        with self._cond:
            if urgent:
                self._urgent.append(job)
            else:
                self._pending[job.key] = job
            self._cond.notify()

    @property
    def seconds_per_frame(self) -> float:
        """Wall seconds this thread spends per frame (drawn and handed over), over recent jobs: the
        worker spaces its ticks by it, so it never asks for frames faster than they are made."""
        busy, frames = self._recent
        return busy / frames if frames else 0.0

    def grid_graphs(self) -> dict[str, int]:
        """The drawer's compiled plane passes by state (the builder process's, as it last said)."""
        return self.builder.grid_graphs if self.builder is not None else self.drawer.passes.states()

    def _builder_compiling(self) -> bool:
        return self.builder is not None and bool(self.builder.grid_graphs.get("compiling"))

    def waiting(self, key: Any) -> bool:
        """Whether a job of this group chunk is queued and not started (a new one would replace it)."""
        with self._cond:
            return key in self._pending

    def _run(self) -> None:
        drawing: deque[Begun] = deque()  # jobs sent to the frame builder, oldest first
        while True:
            with self._cond:
                while not drawing and not self._pending and not self._urgent and not self._stopping:
                    # While the builder's graphs compile, ask it now and then how they are: with
                    # nothing to draw, no answer would bring their states.
                    timeout = STATE_POLL_SECONDS if self.builder is not None else None
                    if not self._cond.wait(timeout) and self._builder_compiling():
                        break
                if self._stopping:
                    break
                queued = bool(self._pending or self._urgent) and len(drawing) < PIPELINE_DEPTH
                job = self._next_job() if queued else None
            try:
                if job is not None:
                    begun = self._begin(job)
                    if begun is not None:
                        drawing.append(begun)
                    continue  # another job may go to the builder before this one's frames are read
                if drawing:
                    self._finish(drawing.popleft())
                    continue
            except Exception:  # noqa: BLE001 - one bad frame must not stop the stream
                log.exception("building frames failed")
                continue
            assert self.builder is not None  # only a compiling builder ends the wait with no job
            self.builder.refresh_states()
        for begun in drawing:  # stopping: read their replies, so none waits for the next reader
            if self.builder is not None and begun.drawing is not None:
                try:
                    self.builder.finish(begun.drawing)
                except Exception:  # noqa: BLE001 - frames nobody will be sent
                    pass

    def _next_job(self) -> FrameJob:
        """The job to draw next (lock held): urgent ones first, each with every other urgent one of
        its group merged in; then the oldest group job."""
        if self._urgent:
            job = self._urgent.pop(0)
            same = [j for j in self._urgent if j.net.key == job.net.key and _stackable(job, j)]
            if not same:
                return job
            self._urgent = [j for j in self._urgent if not any(j is m for m in same)]
            return _merged([job, *same])
        # Oldest first: a replaced job keeps its group's place, so every group gets its turn.
        # (popitem() took the newest, and under load the groups queued first never got frames.)
        return self._pending.pop(next(iter(self._pending)))

    def build(self, job: FrameJob) -> list[bytes]:
        """One encoded frame per session of the job, in its order."""
        req = job.request(self.resolution, self.device, self.compiles)
        return self.builder.draw(req) if self.builder is not None else self.drawer.draw(req)

    def publish(self, job: FrameJob) -> None:
        """Draw the job's frames, then hand each to its session's watchers unless it went stale."""
        begun = self._begin(job)
        if begun is not None:
            self._finish(begun)

    def _begin(self, job: FrameJob) -> "Begun | None":
        """Start drawing the job's frames that are not stale already (the frame builder draws
        them meanwhile); None if none is left."""
        started = time.perf_counter()
        fresh = [i for i, meta in enumerate(job.sessions) if not _stale(meta)]
        if len(fresh) < len(job.sessions):
            # Gone stale while queued (mostly a command's urgent frame went first): not drawn at all.
            # With a class sending commands this was a tenth of the frames drawn (bench/serve.py).
            self.stale_undrawn += len(job.sessions) - len(fresh)
            if not fresh:
                return None
            job = _rows_of(job, np.array(fresh, dtype=np.int64))
        if self.builder is None:
            return Begun(job, started, frames=self.build(job))
        return Begun(job, started, drawing=self.builder.begin(job.request(self.resolution, self.device, self.compiles)))

    def _finish(self, begun: Begun) -> None:
        """Hand the frames of a job begun to the watchers, each unless it went stale meanwhile."""
        job = begun.job
        frames = begun.frames if self.builder is None or begun.drawing is None else self.builder.finish(begun.drawing)
        assert frames is not None
        for meta, data in zip(job.sessions, frames, strict=True):
            if _stale(meta):
                self.stale_drawn += 1  # went stale while it was drawn
                continue
            meta.session.published_seq = meta.header["seq"]
            self.published += 1
            for w in meta.watchers:
                w.frame(data)
            meta.session.shown = max(meta.session.shown, meta.changes)
        # Busy since this job began or the last one was handed out, whichever came later: with
        # jobs overlapping, the time between hand-outs, so the worker paces ticks by throughput.
        now = time.perf_counter()
        busy_since, self._done_at = max(begun.started, self._done_at), now
        # A ratio of sums, not an average of ratios: a command's one-frame job costs more per
        # frame than a tick's fifty, and must weigh as one frame, not as fifty.
        busy, count = self._recent
        self._recent = (0.9 * busy + now - busy_since, 0.9 * count + len(job.sessions))


def _stale(meta: FrameMeta) -> bool:
    """Whether a frame is older than what its watchers already have: a config or dataset event went
    out after it was made, or a newer frame (a command's urgent one) did."""
    return meta.session.view_version != meta.view_version or meta.header["seq"] <= meta.session.published_seq


def _rows_of(job: FrameJob, index: np.ndarray) -> FrameJob:
    """The job for its sessions at `index` only."""
    def take(part: dict[str, RowTensor]) -> dict[str, RowTensor]:
        return {k: take_rows(t, index) for k, t in part.items()}

    return FrameJob(job.key, job.net, take(job.params), take(job.data), [job.sessions[i] for i in index.tolist()])


def _stackable(a: FrameJob, b: FrameJob) -> bool:
    """Whether two jobs of one group can be drawn as one: the same tensors, of the same row shapes
    (a group's data parts grow when a session with more points joins)."""
    return all(
        x.keys() == y.keys() and all(x[k].shape[1:] == y[k].shape[1:] for k in x)
        for x, y in ((a.params, b.params), (a.data, b.data))
    )


def _merged(jobs: list[FrameJob]) -> FrameJob:
    """Urgent jobs of one group as one, its rows in order, a session framed twice kept only at its
    newest: commands arrive one by one (a pause here, a learning rate there), and drawing k rows
    at once costs little more than drawing one (bench/frames.py)."""
    metas = [m for j in jobs for m in j.sessions]
    last = {id(m.session): i for i, m in enumerate(metas)}
    keep = [i for i, m in enumerate(metas) if last[id(m.session)] == i]
    index = np.array(keep, dtype=np.int64)

    def concat(parts: list[dict[str, RowTensor]]) -> dict[str, RowTensor]:
        return {k: concat_rows([p[k] for p in parts]) for k in parts[0]}

    first = jobs[0]
    whole = FrameJob(
        first.key, first.net, concat([j.params for j in jobs]), concat([j.data for j in jobs]) if first.data else {},
        metas,
    )
    return _rows_of(whole, index)

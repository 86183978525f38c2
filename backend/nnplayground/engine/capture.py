"""A compiled step replayed as a CUDA graph once its arguments have settled.

Why: on a GPU a class's step is a few dozen tiny kernels, and launching them one by one from
Python costs more than running them. A CUDA graph records the launches once and replays them in
one call. What a replay asks: every input at the address it was recorded at. A step's inputs
are the running rows' views (the same tensors step after step, until a group's tensors are
reallocated) and the batch's positions (a new tensor each step); the first are used in place,
the second are copied into a buffer of the graph's own before each replay.

How: per direct call (directcall.py: one layout and one set of shapes), the call is first run
plainly; the next time, if only inputs that the graph reads (never one it updates) changed since,
those get buffers of their own, the call runs once for real (the warm-up, on a side stream), and
is recorded. Later calls whose
in-place inputs are the recorded tensors replay it; any other goes back to plain calls and
records again. Outputs are copied out of the graph's buffers, which the next replay overwrites.

Only CUDA records graphs (`record_cuda_graph`); on the CPU a group has no `StepCapture`, and the
bookkeeping here is tested with a stand-in recorder that replays by calling the function again.
"""

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from .directcall import DirectCall


class DeviceGraph(Protocol):
    """What a recorded graph offers: torch.cuda.CUDAGraph's replay."""

    def replay(self) -> None: ...


log = logging.getLogger(__name__)

# Held by the compile thread around a new graph's first calls, which tune kernels with device
# syncs that would break a recording; a step is not recorded while it is held (tried next step).
DEVICE_WORK = threading.Lock()

# A recorder runs fn once for real and records it: (the graph, or None when recording failed; the
# real run's outputs; the graph's outputs).
Recording = tuple[DeviceGraph | None, Sequence[Any], Sequence[Any]]
Recorder = Callable[[Callable[[], Sequence[Any]]], Recording]


def record_cuda_graph(fn: Callable[[], Sequence[Any]]) -> Recording:
    """torch.cuda.graph's recipe: a warm-up run on a side stream (this step's real update), then the
    capture, which records the kernels without running them."""
    current = torch.cuda.current_stream()
    stream = torch.cuda.Stream()
    stream.wait_stream(current)
    with torch.cuda.stream(stream):
        outputs = fn()
    current.wait_stream(stream)
    for out in outputs:
        if isinstance(out, torch.Tensor):
            out.record_stream(current)  # made on the side stream, used on this one
    graph = torch.cuda.CUDAGraph()
    try:
        # thread_local: other threads (frames drawn on the GPU, say) may go on using the device.
        with torch.cuda.graph(graph, capture_error_mode="thread_local"):
            recorded = fn()
    except RuntimeError as exc:  # an op that cannot be recorded: the plain calls are just as right
        torch.cuda.set_stream(current)  # the graph's exit skips this when ending the capture raises
        log.warning("recording a step as a CUDA graph failed; this group's steps run unrecorded: %s", exc)
        return None, outputs, ()
    return graph, outputs, recorded


@dataclass
class Captured:
    """One direct call recorded as a device graph."""

    graph: DeviceGraph
    in_place: list[tuple[int, torch.Tensor, int]]  # (input index, tensor, its data_ptr) used where they are
    copied: list[tuple[int, torch.Tensor]]  # (input index, the graph's buffer) refreshed before each replay
    outputs: Sequence[Any]  # the graph's outputs, overwritten by each replay

    def fits(self, inputs: Sequence[Any]) -> bool:
        return all(inputs[i] is t and t.data_ptr() == ptr for i, t, ptr in self.in_place)


class StepCapture:
    """Device graphs for a compiled graph's direct calls; see the module's docstring."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self.captures = 0  # graphs recorded (a reallocation or a new row count records again)
        self.replays = 0
        self.failed = False  # a recording failed: plain calls from then on

    def __call__(self, direct: DirectCall, inputs: list[Any], read_only: Callable[[], set[int]]) -> Sequence[Any]:
        """The graph's outputs for this call, by replay where one fits. `read_only`: the ids of the
        call's tensors that the graph only reads, the only ones that may be copied into buffers
        (a tensor updated in place must be the one recorded, or the update would land in a copy)."""
        captured: Captured | None = direct.captured
        if captured is not None:
            if captured.fits(inputs):
                for i, buffer in captured.copied:
                    buffer.copy_(inputs[i])
                captured.graph.replay()
                self.replays += 1
                return [o.clone() if isinstance(o, torch.Tensor) else o for o in captured.outputs]
            direct.captured = direct.previous = None  # the rows' tensors were reallocated: learn them again
        previous, direct.previous = direct.previous, inputs
        if previous is None or self.failed:
            return direct.graph(*inputs)
        tensors = [i for i, t in enumerate(inputs) if isinstance(t, torch.Tensor)]
        changed = [i for i in tensors if inputs[i] is not previous[i]]
        readable = read_only()
        if any(id(inputs[i]) not in readable for i in changed):
            return direct.graph(*inputs)  # rows' tensors made anew since the last call: not settled
        if not DEVICE_WORK.acquire(blocking=False):
            return direct.graph(*inputs)  # a compile is calling a new graph: record at a later step
        try:
            return self._record(direct, inputs, tensors, changed)
        finally:
            DEVICE_WORK.release()

    def _record(self, direct: DirectCall, inputs: list[Any], tensors: list[int], changed: list[int]) -> Sequence[Any]:
        """Run this call for real and record it: inputs changed since the last call copied, the rest in place."""
        copied = [(i, inputs[i].clone()) for i in changed]
        args = list(inputs)
        for i, buffer in copied:
            args[i] = buffer
        graph, outputs, recorded = self._recorder(lambda: direct.graph(*args))
        if graph is None:
            self.failed = True
            return outputs
        in_place = [(i, inputs[i], inputs[i].data_ptr()) for i in tensors if i not in changed]
        direct.captured = Captured(graph, in_place, copied, recorded)
        self.captures += 1
        return outputs

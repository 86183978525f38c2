"""A group's training step and its evaluation compiled into a few fused loops (torch.compile with inductor).

Why: at classroom scale the step's arithmetic is tiny, and its cost is the per-call overhead of
some sixty small torch ops over (sessions, batch, width) tensors. Compiled, the hand-written
backward pass (with its batched products written as multiply-and-sum, see
`network.broadcast_product`), the L1/L2 gradients and the optimiser update become one graph of a
few fused kernels: 1.35-1.9x fewer microseconds per step at 100 sessions (docs/performance.md).

A compile costs seconds of CPU, so it happens on a background thread of its own, one at a time
server-wide, and only for a group with at least MIN_ROWS running sessions, or for a session that
has trained alone for LONE_STEPS steps on a quiet server (fewer than MIN_ROWS sessions train in
all: one user's session, a graph for one row, `StepVariant.lone`; a class's loners and a class's
first arrival do not compile); the group steps
eagerly (exactly the same arithmetic, within float rounding) until its graph is ready, and for
good if compiling fails (no C++ compiler, say). A graph serves one `StepVariant`: the batch
width and which optional terms are on; a step of any other variant, a masked batch, clipping,
dropout or an autograd network takes the eager path. The graph gathers each row's batch from the
rows' training points itself (at any count of points), given the batch's positions; input noise
is drawn eagerly and added to those points first.

Evaluations (each parked epoch end's loss and accuracy on every data part, `evaluate_part`) are
compiled the same way, per part length, for the same groups: eagerly they were a third of the
worker's time in a class, most of it BLAS calls on tiny matrices and per-op overhead.
"""

import logging
import queue
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch._inductor.compile_fx import compile_fx
from torch.utils._pytree import tree_leaves, tree_map

from .capture import DEVICE_WORK, StepCapture
from .directcall import DirectCall, flatten
from .network import BatchedNetwork, add_penalty_gradients, broadcast_product, evaluate_part, layer_norms
from .optim import BatchedOptimizer

log = logging.getLogger(__name__)

# torch's "FX is tracing" flag is process-wide: while a compile on the compile thread traces, a call
# entering a compiled function through dynamo on another thread (a new row count) raised, and the
# worker's slice with it. Such a call now runs the function eagerly: the same arithmetic, once.
torch._dynamo.config.error_on_nested_fx_trace = False

MIN_ROWS = 8  # fewer running sessions step fast enough eagerly; a compile is not worth its CPU
# Steps a row must take alone, on a quiet server, before it asks for a graph of its own: a class
# arriving has its first session alone for a moment, and that compile would delay the class's.
LONE_STEPS = 3000  # about 2 s of eager steps
MAX_VARIANTS = 4  # per group: a class uses one batch width and one set of terms, rarely more
# Rows an evaluation needs to take the graph (a graph dynamic in its rows is specialised on 0 and
# 1, so those would recompile on the worker), and to ask for a compile (warm-up on n and n - 1).
MIN_EVALUATION_ROWS, MIN_EVALUATION_SAMPLE = 2, 3
# Checked calls kept per graph, one per shape of its arguments: a class's evaluations come with
# any count of parked rows, so a few dozen (each holds its call's tensors, a few MB in all).
MAX_DIRECT = 32

Tensors = list[torch.Tensor]


@dataclass(frozen=True)
class StepVariant:
    """What a compiled graph is specialised on, besides the group's shapes."""

    width: int  # points in this step's batch (the same for every row: no mask)
    l1: bool
    l2: bool
    decay: bool  # some row uses weight decay (the hyper dict then holds it)
    dtype: torch.dtype
    lone: bool = False  # a graph for one row alone (Group.step's compile_lone), not for any count of rows


@dataclass
class StepInputs:
    """One step's arguments: the running rows' views, (k, ...) each."""

    params: Tensors
    slots: dict[str, Tensors]
    hyper: dict[str, torch.Tensor]
    x: torch.Tensor  # (k, points, features), contiguous: the rows' training inputs
    y: torch.Tensor  # (k, points, outputs), contiguous
    index: torch.Tensor  # (k, width) int64: the batch's positions in x and y
    l1: torch.Tensor | None  # (k, 1, 1) rates, None when no row uses L1
    l2: torch.Tensor | None


def _step_function(
    net: BatchedNetwork, optimizer: BatchedOptimizer, names: list[str], layer_matrix: torch.Tensor
) -> Callable[..., torch.Tensor]:
    """The step as a plain function of tensors: gradients (+ penalties), the update in place, and
    each layer's gradient norm (k, layers), which the diagnostics keep at epoch ends."""

    def step(
        params: Tensors, slots: dict[str, Tensors], hyper: dict[str, torch.Tensor], x: torch.Tensor,
        y: torch.Tensor, index: torch.Tensor, l1: torch.Tensor | None, l2: torch.Tensor | None,
    ) -> torch.Tensor:
        # The batch is gathered in the graph: eagerly it was a tenth of the worker's time, and
        # each of its ops gave the GIL away (the event loop took it, the worker waited).
        xb = x.gather(1, index[:, :, None].expand(-1, -1, x.shape[2]))  # (k, width, features)
        yb = y.gather(1, index[:, :, None].expand(-1, -1, y.shape[2]))  # (k, width, outputs)
        p = dict(zip(names, params, strict=True))
        grads = net.backward(p, xb, yb, 1.0 / xb.shape[1], product=broadcast_product)
        out = [grads[n] for n in names]
        add_penalty_gradients(names, params, out, l1, l2)
        norms = layer_norms(names, out, layer_matrix)
        hyper["t"].add_(1)
        optimizer.update(params, out, slots, hyper)
        return norms

    return step


class GraphCompiler:
    """One background thread that compiles queued graphs one after another."""

    _shared: "GraphCompiler | None" = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self._queue: queue.Queue[CompiledGraph] = queue.Queue()
        threading.Thread(target=self._run, name="nnpg-graph-compiler", daemon=True).start()

    @classmethod
    def shared(cls) -> "GraphCompiler":
        with cls._lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def submit(self, compiled: "CompiledGraph") -> None:
        self._queue.put(compiled)

    def _run(self) -> None:
        while True:
            self._queue.get()._compile()


class CompiledGraph:
    """A function of row tensors (lists, dicts, None allowed), compiled in the background for any
    number of rows; `state` goes compiling -> ready (or failed)."""

    # Inductor options for every compile; set on the compile thread (inductor's own config
    # changes are thread-local). Tests point "cpp.cxx" at no compiler to see a compile fail.
    inductor_options: dict[str, Any] = {}
    # Graphs inductor made in this process (recompiles too): new long-lived objects (collector.py).
    graphs_made = 0

    def __init__(
        self, fn: Callable[..., Any], sample: tuple[Any, ...], what: str,
        dynamic: Callable[[tuple[Any, ...]], list[tuple[torch.Tensor, int]]] | None = None,
        any_rows: bool = True, capture: StepCapture | None = None,
        read_only: Callable[[tuple[Any, ...]], list[Any]] | None = None,
    ) -> None:
        self.what = what  # for the log, e.g. the step variant
        self.capture = capture  # on a GPU, a step's direct calls replayed as CUDA graphs (capture.py)
        self._read_only = read_only  # the arguments the function only reads (the rest it may update in place)
        # Dimensions besides the rows that the graph must take at any length: (tensor, dim) of the args.
        self._dynamic = dynamic
        # For any count of rows (>= 2), or only for the sample's (one row: dynamo specialises 0 and 1).
        self._any_rows = any_rows
        self.state = "compiling"
        self.calls = 0  # calls that took the graph (tests, diagnostics)
        # Copies to compile on, so the warm-up calls leave the real rows untouched.
        self._sample: tuple[Any, ...] | None = map_tensors(lambda t: t.clone(), sample)
        # torch's thread count as the caller sees it: a graph guards on it, and the compile thread
        # may see another (OpenMP's is per thread), which made every first call compile again.
        self._threads = torch.get_num_threads()
        # A code object of its own: dynamo keeps compiled graphs per code object, so every group
        # (and variant) gets its own cache instead of sharing one that fills up.
        self._plain = types.FunctionType(fn.__code__.replace(), fn.__globals__, closure=fn.__closure__)
        self._fn: Callable[..., Any] | None = None  # torch.compile's wrapper, made on the compile thread
        self._options: dict[str, Any] = {}
        # Calls that dynamo checked, to call again past its entry (directcall.py): by the arguments'
        # layout and shapes, oldest kept first.
        self._direct: dict[tuple[Any, ...], DirectCall] = {}
        self._last: DirectCall | None = None  # the one that fitted last: a group steps alike for long
        self._graph_calls: list[tuple[Callable[..., Any], tuple[Any, ...], Any]] = []  # during a dynamo call
        self.direct_calls = 0  # of `calls`, those that went past dynamo's entry (tests, diagnostics)
        self.done = threading.Event()

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    def _compile(self) -> None:
        sample, self._sample = self._sample, None
        assert sample is not None
        start = time.monotonic()
        try:
            # The first torch.compile imports dynamo and inductor: seconds of CPU, kept off the
            # thread that asked (it stalled the frame builder for 3 s when a class arrived).
            self._options = {"compile_threads": 1, **self.inductor_options}  # no pool of compile workers
            torch.set_num_threads(self._threads)
            # One graph or none (a graph break fails the compile): a direct call runs that graph alone.
            compiled = self._fn = torch.compile(self._plain, dynamic=False, fullgraph=True, backend=self._backend)
            # A GPU's recording must not overlap these first calls (inductor tunes kernels with
            # device syncs): capture.py skips recording while the lock is held.
            with torch.no_grad(), DEVICE_WORK:
                rows = _tensors(sample)[0].shape[0]
                for n in (rows, rows - 1) if self._any_rows else (rows,):
                    # Sessions come and go: the graph must take any count of rows (>= 2). A tensor
                    # of another length (one plane shared by all rows) stays as it is.
                    args = map_tensors(lambda t, n=n: t[:n] if t.shape[0] == rows else t, sample)
                    for t in _tensors(args):
                        if self._any_rows and t.shape[0] == n:
                            torch._dynamo.mark_dynamic(t, 0)
                    for t, dim in self._dynamic(args) if self._dynamic else []:
                        torch._dynamo.mark_dynamic(t, dim)
                    compiled(*args)
            self._direct.clear()  # the warm-up's copies: real calls record their own
            self._last = None
            self.state = "ready"
            log.info("compiled %s in %.1f s", self.what, time.monotonic() - start)
        except Exception as e:  # no compiler, an unsupported op: eager code is just as right
            log.warning("compiling %s failed; it stays eager: %s", self.what, e)
            self.state = "failed"
        finally:
            self.done.set()

    def forget_captures(self) -> None:
        for direct in self._direct.values():
            direct.captured = direct.previous = None

    def _backend(self, gm: torch.fx.GraphModule, example_inputs: list[Any]) -> Callable[..., Any]:
        """Inductor, as torch.compile's default backend calls it, with each call of the graph noted."""
        graph = compile_fx(gm, example_inputs, config_patches=self._options)
        CompiledGraph.graphs_made += 1

        def run(*inputs: Any) -> Any:
            outputs = graph(*inputs)
            self._graph_calls.append((graph, inputs, outputs))
            return outputs

        return run

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        assert self._fn is not None, "called before it was ready"
        leaves: list[Any] = []
        layout_list: list[Any] = []
        flatten(args, leaves, layout_list)
        layout = tuple(layout_list)
        inputs = self._last.bind(layout, leaves) if self._last is not None else None
        if inputs is None:  # not as the last call: the call kept for these shapes, if any
            key = (layout, tuple(leaf.shape for leaf in leaves if isinstance(leaf, torch.Tensor)))
            kept = self._direct.get(key)
            inputs = kept.bind(layout, leaves) if kept is not None else None
            if inputs is None:
                return self._through_dynamo(args, layout, leaves, key)
            self._last = kept
        assert self._last is not None
        self.direct_calls += 1
        with torch.no_grad():  # a `with`: the decorator was 5 % of the training thread's GIL time in a class
            if self.capture is not None:
                reads = self._read_only
                readable = lambda: {id(t) for t in _tensors(reads(args))} if reads else set()  # noqa: E731
                return self._last.result(self.capture(self._last, inputs, readable))
            return self._last.result(self._last.graph(*inputs))

    def _through_dynamo(self, args: tuple[Any, ...], layout: tuple[Any, ...], leaves: list[Any], key: Any) -> Any:
        """The call by torch.compile's wrapper (guards checked, a recompile if need be), kept for
        direct calls when it ran one graph whose outputs make its result."""
        assert self._fn is not None
        self._graph_calls.clear()
        with torch.no_grad():  # as when compiled: grad mode is part of what the graph was made for
            result = self._fn(*args)
        if len(self._graph_calls) == 1:
            graph, inputs, outputs = self._graph_calls[0]
            direct = DirectCall.record(graph, inputs, outputs, layout, leaves, result)
            if direct is not None:
                self._direct.pop(key, None)
                self._direct[key] = self._last = direct
                while len(self._direct) > MAX_DIRECT:
                    del self._direct[next(iter(self._direct))]  # the oldest kept
        self._graph_calls.clear()
        return result


def _tensors(tree: Any) -> Tensors:
    return [t for t in tree_leaves(tree) if isinstance(t, torch.Tensor)]


def map_tensors(fn: Callable[[torch.Tensor], torch.Tensor], tree: Any) -> Any:
    """`tree` (tuples, lists, dicts) with fn applied to every tensor; None and the rest kept."""
    return tree_map(lambda t: fn(t) if isinstance(t, torch.Tensor) else t, tree)


def compile_in_background(graph: CompiledGraph) -> CompiledGraph:
    GraphCompiler.shared().submit(graph)
    return graph


def step_args(s: StepInputs) -> tuple[Any, ...]:
    return (s.params, s.slots, s.hyper, s.x, s.y, s.index, s.l1, s.l2)


def _step_reads(args: tuple[Any, ...]) -> list[Any]:
    """What a step only reads: x, y, the batch's positions and the penalty rates (not the rows'
    parameters, optimiser slots or hyperparameters, which it updates in place)."""
    return list(args[3:8])


def _points_dims(args: tuple[Any, ...]) -> list[tuple[torch.Tensor, int]]:
    """The step's x and y at any count of points: a group's capacity grows when a session with
    more points joins, and the graph must not be compiled again for it (on the worker, in a call)."""
    return [(args[3], 1), (args[4], 1)]


def _evaluation_function(net: BatchedNetwork, classification: bool) -> Callable[..., Any]:
    """`evaluate_part` with the network's products as multiply-and-sum, for the compiler."""

    def evaluate(
        params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, n: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        return evaluate_part(net, params, x, y, n, classification, product=broadcast_product)

    return evaluate


class CompiledSteps:
    """A group's compiled variants: asks for a compile the first time a variant is seen."""

    def __init__(
        self, net: BatchedNetwork, optimizer: BatchedOptimizer, names: list[str], layer_matrix: torch.Tensor,
        classification: bool, capture: StepCapture | None = None,
    ) -> None:
        self._step = _step_function(net, optimizer, names, layer_matrix)
        self.capture = capture  # steps replayed as CUDA graphs (a GPU's groups; capture.py)
        self._evaluate = _evaluation_function(net, classification)
        self.variants: dict[StepVariant, CompiledGraph] = {}
        self.evaluations: dict[tuple[int, torch.dtype], CompiledGraph] = {}  # (points, dtype) -> graph

    def graphs(self) -> list[CompiledGraph]:
        return [*self.variants.values(), *self.evaluations.values()]

    def forget_captures(self) -> None:
        """Drop the steps' recorded device graphs and the inputs they learned from: the group's
        tensors were reallocated, and those would keep the old ones alive (capture.py)."""
        for graph in self.variants.values():
            graph.forget_captures()

    def get(self, variant: StepVariant, inputs: Callable[[], StepInputs]) -> "CompiledGraph | None":
        """The ready graph for this variant, or None (then one is queued, if there is room)."""
        compiled = self.variants.get(variant)
        if compiled is None and len(self.variants) < MAX_VARIANTS:
            graph = CompiledGraph(
                self._step, step_args(inputs()), f"a step ({variant})", _points_dims, any_rows=not variant.lone,
                capture=self.capture, read_only=_step_reads,
            )
            compiled = self.variants[variant] = compile_in_background(graph)
        return compiled if compiled is not None and compiled.ready else None

    def evaluate(
        self, params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, n: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None] | None:
        """`evaluate_part` by the graph for this part's length, or None when there is none ready.
        One is queued when the group's step compiles too (a class, not a few sessions), there is
        room, and rows enough to compile on."""
        rows, key = x.shape[0], (x.shape[1], x.dtype)
        compiled = self.evaluations.get(key)
        wanted = bool(self.variants) and rows >= MIN_EVALUATION_SAMPLE and len(self.evaluations) < MAX_VARIANTS
        if compiled is None and wanted:
            compiled = self.evaluations[key] = compile_in_background(CompiledGraph(
                self._evaluate, (params, x, y, n), f"an evaluation ({x.shape[1]} points, {x.dtype})"
            ))
        if compiled is None or not compiled.ready or rows < MIN_EVALUATION_ROWS:
            return None
        return compiled(params, x, y, n)

"""A group's training step compiled into a few fused loops (torch.compile with inductor).

Why: at classroom scale the step's arithmetic is tiny, and its cost is the per-call overhead of
some sixty small torch ops over (sessions, batch, width) tensors. Compiled, the hand-written
backward pass (with its batched products written as multiply-and-sum, see
`network.broadcast_product`), the L1/L2 gradients and the optimiser update become one graph of a
few fused kernels: 1.35-1.9x fewer microseconds per step at 100 sessions (docs/performance.md).

A compile costs seconds of CPU, so it happens on a background thread of its own, one at a time
server-wide, and only for a group with at least MIN_ROWS running sessions; the group steps
eagerly (exactly the same arithmetic, within float rounding) until its graph is ready, and for
good if compiling fails (no C++ compiler, say). A graph serves one `StepVariant`: the batch
width and which optional terms are on; a step of any other variant, a masked batch, clipping,
input noise, dropout or an autograd network takes the eager path.
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

from .network import BatchedNetwork, add_penalty_gradients, broadcast_product, layer_norms
from .optim import BatchedOptimizer

log = logging.getLogger(__name__)

MIN_ROWS = 8  # fewer running sessions step fast enough eagerly; a compile is not worth its CPU
MAX_VARIANTS = 4  # per group: a class uses one batch width and one set of terms, rarely more

Tensors = list[torch.Tensor]


@dataclass(frozen=True)
class StepVariant:
    """What a compiled graph is specialised on, besides the group's shapes."""

    width: int  # points in this step's batch (the same for every row: no mask)
    l1: bool
    l2: bool
    decay: bool  # some row uses weight decay (the hyper dict then holds it)
    dtype: torch.dtype


@dataclass
class StepInputs:
    """One step's arguments: the running rows' views, (k, ...) each."""

    params: Tensors
    slots: dict[str, Tensors]
    hyper: dict[str, torch.Tensor]
    xb: torch.Tensor  # (k, width, features), contiguous
    yb: torch.Tensor  # (k, width, outputs), contiguous
    l1: torch.Tensor | None  # (k, 1, 1) rates, None when no row uses L1
    l2: torch.Tensor | None

    def clone(self) -> "StepInputs":
        """Copies to compile on, so the warm-up calls leave the real rows untouched."""

        def c(t: torch.Tensor | None) -> Any:
            return None if t is None else t.clone()

        return StepInputs(
            [p.clone() for p in self.params], {s: [t.clone() for t in ts] for s, ts in self.slots.items()},
            {n: t.clone() for n, t in self.hyper.items()}, self.xb.clone(), self.yb.clone(), c(self.l1), c(self.l2),
        )


def _step_function(
    net: BatchedNetwork, optimizer: BatchedOptimizer, names: list[str], layer_matrix: torch.Tensor
) -> Callable[..., torch.Tensor]:
    """The step as a plain function of tensors: gradients (+ penalties), the update in place, and
    each layer's gradient norm (k, layers), which the diagnostics keep at epoch ends."""

    def step(
        params: Tensors, slots: dict[str, Tensors], hyper: dict[str, torch.Tensor], xb: torch.Tensor,
        yb: torch.Tensor, l1: torch.Tensor | None, l2: torch.Tensor | None,
    ) -> torch.Tensor:
        p = dict(zip(names, params, strict=True))
        grads = net.backward(p, xb, yb, 1.0 / xb.shape[1], product=broadcast_product)
        out = [grads[n] for n in names]
        add_penalty_gradients(names, params, out, l1, l2)
        norms = layer_norms(names, out, layer_matrix)
        hyper["t"].add_(1)
        optimizer.update(params, out, slots, hyper)
        return norms

    return step


class StepCompiler:
    """One background thread that compiles queued graphs one after another."""

    _shared: "StepCompiler | None" = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self._queue: queue.Queue[CompiledStep] = queue.Queue()
        threading.Thread(target=self._run, name="nnpg-step-compiler", daemon=True).start()

    @classmethod
    def shared(cls) -> "StepCompiler":
        with cls._lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def submit(self, compiled: "CompiledStep") -> None:
        self._queue.put(compiled)

    def _run(self) -> None:
        while True:
            self._queue.get()._compile()


class CompiledStep:
    """The compiled step of one group variant: `state` goes compiling -> ready (or failed)."""

    # Inductor options for every compile; set on the compile thread (inductor's own config
    # changes are thread-local). Tests point "cpp.cxx" at no compiler to see a compile fail.
    inductor_options: dict[str, Any] = {}

    def __init__(self, step: Callable[..., torch.Tensor], variant: StepVariant, sample: StepInputs) -> None:
        self.variant = variant
        self.state = "compiling"
        self.calls = 0  # steps taken with the graph (tests, diagnostics)
        self._sample: StepInputs | None = sample.clone()
        options = {"compile_threads": 1, **self.inductor_options}  # no pool of compile workers
        # A code object of its own: dynamo keeps compiled graphs per code object, so every group
        # (and variant) gets its own cache instead of sharing one that fills up.
        step = types.FunctionType(step.__code__.replace(), step.__globals__, closure=step.__closure__)
        self._fn = torch.compile(step, dynamic=False, options=options)
        self.done = threading.Event()

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    def _compile(self) -> None:
        sample, self._sample = self._sample, None
        assert sample is not None
        start = time.monotonic()
        try:
            with torch.no_grad():
                for rows in (sample.xb.shape[0], sample.xb.shape[0] - 1):
                    # Sessions come and go: the graph must take any count of rows (>= 2).
                    args = _narrow(sample, rows)
                    for t in _all_tensors(args):
                        torch._dynamo.mark_dynamic(t, 0)
                    self._fn(args.params, args.slots, args.hyper, args.xb, args.yb, args.l1, args.l2)
            self.state = "ready"
            log.info("compiled a training step (%s) in %.1f s", self.variant, time.monotonic() - start)
        except Exception as e:  # no compiler, an unsupported op: eager steps are just as right
            log.warning("compiling a training step failed (%s); it stays eager: %s", self.variant, e)
            self.state = "failed"
        finally:
            self.done.set()

    @torch.no_grad()  # as when compiled: grad mode is part of what the graph was made for
    def __call__(self, inputs: StepInputs) -> torch.Tensor:
        """Step the rows in place; returns each layer's gradient norm, (k, layers)."""
        self.calls += 1
        return self._fn(inputs.params, inputs.slots, inputs.hyper, inputs.xb, inputs.yb, inputs.l1, inputs.l2)


def _narrow(s: StepInputs, rows: int) -> StepInputs:
    def n(t: torch.Tensor | None) -> Any:
        return None if t is None else t[:rows]

    return StepInputs(
        [p[:rows] for p in s.params], {k: [t[:rows] for t in ts] for k, ts in s.slots.items()},
        {k: t[:rows] for k, t in s.hyper.items()}, s.xb[:rows], s.yb[:rows], n(s.l1), n(s.l2),
    )


def _all_tensors(s: StepInputs) -> Tensors:
    extra = [t for t in (s.l1, s.l2) if t is not None]
    return [*s.params, *(t for ts in s.slots.values() for t in ts), *s.hyper.values(), s.xb, s.yb, *extra]


class CompiledSteps:
    """A group's compiled variants: asks for a compile the first time a variant is seen."""

    def __init__(
        self, net: BatchedNetwork, optimizer: BatchedOptimizer, names: list[str], layer_matrix: torch.Tensor
    ) -> None:
        self._step = _step_function(net, optimizer, names, layer_matrix)
        self.variants: dict[StepVariant, CompiledStep] = {}

    def get(self, variant: StepVariant, inputs: Callable[[], StepInputs]) -> "CompiledStep | None":
        """The ready graph for this variant, or None (then one is queued, if there is room)."""
        compiled = self.variants.get(variant)
        if compiled is None and len(self.variants) < MAX_VARIANTS:
            compiled = self.variants[variant] = CompiledStep(self._step, variant, inputs())
            StepCompiler.shared().submit(compiled)
        return compiled if compiled is not None and compiled.ready else None

"""A frame's passes over the plane: the decision grid and the neuron maps, quantised to uint8.

Why compiled: at classroom scale these passes were most of the frame builder's time (a 100×100
grid is 10,000 points per session through a few tiny layers, and BLAS pays dearly for products
with 2–8 columns). Compiled with inductor, a whole pass (products as multiply-and-sum,
activations, output map, quantisation) fuses into a few loops: 1.7–2× fewer microseconds per
frame (bench/frames.py, docs/performance.md). As with training steps (`compiled.py`), a graph
is compiled in the background, only for a group drawn with at least `MIN_ROWS` rows at once (a
class), and until it is ready, for a single row, or if compiling fails, the same function runs
eagerly.
"""

from collections.abc import Callable
from typing import Any

import torch

from .compiled import MIN_EVALUATION_ROWS, MIN_ROWS, CompiledGraph, compile_in_background
from .group import GroupKey
from .network import BatchedNetwork, broadcast_product

MAX_GRAPHS = 16  # per drawer: a class has a few shapes; each graph holds compiled code in memory

# (pass, shape, points, one plane for all rows, dtype)
GraphKey = tuple[str, GroupKey, int, bool, torch.dtype]


def grid_levels(
    net: BatchedNetwork, params: dict[str, torch.Tensor], x_t: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor,
    product: Any = None,
) -> torch.Tensor:
    """uint8 levels (rows, channels, points): each row's outputs (class probabilities for
    cross-entropy) with its value range [lo, hi] mapped onto 0..255.

    x_t (rows or 1, features, points): one plane for every row, or each row's own; lo, hi (rows,).
    NaN and infinities (a diverged run) clamp to the range's ends, never into a frame."""
    z = net.forward_wide(params, x_t, product)  # (rows, outputs, points)
    out = torch.softmax(z, dim=1) if net.key.loss == "cce" else net.loss.output(z)
    out = torch.nan_to_num(out, nan=0.0, posinf=1e6, neginf=-1e6)
    scaled = (out - lo[:, None, None]) / (hi - lo)[:, None, None]
    return torch.round(scaled.clamp(0.0, 1.0) * 255).to(torch.uint8)


def neuron_levels(
    net: BatchedNetwork, params: dict[str, torch.Tensor], x_t: torch.Tensor, product: Any = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Every hidden unit's output over the plane: scale (rows, units), the largest |output|, and
    uint8 levels (rows, units, points) with -scale..scale mapped onto 0..255. Needs a hidden layer."""
    hidden: list[torch.Tensor] = []
    net.forward_wide(params, x_t, product, hidden=hidden)
    h = torch.nan_to_num(torch.cat(hidden, dim=1))  # (rows, units, points)
    scale = h.abs().amax(dim=2).clamp(min=1e-6)  # (rows, units)
    return scale, torch.round((h / scale[:, :, None] + 1) / 2 * 255).clamp(0, 255).to(torch.uint8)


class GridPasses:
    """The plane passes of every shape a drawer meets: compiled graphs where a class asked, else eager."""

    def __init__(self, compiles: bool) -> None:
        self.compiles = compiles  # False: always eager (a drawer that only stands in a while)
        self.graphs: dict[GraphKey, CompiledGraph] = {}

    def states(self) -> dict[str, int]:
        """Graphs by state (compiling, ready, failed), for /api/health."""
        counts = dict.fromkeys(("compiling", "ready", "failed"), 0)
        for graph in self.graphs.values():
            counts[graph.state] += 1
        return counts

    def levels(
        self, net: BatchedNetwork, params: dict[str, torch.Tensor], x_t: torch.Tensor, lo: torch.Tensor,
        hi: torch.Tensor, compile: bool,
    ) -> torch.Tensor:
        """`grid_levels`, by a compiled graph where there is one (see `_run`)."""
        return self._run("grid", grid_levels, net, params, x_t, (lo, hi), compile)

    def neurons(
        self, net: BatchedNetwork, params: dict[str, torch.Tensor], x_t: torch.Tensor, compile: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`neuron_levels`, by a compiled graph where there is one (see `_run`)."""
        return self._run("neurons", neuron_levels, net, params, x_t, (), compile)

    def _run(
        self, kind: str, fn: Callable[..., Any], net: BatchedNetwork, params: dict[str, torch.Tensor],
        x_t: torch.Tensor, extra: tuple[torch.Tensor, ...], compile: bool,
    ) -> Any:
        """fn(net, params, x_t, *extra) by its compiled graph when one is ready and the request may
        use it (`compile`: its engine compiles), eagerly otherwise; a class's request (MIN_ROWS
        rows) asks for the graph. x_t (rows or 1, features, points)."""
        first = next(iter(params.values()))
        rows = first.shape[0]
        params = {k: v.contiguous() for k, v in params.items()}  # a graph is made for dense rows
        x_t, extra = x_t.contiguous(), tuple(t.contiguous() for t in extra)
        key = (kind, net.key, x_t.shape[2], x_t.shape[0] == 1, first.dtype)
        may = compile and self.compiles
        graph = self.graphs.get(key) if may else None
        if graph is None and may and rows >= MIN_ROWS and len(self.graphs) < MAX_GRAPHS:
            what = f"a {kind} pass ({x_t.shape[2]} points)"
            self.graphs[key] = compile_in_background(CompiledGraph(_compilable(fn, net), (params, x_t, *extra), what))
        if graph is None or not graph.ready or rows < MIN_EVALUATION_ROWS:
            # One row (a command's frame) stays eager: a graph dynamic in its rows is specialised
            # on 0 and 1, and drawing the row twice through it cost more than the eager pass.
            return fn(net, params, x_t.expand(rows, -1, -1), *extra)
        return graph(params, x_t, *extra)


def _compilable(fn: Callable[..., Any], net: BatchedNetwork) -> Callable[..., Any]:
    """fn with the network bound and its products written as multiply-and-sum, for the compiler."""

    def compiled_pass(params: dict[str, torch.Tensor], x_t: torch.Tensor, *extra: torch.Tensor) -> Any:
        return fn(net, params, x_t, *extra, product=broadcast_product)

    return compiled_pass

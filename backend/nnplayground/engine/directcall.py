"""Calling a compiled graph again past torch.compile's entry, when the arguments match a checked call.

Why: at classroom scale the entry of a `torch.compile`d function (its frame hook, guards, config
patches, and the bytecode that reads every size and gathers the graph's inputs) took about 90 µs
of each 140 µs step call at 100 rows, twice the graph itself, all of it holding the GIL that the
event loop waits for (docs/performance.md). Dynamo's guards make sure the graph fits its
arguments; the same holds here when a call's arguments fit a call that dynamo did check: the
same containers with the same keys, every tensor with the same metadata (shape, strides,
offset, dtype, device, requires_grad), every other leaf equal. Then its graph's inputs are the
recorded ones with this call's tensors in their places, and the result is rebuilt from the
graph's outputs. Anything else goes through dynamo (and is recorded in turn).

What that asks of a compiled function: one graph (compiled with `fullgraph=True`), and no change
to Python state, only to tensors (dynamo would replay such changes after the graph; a direct
call would not).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

# Leaves besides tensors that a call may repeat by value (anything else must be the same object).
_VALUE_TYPES = (int, float, bool, str, type(None), torch.dtype, torch.device)

Meta = tuple[Any, ...]


def flatten(tree: Any, leaves: list[Any], layout: list[Any]) -> None:
    """Leaves of lists, tuples and dicts, depth first; `layout` gets what makes two trees alike.
    A few µs for a step's arguments, where torch's pytree takes 25."""
    if isinstance(tree, (list, tuple)):
        layout.append((type(tree), len(tree)))
        for item in tree:
            flatten(item, leaves, layout)
    elif isinstance(tree, dict):
        layout.append(tuple(tree))
        for item in tree.values():
            flatten(item, leaves, layout)
    else:
        leaves.append(tree)


def tensor_meta(t: torch.Tensor) -> Meta:
    """What a compiled graph's kernels depend on, besides the values."""
    return (t.shape, t.stride(), t.storage_offset(), t.dtype, t.device, t.requires_grad)


@dataclass
class DirectCall:
    """One call that went through dynamo: its graph, inputs and result, to call again directly."""

    graph: Callable[..., Any]  # the backend's compiled callable (AOT autograd + inductor)
    layout: tuple[Any, ...]  # the arguments' containers (see `flatten`)
    leaves: list[Any]  # the arguments' leaves in that call
    metas: list[Meta | None]  # per leaf: its tensor metadata, None for other leaves
    inputs: list[Any]  # the graph's inputs in that call: tensors, and sizes read from them
    places: list[list[int]]  # per leaf: where it stands in `inputs`
    result_kind: type | None  # the function's result: tuple or list of its parts, None for one tensor
    result_parts: list[int | None]  # per result leaf: its index in the graph's outputs, or None
    # capture.StepCapture's (a GPU's step): the inputs of the last plain call, and the recorded graph.
    previous: list[Any] | None = None
    captured: Any = None

    @classmethod
    def record(
        cls, graph: Callable[..., Any], inputs: Sequence[Any], outputs: Sequence[Any], layout: tuple[Any, ...],
        leaves: list[Any], result: Any,
    ) -> "DirectCall | None":
        """The call (arguments as `flatten` gave them), or None when its result cannot be rebuilt
        from the graph's outputs alone."""
        result_leaves: list[Any] = []
        result_layout: list[Any] = []
        flatten(result, result_leaves, result_layout)
        if len(result_layout) > 1:
            return None  # nested containers: not needed by our graphs, so not rebuilt
        parts: list[int | None] = []
        for leaf in result_leaves:
            if leaf is None:
                parts.append(None)
                continue
            found = [i for i, out in enumerate(outputs) if out is leaf]
            if not isinstance(leaf, torch.Tensor) or not found:
                return None  # an input returned as it is, a Python value: dynamo's bytecode made it
            parts.append(found[0])
        return cls(
            graph, layout, leaves,
            [tensor_meta(leaf) if isinstance(leaf, torch.Tensor) else None for leaf in leaves],
            list(inputs),
            [[i for i, a in enumerate(inputs) if a is leaf and isinstance(leaf, torch.Tensor)] for leaf in leaves],
            type(result) if result_layout else None, parts,
        )

    def bind(self, layout: tuple[Any, ...], leaves: list[Any]) -> list[Any] | None:
        """The graph's inputs for a call with these arguments, or None when they do not fit."""
        if layout != self.layout:
            return None
        inputs: list[Any] | None = None
        for leaf, old, meta, places in zip(leaves, self.leaves, self.metas, self.places, strict=True):
            if leaf is old:
                continue
            if meta is not None:
                if not isinstance(leaf, torch.Tensor) or tensor_meta(leaf) != meta:
                    return None
                if inputs is None:
                    inputs = list(self.inputs)
                for i in places:
                    inputs[i] = leaf
            elif type(leaf) is not type(old) or not isinstance(leaf, _VALUE_TYPES) or leaf != old:
                return None
        return self.inputs if inputs is None else inputs

    def result(self, outputs: Sequence[Any]) -> Any:
        parts = [None if i is None else outputs[i] for i in self.result_parts]
        return parts[0] if self.result_kind is None else self.result_kind(parts)

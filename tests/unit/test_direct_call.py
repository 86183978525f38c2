"""Compiled graphs called again past torch.compile's entry (engine/directcall.py): only when a
call's arguments fit a call that dynamo checked, and then with what dynamo's own call gives."""

import pytest
import torch

from nnplayground.engine import compiled as compiled_module
from nnplayground.engine.compiled import CompiledGraph, compile_in_background
from nnplayground.engine.directcall import DirectCall, flatten

COMPILE_TIMEOUT = 300.0
ROWS = 5


def decay_and_score(
    params: dict[str, torch.Tensor], x: torch.Tensor, rate: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """An in-place update of an input (as a training step makes) and a result with a None in it."""
    params["w"].mul_(0.5)
    score = (x * params["w"]).sum(-1)  # (rows,)
    return (score, None) if rate is None else (score, score * rate)


Args = tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor | None]


def args_for(rows: int, seed: int, rate: bool = True) -> Args:
    g = torch.Generator().manual_seed(seed)
    w, x = torch.randn(rows, 4, generator=g), torch.randn(rows, 4, generator=g)
    return {"w": w}, x, torch.rand(rows, generator=g) if rate else None


def copy_args(args: tuple) -> tuple:
    params, x, rate = args
    return {k: v.clone() for k, v in params.items()}, x.clone(), None if rate is None else rate.clone()


def compiled() -> CompiledGraph:
    graph = compile_in_background(CompiledGraph(decay_and_score, args_for(ROWS, 0), "a test graph"))
    assert graph.done.wait(COMPILE_TIMEOUT) and graph.ready, "the compile did not finish"
    return graph


def check(graph: CompiledGraph, args: tuple) -> None:
    """The graph's call against the plain function on copies: results and the updated input."""
    expected_args = copy_args(args)
    expected = decay_and_score(*expected_args)
    got = graph(*args)
    assert len(got) == 2
    torch.testing.assert_close(got[0], expected[0])
    assert (got[1] is None) == (expected[1] is None)
    if expected[1] is not None:
        torch.testing.assert_close(got[1], expected[1])
    torch.testing.assert_close(args[0]["w"], expected_args[0]["w"])


def test_a_repeated_call_goes_past_dynamo_with_the_same_results() -> None:
    graph = compiled()
    a = args_for(ROWS, 1)
    check(graph, a)
    assert graph.direct_calls == 0, "the first call of these arguments is dynamo's to check"
    check(graph, a)
    check(graph, a)
    assert graph.direct_calls == 2
    # New tensors of the same metadata take their places in the graph's inputs.
    b = args_for(ROWS, 2)
    before = a[0]["w"].clone()
    check(graph, b)
    assert graph.direct_calls == 3
    torch.testing.assert_close(a[0]["w"], before, rtol=0, atol=0, msg="the recorded call's tensors were used")


def test_calls_that_do_not_fit_go_through_dynamo() -> None:
    graph = compiled()
    check(graph, args_for(ROWS, 1))
    calls: list[tuple] = [
        args_for(ROWS - 2, 3),  # another row count (the graph is dynamic in rows)
        args_for(ROWS, 4, rate=False),  # None where a tensor was
        (args_for(ROWS, 5)[0], torch.randn(4, ROWS).t(), args_for(ROWS, 5)[2]),  # other strides
        ({"w": torch.randn(ROWS, 4), "unused": torch.zeros(1)}, *args_for(ROWS, 6)[1:]),  # other keys
        (args_for(ROWS, 7)[0], args_for(ROWS, 7)[1].double(), args_for(ROWS, 7)[2].double()),  # other dtype
    ]
    for args in calls:
        direct = graph.direct_calls
        check(graph, args)
        assert graph.direct_calls == direct, f"{args} should not fit the recorded calls"
    assert len(graph._direct) == 4, "one call kept per layout and shapes (strides, dtype: the latest)"
    # Each kept kind now goes straight to the graph.
    direct = graph.direct_calls
    check(graph, ({"w": torch.randn(ROWS, 4), "unused": torch.ones(1)}, *args_for(ROWS, 8)[1:]))
    params, x, rate = args_for(ROWS, 9)
    assert rate is not None
    check(graph, (params, x.double(), rate.double()))
    check(graph, args_for(ROWS - 2, 10))
    check(graph, args_for(ROWS, 11, rate=False))
    assert graph.direct_calls == direct + 4


def test_kept_calls_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiled_module, "MAX_DIRECT", 2)
    graph = compiled()
    for rows in (ROWS, ROWS - 1, ROWS - 2):
        check(graph, args_for(rows, rows))
    assert len(graph._direct) == 2
    direct = graph.direct_calls
    check(graph, args_for(ROWS - 1, 12))
    assert graph.direct_calls == direct + 1
    check(graph, args_for(ROWS, 13))
    assert graph.direct_calls == direct + 1, "the oldest kind was let go"


def record(args: tuple, graph_inputs: list, outputs: tuple, result: object) -> DirectCall | None:
    leaves: list = []
    layout: list = []
    flatten(args, leaves, layout)
    return DirectCall.record(lambda *i: outputs, graph_inputs, outputs, tuple(layout), leaves, result)


def fit(call: DirectCall, args: tuple) -> list | None:
    leaves: list = []
    layout: list = []
    flatten(args, leaves, layout)
    return call.bind(tuple(layout), leaves)


def test_values_besides_tensors_must_be_equal() -> None:
    t, out = torch.zeros(3), torch.ones(3)
    call = record((t, 2, "mean"), [t, 3], (out,), out)
    assert call is not None
    assert fit(call, (t, 2, "mean")) == [t, 3]
    assert fit(call, (t, 3, "mean")) is None
    assert fit(call, (t, 2.0, "mean")) is None, "2.0 is not the 2 dynamo specialised on"
    assert fit(call, (t, 2, "sum")) is None
    other = torch.full((3,), 7.0)
    assert fit(call, (other, 2, "mean"))[0] is other
    assert fit(call, (torch.zeros(3, dtype=torch.float64), 2, "mean")) is None
    assert fit(call, ([t], 2, "mean")) is None, "a list where a tensor was"
    assert call.result((out,)) is out


def test_a_result_the_graph_did_not_make_is_not_recorded() -> None:
    t, out = torch.zeros(3), torch.ones(3)
    assert record((t,), [t], (out,), t) is None, "an input handed back: dynamo's bytecode did that"
    assert record((t,), [t], (out,), (out, 1.5)) is None, "a Python value in the result"
    assert record((t,), [t], (out,), ((out,),)) is None, "nested results are not rebuilt"
    call = record((t,), [t], (out, t), [None, out])
    assert call is not None
    result = call.result((out, t))
    assert isinstance(result, list) and result[0] is None and result[1] is out

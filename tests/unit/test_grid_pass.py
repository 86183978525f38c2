"""Compiled plane passes (engine/gridpass.py: decision grids, neuron maps) draw what the eager ones draw.

A request of MIN_ROWS watched sessions (weights made to differ row by row) is drawn once, which
queues the compiles; once the graphs are ready its frames must match an eager drawer's: the same
headers and sections, and grid and neuron levels within one step of 255 (float rounding), nearly
all equal.
"""

import time
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import torch
from test_compiled_step import COMPILE_TIMEOUT
from test_frame_builder import CONFIGS, watched_request

from nnplayground.config import Settings
from nnplayground.engine import Engine
from nnplayground.engine.compiled import MIN_ROWS, CompiledGraph
from nnplayground.engine.framebuilder import FrameBuilder
from nnplayground.engine.framedraw import DrawRequest, FrameDrawer
from nnplayground.engine.gridpass import GridPasses
from nnplayground.engine.group import as_tensor
from nnplayground.engine.publisher import FramePublisher
from nnplayground.frames import decode_frame

CPU = torch.device("cpu")


def class_request(config: dict[str, Any], rows: int = MIN_ROWS) -> DrawRequest:
    """A request for `rows` watched sessions whose weights differ, that may compile."""
    req = watched_request(config, sessions=rows, neurons=True)
    gen = torch.Generator().manual_seed(7)
    params = {
        k: v + 0.5 * torch.randn(v.shape, generator=gen, dtype=v.dtype) if k[0] in "Wb" else v
        for k, v in ((k, as_tensor(v)) for k, v in req.params.items())  # the worker's copies are numpy
    }
    return replace(req, params=params, compile=True)


def first_rows(req: DrawRequest, n: int) -> DrawRequest:
    return replace(
        req, params={k: v[:n] for k, v in req.params.items()}, data={k: v[:n] for k, v in req.data.items()},
        items=req.items[:n],
    )


def ready_graphs(passes: GridPasses) -> dict[str, CompiledGraph]:
    """The drawer's graphs by pass, once compiled: the decision grid's and the neuron maps'."""
    graphs = {key[0]: graph for key, graph in passes.graphs.items()}
    assert sorted(graphs) == ["grid", "neurons"] and len(passes.graphs) == 2
    for graph in graphs.values():
        assert graph.done.wait(COMPILE_TIMEOUT), "a plane pass did not compile"
        assert graph.state == "ready"
    return graphs


def assert_same_frames(ours: list[bytes], theirs: list[bytes]) -> None:
    """Equal but for float rounding: uint8 levels within one step, nearly all equal."""
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        fa, fb = decode_frame(a), decode_frame(b)
        ha, hb = ({k: v for k, v in f.header.items() if k not in ("sections", "neurons")} for f in (fa, fb))
        assert ha == hb
        na, nb = fa.header.get("neurons"), fb.header.get("neurons")
        assert (na is None) == (nb is None)
        if na is not None:
            assert na["layers"] == nb["layers"] and na["resolution"] == nb["resolution"]
            np.testing.assert_allclose(na["scale"], nb["scale"], rtol=1e-5, atol=1e-7)
        assert fa.arrays.keys() == fb.arrays.keys()
        for name in fa.arrays:
            la, lb = fa.arrays[name], fb.arrays[name]
            assert la.shape == lb.shape
            if name in ("grid", "neurons"):
                diff = np.abs(la.astype(int) - lb.astype(int))
                assert diff.max() <= 1 and (diff > 0).mean() < 2e-3
            else:
                np.testing.assert_array_equal(la, lb)


@pytest.mark.parametrize("config", CONFIGS, ids=["default", "spiral-relu-3", "regression", "iris-plane"])
def test_a_compiled_grid_draws_what_the_eager_one_draws(config: dict[str, Any]) -> None:
    req = class_request(config)
    drawer, eager = FrameDrawer(CPU), FrameDrawer(CPU, compiles=False)
    drawer.draw(req)  # eager still; queues the compiles
    graphs = ready_graphs(drawer.passes)
    levels = {decode_frame(f).arrays["grid"].tobytes() for f in eager.draw(req)}
    assert len(levels) == len(req.items), "the rows' grids differ, so a row mix-up would show"
    for rows in (MIN_ROWS, MIN_ROWS - 3, 2):  # sessions come and go: any count of rows, no recompile
        calls = {kind: g.calls for kind, g in graphs.items()}
        assert_same_frames(drawer.draw(first_rows(req, rows)), eager.draw(first_rows(req, rows)))
        assert all(g.calls == calls[kind] + 1 for kind, g in graphs.items())
    one = first_rows(req, 1)  # a command's frame: eager (a graph is specialised on one row)
    calls = {kind: g.calls for kind, g in graphs.items()}
    assert drawer.draw(one) == eager.draw(one)
    assert all(g.calls == calls[kind] for kind, g in graphs.items())


def test_batch_norm_grids_compiled() -> None:
    req = class_request({"network": {"hidden_layers": [5, 3], "batch_norm": "before"}})
    drawer, eager = FrameDrawer(CPU), FrameDrawer(CPU, compiles=False)
    drawer.draw(req)
    ready_graphs(drawer.passes)
    assert_same_frames(drawer.draw(req), eager.draw(req))


def test_what_does_not_compile_draws_eagerly() -> None:
    req = class_request({})
    few = first_rows(req, MIN_ROWS - 1)
    drawer = FrameDrawer(CPU)
    drawer.draw(few)  # a few sessions: not a class
    drawer.draw(replace(req, compile=False))  # an engine that does not compile
    assert not drawer.passes.graphs
    fallback = FrameDrawer(CPU, compiles=False)  # the builder's stand-in drawer
    fallback.draw(req)
    assert not fallback.passes.graphs
    assert fallback.passes.states() == {"compiling": 0, "ready": 0, "failed": 0}


def test_a_failed_compile_draws_eagerly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CompiledGraph, "inductor_options", {"cpp.cxx": ("/nonexistent/c++",), "fx_graph_cache": False})
    req = class_request({"network": {"hidden_layers": [3, 2]}})
    drawer = FrameDrawer(CPU)
    drawer.draw(req)
    graphs = list(drawer.passes.graphs.values())
    assert len(graphs) == 2 and all(g.done.wait(COMPILE_TIMEOUT) for g in graphs)
    assert all(g.state == "failed" for g in graphs)
    assert drawer.passes.states()["failed"] == 2
    assert drawer.draw(req) == FrameDrawer(CPU, compiles=False).draw(req)
    assert all(g.calls == 0 for g in graphs)


def test_the_builder_process_compiles_and_reports_it() -> None:
    """The real path: the child compiles a class's grid in the background and says so; the
    server's health adds it to its compiled graphs."""
    req = class_request({"data": {"dataset": "xor"}, "network": {"hidden_layers": [6]}})
    builder = FrameBuilder()
    assert builder.wait_ready(), "the frame-builder process did not start"
    try:
        eager = FrameDrawer(CPU, compiles=False).draw(req)
        assert builder.draw(req) == eager  # eager while compiling
        assert builder.grid_graphs["compiling"] + builder.grid_graphs["ready"] == 2
        assert builder.draw(replace(req, compile=False)) == eager
        deadline = time.monotonic() + COMPILE_TIMEOUT
        while builder.grid_graphs["ready"] < 2:
            assert builder.grid_graphs["failed"] == 0
            assert time.monotonic() < deadline, "the child's grid pass did not compile"
            time.sleep(0.2)
            assert_same_frames(builder.draw(req), eager)
        assert builder.remote_draws >= 3 and builder.local_draws == 0
    finally:
        builder.close()


def test_an_idle_publisher_asks_the_child_how_its_compiles_went() -> None:
    """Nobody watching, nothing drawn: the graph states that come with each draw stop coming, so
    the publisher asks the child itself; else health said "compiling" until the next frame."""
    req = class_request({"data": {"dataset": "xor"}, "network": {"hidden_layers": [6]}})
    builder = FrameBuilder()
    assert builder.wait_ready(), "the frame-builder process did not start"
    publisher = FramePublisher(CPU, req.resolution, builder, compiles=True)
    publisher.start()
    try:
        builder.draw(req)  # a class's frame: the child starts compiling its plane passes
        assert builder.grid_graphs["compiling"] > 0
        deadline = time.monotonic() + COMPILE_TIMEOUT
        while publisher.grid_graphs()["ready"] < 2:
            assert publisher.grid_graphs()["failed"] == 0
            assert time.monotonic() < deadline, "the compiles never showed as done"
            time.sleep(0.2)
        assert builder.remote_draws == 1, "no other draw brought the news"
    finally:
        publisher.stop()
        builder.close()


def test_health_counts_the_grid_graphs(tmp_path: Any) -> None:
    engine = Engine(Settings(data_dir=tmp_path, frame_builder="thread", compile_steps=True))
    before = engine.compiled_steps()
    assert before["compiling"] + before["ready"] == 0
    req = class_request({"network": {"hidden_layers": [4]}})
    engine._publisher.drawer.draw(req)
    counts = engine.compiled_steps()
    assert counts["enabled"] and counts["compiling"] + counts["ready"] == 2
    ready_graphs(engine._publisher.drawer.passes)
    assert engine.compiled_steps()["ready"] == 2

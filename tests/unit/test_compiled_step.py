"""Compiled training steps (engine/compiled.py) train exactly as torch.nn + torch.optim would.

A group of MIN_ROWS sessions steps once eagerly (which queues the compile), waits for its graph,
and takes the remaining steps compiled; every session is then replayed through torch's own
modules and optimiser, as in test_engine_equivalence.py, and the weights must agree.
"""

import gc
import time
from typing import Any

import numpy as np
import pytest
import torch
from test_engine_equivalence import ATOL, RTOL, STEPS, Recorder, gentle, make_config, reference_run

from nnplayground import catalog
from nnplayground.config import Settings
from nnplayground.engine import Engine
from nnplayground.engine.capture import StepCapture
from nnplayground.engine.compiled import LONE_STEPS, MIN_ROWS, CompiledGraph
from nnplayground.engine.functions import activation
from nnplayground.engine.group import Group
from nnplayground.engine.session import Session, SessionData
from nnplayground.schemas import SessionConfig

COMPILE_TIMEOUT = 300.0  # seconds; a cold compile takes 5-30 s on a 2-core machine
MANUAL = [name for name in catalog.ACTIVATIONS if activation(name, 0.01).derivative is not None]


def compiled_group(
    config: dict[str, Any], lrs: tuple[float, ...], rows: int = MIN_ROWS, capture: StepCapture | None = None
) -> tuple[Group, list[Session], list[Any]]:
    """`rows` running sessions of one config (rates cycling through lrs) in a compiling group."""
    sessions, initial = [], []
    group = None
    for i in range(rows):
        training = {**make_config()["training"], **config.get("training", {}), "learning_rate": lrs[i % len(lrs)]}
        cfg = SessionConfig.model_validate(make_config(**{**config, "training": training}))
        s = Session(str(i), cfg, SessionData.build(cfg, 1), init_count=i)
        if group is None:
            group = Group(s.key(), torch.device("cpu"), compile_steps=True, capture=capture)
        row = s.fresh_row(s.key())
        group.add(s, row, cfg.training.schedule)
        group.set_running(s.row, True)
        sessions.append(s)
        initial.append(row.params)
    assert group is not None
    return group, sessions, initial


def train_compiled(group: Group, steps: int, compile_lone: bool = False) -> None:
    """One eager step queues the compile; the rest run compiled once it is ready."""
    group.step(compile_lone)
    assert group.compiled is not None
    (compiled,) = group.compiled.variants.values()
    assert compiled.done.wait(COMPILE_TIMEOUT), "the compile did not finish"
    assert compiled.state == "ready"
    for _ in range(steps - 1):
        group.step(compile_lone)
    assert compiled.calls == steps - 1, "every step after the compile should take the compiled graph"
    # Dynamo checks the first call; the rest, with the same row views, go to the graph directly.
    assert compiled.direct_calls == steps - 2


def check_against_torch(
    config: dict[str, Any], lrs: tuple[float, ...] = (0.03, 0.1, 0.01), rows: int = MIN_ROWS
) -> None:
    group, sessions, initial = compiled_group(config, lrs, rows)
    group.lone_steps = LONE_STEPS  # as on a quiet server, stepped alone that long: one row takes a graph of its own
    rec = Recorder(group)
    train_compiled(group, STEPS, compile_lone=True)
    for row, (s, params) in enumerate(zip(sessions, initial, strict=True)):
        ref = reference_run(group, s, params, rec, row).row_params()
        ours = group.export_params(s.row)
        for name in ref:
            torch.testing.assert_close(ours[name], ref[name], atol=ATOL, rtol=RTOL, msg=lambda m, n=name: f"{n}: {m}")


# Every optimiser, each with another activation (all of them compile the same backward code).
PAIRS = list(zip(catalog.OPTIMIZERS, MANUAL, strict=False))


@pytest.mark.parametrize(("optimizer", "act"), PAIRS, ids=[f"{o}-{a}" for o, a in PAIRS])
def test_every_optimizer_compiled(optimizer: str, act: str) -> None:
    decay = {"weight_decay": 0.001} if optimizer in ("sgd", "adamw") else {}
    check_against_torch(
        {"network": {"activation": act}, "training": {"optimizer": optimizer, **decay}}, lrs=gentle(optimizer)
    )


@pytest.mark.parametrize("act", MANUAL[len(PAIRS):])
def test_the_other_activations_compiled(act: str) -> None:
    check_against_torch({"network": {"activation": act}})


@pytest.mark.parametrize(
    "over",
    [
        {"training": {"regularization": "l1", "regularization_rate": 0.001}},
        {"training": {"regularization": "l2", "regularization_rate": 0.01}},
        {"data": {"dataset": "blobs", "classes": 3}, "training": {"loss": "cce"}},
        {"problem": "regression", "training": {"loss": "huber", "huber_delta": 0.3}},
    ],
    ids=["l1", "l2", "cce-3", "huber"],
)
def test_penalties_and_losses_compiled(over: dict[str, Any]) -> None:
    check_against_torch(over, lrs=(0.01, 0.03, 0.003))


def test_gradient_norms_match_the_eager_step() -> None:
    config = {"network": {"activation": "relu"}}
    compiled, _, _ = compiled_group(config, (0.03,))
    eager, _, _ = compiled_group(config, (0.03,))
    eager.compiled = None
    # Every row ends its epoch at step 3 (30 points, batches of 10): norms are taken then.
    train_compiled(compiled, 3)
    for _ in range(3):
        eager.step()
    assert compiled.last_grad_norms.shape == (MIN_ROWS, len(compiled.net.layers))
    assert (compiled.last_grad_norms > 0).all()
    torch.testing.assert_close(
        torch.from_numpy(compiled.last_grad_norms), torch.from_numpy(eager.last_grad_norms), atol=1e-6, rtol=1e-5
    )


def assert_same_evaluation(ours: dict[str, np.ndarray], theirs: dict[str, np.ndarray]) -> None:
    assert ours.keys() == theirs.keys()
    for name in ours:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-5, atol=1e-6, err_msg=name)  # NaN == NaN


@pytest.mark.parametrize(
    "over",
    [{}, {"data": {"dataset": "blobs", "classes": 3}, "training": {"loss": "cce"}}, {"problem": "regression"}],
    ids=["bce", "cce-3", "regression"],
)
def test_evaluations_compiled_match_the_eager_ones(over: dict[str, Any]) -> None:
    group, _, _ = compiled_group(over, (0.03,))
    eager, _, _ = compiled_group(over, (0.03,))
    eager.compiled = None
    rows = np.arange(MIN_ROWS)
    assert_same_evaluation(group.evaluate(rows), eager.evaluate(rows))
    assert group.compiled is not None and not group.compiled.evaluations, "not before the step compiles"
    group.step()  # queues the step's compile; evaluations follow
    eager.step()
    assert_same_evaluation(group.evaluate(rows), eager.evaluate(rows))  # eager while they compile
    graphs = list(group.compiled.evaluations.values())  # one per part length (train, test)
    assert graphs and all(g.done.wait(COMPILE_TIMEOUT) for g in graphs)
    assert all(g.state == "ready" for g in graphs)
    halved = {n: t[[5, 1, 3]] * 0.5 for n, t in group.tensors.items() if n in group.shapes}
    # A slice, a gather, a row twice, and parked parameters (as epoch ends pass them).
    for picked, params in ((rows, None), (np.array([5, 1, 3]), None), (np.array([2, 2, 6]), None),
                           (np.array([5, 1, 3]), halved)):
        assert_same_evaluation(group.evaluate(picked, params), eager.evaluate(picked, params))
    calls = sum(g.calls for g in graphs)
    parts = sum(1 for cap in group.caps.values() if cap)  # train and test; no validation split here
    assert calls == 4 * parts, "every evaluation after the compile should take the graphs"
    assert_same_evaluation(group.evaluate(np.array([4])), eager.evaluate(np.array([4])))
    assert sum(g.calls for g in graphs) == calls, "one row is evaluated eagerly (a graph would recompile for it)"


@pytest.mark.parametrize("optimizer", ["sgd", "adamw", "rmsprop"])
def test_a_lone_session_on_a_quiet_server_is_compiled(optimizer: str) -> None:
    """One row, a graph of its own (not dynamic in its rows): the same weights as torch.optim."""
    decay = {"weight_decay": 0.001} if optimizer in ("sgd", "adamw") else {}
    check_against_torch({"training": {"optimizer": optimizer, **decay}}, lrs=gentle(optimizer)[:1], rows=1)


def test_a_lone_graph_serves_one_row_only_after_it_stepped_alone_a_while() -> None:
    group, _, _ = compiled_group({}, (0.03,), rows=2)
    for _ in range(LONE_STEPS + 1):
        group.step(compile_lone=True)
    assert group.compiled is not None and not group.compiled.variants, "two rows: eager, no graph for them"
    group.set_running(1, False)
    for _ in range(LONE_STEPS + 1):  # a class elsewhere on the server: a loner steps eagerly
        group.step(compile_lone=False)
    assert not group.compiled.variants
    for _ in range(LONE_STEPS - 1):  # a class arriving: its first session is alone for a moment
        group.step(compile_lone=True)
    assert not group.compiled.variants
    group.step(compile_lone=True)
    (variant,) = group.compiled.variants
    assert variant.lone


def test_what_does_not_compile_steps_eagerly() -> None:
    few, _, _ = compiled_group({}, (0.03,))
    few.set_running(0, False)  # MIN_ROWS - 1 running: not worth a compile
    few.step()
    few.evaluate(np.arange(MIN_ROWS))
    assert few.compiled is not None and not few.compiled.variants and not few.compiled.evaluations
    for over in ({"network": {"dropout": 0.2}}, {"network": {"activation": "prelu"}},
                 {"network": {"batch_norm": "before"}}):
        group, _, _ = compiled_group(over, (0.03,))
        assert group.compiled is None, over  # random masks or autograd: always eager
    clipped, _, _ = compiled_group({"training": {"clip": "norm", "clip_value": 0.05}}, (0.03,))
    clipped.step()
    assert clipped.compiled is not None and not clipped.compiled.variants


def test_a_failed_compile_leaves_the_group_training_eagerly(monkeypatch: pytest.MonkeyPatch) -> None:
    group, _, _ = compiled_group({"network": {"hidden_layers": [3, 3]}}, (0.03,))
    eager, _, _ = compiled_group({"network": {"hidden_layers": [3, 3]}}, (0.03,))
    eager.compiled = None
    # A real failure: no C++ compiler, and no cached graph to fall back on.
    no_compiler = {"cpp.cxx": ("/nonexistent/c++",), "fx_graph_cache": False}
    monkeypatch.setattr(CompiledGraph, "inductor_options", no_compiler)
    group.step()
    assert group.compiled is not None
    (compiled,) = group.compiled.variants.values()
    assert compiled.done.wait(COMPILE_TIMEOUT)
    assert compiled.state == "failed"
    eager.step()
    for _ in range(20):
        group.step()
        eager.step()
    assert compiled.calls == 0
    for name in group.param_names:
        torch.testing.assert_close(group.tensors[name][:MIN_ROWS], eager.tensors[name][:MIN_ROWS])
    rows = np.arange(MIN_ROWS)
    group.evaluate(rows)
    graphs = list(group.compiled.evaluations.values())
    assert graphs and all(g.done.wait(COMPILE_TIMEOUT) and g.state == "failed" for g in graphs)
    assert_same_evaluation(group.evaluate(rows), eager.evaluate(rows))


def test_the_engine_compiles_a_class_and_it_trains_on(tmp_path: Any) -> None:
    # A server's collector settings: long-lived objects frozen at start and after each compile.
    engine = Engine(
        Settings(data_dir=tmp_path, compile_steps=True, compile_lone=True, frame_builder="thread", gc_freeze=True)
    )
    engine.start()
    try:
        ids = [f"s{i}" for i in range(MIN_ROWS + 2)]
        for sid in ids:
            engine.create_session(sid, SessionConfig()).result()
        for sid in ids:  # a class arriving: the first is alone for far fewer than LONE_STEPS steps
            engine.play(sid).result()
        # A loner of another shape in a busy class: it steps eagerly, no compile of its own.
        loner = SessionConfig.model_validate({"network": {"hidden_layers": [3]}})
        engine.create_session("loner", loner).result()
        engine.play("loner").result()
        group = engine._sessions[ids[0]].group
        assert group is not None
        deadline = time.monotonic() + COMPILE_TIMEOUT
        while not (group.compiled and any(c.done.is_set() for c in group.compiled.variants.values())):
            assert time.monotonic() < deadline, "no compile finished"
            time.sleep(0.2)
        (compiled,) = group.compiled.variants.values()
        assert compiled.state == "ready"
        engine.pause(ids[0]).result()  # sessions come and go: the graph takes any count of rows
        epochs = {sid: engine.state(sid).epoch for sid in ids}
        calls = compiled.calls
        deadline = time.monotonic() + 60
        while compiled.calls < calls + 50 or any(engine.state(s).epoch <= epochs[s] for s in ids[1:]):
            assert time.monotonic() < deadline, "the class stopped training"
            time.sleep(0.1)
        assert engine.state(ids[0]).epoch == epochs[ids[0]], "a paused session must not train"
        lonely = engine._sessions["loner"].group
        assert lonely is not None and lonely.compiled is not None and not lonely.compiled.variants
        while engine.state("loner").epoch == 0:  # it trains too (the class may get there first)
            assert time.monotonic() < deadline, "the loner never finished an epoch"
            time.sleep(0.05)
        assert not lonely.compiled.variants, "a loner in a busy class steps eagerly"
        heap = engine._heap
        assert heap is not None
        while heap.freezes < 2:  # the next stream tick freezes
            assert time.monotonic() < deadline, "not frozen at start and after the compile"
            time.sleep(0.05)
        assert gc.get_freeze_count() > 0
    finally:
        engine.stop()
    assert gc.get_freeze_count() == 0, "a stopped engine gives the collector its objects back"


def test_a_lone_session_compiles_on_a_quiet_engine(tmp_path: Any) -> None:
    engine = Engine(Settings(data_dir=tmp_path, compile_steps=True, compile_lone=True, frame_builder="thread"))
    engine.start()
    try:
        engine.create_session("alone", SessionConfig()).result()
        engine.play("alone").result()
        group = engine._sessions["alone"].group
        assert group is not None and group.compiled is not None
        deadline = time.monotonic() + COMPILE_TIMEOUT
        while not any(c.ready for c in group.compiled.variants.values()):
            assert time.monotonic() < deadline, "no graph for the lone session"
            time.sleep(0.2)
        (variant, compiled) = next(iter(group.compiled.variants.items()))
        assert variant.lone
        calls, epoch = compiled.calls, engine.state("alone").epoch
        while compiled.calls < calls + 50 or engine.state("alone").epoch <= epoch:
            assert time.monotonic() < deadline, "the lone session stopped training"
            time.sleep(0.1)
    finally:
        engine.stop()


def _join(group: Group, config: dict[str, Any], sid: str) -> Session:
    cfg = SessionConfig.model_validate(config)
    s = Session(sid, cfg, SessionData.build(cfg, 1), init_count=7)
    group.add(s, s.fresh_row(s.key()), cfg.training.schedule)
    group.set_running(s.row, True)
    return s


def test_rows_out_of_step_and_a_session_with_more_points_take_the_one_graph() -> None:
    """The graph gathers each row's batch itself: rows at different places in their epochs (a
    class) step as the eager code does, and a session with more points (the group's capacity
    grows) takes the same graph, not a compile of its own."""
    from torch._dynamo.eval_frame import _debug_get_cache_entry_list

    group, _, _ = compiled_group({}, (0.03, 0.1))
    eager, _, _ = compiled_group({}, (0.03, 0.1))
    eager.compiled = None
    epoch_len = int(group.host["epoch_len"][0])
    for g in (group, eager):
        g.host["steps_in_epoch"][:MIN_ROWS] = np.arange(MIN_ROWS) % epoch_len  # out of step
    train_compiled(group, 3 * epoch_len)
    for _ in range(3 * epoch_len):
        eager.step()
    (compiled,) = group.compiled.variants.values()  # type: ignore[union-attr]
    # This graph's own compiled entries (dynamo's counters are global, and other graphs may be
    # compiling in the background meanwhile).
    entries = len(_debug_get_cache_entry_list(compiled._plain.__code__))
    assert entries >= 1
    points = group.caps["train"]
    bigger = make_config(data={**make_config()["data"], "num_points": 120})
    for g in (group, eager):
        _join(g, bigger, "more")
    assert group.caps["train"] > points
    calls, direct = compiled.calls, compiled.direct_calls
    for _ in range(2 * epoch_len):
        group.step()
        eager.step()
    assert compiled.calls == calls + 2 * epoch_len, "the grown group should still take the graph"
    assert compiled.direct_calls == direct + 2 * epoch_len - 1, "new views: dynamo checks the first call"
    assert len(group.compiled.variants) == 1  # type: ignore[union-attr]
    assert len(_debug_get_cache_entry_list(compiled._plain.__code__)) == entries, "compiled again"
    for name in group.param_names:
        torch.testing.assert_close(group.tensors[name][: MIN_ROWS + 1], eager.tensors[name][: MIN_ROWS + 1])


def test_input_noise_compiled() -> None:
    """Noise is drawn eagerly, once a step (none drawn twice while the graph compiles), and added
    to the batch the graph gathers: the same arithmetic as torch.nn with the recorded noise."""
    check_against_torch({"training": {"input_noise": 0.2}})


def test_a_call_through_dynamo_while_another_thread_fx_traces_runs_eagerly() -> None:
    """torch's "FX is tracing" flag is process-wide: a compile on the compile thread may hold it
    while the worker enters a graph through dynamo (a new row count). That call runs the step
    eagerly, with the same result, instead of raising out of the worker's training slice."""
    import torch.fx._symbolic_trace as fx_trace

    group, _, _ = compiled_group({}, (0.03, 0.1), rows=MIN_ROWS + 1)
    eager, _, _ = compiled_group({}, (0.03, 0.1), rows=MIN_ROWS + 1)
    eager.compiled = None
    train_compiled(group, 3)
    for _ in range(3):
        eager.step()
    (compiled,) = group.compiled.variants.values()
    calls, direct = compiled.calls, compiled.direct_calls
    group.set_running(MIN_ROWS, False)  # MIN_ROWS rows: a count this graph has not seen, through dynamo
    eager.set_running(MIN_ROWS, False)
    fx_trace._is_fx_tracing_flag = True
    try:
        group.step()
    finally:
        fx_trace._is_fx_tracing_flag = False
    eager.step()
    assert compiled.calls == calls + 1 and compiled.direct_calls == direct, "the call went by dynamo, run eagerly"
    group.step()  # the flag down: this count compiles as usual
    eager.step()
    for name in group.shapes:
        torch.testing.assert_close(group.tensors[name], eager.tensors[name], atol=1e-6, rtol=1e-5)

"""Compiled steps replayed as device graphs (engine/capture.py), tested with a CPU stand-in.

CUDA graphs need a GPU, which CI lacks; what is ours is the bookkeeping around them: which inputs
are copied into the graph's buffers before each replay, when a graph no longer fits and is
recorded again, outputs copied out of buffers the next replay overwrites. `ReplayByCalling` keeps
a CUDA graph's contract on the CPU (recording runs the function once for real; a replay runs it
again on the very tensors it was recorded with and writes the graph's output buffers), so a
missing copy or a stale buffer shows up as weights that drift from torch.optim's.
"""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from test_compiled_step import COMPILE_TIMEOUT, compiled_group, train_compiled
from test_engine_equivalence import ATOL, RTOL, STEPS, Recorder, make_config, reference_run

from nnplayground.config import Settings
from nnplayground.engine import Engine
from nnplayground.engine.capture import DEVICE_WORK, Recording, StepCapture
from nnplayground.engine.group import Group
from nnplayground.engine.session import Session, SessionData
from nnplayground.schemas import SessionConfig


class StandInGraph:
    def __init__(self, fn: Callable[[], Sequence[Any]], outputs: list[torch.Tensor]) -> None:
        self.fn, self.outputs = fn, outputs

    def replay(self) -> None:
        for buffer, out in zip(self.outputs, self.fn(), strict=True):
            buffer.copy_(out)


class ReplayByCalling:
    """A recorder with a CUDA graph's contract, on the CPU."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def __call__(self, fn: Callable[[], Sequence[Any]]) -> Recording:
        outputs = fn()  # the warm-up: this step's real update
        if self.fail:
            return None, outputs, ()
        buffers = [o.clone() for o in outputs]  # the graph's outputs, which each replay overwrites
        return StandInGraph(fn, buffers), outputs, buffers


def test_replayed_steps_train_as_torch_does() -> None:
    capture = StepCapture(ReplayByCalling())
    group, sessions, initial = compiled_group({"training": {"optimizer": "adam"}}, (0.01, 0.003), capture=capture)
    rec = Recorder(group)
    train_compiled(group, STEPS)
    # Compiled calls: the first through dynamo, the next plainly (inputs not yet seen twice), then
    # one recorded (its warm-up is a real step), and the rest replayed.
    assert capture.captures == 1
    assert capture.replays == STEPS - 4
    for row, (s, params) in enumerate(zip(sessions, initial, strict=True)):
        ref = reference_run(group, s, params, rec, row).row_params()
        ours = group.export_params(s.row)
        for name in ref:
            torch.testing.assert_close(ours[name], ref[name], atol=ATOL, rtol=RTOL, msg=lambda m, n=name: f"{n}: {m}")


def join_paused(group: Group, name: str) -> None:
    """A session that joins the group paused: the group's tensors grow (reallocated), the running rows stay."""
    cfg = SessionConfig.model_validate(make_config())
    s = Session(name, cfg, SessionData.build(cfg, 1), init_count=99)
    group.add(s, s.fresh_row(s.key()), cfg.training.schedule)


def test_reallocated_rows_are_recorded_again_and_outputs_are_copied_out() -> None:
    capture = StepCapture(ReplayByCalling())
    replayed, _, _ = compiled_group({}, (0.03, 0.1), capture=capture)
    plain, _, _ = compiled_group({}, (0.03, 0.1))
    train_compiled(replayed, 10)
    train_compiled(plain, 10)
    assert capture.captures == 1 and capture.replays == 6
    tensors = dict(replayed.tensors)
    join_paused(replayed, "late")
    join_paused(plain, "late")
    assert replayed.tensors["W0"] is not tensors["W0"], "the group's tensors were reallocated"
    # 31 steps in all: the last one ends no epoch (3 steps each), so the norms kept are from step 30,
    # which a replay's buffer would have overwritten at step 31 had they not been copied out.
    for _ in range(21):
        replayed.step()
        plain.step()
    assert capture.captures == 2, "the reallocated rows were recorded again"
    assert capture.replays == 6 + 19
    for name in replayed.shapes:
        torch.testing.assert_close(replayed.tensors[name], plain.tensors[name], atol=0, rtol=0)
    np.testing.assert_array_equal(replayed.last_grad_norms, plain.last_grad_norms)


def test_rows_coming_and_going_never_record_an_update_into_a_copy() -> None:
    """Another row count in between makes the rows' views anew: the parameters then differ from the
    last call's, and a graph recorded with copies of them would update the copies, not the rows."""
    capture = StepCapture(ReplayByCalling())
    replayed, _, _ = compiled_group({}, (0.03, 0.1), rows=9, capture=capture)
    plain, _, _ = compiled_group({}, (0.03, 0.1), rows=9)
    for group in (replayed, plain):
        group.set_running(8, False)
        train_compiled(group, 5)
    for i in range(12):  # 9 rows, 8 rows, 8 rows, 9 rows, ...
        for group in (replayed, plain):
            group.set_running(8, i % 3 == 0)
            group.step()
    assert capture.replays > 0
    for name in replayed.shapes:
        torch.testing.assert_close(replayed.tensors[name], plain.tensors[name], atol=0, rtol=0)


def test_no_recording_while_a_compile_calls_a_new_graph() -> None:
    capture = StepCapture(ReplayByCalling())
    group, _, _ = compiled_group({}, (0.03,), capture=capture)
    train_compiled(group, 2)  # compiled: the next calls go past dynamo's entry
    with DEVICE_WORK:  # as the compile thread holds it around another graph's first calls
        for _ in range(4):
            group.step()
        assert capture.captures == 0 and capture.replays == 0
    group.step()
    assert capture.captures == 1, "recorded at the first step after the lock was free"
    group.step()
    assert capture.replays == 1


def test_a_failed_recording_leaves_plain_calls() -> None:
    capture = StepCapture(ReplayByCalling(fail=True))
    failed, _, _ = compiled_group({}, (0.03,), capture=capture)
    plain, _, _ = compiled_group({}, (0.03,))
    train_compiled(failed, 20)
    train_compiled(plain, 20)
    assert capture.failed and capture.captures == 0 and capture.replays == 0
    for name in failed.shapes:
        torch.testing.assert_close(failed.tensors[name], plain.tensors[name], atol=0, rtol=0)


def test_the_cpu_records_no_graphs(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, device="cpu", cuda_graphs=True, frame_builder="thread", gc_freeze=False)
    engine = Engine(settings)
    engine.start()
    try:
        for i in range(8):
            engine.create_session(f"s{i}", SessionConfig()).result()
            engine.play(f"s{i}").result()
        (group,) = engine._groups.values()
        assert group.compiled is not None and group.compiled.capture is None
        assert engine.compiled_steps()["cuda_graphs"] == {"captures": 0, "replays": 0, "failed": 0}
        for i in range(8):
            engine.pause(f"s{i}").result()
        # No compile left running when the test process exits (a compiling thread then aborts it).
        assert all(g.done.wait(COMPILE_TIMEOUT) for g in group.compiled.graphs())
    finally:
        engine.stop()

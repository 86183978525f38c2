"""Engine commands through its worker thread: lifecycle, live changes, scripted training, frames."""

import math
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from nnplayground.config import Settings
from nnplayground.engine import Engine, UnknownSession
from nnplayground.frames import decode_frame
from nnplayground.schemas import SessionConfig


class RecordingWatcher:
    """A Watcher that keeps what it receives."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.events: list[dict[str, Any]] = []
        self.closes: list[tuple[int, str]] = []
        self.got_frame = threading.Event()

    def frame(self, data: bytes) -> None:
        self.frames.append(data)
        self.got_frame.set()

    def event(self, message: dict[str, Any]) -> None:
        self.events.append(message)

    def closed(self, code: int, reason: str) -> None:
        self.closes.append((code, reason))


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    e = Engine(Settings(data_dir=tmp_path, stream_fps=50))
    e.start()
    yield e
    e.stop()


def cfg(**parts: Any) -> SessionConfig:
    return SessionConfig.model_validate(parts)


def test_train_runs_exact_epochs_and_learns_xor(engine: Engine) -> None:
    engine.create_session("s", cfg(data={"dataset": "xor"}, network={"hidden_layers": [8, 4]})).result()
    state = engine.train("s", 150).result(timeout=120)
    assert state.epoch == 150
    assert state.step == 150 * 25  # 250 training points, batch 10
    assert state.test_accuracy is not None and state.test_accuracy >= 0.95
    assert not state.running
    history = engine.history("s").result()
    assert history["epoch"][-1] == 150 and len(history["train_loss"]) == 150


def test_parked_epoch_ends_record_what_exact_ones_record(engine: Engine) -> None:
    """A playing session's epoch ends are evaluated in batches at the end of a slice (parked
    weights); a session trained for N epochs is evaluated at each epoch end. Same seed, same
    config: the histories must agree epoch for epoch."""
    config = cfg(data={"dataset": "xor", "noise": 20}, network={"hidden_layers": [6, 3]})
    engine.create_session("exact", config).result()
    engine.create_session("parked", config).result()
    engine.play("parked").result()
    engine.train("exact", 40).result(timeout=60)
    for _ in range(6000):  # up to a minute; the session plays on its own
        if engine.state("parked").epoch >= 45:
            break
        threading.Event().wait(0.01)
    assert engine.state("parked").epoch >= 45, "the playing session did not train"
    engine.pause("parked").result()
    exact, parked = engine.history("exact").result(), engine.history("parked").result()
    assert parked["epoch"][:40] == exact["epoch"] == list(range(1, 41))
    for name in ("train_loss", "test_loss", "train_accuracy", "test_accuracy"):
        assert np.allclose(parked[name][:40], exact[name], atol=1e-5), name
    assert exact["train_loss"][-1] < exact["train_loss"][0]


def test_frame_state_values_equal_the_state_model(engine: Engine) -> None:
    """Frames carry Session.state_values() (no pydantic per frame): it must be SessionState's dump."""
    engine.create_session("s", cfg(training={"schedule": {"kind": "step", "every": 2}})).result()
    engine.train("s", 5).result(timeout=60)

    def compare() -> tuple[dict[str, Any], dict[str, Any]]:
        s = engine._sessions["s"]
        return s.state_values(), s.snapshot().model_dump()

    values, dumped = engine._submit(compare).result()
    assert values == dumped and values["epoch"] == 5 and values["train_loss"] is not None


@pytest.mark.parametrize(
    "config",
    [
        {"data": {"dataset": "circle"}, "network": {"hidden_layers": [6, 4]}},
        {"data": {"dataset": "gauss"}},
        {"data": {"dataset": "spiral"}, "features": ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"],
         "network": {"hidden_layers": [8, 8, 6]}, "training": {"optimizer": "adam", "learning_rate": 0.01}},
    ],
)
def test_classification_sets_learn(engine: Engine, config: dict[str, Any]) -> None:
    engine.create_session("s", cfg(**config)).result()
    epochs = 400 if config["data"]["dataset"] == "spiral" else 100
    state = engine.train("s", epochs).result(timeout=300)
    assert state.test_accuracy is not None and state.test_accuracy >= 0.9


@pytest.mark.parametrize("dataset", ["plane", "multi-gauss"])
def test_regression_sets_learn(engine: Engine, dataset: str) -> None:
    engine.create_session("s", cfg(problem="regression", data={"dataset": dataset},
                                   network={"hidden_layers": [8, 8]})).result()
    first = engine.train("s", 1).result(timeout=60).test_loss
    last = engine.train("s", 100).result(timeout=120).test_loss
    assert first is not None and last is not None and last < first * 0.5
    metrics = engine.metrics("s").result()
    assert metrics["problem"] == "regression" and metrics["test"]["mse"] == pytest.approx(last, rel=1e-4)


def test_learning_rate_changes_live_but_layers_reinitialise(engine: Engine) -> None:
    base = cfg()
    engine.create_session("s", base).result()
    engine.train("s", 3).result(timeout=60)
    live = base.model_copy(update={"training": base.training.model_copy(update={"learning_rate": 0.3})})
    state = engine.configure("s", live).result()
    assert state.epoch == 3 and state.learning_rate == 0.3
    deeper = live.model_copy(update={"network": live.network.model_copy(update={"hidden_layers": [3]})})
    state = engine.configure("s", deeper).result()
    assert state.epoch == 0 and engine.config("s").network.hidden_layers == [3]


def test_play_pause_keeps_other_sessions_of_the_group_intact(engine: Engine) -> None:
    engine.create_session("a", cfg()).result()
    engine.create_session("b", cfg()).result()
    before = engine.metrics("b").result()["train"]["loss"]
    engine.train("a", 5).result(timeout=60)
    assert engine.state("b").epoch == 0
    assert engine.metrics("b").result()["train"]["loss"] == before
    engine.play("b").result()
    engine.train("a", 2).result(timeout=60)
    engine.pause("b").result()
    assert engine.state("b").epoch > 0 and not engine.state("b").running
    engine.delete_session("a").result()
    assert engine.session_ids() == ["b"]
    with pytest.raises(UnknownSession):
        engine.state("a")


def test_a_finite_but_exploding_loss_counts_as_divergence(engine: Engine) -> None:
    config = cfg(problem="regression", data={"dataset": "plane"},
                 network={"hidden_layers": [8, 8], "activation": "relu"}, training={"learning_rate": 1.0})
    engine.create_session("s", config).result()
    state = engine.train("s", 200).result(timeout=60)
    assert state.stop_reason is not None and state.stop_reason.startswith("diverged")


def test_divergence_pauses_with_a_reason_and_streams_no_nan(engine: Engine) -> None:
    config = cfg(problem="regression", data={"dataset": "plane"}, network={"hidden_layers": [8, 8, 8]},
                 training={"learning_rate": 1000.0})
    engine.create_session("s", config).result()
    watcher = RecordingWatcher()
    engine.watch("s", watcher).result()
    state = engine.train("s", 50).result(timeout=60)
    assert state.stop_reason is not None and state.stop_reason.startswith("diverged")
    assert state.epoch < 50
    # The frame that shows the stop (it may have come before train() returned: no clear-and-wait).
    deadline = time.monotonic() + 10
    while not (watcher.frames and decode_frame(watcher.frames[-1]).header["state"]["stop_reason"]):
        assert time.monotonic() < deadline, "no frame showed the stop"
        time.sleep(0.01)
    frame = decode_frame(watcher.frames[-1])
    assert np.isfinite(frame.arrays["history"]).all()
    for value in frame.header["state"].values():
        assert not (isinstance(value, float) and not math.isfinite(value))


def test_watcher_gets_frames_and_events(engine: Engine) -> None:
    engine.create_session("s", cfg()).result()
    watcher = RecordingWatcher()
    engine.watch("s", watcher).result()
    assert watcher.got_frame.wait(10)
    frame = decode_frame(watcher.frames[-1])
    assert frame.arrays["grid"].shape == (100, 100) and frame.arrays["grid"].dtype == np.uint8
    assert frame.header["confusion"]["labels"] == [0, 1]
    assert len(watcher.frames[-1]) < 16_384
    config = engine.config("s")
    noisy = config.model_copy(update={"data": config.data.model_copy(update={"noise": 20.0})})
    engine.configure("s", noisy).result()
    kinds = [e["type"] for e in watcher.events]
    assert kinds == ["dataset", "config"] and watcher.events[0]["version"] == 2
    engine.delete_session("s").result()
    assert watcher.closes == [(4404, "session deleted")]


def test_grid_and_dataset_json(engine: Engine) -> None:
    engine.create_session("s", cfg()).result()
    grid = engine.grid("s", 20).result()
    assert grid["resolution"] == 20 and len(grid["values"]) == 20 and len(grid["values"][0]) == 20
    assert all(0.0 <= v <= 1.0 for row in grid["values"] for v in row)
    data = engine.dataset("s").result()
    assert len(data["train"]["x"]) == 250 and len(data["test"]["y"]) == 250


# ---- the full course: stop conditions, validation, schedules, multi-class, range test ----------


def test_max_epochs_and_target_accuracy_pause_with_a_reason(engine: Engine) -> None:
    engine.create_session("a", cfg(training={"stop": {"max_epochs": 7}})).result()
    state = engine.train("a", 50).result(timeout=60)
    assert state.epoch == 7 and state.stop_reason == "max epochs reached (7)" and not state.running
    engine.create_session("b", cfg(data={"dataset": "gauss"}, training={"stop": {"target_accuracy": 0.9}})).result()
    state = engine.train("b", 200).result(timeout=60)
    assert state.stop_reason is not None and state.stop_reason.startswith("target accuracy reached")
    assert state.test_accuracy is not None and state.test_accuracy >= 0.9 and state.epoch < 200


def test_early_stopping_restores_the_best_weights(engine: Engine) -> None:
    # Over-fitting set-up: few noisy points, a big net, a high rate.
    config = cfg(
        data={"dataset": "xor", "num_points": 60, "noise": 50, "train_ratio": 0.4, "validation_ratio": 0.3},
        features=["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"],
        network={"hidden_layers": [8, 8, 8], "activation": "relu"},
        training={"optimizer": "adam", "learning_rate": 0.03, "stop": {"early_stopping_patience": 15}},
    )
    engine.create_session("s", config).result()
    state = engine.train("s", 2000).result(timeout=120)
    assert state.stop_reason is not None and state.stop_reason.startswith("early stopping")
    assert state.best_epoch is not None and state.epoch == state.best_epoch + 15
    metrics = engine.metrics("s").result()
    history = engine.history("s").result()
    best_val = history["validation_loss"][history["epoch"].index(state.best_epoch)]
    assert metrics["validation"]["loss"] == pytest.approx(best_val, rel=1e-5)
    # The state shows the restored weights' losses, not those of the last epoch trained.
    assert state.validation_loss == pytest.approx(best_val, rel=1e-5)
    assert state.train_loss == pytest.approx(metrics["train"]["loss"], rel=1e-5)


def test_schedule_changes_the_rate_in_force(engine: Engine) -> None:
    config = cfg(training={"learning_rate": 0.1, "schedule": {"kind": "step", "factor": 0.5, "every": 2}})
    engine.create_session("s", config).result()
    state = engine.train("s", 4).result(timeout=60)
    assert state.learning_rate == pytest.approx(0.025)  # 0.1 · 0.5^⌊4 / 2⌋


def test_three_classes_stream_three_channels_and_learn(engine: Engine) -> None:
    config = cfg(data={"dataset": "blobs", "classes": 3}, network={"hidden_layers": [6]})
    engine.create_session("s", config).result()
    state = engine.train("s", 60).result(timeout=60)
    assert state.test_accuracy is not None and state.test_accuracy >= 0.9
    watcher = RecordingWatcher()
    engine.watch("s", watcher).result()
    assert watcher.got_frame.wait(10)
    frame = decode_frame(watcher.frames[-1])
    assert frame.arrays["grid"].shape == (3, 100, 100)
    assert frame.header["grid"]["classes"] == 3
    assert np.array(frame.header["confusion"]["test"]).shape == (3, 3)
    grid = engine.grid("s", 10).result()
    assert grid["classes"] == 3 and {v for row in grid["values"] for v in row} <= {0, 1, 2}


def test_batch_size_change_keeps_the_weights(engine: Engine) -> None:
    engine.create_session("s", cfg()).result()
    engine.train("s", 5).result(timeout=60)
    before = engine.metrics("s").result()["train"]["loss"]
    config = engine.config("s")
    bigger = config.model_copy(update={"training": config.training.model_copy(update={"batch_size": 25})})
    state = engine.configure("s", bigger).result()
    assert state.epoch == 5
    assert engine.metrics("s").result()["train"]["loss"] == pytest.approx(before, rel=1e-6)
    assert engine.train("s", 1).result(timeout=60).step == 5 * 25 + 10  # 250 points / 25 per batch


def test_lr_range_test_reports_progress_and_suggests_a_rate(engine: Engine) -> None:
    engine.create_session("s", cfg(data={"dataset": "xor"})).result()
    before = engine.metrics("s").result()["train"]["loss"]
    progress: list[dict[str, Any]] = []
    result = engine.lr_range_test("s", 1e-5, 10.0, 100, progress.append).result(timeout=60)
    assert result["done"] and 1e-6 < result["suggested"] < 1.0
    assert result["suggested"] == pytest.approx(result["min_loss_rate"] / 10)
    assert len(progress) >= 2 and progress[0]["progress"] < 1 and progress[-1]["done"]
    assert result["learning_rates"] == sorted(result["learning_rates"])
    assert engine.metrics("s").result()["train"]["loss"] == before  # the session itself is untouched


def test_a_heavy_session_does_not_starve_a_light_one(tmp_path) -> None:
    e = Engine(Settings(data_dir=tmp_path, max_neurons=64))
    e.start()
    try:
        heavy = cfg(network={"hidden_layers": [64] * 6}, training={"batch_mode": "full"})
        e.create_session("heavy", heavy).result()
        e.create_session("light", cfg()).result()
        e.play("heavy").result()
        state = e.train("light", 30).result(timeout=120)  # resolves although the heavy one never stops
        assert state.epoch == 30
        assert e.state("heavy").running and e.state("heavy").epoch > 0
    finally:
        e.stop()


def test_an_unwatched_undriven_session_pauses_itself(tmp_path) -> None:
    e = Engine(Settings(data_dir=tmp_path, idle_pause_seconds=0.2))
    e.start()
    try:
        e.create_session("s", cfg()).result()
        e.play("s").result()
        for _ in range(600):  # polls; the assertion is on the reason, not on how long it took
            if not e.state("s").running:
                break
            threading.Event().wait(0.05)
        state = e.state("s")
        assert not state.running and state.stop_reason is not None and state.stop_reason.startswith("idle")
    finally:
        e.stop()


def test_layer_gradient_norms_are_per_session_per_layer(engine: Engine) -> None:
    """The fused norm (one flat tensor, one matrix product) against the plain per-layer formula."""
    import torch

    engine.create_session("a", cfg(network={"hidden_layers": [5, 3]})).result()
    engine.create_session("b", cfg(network={"hidden_layers": [5, 3]})).result()

    def norms() -> tuple[np.ndarray, np.ndarray]:
        group = engine._sessions["a"].group
        grads = [torch.randn(2, *group.shapes[n], device=group.device) for n in group.param_names]
        expected = np.zeros((2, 3))
        for name, g in zip(group.param_names, grads, strict=True):
            expected[:, int(name[1:])] += (g.reshape(2, -1) ** 2).sum(dim=1).cpu().numpy()
        return group._layer_norms(grads, 2), np.sqrt(expected)

    got, expected = engine._submit(norms).result()
    assert got.shape == (2, 3) and np.allclose(got, expected, rtol=1e-5)


def test_a_command_is_framed_at_once_not_at_the_next_tick(tmp_path) -> None:
    """With one stream tick every 1,000 s, only the urgent frame of a command can show it."""
    slow = Engine(Settings(data_dir=tmp_path, stream_fps=0.001))
    slow.start()
    try:
        slow.create_session("s", cfg()).result()
        watcher = RecordingWatcher()
        slow.watch("s", watcher).result()
        assert watcher.got_frame.wait(30), "no first frame on watch"
        watcher.got_frame.clear()
        slow.configure("s", cfg(training={"learning_rate": 0.3})).result()
        assert watcher.got_frame.wait(30), "the change was not framed"
        header = decode_frame(watcher.frames[-1]).header
        assert header["state"]["learning_rate"] == pytest.approx(0.3)
        seqs = [decode_frame(f).header["seq"] for f in watcher.frames]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    finally:
        slow.stop()


def test_keeps_weights_tells_live_changes_from_reinitialising_ones() -> None:
    """The API skips the pre-change checkpoint exactly when the engine keeps the weights."""
    from nnplayground.engine import keeps_weights

    base = cfg()
    assert keeps_weights(base, cfg(training={"learning_rate": 0.1}))
    assert keeps_weights(base, cfg(training={"batch_size": 20}))  # regroups, keeps weights
    assert not keeps_weights(base, cfg(network={"hidden_layers": [3]}))
    assert not keeps_weights(base, cfg(data={"dataset": "xor"}))


def test_a_round_of_training_slices_stays_short_however_many_groups_train() -> None:
    from nnplayground.engine.worker import MAX_SLICE_SECONDS, MIN_SLICE_SECONDS, ROUND_SECONDS, slice_seconds

    assert slice_seconds(1) == MAX_SLICE_SECONDS  # one class, one shape: long slices, fewer evaluations
    assert slice_seconds(2) == MAX_SLICE_SECONDS
    assert slice_seconds(4) * 4 == pytest.approx(ROUND_SECONDS)  # a command waits one round at most
    assert slice_seconds(50) == MIN_SLICE_SECONDS  # never so short that a slice is mostly overhead
    assert slice_seconds(0) == MAX_SLICE_SECONDS


@pytest.mark.parametrize("via_numpy", [True, False], ids=["numpy", "torch"])
def test_row_swaps_writes_and_copies_move_whole_rows_on_either_path(via_numpy: bool) -> None:
    # Pause and play swap rows, and parked epochs and frames copy rows, through numpy on the CPU
    # and through torch elsewhere: the same rows move.
    import torch

    from nnplayground.engine.group import as_tensor, concat_rows, swap_rows, take_rows, write_row

    gen = torch.Generator().manual_seed(0)
    tensors = [
        torch.randn(5, 3, 2, generator=gen),  # weights (rows, in, out)
        torch.randn(5, generator=gen),  # a hyperparameter (rows,)
        torch.arange(5),  # int64
        torch.zeros(5, 0, 2),  # an empty part (no validation points)
        torch.rand(5, 4, generator=gen) > 0.5,  # bool
    ]
    before = [t.clone() for t in tensors]
    # A group hands numpy views of its CPU tensors (Group.row_views), the tensors elsewhere.
    handles = [t.numpy() for t in tensors] if via_numpy else tensors
    swap_rows(handles, 1, 3)
    for t, old in zip(tensors, before, strict=True):
        assert torch.equal(t, old[[0, 3, 2, 1, 4]])
    write_row(handles[1], 2, 0.5)
    expected = before[1][[0, 3, 2, 1, 4]]
    expected[2] = 0.5
    assert torch.equal(tensors[1], expected)
    # Two parks of a slice, then one tensor of their rows in order.
    first, second = np.array([4, 0, 4], dtype=np.int64), np.array([2], dtype=np.int64)
    for t, handle in zip(tensors, handles, strict=True):
        taken = [take_rows(handle, rows) for rows in (first, second)]
        # Numpy copies from numpy views (no torch call per copy), tensors from tensors.
        assert all(isinstance(c, type(handle)) for c in taken)
        both = as_tensor(concat_rows(taken))
        assert torch.equal(both, t[[4, 0, 4, 2]]) and torch.equal(as_tensor(concat_rows(taken[:1])), t[first])
        t.zero_() if t.dtype != torch.bool else t.fill_(False)
        assert both.numel() == 0 or bool(both.any()), "a copy, not a view of the rows"


def test_row_views_follow_the_tensors_as_a_group_grows_and_rows_swap() -> None:
    # Group.row_views are numpy views made when the tensors are (re)allocated: after every growth
    # they must still be the tensors' memory, or a pause would swap rows of a dropped copy.
    import torch
    from test_engine_equivalence import make_config

    from nnplayground.engine.group import Group
    from nnplayground.engine.session import Session, SessionData
    from nnplayground.schemas import SessionConfig

    group: Group | None = None
    sessions, initial = [], []
    for i in range(11):  # capacity 4 -> 8 -> 16
        cfg = SessionConfig.model_validate(make_config())
        s = Session(str(i), cfg, SessionData.build(cfg, 1), init_count=i)
        if group is None:
            group = Group(s.key(), torch.device("cpu"))
        row = s.fresh_row(s.key())
        group.add(s, row, cfg.training.schedule)
        sessions.append(s)
        initial.append(row.params)
        for j, other in enumerate(sessions):  # play every other one, pause the rest: rows move
            group.set_running(other.row, (i + j) % 2 == 0)
        for name, tensor in group.tensors.items():
            empty = tensor.numel() == 0  # a part with no points (no validation set): nothing to share
            assert empty or np.shares_memory(group.row_views[name], tensor.numpy()), name
        for other, params in zip(sessions, initial, strict=True):
            assert group.sessions[other.row] is other
            for name, value in group.export_params(other.row).items():
                assert torch.equal(value, params[name]), (i, other.id, name)
    assert group is not None and group.capacity == 16 and group.running == 6


def test_a_fault_in_a_training_slice_stops_its_sessions_not_the_engine(engine: Engine) -> None:
    engine.create_session("a", cfg()).result()
    engine.create_session("b", cfg(network={"hidden_layers": [3]})).result()  # another group
    group = engine._sessions["a"].group
    assert group is not None and group is not engine._sessions["b"].group

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a kernel failed")

    group.step = broken  # type: ignore[method-assign]
    engine.play("a").result()
    engine.play("b").result()
    deadline = time.monotonic() + 60
    while engine.state("a").stop_reason is None:
        assert time.monotonic() < deadline, "the failing session was not stopped"
        time.sleep(0.02)
    state = engine.state("a")
    assert not state.running and state.stop_reason == "training failed: RuntimeError: a kernel failed"
    while engine.state("b").epoch < 3:  # the other group trains on, and commands are answered
        assert time.monotonic() < deadline, "the engine stopped with the faulty group"
        time.sleep(0.02)
    del group.step
    assert engine.play("a").result(timeout=10).running
    while engine.state("a").epoch == 0:
        assert time.monotonic() < deadline, "the mended session did not train again"
        time.sleep(0.02)

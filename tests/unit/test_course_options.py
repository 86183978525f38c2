"""Every option of the full course: a short run learns without NaN (and the teaching cases show their point)."""

import math
from collections.abc import Iterator
from typing import Any

import pytest
import torch

from nnplayground import catalog
from nnplayground.config import Settings
from nnplayground.engine import Engine


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    e = Engine(Settings())
    e.start()
    yield e
    e.stop()


def run(engine: Engine, config: dict[str, Any], epochs: int = 40) -> tuple[float, float]:
    """First and last training loss of a short run; asserts every loss on the way is finite."""
    from nnplayground.schemas import SessionConfig

    sid = f"s{id(config)}"
    engine.create_session(sid, SessionConfig.model_validate(config)).result()
    try:
        state = engine.train(sid, epochs).result(timeout=120)
        assert state.stop_reason is None, state.stop_reason
        history = engine.history(sid).result()
        assert all(math.isfinite(v) for v in history["train_loss"] + history["test_loss"])
        return history["train_loss"][0], history["train_loss"][-1]
    finally:
        engine.delete_session(sid).result()


BASE = {"data": {"dataset": "circle", "num_points": 200}, "network": {"hidden_layers": [6, 4]}}


def with_(part: str, **values: Any) -> dict[str, Any]:
    return {**BASE, part: {**BASE.get(part, {}), **values}}


@pytest.mark.parametrize("activation", [a for a in catalog.ACTIVATIONS if a != "step"])
def test_every_activation_learns(engine: Engine, activation: str) -> None:
    first, last = run(engine, {**with_("network", activation=activation), "training": {"optimizer": "adam",
                                                                                       "learning_rate": 0.01}})
    assert last < first


@pytest.mark.parametrize("optimizer", list(catalog.OPTIMIZERS))
def test_every_optimizer_learns(engine: Engine, optimizer: str) -> None:
    lr = {"adadelta": 1.0, "sgd": 0.1, "momentum": 0.03, "nesterov": 0.03}.get(optimizer, 0.01)
    first, last = run(engine, with_("training", optimizer=optimizer, learning_rate=lr))
    assert last < first


@pytest.mark.parametrize("loss", ["bce", "cce", "tf_squared", "mse", "mae", "huber"])
def test_every_loss_learns(engine: Engine, loss: str) -> None:
    regression = loss in ("mse", "mae", "huber")
    config = {
        "problem": "regression" if regression else "classification",
        "data": {"dataset": "plane" if regression else "circle", "num_points": 200},
        "network": {"hidden_layers": [6, 4]},
        "training": {"loss": loss, "optimizer": "adam", "learning_rate": 0.01},
    }
    first, last = run(engine, config)
    assert last < first


@pytest.mark.parametrize("kind", list(catalog.SCHEDULES))
def test_every_schedule_learns(engine: Engine, kind: str) -> None:
    first, last = run(engine, with_("training", learning_rate=0.1, schedule={"kind": kind, "cycle_epochs": 30}))
    assert last < first


@pytest.mark.parametrize("init", [i for i in catalog.INITS if i != "zeros"])
def test_every_init_learns(engine: Engine, init: str) -> None:
    first, last = run(engine, {**with_("network", init=init), "training": {"optimizer": "adam",
                                                                           "learning_rate": 0.01}})
    assert last < first


@pytest.mark.parametrize(
    "over",
    [
        {"network": {"hidden_layers": [6, 4], "batch_norm": "before"}},
        {"network": {"hidden_layers": [6, 4], "batch_norm": "after"}},
        {"network": {"hidden_layers": [6, 4], "dropout": 0.2}},
        {"training": {"regularization": "l1", "regularization_rate": 0.001}},
        {"training": {"regularization": "l2", "regularization_rate": 0.01}},
        {"training": {"optimizer": "adamw", "learning_rate": 0.01, "weight_decay": 0.1}},
        {"training": {"clip": "norm", "clip_value": 0.5}},
        {"training": {"clip": "value", "clip_value": 0.1}},
        {"training": {"input_noise": 0.2}},
        {"training": {"batch_mode": "full", "learning_rate": 0.3}},
        {"training": {"batch_mode": "stochastic", "learning_rate": 0.01}},
        {"data": {"dataset": "circle", "num_points": 200, "train_ratio": 0.6, "validation_ratio": 0.2}},
    ],
    ids=["bn-before", "bn-after", "dropout", "l1", "l2", "adamw", "clip-norm", "clip-value", "noise", "full-batch",
         "stochastic", "validation"],
)
def test_every_regulariser_and_mode_learns(engine: Engine, over: dict[str, Any]) -> None:
    config = {**BASE, **over}
    config["network"] = {**BASE["network"], **over.get("network", {})}
    first, last = run(engine, config, epochs=30)
    assert last < first


def test_step_units_do_not_learn_by_backprop(engine: Engine) -> None:
    from nnplayground.schemas import SessionConfig

    engine.create_session("step", SessionConfig.model_validate(with_("network", activation="step"))).result()
    group = engine._sessions["step"].group
    assert group is not None
    before = group.export_params(engine._sessions["step"].row)
    engine.train("step", 20).result(timeout=60)
    after = group.export_params(engine._sessions["step"].row)
    assert torch.equal(before["W0"], after["W0"]) and torch.equal(before["W1"], after["W1"])  # zero gradient
    assert not torch.equal(before["W2"], after["W2"])  # only the output layer moves
    engine.delete_session("step").result()


def test_zeros_init_never_breaks_symmetry(engine: Engine) -> None:
    from nnplayground.schemas import SessionConfig

    config = SessionConfig.model_validate({**with_("network", init="zeros"), "training": {"learning_rate": 0.3}})
    engine.create_session("zeros", config).result()
    engine.train("zeros", 20).result(timeout=60)
    session = engine._sessions["zeros"]
    assert session.group is not None
    w = session.group.export_params(session.row)["W0"]  # (inputs, units): every unit the same column
    assert torch.allclose(w, w[:, :1].expand_as(w))
    engine.delete_session("zeros").result()

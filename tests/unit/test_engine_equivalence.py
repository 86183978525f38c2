"""The batched engine trains each session exactly as a plain nn.Module + torch.optim loop would.

Several sessions of one shape, with different rates and batch sizes, share a group; each is
replayed through `PlainNetwork` (torch's own modules), torch.optim and torch's losses, and the
weights must agree after 100 steps. Random parts (dropout masks, input noise) are recorded from
the engine and replayed in the reference.
"""

import itertools
from typing import Any

import pytest
import torch
from torch import nn

from nnplayground import catalog
from nnplayground.engine.group import Group
from nnplayground.engine.module import Dropout, PlainNetwork, loss_module
from nnplayground.engine.optim import OPTIMIZERS, torch_optimizer
from nnplayground.engine.schedules import scheduled_rate
from nnplayground.engine.session import Session, SessionData
from nnplayground.schemas import SessionConfig

STEPS = 100
ATOL, RTOL = 1e-5, 1e-4  # float32 sums in another order drift by a few ulps over 100 steps


def make_config(**over: Any) -> dict[str, Any]:
    problem = over.pop("problem", "classification")
    config: dict[str, Any] = {
        "problem": problem,
        "data": {"dataset": "xor" if problem == "classification" else "plane", "num_points": 60, "noise": 10,
                 "seed": 3},
        # x1x2 reaches 36: fine for classification, but regression with momentum turns chaotic.
        "features": ["x1", "x2", "x1x2"] if problem == "classification" else ["x1", "x2"],
        "network": {"hidden_layers": [5, 3], "activation": "tanh"},
        "training": {"optimizer": "sgd", "learning_rate": 0.03},
    }
    for part, values in over.items():
        config[part] = {**config[part], **values} if isinstance(values, dict) else values
    return config


class Recorder:
    """Wraps the engine's random draws and keeps them for the reference to replay."""

    def __init__(self, group: Group) -> None:
        self.masks: list[torch.Tensor] = []
        self.noise: list[torch.Tensor] = []
        draw_mask, draw_noise = group.net.dropout_masks, group.noise_like

        def masks(shape: tuple[int, ...], p: float, device: torch.device) -> torch.Tensor:
            self.masks.append(draw_mask(shape, p, device))
            return self.masks[-1]

        def noise(x: torch.Tensor) -> torch.Tensor:
            self.noise.append(draw_noise(x))
            return self.noise[-1]

        group.net.dropout_masks, group.noise_like = masks, noise


def reference_run(
    group: Group, session: Session, initial: dict[str, torch.Tensor], rec: Recorder, row: int
) -> nn.Module:
    """Train a copy of the session's initial weights with torch.nn and torch.optim."""
    key, config = group.key, session.config
    t = config.training
    model = PlainNetwork(key).load_row(initial).train()
    hyper = {name: t.optimizer_value(name) for name in OPTIMIZERS[t.optimizer].hyper}
    opt = torch_optimizer(t.optimizer, list(model.parameters()), t.learning_rate, hyper)
    loss_fn = loss_module(key)
    data = group.export(session.row).data
    x, y = data["x_train"], data["y_train"]
    n = x.shape[0]
    batch = t.effective_batch(n)
    epoch_len = -(-n // batch)
    drops = [m for m in model.modules() if isinstance(m, Dropout)]
    per_step = len(drops)
    for step, start in zip(range(STEPS), itertools.cycle(range(0, n, batch)), strict=False):
        count = min(batch, n - start)
        xb, yb = x[start : start + count], y[start : start + count]
        if rec.noise:
            xb = xb + rec.noise[step][row, :count] * t.input_noise
        for j, d in enumerate(drops):
            d.masks = [rec.masks[step * per_step + j][row, :count]]
        for g in opt.param_groups:
            g["lr"] = scheduled_rate(t.schedule, t.learning_rate, step // epoch_len, step, epoch_len)
        loss = loss_fn(model(xb), yb)
        weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
        if t.regularization == "l1":
            loss = loss + t.regularization_rate * sum(w.abs().sum() for w in weights)
        elif t.regularization == "l2":
            loss = loss + t.regularization_rate * 0.5 * sum((w * w).sum() for w in weights)
        opt.zero_grad()
        loss.backward()
        if t.clip == "norm":
            nn.utils.clip_grad_norm_(model.parameters(), t.clip_value)
        elif t.clip == "value":
            nn.utils.clip_grad_value_(model.parameters(), t.clip_value)
        opt.step()
    return model


def check(config: dict[str, Any], manual: bool = True, lrs: tuple[float, ...] = (0.03, 0.1, 0.01),
          batches: tuple[int, ...] = (10, 9, 12)) -> None:
    """Train len(lrs) sessions of `config` batched and one by one; their weights must agree."""
    sessions, initial = [], []
    group = None
    for i, (lr, b) in enumerate(zip(lrs, batches, strict=True)):
        cfg = SessionConfig.model_validate(make_config(**{**config, "training": {
            **make_config()["training"], **config.get("training", {}), "learning_rate": lr, "batch_size": b}}))
        s = Session(str(i), cfg, SessionData.build(cfg, 1), init_count=i)
        key = s.key()
        if group is None:
            group = Group(key, torch.device("cpu"))
            group.manual_backward = manual and group.manual_backward
        assert key == group.key, "test sessions must share a group"
        row = s.fresh_row(key)
        group.add(s, row, cfg.training.schedule)
        sessions.append(s)
        initial.append(row.params)
    assert group is not None
    rec = Recorder(group)
    for s in sessions:
        group.set_running(s.row, True)
    for _ in range(STEPS):
        group.step()
    for row, (s, params) in enumerate(zip(sessions, initial, strict=True)):
        ref = reference_run(group, s, params, rec, row).row_params()
        ours = group.export_params(s.row)
        assert set(ref) == set(ours)
        for name in ref:
            torch.testing.assert_close(ours[name], ref[name], atol=ATOL, rtol=RTOL, msg=lambda m, n=name: f"{n}: {m}")


@pytest.fixture(params=["float32", "float64"], autouse=True)
def dtype(request: pytest.FixtureRequest):
    """The engine runs float32; float64 shows the algorithm is exact where float32 noise is amplified."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, request.param))
    yield request.param
    torch.set_default_dtype(previous)


ADAPTIVE = {"adam", "adamw", "nadam", "adamax", "adagrad", "adadelta", "rmsprop"}


def gentle(optimizer: str) -> tuple[float, ...]:
    if optimizer == "adadelta":
        return (1.0, 0.5, 0.1)
    return (0.01, 0.003, 0.03) if optimizer in ADAPTIVE else (0.03, 0.1, 0.01)


@pytest.mark.parametrize("activation", list(catalog.ACTIVATIONS))
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_every_activation(activation: str, optimizer: str) -> None:
    check({"network": {"activation": activation}, "training": {"optimizer": optimizer}}, lrs=gentle(optimizer))


@pytest.mark.parametrize("optimizer", list(catalog.OPTIMIZERS))
@pytest.mark.parametrize("weight_decay", [None, 0.001])
def test_every_optimizer(optimizer: str, weight_decay: float | None) -> None:
    check({"training": {"optimizer": optimizer, "weight_decay": weight_decay}}, lrs=gentle(optimizer))


@pytest.mark.parametrize(
    "over",
    [
        {"training": {"loss": "bce"}},
        {"training": {"loss": "tf_squared"}},
        {"training": {"loss": "cce"}},
        {"data": {"dataset": "blobs", "classes": 3}, "training": {"loss": "cce"}},
        {"problem": "regression", "training": {"loss": "mse"}},
        {"problem": "regression", "training": {"loss": "mae"}},
        {"problem": "regression", "training": {"loss": "huber", "huber_delta": 0.3}},
    ],
    ids=["bce", "tf_squared", "cce-2", "cce-3", "mse", "mae", "huber"],
)
def test_every_loss(over: dict[str, Any], dtype: str) -> None:
    check(over, lrs=(0.01, 0.03, 0.003))


@pytest.mark.parametrize("kind", list(catalog.SCHEDULES))
def test_every_schedule(kind: str) -> None:
    schedule = {"kind": kind, "every": 5, "k": 0.05, "period": 7, "min_lr": 0.001, "max_lr": 0.2, "step_size": 8,
                "cycle_epochs": 20}
    check({"training": {"schedule": schedule}})


@pytest.mark.parametrize(
    "over",
    [
        {"training": {"regularization": "l1", "regularization_rate": 0.001}},
        {"training": {"regularization": "l2", "regularization_rate": 0.01}},
        {"training": {"optimizer": "adamw", "weight_decay": 0.05}},
        {"network": {"dropout": 0.3}},
        {"network": {"batch_norm": "before"}},
        {"network": {"batch_norm": "after", "activation": "relu"}},
        {"training": {"clip": "norm", "clip_value": 0.05}},
        {"training": {"clip": "value", "clip_value": 0.01}},
        {"training": {"input_noise": 0.3}},
        {"network": {"layer_activations": ["relu", "sigmoid"]}},
        {"network": {"activation": "leaky_relu", "leaky_relu_slope": 0.2}},
        {"training": {"batch_mode": "full"}},
    ],
    ids=["l1", "l2", "adamw-decay", "dropout", "bn-before", "bn-after", "clip-norm", "clip-value", "input-noise",
         "per-layer-activation", "leaky-slope", "full-batch"],
)
@pytest.mark.parametrize("manual", [True, False], ids=["hand-backward", "autograd"])
def test_every_regulariser_and_option(over: dict[str, Any], manual: bool) -> None:
    lrs = (0.01, 0.003, 0.03) if over.get("training", {}).get("optimizer") == "adamw" else (0.03, 0.1, 0.01)
    check(over, manual=manual, lrs=lrs)


def test_every_catalog_choice_has_an_implementation() -> None:
    from nnplayground.engine.functions import ACTIVATION_NAMES, LOSS_NAMES
    from nnplayground.engine.network import initial_state  # noqa: F401 - imported for its registry below

    assert set(ACTIVATION_NAMES) == set(catalog.ACTIVATIONS)
    assert set(LOSS_NAMES) == set(catalog.LOSSES)
    assert set(OPTIMIZERS) == set(catalog.OPTIMIZERS)


@pytest.mark.parametrize("manual", [True, False], ids=["hand-backward", "autograd"])
def test_one_config_takes_the_sliced_fast_path_with_a_partial_last_batch(manual: bool) -> None:
    # 30 training points in batches of 7: four full batches and one of 2, sliced, not gathered.
    check({"network": {"batch_norm": "none" if manual else "before"}}, manual=manual, batches=(7, 7, 7))

"""Frames stay small and complete however long a session has trained."""

import numpy as np
import pytest
import torch

from nnplayground.config import Settings
from nnplayground.engine import Engine
from nnplayground.engine.group import Group
from nnplayground.engine.session import Session, SessionData
from nnplayground.engine.views import confusion
from nnplayground.frames import decode_frame
from nnplayground.schemas import SessionConfig


def test_a_frame_after_thousands_of_noisy_epochs_stays_under_16_kb() -> None:
    config = SessionConfig.model_validate({"data": {"validation_ratio": 0.2, "train_ratio": 0.6}})
    s = Session("s", config, SessionData.build(config, 1))
    group = Group(s.key(), torch.device("cpu"))
    group.add(s, s.fresh_row(s.key()), config.training.schedule)
    rng = np.random.default_rng(0)
    for epoch in range(1, 5000):  # incompressible losses: the worst case for the history section
        s.history.append(epoch, {"train_loss": float(rng.random()), "test_loss": float(rng.random()),
                                 "val_loss": float(rng.random())})
    engine = Engine(Settings())
    s.watchers.append(object())  # type: ignore[arg-type] - only counted
    job = engine._frame_job(group, [s])
    data = engine._publisher.build(job)[0]
    assert len(data) < 16_384
    frame = decode_frame(data)
    assert frame.header["history"]["rows"] == ["epoch", "train_loss", "test_loss", "validation_loss"]
    assert frame.arrays["history"][0, -1] == s.history.epoch[-1]
    assert frame.arrays["grid"].shape == (100, 100)


def test_confusion_counts_true_rows_and_predicted_columns() -> None:
    labels = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 0, 2])
    assert confusion(labels, predicted, 3) == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


@pytest.mark.parametrize(
    ("activation", "batch_norm", "loss", "n_out"),
    [("tanh", "none", "bce", 1), ("maxout", "none", "cce", 3), ("prelu", "before", "bce", 1),
     ("relu", "after", "cce", 4), ("gelu", "none", "mse", 1)],
)
def test_points_last_forward_matches_the_training_forward(
    activation: str, batch_norm: str, loss: str, n_out: int
) -> None:
    """Frames draw grids with forward_wide (points last); it must give the same logits as forward."""
    from nnplayground.engine.group import GroupKey
    from nnplayground.engine.network import BatchedNetwork, initial_state

    features = ("x1", "x2", "x1x2")
    key = GroupKey(features, (5, 3), (activation, activation), n_out, loss, "sgd", 16, batch_norm=batch_norm)
    net = BatchedNetwork(key)
    gen = torch.Generator().manual_seed(3)
    rows = [initial_state(key, "he_normal", gen) for _ in range(4)]
    params = {n: torch.stack([r[n] for r in rows]) for n in rows[0]}
    for name in params:
        if name[:2] in ("rm", "rv", "g", "e") or name[0] == "a":  # non-trivial statistics and slopes
            params[name] = params[name] + torch.rand(params[name].shape, generator=gen)
    x = torch.randn(4, 50, 3, generator=gen)
    expected = net.forward(params, params, x)  # (rows, points, out)
    got = net.forward_wide(params, x.transpose(1, 2)).transpose(1, 2)
    assert got.shape == (4, 50, n_out) and torch.allclose(got, expected, atol=1e-5)

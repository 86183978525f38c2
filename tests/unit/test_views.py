"""Frames stay small and complete however long a session has trained."""

import numpy as np
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

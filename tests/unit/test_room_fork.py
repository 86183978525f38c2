"""Engine.adopt (a classroom fork): a live session takes a checkpoint's config and weights, keeps its
id and its watchers; a checkpoint that does not fit leaves it exactly as it was."""

from collections.abc import Iterator
from typing import Any

import pytest
import torch

from nnplayground.config import Settings
from nnplayground.engine import Engine, Refused
from nnplayground.schemas import SessionConfig


class Recorder:
    """A Watcher that keeps the events it gets."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def frame(self, data: bytes) -> None:
        pass

    def event(self, message: dict[str, Any]) -> None:
        self.events.append(message)

    def closed(self, code: int, reason: str) -> None:
        self.events.append({"type": "closed", "code": code})


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    e = Engine(Settings(data_dir=tmp_path, device="cpu"))
    e.start()
    yield e
    e.stop()


def test_adopt_copies_config_and_weights_and_keeps_the_watchers(engine: Engine) -> None:
    teacher = SessionConfig.model_validate({"data": {"dataset": "xor"}, "network": {"hidden_layers": [5]}})
    engine.create_session("teacher", teacher).result(timeout=60)
    engine.train("teacher", 3).result(timeout=60)
    engine.create_session("student", SessionConfig()).result(timeout=60)
    watcher = Recorder()
    engine.watch("student", watcher).result(timeout=60)
    ckpt = engine.checkpoint("teacher").result(timeout=60)
    state = engine.adopt("student", ckpt).result(timeout=60)
    assert state.epoch == 3 and state.running is False
    assert engine.config("student") == teacher
    assert engine.grid("student", 8).result(timeout=60) == engine.grid("teacher", 8).result(timeout=60)
    assert [e["type"] for e in watcher.events] == ["dataset", "config"]
    assert watcher.events[1]["config"]["data"]["dataset"] == "xor"
    assert engine.train("student", 1).result(timeout=60).epoch == 4  # its own from here on
    assert engine.state("teacher").epoch == 3


def test_a_checkpoint_that_does_not_fit_leaves_the_session_as_it_was(engine: Engine) -> None:
    engine.create_session("teacher", SessionConfig()).result(timeout=60)
    engine.create_session("student", SessionConfig()).result(timeout=60)
    engine.train("student", 2).result(timeout=60)
    before = engine.grid("student", 8).result(timeout=60)
    ckpt = engine.checkpoint("teacher").result(timeout=60)
    ckpt["model"]["W0"] = torch.zeros(7, 7)
    with pytest.raises(Refused):
        engine.adopt("student", ckpt).result(timeout=60)
    assert engine.state("student").epoch == 2
    assert engine.grid("student", 8).result(timeout=60) == before
    assert engine.train("student", 1).result(timeout=60).epoch == 3

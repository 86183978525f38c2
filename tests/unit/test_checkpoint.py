"""A checkpoint survives torch.save / torch.load(weights_only=True) and training resumes exactly."""

import io
from collections.abc import Iterator

import pytest
import torch

from nnplayground.config import Settings
from nnplayground.engine import Engine
from nnplayground.schemas import SessionConfig


@pytest.fixture
def engine() -> Iterator[Engine]:
    e = Engine(Settings())
    e.start()
    yield e
    e.stop()


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "nadam"])
def test_restored_session_continues_exactly_like_the_original(engine: Engine, optimizer: str) -> None:
    config = SessionConfig.model_validate({
        "data": {"dataset": "xor", "validation_ratio": 0.2, "train_ratio": 0.6},
        "network": {"hidden_layers": [5, 3], "batch_norm": "after"},
        "training": {"optimizer": optimizer, "learning_rate": 0.01, "batch_size": 7},
    })
    engine.create_session("a", config).result()
    engine.train("a", 7).result(timeout=60)
    buffer = io.BytesIO()
    torch.save(engine.checkpoint("a").result(), buffer)
    buffer.seek(0)
    ckpt = torch.load(buffer, weights_only=True)
    restored = engine.restore_session("b", ckpt).result()
    original = engine.state("a")
    assert restored.epoch == original.epoch == 7 and restored.step == original.step
    assert restored.train_loss == original.train_loss and not restored.running
    assert engine.history("b").result() == engine.history("a").result()
    engine.train("a", 3).result(timeout=60)
    engine.train("b", 3).result(timeout=60)
    assert engine.metrics("b").result() == engine.metrics("a").result()


def test_a_checkpoint_for_another_network_is_refused(engine: Engine) -> None:
    engine.create_session("a", SessionConfig()).result()
    ckpt = engine.checkpoint("a").result()
    ckpt["config"]["network"]["hidden_layers"] = [3]
    with pytest.raises(ValueError, match="does not fit"):
        engine.restore_session("b", ckpt).result()
    with pytest.raises(ValueError, match="not an nnplayground checkpoint"):
        engine.restore_session("c", {"format": "pickle"}).result()


def test_changed_checkpoints_lists_only_sessions_that_moved(engine: Engine) -> None:
    engine.create_session("a", SessionConfig()).result()
    engine.create_session("b", SessionConfig()).result()
    assert {c["id"] for c in engine.changed_checkpoints().result()} == {"a", "b"}
    engine.train("a", 1).result(timeout=60)
    assert [c["id"] for c in engine.changed_checkpoints().result()] == ["a"]
    assert engine.changed_checkpoints().result() == []

"""Engine.thumbnails: 32×32 decision grids of many sessions in one batched pass per group."""

from collections.abc import Iterator

import numpy as np
import pytest

from nnplayground.config import Settings
from nnplayground.engine import Engine
from nnplayground.schemas import SessionConfig


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    e = Engine(Settings(data_dir=tmp_path, device="cpu"))
    e.start()
    yield e
    e.stop()


def _create(engine: Engine, sid: str, config: dict) -> None:
    engine.create_session(sid, SessionConfig.model_validate(config)).result(timeout=60)
    engine.train(sid, 2).result(timeout=60)


def test_thumbnails_match_the_full_grid_with_row_zero_at_the_top(engine: Engine) -> None:
    for i in range(3):
        _create(engine, f"s{i}", {"data": {"seed": i}})
    thumbs = engine.thumbnails(["s0", "s1", "s2", "gone"], 32).result(timeout=60)
    assert set(thumbs) == {"s0", "s1", "s2"}
    for sid, thumb in thumbs.items():
        assert thumb.kind == "probability" and thumb.grid.shape == (32, 32) and thumb.grid.dtype == np.uint8
        values = np.array(engine.grid(sid, 32).result(timeout=60)["values"])  # values[r] at y[r], y ascending
        expected = np.rint(np.clip(values[::-1], 0, 1) * 255)
        assert np.abs(thumb.grid.astype(int) - expected).max() <= 1


def test_thumbnail_kinds_for_regression_and_many_classes(engine: Engine) -> None:
    _create(engine, "reg", {"problem": "regression"})
    _create(engine, "three", {"data": {"dataset": "rings", "classes": 3}})
    thumbs = engine.thumbnails(["reg", "three"], 32).result(timeout=60)
    assert thumbs["reg"].kind == "regression" and thumbs["reg"].classes == 0
    three = thumbs["three"]
    assert three.kind == "class" and three.classes == 3
    probabilities = np.array(engine.grid("three", 32).result(timeout=60)["probabilities"])  # (3, r, c)
    predicted = probabilities.argmax(axis=0)[::-1]
    assert (three.grid == predicted).mean() > 0.99  # ties aside, the same classes
    assert three.grid.max() <= 2

"""Join codes, nicknames, locked controls and the join-attempt limiter (rooms/), without a server."""

import pytest

from nnplayground import catalog
from nnplayground.rooms.codes import ALPHABET, LENGTH, new_code, normalize
from nnplayground.rooms.limiter import AttemptLimiter
from nnplayground.rooms.locks import locked_change, unknown_controls
from nnplayground.rooms.model import Room
from nnplayground.schemas import SessionConfig


def test_codes_are_six_characters_without_look_alikes() -> None:
    for ch in "0O1IL2Z5S8BUVQD":
        assert ch not in ALPHABET
    codes = {new_code(set()) for _ in range(200)}
    assert all(len(c) == LENGTH == 6 and set(c) <= set(ALPHABET) for c in codes)
    assert len(codes) > 190  # random, not a sequence


def test_new_code_avoids_taken_codes() -> None:
    taken = {new_code(set()) for _ in range(50)}
    for _ in range(200):
        assert new_code(taken) not in taken


@pytest.mark.parametrize("typed", ["k7x3m9", " K7X-3M9 ", "k7x 3m9"])
def test_normalize_forgives_case_spaces_and_dashes(typed: str) -> None:
    assert normalize(typed) == "K7X3M9"


@pytest.mark.parametrize("typed", ["", "K7X3M", "K7X3M99", "K7X3M0", "../etc", "K7X3MÉ"])
def test_normalize_rejects_what_cannot_be_a_code(typed: str) -> None:
    assert normalize(typed) is None


def _room() -> Room:
    return Room("K7X3M9", "r", "h", "t", SessionConfig(), [], 10)


def test_nicknames_are_made_unique_ignoring_case() -> None:
    from nnplayground.rooms.model import Student

    room = _room()
    for i, name in enumerate(["Ana", "ana 2", "Bo"]):
        room.students[str(i)] = Student(str(i), name, 0.0)
    assert room.nickname_for("ANA") == "ANA 3"
    assert room.nickname_for("Bo") == "Bo 2"
    assert room.nickname_for("Cy") == "Cy"


def test_every_control_names_a_config_path() -> None:
    dumped = SessionConfig().model_dump()
    for control in catalog.CONTROLS.values():
        for path in (control.name, *control.covers):
            node = dumped
            for part in path.split("."):
                assert isinstance(node, dict) and part in node, path
                node = node[part]
    assert unknown_controls(["training", "nope"]) == ["nope"]


def test_a_lock_covers_its_field_its_subfields_and_its_extra_paths() -> None:
    base = SessionConfig()
    faster = SessionConfig.model_validate({"training": {"learning_rate": 0.3}})
    adam = SessionConfig.model_validate({"training": {"optimizer": "adam", "beta1": 0.8}})
    momentum = SessionConfig.model_validate({"training": {"momentum": 0.5}})
    assert locked_change(base, faster, ["training.learning_rate"]) == "Learning rate"
    assert locked_change(base, faster, ["training"]) == catalog.CONTROLS["training"].label
    assert locked_change(base, faster, ["data", "network.activation"]) is None
    assert locked_change(base, adam, ["training.optimizer"]) == "Optimiser"
    assert locked_change(base, momentum, ["training.optimizer"]) == "Optimiser"  # a covered path
    assert locked_change(base, faster, []) is None


def test_limiter_blocks_after_the_allowed_failures_per_address() -> None:
    limiter = AttemptLimiter(3, window=60.0)
    for _ in range(3):
        assert limiter.blocked("10.0.0.1") is None
        limiter.failed("10.0.0.1")
    wait = limiter.blocked("10.0.0.1")
    assert wait is not None and 0 < wait <= 60
    assert limiter.blocked("10.0.0.2") is None  # another address is not affected

"""Lesson files: the shipped ones load; a bad one fails naming its file, line and key."""

import io
from pathlib import Path

import pytest

from nnplayground.__main__ import main
from nnplayground.config import Settings
from nnplayground.lessons import SHIPPED, LessonFileError, LessonLibrary, lesson_files, load_lesson_text
from nnplayground.lessons.check import check_lessons
from nnplayground.schemas import SessionConfig

EXAMPLE = """\
id: two-steps
order: 5
concept: testing
title: {en: Two steps, es: Dos pasos}
summary: {en: A lesson for the tests., es: Una lección para las pruebas.}
steps:
  - text:
      en: The first step.
      es: El primer paso.
    config:
      data: {dataset: xor, noise: 10}
      network: {hidden_layers: [3]}
      training: {learning_rate: 0.1}
    play: true
    ask:
      en: What do you see?
      es: ¿Qué ves?
  - text:
      en: The second step.
      es: El segundo paso.
    config:
      training:
        optimizer: adam
        learning_rate: 0.01
"""


def line_of_text(text: str, needle: str) -> int:
    """The 1-based line of the first line holding `needle`."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def problems(text: str, name: str = "two-steps.yaml") -> list[str]:
    with pytest.raises(LessonFileError) as info:
        load_lesson_text(text, name)
    return [str(p) for p in info.value.problems]


def test_a_valid_lesson_resolves_each_step_over_the_previous_one() -> None:
    lesson = load_lesson_text(EXAMPLE, "two-steps.yaml")
    first, second = lesson.steps
    defaults = SessionConfig()
    assert first.config.data.dataset == "xor" and first.config.data.noise == 10
    assert first.config.network.hidden_layers == [3]
    assert first.config.data.num_points == defaults.data.num_points  # the rest: catalog defaults
    assert first.play is True and first.ask is not None and first.ask.get("es") == "¿Qué ves?"
    # Step 2 keeps step 1's data and network and changes only the training it names.
    assert second.config.data == first.config.data and second.config.network == first.config.network
    assert second.config.training.optimizer == "adam" and second.config.training.learning_rate == 0.01
    assert second.play is False and second.ask is None
    assert second.changes == {"training": {"optimizer": "adam", "learning_rate": 0.01}}
    assert lesson.title.get("es") == "Dos pasos" and lesson.title.get("en") == "Two steps"


def test_every_shipped_lesson_loads_with_both_languages() -> None:
    files = lesson_files(SHIPPED)
    assert files, "no lessons shipped"
    library = LessonLibrary.load([SHIPPED], Settings())
    assert library.problems == [], "\n".join(map(str, library.problems))
    assert sorted(library.lessons) == sorted(p.stem for p in files)
    for lesson in library.lessons.values():
        assert 2 <= len(lesson.steps) <= 6
        for step in lesson.steps:
            assert step.text.en.strip() and step.text.es.strip() and step.text.en != step.text.es
    orders = [s.order for s in library.summaries()]
    assert orders == sorted(orders)


def test_bad_yaml_syntax_names_its_line() -> None:
    text = EXAMPLE.replace("data: {dataset: xor, noise: 10}", "data: {dataset: xor, noise: 10")
    (message,) = problems(text)
    start = line_of_text(text, "data: {dataset")
    assert message.startswith(f"two-steps.yaml, line {start + 1}: invalid YAML:"), message
    assert f"starts on line {start}" in message


def test_an_unknown_key_names_its_line() -> None:
    text = EXAMPLE.replace("    play: true\n", "    play: true\n    pause: false\n")
    line = line_of_text(text, "pause:")
    assert problems(text) == [f"two-steps.yaml, line {line}: steps.0.pause: unknown key 'pause'"]


def test_an_unknown_config_key_names_its_line() -> None:
    text = EXAMPLE.replace("        optimizer: adam\n", "        optimiser: adam\n")
    (message,) = problems(text)
    line = line_of_text(text, "optimiser")
    assert message == f"two-steps.yaml, line {line}: steps.1.config.training.optimiser: unknown key 'optimiser'"


def test_an_invalid_config_value_names_its_line() -> None:
    text = EXAMPLE.replace("        learning_rate: 0.01\n", "        learning_rate: -1\n")
    assert problems(text) == [
        f"two-steps.yaml, line {line_of_text(text, 'learning_rate: -1')}: "
        "steps.1.config.training.learning_rate: Input should be greater than 0"
    ]


def test_an_unknown_dataset_says_which_ones_exist() -> None:
    text = EXAMPLE.replace("dataset: xor", "dataset: xxor")
    (message,) = problems(text)
    assert message.startswith(f"two-steps.yaml, line {line_of_text(text, 'xxor')}: steps.0.config.data.dataset: ")
    assert "unknown dataset 'xxor'" in message and "'spiral'" in message


def test_missing_spanish_text_names_its_line() -> None:
    text = EXAMPLE.replace("      es: El segundo paso.\n", "")
    text_line = line_of_text(text, "The second step") - 1  # the `text:` key above it
    assert problems(text) == [f"two-steps.yaml, line {text_line}: steps.1.text.es: missing the Spanish text (es)"]
    text = EXAMPLE.replace("title: {en: Two steps, es: Dos pasos}", "title: {en: Two steps}")
    assert problems(text) == ["two-steps.yaml, line 4: title.es: missing the Spanish text (es)"]


def test_other_problems_are_named() -> None:
    assert problems(EXAMPLE, "other-name.yaml") == [
        "other-name.yaml, line 1: id: id 'two-steps' must be the file name ('other-name')"
    ]
    assert problems(EXAMPLE.replace("order: 5\n", "order: 5\norder: 6\n")) == [
        "two-steps.yaml, line 3: duplicate key 'order' (first on line 2)"
    ]
    one_step = EXAMPLE[: EXAMPLE.index("  - text:\n      en: The second")]
    (message,) = problems(one_step)
    assert message.startswith("two-steps.yaml, line 6: steps: List should have at least 2 items")
    assert problems("") == ["two-steps.yaml, line 1: the file is empty"]
    # A value the schema takes but the server's limits do not.
    text = EXAMPLE.replace("hidden_layers: [3]", "hidden_layers: [30]")
    with pytest.raises(LessonFileError) as info:
        load_lesson_text(text, "two-steps.yaml", Settings())
    assert str(info.value) == (
        f"two-steps.yaml, line {line_of_text(text, '[30]')}: steps.0.config.network.hidden_layers.0: "
        "each hidden layer has 1 to 8 neurons (got 30)"
    )


def test_a_teachers_folder_adds_lessons_and_a_duplicate_id_is_refused(tmp_path: Path) -> None:
    (tmp_path / "two-steps.yaml").write_text(EXAMPLE)
    (tmp_path / "broken.yaml").write_text("id: broken\norder: [\n")
    shipped = lesson_files(SHIPPED)[0]
    (tmp_path / shipped.name).write_text(shipped.read_text())
    library = LessonLibrary.for_settings(Settings(lessons_dir=tmp_path))
    assert "two-steps" in library.lessons and "broken" not in library.lessons
    assert library.sources[shipped.stem] == shipped  # the shipped one stays; the copy is refused
    messages = [str(p) for p in library.problems]
    assert any(m.startswith("broken.yaml, line 3: invalid YAML") for m in messages), messages
    assert any(f"duplicate lesson id '{shipped.stem}'" in m for m in messages), messages


def test_the_check_command_prints_problems_and_exits_1(tmp_path: Path) -> None:
    good = tmp_path / "two-steps.yaml"
    good.write_text(EXAMPLE)
    bad = tmp_path / "bad-one.yaml"
    bad.write_text(EXAMPLE.replace("id: two-steps", "id: bad-one").replace("noise: 10", "noise: 500"))
    out = io.StringIO()
    assert check_lessons([good], Settings(), out) == 0
    assert "two-steps.yaml: ok (2 steps" in out.getvalue()
    out = io.StringIO()
    assert check_lessons([good, bad], Settings(), out) == 1
    line = line_of_text(bad.read_text(), "noise: 500")
    assert f"bad-one.yaml, line {line}: steps.0.config.data.noise: Input should be less than or equal to 50" in (
        out.getvalue()
    )
    assert "1 of 2 lesson files valid" in out.getvalue()


def test_the_cli_runs_lessons_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "two-steps.yaml"
    bad.write_text(EXAMPLE.replace("    play: true\n", "    play: true\n    pause: false\n"))
    with pytest.raises(SystemExit) as info:
        main(["lessons", "check", str(bad)])
    assert info.value.code == 1
    assert "two-steps.yaml, line 15: steps.0.pause: unknown key 'pause'" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["lessons", "check"])  # the shipped lessons
    assert info.value.code == 0, capsys.readouterr().out

"""Reading lesson files: YAML with line numbers, checked by the lesson schema and SessionConfig.

Every problem names the file and the line, e.g.
`xor-hidden-layer.yaml, line 14: steps.1.config.training.learning_rate: Input should be greater
than 0`. The YAML is composed first (nodes keep their marks), then constructed; a pydantic
error's `loc` is walked down the node tree to the deepest key it names, and that key's line is
the one reported.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..config import Settings
from ..schemas import LimitError, SessionConfig, check_limits, merge_config
from .model import Lesson, LessonOut, ResolvedStep

Loc = tuple[str | int, ...]
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


@dataclass(frozen=True)
class LessonProblem:
    """One thing wrong with a lesson file, where it is."""

    file: str
    line: int | None
    loc: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" if self.line is not None else self.file
        return f"{where}: {self.loc}: {self.message}" if self.loc else f"{where}: {self.message}"


class LessonFileError(ValueError):
    """A lesson file that cannot be used; `problems` lists everything found, each with its line."""

    def __init__(self, problems: list[LessonProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


# ---- YAML with marks -------------------------------------------------------------------------


def _duplicate_keys(node: Node, file: str) -> list[LessonProblem]:
    """PyYAML keeps the last of two equal keys without a word; a lesson file must not."""
    problems: list[LessonProblem] = []
    if isinstance(node, MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                line = key.start_mark.line + 1
                if key.value in seen:
                    problems.append(
                        LessonProblem(file, line, "", f"duplicate key {key.value!r} (first on line {seen[key.value]})")
                    )
                seen.setdefault(key.value, line)
            problems += _duplicate_keys(value, file)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            problems += _duplicate_keys(item, file)
    return problems


def parse_yaml(text: str, file: str) -> tuple[Any, Node | None]:
    """The document's data and its node tree; LessonFileError for bad YAML or duplicate keys."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise LessonFileError([LessonProblem(file, 1, "", "the file is empty")])
        problems = _duplicate_keys(node, file)
        if problems:
            raise LessonFileError(problems)
        return loader.construct_document(node), node
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        what = e.problem or e.context or "unreadable"
        if e.context and e.problem:
            started = f" that starts on line {e.context_mark.line + 1}" if e.context_mark else ""
            what = f"{e.problem} ({e.context}{started})"
        raise LessonFileError([LessonProblem(file, line, "", f"invalid YAML: {what}")]) from None
    except yaml.YAMLError as e:
        raise LessonFileError([LessonProblem(file, None, "", f"invalid YAML: {e}")]) from None
    finally:
        loader.dispose()


def line_of(root: Node | None, loc: Loc) -> int | None:
    """The 1-based line of the deepest key (or list item) of `loc` that the file has."""
    if root is None:
        return None
    node, line = root, root.start_mark.line
    for part in loc:
        if isinstance(node, MappingNode):
            match = next((kv for kv in node.value if isinstance(kv[0], ScalarNode) and kv[0].value == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line, match[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line + 1


# ---- validation ------------------------------------------------------------------------------


def _message(error: dict[str, Any]) -> str:
    """pydantic's message, said the way a lesson writer needs it."""
    loc = error["loc"]
    if error["type"] == "extra_forbidden":
        return f"unknown key {loc[-1]!r}"
    if error["type"] == "missing":
        name = loc[-1] if loc else ""
        language = LANGUAGE_NAMES.get(str(name))
        return f"missing the {language} text ({name})" if language else f"missing {name!r}"
    return str(error["msg"]).removeprefix("Value error, ")


def _problems(exc: ValidationError, root: Node | None, file: str, prefix: Loc = ()) -> list[LessonProblem]:
    out = []
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = (*prefix, *error["loc"])
        out.append(LessonProblem(file, line_of(root, loc), ".".join(map(str, loc)), _message(error)))
    return out


def resolve_steps(lesson: Lesson, root: Node | None, file: str, settings: Settings | None) -> list[ResolvedStep]:
    """Every step's full config: its changes merged over the previous step's (step 1 over the defaults)."""
    current = SessionConfig().model_dump()
    steps = []
    for index, step in enumerate(lesson.steps):
        prefix: Loc = ("steps", index, "config")
        changes = step.config or {}
        try:
            config = SessionConfig.model_validate(merge_config(current, changes))
        except ValidationError as e:
            # Later steps build on this one: checking them would repeat its errors.
            raise LessonFileError(_problems(e, root, file, prefix)) from None
        if settings is not None:
            try:
                check_limits(config, settings)
            except LimitError as e:
                loc = (*prefix, *e.loc)
                raise LessonFileError(
                    [LessonProblem(file, line_of(root, loc), ".".join(map(str, loc)), e.message)]
                ) from None
        current = config.model_dump()
        steps.append(ResolvedStep(text=step.text, ask=step.ask, play=step.play, config=config, changes=changes))
    return steps


def load_lesson_text(text: str, file: str, settings: Settings | None = None) -> LessonOut:
    """A lesson from YAML text; `file` names it in errors and must be `<id>.yaml`."""
    data, root = parse_yaml(text, file)
    if not isinstance(data, dict):
        raise LessonFileError([LessonProblem(file, 1, "", "a lesson file is a mapping (id, order, title, ...)")])
    try:
        lesson = Lesson.model_validate(data)
    except ValidationError as e:
        raise LessonFileError(_problems(e, root, file)) from None
    stem = Path(file).stem
    if lesson.id != stem:
        raise LessonFileError(
            [LessonProblem(file, line_of(root, ("id",)), "id", f"id {lesson.id!r} must be the file name ({stem!r})")]
        )
    steps = resolve_steps(lesson, root, file, settings)
    return LessonOut(
        id=lesson.id, order=lesson.order, concept=lesson.concept, title=lesson.title, summary=lesson.summary,
        steps=steps,
    )


def load_lesson_file(path: Path, settings: Settings | None = None) -> LessonOut:
    """A lesson from its file; LessonFileError (each problem with its line) when it is not valid."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LessonFileError([LessonProblem(path.name, None, "", f"cannot read the file: {e}")]) from None
    return load_lesson_text(text, path.name, settings)

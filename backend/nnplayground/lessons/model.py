"""The lesson file's schema: a lesson is a few steps of text in English and Spanish, each with a config.

A step's `config` is a partial SessionConfig, merged over the previous step's (step 1 over the
catalog defaults) and validated by SessionConfig itself (loader.py), so a lesson can set nothing
that a session could not.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..schemas import SessionConfig

LANGUAGES = ("en", "es")
MIN_STEPS, MAX_STEPS = 2, 6


class LessonSpec(BaseModel):
    """Base for the parts of a lesson file: unknown keys are errors (a typo never passes silently)."""

    model_config = ConfigDict(extra="forbid")


class LocalText(LessonSpec):
    """One text in every language the UI speaks."""

    en: str = Field(min_length=1)
    es: str = Field(min_length=1)

    def get(self, language: str) -> str:
        return self.es if language == "es" else self.en


class LessonStep(LessonSpec):
    text: LocalText
    config: dict[str, Any] | None = Field(
        None, description="a partial SessionConfig merged over the previous step's; omitted: keep it"
    )
    play: bool = Field(False, description="start training when the step opens")
    ask: LocalText | None = Field(None, description="what the student should look at or change")


class Lesson(LessonSpec):
    """A lesson as written in its file."""

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)
    order: int = Field(ge=0, description="position in the lessons menu")
    concept: str = Field(min_length=1, max_length=60)
    title: LocalText
    summary: LocalText
    steps: list[LessonStep] = Field(min_length=MIN_STEPS, max_length=MAX_STEPS)


class ResolvedStep(BaseModel):
    """A step as the API serves it: its full config (the previous steps' changes included)."""

    text: LocalText
    ask: LocalText | None
    play: bool
    config: SessionConfig
    changes: dict[str, Any] = Field(description="the partial config the file gives for this step")


class LessonOut(BaseModel):
    """GET /api/lessons/{id}: a lesson with every step's config resolved."""

    id: str
    order: int
    concept: str
    title: LocalText
    summary: LocalText
    steps: list[ResolvedStep]


class LessonSummary(BaseModel):
    """One entry of GET /api/lessons (the menu)."""

    id: str
    order: int
    concept: str
    title: LocalText
    summary: LocalText
    steps: int = Field(description="how many steps the lesson has")


class LessonPosition(BaseModel):
    """Where a session (or a room) stands in a lesson; `step` counts from 1."""

    model_config = ConfigDict(extra="forbid")

    lesson_id: str = Field(min_length=1, max_length=64)
    step: int = Field(1, ge=1, le=MAX_STEPS)

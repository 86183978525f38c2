"""Every lesson a server offers: the shipped ones (`lessons/library/`) and a teacher's folder."""

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from .loader import LessonFileError, LessonProblem, load_lesson_file
from .model import LessonOut, LessonSummary

log = logging.getLogger(__name__)

SHIPPED = Path(__file__).resolve().parent / "library"


def lesson_files(folder: Path) -> list[Path]:
    """A folder's lesson files (`*.yaml`, `*.yml`), by name."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


@dataclass
class LessonLibrary:
    """Lessons by id, and the problems of the files that could not be loaded."""

    lessons: dict[str, LessonOut] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)
    problems: list[LessonProblem] = field(default_factory=list)

    @classmethod
    def load(cls, folders: list[Path], settings: Settings | None = None) -> "LessonLibrary":
        """Load every file of `folders`; a bad file is left out and its problems kept."""
        library = cls()
        for folder in folders:
            for path in lesson_files(folder):
                library.add_file(path, settings)
        return library

    @classmethod
    def for_settings(cls, settings: Settings) -> "LessonLibrary":
        """The shipped lessons plus `settings.lessons_dir`; problems are logged (`lessons check` shows them)."""
        folders = [SHIPPED] + ([settings.lessons_dir] if settings.lessons_dir else [])
        library = cls.load(folders, settings)
        for problem in library.problems:
            log.error("lesson left out: %s", problem)
        return library

    def add_file(self, path: Path, settings: Settings | None = None) -> LessonOut | None:
        try:
            lesson = load_lesson_file(path, settings)
        except LessonFileError as e:
            self.problems += e.problems
            return None
        if lesson.id in self.lessons:
            other = self.sources[lesson.id]
            self.problems.append(
                LessonProblem(path.name, None, "id", f"duplicate lesson id {lesson.id!r}: {other} has it too")
            )
            return None
        self.lessons[lesson.id] = lesson
        self.sources[lesson.id] = path
        return lesson

    def get(self, lesson_id: str) -> LessonOut | None:
        return self.lessons.get(lesson_id)

    def summaries(self) -> list[LessonSummary]:
        """The menu: every lesson in course order."""
        ordered = sorted(self.lessons.values(), key=lambda lesson: (lesson.order, lesson.id))
        return [
            LessonSummary(
                id=x.id, order=x.order, concept=x.concept, title=x.title, summary=x.summary, steps=len(x.steps)
            )
            for x in ordered
        ]

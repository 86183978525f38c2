"""Lessons: short sequences of steps, each with text in English and Spanish and a config to load.

Lessons are data: one YAML file each (`library/<id>.yaml`, plus `Settings.lessons_dir`), checked
by `model.py` and SessionConfig; `nnplayground lessons check FILE...` reports the problems.
"""

from .library import SHIPPED, LessonLibrary, lesson_files
from .loader import LessonFileError, LessonProblem, load_lesson_file, load_lesson_text
from .model import Lesson, LessonOut, LessonPosition, LessonStep, LessonSummary, LocalText, ResolvedStep

__all__ = [
    "SHIPPED", "Lesson", "LessonFileError", "LessonLibrary", "LessonOut", "LessonPosition", "LessonProblem",
    "LessonStep", "LessonSummary", "LocalText", "ResolvedStep", "lesson_files", "load_lesson_file",
    "load_lesson_text",
]

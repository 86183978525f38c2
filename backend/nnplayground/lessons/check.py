"""`nnplayground lessons check [FILE...]`: a teacher's check of lesson files before a class."""

import sys
from pathlib import Path
from typing import TextIO

from ..config import Settings
from .library import SHIPPED, LessonLibrary, lesson_files


def check_lessons(paths: list[Path], settings: Settings, out: TextIO | None = None) -> int:
    """Print each file's verdict (every problem with its line); 0 when all are valid, else 1.

    No paths: the shipped lessons and `settings.lessons_dir`, as the server would load them.
    """
    out = out or sys.stdout
    if not paths:
        paths = lesson_files(SHIPPED) + (lesson_files(settings.lessons_dir) if settings.lessons_dir else [])
    library = LessonLibrary()
    failed = 0
    for path in paths:
        before = len(library.problems)
        lesson = library.add_file(path, settings)
        if lesson is None:
            failed += 1
            for problem in library.problems[before:]:
                print(problem, file=out)
        else:
            print(f"{path.name}: ok ({len(lesson.steps)} steps: {lesson.title.en} / {lesson.title.es})", file=out)
    print(f"{len(paths) - failed} of {len(paths)} lesson files valid", file=out)
    return 1 if failed or not paths else 0

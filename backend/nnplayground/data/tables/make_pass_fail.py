"""Writes pass_fail.csv: the course's "will a student pass?" example, as a small synthetic data set.

The course (Deep Learning, ENES Juriquilla, "Problema de aplicación") predicts whether a student
passes from x1 = the number of classes attended and x2 = the hours spent studying on their own,
but gives no data points. These 100 students are made up, seeded and reproducible:

- a semester of 32 classes; each student has a hidden diligence z ~ N(0, 1) that drives both
  attendance and study, so the two features are correlated, as in real classes;
- classes_attended = round(22 + 5 z + 3 e1), clipped to 0 … 32;
- hours_studied (per week) = 6 + 2 z + 2.5 e2, clipped to 0 … 16, rounded to half hours;
- the student passes when 0.25 · classes_attended + 0.6 · hours_studied + N(0, 1.2²) > 9, so the
  classes overlap near the line 0.25 x1 + 0.6 x2 = 9 and no model is right on every student.

Run `python make_pass_fail.py` in this folder to write the file again; a test checks that the
shipped file is this script's output.
"""

from pathlib import Path

import numpy as np

SEED = 2024
STUDENTS = 100


def rows(seed: int = SEED, n: int = STUDENTS) -> list[tuple[int, float, str]]:
    """(classes_attended, hours_studied, "pass" | "fail") for n made-up students."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    attended = np.clip(np.round(22 + 5 * z + 3 * rng.normal(size=n)), 0, 32).astype(int)
    hours = np.clip(np.round((6 + 2 * z + 2.5 * rng.normal(size=n)) * 2) / 2, 0, 16)
    passed = 0.25 * attended + 0.6 * hours + rng.normal(0, 1.2, size=n) > 9
    return [(int(a), float(h), "pass" if p else "fail") for a, h, p in zip(attended, hours, passed, strict=True)]


def csv_text(seed: int = SEED, n: int = STUDENTS) -> str:
    """The CSV file's text: a header row and one row per student."""
    lines = ["classes_attended,hours_studied,result"]
    lines += [f"{a},{h:g},{r}" for a, h, r in rows(seed, n)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    Path(__file__).with_name("pass_fail.csv").write_text(csv_text(), encoding="utf-8", newline="\n")

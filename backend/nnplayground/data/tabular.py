"""Tabular data (pure numpy): the shipped CSV tables, users' CSV uploads, and the plane they are drawn on.

A Table holds d numeric feature columns and a label (a class index or a value). The network sees
all d columns (standardised or raw, `Projection.inputs`); the plane shows two of them, the others
held at their mean, or the first two principal components (`Projection.plane` / `Projection.lift`).
"""

import csv
import math
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import numpy as np

Problem = Literal["classification", "regression"]
PlaneMode = Literal["features", "pca"]

MAX_FEATURES = 20  # feature columns a table may have
MIN_ROWS = 4  # data rows a table needs at least
MAX_INTEGER_CLASSES = 10  # numeric labels with at most this many distinct integers are classes
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})  # compared lower-case


@dataclass
class Table:
    """A table of d numeric feature columns and one label per row."""

    name: str
    columns: list[str]  # feature names, in the order of x's columns
    x: np.ndarray  # (n, d) float32
    y: np.ndarray  # (n,) float32: class index or value
    class_names: list[str] | None  # class index -> name; None for regression
    problem: Problem

    @property
    def classes(self) -> int:
        """Number of classes (0 for regression)."""
        return len(self.class_names) if self.class_names else 0


@dataclass(frozen=True)
class TableInfo:
    """A shipped table: its CSV file in data/tables/, its label column and a note for people."""

    file: str
    label: str
    title: str
    note: str


TABLES: dict[str, TableInfo] = {
    "iris": TableInfo(
        "iris.csv", "species", "Iris",
        "Fisher's iris: 150 flowers, 4 measurements in cm, 3 species (50 each)",
    ),
    "pass_fail": TableInfo(
        "pass_fail.csv", "result", "Pass or fail",
        "100 made-up students: classes attended and weekly hours of study; pass or fail",
    ),
}


class CsvError(ValueError):
    """A CSV that cannot be read as a table; `line` (1-based, header = 1) and `column` say where."""

    def __init__(self, message: str, line: int | None = None, column: str | None = None) -> None:
        where = ", ".join(
            part for part in (f"line {line}" if line is not None else "",
                              f"column {column!r}" if column is not None else "") if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.message = message
        self.line = line
        self.column = column

    def as_json(self) -> dict[str, object]:
        """The error as JSON: message (with its place), line and column."""
        return {"message": str(self), "line": self.line, "column": self.column}


def load_table(name: str) -> Table:
    """A shipped table by name (see TABLES), read from data/tables/."""
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; choose one of {sorted(TABLES)}")
    info = TABLES[name]
    text = resources.files("nnplayground.data").joinpath("tables", info.file).read_text(encoding="utf-8")
    return parse_csv(text, info.label, max_rows=100_000, max_bytes=10_000_000, name=name)


def _delimiter(header: str) -> str:
    """Comma, or semicolon / tab when the header uses those and no comma (spreadsheets in many locales)."""
    if "," in header:
        return ","
    for d in (";", "\t"):
        if d in header:
            return d
    return ","


def _number(text: str, decimal_comma: bool) -> float | None:
    """The field as a finite float, or None when it is not a number."""
    if decimal_comma:
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_csv(text: str, label: str, max_rows: int, max_bytes: int, name: str = "upload") -> Table:
    """A Table from CSV text: a header row, numeric feature columns and the `label` column.

    The delimiter is a comma (or a semicolon or tab when the header has no comma; semicolon files
    may use decimal commas). Blank lines are skipped. Labels that are not all numbers are class
    names, numbered in sorted order; numeric labels with at most 10 distinct integer values are
    classes too (named by their values, in numeric order); other numeric labels make a regression.
    Raises CsvError naming the line (header = 1) and column of the first problem.
    """
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise CsvError(f"the file has {size} bytes, more than the limit of {max_bytes}")
    text = text.removeprefix("\ufeff")  # a byte-order mark from spreadsheet exports
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise CsvError("the file is empty: it needs a header row and data rows", line=1)
    delimiter = _delimiter(lines[first])
    reader = csv.reader(lines, delimiter=delimiter, skipinitialspace=True)

    header: list[str] | None = None
    label_at = -1
    feature_at: list[int] = []
    rows: list[list[float]] = []
    raw_labels: list[str] = []
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue  # a blank line (or a row of empty cells)
        fields = [f.strip() for f in fields]
        if header is None:
            header = fields
            label_at, feature_at = _check_header(header, label, line)
            continue
        if len(rows) >= max_rows:
            raise CsvError(f"more than {max_rows} data rows (the limit)", line=line)
        if len(fields) != len(header):
            raise CsvError(f"{len(fields)} fields, but the header has {len(header)} ({', '.join(header)})", line=line)
        row = []
        for j in feature_at:
            value = fields[j]
            if value.lower() in MISSING:
                raise CsvError("missing value", line=line, column=header[j])
            number = _number(value, decimal_comma=delimiter == ";")
            if number is None:
                raise CsvError(f"{value!r} is not a number", line=line, column=header[j])
            row.append(number)
        if fields[label_at].lower() in MISSING:
            raise CsvError("missing label", line=line, column=header[label_at])
        rows.append(row)
        raw_labels.append(fields[label_at])

    assert header is not None  # the file has a non-blank line
    if len(rows) < MIN_ROWS:
        raise CsvError(f"{len(rows)} data rows; at least {MIN_ROWS} are needed")
    columns = [header[j] for j in feature_at]
    x = np.asarray(rows, dtype=np.float64).astype(np.float32)
    y, class_names = _labels(raw_labels, decimal_comma=delimiter == ";", column=header[label_at])
    problem: Problem = "regression" if class_names is None else "classification"
    return Table(name=name, columns=columns, x=x, y=y, class_names=class_names, problem=problem)


def _check_header(header: list[str], label: str, line: int) -> tuple[int, list[int]]:
    """(index of the label column, indices of the feature columns) after checking the header row."""
    seen: set[str] = set()
    for j, name in enumerate(header):
        if not name:
            raise CsvError(f"column {j + 1} of the header has no name", line=line)
        if name in seen:
            raise CsvError("the header names this column twice", line=line, column=name)
        seen.add(name)
    label = label.strip()
    if label not in header:
        raise CsvError(f"no label column {label!r}; the columns are {', '.join(header)}", line=line, column=label)
    label_at = header.index(label)
    feature_at = [j for j in range(len(header)) if j != label_at]
    if not feature_at:
        raise CsvError("no feature columns: the table needs at least one besides the label", line=line)
    if len(feature_at) > MAX_FEATURES:
        raise CsvError(f"{len(feature_at)} feature columns; at most {MAX_FEATURES} are allowed", line=line)
    return label_at, feature_at


def _labels(raw: list[str], decimal_comma: bool, column: str) -> tuple[np.ndarray, list[str] | None]:
    """(y, class names or None for regression) from the label column's texts."""
    numbers = [_number(v, decimal_comma) for v in raw]
    if all(v is not None for v in numbers):
        values = np.asarray(numbers, dtype=np.float64)
        distinct = np.unique(values)
        if len(distinct) <= MAX_INTEGER_CLASSES and np.all(distinct == np.round(distinct)):
            if len(distinct) < 2:
                raise CsvError(f"every row has the label {distinct[0]:g}; at least 2 classes are needed",
                               column=column)
            index = np.searchsorted(distinct, values)
            return index.astype(np.float32), [f"{v:g}" for v in distinct]
        return values.astype(np.float32), None
    names = sorted(set(raw))
    if len(names) < 2:
        raise CsvError(f"every row has the label {names[0]!r}; at least 2 classes are needed", column=column)
    lookup = {n: i for i, n in enumerate(names)}
    return np.asarray([lookup[v] for v in raw], dtype=np.float32), names


class Projection:
    """The network inputs of a table (standardised or raw) and the 2-D plane they are drawn on.

    Standardising uses the data's mean and population std (a constant column keeps std 1). The
    plane is two columns `x`, `y` ("features") or the first two principal components of the
    inputs ("pca"). One-column data lies along the plane's horizontal axis (vertical 0).
    """

    def __init__(
        self, data: np.ndarray, standardize: bool = True, mode: PlaneMode = "features", x: int = 0, y: int = 1
    ) -> None:
        data = np.asarray(data, dtype=np.float64)
        if data.ndim != 2 or len(data) < 1:
            raise ValueError(f"data must have shape (n, d) with n >= 1 (got {data.shape})")
        d = data.shape[1]
        if mode not in ("features", "pca"):
            raise ValueError(f"unknown plane mode {mode!r}; choose 'features' or 'pca'")
        if mode == "features" and d == 1 and x != 0:
            raise ValueError(f"plane column x={x} must be 0: the data has one column")
        if mode == "features" and d > 1 and (not (0 <= x < d and 0 <= y < d) or x == y):
            raise ValueError(f"plane columns x={x}, y={y} must be two different columns of 0 … {d - 1}")
        self.standardize = standardize
        self.mode: PlaneMode = mode
        self.x = x
        self.y = y
        self.dims = d
        self.mean = data.mean(axis=0)
        std = data.std(axis=0)
        self.std = np.where(std > 0, std, 1.0)  # a constant column stays as it is (centred)
        inputs = self._inputs64(data)
        # The centre of the inputs: 0 when standardised, the column means otherwise.
        self.centre = inputs.mean(axis=0)
        self.components = np.zeros((2, d))
        if mode == "pca":
            _, _, vt = np.linalg.svd(inputs - self.centre, full_matrices=False)
            pcs = vt[:2]
            # Deterministic signs: each component's largest entry (the first, on ties) is positive.
            big = np.argmax(np.abs(pcs), axis=1)
            pcs = pcs * np.where(pcs[np.arange(len(pcs)), big] < 0, -1.0, 1.0)[:, None]
            self.components[: len(pcs)] = pcs  # one column (or one point): the second stays 0
        half = float(np.abs(self._plane64(inputs)).max()) * 1.1
        self._extent = max(half, 1.0)

    @classmethod
    def of_table(
        cls, table: Table, standardize: bool = True, mode: PlaneMode = "features", x: int = 0, y: int = 1
    ) -> "Projection":
        """The projection of a table's feature columns."""
        return cls(table.x, standardize=standardize, mode=mode, x=x, y=y)

    def _inputs64(self, raw: np.ndarray) -> np.ndarray:
        """inputs() in float64."""
        raw = np.asarray(raw, dtype=np.float64)
        return (raw - self.mean) / self.std if self.standardize else raw

    def _plane64(self, inputs: np.ndarray) -> np.ndarray:
        """plane() in float64."""
        inputs = np.asarray(inputs, dtype=np.float64)
        if self.mode == "features":
            if self.dims == 1:  # one column: it runs along the horizontal axis, the vertical is 0
                return np.concatenate([inputs, np.zeros_like(inputs)], axis=1)
            return inputs[:, [self.x, self.y]]
        return (inputs - self.centre) @ self.components.T

    def inputs(self, x_raw: np.ndarray) -> np.ndarray:
        """(n, d) float32 network inputs of raw rows: standardised with the data's mean and std, or raw."""
        x_raw = np.asarray(x_raw)
        if x_raw.ndim != 2 or x_raw.shape[1] != self.dims:
            raise ValueError(f"rows must have shape (n, {self.dims}) (got {x_raw.shape})")
        return self._inputs64(x_raw).astype(np.float32)

    def plane(self, inputs: np.ndarray) -> np.ndarray:
        """(n, 2) float32 plane coordinates of network inputs: the two columns, or the first two PCs."""
        inputs = np.asarray(inputs)
        if inputs.ndim != 2 or inputs.shape[1] != self.dims:
            raise ValueError(f"inputs must have shape (n, {self.dims}) (got {inputs.shape})")
        return self._plane64(inputs).astype(np.float32)

    def lift(self, plane_points: np.ndarray) -> np.ndarray:
        """(m, d) float32 network inputs for plane points: other columns at their mean, or centre + u·pc1 + v·pc2."""
        uv = np.asarray(plane_points, dtype=np.float64)
        if uv.ndim != 2 or uv.shape[1] != 2:
            raise ValueError(f"plane points must have shape (m, 2) (got {uv.shape})")
        if self.mode == "features":
            out = np.repeat(self.centre[None, :], len(uv), axis=0)
            out[:, self.x] = uv[:, 0]
            if self.dims > 1:
                out[:, self.y] = uv[:, 1]
        else:
            out = self.centre + uv @ self.components
        return out.astype(np.float32)

    def extent(self) -> float:
        """Half-width of a square plane [-e, e]² that covers the data with a 10 % margin (at least 1)."""
        return self._extent

    def as_json(self) -> dict[str, object]:
        """The projection's settings and numbers, as plain JSON."""
        return {
            "mode": self.mode, "x": self.x, "y": self.y, "standardize": self.standardize,
            "mean": self.mean.tolist(), "std": self.std.tolist(),
            "components": self.components.tolist() if self.mode == "pca" else None,
            "extent": self._extent,
        }

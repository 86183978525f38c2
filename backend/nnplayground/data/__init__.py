"""Data sets, input features and tables (shipped CSVs, uploads), pure numpy."""

from .datasets import EXTENT, GENERATORS, MULTI_CLASS, generate, split, split3
from .features import FEATURE_FUNCTIONS, feature_matrix, grid_points
from .tabular import TABLES, CsvError, Projection, Table, load_table, parse_csv

__all__ = [
    "EXTENT",
    "TABLES",
    "CsvError",
    "Projection",
    "Table",
    "load_table",
    "parse_csv",
    "FEATURE_FUNCTIONS",
    "GENERATORS",
    "MULTI_CLASS",
    "feature_matrix",
    "generate",
    "grid_points",
    "split",
    "split3",
]

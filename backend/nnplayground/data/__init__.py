"""Data sets and input features, pure numpy."""

from .datasets import EXTENT, GENERATORS, MULTI_CLASS, generate, split, split3
from .features import FEATURE_FUNCTIONS, feature_matrix, grid_points

__all__ = [
    "EXTENT",
    "FEATURE_FUNCTIONS",
    "GENERATORS",
    "MULTI_CLASS",
    "feature_matrix",
    "generate",
    "grid_points",
    "split",
    "split3",
]

"""Data sets and input features, pure numpy."""

from .datasets import EXTENT, GENERATORS, generate, split
from .features import FEATURE_FUNCTIONS, feature_matrix, grid_points

__all__ = ["EXTENT", "FEATURE_FUNCTIONS", "GENERATORS", "feature_matrix", "generate", "grid_points", "split"]

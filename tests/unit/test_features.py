"""Input features and the prediction grid."""

import math

import numpy as np
import pytest

from nnplayground import catalog
from nnplayground.data import FEATURE_FUNCTIONS, feature_matrix, grid_points

POINTS = np.array([[1.0, 2.0], [-3.0, 0.5], [0.0, -6.0]], dtype=np.float32)


def test_functions_match_catalog():
    assert set(FEATURE_FUNCTIONS) == set(catalog.FEATURES)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("x1", [1.0, -3.0, 0.0]),
        ("x2", [2.0, 0.5, -6.0]),
        ("x1^2", [1.0, 9.0, 0.0]),
        ("x2^2", [4.0, 0.25, 36.0]),
        ("x1x2", [2.0, -1.5, 0.0]),
        ("sin_x1", [math.sin(1.0), math.sin(-3.0), 0.0]),
        ("sin_x2", [math.sin(2.0), math.sin(0.5), math.sin(-6.0)]),
        ("cos_x1", [math.cos(1.0), math.cos(-3.0), 1.0]),
        ("cos_x2", [math.cos(2.0), math.cos(0.5), math.cos(-6.0)]),
    ],
)
def test_feature_values(name, expected):
    got = feature_matrix(POINTS, [name])
    assert got.shape == (3, 1)
    np.testing.assert_allclose(got[:, 0], expected, rtol=1e-6, atol=1e-7)


def test_all_features_shape_dtype_and_order():
    names = list(catalog.FEATURES)
    m = feature_matrix(POINTS, names)
    assert m.shape == (3, len(names))
    assert m.dtype == np.float32
    for j, name in enumerate(names):
        np.testing.assert_array_equal(m[:, j], feature_matrix(POINTS, [name])[:, 0])


def test_columns_follow_given_order():
    m = feature_matrix(POINTS, ["x2", "x1"])
    np.testing.assert_array_equal(m, POINTS[:, ::-1])


def test_float64_input_gives_float32():
    assert feature_matrix(POINTS.astype(np.float64), ["x1x2"]).dtype == np.float32


def test_unknown_feature_raises():
    with pytest.raises(ValueError, match="unknown features"):
        feature_matrix(POINTS, ["x1", "x3"])


def test_wrong_shape_raises():
    with pytest.raises(ValueError, match="shape"):
        feature_matrix(np.zeros((4, 3), dtype=np.float32), ["x1"])


def test_grid_points_shape_and_corners():
    g = grid_points(5)
    assert g.shape == (25, 2) and g.dtype == np.float32
    np.testing.assert_array_equal(g[0], [-6, -6])
    np.testing.assert_array_equal(g[4], [6, -6])  # end of row 0: x runs along a row
    np.testing.assert_array_equal(g[20], [-6, 6])  # start of the last row
    np.testing.assert_array_equal(g[24], [6, 6])


def test_grid_points_row_major_ordering():
    res = 7
    axis = np.linspace(-6, 6, res)
    g = grid_points(res)
    for r in range(res):
        for c in range(res):
            np.testing.assert_allclose(g[r * res + c], [axis[c], axis[r]], atol=1e-6)


def test_grid_points_extent():
    g = grid_points(3, extent=2.0)
    np.testing.assert_array_equal(np.unique(g[:, 0]), [-2, 0, 2])
    np.testing.assert_array_equal(g[3:6], [[-2, 0], [0, 0], [2, 0]])


def test_cos_features_follow_sin_in_the_catalog():
    names = list(catalog.FEATURES)
    assert names.index("cos_x1") == names.index("sin_x2") + 1
    assert names.index("cos_x2") == names.index("cos_x1") + 1
    assert catalog.FEATURES["cos_x1"].label == "cos(X₁)"


def test_cos_hand_values():
    pts = np.array([[0.0, np.pi], [np.pi / 2, np.pi / 3], [np.pi / 3, -np.pi]], dtype=np.float64)
    got = feature_matrix(pts, ["cos_x1", "cos_x2"])
    np.testing.assert_allclose(got, [[1.0, -1.0], [0.0, 0.5], [0.5, -1.0]], atol=1e-6)

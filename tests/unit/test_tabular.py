"""Tables: the shipped CSVs, parse_csv and its errors, and the Projection onto the plane."""

import runpy
import tomllib
from pathlib import Path

import numpy as np
import pytest

from nnplayground.data import TABLES, CsvError, Projection, Table, load_table, parse_csv, tabular

ROOT = Path(__file__).resolve().parents[2]
TABLES_DIR = Path(tabular.__file__).with_name("tables")

IRIS_COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def parse(text: str, label: str = "y", max_rows: int = 1000, max_bytes: int = 100_000) -> Table:
    return parse_csv(text, label, max_rows=max_rows, max_bytes=max_bytes)


def error(text: str, label: str = "y", max_rows: int = 1000, max_bytes: int = 100_000) -> CsvError:
    with pytest.raises(CsvError) as info:
        parse(text, label, max_rows, max_bytes)
    assert isinstance(info.value, ValueError)
    return info.value


# The shipped tables.


def test_iris_loads():
    t = load_table("iris")
    assert t.name == "iris"
    assert t.columns == IRIS_COLUMNS
    assert t.x.shape == (150, 4) and t.x.dtype == np.float32
    assert t.y.shape == (150,) and t.y.dtype == np.float32
    assert t.problem == "classification"
    assert t.class_names == ["setosa", "versicolor", "virginica"]
    assert t.classes == 3
    np.testing.assert_array_equal(np.bincount(t.y.astype(int)), [50, 50, 50])


def test_iris_known_rows():
    t = load_table("iris")
    # First rows of each species and the last row, as in Fisher's paper (and R, and scikit-learn).
    np.testing.assert_allclose(t.x[0], [5.1, 3.5, 1.4, 0.2], rtol=1e-6)
    np.testing.assert_allclose(t.x[50], [7.0, 3.2, 4.7, 1.4], rtol=1e-6)
    np.testing.assert_allclose(t.x[100], [6.3, 3.3, 6.0, 2.5], rtol=1e-6)
    np.testing.assert_allclose(t.x[149], [5.9, 3.0, 5.1, 1.8], rtol=1e-6)
    assert [t.y[0], t.y[50], t.y[100], t.y[149]] == [0, 1, 2, 2]
    # Rows 35 and 38, where UCI's copy has two errors.
    np.testing.assert_allclose(t.x[34], [4.9, 3.1, 1.5, 0.2], rtol=1e-6)
    np.testing.assert_allclose(t.x[37], [4.9, 3.6, 1.4, 0.1], rtol=1e-6)


def test_iris_summary_statistics():
    t = load_table("iris")
    np.testing.assert_allclose(t.x.mean(axis=0), [5.8433, 3.0573, 3.758, 1.1993], atol=1e-3)
    np.testing.assert_allclose(t.x.min(axis=0), [4.3, 2.0, 1.0, 0.1], atol=1e-6)
    np.testing.assert_allclose(t.x.max(axis=0), [7.9, 4.4, 6.9, 2.5], atol=1e-6)


def test_pass_fail_loads():
    t = load_table("pass_fail")
    assert t.columns == ["classes_attended", "hours_studied"]
    assert t.x.shape == (100, 2)
    assert t.class_names == ["fail", "pass"]
    assert t.problem == "classification"
    counts = np.bincount(t.y.astype(int))
    assert counts.min() >= 30  # both outcomes are common
    attended, hours = t.x[:, 0], t.x[:, 1]
    assert (attended >= 0).all() and (attended <= 32).all() and (attended == np.round(attended)).all()
    assert (hours >= 0).all() and (hours <= 16).all()
    # More classes and more study go with passing.
    passed = t.y == 1
    assert attended[passed].mean() > attended[~passed].mean()
    assert hours[passed].mean() > hours[~passed].mean()


def test_pass_fail_is_the_scripts_output():
    script = runpy.run_path(str(TABLES_DIR / "make_pass_fail.py"))
    assert (TABLES_DIR / "pass_fail.csv").read_text(encoding="utf-8") == script["csv_text"]()


def test_every_table_loads_and_ships():
    for name, info in TABLES.items():
        t = load_table(name)
        assert t.name == name and len(t.y) == len(t.x) and t.classes >= 2
        assert (TABLES_DIR / info.file).is_file()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "data/tables/*.csv" in package_data["nnplayground"]


def test_unknown_table():
    with pytest.raises(ValueError, match="unknown table"):
        load_table("titanic")


# parse_csv: what it reads.


def test_parse_string_labels_are_sorted_classes():
    t = parse("a,b,y\n1,2,dog\n3,4,cat\n5,6,dog\n7,8,emu\n")
    assert t.columns == ["a", "b"]
    assert t.class_names == ["cat", "dog", "emu"]
    np.testing.assert_array_equal(t.y, [1, 0, 1, 2])
    np.testing.assert_array_equal(t.x, [[1, 2], [3, 4], [5, 6], [7, 8]])
    assert t.problem == "classification" and t.name == "upload"
    assert t.x.dtype == np.float32 and t.y.dtype == np.float32


def test_parse_label_column_anywhere_and_name():
    t = parse_csv("y,a,b\nx,1,2\nz,3,4\nx,5,6\nz,7,8\n", "y", max_rows=10, max_bytes=1000, name="mine")
    assert t.name == "mine" and t.columns == ["a", "b"]
    np.testing.assert_array_equal(t.y, [0, 1, 0, 1])


def test_parse_integer_labels_are_classes_in_numeric_order():
    t = parse("a,y\n1,10\n2,2\n3,10\n4,-1\n5,2.0\n")
    assert t.problem == "classification"
    assert t.class_names == ["-1", "2", "10"]
    np.testing.assert_array_equal(t.y, [2, 1, 2, 0, 1])


def test_parse_ten_integer_values_are_classes_eleven_are_a_regression():
    rows = "".join(f"{i},{i % 10}\n" for i in range(20))
    assert parse("a,y\n" + rows).classes == 10
    rows = "".join(f"{i},{i % 11}\n" for i in range(22))
    t = parse("a,y\n" + rows)
    assert t.problem == "regression" and t.class_names is None and t.classes == 0
    np.testing.assert_array_equal(t.y, [i % 11 for i in range(22)])


def test_parse_fractional_labels_are_a_regression():
    t = parse("a,b,y\n1,2,0.5\n3,4,1.5\n5,6,0.5\n7,8,-2.25\n")
    assert t.problem == "regression" and t.class_names is None
    np.testing.assert_allclose(t.y, [0.5, 1.5, 0.5, -2.25])


def test_parse_tolerates_bom_crlf_blank_lines_spaces_and_quotes():
    text = '\ufeffa, "b" ,y\r\n\r\n1, 2.5,cat\r\n 3,"4",dog\r\n,,\r\n5,6e-1,cat\r\n7,-8,dog\r\n\r\n'
    t = parse(text)
    assert t.columns == ["a", "b"]
    np.testing.assert_allclose(t.x, [[1, 2.5], [3, 4], [5, 0.6], [7, -8]])
    np.testing.assert_array_equal(t.y, [0, 1, 0, 1])


def test_parse_semicolons_with_decimal_commas():
    t = parse("a;b;y\n1,5;2;si\n3;4,25;no\n5;6;si\n7;8;no\n")
    np.testing.assert_allclose(t.x, [[1.5, 2], [3, 4.25], [5, 6], [7, 8]])
    assert t.class_names == ["no", "si"]


def test_parse_constant_column_is_fine():
    t = parse("a,c,y\n1,5,p\n2,5,q\n3,5,p\n4,5,q\n")
    np.testing.assert_array_equal(t.x[:, 1], [5, 5, 5, 5])


def test_parse_limits_are_inclusive():
    text = "a,y\n1,p\n2,q\n3,p\n4,q\n"
    assert len(parse(text, max_rows=4, max_bytes=len(text)).y) == 4
    t = parse("y," + ",".join(f"f{i}" for i in range(20)) + "\n" + "".join(f"{i % 2}," + ",".join(["1"] * 20) + "\n"
                                                                         for i in range(4)))
    assert t.x.shape == (4, 20)


# parse_csv: its errors, each with the line (header = 1) and column.


def test_error_empty_file():
    for text in ("", "\n\n", "  \r\n"):
        e = error(text)
        assert (e.line, e.column) == (1, None)
        assert "empty" in str(e)


def test_error_missing_label_column_lists_the_columns():
    e = error("a,b,c\n1,2,3\n", label="species")
    assert (e.line, e.column) == (1, "species")
    assert "a, b, c" in str(e) and "line 1" in str(e) and "'species'" in str(e)


def test_error_non_numeric_feature():
    e = error("a,b,y\n1,2,p\n3,4,q\n5,five,p\n7,8,q\n")
    assert (e.line, e.column) == (4, "b")
    assert str(e) == "line 4, column 'b': 'five' is not a number"
    assert e.as_json() == {"message": str(e), "line": 4, "column": "b"}


def test_error_infinite_feature():
    e = error("a,b,y\n1,inf,p\n3,4,q\n5,6,p\n7,8,q\n")
    assert (e.line, e.column) == (2, "b") and "not a number" in str(e)


@pytest.mark.parametrize("missing", ["", "NA", "nan", "?", "null"])
def test_error_missing_feature_value(missing):
    e = error(f"a,b,y\n1,2,p\n3,4,q\n{missing},6,p\n7,8,q\n")
    assert (e.line, e.column) == (4, "a")
    assert "missing value" in str(e) and "line 4" in str(e) and "'a'" in str(e)


def test_error_missing_label():
    e = error("a,b,y\n1,2,p\n3,4,\n5,6,p\n7,8,q\n")
    assert (e.line, e.column) == (3, "y") and "missing label" in str(e)


@pytest.mark.parametrize("row", ["1,2", "1,2,p,9"])
def test_error_wrong_number_of_fields(row):
    e = error(f"a,b,y\n1,2,p\n\n{row}\n5,6,p\n7,8,q\n")
    assert (e.line, e.column) == (4, None)  # the blank line 3 still counts
    assert f"{len(row.split(','))} fields" in str(e) and "header has 3 (a, b, y)" in str(e)


def test_error_too_many_rows():
    text = "a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(10))
    e = error(text, max_rows=6)
    assert (e.line, e.column) == (8, None)  # data row 7 is on line 8
    assert "more than 6" in str(e)


def test_error_too_large():
    text = "a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(10))
    e = error(text, max_bytes=len(text) - 1)
    assert (e.line, e.column) == (None, None)
    assert str(len(text)) in str(e) and str(len(text) - 1) in str(e)
    # Bytes, not characters: ä is two bytes in UTF-8.
    text = "ä,y\n1,p\n2,q\n3,p\n4,q\n"
    error(text, max_bytes=len(text))


def test_error_fewer_than_four_rows():
    e = error("a,y\n1,p\n2,q\n3,p\n")
    assert (e.line, e.column) == (None, None) and "3 data rows" in str(e) and "at least 4" in str(e)
    assert error("a,y\n").message.startswith("0 data rows")


@pytest.mark.parametrize("labels", [["p", "p", "p", "p"], ["1", "1", "1.0", "1"]])
def test_error_fewer_than_two_classes(labels):
    text = "a,y\n" + "".join(f"{i},{lab}\n" for i, lab in enumerate(labels))
    e = error(text)
    assert (e.line, e.column) == (None, "y") and "at least 2 classes" in str(e)


def test_error_too_many_features():
    header = ",".join(f"f{i}" for i in range(21)) + ",y"
    e = error(header + "\n" + ("1," * 21 + "p\n") * 4)
    assert (e.line, e.column) == (1, None) and "21 feature columns" in str(e) and "at most 20" in str(e)


def test_error_no_feature_columns():
    e = error("y\np\nq\np\nq\n")
    assert (e.line, e.column) == (1, None) and "no feature columns" in str(e)


def test_error_header_problems():
    e = error("a,a,y\n1,2,p\n")
    assert (e.line, e.column) == (1, "a") and "twice" in str(e)
    e = error("a,,y\n1,2,p\n")
    assert (e.line, e.column) == (1, None) and "column 2" in str(e)
    e = error("\n\na,,y\n1,2,p\n")  # the header is the first non-blank line
    assert e.line == 3


# Projection.


def data(n: int = 200, d: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d))
    return (rng.normal(size=(n, d)) @ mix * [1, 2, 3, 4][:d] + [10, -5, 0, 100][:d]).astype(np.float32)


def test_standardised_inputs_have_mean_zero_std_one():
    x = data()
    p = Projection(x)
    assert p.standardize and p.mode == "features" and (p.x, p.y) == (0, 1)
    z = p.inputs(x)
    assert z.shape == x.shape and z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-5)
    np.testing.assert_allclose(p.mean, x.astype(np.float64).mean(axis=0), rtol=1e-9)
    # New rows use the stored mean and std.
    np.testing.assert_allclose(p.inputs(x[:3] + p.std.astype(np.float32)), z[:3] + 1, atol=1e-4)


def test_raw_inputs_are_the_data():
    x = data()
    p = Projection(x, standardize=False)
    np.testing.assert_array_equal(p.inputs(x), x)


def test_constant_column_keeps_std_one():
    x = np.array([[1, 5], [2, 5], [3, 5], [4, 5]], dtype=np.float32)
    p = Projection(x)
    assert p.std[1] == 1.0
    np.testing.assert_array_equal(p.inputs(x)[:, 1], 0)


@pytest.mark.parametrize("standardize", [True, False])
def test_features_mode_plane_and_lift(standardize):
    x = data()
    p = Projection(x, standardize=standardize, mode="features", x=2, y=0)
    z = p.inputs(x)
    np.testing.assert_array_equal(p.plane(z), z[:, [2, 0]])
    uv = np.array([[0.5, -1.0], [2.0, 3.0], [0.0, 0.0]], dtype=np.float32)
    lifted = p.lift(uv)
    assert lifted.shape == (3, 4) and lifted.dtype == np.float32
    np.testing.assert_allclose(p.plane(lifted), uv, atol=1e-6)  # round trip
    # The other columns sit at their mean: 0 when standardised, the raw means otherwise.
    others = lifted[:, [1, 3]]
    want = np.zeros(2) if standardize else x.astype(np.float64).mean(axis=0)[[1, 3]]
    np.testing.assert_allclose(others, np.broadcast_to(want, others.shape), rtol=1e-6, atol=1e-6)
    # A row whose other columns are at their mean comes back from lift(plane(row)).
    row = z[:1].copy()
    row[:, [1, 3]] = want
    np.testing.assert_allclose(p.lift(p.plane(row)), row, rtol=1e-6, atol=1e-5)


def test_pca_of_iris_orders_variance_and_matches_known_components():
    t = load_table("iris")
    p = Projection.of_table(t, mode="pca")
    plane = p.plane(p.inputs(t.x)).astype(np.float64)
    var = plane.var(axis=0)
    assert var[0] >= var[1]
    # Standardised iris: the first two components explain 73 % and 23 % of the variance 4.
    np.testing.assert_allclose(var / 4, [0.7296, 0.2285], atol=1e-3)
    np.testing.assert_allclose(plane.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(np.corrcoef(plane.T)[0, 1], 0, atol=1e-5)  # uncorrelated
    np.testing.assert_allclose(p.components[0], [0.5211, -0.2693, 0.5804, 0.5649], atol=1e-3)
    np.testing.assert_allclose(p.components[1], [0.3774, 0.9233, 0.0245, 0.0669], atol=1e-3)
    np.testing.assert_allclose(p.components @ p.components.T, np.eye(2), atol=1e-9)


def test_pca_signs_are_deterministic():
    x = data()
    p = Projection(x, mode="pca")
    q = Projection(x[::-1].copy(), mode="pca")  # the same rows in another order
    np.testing.assert_allclose(p.components, q.components, atol=1e-6)
    for pc in p.components:
        assert pc[np.argmax(np.abs(pc))] > 0
    # Flipping every row's sign flips the data, not the components' sign convention.
    r = Projection(-x, mode="pca")
    for pc in r.components:
        assert pc[np.argmax(np.abs(pc))] > 0


@pytest.mark.parametrize("standardize", [True, False])
def test_pca_lift_of_plane_is_the_projection_onto_the_pc_plane(standardize):
    t = load_table("iris")
    p = Projection(t.x, standardize=standardize, mode="pca")
    z = p.inputs(t.x).astype(np.float64)
    centred = z - z.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    onto = z.mean(axis=0) + centred @ vt[:2].T @ vt[:2]
    np.testing.assert_allclose(p.lift(p.plane(z)), onto, atol=1e-4)
    # And plane(lift(uv)) is uv: lift is plane's inverse on the plane.
    uv = np.array([[1.0, -2.0], [0.0, 0.5]])
    np.testing.assert_allclose(p.plane(p.lift(uv)), uv, atol=1e-5)


@pytest.mark.parametrize("standardize", [True, False])
def test_pca_of_two_columns_is_a_rotation(standardize):
    x = data(d=2)
    p = Projection(x, standardize=standardize, mode="pca")
    z = p.inputs(x)
    rtol = 1e-5 if standardize else 1e-4
    np.testing.assert_allclose(p.lift(p.plane(z)), z, rtol=rtol, atol=1e-4)
    # Distances from the centre are kept.
    centred = z.astype(np.float64) - p.centre
    np.testing.assert_allclose(np.hypot(*p.plane(z).T), np.hypot(*centred.T), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["features", "pca"])
def test_extent_covers_the_data_with_a_margin(mode):
    x = data()
    p = Projection(x, mode=mode)
    widest = np.abs(p.plane(p.inputs(x)).astype(np.float64)).max()
    assert p.extent() == pytest.approx(1.1 * widest, rel=1e-6)
    assert isinstance(p.extent(), float)


def test_extent_is_at_least_one():
    x = np.array([[0.0, 0.1], [0.1, 0.0], [0.05, 0.05], [0.0, 0.0]], dtype=np.float32)
    assert Projection(x, standardize=False).extent() == 1.0


def test_one_column_lies_on_the_horizontal_axis():
    x = np.array([[1.0], [2.0], [3.0], [6.0]], dtype=np.float32)
    for mode in ("features", "pca"):
        p = Projection(x, mode=mode)
        plane = p.plane(p.inputs(x))
        np.testing.assert_array_equal(plane[:, 1], 0)
        np.testing.assert_allclose(np.abs(plane[:, 0]), np.abs(p.inputs(x)[:, 0]), atol=1e-6)
        np.testing.assert_allclose(p.plane(p.lift(np.array([[0.7, 3.0]]))), [[0.7, 0.0]], atol=1e-6)


def test_projection_rejects_bad_settings():
    x = data()
    with pytest.raises(ValueError, match="different columns"):
        Projection(x, x=1, y=1)
    with pytest.raises(ValueError, match="different columns"):
        Projection(x, x=0, y=4)
    with pytest.raises(ValueError, match="mode"):
        Projection(x, mode="tsne")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shape"):
        Projection(x[:, 0])
    p = Projection(x)
    with pytest.raises(ValueError, match="shape"):
        p.inputs(x[:, :3])
    with pytest.raises(ValueError, match="shape"):
        p.lift(np.zeros((3, 3)))


def test_as_json():
    p = Projection(load_table("iris").x, mode="pca")
    out = p.as_json()
    assert out["mode"] == "pca" and out["standardize"] is True
    assert len(out["mean"]) == 4 and len(out["components"]) == 2 and out["extent"] == p.extent()
    assert Projection(load_table("iris").x).as_json()["components"] is None

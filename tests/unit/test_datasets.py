"""Data-set generators: shapes, labels, ranges, determinism, noise, splits, TF geometry."""

import numpy as np
import pytest

from nnplayground import catalog
from nnplayground.data import GENERATORS, MULTI_CLASS, TABLES, generate, split, split3

# The generated (2-D) data sets; tables and the user's own data have no generator.
ALL = [n for n in catalog.DATASETS if n in GENERATORS]
CLASSIFY = [n for n in ALL if catalog.DATASETS[n].problem == "classification"]
REGRESS = [n for n in ALL if catalog.DATASETS[n].problem == "regression"]
BINARY = [n for n in CLASSIFY if catalog.DATASETS[n].classes == 2]  # two classes unless asked for more
NEW = ["moons", "checkerboard", "rings", "sine", "ripple"]


def test_generators_match_catalog():
    assert set(GENERATORS) <= set(catalog.DATASETS)
    assert set(catalog.DATASETS) - set(GENERATORS) <= set(TABLES) | {"custom"}
    assert set(NEW) <= set(ALL)


def test_problem_lists_are_not_empty():
    assert CLASSIFY and REGRESS


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("n", [10, 11, 500])
def test_shape_and_dtype(name, n):
    points, labels = generate(name, n, 25, seed=3)
    assert points.shape == (n, 2)
    assert labels.shape == (n,)
    assert points.dtype == np.float32
    assert labels.dtype == np.float32
    assert np.isfinite(points).all() and np.isfinite(labels).all()


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("noise", [0, 50])
def test_points_within_extent(name, noise):
    points, _ = generate(name, 1000, noise, seed=1)
    assert points.min() >= -6.0 and points.max() <= 6.0


@pytest.mark.parametrize("name", BINARY)
def test_classification_noise_free_labels_are_binary_and_balanced(name):
    _, labels = generate(name, 1000, 0, seed=2)
    assert set(np.unique(labels).tolist()) == {0.0, 1.0}
    if name == "xor":
        assert 0.45 < labels.mean() < 0.55  # uniform over the square: half by area
    else:
        assert int(labels.sum()) == 500  # TF makes n/2 points of each class


@pytest.mark.parametrize("name", BINARY)
def test_classification_noisy_labels_keep_both_classes(name):
    _, labels = generate(name, 1000, 50, seed=2)
    assert set(np.unique(labels).tolist()) == {0.0, 1.0}
    # Label noise flips points near the boundary; in TF's circle it mostly pushes the disc out.
    assert 0.25 < labels.mean() < 0.75


@pytest.mark.parametrize("name", ["gauss", "spiral", "moons"])
def test_position_noise_keeps_exact_halves(name):
    _, labels = generate(name, 501, 50, seed=0)
    assert int(labels.sum()) == 251  # odd n: class 1 gets the extra point


@pytest.mark.parametrize("name", REGRESS)
def test_regression_labels_are_real_and_bounded(name):
    _, labels = generate(name, 1000, 0, seed=4)
    assert len(np.unique(labels)) > 100
    assert np.abs(labels).max() <= 1.2 + 1e-6
    assert labels.min() < -0.5 and labels.max() > 0.5


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_data(name):
    a = generate(name, 200, 30, seed=123)
    b = generate(name, 200, 30, seed=123)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("name", ALL)
def test_different_seed_different_points(name):
    a, _ = generate(name, 200, 30, seed=1)
    b, _ = generate(name, 200, 30, seed=2)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("name", ALL)
def test_noise_changes_data(name):
    p0, y0 = generate(name, 500, 0, seed=7)
    p1, y1 = generate(name, 500, 50, seed=7)
    assert not (np.array_equal(p0, p1) and np.array_equal(y0, y1))


@pytest.mark.parametrize("name", ["circle", "xor", "plane", "multi-gauss", "checkerboard", "sine", "ripple"])
def test_label_noise_keeps_points_and_changes_labels(name):
    # As in TF, noise here is applied where the label is read, not to the point.
    p0, y0 = generate(name, 500, 0, seed=7)
    p1, y1 = generate(name, 500, 50, seed=7)
    np.testing.assert_array_equal(p0, p1)
    assert not np.array_equal(y0, y1)


@pytest.mark.parametrize("name", ["gauss", "spiral", "moons", "rings"])
def test_position_noise_moves_points(name):
    p0, _ = generate(name, 500, 0, seed=7)
    p1, _ = generate(name, 500, 50, seed=7)
    assert np.abs(p0 - p1).max() > 0.1


def test_order_is_shuffled():
    _, labels = generate("circle", 200, 0, seed=0)
    # Unshuffled, TF's order is all of class 1 then all of class 0.
    assert labels[:100].mean() not in (0.0, 1.0)


def test_circle_noise_free_is_separable_by_radius():
    points, labels = generate("circle", 1000, 0, seed=5)
    r = np.hypot(points[:, 0], points[:, 1])
    assert (r[labels == 1] <= 2.5 + 1e-5).all()
    assert (r[labels == 0] >= 3.5 - 1e-5).all()
    assert (r <= 5.0 + 1e-5).all()


def test_xor_noise_free_labels_by_quadrant_with_padding():
    points, labels = generate("xor", 1000, 0, seed=5)
    np.testing.assert_array_equal(labels, (points[:, 0] * points[:, 1] >= 0).astype(np.float32))
    assert np.abs(points).min() >= 0.3 - 1e-6
    assert np.abs(points).max() <= 5.3 + 1e-6


def test_gauss_class_centres():
    points, labels = generate("gauss", 2000, 0, seed=5)
    np.testing.assert_allclose(points[labels == 1].mean(axis=0), [2, 2], atol=0.15)
    np.testing.assert_allclose(points[labels == 0].mean(axis=0), [-2, -2], atol=0.15)
    # Noise 0 gives TF's variance 0.5.
    assert points[labels == 1].var(axis=0) == pytest.approx([0.5, 0.5], rel=0.15)


def test_gauss_noise_widens_clouds():
    p0, y0 = generate("gauss", 2000, 0, seed=5)
    p1, y1 = generate("gauss", 2000, 50, seed=5)
    assert p1[y1 == 1].std() > 2 * p0[y0 == 1].std()


def test_spiral_noise_free_arms_follow_tf_formula():
    points, labels = generate("spiral", 200, 0, seed=5)
    i = np.arange(100) / 100
    r, t = i * 5, 1.75 * i * 2 * np.pi
    arm1 = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
    got1 = points[labels == 1]
    got0 = points[labels == 0]
    # Compare as sets: the order is shuffled.
    np.testing.assert_allclose(got1[np.lexsort(got1.T)], arm1[np.lexsort(arm1.T)], atol=1e-5)
    np.testing.assert_allclose(got0[np.lexsort(got0.T)], -arm1[np.lexsort(-arm1.T)], atol=1e-5)


def test_plane_noise_free_label():
    points, labels = generate("plane", 500, 0, seed=5)
    np.testing.assert_allclose(labels, (points[:, 0] + points[:, 1]) / 10, atol=1e-6)


def test_multi_gauss_noise_free_peaks_and_zero_between():
    points, labels = generate("multi-gauss", 5000, 0, seed=5)
    centres = {(-4, 2.5): 1, (0, 2.5): -1, (4, 2.5): 1, (-4, -2.5): -1, (0, -2.5): 1, (4, -2.5): -1}
    for (cx, cy), sign in centres.items():
        near = np.hypot(points[:, 0] - cx, points[:, 1] - cy) < 0.5
        assert near.any()
        assert (np.sign(labels[near]) == sign).all()
        assert (np.abs(labels[near]) >= 0.75 - 1e-6).all()
    far = np.min([np.hypot(points[:, 0] - cx, points[:, 1] - cy) for cx, cy in centres], axis=0) > 2
    assert far.any() and (labels[far] == 0).all()


def test_unknown_dataset_raises():
    with pytest.raises(ValueError, match="unknown dataset"):
        generate("no-such-set", 10, 0, seed=0)


@pytest.mark.parametrize("ratio", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
@pytest.mark.parametrize("n", [10, 11, 500, 999])
def test_split_sizes(ratio, n):
    points, labels = generate("circle", n, 0, seed=0)
    (xtr, ytr), (xte, yte) = split(points, labels, ratio)
    assert len(xtr) == len(ytr)
    assert abs(len(xtr) - n * ratio) <= 0.5  # rounded to the nearest count
    assert len(xte) == len(yte) == n - len(xtr)
    assert len(xtr) >= 1 and len(xte) >= 1
    # The split takes the first part as train, in order.
    np.testing.assert_array_equal(np.concatenate([xtr, xte]), points)
    np.testing.assert_array_equal(np.concatenate([ytr, yte]), labels)


def test_split_keeps_one_point_each_side():
    points, labels = generate("circle", 2, 0, seed=0)
    (xtr, _), (xte, _) = split(points, labels, 0.1)
    assert len(xtr) == 1 and len(xte) == 1
    (xtr, _), (xte, _) = split(points, labels, 0.9)
    assert len(xtr) == 1 and len(xte) == 1


def test_split_exact_counts():
    points, labels = generate("xor", 500, 0, seed=0)
    (xtr, _), (xte, _) = split(points, labels, 0.5)
    assert (len(xtr), len(xte)) == (250, 250)
    (xtr, _), (xte, _) = split(points, labels, 0.7)
    assert (len(xtr), len(xte)) == (350, 150)


def test_multi_class_generators_match_catalog():
    assert set(MULTI_CLASS) == {n for n in ALL if catalog.DATASETS[n].max_classes > 2}


def _spiral_before_classes(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The two-arm spiral and generate() pipeline exactly as they were before `classes`."""
    rng = np.random.default_rng(seed)
    noise = noise / 100.0
    halves = (n - n // 2, n // 2)
    parts = []
    for count, delta_t in zip(halves, [0.0, np.pi], strict=True):
        i = np.arange(count) / max(count, 1)
        r = i * 5.0
        t = 1.75 * i * 2 * np.pi + delta_t
        parts.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + rng.uniform(-1.0, 1.0, size=(count, 2)) * noise)
    labels = np.concatenate([np.ones(halves[0]), np.zeros(halves[1])])
    order = rng.permutation(n)
    points = np.clip(np.concatenate(parts)[order], -6.0, 6.0)
    return points.astype(np.float32), labels[order].astype(np.float32)


@pytest.mark.parametrize("n", [10, 11, 200, 501])
@pytest.mark.parametrize("noise", [0, 25, 50])
@pytest.mark.parametrize("seed", [0, 1, 123])
def test_spiral_two_classes_unchanged(n, noise, seed):
    want = _spiral_before_classes(n, noise, seed)
    for got in (generate("spiral", n, noise, seed), generate("spiral", n, noise, seed, classes=2)):
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_spiral_two_classes_fingerprint():
    # Taken before `classes` existed; sums rather than a hash, so libm's last bits do not matter.
    points, labels = generate("spiral", 501, 30, seed=7)
    p = points.astype(np.float64)
    assert p.sum() == pytest.approx(-3.565592205908615, abs=1e-4)
    assert (p**2).sum() == pytest.approx(4175.4154797708325, rel=1e-6)
    assert int(labels.sum()) == 251
    assert int((labels * np.arange(501)).sum()) == 59257  # where the class-1 points landed


@pytest.mark.parametrize("name", [n for n in ALL if n not in MULTI_CLASS])
def test_other_datasets_ignore_classes(name):
    a = generate(name, 200, 20, seed=3)
    b = generate(name, 200, 20, seed=3, classes=5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("name", list(MULTI_CLASS))
@pytest.mark.parametrize("classes", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("noise", [0, 50])
def test_multi_class_labels_and_balance(name, classes, noise):
    n = 601
    points, labels = generate(name, n, noise, seed=4, classes=classes)
    assert points.shape == (n, 2) and labels.shape == (n,)
    assert points.dtype == np.float32 and labels.dtype == np.float32
    assert np.abs(points).max() <= 6.0
    classes = max(classes, catalog.DATASETS[name].classes)  # rings has at least three
    assert set(np.unique(labels).tolist()) == set(map(float, range(classes)))
    counts = np.bincount(labels.astype(int), minlength=classes)
    assert counts.sum() == n and counts.max() - counts.min() <= 1  # as equal as n allows


@pytest.mark.parametrize("name", list(MULTI_CLASS))
@pytest.mark.parametrize("classes", [3, 6])
def test_multi_class_reproducible(name, classes):
    a = generate(name, 300, 20, seed=9, classes=classes)
    b = generate(name, 300, 20, seed=9, classes=classes)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    c, _ = generate(name, 300, 20, seed=10, classes=classes)
    assert not np.array_equal(a[0], c)


@pytest.mark.parametrize("name", list(MULTI_CLASS))
def test_multi_class_rejects_fewer_than_two(name):
    with pytest.raises(ValueError, match="classes"):
        generate(name, 100, 0, seed=0, classes=1)


@pytest.mark.parametrize("classes", [3, 4, 5, 6])
def test_spiral_arms_start_evenly_spaced(classes):
    points, labels = generate("spiral", 600, 0, seed=5, classes=classes)
    r = np.hypot(points[:, 0], points[:, 1])
    assert r.max() <= 5.0 + 1e-5
    # Arm j starts at angle 2πj/classes and carries label (j - 1) mod classes.
    for j in range(classes):
        arm = points[labels == (j - 1) % classes]
        arm_r = np.hypot(arm[:, 0], arm[:, 1])
        near_start = arm[(arm_r > 0.2) & (arm_r < 0.5)]
        assert len(near_start)
        # Close to the centre the arm has turned by at most 1.75 turns · 0.1 of its length.
        angle = np.arctan2(near_start[:, 0], near_start[:, 1])  # TF's x = r sin a, y = r cos a
        start = 2 * np.pi * j / classes
        turned = np.mod(angle - start, 2 * np.pi)
        assert (turned <= 1.75 * 2 * np.pi * 0.1 + 1e-4).all()


@pytest.mark.parametrize("classes", [2, 3, 6])
def test_blobs_centres_and_spread(classes):
    points, labels = generate("blobs", 6000, 0, seed=5, classes=classes)
    for c in range(classes):
        a = 2 * np.pi * c / classes
        cloud = points[labels == c]
        np.testing.assert_allclose(cloud.mean(axis=0), [3.5 * np.sin(a), 3.5 * np.cos(a)], atol=0.1)
        # Noise 0 gives gauss's variance 0.5.
        assert cloud.var(axis=0) == pytest.approx([0.5, 0.5], rel=0.15)


def test_blobs_noise_widens_clouds():
    p0, y0 = generate("blobs", 3000, 0, seed=5, classes=3)
    p1, y1 = generate("blobs", 3000, 50, seed=5, classes=3)
    assert p1[y1 == 0].std(axis=0).min() > 1.5 * p0[y0 == 0].std(axis=0).max()


def test_blobs_noise_free_is_nearly_separable():
    # Six clouds 3.5 apart with std 0.71: nearest-centre labels almost always agree.
    points, labels = generate("blobs", 3000, 0, seed=1, classes=6)
    a = 2 * np.pi * np.arange(6) / 6
    centres = 3.5 * np.stack([np.sin(a), np.cos(a)], axis=1)
    nearest = np.argmin(((points[:, None, :] - centres) ** 2).sum(axis=2), axis=1)
    assert (nearest == labels).mean() > 0.97


@pytest.mark.parametrize("n", [10, 11, 500, 999])
@pytest.mark.parametrize("ratio", [0.1, 0.5, 0.9])
def test_split3_without_validation_equals_split(n, ratio):
    points, labels = generate("circle", n, 0, seed=0)
    (xtr, ytr), (xva, yva), (xte, yte) = split3(points, labels, ratio, 0.0)
    (str_, sytr), (ste, syte) = split(points, labels, ratio)
    np.testing.assert_array_equal(xtr, str_)
    np.testing.assert_array_equal(ytr, sytr)
    np.testing.assert_array_equal(xte, ste)
    np.testing.assert_array_equal(yte, syte)
    assert xva.shape == (0, 2) and yva.shape == (0,)
    assert xva.dtype == points.dtype and yva.dtype == labels.dtype


@pytest.mark.parametrize("n", [10, 11, 500, 999])
@pytest.mark.parametrize(
    ("train", "val"), [(0.6, 0.2), (0.5, 0.1), (0.1, 0.5), (0.4, 0.5), (0.7, 0.2), (0.8, 0.1), (0.45, 0.45)]
)
def test_split3_sizes(n, train, val):
    points, labels = generate("xor", n, 0, seed=0)
    (xtr, ytr), (xva, yva), (xte, yte) = split3(points, labels, train, val)
    assert len(xtr) == len(ytr) and len(xva) == len(yva) and len(xte) == len(yte)
    assert len(xtr) + len(xva) + len(xte) == n
    assert len(xtr) >= 1 and len(xva) >= 1 and len(xte) >= 1
    # Consecutive parts, in order.
    np.testing.assert_array_equal(np.concatenate([xtr, xva, xte]), points)
    np.testing.assert_array_equal(np.concatenate([ytr, yva, yte]), labels)
    if n >= 100:  # rounding only; tiny sets may have to give a point to the test part
        (s_tr, _), _ = split(points, labels, train)
        assert len(xtr) == len(s_tr)
        assert abs(len(xva) - n * val) <= 0.5


def test_split3_exact_counts():
    points, labels = generate("xor", 500, 0, seed=0)
    parts = split3(points, labels, 0.6, 0.2)
    assert [len(x) for x, _ in parts] == [300, 100, 100]
    parts = split3(points, labels, 0.5, 0.25)
    assert [len(x) for x, _ in parts] == [250, 125, 125]
    points, labels = generate("xor", 10, 0, seed=0)
    parts = split3(points, labels, 0.45, 0.45)  # 4.5 and 4.5 round up to 5 + 5: test keeps one
    assert [len(x) for x, _ in parts] == [5, 4, 1]
    parts = split3(points, labels, 0.6, 0.05)  # 0.5 rounds half-up to 1
    assert [len(x) for x, _ in parts] == [6, 1, 3]


def test_split3_needs_three_points_with_validation():
    points, labels = generate("circle", 2, 0, seed=0)
    with pytest.raises(ValueError, match="at least 3"):
        split3(points, labels, 0.5, 0.2)
    points, labels = generate("circle", 3, 0, seed=0)
    assert [len(x) for x, _ in split3(points, labels, 0.9, 0.05)] == [1, 1, 1]


# The data sets that are not TensorFlow Playground's.


def test_new_datasets_in_catalog():
    for name in ("moons", "checkerboard"):
        d = catalog.DATASETS[name]
        assert (d.problem, d.classes, d.max_classes) == ("classification", 2, 2)
        assert d.note
    rings = catalog.DATASETS["rings"]
    assert (rings.problem, rings.classes) == ("classification", 3)
    assert rings.max_classes >= rings.classes
    for name in ("sine", "ripple"):
        d = catalog.DATASETS[name]
        assert (d.problem, d.classes, d.max_classes) == ("regression", 0, 2)
        assert d.note


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("noise", [0, 30])
def test_new_datasets_reproducible_and_seeded(name, noise):
    a = generate(name, 300, noise, seed=11)
    b = generate(name, 300, noise, seed=11)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    c = generate(name, 300, noise, seed=12)
    assert not np.array_equal(a[0], c[0])


def test_moons_noise_free_lie_on_the_two_half_circles():
    points, labels = generate("moons", 1000, 0, seed=5)
    s = 10 / 3
    # Undo the centring and scaling, then each class lies on its unit half circle.
    u = points / s + [0.5, 0.25]
    upper, lower = u[labels == 1], u[labels == 0]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1, atol=1e-5)
    assert (upper[:, 1] >= -1e-5).all()
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1, atol=1e-5)
    assert (lower[:, 1] <= 0.5 + 1e-5).all()
    # Scaled to fill about [-5, 5] across and [-2.5, 2.5] up.
    assert points[:, 0].min() < -4.9 and points[:, 0].max() > 4.9
    assert np.abs(points[:, 0]).max() <= 5 + 1e-4 and np.abs(points[:, 1]).max() <= 2.5 + 1e-4
    # The upper moon sits higher on average: the two interleave.
    assert upper[:, 1].mean() > lower[:, 1].mean()


def test_moons_noise_spread():
    p0, _ = generate("moons", 2000, 0, seed=5)
    p1, _ = generate("moons", 2000, 50, seed=5)
    moved = p1 - p0
    assert moved.std() == pytest.approx(1.0, rel=0.1)  # 2 · noise, in plane units


def test_checkerboard_noise_free_labels_by_square_parity():
    points, labels = generate("checkerboard", 2000, 0, seed=5)
    col = np.floor((points[:, 0] + 6) / 3)
    row = np.floor((points[:, 1] + 6) / 3)
    np.testing.assert_array_equal(labels, ((col + row) % 2 == 0).astype(np.float32))
    # All 16 squares hold points; the two beside the origin at ±(1.5, 1.5) are class 1, as xor's.
    assert len({(c, r) for c, r in zip(col, row, strict=True)}) == 16
    near = np.abs(points - [1.5, 1.5]).max(axis=1) < 1
    assert near.any() and (labels[near] == 1).all()
    near = np.abs(points - [-1.5, 1.5]).max(axis=1) < 1
    assert near.any() and (labels[near] == 0).all()


def test_checkerboard_noise_flips_only_near_edges():
    points, clean = generate("checkerboard", 3000, 0, seed=6)
    _, noisy = generate("checkerboard", 3000, 50, seed=6)
    flipped = clean != noisy
    assert 0.05 < flipped.mean() < 0.5
    # Jitter is at most ±1.5 (half a square): a point further than that from every edge keeps its label.
    inside = np.mod(points + 6, 3)
    edge = np.minimum(inside, 3 - inside).min(axis=1)
    assert not flipped[edge > 1.5 + 1e-5].any()
    assert flipped[edge < 0.3].mean() > flipped.mean()


@pytest.mark.parametrize("n", [300, 301, 302])
def test_rings_three_classes_by_default(n):
    for classes in (2, 3):  # DataSpec's default classes (2) still means three rings
        points, labels = generate("rings", n, 0, seed=5, classes=classes)
        assert set(np.unique(labels).tolist()) == {0.0, 1.0, 2.0}
        counts = np.bincount(labels.astype(int))
        assert counts.sum() == n and counts.max() - counts.min() <= 1


def test_rings_noise_free_radii():
    points, labels = generate("rings", 3000, 0, seed=5)
    r = np.hypot(points[:, 0], points[:, 1])
    for c, radius in enumerate([1.5, 3.5, 5.5]):
        ring = r[labels == c]
        assert np.abs(ring - radius).max() <= 0.4 + 1e-5
        assert ring.mean() == pytest.approx(radius, abs=0.05)
    # Angles cover the whole circle.
    angle = np.arctan2(points[:, 0], points[:, 1])
    assert np.histogram(angle, bins=8)[0].min() > 200


def test_rings_more_classes_share_the_radii():
    points, labels = generate("rings", 3000, 0, seed=5, classes=5)
    r = np.hypot(points[:, 0], points[:, 1])
    for c, radius in enumerate(np.linspace(1.5, 5.5, 5)):
        assert np.abs(r[labels == c] - radius).max() <= 0.2 + 1e-5


def test_rings_noise_moves_points_radially():
    p0, y0 = generate("rings", 2000, 0, seed=5)
    p1, y1 = generate("rings", 2000, 50, seed=5)
    np.testing.assert_array_equal(y0, y1)
    a0 = np.arctan2(p0[:, 0], p0[:, 1])
    a1 = np.arctan2(p1[:, 0], p1[:, 1])
    inner = y0 == 0  # never clipped by the [-6, 6] square
    np.testing.assert_allclose(np.cos(a0[inner] - a1[inner]), 1, atol=1e-4)
    dr = np.hypot(p1[inner, 0], p1[inner, 1]) - np.hypot(p0[inner, 0], p0[inner, 1])
    assert np.abs(dr).max() <= 1.0 + 1e-4 and np.abs(dr).max() > 0.9  # up to ± spacing · noise


def test_sine_noise_free_values():
    points, labels = generate("sine", 1000, 0, seed=5)
    x1, x2 = points[:, 0].astype(np.float64), points[:, 1].astype(np.float64)
    np.testing.assert_allclose(labels, np.sin(x1) * np.cos(x2 / 4), atol=1e-6)
    assert labels.min() < -0.9 and labels.max() > 0.9


def test_ripple_noise_free_values():
    points, labels = generate("ripple", 1000, 0, seed=5)
    r = np.hypot(points[:, 0].astype(np.float64), points[:, 1].astype(np.float64))
    np.testing.assert_allclose(labels, np.cos(r), atol=1e-6)
    assert labels.min() < -0.99 and labels.max() > 0.95
    assert (labels[r < 0.5] > 0.85).all()  # the crest at the centre


@pytest.mark.parametrize("name", ["sine", "ripple"])
def test_wave_noise_blurs_labels_a_little(name):
    _, y0 = generate(name, 2000, 0, seed=5)
    _, y1 = generate(name, 2000, 50, seed=5)
    # Read up to ±π/2 away: labels change but keep a clear relation to the clean ones.
    assert np.abs(y1 - y0).mean() > 0.05
    assert np.corrcoef(y0, y1)[0, 1] > 0.5


# Taken with the generators as they were before moons … ripple were added (seed 3, 500 points,
# noise 20, classes 3 where a set takes it): sums of points, squared points, labels and
# label · index, so each old data set's points, labels and order are pinned.
OLD_FINGERPRINTS = {
    "circle": (-40.7119, 4992.1921, 218.0, 54891.0),
    "xor": (-57.1744, 9729.0234, 236.0, 57663.0),
    "gauss": (53.2807, 6001.6214, 250.0, 64419.0),
    "spiral": (-2.9017, 4155.3574, 500.0, 129370.0),
    "blobs": (52.5598, 7823.9684, 499.0, 124665.0),
    "plane": (-67.1693, 11749.2027, -7.9804, -4119.08),
    "multi-gauss": (-67.1693, 11749.2027, 0.4372, 1015.38),
}


@pytest.mark.parametrize("name", list(OLD_FINGERPRINTS))
def test_existing_datasets_unchanged(name):
    points, labels = generate(name, 500, 20, seed=3, classes=3)
    p, y = points.astype(np.float64), labels.astype(np.float64)
    total, squares, label_sum, weighted = OLD_FINGERPRINTS[name]
    assert p.sum() == pytest.approx(total, abs=1e-3)
    assert (p**2).sum() == pytest.approx(squares, rel=1e-6)
    assert y.sum() == pytest.approx(label_sum, abs=1e-3)
    assert (y * np.arange(500)).sum() == pytest.approx(weighted, abs=0.05)

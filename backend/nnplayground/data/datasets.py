"""Data-set generators, ported from TensorFlow Playground's src/dataset.ts (pure numpy).

Each generator takes TF's arguments: a point count, noise as a fraction (0 to 0.5, the UI's
percentage / 100) and a seeded numpy Generator. It returns points in TF's unshuffled order and
labels of class index 0/1 (TF's -1/+1) or a real value for regression. `generate` wraps them.
As in TF, noise blurs the labels near the boundary for circle, xor, plane and multi-gauss (the
label is computed at a jittered position, the point keeps its clean position), and moves the
points for gauss, spiral and blobs. Spiral and blobs (not in TF) also take a class count and
label their points 0 … classes − 1.

The sets that are not in TF follow the same rules: `moons` and `rings` (position noise: points
move), `checkerboard`, `sine` and `ripple` (label noise: the label is read at a jittered
position). `rings` makes at least three rings and takes a class count for more.
"""

from collections.abc import Callable

import numpy as np

EXTENT = 6.0  # points lie in [-EXTENT, EXTENT]^2, as TF's plots

Points = np.ndarray
Labels = np.ndarray
Generator = Callable[[int, float, np.random.Generator], tuple[Points, Labels]]
MultiClassGenerator = Callable[[int, float, np.random.Generator, int], tuple[Points, Labels]]


def _counts(n: int, classes: int) -> list[int]:
    """Points per group: n // classes each, the first n % classes groups one more."""
    return [n // classes + (1 if g < n % classes else 0) for g in range(classes)]


def _gauss_std(noise: float) -> float:
    """TF's gauss spread: noise 0..0.5 maps linearly to a variance of 0.5..4 (extrapolating beyond)."""
    return float(np.sqrt(0.5 + noise / 0.5 * (4.0 - 0.5)))


def _check_classes(classes: int) -> None:
    """Reject class counts below two."""
    if classes < 2:
        raise ValueError(f"classes must be at least 2 (got {classes})")


def _halves(n: int) -> tuple[int, int]:
    """Points per class: TF makes n/2 of each; an odd n gives class 1 the extra point."""
    return n - n // 2, n // 2


def _polar(r: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Points at radius r and angle, with TF's convention x = r sin a, y = r cos a."""
    return np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)


def _jitter(n: int, scale: float, noise: float, rng: np.random.Generator) -> np.ndarray:
    """TF's label noise: uniform in [-scale, scale] times noise, per coordinate.

    Drawn even when noise is 0 so that the points of a seed do not depend on the noise.
    """
    return rng.uniform(-scale, scale, size=(n, 2)) * noise


def circle(n: int, noise: float, rng: np.random.Generator) -> tuple[Points, Labels]:
    """A disc of class 1 (r <= 2.5) inside a ring of class 0 (3.5 <= r <= 5)."""
    radius = 5.0
    parts = []
    for count, (r_lo, r_hi) in zip(_halves(n), [(0.0, radius * 0.5), (radius * 0.7, radius)], strict=True):
        r = rng.uniform(r_lo, r_hi, size=count)
        angle = rng.uniform(0.0, 2 * np.pi, size=count)
        parts.append(_polar(r, angle))
    points = np.concatenate(parts)
    # TF labels by the distance of a jittered copy, so noise mislabels points near the edge.
    noisy = points + _jitter(n, radius, noise, rng)
    labels = (np.hypot(noisy[:, 0], noisy[:, 1]) < radius * 0.5).astype(np.float64)
    return points, labels


def xor(n: int, noise: float, rng: np.random.Generator) -> tuple[Points, Labels]:
    """Four quadrants, class 1 where x*y >= 0, kept 0.3 away from the axes."""
    padding = 0.3
    points = rng.uniform(-5.0, 5.0, size=(n, 2))
    points += np.where(points > 0, padding, -padding)
    noisy = points + _jitter(n, 5.0, noise, rng)
    labels = (noisy[:, 0] * noisy[:, 1] >= 0).astype(np.float64)
    return points, labels


def gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[Points, Labels]:
    """Two Gaussian clouds: class 1 around (2, 2), class 0 around (-2, -2)."""
    n_pos, n_neg = _halves(n)
    std = _gauss_std(noise)
    pos = rng.normal(2.0, std, size=(n_pos, 2))
    neg = rng.normal(-2.0, std, size=(n_neg, 2))
    labels = np.concatenate([np.ones(n_pos), np.zeros(n_neg)])
    return np.concatenate([pos, neg]), labels


def spiral(n: int, noise: float, rng: np.random.Generator, classes: int = 2) -> tuple[Points, Labels]:
    """Interleaved spiral arms of 1.75 turns out to radius 5, one per class; class 1 starts at angle 0."""
    _check_classes(classes)
    parts, labels = [], []
    # TF's two arms generalised: arm j starts at Δt = 2πj/classes. Arms are drawn in that order
    # and arm j is labelled (j - 1) mod classes, so with two classes the arm at 0 is class 1 and
    # the one at π class 0, and points, labels and random draws are exactly TF's (and our
    # earlier two-class output). Earlier arms take the extra points when n does not divide.
    for j, count in enumerate(_counts(n, classes)):
        i = np.arange(count) / max(count, 1)
        r = i * 5.0
        t = 1.75 * i * 2 * np.pi + 2 * np.pi * j / classes
        parts.append(_polar(r, t) + rng.uniform(-1.0, 1.0, size=(count, 2)) * noise)
        labels.append(np.full(count, (j - 1) % classes, dtype=np.float64))
    return np.concatenate(parts), np.concatenate(labels)


BLOB_RADIUS = 3.5  # blob centres lie on this circle, far enough apart for six separable classes at noise 0


def blobs(n: int, noise: float, rng: np.random.Generator, classes: int = 2) -> tuple[Points, Labels]:
    """One Gaussian cloud per class, centred on a circle of radius 3.5 at angle 2πc/classes."""
    _check_classes(classes)
    # The same spread as gauss, so a noise setting means the same on both.
    std = _gauss_std(noise)
    counts = _counts(n, classes)
    angles = 2 * np.pi * np.arange(classes) / classes
    centres = _polar(np.full(classes, BLOB_RADIUS), angles)
    parts = [rng.normal(centres[c], std, size=(count, 2)) for c, count in enumerate(counts)]
    labels = np.repeat(np.arange(classes, dtype=np.float64), counts)
    return np.concatenate(parts), labels


def plane(n: int, noise: float, rng: np.random.Generator) -> tuple[Points, Labels]:
    """A tilted plane: label (x + y) / 10 at a jittered position, so about [-1.2, 1.2]."""
    points = rng.uniform(-EXTENT, EXTENT, size=(n, 2))
    noisy = points + _jitter(n, EXTENT, noise, rng)
    # TF's d3 scale maps x + y in [-10, 10] to [-1, 1] without clamping.
    return points, (noisy[:, 0] + noisy[:, 1]) / 10.0


# Centres and signs of TF's six bumps.
_BUMPS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]], dtype=np.float64
)


def multi_gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[Points, Labels]:
    """Six signed bumps falling linearly from 1 at a centre to 0 at distance 2; label in [-1, 1]."""
    points = rng.uniform(-EXTENT, EXTENT, size=(n, 2))
    noisy = points + _jitter(n, EXTENT, noise, rng)
    dist = np.hypot(noisy[:, None, 0] - _BUMPS[:, 0], noisy[:, None, 1] - _BUMPS[:, 1])  # (n, 6)
    values = _BUMPS[:, 2] * np.clip(1.0 - dist / 2.0, 0.0, 1.0)
    # TF keeps the bump that is largest in absolute value (the first one on ties, 0 if none).
    pick = np.argmax(np.abs(values), axis=1)
    return points, values[np.arange(n), pick]


MOONS_SCALE = 10.0 / 3.0  # the moons span 3 × 1.5 units; scaled, about [-5, 5] × [-2.5, 2.5]


def moons(n: int, noise: float, rng: np.random.Generator) -> tuple[Points, Labels]:
    """Two interleaving half circles (scikit-learn's make_moons), centred and scaled to about [-5, 5].

    Class 1 is the upper moon (cos t, sin t), class 0 the lower one (1 − cos t, 0.5 − sin t), t
    uniform in [0, π]. Noise moves the points: Gaussian with a spread of 2 · noise per coordinate
    (1 at 50 %, where the moons, 1.67 apart, overlap).
    """
    n_pos, n_neg = _halves(n)
    t_pos = rng.uniform(0.0, np.pi, size=n_pos)
    t_neg = rng.uniform(0.0, np.pi, size=n_neg)
    upper = np.stack([np.cos(t_pos), np.sin(t_pos)], axis=1)
    lower = np.stack([1.0 - np.cos(t_neg), 0.5 - np.sin(t_neg)], axis=1)
    # Centre the pair ([-1, 2] × [-0.5, 1]) on the origin before scaling.
    points = (np.concatenate([upper, lower]) - [0.5, 0.25]) * MOONS_SCALE
    # Drawn even when noise is 0 so that the points of a seed do not depend on the noise.
    points += rng.normal(0.0, 1.0, size=(n, 2)) * 2.0 * noise
    labels = np.concatenate([np.ones(n_pos), np.zeros(n_neg)])
    return points, labels


CHECKER_SQUARE = 3.0  # a 4 × 4 board over [-6, 6]^2


def _checker_class(points: np.ndarray) -> np.ndarray:
    """1 on the squares whose column + row is even (the two touching the origin at ±(1.5, 1.5)), else 0."""
    col = np.floor((points[:, 0] + EXTENT) / CHECKER_SQUARE)
    row = np.floor((points[:, 1] + EXTENT) / CHECKER_SQUARE)
    return ((col + row) % 2 == 0).astype(np.float64)


def checkerboard(n: int, noise: float, rng: np.random.Generator) -> tuple[Points, Labels]:
    """A 4 × 4 board of 3 × 3 squares over [-6, 6]^2; the class is the square's colour.

    Half of the points (class 1 gets the odd one) fall uniformly on each colour's eight squares.
    Noise is TF's label noise: the label is read at a position jittered by up to ±3 · noise (half
    a square at 50 %), so points near the edges of the squares may take the other colour.
    """
    parts = []
    for count, parity in zip(_halves(n), [0, 1], strict=True):
        # The eight squares of one colour: (col, row) with (col + row) % 2 == parity.
        squares = np.array([(c, r) for r in range(4) for c in range(4) if (c + r) % 2 == parity], dtype=np.float64)
        pick = rng.integers(0, len(squares), size=count)
        corner = squares[pick] * CHECKER_SQUARE - EXTENT
        parts.append(corner + rng.uniform(0.0, CHECKER_SQUARE, size=(count, 2)))
    points = np.concatenate(parts)
    noisy = points + _jitter(n, CHECKER_SQUARE, noise, rng)
    return points, _checker_class(noisy)


RINGS_MIN = 3  # rings has at least three classes (the catalog's `classes`)


def rings(n: int, noise: float, rng: np.random.Generator, classes: int = RINGS_MIN) -> tuple[Points, Labels]:
    """Concentric rings, one per class from class 0 inside; three at radii 1.5, 3.5, 5.5.

    `classes` below three still gives three rings (as DataSpec.num_classes counts them); more
    rings share the radii 1.5 … 5.5 evenly. Each ring is a band of width 0.4 × their spacing.
    Noise moves the points radially, uniformly by up to ± spacing · noise.
    """
    _check_classes(classes)
    k = max(classes, RINGS_MIN)
    spacing = 4.0 / (k - 1)
    counts = _counts(n, k)
    parts = []
    for c, count in enumerate(counts):
        r = 1.5 + c * spacing + rng.uniform(-0.2, 0.2, size=count) * spacing
        r += rng.uniform(-1.0, 1.0, size=count) * spacing * noise
        parts.append(_polar(r, rng.uniform(0.0, 2 * np.pi, size=count)))
    labels = np.repeat(np.arange(k, dtype=np.float64), counts)
    return np.concatenate(parts), labels


WAVE_JITTER = np.pi  # sine and ripple read the label up to ±π · noise away (a quarter period at 50 %)


def sine(n: int, noise: float, rng: np.random.Generator) -> tuple[Points, Labels]:
    """A wave along x1 fading towards the top and bottom: sin(x1) · cos(x2 / 4), in [-1, 1]."""
    points = rng.uniform(-EXTENT, EXTENT, size=(n, 2))
    noisy = points + _jitter(n, WAVE_JITTER, noise, rng)
    return points, np.sin(noisy[:, 0]) * np.cos(noisy[:, 1] / 4.0)


def ripple(n: int, noise: float, rng: np.random.Generator) -> tuple[Points, Labels]:
    """Circular ripples around the origin: cos(√(x1² + x2²)), in [-1, 1] (1 at the centre)."""
    points = rng.uniform(-EXTENT, EXTENT, size=(n, 2))
    noisy = points + _jitter(n, WAVE_JITTER, noise, rng)
    return points, np.cos(np.hypot(noisy[:, 0], noisy[:, 1]))


GENERATORS: dict[str, Generator] = {
    "circle": circle,
    "xor": xor,
    "gauss": gauss,
    "spiral": spiral,
    "blobs": blobs,
    "plane": plane,
    "multi-gauss": multi_gauss,
    "moons": moons,
    "checkerboard": checkerboard,
    "rings": rings,
    "sine": sine,
    "ripple": ripple,
}

# The generators that take a class count (catalog's max_classes > 2); the rest ignore `classes`.
MULTI_CLASS: dict[str, MultiClassGenerator] = {"spiral": spiral, "blobs": blobs, "rings": rings}


def generate(
    dataset: str, num_points: int, noise: float, seed: int, classes: int = 2
) -> tuple[Points, Labels]:
    """Points (n, 2) float32 in [-6, 6]^2 and labels (n,) float32, shuffled, deterministic in seed.

    `noise` is TF's percentage (0 to 50). Labels are class indices (0 … classes − 1 for the
    MULTI_CLASS data sets, rings at least 0 … 2; 0/1 for the other classification ones, which
    ignore `classes`) and
    real values (about [-1, 1]) for regression. The order is already shuffled, so a
    train/validation/test split can take consecutive parts.
    """
    if dataset not in GENERATORS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {sorted(GENERATORS)}")
    if num_points < 1:
        raise ValueError(f"num_points must be at least 1 (got {num_points})")
    rng = np.random.default_rng(seed)
    if dataset in MULTI_CLASS:
        points, labels = MULTI_CLASS[dataset](num_points, noise / 100.0, rng, classes)
    else:
        points, labels = GENERATORS[dataset](num_points, noise / 100.0, rng)
    # Shuffled as TF does, so the classes mix before the split.
    order = rng.permutation(num_points)
    # TF leaves wide Gaussians unclipped; the plots and the grid stop at the extent, so do we.
    points = np.clip(points[order], -EXTENT, EXTENT)
    return points.astype(np.float32), labels[order].astype(np.float32)


def split(
    points: Points, labels: Labels, train_ratio: float
) -> tuple[tuple[Points, Labels], tuple[Points, Labels]]:
    """((train points, train labels), (test points, test labels)): the first round(n * ratio) train."""
    n = len(points)
    if n < 2:
        raise ValueError(f"need at least 2 points to split (got {n})")
    # Half-up rounding (not Python's to-even), then at least one point on each side.
    k = min(max(int(np.floor(n * train_ratio + 0.5)), 1), n - 1)
    return (points[:k], labels[:k]), (points[k:], labels[k:])


def split3(
    points: Points, labels: Labels, train_ratio: float, validation_ratio: float
) -> tuple[tuple[Points, Labels], tuple[Points, Labels], tuple[Points, Labels]]:
    """(train, validation, test) parts, each (points, labels), taken in order.

    Train counts as in `split`; validation is the next round(n * validation_ratio) points
    (half-up; none when the ratio is 0); the rest, at least one point, is the test set. With
    validation_ratio 0 this is `split` plus an empty validation part.
    """
    if validation_ratio < 0:
        raise ValueError(f"validation_ratio must not be negative (got {validation_ratio})")
    if validation_ratio == 0:
        train, test = split(points, labels, train_ratio)
        return train, (points[:0], labels[:0]), test
    n = len(points)
    if n < 3:
        raise ValueError(f"need at least 3 points for train, validation and test (got {n})")
    # Each part keeps at least one point: an empty validation set would leave early stopping
    # nothing to watch. Only tiny sets with ratios near the limits are affected (train gives way).
    k = min(max(int(np.floor(n * train_ratio + 0.5)), 1), n - 2)
    v = min(max(int(np.floor(n * validation_ratio + 0.5)), 1), n - k - 1)
    return (points[:k], labels[:k]), (points[k : k + v], labels[k : k + v]), (points[k + v :], labels[k + v :])

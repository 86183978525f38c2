"""Learning-rate schedules: vectorised table = scalar reference = torch.optim.lr_scheduler."""

import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from nnplayground import catalog
from nnplayground.engine.schedules import KINDS, ScheduleTable, scheduled_rate
from nnplayground.schemas import ScheduleSpec

SCHEDULES_PY = Path(__file__).parents[2] / "backend" / "nnplayground" / "engine" / "schedules.py"


def _random_spec(rng: np.random.Generator, kind: str | None = None) -> ScheduleSpec:
    """A schedule of the given (or a random) kind with random, valid parameters."""
    return ScheduleSpec(
        kind=kind or str(rng.choice(KINDS)),
        factor=float(rng.uniform(0.1, 1.0)),
        every=int(rng.integers(1, 20)),
        k=float(rng.uniform(0.0, 0.5)),
        period=int(rng.integers(1, 50)),
        min_lr=float(rng.uniform(0.0, 0.01)),
        max_lr=float(rng.uniform(0.01, 1.0)),
        step_size=int(rng.integers(1, 100)),
        cycle_epochs=int(rng.integers(2, 30)),
    )


def _table_rate(spec: ScheduleSpec, lr: float, epoch: int, iteration: int, spe: int) -> float:
    """One row's rate through a ScheduleTable (the row sits among others of other kinds)."""
    table = ScheduleTable(3)
    table.set_row(0, ScheduleSpec(kind="time", k=0.3), 1.0)
    table.set_row(1, spec, lr)
    table.set_row(2, ScheduleSpec(kind="cyclical"), 0.5)
    return float(table.rates(3, np.full(3, epoch), np.full(3, iteration), np.full(3, spe))[1])


def test_kinds_match_catalog():
    assert KINDS == tuple(catalog.SCHEDULES)


def test_module_needs_no_torch():
    # Loaded on its own (not through engine/__init__, which imports the torch engine).
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('nnplayground.engine.schedules', {str(SCHEDULES_PY)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "t = m.ScheduleTable(2); m.scheduled_rate(m.ScheduleSpec(kind='cosine'), 0.1, 3, 30, 10)\n"
        "assert 'torch' not in sys.modules, 'schedules imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_equals_scalar_for_mixed_rows(seed):
    rng = np.random.default_rng(seed)
    k = 300
    specs = [_random_spec(rng) for _ in range(k)]
    base = rng.uniform(1e-4, 1.0, size=k)
    epoch = rng.integers(0, 300, size=k)
    iteration = rng.integers(0, 5000, size=k)
    spe = rng.integers(1, 60, size=k)
    table = ScheduleTable(k + 7)  # rows past k stay unset and must not matter
    for r, (spec, lr) in enumerate(zip(specs, base, strict=True)):
        table.set_row(r, spec, float(lr))
    assert len({s.kind for s in specs}) == len(KINDS)
    with np.errstate(all="raise"):
        got = table.rates(k, epoch, iteration, spe)
    assert got.shape == (k,) and got.dtype == np.float64
    want = [
        scheduled_rate(s, float(lr), int(e), int(it), int(n))
        for s, lr, e, it, n in zip(specs, base, epoch, iteration, spe, strict=True)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_rates_accept_scalars_and_capacity_sized_arrays():
    table = ScheduleTable(4)
    table.set_row(0, ScheduleSpec(kind="step", factor=0.5, every=2), 0.1)
    table.set_row(1, ScheduleSpec(kind="time", k=1.0), 0.2)
    a = table.rates(2, 4, 0, 10)
    b = table.rates(2, np.array([4, 4, 99, 99]), np.zeros(4), np.full(4, 10))
    np.testing.assert_allclose(a, [0.025, 0.04])
    np.testing.assert_allclose(b, a)


def test_constant_rows_and_unset_rows():
    table = ScheduleTable(5)
    assert not table.any_scheduled(5)
    table.set_row(0, ScheduleSpec(), 0.03)
    table.set_row(1, ScheduleSpec(kind="constant", factor=0.1), 0.3)
    assert not table.any_scheduled(5)
    np.testing.assert_array_equal(table.rates(2, np.full(2, 50), np.full(2, 900), np.ones(2)), [0.03, 0.3])


def test_any_scheduled_follows_rows():
    table = ScheduleTable(4)
    table.set_row(3, ScheduleSpec(kind="cosine"), 0.1)
    assert table.any_scheduled(4)
    assert not table.any_scheduled(3)  # only rows [0, k) count
    table.swap(0, 3)
    assert table.any_scheduled(1)
    table.set_row(0, ScheduleSpec(), 0.1)  # back to constant
    assert not table.any_scheduled(4)


def test_swap_keeps_rows():
    rng = np.random.default_rng(1)
    specs = [_random_spec(rng, kind) for kind in KINDS]
    table = ScheduleTable(len(specs))
    for r, spec in enumerate(specs):
        table.set_row(r, spec, 0.1 * (r + 1))
    args = (np.full(len(specs), 7), np.full(len(specs), 123), np.full(len(specs), 9))
    before = table.rates(len(specs), *args)
    table.swap(1, 5)
    after = table.rates(len(specs), *args)
    order = list(range(len(specs)))
    order[1], order[5] = 5, 1
    np.testing.assert_array_equal(after, before[order])
    table.swap(2, 2)  # a row with itself is a no-op
    np.testing.assert_array_equal(table.rates(len(specs), *args), after)


def test_grow_keeps_rows():
    rng = np.random.default_rng(2)
    specs = [_random_spec(rng, kind) for kind in KINDS]
    table = ScheduleTable(len(specs))
    for r, spec in enumerate(specs):
        table.set_row(r, spec, 0.05 * (r + 1))
    n = len(specs)
    before = table.rates(n, np.full(n, 11), np.full(n, 345), np.full(n, 13))
    table.grow(3 * n)
    assert table.capacity == 3 * n
    table.grow(n)  # never shrinks
    assert table.capacity == 3 * n
    np.testing.assert_array_equal(table.rates(n, np.full(n, 11), np.full(n, 345), np.full(n, 13)), before)
    # New rows are constant (rate 0 until set) and can be set.
    table.set_row(3 * n - 1, ScheduleSpec(kind="time", k=1.0), 0.4)
    got = table.rates(3 * n, np.full(3 * n, 1), np.zeros(3 * n), np.ones(3 * n))
    assert got[3 * n - 1] == pytest.approx(0.2)
    np.testing.assert_array_equal(got[n:-1], 0.0)


# --- against torch.optim.lr_scheduler ---------------------------------------------------------

Factory = Callable[[torch.optim.Optimizer, ScheduleSpec], Any]

EPOCH_SCHEDULERS: dict[str, Factory] = {
    "step": lambda opt, s: torch.optim.lr_scheduler.StepLR(opt, step_size=s.every, gamma=s.factor),
    "exponential": lambda opt, s: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=math.exp(-s.k)),
    "time": lambda opt, s: torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0 / (1.0 + s.k * e)),
    "cosine": lambda opt, s: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=s.period, eta_min=s.min_lr),
}


def _optimizer(lr: float) -> torch.optim.Optimizer:
    """A dummy SGD optimiser whose only job is to carry a learning rate."""
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


@pytest.mark.parametrize("kind", list(EPOCH_SCHEDULERS))
@pytest.mark.parametrize("seed", range(4))
def test_epoch_schedules_match_torch(kind, seed):
    rng = np.random.default_rng(seed)
    spec = _random_spec(rng, kind)
    lr = float(rng.uniform(0.001, 1.0))
    opt = _optimizer(lr)
    scheduler = EPOCH_SCHEDULERS[kind](opt, spec)
    epochs = 120
    want = []
    for _ in range(epochs):
        want.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    table = ScheduleTable(epochs)
    for r in range(epochs):
        table.set_row(r, spec, lr)  # one row per epoch: the whole run in one call
    e = np.arange(epochs)
    got = table.rates(epochs, e, e * 7, np.full(epochs, 7))
    # torch multiplies step by step (StepLR, ExponentialLR), so allow rounding.
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)
    scalar = [scheduled_rate(spec, lr, int(i), int(i) * 7, 7) for i in e]
    np.testing.assert_allclose(scalar, want, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("seed", range(4))
def test_cyclical_matches_torch_cyclic_lr(seed):
    rng = np.random.default_rng(seed)
    spec = _random_spec(rng, "cyclical")
    lr = float(rng.uniform(0.0001, 0.005))
    opt = _optimizer(lr)
    scheduler = torch.optim.lr_scheduler.CyclicLR(
        opt, base_lr=lr, max_lr=spec.max_lr, step_size_up=spec.step_size, mode="triangular", cycle_momentum=False
    )
    steps = 6 * spec.step_size + 5
    want = []
    for _ in range(steps):
        want.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    it = np.arange(steps)
    spe = 9
    table = ScheduleTable(steps)
    for r in range(steps):
        table.set_row(r, spec, lr)
    got = table.rates(steps, it // spe, it, np.full(steps, spe))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)
    assert max(want) == pytest.approx(spec.max_lr) and min(want) == pytest.approx(lr)


def test_step_decay_course_example():
    # The course's usual choice: halve every 10 epochs.
    spec = ScheduleSpec(kind="step", factor=0.5, every=10)
    assert [scheduled_rate(spec, 0.1, e, 0, 1) for e in (0, 9, 10, 19, 20, 35)] == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.025, 0.0125]
    )


def test_cosine_restarts():
    spec = ScheduleSpec(kind="cosine", period=10, min_lr=0.001)
    rates = [scheduled_rate(spec, 0.1, e, 0, 1) for e in range(21)]
    assert rates[0] == rates[10] == rates[20] == pytest.approx(0.1)
    assert rates[5] == pytest.approx((0.1 + 0.001) / 2)
    assert rates[9] < rates[8] < rates[1] < rates[0]


# --- one cycle --------------------------------------------------------------------------------


@pytest.mark.parametrize(("cycle_epochs", "spe"), [(10, 10), (20, 5), (4, 25), (2, 50)])
def test_one_cycle_hand_points(cycle_epochs, spe):
    lr = 0.2
    spec = ScheduleSpec(kind="one_cycle", cycle_epochs=cycle_epochs)
    total = cycle_epochs * spe  # 100 iterations in each case
    points = {
        0: lr / 10,  # start
        20: lr / 10 + (lr - lr / 10) * 20 / 45,  # rising
        45: lr,  # peak at 45 %
        60: lr - (lr - lr / 10) * 15 / 45,  # falling
        90: lr / 10,  # back at the low at 90 %
        95: lr / 10 - (lr / 10 - lr / 1000) / 2,  # annealing
        100: lr / 1000,  # end of the cycle
        150: lr / 1000,  # and after it
    }
    table = ScheduleTable(len(points))
    for r in range(len(points)):
        table.set_row(r, spec, lr)
    it = np.array(list(points), dtype=np.int64) * total // 100
    got = table.rates(len(points), it // spe, it, np.full(len(points), spe))
    np.testing.assert_allclose(got, list(points.values()), rtol=1e-12)
    for i, want in zip(it, points.values(), strict=True):
        assert scheduled_rate(spec, lr, int(i) // spe, int(i), spe) == pytest.approx(want, rel=1e-12)


def test_one_cycle_is_continuous_and_peaks_once():
    spec = ScheduleSpec(kind="one_cycle", cycle_epochs=8)
    spe, lr = 13, 0.5
    n = 8 * spe + 20
    table = ScheduleTable(n)
    for r in range(n):
        table.set_row(r, spec, lr)
    it = np.arange(n)
    rates = table.rates(n, it // spe, it, np.full(n, spe))
    assert rates.max() <= lr + 1e-12 and rates.min() >= lr / 1000 - 1e-15
    peak = int(np.argmax(rates))
    assert abs(peak - 0.45 * 8 * spe) <= 1
    assert (np.diff(rates[: peak + 1]) > 0).all()
    assert (np.diff(rates[peak : 8 * spe + 1]) < 0).all()
    # No jumps: each step moves by at most one step of the steepest phase (the rise or fall).
    assert np.abs(np.diff(rates)).max() <= (lr - lr / 10) / (0.45 * 8 * spe) + 1e-12

"""Learning-rate schedules, vectorised over the rows (sessions) of a batched engine (numpy only).

A ScheduleTable keeps every row's schedule kind and parameters as arrays, so the rates of all
rows come from one call per optimiser step with no Python loop over rows. `scheduled_rate` is
the scalar reference with the same formulas. `lr` below is the row's base rate, the config's
training.learning_rate (for one_cycle, the peak). `epoch` counts the epochs completed before the
step (0 during the first), `iteration` the optimiser steps done before it (0 at the first).

- constant:     lr
- step:         lr · factor^⌊epoch / every⌋
- exponential:  lr · e^(−k · epoch)
- time:         lr / (1 + k · epoch)
- cosine:       warm restarts every `period` epochs: t = epoch mod period,
                min_lr + (lr − min_lr) · (1 + cos(π t / period)) / 2
- cyclical:     Smith's triangle per iteration between lr and max_lr, step_size iterations each way
- one_cycle:    over cycle_epochs · steps_per_epoch iterations: lr/10 → lr (first 45 %) → lr/10
                (next 45 %) → lr/1000 (last 10 %), then lr/1000
"""

import math

import numpy as np

from .. import catalog
from ..schemas import ScheduleSpec

KINDS: tuple[str, ...] = tuple(catalog.SCHEDULES)
CODES: dict[str, int] = {name: code for code, name in enumerate(KINDS)}
CONSTANT = CODES["constant"]

# one_cycle's shape: phase ends as shares of the cycle, and rates as fractions of the peak lr.
ONE_CYCLE_UP = 0.45
ONE_CYCLE_DOWN = 0.9
ONE_CYCLE_LOW = 0.1
ONE_CYCLE_END = 0.001

# Parameter columns and their values for unset rows; periods are 1 (not 0) so that formulas
# evaluated on unset rows never divide by zero.
_DEFAULTS: dict[str, float] = {
    "base_lr": 0.0,
    "factor": 1.0,
    "every": 1.0,
    "k": 0.0,
    "period": 1.0,
    "min_lr": 0.0,
    "max_lr": 0.0,
    "step_size": 1.0,
    "cycle_epochs": 1.0,
}


def _one_cycle(lr: np.ndarray, iteration: np.ndarray, total: np.ndarray) -> np.ndarray:
    """The one-cycle rate at `iteration` of a cycle `total` iterations long."""
    low, end = lr * ONE_CYCLE_LOW, lr * ONE_CYCLE_END
    up, down = total * ONE_CYCLE_UP, total * ONE_CYCLE_DOWN
    # Fractions through each phase, clipped, so every phase's line is defined everywhere and
    # np.select can pick the one that applies.
    f_up = np.clip(iteration / up, 0.0, 1.0)
    f_down = np.clip((iteration - up) / (down - up), 0.0, 1.0)
    f_end = np.clip((iteration - down) / (total - down), 0.0, 1.0)
    return np.select(
        [iteration < up, iteration < down],
        [low + (lr - low) * f_up, lr - (lr - low) * f_down],
        low - (low - end) * f_end,
    )


def _per_row(values: np.ndarray | float, k: int) -> np.ndarray:
    """(k,) float64 from a scalar or a per-row array (a longer, capacity-sized one is cut to k)."""
    a = np.asarray(values, dtype=np.float64)
    if a.ndim == 1 and len(a) > k:
        a = a[:k]
    return np.broadcast_to(a, (k,))


class ScheduleTable:
    """Struct of arrays: per-row schedule kind code and parameters (numpy, length = capacity)."""

    def __init__(self, capacity: int) -> None:
        """An all-constant table (base rate 0) of `capacity` rows."""
        self.kind = np.full(capacity, CONSTANT, dtype=np.int8)
        self.params: dict[str, np.ndarray] = {name: np.full(capacity, v) for name, v in _DEFAULTS.items()}
        # Rows anywhere in the table whose kind is not constant; 0 lets rates() skip all work.
        self._scheduled = 0

    @property
    def capacity(self) -> int:
        """Rows the arrays hold."""
        return len(self.kind)

    def grow(self, capacity: int) -> None:
        """Enlarge to `capacity` rows, keeping contents (no-op if not larger); new rows are constant."""
        extra = capacity - self.capacity
        if extra <= 0:
            return
        self.kind = np.concatenate([self.kind, np.full(extra, CONSTANT, dtype=np.int8)])
        for name, column in self.params.items():
            self.params[name] = np.concatenate([column, np.full(extra, _DEFAULTS[name])])

    def set_row(self, r: int, spec: ScheduleSpec, base_lr: float) -> None:
        """Give row r the schedule `spec` on top of the base rate `base_lr`."""
        self._scheduled += int(spec.kind != "constant") - int(int(self.kind[r]) != CONSTANT)
        self.kind[r] = CODES[spec.kind]
        p = self.params
        p["base_lr"][r] = base_lr
        p["factor"][r] = spec.factor
        p["every"][r] = spec.every
        p["k"][r] = spec.k
        p["period"][r] = spec.period
        p["min_lr"][r] = spec.min_lr
        p["max_lr"][r] = spec.max_lr
        p["step_size"][r] = spec.step_size
        p["cycle_epochs"][r] = spec.cycle_epochs

    def swap(self, a: int, b: int) -> None:
        """Exchange rows a and b (the engine's compaction moves sessions between rows)."""
        for column in (self.kind, *self.params.values()):
            column[a], column[b] = column[b], column[a]  # scalars: no fancy indexing (it was most of a swap)

    def any_scheduled(self, k: int) -> bool:
        """Whether any of rows [0, k) has a schedule other than constant."""
        return self._scheduled > 0 and bool(np.any(self.kind[:k] != CONSTANT))

    def rates(
        self,
        k: int,
        epoch: np.ndarray | float,
        iteration: np.ndarray | float,
        steps_per_epoch: np.ndarray | float,
    ) -> np.ndarray:
        """(k,) float64: the rate of rows [0, k) for their next step; arguments are per row or scalars."""
        p = {name: column[:k] for name, column in self.params.items()}
        out = p["base_lr"].astype(np.float64, copy=True)
        if not self.any_scheduled(k):
            return out
        kind = self.kind[:k]
        e_all, it_all, spe_all = (_per_row(a, k) for a in (epoch, iteration, steps_per_epoch))
        # One vectorised formula per kind present (at most six), on that kind's rows only.
        present = np.bincount(kind, minlength=len(KINDS))
        for code in np.flatnonzero(present):
            if code == CONSTANT:
                continue
            rows = np.flatnonzero(kind == code)
            lr = p["base_lr"][rows]
            e, it = e_all[rows], it_all[rows]
            name = KINDS[code]
            if name == "step":
                rate = lr * np.power(p["factor"][rows], np.floor(e / p["every"][rows]))
            elif name == "exponential":
                rate = lr * np.exp(-p["k"][rows] * e)
            elif name == "time":
                rate = lr / (1.0 + p["k"][rows] * e)
            elif name == "cosine":
                period, lo = p["period"][rows], p["min_lr"][rows]
                rate = lo + (lr - lo) * (1.0 + np.cos(np.pi * np.mod(e, period) / period)) / 2.0
            elif name == "cyclical":
                size = p["step_size"][rows]
                cycle = np.floor(1.0 + it / (2.0 * size))
                x = np.abs(it / size - 2.0 * cycle + 1.0)
                rate = lr + (p["max_lr"][rows] - lr) * np.maximum(0.0, 1.0 - x)
            elif name == "one_cycle":
                total = p["cycle_epochs"][rows] * np.maximum(spe_all[rows], 1.0)
                rate = _one_cycle(lr, it, total)
            else:  # pragma: no cover - a kind added to the catalog without a formula here
                raise NotImplementedError(f"schedule {name!r} has no vectorised formula")
            out[rows] = rate
        return out


def scheduled_rate(spec: ScheduleSpec, base_lr: float, epoch: int, iteration: int, steps_per_epoch: int) -> float:
    """The rate of one session for its next step: the scalar reference of ScheduleTable.rates."""
    lr = float(base_lr)
    kind = spec.kind
    if kind == "constant":
        return lr
    if kind == "step":
        return lr * spec.factor ** (epoch // spec.every)
    if kind == "exponential":
        return lr * math.exp(-spec.k * epoch)
    if kind == "time":
        return lr / (1.0 + spec.k * epoch)
    if kind == "cosine":
        t = epoch % spec.period
        return spec.min_lr + (lr - spec.min_lr) * (1.0 + math.cos(math.pi * t / spec.period)) / 2.0
    if kind == "cyclical":
        cycle = math.floor(1 + iteration / (2 * spec.step_size))
        x = abs(iteration / spec.step_size - 2 * cycle + 1)
        return lr + (spec.max_lr - lr) * max(0.0, 1.0 - x)
    if kind == "one_cycle":
        total = spec.cycle_epochs * max(steps_per_epoch, 1)
        up, down = total * ONE_CYCLE_UP, total * ONE_CYCLE_DOWN
        low, end = lr * ONE_CYCLE_LOW, lr * ONE_CYCLE_END
        if iteration < up:
            return low + (lr - low) * iteration / up
        if iteration < down:
            return lr - (lr - low) * (iteration - up) / (down - up)
        return low - (low - end) * min((iteration - down) / (total - down), 1.0)
    raise ValueError(f"unknown schedule {kind!r}")

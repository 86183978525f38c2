"""Per-epoch history of a session, thinned so it stays small however long a session trains."""

from dataclasses import dataclass, field

import numpy as np

MAX_POINTS = 2000
STREAM_POINTS = 500  # a frame carries at most this many, so it stays small however long the run


@dataclass
class History:
    """Epoch-indexed series; past MAX_POINTS, every other point is dropped and the stride doubles."""

    stride: int = 1
    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    validation_accuracy: list[float] = field(default_factory=list)
    grad_norms: list[list[float]] = field(default_factory=list)  # per epoch, one norm per layer

    # A float32 copy of epoch + SERIES, extended as epochs come, so a frame slices it instead of
    # indexing lists in Python (that was a fifth of the worker's time at 100 watched sessions).
    _mirror: np.ndarray = field(default_factory=lambda: np.zeros((7, 0), dtype=np.float32), repr=False, compare=False)
    _mirrored: int = field(default=0, repr=False, compare=False)

    SERIES = ("train_loss", "test_loss", "train_accuracy", "test_accuracy", "validation_loss", "validation_accuracy")
    # Mirror rows: a frame's series (epoch, losses) come first, so it takes them as one slice.
    _ROWS = ("epoch", "train_loss", "test_loss", "validation_loss", "train_accuracy", "test_accuracy",
             "validation_accuracy")
    _KEYS = {"validation_loss": "val_loss", "validation_accuracy": "val_accuracy"}

    def append(self, epoch: int, values: dict[str, float | None]) -> None:
        """Record an epoch if it falls on the current stride (missing values are stored as 0)."""
        if epoch % self.stride:
            return
        self.epoch.append(epoch)
        for name in self.SERIES:
            value = values.get(self._KEYS.get(name, name))
            getattr(self, name).append(0.0 if value is None else value)
        self.grad_norms.append(list(values.get("grad_norms") or []))  # type: ignore[arg-type]
        if len(self.epoch) > MAX_POINTS:
            self.stride *= 2
            keep = [i for i, e in enumerate(self.epoch) if e % self.stride == 0]
            for name in ("epoch", "grad_norms", *self.SERIES):
                values_ = getattr(self, name)
                setattr(self, name, [values_[i] for i in keep])
            self._mirrored = 0  # thinned: the mirror is rebuilt from the lists

    def as_dict(self, classification: bool, validation: bool) -> dict[str, list[float] | list[int] | None]:
        return {
            "epoch": list(self.epoch),
            "train_loss": list(self.train_loss),
            "test_loss": list(self.test_loss),
            "train_accuracy": list(self.train_accuracy) if classification else None,
            "test_accuracy": list(self.test_accuracy) if classification else None,
            "validation_loss": list(self.validation_loss) if validation else None,
            "validation_accuracy": list(self.validation_accuracy) if validation and classification else None,
        }

    def streamed(self, names: list[str]) -> np.ndarray:
        """The named series thinned to at most STREAM_POINTS evenly spaced points, the last one kept:
        (len(names), points) float32."""
        n = len(self.epoch)
        self._sync_mirror(n)
        step = -(-n // STREAM_POINTS) if n else 1
        if not n:
            return np.zeros((len(names), 0), np.float32)
        columns = slice((n - 1) % step, n, step)
        if tuple(names) == self._ROWS[: len(names)]:
            return np.ascontiguousarray(self._mirror[: len(names), columns])  # a copy: thinning rewrites the mirror
        return self._mirror[[self._ROWS.index(name) for name in names], columns]

    def _sync_mirror(self, n: int) -> None:
        """Copy the epochs recorded since the last frame into the mirror (all of them after thinning)."""
        if self._mirrored == n:
            return
        if self._mirror.shape[1] < n:
            grown = np.zeros((len(self._ROWS), max(2 * self._mirror.shape[1], n, 64)), dtype=np.float32)
            grown[:, : self._mirrored] = self._mirror[:, : self._mirrored]
            self._mirror = grown
        start = self._mirrored
        for row, name in enumerate(self._ROWS):
            self._mirror[row, start:n] = getattr(self, name)[start:n]
        self._mirrored = n

"""Per-epoch history of a session, thinned so it stays small however long a session trains."""

from dataclasses import dataclass, field

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

    SERIES = ("train_loss", "test_loss", "train_accuracy", "test_accuracy", "validation_loss", "validation_accuracy")
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

    def streamed(self, names: list[str]) -> list[list[float]]:
        """The named series thinned to at most STREAM_POINTS evenly spaced points, the last one kept."""
        n = len(self.epoch)
        step = -(-n // STREAM_POINTS) if n else 1
        keep = list(range((n - 1) % step, n, step))  # ends exactly on the newest point
        return [[getattr(self, name)[i] for i in keep] for name in names]

"""Per-epoch history of a session, thinned so it stays small however long a session trains."""

from dataclasses import dataclass, field

MAX_POINTS = 2000


@dataclass
class History:
    """Epoch-indexed series; past MAX_POINTS, every other point is dropped and the stride doubles."""

    stride: int = 1
    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)

    def append(self, epoch: int, train_loss: float, test_loss: float, train_acc: float, test_acc: float) -> None:
        """Record an epoch if it falls on the current stride."""
        if epoch % self.stride:
            return
        self.epoch.append(epoch)
        self.train_loss.append(train_loss)
        self.test_loss.append(test_loss)
        self.train_accuracy.append(train_acc)
        self.test_accuracy.append(test_acc)
        if len(self.epoch) > MAX_POINTS:
            self.stride *= 2
            keep = [i for i, e in enumerate(self.epoch) if e % self.stride == 0]
            for name in ("epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy"):
                values = getattr(self, name)
                setattr(self, name, [values[i] for i in keep])

    def as_dict(self, classification: bool) -> dict[str, list[float] | list[int] | None]:
        return {
            "epoch": list(self.epoch),
            "train_loss": list(self.train_loss),
            "test_loss": list(self.test_loss),
            "train_accuracy": list(self.train_accuracy) if classification else None,
            "test_accuracy": list(self.test_accuracy) if classification else None,
        }

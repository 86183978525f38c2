"""Per-session state: config, data, counters, history, watchers. Tensors live in the session's group."""

import math
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..data import feature_matrix, generate, split
from ..schemas import SessionConfig, SessionState
from .group import GroupKey, RowData, batch_cap
from .history import History
from .optim import OPTIMIZERS

if TYPE_CHECKING:
    from .engine import Watcher
    from .group import Group

# Configs that differ only in these paths are applied live, without re-initialising.
LIVE_FIELDS = {
    ("training", name)
    for name in ("learning_rate", "regularization", "regularization_rate", "momentum", "beta1", "beta2", "eps",
                 "rho", "alpha", "weight_decay", "momentum_decay")
}


@dataclass
class SessionData:
    """The generated points of a session, split, and its feature matrices."""

    train_points: np.ndarray  # (n_train, 2)
    train_labels: np.ndarray  # (n_train,)
    test_points: np.ndarray  # (n_test, 2)
    test_labels: np.ndarray  # (n_test,)
    version: int

    @classmethod
    def build(cls, config: SessionConfig, version: int) -> "SessionData":
        d = config.data
        points, labels = generate(d.dataset, d.num_points, d.noise, d.seed)
        (xtr, ytr), (xte, yte) = split(points, labels, d.train_ratio)
        return cls(xtr, ytr, xte, yte, version)

    def as_json(self) -> dict[str, Any]:
        return {
            "type": "dataset",
            "version": self.version,
            "train": {"x": self.train_points.round(4).tolist(), "y": self.train_labels.round(4).tolist()},
            "test": {"x": self.test_points.round(4).tolist(), "y": self.test_labels.round(4).tolist()},
        }


def hyper_values(config: SessionConfig) -> dict[str, float]:
    """Per-session hyperparameters as the group's (sessions,) tensors hold them."""
    t = config.training
    rate = t.regularization_rate
    values = {
        "lr": t.learning_rate,
        "l1": rate if t.regularization == "l1" else 0.0,
        "l2": rate if t.regularization == "l2" else 0.0,
    }
    for name in OPTIMIZERS[t.optimizer].hyper:
        values[name] = t.optimizer_value(name)
    return values


def changed_paths(old: dict[str, Any], new: dict[str, Any], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Dotted paths whose values differ between two config dicts."""
    paths: set[tuple[str, ...]] = set()
    for key in old.keys() | new.keys():
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            paths |= changed_paths(a, b, (*prefix, key))
        elif a != b:
            paths.add((*prefix, key))
    return paths


@dataclass
class Session:
    """One user's training run; the engine's worker thread is the only writer."""

    id: str
    config: SessionConfig
    data: SessionData
    group: "Group | None" = None
    row: int = -1
    running: bool = False
    init_count: int = 0
    epoch: int = 0
    step: int = 0
    train_loss: float | None = None
    test_loss: float | None = None
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    epochs_per_second: float = 0.0
    stop_reason: str | None = None
    history: History = field(default_factory=History)
    watchers: list["Watcher"] = field(default_factory=list)
    train_waiters: list[tuple[int, "Future[SessionState]"]] = field(default_factory=list)
    last_activity: float = field(default_factory=time.monotonic)
    dirty: bool = True  # something changed that watchers have not seen yet
    frame_seq: int = 0
    rate_epoch: int = 0
    rate_time: float = field(default_factory=time.monotonic)

    @property
    def classification(self) -> bool:
        return self.config.problem == "classification"

    @property
    def wants_training(self) -> bool:
        return self.running or bool(self.train_waiters)

    def key(self) -> GroupKey:
        c = self.config
        n_train = len(self.data.train_labels)
        return GroupKey(
            features=tuple(c.features),
            widths=tuple(c.network.hidden_layers),
            n_out=1,
            activation=c.network.activation,
            loss=c.loss,
            optimizer=c.training.optimizer,
            batch_cap=batch_cap(min(c.training.batch_size, n_train)),
        )

    def fresh_row(self, key: GroupKey) -> RowData:
        """New weights (TensorFlow Playground's init: uniform(-0.5, 0.5), bias 0.1) and zeroed counters."""
        gen = torch.Generator().manual_seed(self.config.data.seed * 7919 + self.init_count)
        dims = key.dims
        params: dict[str, torch.Tensor] = {}
        for i in range(len(dims) - 1):
            params[f"W{i}"] = torch.rand(dims[i], dims[i + 1], generator=gen) - 0.5  # (in, out)
            params[f"b{i}"] = torch.full((1, dims[i + 1]), 0.1)  # (1, out)
        slots = {f"{s}.{p}": torch.zeros_like(v) for s in _slots(key) for p, v in params.items()}
        return self.row_with(key, params, slots)

    def row_with(self, key: GroupKey, params: dict[str, torch.Tensor], slots: dict[str, torch.Tensor]) -> RowData:
        """Row data from given weights and optimiser state, with this session's data and counters."""
        feats = list(key.features)
        batch = min(self.config.training.batch_size, len(self.data.train_labels))
        n_train, n_test = len(self.data.train_labels), len(self.data.test_labels)
        return RowData(
            params=params,
            slots=slots,
            hyper=hyper_values(self.config),
            x_train=torch.from_numpy(feature_matrix(self.data.train_points, feats)),
            y_train=torch.from_numpy(self.data.train_labels).float()[:, None],
            x_test=torch.from_numpy(feature_matrix(self.data.test_points, feats)),
            y_test=torch.from_numpy(self.data.test_labels).float()[:, None],
            counters={
                "batch": batch,
                "n_train": n_train,
                "n_test": n_test,
                "epoch_len": -(-n_train // batch),
                "steps_in_epoch": 0,
                "epoch": self.epoch,
                "step": self.step,
            },
        )

    def record_epoch(
        self, train_loss: float, test_loss: float, train_acc: float | None, test_acc: float | None
    ) -> bool:
        """Store an epoch's evaluation; False when the loss is not finite (the run diverged)."""
        if not (math.isfinite(train_loss) and math.isfinite(test_loss)):
            return False
        self.train_loss, self.test_loss = train_loss, test_loss
        self.train_accuracy, self.test_accuracy = train_acc, test_acc
        self.history.append(self.epoch, train_loss, test_loss, train_acc or 0.0, test_acc or 0.0)
        return True

    def snapshot(self) -> SessionState:
        return SessionState(
            running=self.running,
            epoch=self.epoch,
            step=self.step,
            train_loss=self.train_loss,
            test_loss=self.test_loss,
            train_accuracy=self.train_accuracy,
            test_accuracy=self.test_accuracy,
            epochs_per_second=round(self.epochs_per_second, 1),
            learning_rate=self.config.training.learning_rate,
            stop_reason=self.stop_reason,
        )

    def clear_progress(self) -> None:
        self.epoch = self.step = 0
        self.train_loss = self.test_loss = self.train_accuracy = self.test_accuracy = None
        self.history = History()
        self.stop_reason = None
        self.rate_epoch, self.rate_time = 0, time.monotonic()
        self.epochs_per_second = 0.0


def _slots(key: GroupKey) -> tuple[str, ...]:
    return OPTIMIZERS[key.optimizer].slots

"""Per-session state: config, data, counters, history, watchers. Tensors live in the session's group."""

import math
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from ..schemas import ScheduleSpec, SessionConfig, SessionState, StopSpec
from .dataset import SessionData
from .group import PARTS, GroupKey, RowData, batch_cap
from .history import History
from .network import initial_state, parameter_shapes
from .optim import OPTIMIZERS
from .schedules import scheduled_rate

if TYPE_CHECKING:
    from .engine import Watcher
    from .group import Group

# Configs that differ only in these paths are applied live, without re-initialising.
LIVE_FIELDS = {
    ("training", name)
    for name in ("learning_rate", "regularization", "regularization_rate", "momentum", "beta1", "beta2", "eps",
                 "rho", "alpha", "weight_decay", "momentum_decay", "clip", "clip_value", "input_noise")
} | {("training", "schedule", name) for name in ScheduleSpec.model_fields} | {
    ("training", "stop", name) for name in StopSpec.model_fields
}
# Our data sets' targets are about ±1, so a loss past this has blown up, even if still finite.
EXPLODED_LOSS = 1e6
# Changes of what the plane shows: the data is drawn anew, the network and its training go on.
VIEW_FIELDS = {("data", "plane", name) for name in ("mode", "x", "y")}
# Changes that keep the weights but may move the session to another group.
REGROUP_FIELDS = {("training", "batch_mode"), ("training", "batch_size"), ("network", "dropout")}


def hyper_values(config: SessionConfig) -> dict[str, float]:
    """Per-session hyperparameters as the group's (sessions,) tensors hold them."""
    t = config.training
    rate = t.regularization_rate
    inf = float("inf")
    values = {
        "lr": t.learning_rate,
        "l1": rate if t.regularization == "l1" else 0.0,
        "l2": rate if t.regularization == "l2" else 0.0,
        "clip_norm": t.clip_value if t.clip == "norm" else inf,
        "clip_val": t.clip_value if t.clip == "value" else inf,
        "noise": t.input_noise,
    }
    for name in OPTIMIZERS[t.optimizer].hyper:
        values[name] = t.optimizer_value(name)
    return values


def keeps_weights(old: SessionConfig, new: SessionConfig) -> bool:
    """Does changing `old` into `new` keep the session's weights and progress (a live rate, a
    regroup or another plane)? Anything else re-initialises it (Engine.configure)."""
    return changed_paths(old.model_dump(), new.model_dump()) <= LIVE_FIELDS | REGROUP_FIELDS | VIEW_FIELDS


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
    validation_loss: float | None = None
    validation_accuracy: float | None = None
    best_validation_loss: float | None = None
    best_epoch: int | None = None
    best_params: dict[str, torch.Tensor] | None = None  # weights at best_epoch, for early stopping
    capture_best: bool = False  # the engine should copy the weights into best_params
    epochs_since_best: int = 0
    best_train_loss: float | None = None
    epochs_since_train_best: int = 0
    epochs_per_second: float = 0.0
    stop_reason: str | None = None
    history: History = field(default_factory=History)
    watchers: list["Watcher"] = field(default_factory=list)
    neuron_watchers: set[int] = field(default_factory=set)  # ids of watchers that asked for neuron maps
    train_waiters: list[tuple[int, "Future[SessionState]"]] = field(default_factory=list)
    last_activity: float = field(default_factory=time.monotonic)
    # Changes counted by the worker; `shown` is the count the last published frame reflects
    # (written by the publisher thread), so a frame dropped before publishing is drawn again.
    changes: int = 1
    shown: int = 0
    frame_seq: int = 0
    published_seq: int = 0  # the newest frame handed to watchers (publisher thread)
    view_version: int = 0  # bumped by config and dataset events
    saved_marker: tuple[int, int, int] | None = None  # (step, init_count, config id) at the last checkpoint
    rate_epoch: int = 0
    rate_time: float = field(default_factory=time.monotonic)

    @property
    def classification(self) -> bool:
        return self.config.problem == "classification"

    @property
    def dirty(self) -> bool:
        """Something changed that watchers have not seen yet."""
        return self.changes != self.shown

    @property
    def wants_training(self) -> bool:
        return self.running or bool(self.train_waiters)

    @property
    def needs_exact_epochs(self) -> bool:
        """Must this session's epoch ends be handled at once (a wait for N epochs, a stop condition)?
        Others are evaluated in batches at the end of a training slice (worker.py)."""
        stop = self.config.training.stop
        return bool(self.train_waiters) or any(
            v is not None for v in (stop.max_epochs, stop.target_loss, stop.target_accuracy,
                                    stop.plateau_patience, stop.early_stopping_patience)
        )

    def key(self) -> GroupKey:
        c = self.config
        return GroupKey(
            features=self.data.feature_names(c.features),
            widths=tuple(c.network.hidden_layers),
            activations=tuple(c.network.activations),
            n_out=self.data.classes if c.loss == "cce" else 1,
            loss=c.loss,
            optimizer=c.training.optimizer,
            batch_cap=batch_cap(c.training.effective_batch(self.data.n_train)),
            leaky_slope=c.network.leaky_relu_slope,
            huber_delta=c.training.huber_delta if c.loss == "huber" else 1.0,
            batch_norm=c.network.batch_norm,
            dropout=c.network.dropout,
        )

    def fresh_row(self, key: GroupKey) -> RowData:
        """New weights from the config's initialisation (seeded), zeroed optimiser state and counters."""
        gen = torch.Generator().manual_seed(self.config.data.seed * 7919 + self.init_count)
        params = initial_state(key, self.config.network.init, gen)
        slots = {f"{s}.{p}": torch.zeros_like(params[p]) for s in _slots(key) for p in parameter_shapes(key)}
        return self.row_with(key, params, slots)

    def row_with(self, key: GroupKey, params: dict[str, torch.Tensor], slots: dict[str, torch.Tensor]) -> RowData:
        """Row data from given weights and optimiser state, with this session's data and counters."""
        feats = list(key.features)
        n = {part: len(self.data.labels[part]) for part in PARTS}
        batch = self.config.training.effective_batch(n["train"])
        data = {}
        for part in PARTS:
            data[f"x_{part}"] = self.data.network_inputs(part, feats)
            data[f"y_{part}"] = self.data.targets(part, key.loss)
        return RowData(
            params=params,
            slots=slots,
            hyper=hyper_values(self.config),
            data=data,
            counters={
                "batch": batch,
                "n_train": n["train"],
                "n_val": n["val"],
                "n_test": n["test"],
                "epoch_len": -(-n["train"] // batch),
                "steps_in_epoch": 0,
                "epoch": self.epoch,
                "step": self.step,
            },
        )

    def record_epoch(self, ev: dict[str, float | None]) -> str | None:
        """Store an epoch's evaluation; returns why training should pause now, if it should."""
        losses = [ev["train_loss"], ev["test_loss"], ev["val_loss"]]
        if any(v is not None and not math.isfinite(v) for v in losses):
            return "diverged: the loss became NaN or infinite; reset or lower the learning rate"
        if ev["train_loss"] is not None and ev["train_loss"] > EXPLODED_LOSS:
            return "diverged: the loss exploded (over a million); reset or lower the learning rate"
        self.show_evaluation(ev)
        self.history.append(self.epoch, ev)
        stop = self.config.training.stop
        if self.validation_loss is not None:
            if self.best_validation_loss is None or self.validation_loss < self.best_validation_loss:
                self.best_validation_loss, self.best_epoch = self.validation_loss, self.epoch
                self.capture_best = True
                self.epochs_since_best = 0
            else:
                self.epochs_since_best += 1
        assert self.train_loss is not None
        if self.best_train_loss is None or self.train_loss < self.best_train_loss * (1 - 1e-4):
            self.best_train_loss, self.epochs_since_train_best = self.train_loss, 0
        else:
            self.epochs_since_train_best += 1
        if stop.max_epochs is not None and self.epoch >= stop.max_epochs:
            return f"max epochs reached ({stop.max_epochs})"
        if stop.target_loss is not None and self.test_loss is not None and self.test_loss <= stop.target_loss:
            return f"target loss reached: test loss {self.test_loss:.4g} ≤ {stop.target_loss:g}"
        if stop.target_accuracy is not None and (self.test_accuracy or 0.0) >= stop.target_accuracy:
            return f"target accuracy reached: test accuracy {self.test_accuracy:.1%}"
        if stop.plateau_patience is not None and self.epochs_since_train_best >= stop.plateau_patience:
            return f"plateau: the training loss has not improved for {stop.plateau_patience} epochs"
        patience = stop.early_stopping_patience
        if patience is not None and self.epochs_since_best >= patience:
            return (
                f"early stopping: the validation loss has not improved for {patience} epochs; "
                f"restored the weights of epoch {self.best_epoch}"
            )
        return None

    def show_evaluation(self, ev: dict[str, float | None]) -> None:
        """Make an evaluation the state's current losses and accuracies."""
        self.train_loss, self.test_loss, self.validation_loss = ev["train_loss"], ev["test_loss"], ev["val_loss"]
        self.train_accuracy, self.test_accuracy = ev["train_accuracy"], ev["test_accuracy"]
        self.validation_accuracy = ev["val_accuracy"]

    def current_learning_rate(self) -> float:
        """The rate in force now, after the schedule."""
        t = self.config.training
        batch = t.effective_batch(self.data.n_train)
        epoch_len = -(-self.data.n_train // batch)
        return scheduled_rate(t.schedule, t.learning_rate, self.epoch, self.step, epoch_len)

    def snapshot(self) -> SessionState:
        return SessionState(**self.state_values())

    def state_values(self) -> dict[str, Any]:
        """SessionState's fields as plain values: what snapshot().model_dump() gives, without
        building a model (frames need this 20 times a second for every watched session)."""
        values: dict[str, Any] = {name: getattr(self, name) for name in _STATE_FIELDS}
        values["epochs_per_second"] = round(self.epochs_per_second, 1)
        values["learning_rate"] = self.current_learning_rate()
        return values

    def clear_progress(self) -> None:
        self.epoch = self.step = 0
        self.train_loss = self.test_loss = self.validation_loss = None
        self.train_accuracy = self.test_accuracy = self.validation_accuracy = None
        self.best_validation_loss = self.best_train_loss = None
        self.best_epoch = None
        self.best_params = None
        self.epochs_since_best = self.epochs_since_train_best = 0
        self.history = History()
        self.stop_reason = None
        self.rate_epoch, self.rate_time = 0, time.monotonic()
        self.epochs_per_second = 0.0


# SessionState's fields that a Session holds under the same name (the other two are computed).
_STATE_FIELDS = [name for name in SessionState.model_fields if name not in ("epochs_per_second", "learning_rate")]


def _slots(key: GroupKey) -> tuple[str, ...]:
    return OPTIMIZERS[key.optimizer].slots

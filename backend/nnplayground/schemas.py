"""The one schema: session configs, state, commands. REST, websocket, storage and engine use it."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import catalog
from .config import Settings

ACTIVATION_ALIASES = {"silu": "swish"}


class Spec(BaseModel):
    """Base for config parts: unknown fields are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid")


class PlaneSpec(Spec):
    """How data of more than two columns is drawn: two of its columns, or its first two principal components."""

    mode: Literal["features", "pca"] = "features"
    x: int = Field(0, ge=0, le=19, description="column on the horizontal axis (features mode)")
    y: int = Field(1, ge=0, le=19, description="column on the vertical axis (features mode)")


class DataSpec(Spec):
    dataset: str = "circle"
    noise: float = Field(0.0, ge=0, le=50, description="label/position noise, in percent")
    train_ratio: float = Field(0.5, ge=0.1, le=0.9, description="share of points used for training")
    num_points: int = Field(500, ge=10, description="points generated; upper bound from Settings")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    validation_ratio: float = Field(
        0.0, ge=0, le=0.5, description="share held out for validation (0 = off; 0.2 with train 0.6 is usual)"
    )
    classes: int = Field(2, ge=2, le=10, description="classes, for data sets that offer more than two")
    standardize: bool = Field(True, description="tables and your own data: scale each column to mean 0, std 1")
    plane: PlaneSpec = Field(default_factory=PlaneSpec)

    @model_validator(mode="after")
    def _consistent(self) -> "DataSpec":
        if self.train_ratio + self.validation_ratio > 0.9 + 1e-9:
            raise ValueError(
                f"train_ratio + validation_ratio must leave at least 10 % for testing "
                f"(got {self.train_ratio} + {self.validation_ratio})"
            )
        ds = catalog.DATASETS[self.dataset]
        if ds.classes > self.classes:
            self.classes = ds.classes  # a data set of 3+ classes (rings, iris) states its own count
        if self.classes > ds.max_classes:
            raise ValueError(f"dataset {ds.name!r} has at most {ds.max_classes} classes (got {self.classes})")
        if self.plane.x == self.plane.y:
            raise ValueError("plane.x and plane.y must be different columns")
        return self

    @property
    def num_classes(self) -> int:
        """Classes the data set actually has (0 for regression)."""
        ds = catalog.DATASETS[self.dataset]
        if self.dataset == "custom":
            return self.classes  # set from the user's data; the config's problem decides if it counts
        return 0 if ds.problem == "regression" else max(ds.classes, self.classes if ds.max_classes > 2 else 2)

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, v: str) -> str:
        if v not in catalog.DATASETS:
            raise ValueError(f"unknown dataset {v!r}; choose one of {sorted(catalog.DATASETS)}")
        return v


class NetworkSpec(Spec):
    hidden_layers: list[int] = Field(default_factory=lambda: [4, 2])
    activation: str = "tanh"
    layer_activations: list[str] | None = Field(
        None, description="one activation per hidden layer, overriding `activation`"
    )
    leaky_relu_slope: float = Field(0.01, ge=0, le=1)
    init: str = Field("tf", description="weight initialisation; see catalog.inits")
    batch_norm: Literal["none", "before", "after"] = "none"
    dropout: float = Field(0.0, ge=0, le=0.9, description="dropout rate p after every hidden layer")

    @field_validator("init")
    @classmethod
    def _known_init(cls, v: str) -> str:
        if v not in catalog.INITS:
            raise ValueError(f"unknown init {v!r}; choose one of {list(catalog.INITS)}")
        return v

    @field_validator("layer_activations")
    @classmethod
    def _known_layer_activations(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return None
        v = [ACTIVATION_ALIASES.get(a, a) for a in v]
        unknown = [a for a in v if a not in catalog.ACTIVATIONS]
        if unknown:
            raise ValueError(f"unknown activations {unknown}; choose from {list(catalog.ACTIVATIONS)}")
        return v

    @model_validator(mode="after")
    def _one_activation_per_layer(self) -> "NetworkSpec":
        if self.layer_activations is not None and len(self.layer_activations) != len(self.hidden_layers):
            raise ValueError(
                f"layer_activations needs one entry per hidden layer "
                f"({len(self.hidden_layers)}, got {len(self.layer_activations)})"
            )
        return self

    @property
    def activations(self) -> list[str]:
        """The activation of each hidden layer."""
        return list(self.layer_activations) if self.layer_activations else [self.activation] * len(self.hidden_layers)

    @field_validator("hidden_layers")
    @classmethod
    def _positive_widths(cls, v: list[int]) -> list[int]:
        if any(w < 1 for w in v):
            raise ValueError("every hidden layer needs at least 1 neuron")
        return v

    @field_validator("activation")
    @classmethod
    def _known_activation(cls, v: str) -> str:
        v = ACTIVATION_ALIASES.get(v, v)
        if v not in catalog.ACTIVATIONS:
            raise ValueError(f"unknown activation {v!r}; choose one of {sorted(catalog.ACTIVATIONS)}")
        return v


class ScheduleSpec(Spec):
    """Learning-rate schedule; `learning_rate` is the initial (or, for one_cycle, the peak) rate."""

    kind: str = "constant"
    factor: float = Field(0.5, gt=0, le=1, description="step decay: multiply by this every `every` epochs")
    every: int = Field(10, ge=1, description="step decay period, in epochs")
    k: float = Field(0.1, ge=0, le=100, description="exponential e^(-k·epoch) and time-based 1/(1+k·epoch)")
    period: int = Field(100, ge=1, description="cosine: epochs from lr down to min_lr")
    min_lr: float = Field(0.0, ge=0)
    max_lr: float = Field(0.1, gt=0, description="cyclical: upper bound (lr is the lower)")
    step_size: int = Field(200, ge=1, description="cyclical: iterations (batches) per half cycle")
    cycle_epochs: int = Field(100, ge=2, description="one cycle: its length in epochs")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        if v not in catalog.SCHEDULES:
            raise ValueError(f"unknown schedule {v!r}; choose one of {list(catalog.SCHEDULES)}")
        return v


class StopSpec(Spec):
    """Conditions that pause training with a stated reason; None turns one off."""

    max_epochs: int | None = Field(None, ge=1)
    target_loss: float | None = Field(None, gt=0, description="stop when the test loss is at or below")
    target_accuracy: float | None = Field(None, gt=0, le=1, description="stop when test accuracy reaches")
    plateau_patience: int | None = Field(
        None, ge=1, description="stop after this many epochs without a better training loss"
    )
    early_stopping_patience: int | None = Field(
        None, ge=1, description="stop after this many epochs without a better validation loss, then restore the best"
    )


class TrainSpec(Spec):
    optimizer: str = "sgd"
    learning_rate: float = Field(0.03, gt=0, le=1000)
    batch_mode: Literal["mini", "full", "stochastic"] = "mini"
    batch_size: int = Field(10, ge=1, description="mini-batch size, clamped to the training set's size")
    regularization: Literal["none", "l1", "l2"] = "none"
    regularization_rate: float = Field(0.0, ge=0, le=1000)
    loss: str | None = Field(None, description="None picks the problem's default loss")
    # Optimiser hyperparameters; None takes the optimiser's default from the catalog.
    momentum: float | None = Field(None, ge=0, lt=1)
    beta1: float | None = Field(None, ge=0, lt=1)
    beta2: float | None = Field(None, ge=0, lt=1)
    eps: float | None = Field(None, gt=0, le=1)
    rho: float | None = Field(None, ge=0, lt=1)
    alpha: float | None = Field(None, ge=0, lt=1)
    weight_decay: float | None = Field(None, ge=0, le=10)
    momentum_decay: float | None = Field(None, ge=0, le=1)
    huber_delta: float = Field(1.0, gt=0, le=100)
    schedule: ScheduleSpec = Field(default_factory=ScheduleSpec)
    clip: Literal["none", "norm", "value"] = "none"
    clip_value: float = Field(1.0, gt=0, le=1000)
    input_noise: float = Field(0.0, ge=0, le=5, description="std of Gaussian noise added to inputs each step")
    stop: StopSpec = Field(default_factory=StopSpec)

    def effective_batch(self, n_train: int) -> int:
        """Points per step, as the batch mode names it."""
        if self.batch_mode == "full":
            return n_train
        if self.batch_mode == "stochastic":
            return 1
        return min(self.batch_size, n_train)

    def optimizer_value(self, name: str) -> float:
        """A hyperparameter of the chosen optimiser: the config's value or the catalog default."""
        value = getattr(self, name)
        return float(catalog.OPTIMIZERS[self.optimizer].params[name] if value is None else value)

    @field_validator("optimizer")
    @classmethod
    def _known_optimizer(cls, v: str) -> str:
        if v not in catalog.OPTIMIZERS:
            raise ValueError(f"unknown optimizer {v!r}; choose one of {sorted(catalog.OPTIMIZERS)}")
        return v


class SessionConfig(Spec):
    """Everything that defines a session; defaults are TensorFlow Playground's."""

    problem: Literal["classification", "regression"] = "classification"
    data: DataSpec = Field(default_factory=DataSpec)
    features: list[str] = Field(default_factory=lambda: ["x1", "x2"])
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    training: TrainSpec = Field(default_factory=TrainSpec)

    @model_validator(mode="before")
    @classmethod
    def _default_dataset_for_problem(cls, data: Any) -> Any:
        # {"problem": "regression"} alone should mean regression on its default data set.
        if isinstance(data, dict) and data.get("problem") == "regression":
            spec = data.get("data")
            if spec is None or (isinstance(spec, dict) and "dataset" not in spec):
                data = {**data, "data": {**(spec or {}), "dataset": "plane"}}
        return data

    @field_validator("features")
    @classmethod
    def _known_features(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("pick at least one input feature")
        unknown = [f for f in v if f not in catalog.FEATURES]
        if unknown:
            raise ValueError(f"unknown features {unknown}; choose from {list(catalog.FEATURES)}")
        if len(set(v)) != len(v):
            raise ValueError("features must not repeat")
        # Canonical order, so equal feature sets give equal configs.
        return [f for f in catalog.FEATURES if f in v]

    @model_validator(mode="after")
    def _consistent(self) -> "SessionConfig":
        ds = catalog.DATASETS[self.data.dataset]
        if ds.problem != self.problem and ds.name != "custom":  # your own data may be either
            names = [d.name for d in catalog.DATASETS.values() if d.problem == self.problem]
            raise ValueError(
                f"dataset {ds.name!r} is for {ds.problem}; for {self.problem} choose one of {names}"
            )
        if self.training.loss is not None and self.training.loss not in catalog.LOSSES:
            raise ValueError(f"unknown loss {self.training.loss!r}; choose one of {list(catalog.LOSSES)}")
        if self.training.loss is not None and self.training.loss not in catalog.PROBLEM_LOSSES[self.problem]:
            raise ValueError(
                f"loss {self.training.loss!r} does not fit {self.problem}; "
                f"choose one of {list(catalog.PROBLEM_LOSSES[self.problem])}"
            )
        if self.num_classes > 2 and self.training.loss in catalog.BINARY_LOSSES:
            raise ValueError(f"loss {self.training.loss!r} needs two classes; use 'cce' for {self.num_classes}")
        if self.training.stop.early_stopping_patience is not None and self.data.validation_ratio == 0:
            raise ValueError("early stopping watches the validation loss: set data.validation_ratio (e.g. 0.2)")
        return self

    @property
    def num_classes(self) -> int:
        return 0 if self.problem == "regression" else self.data.num_classes

    @property
    def loss(self) -> str:
        """The loss actually used: the config's, or the problem's default (cce for 3+ classes)."""
        if self.training.loss:
            return self.training.loss
        return "cce" if self.num_classes > 2 else catalog.DEFAULT_LOSS[self.problem]


class LimitError(ValueError):
    """A config that the schema accepts but this server's limits do not."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def check_limits(config: SessionConfig, settings: Settings) -> None:
    """Raise LimitError naming the field and the allowed range when a limit is exceeded."""
    layers = config.network.hidden_layers
    if len(layers) > settings.max_hidden_layers:
        raise LimitError(
            ("network", "hidden_layers"),
            f"at most {settings.max_hidden_layers} hidden layers (got {len(layers)})",
        )
    for i, w in enumerate(layers):
        if w > settings.max_neurons:
            raise LimitError(
                ("network", "hidden_layers", i),
                f"each hidden layer has 1 to {settings.max_neurons} neurons (got {w})",
            )
    if config.data.num_points > settings.max_points:
        raise LimitError(
            ("data", "num_points"), f"num_points must be 10 to {settings.max_points} (got {config.data.num_points})"
        )
    if config.training.batch_size > settings.max_points:
        raise LimitError(
            ("training", "batch_size"),
            f"batch_size must be 1 to {settings.max_points} (got {config.training.batch_size})",
        )


def merge_config(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge a partial config into a full one (lists are replaced, not merged)."""
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_config(out[key], value)
        else:
            out[key] = value
    return out


class SessionState(BaseModel):
    """Where a session's training stands."""

    running: bool = False
    epoch: int = 0
    step: int = 0
    train_loss: float | None = None
    test_loss: float | None = None
    train_accuracy: float | None = None
    test_accuracy: float | None = None
    validation_loss: float | None = None
    validation_accuracy: float | None = None
    best_epoch: int | None = Field(None, description="epoch of the lowest validation loss")
    epochs_per_second: float = 0.0
    learning_rate: float | None = Field(None, description="the rate in force now, after the schedule")
    stop_reason: str | None = None


class SessionOut(BaseModel):
    id: str
    config: SessionConfig
    state: SessionState


class SessionCreated(SessionOut):
    token: str


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    epochs: int = Field(1, ge=1, description="upper bound from Settings.max_epochs_per_train")


class HistoryOut(BaseModel):
    epoch: list[int]
    train_loss: list[float]
    test_loss: list[float]
    train_accuracy: list[float] | None = None
    test_accuracy: list[float] | None = None
    validation_loss: list[float] | None = None
    validation_accuracy: list[float] | None = None


class GridOut(BaseModel):
    resolution: int
    x: list[float]
    y: list[float]
    values: list[list[float]] = Field(
        description="row-major: values[row][col] at (x[col], y[row]); the predicted class when classes > 2"
    )
    classes: int | None = None
    probabilities: list[list[list[float]]] | None = Field(None, description="per class, for classes > 2")


class LRRangeTestRequest(BaseModel):
    """A learning-rate range test: the rate grows exponentially from start to end over steps mini-batches."""

    model_config = ConfigDict(extra="forbid")
    start: float = Field(1e-7, gt=0, le=1)
    end: float = Field(10.0, gt=0, le=1000)
    steps: int = Field(100, ge=10, le=1000)

    @model_validator(mode="after")
    def _increasing(self) -> "LRRangeTestRequest":
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be above start ({self.start})")
        return self


class LRRangeTestOut(BaseModel):
    learning_rates: list[float]
    losses: list[float]
    min_loss_rate: float | None = None
    suggested: float | None = Field(None, description="a tenth of the rate with the lowest (smoothed) loss")


class ConfusionOut(BaseModel):
    labels: list[int]
    matrix: list[list[int]] = Field(description="matrix[true][predicted] counts")
    accuracy: float


class MetricsOut(BaseModel):
    problem: Literal["classification", "regression"]
    train: dict[str, Any]
    validation: dict[str, Any] | None = None
    test: dict[str, Any]


# Websocket commands, client to server (JSON text messages).
class PlayCommand(Spec):
    type: Literal["play"]


class PauseCommand(Spec):
    type: Literal["pause"]


class StepCommand(Spec):
    type: Literal["step"]


class ResetCommand(Spec):
    type: Literal["reset"]


class UpdateCommand(Spec):
    type: Literal["update"]
    config: dict[str, Any]


class LRRangeTestCommand(LRRangeTestRequest):
    type: Literal["lr_range_test"]


class WeightEdit(Spec):
    """One link's new weight: from unit `from` of layer `layer`'s input to its unit `to` (None: the bias)."""

    layer: int = Field(ge=0)
    source: int | None = Field(None, alias="from", ge=0)
    to: int = Field(ge=0)
    value: float = Field(ge=-1e6, le=1e6)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SetWeightCommand(WeightEdit):
    type: Literal["set_weight"]


class AddPointCommand(Spec):
    type: Literal["add_point"]
    x: float = Field(ge=-1e6, le=1e6)
    y: float = Field(ge=-1e6, le=1e6)
    label: float = Field(ge=-1e6, le=1e6)


class RemovePointCommand(Spec):
    type: Literal["remove_point"]
    x: float = Field(ge=-1e6, le=1e6)
    y: float = Field(ge=-1e6, le=1e6)


class ViewsCommand(Spec):
    type: Literal["views"]
    neurons: bool = False


Command = (
    PlayCommand | PauseCommand | StepCommand | ResetCommand | UpdateCommand | LRRangeTestCommand
    | SetWeightCommand | ViewsCommand | AddPointCommand | RemovePointCommand
)

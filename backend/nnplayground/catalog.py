"""Registries keyed by the names used on the wire.

They are the single list of choices: schema validation, `/api/catalog` and the UI's menus all
read them. Implementations live in the engine, keyed by the same names (a test keeps them equal).
"""

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Problem = Literal["classification", "regression"]


@dataclass(frozen=True)
class Choice:
    """One option of a menu: its wire name, a label for people and a one-line note."""

    name: str
    label: str
    note: str = ""


@dataclass(frozen=True)
class DatasetChoice(Choice):
    problem: Problem = "classification"
    classes: int = 2  # 0 for regression


@dataclass(frozen=True)
class OptimizerChoice(Choice):
    # Hyperparameters with their defaults, as torch.optim names them.
    params: dict[str, float] = field(default_factory=dict)


DATASETS: dict[str, DatasetChoice] = {
    d.name: d
    for d in [
        DatasetChoice("circle", "Circle", "a disc of one class inside a ring of the other"),
        DatasetChoice("xor", "Exclusive or", "four quadrants; needs a hidden layer"),
        DatasetChoice("gauss", "Gaussian", "two Gaussian clouds"),
        DatasetChoice("spiral", "Spiral", "two interleaved spirals"),
        DatasetChoice("plane", "Plane", "a tilted plane", problem="regression", classes=0),
        DatasetChoice(
            "multi-gauss", "Multi Gaussian", "a sum of Gaussian bumps", problem="regression", classes=0
        ),
    ]
}

FEATURES: dict[str, Choice] = {
    c.name: c
    for c in [
        Choice("x1", "X₁"),
        Choice("x2", "X₂"),
        Choice("x1^2", "X₁²"),
        Choice("x2^2", "X₂²"),
        Choice("x1x2", "X₁X₂"),
        Choice("sin_x1", "sin(X₁)"),
        Choice("sin_x2", "sin(X₂)"),
    ]
}

ACTIVATIONS: dict[str, Choice] = {
    c.name: c
    for c in [
        Choice("relu", "ReLU", "max(0, x)"),
        Choice("tanh", "Tanh", "hyperbolic tangent, in (-1, 1)"),
        Choice("sigmoid", "Sigmoid", "1 / (1 + e^-x), in (0, 1)"),
        Choice("linear", "Linear", "identity: a deep linear net is still linear"),
    ]
}

_ADAM = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}

# Hyperparameters and their defaults are torch.optim's (AdamW's weight decay is decoupled).
OPTIMIZERS: dict[str, OptimizerChoice] = {
    c.name: c
    for c in [
        OptimizerChoice("sgd", "SGD", "plain (stochastic) gradient descent", {"weight_decay": 0.0}),
        OptimizerChoice("momentum", "SGD + momentum", "velocity v = μv + g; w -= lr·v",
                        {"momentum": 0.9, "weight_decay": 0.0}),
        OptimizerChoice("nesterov", "Nesterov", "momentum that looks ahead", {"momentum": 0.9, "weight_decay": 0.0}),
        OptimizerChoice("adagrad", "Adagrad", "per-weight rate shrinks with the sum of squared gradients",
                        {"eps": 1e-10, "weight_decay": 0.0}),
        OptimizerChoice("adadelta", "Adadelta", "Adagrad with a decaying window; lr 1.0 is usual",
                        {"rho": 0.9, "eps": 1e-6, "weight_decay": 0.0}),
        OptimizerChoice("rmsprop", "RMSprop", "divides by a running RMS of gradients",
                        {"alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0}),
        OptimizerChoice("adam", "Adam", "adaptive moments (momentum + RMSprop)", dict(_ADAM)),
        OptimizerChoice("adamw", "AdamW", "Adam with decoupled weight decay", {**_ADAM, "weight_decay": 0.01}),
        OptimizerChoice("nadam", "Nadam", "Adam with Nesterov momentum", {**_ADAM, "momentum_decay": 0.004}),
        OptimizerChoice("adamax", "Adamax", "Adam with the infinity norm", dict(_ADAM)),
    ]
}

REGULARIZATIONS: dict[str, Choice] = {
    c.name: c
    for c in [
        Choice("none", "None"),
        Choice("l1", "L1", "adds rate · Σ|w| to the loss: drives weights to zero"),
        Choice("l2", "L2", "adds rate · ½Σw² to the loss: shrinks weights"),
    ]
}

LOSSES: dict[str, Choice] = {
    c.name: c
    for c in [
        Choice("bce", "Binary cross-entropy", "sigmoid output; classification"),
        Choice("mse", "Mean squared error", "linear output; regression"),
    ]
}

PROBLEMS: dict[str, Choice] = {
    c.name: c
    for c in [
        Choice("classification", "Classification"),
        Choice("regression", "Regression"),
    ]
}

# The loss used when a config names none, by problem.
DEFAULT_LOSS: dict[str, str] = {"classification": "bce", "regression": "mse"}
# Which losses a problem accepts.
PROBLEM_LOSSES: dict[str, tuple[str, ...]] = {"classification": ("bce",), "regression": ("mse",)}

# Range of the learning rates the UI menu offers (any positive number is accepted).
LEARNING_RATES: tuple[float, ...] = (
    0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0,
)
REGULARIZATION_RATES: tuple[float, ...] = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


def catalog_json() -> dict[str, Any]:
    """Every registry as plain JSON for `/api/catalog`."""
    return {
        "problems": [asdict(c) for c in PROBLEMS.values()],
        "datasets": [asdict(c) for c in DATASETS.values()],
        "features": [asdict(c) for c in FEATURES.values()],
        "activations": [asdict(c) for c in ACTIVATIONS.values()],
        "optimizers": [asdict(c) for c in OPTIMIZERS.values()],
        "regularizations": [asdict(c) for c in REGULARIZATIONS.values()],
        "losses": [asdict(c) for c in LOSSES.values()],
        "default_loss": DEFAULT_LOSS,
        "problem_losses": {k: list(v) for k, v in PROBLEM_LOSSES.items()},
        "learning_rates": list(LEARNING_RATES),
        "regularization_rates": list(REGULARIZATION_RATES),
    }

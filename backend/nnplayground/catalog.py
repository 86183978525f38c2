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
    max_classes: int = 2  # > classes when `data.classes` may ask for more
    columns: int = 2  # inputs: 2 for the plane's data sets; tables have more (drawn on a plane)


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
        DatasetChoice("spiral", "Spiral", "interleaved spiral arms, one per class", max_classes=6),
        DatasetChoice("blobs", "Blobs", "k Gaussian clouds around a circle, one per class", max_classes=6),
        DatasetChoice("plane", "Plane", "a tilted plane", problem="regression", classes=0),
        DatasetChoice(
            "multi-gauss", "Multi Gaussian", "a sum of Gaussian bumps", problem="regression", classes=0
        ),
        DatasetChoice("moons", "Moons", "two interleaving half circles; noise moves the points"),
        DatasetChoice(
            "checkerboard", "Checkerboard", "a 4 × 4 board, class by square colour; noise flips labels near edges"
        ),
        DatasetChoice(
            "rings", "Rings", "concentric rings, one per class (at least 3); noise moves the points",
            classes=3, max_classes=6,
        ),
        DatasetChoice(
            "sine", "Sine", "a wave along X₁ fading towards the top and bottom: sin(X₁)·cos(X₂/4)",
            problem="regression", classes=0,
        ),
        DatasetChoice(
            "ripple", "Ripple", "circular ripples around the centre: cos(√(X₁² + X₂²))",
            problem="regression", classes=0,
        ),
        DatasetChoice(
            "iris", "Iris", "Fisher's iris: 150 flowers, 4 measurements in cm, 3 species", classes=3, max_classes=3,
            columns=4,
        ),
        DatasetChoice(
            "pass_fail", "Pass or fail", "classes attended and hours of study per week → pass or fail", columns=2,
        ),
        DatasetChoice(
            "custom", "Your data", "points you drew or a CSV you uploaded (set by the server)", max_classes=10,
            columns=0,
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
        Choice("cos_x1", "cos(X₁)"),
        Choice("cos_x2", "cos(X₂)"),
    ]
}

ACTIVATIONS: dict[str, Choice] = {
    c.name: c
    for c in [
        Choice("linear", "Linear", "identity: a deep linear net is still linear"),
        Choice("step", "Step", "Heaviside 0/1; its gradient is zero, so step units cannot learn by backprop"),
        Choice("sigmoid", "Sigmoid", "1 / (1 + e^-x), in (0, 1); saturates, so deep nets learn slowly"),
        Choice("tanh", "Tanh", "hyperbolic tangent, in (-1, 1)"),
        Choice("relu", "ReLU", "max(0, x); units can die"),
        Choice("leaky_relu", "Leaky ReLU", "max(αx, x), slope α settable"),
        Choice("prelu", "PReLU", "leaky ReLU whose slope is learnt (one per layer, starts at 0.25)"),
        Choice("elu", "ELU", "x if x > 0 else e^x − 1"),
        Choice("selu", "SELU", "scaled ELU that keeps activations normalised"),
        Choice("swish", "Swish / SiLU", "x · sigmoid(x)"),
        Choice("gelu", "GELU", "x · Φ(x)"),
        Choice("softsign", "Softsign", "x / (1 + |x|)"),
        Choice("softplus", "Softplus", "log(1 + e^x), a smooth ReLU"),
        Choice("maxout", "Maxout", "max of k = 2 linear pieces per unit"),
    ]
}

INITS: dict[str, Choice] = {
    c.name: c
    for c in [
        Choice("tf", "Uniform ±0.5", "TensorFlow Playground's: weights U(−0.5, 0.5), biases 0.1"),
        Choice("normal", "Normal", "weights N(0, 0.1²), biases 0"),
        Choice("xavier_uniform", "Xavier / Glorot uniform", "for tanh and sigmoid"),
        Choice("xavier_normal", "Xavier / Glorot normal", "for tanh and sigmoid"),
        Choice("he_uniform", "He / Kaiming uniform", "for ReLU"),
        Choice("he_normal", "He / Kaiming normal", "for ReLU"),
        Choice("zeros", "Zeros", "all zero: every unit of a layer stays the same (symmetry is never broken)"),
        Choice("pytorch", "PyTorch default", "nn.Linear's: U(−1/√in, 1/√in)"),
    ]
}

SCHEDULES: dict[str, Choice] = {
    c.name: c
    for c in [
        Choice("constant", "Constant", "lr"),
        Choice("step", "Step decay", "lr · factor^⌊epoch / every⌋"),
        Choice("exponential", "Exponential decay", "lr · e^(−k · epoch)"),
        Choice("time", "Time-based decay", "lr / (1 + k · epoch)"),
        Choice("cosine", "Cosine", "from lr down to min_lr over period epochs, then again"),
        Choice("cyclical", "Cyclical (triangular)", "between lr and max_lr, step_size iterations each way"),
        Choice("one_cycle", "One cycle", "lr/10 → lr → lr/10 over 90 % of cycle_epochs, then down to lr/1000"),
    ]
}

BATCH_MODES: dict[str, Choice] = {
    c.name: c
    for c in [
        Choice("full", "Full batch", "one step per epoch on the whole training set"),
        Choice("mini", "Mini-batch", "steps on batches of batch_size points"),
        Choice("stochastic", "Stochastic", "one step per point (batch size 1)"),
    ]
}

BATCH_NORM: dict[str, Choice] = {
    c.name: c
    for c in [
        Choice("none", "None"),
        Choice("before", "Before activation"),
        Choice("after", "After activation"),
    ]
}

CLIPPING: dict[str, Choice] = {
    c.name: c
    for c in [
        Choice("none", "None"),
        Choice("norm", "By norm", "scale the whole gradient down to norm ≤ clip_value"),
        Choice("value", "By value", "clamp every gradient component to ±clip_value"),
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
        Choice("bce", "Binary cross-entropy", "sigmoid output; two classes"),
        Choice("cce", "Categorical cross-entropy", "softmax output; any number of classes"),
        Choice("tf_squared", "Squared error on ±1 (TF Playground)", "tanh output, ½(out − y)² with y = ±1"),
        Choice("mse", "Mean squared error", "linear output; regression"),
        Choice("mae", "Mean absolute error", "linear output; regression, robust to outliers"),
        Choice("huber", "Huber", "squared below δ, absolute above; regression"),
    ]
}

PROBLEMS: dict[str, Choice] = {
    c.name: c
    for c in [
        Choice("classification", "Classification"),
        Choice("regression", "Regression"),
    ]
}

# The loss used when a config names none, by problem (3+ classes switch bce to cce).
DEFAULT_LOSS: dict[str, str] = {"classification": "bce", "regression": "mse"}
# Which losses a problem accepts; BINARY_LOSSES need exactly two classes.
PROBLEM_LOSSES: dict[str, tuple[str, ...]] = {
    "classification": ("bce", "cce", "tf_squared"),
    "regression": ("mse", "mae", "huber"),
}
BINARY_LOSSES = ("bce", "tf_squared")

# Range of the learning rates the UI menu offers (any positive number is accepted).
LEARNING_RATES: tuple[float, ...] = (
    0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0,
)
REGULARIZATION_RATES: tuple[float, ...] = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


@dataclass(frozen=True)
class Control:
    """A control a teacher may lock in a classroom room: config paths (dotted) it changes."""

    name: str  # a config path; a lock on it covers every field below it ("training" locks training.*)
    label: str
    covers: tuple[str, ...] = ()  # further paths the same UI control changes


CONTROLS: dict[str, Control] = {
    c.name: c
    for c in [
        Control("problem", "Problem type"),
        Control("data", "Data (all data controls)"),
        Control("data.dataset", "Data set"),
        Control("data.noise", "Noise"),
        Control("data.train_ratio", "Ratio of training to test data"),
        Control("data.validation_ratio", "Validation share"),
        Control("data.num_points", "Number of points"),
        Control("data.seed", "Data seed (regenerate)"),
        Control("data.classes", "Classes"),
        Control("features", "Input features"),
        Control("network", "Network (all network controls)"),
        Control("network.hidden_layers", "Hidden layers and neurons"),
        Control("network.activation", "Activation", ("network.layer_activations", "network.leaky_relu_slope")),
        Control("network.init", "Weight initialisation"),
        Control("network.batch_norm", "Batch normalisation"),
        Control("network.dropout", "Dropout"),
        Control("training", "Training (all training controls)"),
        Control("training.learning_rate", "Learning rate"),
        Control("training.schedule", "Learning-rate schedule"),
        Control(
            "training.optimizer", "Optimiser",
            ("training.momentum", "training.beta1", "training.beta2", "training.eps", "training.rho",
             "training.alpha", "training.weight_decay", "training.momentum_decay"),
        ),
        Control("training.batch_size", "Batch size", ("training.batch_mode",)),
        Control("training.regularization", "Regularisation", ("training.regularization_rate",)),
        Control("training.loss", "Loss", ("training.huber_delta",)),
        Control("training.clip", "Gradient clipping", ("training.clip_value",)),
        Control("training.input_noise", "Input noise"),
        Control("training.stop", "Stop conditions"),
    ]
}


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
        "inits": [asdict(c) for c in INITS.values()],
        "schedules": [asdict(c) for c in SCHEDULES.values()],
        "batch_modes": [asdict(c) for c in BATCH_MODES.values()],
        "batch_norm": [asdict(c) for c in BATCH_NORM.values()],
        "clipping": [asdict(c) for c in CLIPPING.values()],
        "binary_losses": list(BINARY_LOSSES),
        "default_loss": DEFAULT_LOSS,
        "problem_losses": {k: list(v) for k, v in PROBLEM_LOSSES.items()},
        "learning_rates": list(LEARNING_RATES),
        "regularization_rates": list(REGULARIZATION_RATES),
        "controls": [{"name": c.name, "label": c.label} for c in CONTROLS.values()],
    }

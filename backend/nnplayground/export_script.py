"""The `python` export: a standalone, readable PyTorch script that rebuilds and trains a session.

The data-set, feature and schedule code in the script is the playground's own, copied from its
source (`ast` finds each definition and everything it uses), so the script generates exactly the
session's points. The network, initialisation, optimiser, loss and loop are written out from the
config; tests/unit/test_exports.py checks each against the engine. Only numpy and torch are needed.
"""

import inspect
import pprint
from datetime import UTC, datetime
from typing import Any

from .engine import module as engine_module
from .engine import schedules
from .engine.group import GroupKey
from .engine.network import plan
from .engine.optim import OPTIMIZERS
from .export_data import copy_source, embedded_data, generated_data
from .schemas import SessionConfig

DEFAULT_MORE_EPOCHS = 100


_ACTIVATIONS = {
    "linear": "nn.Identity()", "step": "Step()", "sigmoid": "nn.Sigmoid()", "tanh": "nn.Tanh()", "relu": "nn.ReLU()",
    "leaky_relu": "nn.LeakyReLU({slope})", "prelu": "nn.PReLU(1, 0.25)", "elu": "nn.ELU()", "selu": "nn.SELU()",
    "swish": "nn.SiLU()", "gelu": "nn.GELU()", "softsign": "nn.Softsign()", "softplus": "nn.Softplus()",
    "maxout": "Maxout()",
}

# initial_state (engine/network.py) per init: W drawn as (fan_in, fan_out), then the bias.
_INITS = {
    "tf": ("torch.rand(shape, generator=gen) - 0.5", "torch.full((1, fan_out), 0.1)"),
    "normal": ("torch.randn(shape, generator=gen) * 0.1", None),
    "xavier_uniform": ("(torch.rand(shape, generator=gen) * 2 - 1) * math.sqrt(6 / (fan_in + fan_out))", None),
    "xavier_normal": ("torch.randn(shape, generator=gen) * math.sqrt(2 / (fan_in + fan_out))", None),
    "he_uniform": ("(torch.rand(shape, generator=gen) * 2 - 1) * math.sqrt(6 / fan_in)", None),
    "he_normal": ("torch.randn(shape, generator=gen) * math.sqrt(2 / fan_in)", None),
    "zeros": ("torch.zeros(shape)", None),
    "pytorch": (
        "(torch.rand(shape, generator=gen) * 2 - 1) * (1 / math.sqrt(fan_in))",
        "(torch.rand((1, fan_out), generator=gen) * 2 - 1) * (1 / math.sqrt(fan_in))",
    ),
}

_LOSSES = {
    "bce": "nn.BCEWithLogitsLoss()  # sigmoid + binary cross-entropy on logits",
    "cce": "nn.CrossEntropyLoss()  # softmax + categorical cross-entropy; targets are class indices",
    "tf_squared": "tf_squared  # TensorFlow Playground's: tanh output, ½(out − t)² with t = ±1",
    "mse": "nn.MSELoss()",
    "mae": "nn.L1Loss()",
    "huber": "nn.HuberLoss(delta={delta!r})",
}


def _optimizer(config: SessionConfig) -> str:
    """The torch.optim call equivalent to the engine's optimiser (engine/optim.py torch_optimizer)."""
    t = config.training
    h = {name: t.optimizer_value(name) for name in OPTIMIZERS[t.optimizer].hyper}
    wd = f"weight_decay={h.get('weight_decay', 0.0)!r}"
    betas = f"betas=({h.get('beta1', 0.9)!r}, {h.get('beta2', 0.999)!r})"
    calls = {
        "sgd": f"torch.optim.SGD(params, lr=LEARNING_RATE, {wd})",
        "momentum": f"torch.optim.SGD(params, lr=LEARNING_RATE, momentum={h.get('momentum')!r}, {wd})",
        "nesterov": f"torch.optim.SGD(params, lr=LEARNING_RATE, momentum={h.get('momentum')!r}, nesterov=True, {wd})",
        "adagrad": f"torch.optim.Adagrad(params, lr=LEARNING_RATE, eps={h.get('eps')!r}, {wd})",
        "adadelta": f"torch.optim.Adadelta(params, lr=LEARNING_RATE, rho={h.get('rho')!r}, eps={h.get('eps')!r}, {wd})",
        "rmsprop": (f"torch.optim.RMSprop(params, lr=LEARNING_RATE, alpha={h.get('alpha')!r}, "
                    f"eps={h.get('eps')!r}, {wd})"),
        "adam": f"torch.optim.Adam(params, lr=LEARNING_RATE, {betas}, eps={h.get('eps')!r}, {wd})",
        "adamw": f"torch.optim.AdamW(params, lr=LEARNING_RATE, {betas}, eps={h.get('eps')!r}, {wd})",
        "nadam": (f"torch.optim.NAdam(params, lr=LEARNING_RATE, {betas}, eps={h.get('eps')!r}, {wd}, "
                  f"momentum_decay={h.get('momentum_decay')!r})"),
        "adamax": f"torch.optim.Adamax(params, lr=LEARNING_RATE, {betas}, eps={h.get('eps')!r}, {wd})",
    }
    return calls[t.optimizer]


def _network(key: GroupKey) -> tuple[list[str], list[str]]:
    """The Network class body lines (same module names as PlainNetwork) and the helper classes it needs."""
    blocks, helpers = [], []
    for lp in plan(key):
        parts = [f'("linear", nn.Linear({lp.fan_in}, {lp.linear_out}))']
        if lp.activation is not None:
            act = _ACTIVATIONS[lp.activation].format(slope=key.leaky_slope)
            if lp.activation in ("step", "maxout"):
                helpers.append(lp.activation.capitalize())
            norm = f'("norm", nn.BatchNorm1d({lp.bn_width}))'
            parts += [norm, f'("act", {act})'] if lp.batch_norm == "before" else [f'("act", {act})']
            if lp.batch_norm == "after":
                parts.append(norm)
            if lp.dropout > 0:
                parts.append(f'("dropout", nn.Dropout({lp.dropout!r}))')
        blocks.append("            nn.Sequential(OrderedDict([" + ", ".join(parts) + "])),")
    return blocks, sorted(set(helpers))


def python_script(
    config: SessionConfig, key: GroupKey, session_id: str, progress: dict[str, Any], weights: dict[str, Any] | None,
    data: dict[str, tuple[list[Any], list[float]]] | None = None,
) -> str:
    """The script's text. `key` shapes the network; `weights` (torch state_dict as nested lists)
    are embedded when given; `data` (network inputs and labels per part) replaces the generator
    for data no generator makes (tables, the user's own)."""
    d, t = config.data, config.training
    classification = config.problem == "classification"
    epochs = int(progress.get("epoch") or 0)
    blocks, helpers = _network(key)
    init_w, init_b = _INITS[config.network.init]
    scheduled = t.schedule.kind != "constant"
    bn = config.network.batch_norm != "none" and bool(config.network.hidden_layers)
    loss = _LOSSES[config.loss].format(delta=t.huber_delta)
    lines = [
        "#!/usr/bin/env python3",
        f'"""nnplayground session {session_id} as a standalone PyTorch script (exported {_today()}).',
        "",
        "It rebuilds the session's data set, network, optimiser and training loop with numpy and torch",
        "only; " + ("the data-set code is copied from nnplayground.data, so the points are the session's."
                    if data is None else "the session's data are carried in it, as the network sees them."),
        "",
        f"    python {script_name(session_id)}                  # "
        + (f"the session's weights (epoch {epochs}), then {DEFAULT_MORE_EPOCHS} more epochs" if weights
           else f"the session's initial weights, {epochs or DEFAULT_MORE_EPOCHS} epochs"),
        f"    python {script_name(session_id)} --epochs N       # train N epochs instead",
        f"    python {script_name(session_id)} --from-scratch   # the session's initial weights: its run again",
        "",
        "Not carried over: the optimiser's state (it starts fresh after loading weights) and the stop",
        "conditions (max epochs, targets, early stopping).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import argparse",
        "import math",
        "from collections import OrderedDict",
        "from types import SimpleNamespace",
        "",
        "import numpy as np",
        "import torch",
        "from torch import nn",
        "",
        "# The session's config as the playground holds it; the constants below are taken from it.",
        f"CONFIG = {pprint.pformat(config.model_dump(mode='json'), sort_dicts=False, width=100)}",
        "",
        f"SEED = {d.seed}  # data set seed; with INIT_COUNT it also seeds the initial weights",
        f"INIT_COUNT = {int(progress.get('init_count') or 0)}  # how often the session was re-initialised",
        f"NUM_POINTS, NOISE, CLASSES = {d.num_points}, {d.noise!r}, {d.classes}",
        f"TRAIN_RATIO, VALIDATION_RATIO = {d.train_ratio!r}, {d.validation_ratio!r}",
        f"FEATURES = {list(config.features)!r}",
        f"LEARNING_RATE = {t.learning_rate!r}",
        f"BATCH_MODE, BATCH_SIZE = {t.batch_mode!r}, {t.batch_size}",
        f"SESSION_EPOCHS, SESSION_STEP = {epochs}, {int(progress.get('step') or 0)}",
        "",
        "",
        *(generated_data(config) if data is None else embedded_data(data, config.loss == "cce")),
        "# ---- network -------------------------------------------------------------------------------",
        "",
    ]
    for helper in helpers:
        lines += [inspect.getsource(getattr(engine_module, helper)), ""]
    lines += [
        "class Network(nn.Module):",
        '    """Linear → [batch norm] → activation → [batch norm] → [dropout] per hidden layer, then a linear output.',
        "",
        "    Module names match nnplayground's PlainNetwork, so its state_dicts (pt export) load here.",
        '    """',
        "",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        "        self.layers = nn.ModuleList([",
        *blocks,
        "        ])",
        "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        "        for block in self.layers:",
        "            x = block(x)",
        "        return x  # logits",
        "",
        "",
        "@torch.no_grad()",
        "def initialise(model: Network) -> None:",
        f'    """The playground\'s {config.network.init!r} initialisation, drawn in its order and from its seed."""',
        "    gen = torch.Generator().manual_seed(SEED * 7919 + INIT_COUNT)",
        "    for block in model.layers:",
        "        fan_in, fan_out = block.linear.in_features, block.linear.out_features",
        "        shape = (fan_in, fan_out)  # the playground stores W as (in, out); nn.Linear as (out, in)",
        f"        w = {init_w}",
        f"        b = {init_b or 'torch.zeros(1, fan_out)'}",
        "        block.linear.weight.copy_(w.T)",
        "        block.linear.bias.copy_(b[0])",
        "",
        "",
        f"WEIGHTS = {pprint.pformat(weights, sort_dicts=False, width=110) if weights else None}",
        "",
        "",
        "# ---- optimiser, loss, schedule -------------------------------------------------------------",
        "",
        "",
        "def make_optimizer(model: Network) -> torch.optim.Optimizer:",
        "    params = list(model.parameters())",
        f"    return {_optimizer(config)}",
        "",
        "",
    ]
    if config.loss == "tf_squared":
        lines += [
            "def tf_squared(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:",
            "    return (0.5 * (torch.tanh(z) - (2 * y - 1)) ** 2).mean()",
            "",
            "",
        ]
    lines += [f"loss_fn = {loss}", ""]
    penalty = ""
    if t.regularization != "none" and t.regularization_rate > 0:
        term = "w.abs().sum()" if t.regularization == "l1" else "0.5 * (w * w).sum()"
        lines += [
            "",
            "def penalty(model: Network) -> torch.Tensor:",
            f'    """{t.regularization.upper()} regularisation on the weights (not the biases)."""',
            f"    return {t.regularization_rate!r} * sum({term} for w in (b.linear.weight for b in model.layers))",
            "",
        ]
        penalty = " + penalty(model)"
    if scheduled:
        lines += [
            "",
            "# The learning-rate schedule, copied from nnplayground.engine.schedules.",
            f"SCHEDULE = SimpleNamespace(**{t.schedule.model_dump(mode='json')!r})",
            "",
            copy_source(schedules, ["scheduled_rate"]),
            "",
        ]
    step_lines = []
    if bn:
        step_lines += [
            "        if len(xb) < 2:",
            "            # torch's BatchNorm1d cannot normalise one point in training mode; the playground's",
            "            # batched engine steps on it anyway (its normalised value is 0).",
            "            step += 1",
            "            continue",
        ]
    if t.input_noise > 0:
        step_lines.append(f"        xb = xb + torch.randn_like(xb) * {t.input_noise!r}  # input noise")
    if scheduled:
        step_lines += [
            "        for group in optimizer.param_groups:",
            "            group['lr'] = scheduled_rate(SCHEDULE, LEARNING_RATE, epoch, step, epoch_len)",
        ]
    step_lines += [f"        loss = loss_fn(model(xb), yb){penalty}", "        optimizer.zero_grad()"]
    step_lines += ["        loss.backward()"]
    if t.clip == "norm":
        step_lines.append(f"        nn.utils.clip_grad_norm_(model.parameters(), {t.clip_value!r})")
    elif t.clip == "value":
        step_lines.append(f"        nn.utils.clip_grad_value_(model.parameters(), {t.clip_value!r})")
    step_lines += ["        optimizer.step()", "        step += 1"]
    predict = "z.argmax(dim=1)" if config.loss == "cce" else "(z[:, 0] > 0).long()"
    truth = "y" if config.loss == "cce" else "y[:, 0].long()"
    lines += [
        "",
        "# ---- training ------------------------------------------------------------------------------",
        "",
        "",
        "def train_epoch(model: Network, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,",
        "                batch: int, epoch: int, step: int) -> int:",
        '    """One pass over the training set in order, `batch` points at a time (the last batch may be',
        '    smaller), as the playground trains; returns the number of steps taken so far."""',
        "    model.train()",
        *(["    epoch_len = math.ceil(len(x) / batch)  # steps per epoch, for the schedule"] if scheduled else []),
        "    for start in range(0, len(x), batch):",
        "        xb, yb = x[start : start + batch], y[start : start + batch]",
        *step_lines,
        "    return step",
        "",
        "",
        "@torch.no_grad()",
        "def evaluate(model: Network, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:",
        "    model.eval()",
        "    z = model(x)",
        "    out = {'loss': loss_fn(z, y).item()}",
        *([f"    out['accuracy'] = ({predict} == {truth}).float().mean().item()"] if classification else []),
        "    return out",
        "",
        "",
        "def report(label: str, model: Network, data: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> None:",
        "    results = {part: evaluate(model, *xy) for part, xy in data.items()}",
        "    text = '  '.join(f'{part} {name} {value:.6f}'",
        "                     for part, r in results.items() for name, value in r.items())",
        "    print(f'{label}: {text}', flush=True)",
        "",
        "",
        "def main() -> None:",
        "    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])",
        "    parser.add_argument('--epochs', type=int, default=None, help='epochs to train')",
        "    parser.add_argument('--from-scratch', action='store_true',",
        "                        help=\"start from the session's initial weights\")",
        "    parser.add_argument('--seed', type=int, default=0, help='torch seed (dropout masks, input noise)')",
        "    args, _ = parser.parse_known_args()  # known only: a notebook kernel's own arguments are ignored",
        "    torch.manual_seed(args.seed)",
        "    data = make_data()",
        "    x, y = data['train']",
        "    batch = {'full': len(x), 'stochastic': 1}.get(BATCH_MODE, min(BATCH_SIZE, len(x)))",
        "    model = Network()",
        "    if WEIGHTS is None or args.from_scratch:",
        "        initialise(model)",
        "        epoch, step = 0, 0",
        f"        epochs = args.epochs if args.epochs is not None else SESSION_EPOCHS or {DEFAULT_MORE_EPOCHS}",
        "    else:",
        "        model.load_state_dict({name: torch.tensor(value) for name, value in WEIGHTS.items()})",
        "        epoch, step = SESSION_EPOCHS, SESSION_STEP",
        f"        epochs = args.epochs if args.epochs is not None else {DEFAULT_MORE_EPOCHS}",
        "    report(f'start: epoch {epoch}', model, data)",
        "    optimizer = make_optimizer(model)",
        "    for _ in range(epochs):",
        "        step = train_epoch(model, optimizer, x, y, batch, epoch, step)",
        "        epoch += 1",
        "        if epoch % max(1, epochs // 10) == 0:",
        "            report(f'epoch {epoch}', model, data)",
        "    report(f'final: epoch {epoch}', model, data)",
        "",
        "",
        "if __name__ == '__main__':",
        "    main()",
        "",
    ]
    return "\n".join(lines)


def script_name(session_id: str) -> str:
    return f"nnplayground_{session_id.replace('-', '_')}.py"


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")

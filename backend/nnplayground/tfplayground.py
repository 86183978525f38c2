"""TensorFlow Playground links (`playground.tensorflow.org/#activation=tanh&…`) as our configs.

The same mapping as the page's frontend/js/tfimport.js, for scripts (`POST /api/tfplayground`).
TF Playground trains tanh outputs on squared error with ±1 labels, its own initialisation and
plain SGD, so those become `tf_squared`, `tf` and `sgd`, and its results can be reproduced.
"""

import re
from typing import Any
from urllib.parse import unquote_plus

FEATURES = {
    "x": "x1", "y": "x2", "xSquared": "x1^2", "ySquared": "x2^2", "xTimesY": "x1x2",
    "sinX": "sin_x1", "sinY": "sin_x2", "cosX": "cos_x1", "cosY": "cos_x2",
}
DATASETS = {"circle": "circle", "xor": "xor", "gauss": "gauss", "spiral": "spiral",
            "reg-plane": "plane", "reg-gauss": "multi-gauss"}
REGULARIZATION = {"null": "none", "none": "none", "L1": "l1", "L2": "l2"}
POINTS = {"classification": 500, "regression": 1200}  # TF's NUM_SAMPLES_CLASSIFY / _REGRESS
FEATURE_ORDER = list(FEATURES.values())


class LinkError(ValueError):
    """Not a TensorFlow Playground link we can read."""


def parse(link: str) -> dict[str, str]:
    """The key/value pairs of a link's `#…` part (a whole URL or just the hash)."""
    text = link.strip()
    if "#" in text:
        text = text.split("#", 1)[1]
    elif re.match(r"https?://", text, re.I):
        raise LinkError("the link has no #… part with the settings")
    params = {}
    for pair in filter(None, text.split("&")):
        key, _, value = pair.partition("=")
        params[unquote_plus(key).strip()] = unquote_plus(value).strip()
    if not any(k in params for k in ("activation", "dataset", "networkShape", "learningRate", "problem", *FEATURES)):
        raise LinkError("this does not look like a TensorFlow Playground link")
    return params


def _number(params: dict[str, str], key: str) -> float | None:
    try:
        value = float(params[key])
    except (KeyError, ValueError):
        return None
    return value if value == value and abs(value) != float("inf") else None


def seed(text: str) -> int:
    """TF's seed is a string like "0.12345": its digits make ours."""
    if text.isdigit():
        return int(text) % 2**31
    match = re.fullmatch(r"0?\.(\d{1,9})", text)
    if match:
        return int(match.group(1))
    h = 0x811C9DC5  # FNV-1a, as the page does, for anything else
    for ch in text:
        h = ((h ^ ord(ch)) * 0x01000193) & 0xFFFFFFFF
    return h % 2**31


def to_config(link: str, max_layers: int = 6, max_neurons: int = 8) -> tuple[dict[str, Any], list[str]]:
    """(a partial SessionConfig dict, warnings about what could not be carried over)."""
    p = parse(link)
    warnings: list[str] = []
    problem = "regression" if p.get("problem") == "regression" else "classification"
    tf_dataset = p.get("regDataset" if problem == "regression" else "dataset") or (
        "reg-plane" if problem == "regression" else "circle"
    )
    dataset = DATASETS.get(tf_dataset)
    if dataset is None:
        dataset = "plane" if problem == "regression" else "circle"
        warnings.append(f"unknown data set {tf_dataset!r}: {dataset}")
    data: dict[str, Any] = {"dataset": dataset, "num_points": POINTS[problem]}
    if (noise := _number(p, "noise")) is not None:
        data["noise"] = min(50.0, max(0.0, noise))
    if (perc := _number(p, "percTrainData")) is not None:
        data["train_ratio"] = min(90, max(10, round(perc))) / 100
    if p.get("seed"):
        data["seed"] = seed(p["seed"])
    features = [ours for tf, ours in FEATURES.items() if p.get(tf) in ("true", "1")]
    network: dict[str, Any] = {"init": "zeros" if p.get("initZero") == "true" else "tf"}
    if "networkShape" in p:
        widths = [w.strip() for w in p["networkShape"].split(",") if w.strip()]
        if all(w.isdigit() and int(w) > 0 for w in widths):
            layers = [min(int(w), max_neurons) for w in widths][:max_layers]
            if layers != [int(w) for w in widths]:
                warnings.append(f"network {p['networkShape']} trimmed to this server's limits: {layers}")
            network["hidden_layers"] = layers
        else:
            warnings.append(f"cannot read networkShape {p['networkShape']!r}")
    if p.get("activation") in ("relu", "tanh", "sigmoid", "linear"):
        network["activation"] = p["activation"]
    training: dict[str, Any] = {"optimizer": "sgd", "batch_mode": "mini",
                                "loss": "tf_squared" if problem == "classification" else "mse"}
    if (lr := _number(p, "learningRate")) is not None and lr > 0:
        training["learning_rate"] = lr
    if (batch := _number(p, "batchSize")) is not None and batch >= 1:
        training["batch_size"] = int(batch)
    regularization = REGULARIZATION.get(p.get("regularization", "null"), "none")
    training["regularization"] = regularization
    if (rate := _number(p, "regularizationRate")) is not None and rate >= 0:
        training["regularization_rate"] = rate
    config: dict[str, Any] = {"problem": problem, "data": data, "network": network, "training": training}
    config["features"] = sorted(features, key=FEATURE_ORDER.index) or ["x1", "x2"]
    return config, warnings

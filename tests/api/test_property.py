"""Property-based tests (hypothesis) on the config schema, the API and the engine.

Configs are drawn field by field from the schema (every field of SessionConfig, nested data.plane,
training.schedule and training.stop included), mostly within the valid ranges and sometimes outside them
(out of range, wrong types, unknown fields, clashing fields, NaN and infinities). The schema plus this
server's limits are the oracle:

- a config they accept creates a session (201), trains 2 epochs without an exception, and every number
  in its state, history, metrics and first streamed frame is finite;
- a config they refuse answers 422 (never 5xx), on create and on PATCH, and changes nothing.

Examples are kept small (few points, 2 epochs) so the file runs in well under a minute.
"""

import json
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, example, given, note, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from nnplayground import catalog
from nnplayground.app import create_app
from nnplayground.config import Settings
from nnplayground.data.tabular import TABLES, load_table
from nnplayground.frames import decode_frame
from nnplayground.schemas import LimitError, SessionConfig, check_limits, merge_config

# Limits of the server under test: small, so that drawn configs exceed them now and then.
LIMITS = {"max_points": 120, "max_hidden_layers": 4, "max_neurons": 6, "max_epochs_per_train": 50}

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure is reproducible as it stands
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Json = dict[str, Any]


@pytest.fixture(scope="module")
def server_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("property") / "data", **LIMITS)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def api(server_settings: Settings) -> Iterator[TestClient]:
    """One in-process app for every example (hypothesis runs many examples per test function)."""
    with TestClient(create_app(server_settings)) as c:
        yield c


# ---- strategies: one per field, valid values first, invalid ones beside them ------------------------------------

def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _maybe_none(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _optional(required: dict[str, st.SearchStrategy[Any]] | None = None,
              **optional: st.SearchStrategy[Any]) -> st.SearchStrategy[Json]:
    """A dict with some of the fields, as a client sends a partial config."""
    return st.fixed_dictionaries(required or {}, optional=optional)


# "custom" needs data of the session's own (drawn or uploaded): left to the invalid configs.
CLASSIFICATION = [d.name for d in catalog.DATASETS.values() if d.problem == "classification" and d.name != "custom"]
REGRESSION = [d.name for d in catalog.DATASETS.values() if d.problem == "regression"]

VALID: dict[str, st.SearchStrategy[Any]] = {
    # data
    "noise": _floats(0, 50),
    "train_ratio": _floats(0.1, 0.9),
    "num_points": st.integers(10, 80),
    "seed": st.integers(0, 2**31 - 1),
    "validation_ratio": st.sampled_from([0.0, 0.0, 0.1, 0.2]),
    "classes": st.integers(2, 6),
    "standardize": st.booleans(),
    # data.plane
    "mode": st.sampled_from(["features", "pca"]),
    "x": st.integers(0, 3),
    "y": st.integers(0, 3),
    # network
    "hidden_layers": st.lists(st.integers(1, LIMITS["max_neurons"]), max_size=LIMITS["max_hidden_layers"]),
    "activation": st.sampled_from([*catalog.ACTIVATIONS, "silu"]),
    "leaky_relu_slope": _floats(0, 1),
    "init": st.sampled_from(list(catalog.INITS)),
    "batch_norm": st.sampled_from(["none", "before", "after"]),
    "dropout": _floats(0, 0.9),
    # training
    "optimizer": st.sampled_from(list(catalog.OPTIMIZERS)),
    "learning_rate": st.one_of(_floats(1e-5, 3.0), st.sampled_from([1e-9, 100.0, 1000.0])),
    "batch_mode": st.sampled_from(["mini", "full", "stochastic"]),
    "batch_size": st.integers(1, 64),
    "regularization": st.sampled_from(["none", "l1", "l2"]),
    "regularization_rate": st.one_of(_floats(0, 0.1), st.sampled_from([1000.0])),
    "loss": _maybe_none(st.sampled_from(list(catalog.LOSSES))),
    "momentum": _maybe_none(_floats(0, 0.999)),
    "beta1": _maybe_none(_floats(0, 0.999)),
    "beta2": _maybe_none(_floats(0, 0.9999)),
    "eps": _maybe_none(_floats(1e-12, 1)),
    "rho": _maybe_none(_floats(0, 0.999)),
    "alpha": _maybe_none(_floats(0, 0.999)),
    "weight_decay": _maybe_none(_floats(0, 10)),
    "momentum_decay": _maybe_none(_floats(0, 1)),
    "huber_delta": _floats(1e-3, 100),
    "clip": st.sampled_from(["none", "norm", "value"]),
    "clip_value": _floats(1e-3, 1000),
    "input_noise": _floats(0, 5),
    # training.schedule
    "kind": st.sampled_from(list(catalog.SCHEDULES)),
    "factor": _floats(1e-3, 1),
    "every": st.integers(1, 5),
    "k": _floats(0, 100),
    "period": st.integers(1, 10),
    "min_lr": _floats(0, 1),
    "max_lr": _floats(1e-4, 10),
    "step_size": st.integers(1, 10),
    "cycle_epochs": st.integers(2, 10),
    # training.stop
    "max_epochs": _maybe_none(st.integers(1, 3)),
    "target_loss": _maybe_none(_floats(1e-6, 10)),
    "target_accuracy": _maybe_none(_floats(0.01, 1)),
    "plateau_patience": _maybe_none(st.integers(1, 3)),
    "early_stopping_patience": _maybe_none(st.integers(1, 3)),
}

# Values the schema or the server's limits must refuse, per field ("*" stands for a wrong type).
INVALID: dict[str, list[Any]] = {
    "problem": ["clustering", 1, None],
    "dataset": ["no-such-set", "", 3, "custom"],
    "noise": [-0.1, 50.5, "loud"],
    "train_ratio": [0.05, 0.95, -1],
    "num_points": [9, 0, -5, LIMITS["max_points"] + 1, 10**12, 2.5, "many"],
    "seed": [-1, 2**31, 1e40],
    "validation_ratio": [-0.1, 0.6],
    "classes": [1, 11, 0],
    "standardize": ["maybe", 2, None],
    "mode": ["tsne", None],
    "x": [-1, 20, 1.5],
    "y": [-1, 20, "1"],
    "features": [[], ["x3"], ["x1", "x1"], "x1", [1]],
    "hidden_layers": [[0], [-1], [LIMITS["max_neurons"] + 1], [1] * (LIMITS["max_hidden_layers"] + 1), "4,2",
                      [2.5], [10**30]],
    "activation": ["softmax", "", 0],
    "layer_activations": [["relu", "nope"], "relu", [1]],
    "leaky_relu_slope": [-0.1, 1.5],
    "init": ["glorot", None],
    "batch_norm": ["middle", True],
    "dropout": [-0.1, 0.95, 1.0],
    "optimizer": ["lbfgs", "", None],
    "learning_rate": [0, -0.1, 1001, "fast", None],
    "batch_mode": ["micro", 1],
    "batch_size": [0, -1, LIMITS["max_points"] + 1, 1.5],
    "regularization": ["l3", None],
    "regularization_rate": [-1, 1001],
    "loss": ["hinge", 0],
    "momentum": [-0.1, 1.0, 2],
    "beta1": [1.0, -0.5],
    "beta2": [1.0, 3],
    "eps": [0, -1e-8, 2],
    "rho": [1.0, -1],
    "alpha": [1.0, -1],
    "weight_decay": [-1, 11],
    "momentum_decay": [-0.1, 1.5],
    "huber_delta": [0, -1, 101],
    "clip": ["both", None],
    "clip_value": [0, -1, 1001],
    "input_noise": [-1, 6],
    "kind": ["warmup", None],
    "factor": [0, 1.5, -1],
    "every": [0, -3, 1.5],
    "k": [-1, 101],
    "period": [0, -1],
    "min_lr": [-0.1],
    "max_lr": [0, -1],
    "step_size": [0],
    "cycle_epochs": [1, 0],
    "max_epochs": [0, -1, "ten"],
    "target_loss": [0, -1],
    "target_accuracy": [0, 1.5],
    "plateau_patience": [0],
    "early_stopping_patience": [0, -2],
}

# Where each field lives in a config.
PATHS: dict[str, tuple[str, ...]] = {
    **{f: ("data",) for f in ("dataset", "noise", "train_ratio", "num_points", "seed", "validation_ratio", "classes",
                              "standardize")},
    **{f: ("data", "plane") for f in ("mode", "x", "y")},
    **{f: ("network",) for f in ("hidden_layers", "activation", "layer_activations", "leaky_relu_slope", "init",
                                 "batch_norm", "dropout")},
    **{f: ("training",) for f in ("optimizer", "learning_rate", "batch_mode", "batch_size", "regularization",
                                  "regularization_rate", "loss", "momentum", "beta1", "beta2", "eps", "rho", "alpha",
                                  "weight_decay", "momentum_decay", "huber_delta", "clip", "clip_value",
                                  "input_noise")},
    **{f: ("training", "schedule") for f in ("kind", "factor", "every", "k", "period", "min_lr", "max_lr",
                                             "step_size", "cycle_epochs")},
    **{f: ("training", "stop") for f in ("max_epochs", "target_loss", "target_accuracy", "plateau_patience",
                                         "early_stopping_patience")},
    "problem": (),
    "features": (),
}
assert set(INVALID) == set(PATHS), set(INVALID) ^ set(PATHS)
FLOAT_FIELDS = ["noise", "train_ratio", "validation_ratio", "leaky_relu_slope", "dropout", "learning_rate",
                "regularization_rate", "momentum", "beta1", "beta2", "eps", "rho", "alpha", "weight_decay",
                "momentum_decay", "huber_delta", "clip_value", "input_noise", "factor", "k", "min_lr", "max_lr",
                "target_loss", "target_accuracy", "num_points", "seed"]




def _section(*names: str) -> st.SearchStrategy[Json]:
    return _optional(**{n: VALID[n] for n in names})


@st.composite
def valid_configs(draw: st.DrawFn) -> Json:
    """A partial config whose every field is in range; field combinations may still clash (the schema decides)."""
    problem = draw(st.sampled_from(["classification", "regression"]))
    datasets = CLASSIFICATION if problem == "classification" else REGRESSION
    data = draw(_section("noise", "train_ratio", "num_points", "seed", "validation_ratio", "classes", "standardize"))
    if draw(st.booleans()):
        data["plane"] = draw(_section("mode", "x", "y"))
    data["num_points"] = data.get("num_points", draw(VALID["num_points"]))  # keep examples small
    data["dataset"] = draw(st.sampled_from(datasets))
    if catalog.DATASETS[data["dataset"]].max_classes <= 2:
        data.pop("classes", None)  # mostly consistent; the mutations below cover the clashes
    network = draw(_section("hidden_layers", "activation", "leaky_relu_slope", "init", "batch_norm", "dropout"))
    if draw(st.booleans()):
        layers = network.setdefault("hidden_layers", [4, 2])
        network["layer_activations"] = draw(
            st.lists(st.sampled_from(list(catalog.ACTIVATIONS)), min_size=len(layers), max_size=len(layers))
        )
    training = draw(_section(
        "optimizer", "learning_rate", "batch_mode", "batch_size", "regularization", "regularization_rate",
        "momentum", "beta1", "beta2", "eps", "rho", "alpha", "weight_decay", "momentum_decay", "huber_delta",
        "clip", "clip_value", "input_noise",
    ))
    if draw(st.booleans()):
        training["loss"] = draw(_maybe_none(st.sampled_from(list(catalog.PROBLEM_LOSSES[problem]))))
    training["schedule"] = draw(_section("kind", "factor", "every", "k", "period", "min_lr", "max_lr", "step_size",
                                         "cycle_epochs"))
    stop = draw(_section("max_epochs", "target_loss", "target_accuracy", "plateau_patience"))
    if data.get("validation_ratio"):
        stop["early_stopping_patience"] = draw(VALID["early_stopping_patience"])
    training["stop"] = stop
    config: Json = {"problem": problem, "data": data, "network": network, "training": training}
    if draw(st.booleans()):
        config["features"] = draw(st.lists(st.sampled_from(list(catalog.FEATURES)), min_size=1, max_size=7,
                                           unique=True))
    return config


def _put(config: Json, path: tuple[str, ...], name: str, value: Any) -> Json:
    out = json.loads(json.dumps(config))
    node = out
    for key in path:
        node = node.setdefault(key, {})
    node[name] = value
    return out


@st.composite
def invalid_configs(draw: st.DrawFn) -> Json:
    """A valid-looking config with one or two fields set to a value outside its range (or of the wrong type),
    or an unknown field, or a clash between fields."""
    config = draw(valid_configs())
    kinds = ["field", "field", "field", "two fields", "unknown field", "clash"]
    kind = draw(st.sampled_from([*kinds, "non-finite"]))
    if kind == "non-finite":
        # NaN, Infinity and 1e999 are not JSON, but json.loads (and so FastAPI) reads them.
        name = draw(st.sampled_from(sorted(n for n in FLOAT_FIELDS if n in PATHS)))
        config = _put(config, PATHS[name], name, draw(st.sampled_from([math.nan, math.inf, -math.inf])))
    elif kind in ("field", "two fields"):
        for name in draw(st.lists(st.sampled_from(sorted(INVALID)), min_size=1, max_size=1 if kind == "field"
                                  else 2, unique=True)):
            config = _put(config, PATHS[name], name, draw(st.sampled_from(INVALID[name])))
    elif kind == "unknown field":
        path = draw(st.sampled_from([(), ("data",), ("network",), ("training",), ("training", "schedule"),
                                     ("training", "stop")]))
        config = _put(config, path, draw(st.sampled_from(["colour", "optimiser", "layers", "lr"])), 1)
    else:
        clash = draw(st.sampled_from([
            {"problem": "regression", "data": {"dataset": "circle"}},
            {"problem": "classification", "data": {"dataset": "plane"}},
            {"data": {"dataset": "xor", "classes": 3}},
            {"data": {"dataset": "spiral", "classes": 4}, "training": {"loss": "bce"}},
            {"data": {"train_ratio": 0.8, "validation_ratio": 0.2}},
            {"data": {"validation_ratio": 0.0}, "training": {"stop": {"early_stopping_patience": 2}}},
            {"network": {"hidden_layers": [3, 3], "layer_activations": ["relu"]}},
            {"problem": "regression", "data": {"dataset": "plane"}, "training": {"loss": "cce"}},
        ]))
        config = merge_config(config, clash)
    return config


# ---- the oracle and the checks -------------------------------------------------------------------------------

def accepted(config: Json, server: Settings) -> bool:
    """Does the schema, with this server's limits, accept the config?"""
    try:
        checked = SessionConfig.model_validate(config)
        check_limits(checked, server)
    except (ValidationError, LimitError):
        return False
    # The schema allows the "custom" data set, but a new session has no data of its own: the engine refuses it.
    if checked.data.dataset == "custom":
        return False
    # A table's plane must name two of its columns (the schema knows only the bound of 20); 2-D sets ignore it.
    plane = checked.data.plane
    if checked.data.dataset in TABLES and plane.mode == "features":
        return max(plane.x, plane.y) < load_table(checked.data.dataset).x.shape[1]
    return True


def non_finite(value: Any, where: str = "") -> list[str]:
    """Paths of every number in a JSON-like value that is NaN or infinite."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return []
    if isinstance(value, int | float):
        return [] if math.isfinite(value) else [where]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in non_finite(v, f"{where}.{k}")]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in non_finite(v, f"{where}[{i}]")]
    raise AssertionError(f"unexpected {type(value)} at {where}")


def parse(text: str) -> Any:
    """JSON as sent: NaN/Infinity literals (which browsers reject) are kept as floats, so they are caught."""
    return json.loads(text)


def check_first_frame(api: TestClient, session_id: str, token: str, epoch: int) -> None:
    with api.websocket_connect(f"/ws/sessions/{session_id}?token={token}") as ws:
        hello = parse(ws.receive_text())
        assert hello["type"] == "hello" and not non_finite(hello)
        dataset = parse(ws.receive_text())
        assert dataset["type"] == "dataset" and not non_finite(dataset)
        frame = decode_frame(ws.receive_bytes())
    assert frame.header["state"]["epoch"] == epoch
    assert not non_finite(frame.header), non_finite(frame.header)
    for name, array in frame.arrays.items():
        assert np.isfinite(array).all(), f"non-finite values in the frame's {name} section"


def create(api: TestClient, config: Json) -> Any:
    # json.dumps by hand: a NaN in a drawn config goes out as the literal NaN, as a careless client would send it.
    return api.post("/api/sessions", content=json.dumps(config), headers={"Content-Type": "application/json"})


# ---- the properties ------------------------------------------------------------------------------------------

@PROPERTY_SETTINGS
@given(config=valid_configs())
# Found by this test: a run that diverged streamed NaN weights in its frames; a plane column the table
# lacks answered 500.
@example(config={"problem": "classification", "data": {"num_points": 36, "dataset": "xor"},
                 "network": {"activation": "linear", "hidden_layers": [1, 1]},
                 "training": {"batch_mode": "stochastic", "learning_rate": 1.0}})
@example(config={"problem": "classification", "data": {"plane": {"x": 2}, "num_points": 10, "dataset": "pass_fail"}})
def test_configs_in_range_train_without_nan_or_are_refused_with_422(api, server_settings, config):
    note(json.dumps(config))
    r = create(api, config)
    if not accepted(config, server_settings):
        event("refused: fields clash")
        assert r.status_code == 422, r.text
        assert r.json()["detail"] and all("loc" in e and "msg" in e for e in r.json()["detail"])
        return
    event("accepted")
    assert r.status_code == 201, r.text
    created = r.json()
    sid, headers = created["id"], {"Authorization": f"Bearer {created['token']}"}
    try:
        assert created["config"] == SessionConfig.model_validate(config).model_dump(mode="json")
        r = api.post(f"/api/sessions/{sid}/train", json={"epochs": 2}, headers=headers)
        assert r.status_code == 200, r.text
        state = parse(r.text)["state"]
        assert not non_finite(state), non_finite(state)
        # Two epochs, unless a stop condition (max_epochs, a target, divergence) paused training first.
        assert state["epoch"] == 2 or (state["stop_reason"] and state["epoch"] <= 2), state
        if state["stop_reason"]:
            event(f"stopped: {state['stop_reason'].split(':')[0].split(' (')[0]}")
        for tail in ("", "/history", "/metrics", "/grid?resolution=5", "/dataset"):
            r = api.get(f"/api/sessions/{sid}{tail}", headers=headers)
            assert r.status_code == 200, (tail, r.text)
            assert not non_finite(parse(r.text)), (tail, non_finite(parse(r.text)))
        check_first_frame(api, sid, created["token"], state["epoch"])
    finally:
        assert api.delete(f"/api/sessions/{sid}", headers=headers).status_code == 204


@pytest.fixture(scope="module")
def bystander(api: TestClient) -> Json:
    """A session that refused PATCHes must leave untouched."""
    r = api.post("/api/sessions", json={"data": {"num_points": 40}})
    assert r.status_code == 201, r.text
    return r.json()


@PROPERTY_SETTINGS
@given(config=invalid_configs())
def test_configs_out_of_range_answer_422_on_create_and_patch(api, server_settings, bystander, config):
    note(json.dumps(config))
    expected = 201 if accepted(config, server_settings) else 422
    event("accepted after all" if expected == 201 else "refused")
    r = create(api, config)
    assert r.status_code == expected, r.text
    if expected == 201:  # an "invalid" value that happens to be valid here (e.g. None for an optional field)
        body = r.json()
        api.delete(f"/api/sessions/{body['id']}", headers={"Authorization": f"Bearer {body['token']}"})
        return
    detail = r.json()["detail"]
    assert detail and all(e["loc"][0] == "body" and e["msg"] for e in detail), detail
    headers = {"Authorization": f"Bearer {bystander['token']}"}
    before = api.get(f"/api/sessions/{bystander['id']}", headers=headers).json()
    r = api.patch(f"/api/sessions/{bystander['id']}", content=json.dumps(config),
                  headers={**headers, "Content-Type": "application/json"})
    if r.status_code != 422:
        # A patch merges into the bystander's config, so a clash may disappear (e.g. early stopping once a
        # validation ratio is already set); then the merged config must be one the schema accepts.
        assert r.status_code == 200, r.text
        return
    assert api.get(f"/api/sessions/{bystander['id']}", headers=headers).json() == before


def test_the_strategies_cover_every_config_field():
    """Every field of the schema has a valid and an invalid strategy here, so new fields are not forgotten."""
    fields: set[str] = set()

    def walk(model: Any) -> None:
        for name, info in model.model_fields.items():
            sub = info.annotation
            if isinstance(sub, type) and hasattr(sub, "model_fields"):
                walk(sub)
            else:
                fields.add(name)

    walk(SessionConfig)
    assert fields == set(PATHS), fields ^ set(PATHS)


def test_oracle_sanity(server_settings):
    assert accepted({}, server_settings) is False  # 500 default points are over this server's 120
    assert accepted({"data": {"num_points": 100}}, server_settings) is True
    assert not accepted({"data": {"num_points": 100}, "network": {"hidden_layers": [7]}}, server_settings)

"""REST routes for sessions (docs/protocol.md), in process against the real engine."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nnplayground.app import create_app
from nnplayground.config import Settings

TF_DEFAULTS: dict[str, Any] = {
    "problem": "classification",
    "data": {"dataset": "circle", "noise": 0.0, "train_ratio": 0.5, "num_points": 500, "seed": 0},
    "features": ["x1", "x2"],
    "network": {"hidden_layers": [4, 2], "activation": "tanh"},
    "training": {
        "optimizer": "sgd",
        "learning_rate": 0.03,
        "batch_size": 10,
        "regularization": "none",
        "regularization_rate": 0.0,
        "loss": None,
    },
}


def assert_contains(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """Every key of expected (nested) has its value in actual; the schema may grow new fields."""
    for key, value in expected.items():
        if isinstance(value, dict):
            assert_contains(actual[key], value)
        else:
            assert actual[key] == value, (key, actual[key], value)


def url(sid: str, tail: str = "") -> str:
    return f"/api/sessions/{sid}{tail}"


# ---- create, read, configure -------------------------------------------------------------------


def test_create_answers_201_with_tf_playground_defaults(client, new_session):
    s = new_session()
    assert set(s.created) == {"id", "token", "config", "state"}
    assert_contains(s.created["config"], TF_DEFAULTS)
    state = s.created["state"]
    assert state["epoch"] == 0 and state["step"] == 0 and state["running"] is False
    assert state["train_loss"] is None and state["learning_rate"] == 0.03
    assert len(s.token) >= 32 and s.token != s.id


def test_create_with_partial_config_keeps_the_other_defaults(client, new_session):
    s = new_session({"data": {"dataset": "xor", "noise": 10}, "network": {"hidden_layers": [3]}})
    config = s.created["config"]
    assert_contains(config["data"], {**TF_DEFAULTS["data"], "dataset": "xor", "noise": 10.0})
    assert_contains(config["network"], {"hidden_layers": [3], "activation": "tanh"})
    assert_contains(config["training"], TF_DEFAULTS["training"])


def test_problem_regression_alone_picks_plane(client, new_session):
    s = new_session({"problem": "regression"})
    assert s.created["config"]["data"]["dataset"] == "plane"
    assert s.created["state"]["train_accuracy"] is None


def test_get_answers_config_and_state(client, new_session):
    s = new_session({"training": {"learning_rate": 0.3}})
    r = client.get(url(s.id), headers=s.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == s.id and "token" not in body
    assert body["config"] == s.created["config"]
    assert body["state"]["learning_rate"] == 0.3


def test_patch_learning_rate_applies_live(client, new_session):
    s = new_session()
    client.post(url(s.id, "/train"), json={"epochs": 3}, headers=s.headers)
    r = client.patch(url(s.id), json={"training": {"learning_rate": 0.1}}, headers=s.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["config"]["training"]["learning_rate"] == 0.1
    assert body["state"]["learning_rate"] == 0.1
    assert body["state"]["epoch"] == 3  # live: training goes on from where it was
    assert len(client.get(url(s.id, "/history"), headers=s.headers).json()["epoch"]) == 3


def test_patch_architecture_reinitialises(client, new_session):
    s = new_session()
    client.post(url(s.id, "/train"), json={"epochs": 3}, headers=s.headers)
    r = client.patch(url(s.id), json={"network": {"hidden_layers": [5, 3, 2]}}, headers=s.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["config"]["network"]["hidden_layers"] == [5, 3, 2]
    assert body["config"]["training"] == s.created["config"]["training"]  # the rest is kept
    assert body["state"]["epoch"] == 0 and body["state"]["train_loss"] is None
    assert client.get(url(s.id, "/history"), headers=s.headers).json()["epoch"] == []


def test_patch_data_regenerates_the_dataset(client, new_session):
    s = new_session()
    before = client.get(url(s.id, "/dataset"), headers=s.headers).json()
    r = client.patch(url(s.id), json={"data": {"dataset": "spiral", "num_points": 100}}, headers=s.headers)
    assert r.status_code == 200, r.text
    after = client.get(url(s.id, "/dataset"), headers=s.headers).json()
    assert after["version"] > before["version"]
    assert len(after["train"]["x"]) + len(after["test"]["x"]) == 100


def test_patch_problem_alone_switches_to_that_problems_data_set(client, new_session):
    s = new_session()
    r = client.patch(url(s.id), json={"problem": "regression"}, headers=s.headers)
    assert r.status_code == 200, r.text
    assert r.json()["config"]["problem"] == "regression"
    assert r.json()["config"]["data"]["dataset"] == "plane"
    back = client.patch(url(s.id), json={"problem": "classification"}, headers=s.headers)
    assert back.status_code == 200, back.text
    assert back.json()["config"]["data"]["dataset"] == "circle"


def test_patch_with_nothing_new_leaves_the_session_alone(client, new_session):
    s = new_session()
    client.post(url(s.id, "/train"), json={"epochs": 2}, headers=s.headers)
    r = client.patch(url(s.id), json={"network": {"hidden_layers": [4, 2]}}, headers=s.headers)
    assert r.status_code == 200
    assert r.json()["state"]["epoch"] == 2


# ---- driving ------------------------------------------------------------------------------------


def test_train_advances_by_exactly_n_epochs(client, new_session):
    s = new_session()
    r = client.post(url(s.id, "/train"), json={"epochs": 7}, headers=s.headers)
    assert r.status_code == 200, r.text
    state = r.json()["state"]
    assert state["epoch"] == 7
    assert state["step"] == 7 * 25  # 250 training points in batches of 10
    assert state["train_loss"] is not None and 0 <= state["train_accuracy"] <= 1
    r = client.post(url(s.id, "/train"), json={"epochs": 5}, headers=s.headers)
    assert r.json()["state"]["epoch"] == 12
    assert r.json()["state"]["running"] is False  # train keeps the paused state


def test_train_checks_epochs_against_the_limit(client, new_session, settings):
    s = new_session()
    too_many = settings.max_epochs_per_train + 1
    r = client.post(url(s.id, "/train"), json={"epochs": too_many}, headers=s.headers)
    assert r.status_code == 422
    (err,) = r.json()["detail"]
    assert err["loc"] == ["body", "epochs"]
    assert str(settings.max_epochs_per_train) in err["msg"] and str(too_many) in err["msg"]
    r = client.post(url(s.id, "/train"), json={"epochs": 0}, headers=s.headers)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "epochs"]


def test_play_then_pause_stops_training(client, new_session):
    s = new_session()
    r = client.post(url(s.id, "/play"), headers=s.headers)
    assert r.status_code == 200
    assert r.json()["state"]["running"] is True
    # A scripted train while playing still answers once n more epochs are done.
    before = r.json()["state"]["epoch"]
    trained = client.post(url(s.id, "/train"), json={"epochs": 2}, headers=s.headers).json()["state"]
    assert trained["epoch"] >= before + 2 and trained["running"] is True
    paused = client.post(url(s.id, "/pause"), headers=s.headers).json()["state"]
    assert paused["running"] is False
    # Once pause has answered, nothing trains: the epoch stays where pause left it.
    assert client.get(url(s.id), headers=s.headers).json()["state"]["epoch"] == paused["epoch"]
    assert client.get(url(s.id, "/history"), headers=s.headers).json()["epoch"][-1] == paused["epoch"]


def test_step_trains_one_epoch(client, new_session):
    s = new_session()
    for expected in (1, 2, 3):
        r = client.post(url(s.id, "/step"), headers=s.headers)
        assert r.status_code == 200
        assert r.json()["state"]["epoch"] == expected


def test_reset_gives_epoch_zero_and_keeps_config_and_data(client, new_session):
    s = new_session({"data": {"dataset": "gauss"}})
    client.post(url(s.id, "/train"), json={"epochs": 4}, headers=s.headers)
    version = client.get(url(s.id, "/dataset"), headers=s.headers).json()["version"]
    r = client.post(url(s.id, "/reset"), headers=s.headers)
    assert r.status_code == 200
    assert r.json()["state"]["epoch"] == 0 and r.json()["state"]["train_loss"] is None
    assert r.json()["config"] == s.created["config"]
    assert client.get(url(s.id, "/dataset"), headers=s.headers).json()["version"] == version
    assert client.get(url(s.id, "/history"), headers=s.headers).json()["epoch"] == []


# ---- views --------------------------------------------------------------------------------------


def test_history_has_one_point_per_epoch(client, new_session):
    s = new_session()
    client.post(url(s.id, "/train"), json={"epochs": 6}, headers=s.headers)
    h = client.get(url(s.id, "/history"), headers=s.headers).json()
    assert set(h) == {"epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "validation_loss",
                      "validation_accuracy"}
    assert h["validation_loss"] is None  # validation is off by default
    assert h["epoch"] == [1, 2, 3, 4, 5, 6]
    assert all(len(h[k]) == 6 for k in h if h[k] is not None)
    assert all(0 <= a <= 1 for a in h["test_accuracy"])


def test_grid_shape_axes_and_value_range(client, new_session):
    s = new_session()
    client.post(url(s.id, "/train"), json={"epochs": 2}, headers=s.headers)
    g = client.get(url(s.id, "/grid"), params={"resolution": 7}, headers=s.headers).json()
    assert g["resolution"] == 7
    assert len(g["x"]) == len(g["y"]) == 7
    assert g["x"][0] == -6 and g["x"][-1] == 6 and g["y"][0] == -6 and g["y"][-1] == 6
    assert len(g["values"]) == 7 and all(len(row) == 7 for row in g["values"])
    flat = [v for row in g["values"] for v in row]
    assert all(0 <= v <= 1 for v in flat)
    assert max(flat) > min(flat)  # a trained net is not constant over the plane


def test_grid_default_resolution_comes_from_settings(client, new_session, settings):
    s = new_session()
    g = client.get(url(s.id, "/grid"), headers=s.headers).json()
    assert g["resolution"] == settings.grid_resolution
    assert len(g["values"]) == settings.grid_resolution


@pytest.mark.parametrize("bad", [1, 0, -3, "max+1"])
def test_grid_resolution_out_of_range_is_422(client, new_session, settings, bad):
    s = new_session()
    resolution = settings.max_grid_resolution + 1 if bad == "max+1" else bad
    r = client.get(url(s.id, "/grid"), params={"resolution": resolution}, headers=s.headers)
    assert r.status_code == 422
    (err,) = r.json()["detail"]
    assert err["loc"] == ["query", "resolution"]
    assert str(settings.max_grid_resolution) in err["msg"]


@pytest.mark.parametrize(("ratio", "n_train", "n_test"), [(0.5, 250, 250), (0.7, 350, 150)])
def test_metrics_confusion_sums_to_the_set_sizes(client, new_session, ratio, n_train, n_test):
    s = new_session({"data": {"train_ratio": ratio}})
    client.post(url(s.id, "/train"), json={"epochs": 3}, headers=s.headers)
    m = client.get(url(s.id, "/metrics"), headers=s.headers).json()
    assert m["problem"] == "classification"
    for part, size in (("train", n_train), ("test", n_test)):
        confusion = m[part]["confusion"]
        assert len(confusion) == 2 and all(len(row) == 2 for row in confusion)
        assert sum(map(sum, confusion)) == size
        correct = confusion[0][0] + confusion[1][1]
        assert m[part]["accuracy"] == pytest.approx(correct / size, abs=1e-6)
        assert m[part]["labels"] == [0, 1]
    state = client.get(url(s.id), headers=s.headers).json()["state"]
    assert m["test"]["accuracy"] == pytest.approx(state["test_accuracy"], abs=1e-6)


def test_metrics_for_regression(client, new_session):
    s = new_session({"problem": "regression"})
    client.post(url(s.id, "/train"), json={"epochs": 3}, headers=s.headers)
    m = client.get(url(s.id, "/metrics"), headers=s.headers).json()
    assert m["problem"] == "regression"
    for part in ("train", "test"):
        assert m[part]["mse"] >= 0 and m[part]["mae"] >= 0
        assert m[part]["mae"] ** 2 <= m[part]["mse"] + 1e-9  # Jensen: mean|e|² <= mean e²
        assert "confusion" not in m[part]


def test_dataset_route(client, new_session):
    s = new_session({"data": {"num_points": 100, "train_ratio": 0.6}})
    d = client.get(url(s.id, "/dataset"), headers=s.headers).json()
    assert d["version"] >= 1
    assert len(d["train"]["x"]) == len(d["train"]["y"]) == 60
    assert len(d["test"]["x"]) == len(d["test"]["y"]) == 40
    assert all(len(p) == 2 and all(-6 <= v <= 6 for v in p) for p in d["train"]["x"])
    assert set(d["train"]["y"]) <= {0, 1}


def test_delete_then_404(client, new_session):
    s = new_session()
    r = client.delete(url(s.id), headers=s.headers)
    assert r.status_code == 204 and r.content == b""
    for method, tail in [("GET", ""), ("GET", "/history"), ("POST", "/play"), ("DELETE", "")]:
        r = client.request(method, url(s.id, tail), headers=s.headers)
        assert r.status_code == 404
        assert r.json() == {"detail": f"unknown session {s.id}"}


def test_unknown_session_is_404(client, new_session):
    s = new_session()
    r = client.get(url("no-such-session"), headers=s.headers)
    assert r.status_code == 404
    assert r.json() == {"detail": "unknown session no-such-session"}


# ---- auth ---------------------------------------------------------------------------------------

ROUTES = [
    ("GET", "", None),
    ("PATCH", "", {"training": {"learning_rate": 0.1}}),
    ("POST", "/train", {"epochs": 1}),
    ("POST", "/play", None),
    ("POST", "/pause", None),
    ("POST", "/step", None),
    ("POST", "/reset", None),
    ("GET", "/history", None),
    ("GET", "/grid", None),
    ("GET", "/metrics", None),
    ("GET", "/dataset", None),
    ("DELETE", "", None),
]


@pytest.mark.parametrize(("method", "tail", "body"), ROUTES)
def test_every_session_route_needs_the_token(client, new_session, method, tail, body):
    s = new_session()
    other = new_session()
    missing = client.request(method, url(s.id, tail), json=body)
    assert missing.status_code == 401
    assert missing.json() == {"detail": "missing token"}
    assert missing.headers["www-authenticate"] == "Bearer"
    not_bearer = client.request(method, url(s.id, tail), json=body, headers={"Authorization": s.token})
    assert not_bearer.status_code == 401
    wrong = client.request(method, url(s.id, tail), json=body, headers=other.headers)
    assert wrong.status_code == 403
    assert wrong.json() == {"detail": "wrong token"}
    # Refused calls changed nothing.
    state = client.get(url(s.id), headers=s.headers).json()["state"]
    assert state["epoch"] == 0 and state["running"] is False and state["learning_rate"] == 0.03
    ok = client.request(method, url(s.id, tail), json=body, headers=s.headers)
    assert ok.status_code in (200, 204), ok.text


# ---- validation ---------------------------------------------------------------------------------

INVALID = [
    ({"data": {"dataset": "no-such-set"}}, ["body", "data", "dataset"], "no-such-set"),
    ({"data": {"noise": 51}}, ["body", "data", "noise"], "50"),
    ({"network": {"hidden_layers": [2] * 7}}, ["body", "network", "hidden_layers"], "6"),
    ({"network": {"hidden_layers": [4, 9]}}, ["body", "network", "hidden_layers", 1], "8"),
    ({"network": {"hidden_layers": [0]}}, ["body", "network", "hidden_layers"], "neuron"),
    ({"training": {"learning_rate": 0}}, ["body", "training", "learning_rate"], "0"),
    ({"data": {"num_points": 5000}}, ["body", "data", "num_points"], "2000"),
    ({"features": ["x3"]}, ["body", "features"], "x3"),
    ({"colour": "red"}, ["body", "colour"], "Extra"),
    ({"training": {"optimiser": "sgd"}}, ["body", "training", "optimiser"], "Extra"),
]


@pytest.mark.parametrize(("config", "loc", "hint"), INVALID)
def test_create_refuses_invalid_configs_naming_the_field(client, config, loc, hint):
    r = client.post("/api/sessions", json=config)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert [e["loc"] for e in detail] == [loc]
    assert hint in detail[0]["msg"]
    assert client.get("/api/health").json()["sessions"] == 0


@pytest.mark.parametrize(("config", "loc", "hint"), INVALID)
def test_patch_refuses_invalid_configs_naming_the_field(client, new_session, config, loc, hint):
    s = new_session()
    client.post(url(s.id, "/train"), json={"epochs": 1}, headers=s.headers)
    r = client.patch(url(s.id), json=config, headers=s.headers)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert [e["loc"] for e in detail] == [loc]
    assert hint in detail[0]["msg"]
    after = client.get(url(s.id), headers=s.headers).json()
    assert after["config"] == s.created["config"] and after["state"]["epoch"] == 1  # untouched


def test_patch_body_must_be_an_object(client, new_session):
    s = new_session()
    r = client.patch(url(s.id), json=[1, 2], headers=s.headers)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][0] == "body"


def test_limits_follow_settings(tmp_path):
    small = Settings(data_dir=tmp_path, max_neurons=3, max_hidden_layers=2, max_points=100)
    with TestClient(create_app(small)) as c:
        r = c.post("/api/sessions", json={"network": {"hidden_layers": [4]}})
        assert r.status_code == 422
        assert r.json()["detail"][0]["msg"] == "each hidden layer has 1 to 3 neurons (got 4)"
        r = c.post("/api/sessions", json={"network": {"hidden_layers": [1, 1, 1]}})
        assert r.json()["detail"][0]["loc"] == ["body", "network", "hidden_layers"]
        # The defaults ([4, 2]) are over these limits: a client must pick within them.
        assert c.post("/api/sessions", json={}).status_code == 422
        fits = {"data": {"num_points": 100}, "network": {"hidden_layers": [3, 3]}}
        assert c.post("/api/sessions", json=fits).status_code == 201


def test_body_over_the_message_limit_is_413(client, new_session, settings):
    s = new_session()
    padding = "x" * settings.max_message_bytes
    r = client.patch(url(s.id), json={"padding": padding}, headers=s.headers)
    assert r.status_code == 413
    assert str(settings.max_message_bytes) in r.json()["detail"]

    def chunks():  # no Content-Length: the server must count what actually arrives
        yield b'{"padding": "'
        for _ in range(settings.max_message_bytes // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    r = client.post("/api/sessions", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    parts = iter([b'{"data": ', b'{"dataset": "xor"}}'])
    small = client.post("/api/sessions", content=parts, headers={"Content-Type": "application/json"})
    assert small.status_code == 201, small.text
    assert small.json()["config"]["data"]["dataset"] == "xor"


# ---- limits on sessions -------------------------------------------------------------------------


def test_max_sessions_answers_429(tmp_path):
    small = Settings(data_dir=tmp_path, max_sessions=3, max_sessions_per_client=10)
    with TestClient(create_app(small)) as c:
        created = [c.post("/api/sessions", json={}).json() for _ in range(3)]
        assert all("token" in s for s in created)
        r = c.post("/api/sessions", json={})
        assert r.status_code == 429
        assert "maximum of 3 sessions" in r.json()["detail"]
        first = created[0]
        c.delete(url(first["id"]), headers={"Authorization": f"Bearer {first['token']}"})
        assert c.post("/api/sessions", json={}).status_code == 201


def test_max_sessions_per_client_answers_429(tmp_path):
    small = Settings(data_dir=tmp_path, max_sessions=10, max_sessions_per_client=2)
    app = create_app(small)
    with TestClient(app, client=("10.0.0.1", 5000)) as first:
        second = TestClient(app, client=("10.0.0.2", 5000))  # same app and engine, another address
        assert first.post("/api/sessions", json={}).status_code == 201
        assert first.post("/api/sessions", json={}).status_code == 201
        r = first.post("/api/sessions", json={})
        assert r.status_code == 429
        assert "10.0.0.1" in r.json()["detail"] and "2 sessions" in r.json()["detail"]
        assert second.post("/api/sessions", json={}).status_code == 201
        assert first.get("/api/health").json()["sessions"] == 3


# ---- several sessions; learning -----------------------------------------------------------------


def test_sessions_are_independent(client, new_session):
    a = new_session()
    b = new_session({"data": {"dataset": "xor"}, "training": {"learning_rate": 0.1}})
    c = new_session()  # same shape as a: trained in the same batched group
    client.post(url(a.id, "/train"), json={"epochs": 4}, headers=a.headers)
    client.patch(url(a.id), json={"training": {"learning_rate": 0.3}}, headers=a.headers)
    client.post(url(c.id, "/step"), headers=c.headers)
    sa = client.get(url(a.id), headers=a.headers).json()
    sb = client.get(url(b.id), headers=b.headers).json()
    sc = client.get(url(c.id), headers=c.headers).json()
    assert sa["state"]["epoch"] == 4 and sa["state"]["learning_rate"] == 0.3
    assert sb["state"]["epoch"] == 0 and sb["config"]["training"]["learning_rate"] == 0.1
    assert sc["state"]["epoch"] == 1 and sc["config"] == c.created["config"]
    client.delete(url(a.id), headers=a.headers)
    assert client.get(url(b.id), headers=b.headers).status_code == 200
    assert client.get(url(c.id), headers=c.headers).json()["state"]["epoch"] == 1


def test_xor_is_learned(client, new_session):
    s = new_session(
        {"data": {"dataset": "xor"}, "network": {"hidden_layers": [8, 4]}, "training": {"learning_rate": 0.1}}
    )
    state = client.post(url(s.id, "/train"), json={"epochs": 100}, headers=s.headers).json()["state"]
    assert state["epoch"] == 100
    assert state["test_accuracy"] >= 0.95
    assert state["test_loss"] < 0.3


def test_openapi_schema_builds(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/sessions" in paths and "/api/sessions/{session_id}/grid" in paths


# ---- the full course ------------------------------------------------------------------------------


def test_lr_range_test_route_suggests_a_rate(client, new_session):
    s = new_session({"data": {"dataset": "xor"}})
    r = client.post(url(s.id, "/lr-range-test"), json={"start": 1e-5, "end": 10, "steps": 50}, headers=s.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["learning_rates"]) == len(body["losses"]) > 10
    assert body["suggested"] == pytest.approx(body["min_loss_rate"] / 10)
    assert client.post(url(s.id, "/lr-range-test"), json={"steps": 5}, headers=s.headers).status_code == 422
    assert client.post(url(s.id, "/lr-range-test"), json={}).status_code == 401


@pytest.mark.parametrize(
    "config,field",
    [
        ({"training": {"loss": "mse"}}, "mse"),
        ({"training": {"stop": {"early_stopping_patience": 5}}}, "validation_ratio"),
        ({"data": {"dataset": "circle", "classes": 3}}, "at most 2 classes"),
        ({"data": {"dataset": "blobs", "classes": 3}, "training": {"loss": "bce"}}, "two classes"),
        ({"data": {"train_ratio": 0.8, "validation_ratio": 0.2}}, "10 %"),
        ({"network": {"hidden_layers": [3, 3], "layer_activations": ["relu"]}}, "one entry per hidden layer"),
        ({"network": {"init": "glorot"}}, "unknown init"),
        ({"training": {"schedule": {"kind": "warmup"}}}, "unknown schedule"),
    ],
)
def test_course_options_are_validated_with_a_clear_message(client, config, field):
    r = client.post("/api/sessions", json=config)
    assert r.status_code == 422
    assert field in json.dumps(r.json())


def test_every_course_option_is_accepted_and_trains(client, new_session):
    s = new_session({
        "data": {"dataset": "spiral", "classes": 3, "train_ratio": 0.6, "validation_ratio": 0.2},
        "network": {"hidden_layers": [8, 6], "layer_activations": ["swish", "gelu"], "init": "he_uniform",
                    "batch_norm": "after", "dropout": 0.1},
        "training": {"optimizer": "nadam", "learning_rate": 0.01, "batch_mode": "mini", "batch_size": 16,
                     "schedule": {"kind": "one_cycle", "cycle_epochs": 20}, "clip": "norm", "clip_value": 1.0,
                     "input_noise": 0.05, "stop": {"max_epochs": 5}},
    })
    r = client.post(url(s.id, "/train"), json={"epochs": 10}, headers=s.headers)
    state = r.json()["state"]
    assert state["epoch"] == 5 and state["stop_reason"] == "max epochs reached (5)"
    assert state["validation_loss"] is not None and state["best_epoch"] is not None
    metrics = client.get(url(s.id, "/metrics"), headers=s.headers).json()
    assert set(metrics) >= {"train", "validation", "test"}
    assert len(metrics["test"]["confusion"]) == 3

"""Shipped tables, data of more than two columns, drawn points and uploaded CSVs."""

import io

import pytest
import torch


def url(session_id: str, path: str = "") -> str:
    return f"/api/sessions/{session_id}{path}"


def test_iris_with_a_4_8_3_network_reaches_93_percent(client, new_session):
    s = new_session({"data": {"dataset": "iris", "train_ratio": 0.7}, "network": {"hidden_layers": [8]},
                     "training": {"optimizer": "adam", "learning_rate": 0.01}})
    state = client.post(url(s.id, "/train"), json={"epochs": 150}, headers=s.headers).json()["state"]
    assert state["test_accuracy"] >= 0.93
    data = client.get(url(s.id, "/dataset"), headers=s.headers).json()
    assert data["columns"] == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert data["class_names"] == ["setosa", "versicolor", "virginica"] and data["plane"]["mode"] == "features"
    metrics = client.get(url(s.id, "/metrics"), headers=s.headers).json()
    assert len(metrics["test"]["confusion"]) == 3


def test_three_class_spiral_reaches_90_percent(client, new_session):
    s = new_session({
        "data": {"dataset": "spiral", "classes": 3, "noise": 0},
        "features": ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"],
        "network": {"hidden_layers": [8, 8, 8], "activation": "relu"},
        "training": {"optimizer": "adam", "learning_rate": 0.01},
    })
    state = client.post(url(s.id, "/train"), json={"epochs": 400}, headers=s.headers).json()["state"]
    assert state["test_accuracy"] >= 0.9


def test_pca_plane_and_its_grid(client, new_session):
    s = new_session({"data": {"dataset": "iris", "plane": {"mode": "pca"}}})
    data = client.get(url(s.id, "/dataset"), headers=s.headers).json()
    assert data["plane"]["mode"] == "pca" and data["extent"] > 1
    grid = client.get(url(s.id, "/grid?resolution=6"), headers=s.headers).json()
    assert grid["classes"] == 3 and grid["x"][-1] == pytest.approx(data["extent"], rel=1e-5)


def test_drawn_points_make_the_data_your_own_and_keep_the_weights(client, new_session):
    s = new_session()
    client.post(url(s.id, "/train"), json={"epochs": 3}, headers=s.headers)
    before = client.get(url(s.id, "/grid?resolution=3"), headers=s.headers).json()["values"]
    r = client.post(url(s.id, "/points"), json={"x": 5.5, "y": 5.5, "label": 1}, headers=s.headers)
    assert r.status_code == 200 and r.json()["config"]["data"]["dataset"] == "custom"
    assert r.json()["state"]["epoch"] == 3  # not re-initialised
    assert client.get(url(s.id, "/grid?resolution=3"), headers=s.headers).json()["values"] == before
    data = client.get(url(s.id, "/dataset"), headers=s.headers).json()
    points = data["train"]["x"] + data["test"]["x"]
    assert len(points) == 501 and [5.5, 5.5] in points and data["extent"] == 6.0
    r = client.delete(url(s.id, "/points?x=5.4&y=5.6"), headers=s.headers)
    assert r.status_code == 200
    data = client.get(url(s.id, "/dataset"), headers=s.headers).json()
    assert len(data["train"]["x"] + data["test"]["x"]) == 500
    assert client.delete(url(s.id, "/points?x=40&y=40"), headers=s.headers).status_code == 422
    assert client.post(url(s.id, "/points"), json={"x": 0, "y": 0, "label": 11}, headers=s.headers).status_code == 422


def test_points_cannot_be_drawn_on_four_columns(client, new_session):
    s = new_session({"data": {"dataset": "iris"}})
    r = client.post(url(s.id, "/points"), json={"x": 0, "y": 0, "label": 0}, headers=s.headers)
    assert r.status_code == 422 and "two-dimensional" in r.text


CSV = "hours,attended,passed\n" + "\n".join(
    f"{h},{a},{'yes' if h + a / 4 > 9 else 'no'}" for h in range(0, 16, 2) for a in range(0, 32, 6)
)


def test_uploaded_csv_becomes_the_sessions_data_and_trains(client, new_session):
    s = new_session()
    headers = {**s.headers, "Content-Type": "text/csv"}
    r = client.post(url(s.id, "/data?label=passed"), content=CSV, headers=headers)
    assert r.status_code == 200, r.text
    config = r.json()["config"]
    assert config["data"]["dataset"] == "custom" and config["data"]["standardize"] is True
    data = client.get(url(s.id, "/dataset"), headers=s.headers).json()
    assert data["columns"] == ["hours", "attended"] and data["class_names"] == ["no", "yes"] and data["custom"]
    state = client.post(url(s.id, "/train"), json={"epochs": 30}, headers=s.headers).json()["state"]
    assert state["train_loss"] is not None


@pytest.mark.parametrize(
    "csv,needle",
    [
        ("a,b\n1,x\n2,y\n3,x\n4,y", "label"),  # no such label column
        ("a,label\n1,x\n2,y\nz,x\n4,y\n5,x", "line 4, column 'a'"),
        ("a,label\n1,x\n2,y\n3\n4,y\n5,x", "line 4"),
        ("a,label\n1,x\n2,x", "rows"),
    ],
)
def test_bad_csvs_name_the_line_and_column(client, new_session, csv, needle):
    s = new_session()
    r = client.post(url(s.id, "/data?label=label"), content=csv, headers={**s.headers, "Content-Type": "text/csv"})
    assert r.status_code == 422 and needle in r.text


def test_an_upload_over_the_limit_is_413(client, new_session, settings):
    s = new_session()
    big = "a,label\n" + "1,x\n" * (settings.max_upload_bytes // 4 + 10)
    r = client.post(url(s.id, "/data?label=label"), content=big, headers={**s.headers, "Content-Type": "text/csv"})
    assert r.status_code == 413


def test_your_own_data_survives_a_checkpoint(client, new_session):
    s = new_session()
    client.post(url(s.id, "/data?label=passed"), content=CSV, headers={**s.headers, "Content-Type": "text/csv"})
    r = client.get(url(s.id, "/export?format=pt"), headers=s.headers)
    assert r.status_code == 200
    ckpt = torch.load(io.BytesIO(r.content), weights_only=True)
    assert ckpt["custom_data"]["columns"] == ["hours", "attended"]
    r = client.post("/api/sessions/import", content=r.content, headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 201, r.text
    other = r.json()
    data = client.get(url(other["id"], "/dataset"), headers={"Authorization": f"Bearer {other['token']}"}).json()
    assert data["columns"] == ["hours", "attended"]


def test_changing_the_plane_keeps_the_training(client, new_session):
    s = new_session({"data": {"dataset": "iris"}, "network": {"hidden_layers": [8]}})
    client.post(url(s.id, "/train"), json={"epochs": 5}, headers=s.headers)
    before = client.get(url(s.id, "/metrics"), headers=s.headers).json()["train"]["loss"]
    r = client.patch(url(s.id), json={"data": {"plane": {"mode": "pca"}}}, headers=s.headers)
    assert r.status_code == 200 and r.json()["state"]["epoch"] == 5
    assert client.get(url(s.id, "/metrics"), headers=s.headers).json()["train"]["loss"] == pytest.approx(before)
    assert client.get(url(s.id, "/dataset"), headers=s.headers).json()["plane"]["mode"] == "pca"


def test_data_sets_of_three_classes_say_so_in_the_config(client, new_session):
    for dataset in ("rings", "iris"):
        s = new_session({"data": {"dataset": dataset}})
        assert s.created["config"]["data"]["classes"] == 3

"""Looking inside: metrics reports, weights in frames, editing a weight, neuron maps, diagnostics."""

import json

import numpy as np
import pytest
from test_ws import RECV_TIMEOUT, frame_where, http, new_live_session, stream  # noqa: F401 - fixtures


def url(session_id: str, path: str = "") -> str:
    return f"/api/sessions/{session_id}{path}"


def test_metrics_report_has_per_class_scores_and_curves(client, new_session):
    s = new_session({"data": {"dataset": "blobs", "classes": 3}})
    client.post(url(s.id, "/train"), json={"epochs": 20}, headers=s.headers)
    test = client.get(url(s.id, "/metrics"), headers=s.headers).json()["test"]
    assert len(test["per_class"]) == 3 and {"precision", "recall", "specificity", "f1"} <= set(test["per_class"][0])
    assert [c["class"] for c in test["curves"]] == [0, 1, 2]
    assert all(0 <= c["roc"]["auc"] <= 1 for c in test["curves"])
    assert test["error_rate"] == pytest.approx(1 - test["accuracy"])
    assert all(abs(sum(row) - 1) < 1e-3 for row in test["confusion_normalized"] if sum(row))


def test_regression_metrics_have_r2_and_predictions(client, new_session):
    s = new_session({"problem": "regression"})
    client.post(url(s.id, "/train"), json={"epochs": 30}, headers=s.headers)
    test = client.get(url(s.id, "/metrics"), headers=s.headers).json()["test"]
    assert test["r2"] > 0.5 and len(test["predicted_vs_true"]["true"]) == test["count"]


def test_set_weight_over_rest_and_bad_indices(client, new_session):
    s = new_session()
    r = client.put(url(s.id, "/weights"), json={"layer": 0, "from": 1, "to": 2, "value": 1.25}, headers=s.headers)
    assert r.status_code == 204
    r = client.put(url(s.id, "/weights"), json={"layer": 0, "from": 5, "to": 0, "value": 1}, headers=s.headers)
    assert r.status_code == 422 and "from must be 0 to 1" in r.text
    r = client.put(url(s.id, "/weights"), json={"layer": 9, "to": 0, "value": 1}, headers=s.headers)
    assert r.status_code == 422
    assert client.put(url(s.id, "/weights"), json={"layer": 0, "to": 0, "value": 1}).status_code == 401


def test_diagnostics_show_gradient_norms_dead_units_and_histograms(client, new_session):
    s = new_session({"network": {"hidden_layers": [6, 4], "activation": "relu"}})
    client.post(url(s.id, "/train"), json={"epochs": 5}, headers=s.headers)
    d = client.get(url(s.id, "/diagnostics"), headers=s.headers).json()
    assert d["grad_norms"]["epoch"] == [1, 2, 3, 4, 5] and len(d["grad_norms"]["layers"]) == 3
    assert all(v >= 0 for layer in d["grad_norms"]["layers"] for v in layer)
    assert len(d["dead_units"]) == 2 and all(0 <= f <= 1 for f in d["dead_units"])
    assert sum(d["weights"][0]["counts"]) == 2 * 6 and len(d["activations"]) == 2


def test_frames_carry_weights_and_neuron_maps_and_a_weight_edit_shows(live_server, new_live_session):
    s = new_live_session({"network": {"hidden_layers": [4, 2]}})
    with stream(live_server, s) as ws:
        ws.send(json.dumps({"type": "views", "neurons": True}))
        frame = frame_where(ws, lambda f: "neurons" in f.arrays)
        assert frame.arrays["neurons"].shape == (6, 20, 20)
        assert frame.header["neurons"]["layers"] == [4, 2]
        layout = {entry["name"]: entry for entry in frame.header["weights"]["layers"]}
        assert layout["W0"]["shape"] == [2, 4] and layout["b2"]["shape"] == [1, 1]
        ws.send(json.dumps({"type": "set_weight", "layer": 0, "from": 1, "to": 3, "value": 2.5}))

        def shows_edit(f) -> bool:
            w0 = f.arrays["weights"][layout["W0"]["offset"] : layout["W0"]["offset"] + 8].reshape(2, 4)
            return bool(np.isclose(w0[1, 3], 2.5))

        assert shows_edit(frame_where(ws, shows_edit))
        ws.send(json.dumps({"type": "set_weight", "layer": 0, "from": 7, "to": 0, "value": 1}))
        for _ in range(200):
            message = ws.recv(timeout=RECV_TIMEOUT)
            if isinstance(message, str) and json.loads(message)["type"] == "error":
                assert "from must be" in json.loads(message)["message"]
                break
        else:
            raise AssertionError("no error for a bad index")



def test_network_route_gives_weights_and_every_units_map(client, new_session):
    s = new_session({"network": {"hidden_layers": [3, 2]}})
    net = client.get(url(s.id, "/network?resolution=7"), headers=s.headers).json()
    assert [len(layer["bias"]) for layer in net["layers"]] == [3, 2, 1]
    assert len(net["layers"][0]["weights"]) == 2 and len(net["layers"][0]["weights"][0]) == 3
    assert [len(m) for m in net["neurons"]["maps"]] == [3, 2]
    assert len(net["neurons"]["maps"][0][0]) == 7 and net["inputs"] == ["x1", "x2"]
    assert client.get(url(s.id, "/network?resolution=500"), headers=s.headers).status_code == 422


def test_tf_playground_link_over_rest(client):
    link = "https://playground.tensorflow.org/#activation=sigmoid&dataset=xor&networkShape=3&learningRate=0.3&x=true&y=true"
    r = client.post("/api/tfplayground", json={"url": link})
    assert r.status_code == 200
    config = r.json()["config"]
    assert config["data"]["dataset"] == "xor" and config["network"]["hidden_layers"] == [3]
    assert client.post("/api/sessions", json=config).status_code == 201
    assert client.post("/api/tfplayground", json={"url": "https://example.org"}).status_code == 422

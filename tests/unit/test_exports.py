"""Exports and imports: checked checkpoints, safe uploads, and the python script's parts against the engine."""

import importlib.util
import io
import json
import pickle
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch

from nnplayground import catalog, exports
from nnplayground.config import Settings
from nnplayground.data import GENERATORS
from nnplayground.engine import Engine
from nnplayground.engine.module import PlainNetwork
from nnplayground.engine.optim import OPTIMIZERS, torch_optimizer
from nnplayground.engine.session import Session, SessionData
from nnplayground.schemas import SessionConfig


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    e = Engine(Settings())
    e.start()
    yield e
    e.stop()


def trained(engine: Engine, name: str, config: dict[str, Any] | None = None, epochs: int = 3) -> dict[str, Any]:
    engine.create_session(name, SessionConfig.model_validate(config or {})).result()
    engine.train(name, epochs).result(timeout=60)
    return engine.checkpoint(name).result()


def test_an_engine_checkpoint_passes_and_restores(engine: Engine) -> None:
    ckpt = trained(engine, "v1", {"training": {"optimizer": "adam"}})
    clean = exports.validated(ckpt)
    assert set(clean["model"]) == set(ckpt["model"]) and set(clean["optimizer"]) == set(ckpt["optimizer"])
    assert clean["counters"] == {k: ckpt["counters"][k] for k in ("epoch", "step", "steps_in_epoch")}
    assert set(clean["hyper"]) == {"t"}
    state = engine.restore_session("v1-copy", clean).result()
    assert state.epoch == 3 and state.train_loss == engine.state("v1").train_loss
    assert engine.history("v1-copy").result() == engine.history("v1").result()
    assert clean["history"] == {k: v for k, v in ckpt["history"].items()}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda c: c["model"].update(W0=torch.zeros(3, 3)), "does not fit the network"),
        (lambda c: c["model"].pop("b1"), "'b1' is missing"),
        (lambda c: c["model"].update(W0=torch.full_like(c["model"]["W0"], float("nan"))), "NaN or infinite"),
        (lambda c: c["model"].update(W0="weights"), "not a numeric array"),
        (lambda c: c["progress"].update(epoch="many"), "progress.epoch"),
        (lambda c: c["progress"].update(stop_reason="x" * 1000), "progress.stop_reason"),
        (lambda c: c["history"].update(train_loss=[0.1]), "differ in length"),
        (lambda c: c["config"]["network"].update(hidden_layers=[99]), "1 to 8 neurons"),
        (lambda c: c["config"].update(problem="poetry"), "config.problem"),
        (lambda c: c.update(format="pickle"), "not an nnplayground checkpoint"),
    ],
)
def test_damaged_checkpoints_are_refused_with_a_reason(engine: Engine, damage, message: str) -> None:
    ckpt = trained(engine, f"d{abs(hash(message))}")
    damage(ckpt)
    with pytest.raises(ValueError, match=message):
        exports.validated(ckpt, Settings())


def test_only_sane_counters_and_scalars_are_kept(engine: Engine) -> None:
    ckpt = trained(engine, "c1", {"training": {"optimizer": "nadam"}})
    ckpt["counters"].update(batch=0, n_train=10**9, steps_in_epoch=10**6, epoch=-1)
    ckpt["hyper"].update(lr=1e9, t=float("nan"), mu_product=0.5)
    ckpt["model"]["junk"] = torch.zeros(1)
    clean = exports.validated(ckpt)
    assert clean["counters"] == {"step": ckpt["counters"]["step"]}
    assert clean["hyper"] == {"mu_product": 0.5}
    assert "junk" not in clean["model"]


def test_limits_apply_only_when_settings_are_given(engine: Engine) -> None:
    ckpt = trained(engine, "l1", {"network": {"hidden_layers": [8]}})
    exports.validated(ckpt)
    with pytest.raises(ValueError, match="network.hidden_layers.0"):
        exports.validated(ckpt, Settings(max_neurons=4))


def test_uploads_are_read_by_content_type_or_sniffed(engine: Engine) -> None:
    ckpt = trained(engine, "u1")
    pt, js = exports.export(ckpt, "pt"), exports.export(ckpt, "json")
    for data, kind in [(pt, "application/octet-stream"), (pt, None), (js, "application/json"), (js, None),
                       (js, "text/plain")]:
        obj = exports.read_upload(data, kind, 10**7)
        assert exports.validated(obj)["progress"]["epoch"] == 3
    with pytest.raises(ValueError, match="not a JSON export"):
        exports.read_upload(pt, "application/json", 10**7)
    with pytest.raises(ValueError, match="not an nnplayground JSON export"):
        exports.read_upload(b'{"format": "other"}', None, 10**7)


def test_pt_uploads_never_unpickle_arbitrary_objects(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    buffer = io.BytesIO()
    torch.save({"format": "nnplayground-checkpoint", "x": Exploit()}, buffer)
    with pytest.raises(ValueError, match="not a loadable pt export"):
        exports.read_upload(buffer.getvalue(), "application/octet-stream", 10**7)
    with pytest.raises(ValueError, match="expected a torch.save file"):
        exports.read_upload(pickle.dumps(Exploit()), "application/octet-stream", 10**7)
    assert not marker.exists()


def test_compressed_or_oversized_zip_members_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", b"\0" * 1_000_000)  # a megabyte that compresses to almost nothing
    with pytest.raises(ValueError, match="compressed or oversized"):
        exports.read_upload(buffer.getvalue(), None, 10**7)
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w") as z:
        z.writestr("archive/data.pkl", b"\0" * 5000)
    with pytest.raises(ValueError, match="compressed or oversized"):
        exports.read_upload(stored.getvalue(), None, 1000)


def test_the_pt_export_carries_torch_layout_weights(engine: Engine) -> None:
    ckpt = trained(engine, "p1", {"network": {"hidden_layers": [3], "batch_norm": "after"}})
    loaded = torch.load(io.BytesIO(exports.export(ckpt, "pt")), weights_only=True)
    model = PlainNetwork(exports.network_key(loaded))
    model.load_state_dict(loaded["state_dict"])
    assert torch.equal(model.layers[0].linear.weight, ckpt["model"]["W0"].T)
    js = json.loads(exports.export(ckpt, "json"))
    assert js["format"] == "nnplayground-json" and js["model"]["W0"] == ckpt["model"]["W0"].tolist()


# ---- the python script's parts, loaded as a module, against the engine ----------------------


def script_module(config: dict[str, Any], tmp_path: Path, name: str) -> ModuleType:
    cfg = SessionConfig.model_validate(config)
    key = exports.session_of(cfg.model_dump(mode="json")).key()
    path = tmp_path / f"{name}.py"
    path.write_text(exports.python_script(cfg, key, name, {"epoch": 0, "init_count": 2}, None))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("init", list(catalog.INITS))
def test_the_script_draws_the_sessions_initial_weights(init: str, tmp_path: Path) -> None:
    config = {"data": {"seed": 5}, "network": {"hidden_layers": [3, 2], "init": init}}
    mod = script_module(config, tmp_path, f"init_{init}")
    model = mod.Network()
    mod.initialise(model)
    cfg = SessionConfig.model_validate(config)
    session = Session("s", cfg, SessionData.build(cfg, 1), init_count=2)
    reference = PlainNetwork(session.key()).load_row(session.fresh_row(session.key()).params)
    for name, value in reference.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name], value, rtol=0, atol=0, msg=name)


@pytest.mark.parametrize(
    "network",
    [
        {"batch_norm": "before", "activation": "relu"},
        {"batch_norm": "after", "dropout": 0.2},
        {"layer_activations": ["prelu", "maxout"]},
        {"layer_activations": ["step", "leaky_relu"], "leaky_relu_slope": 0.2},
        {"layer_activations": ["swish", "softplus"]},
    ],
)
def test_the_script_network_is_plain_network(network: dict[str, Any], tmp_path: Path) -> None:
    config = {"data": {"dataset": "blobs", "classes": 3}, "network": {"hidden_layers": [4, 2], **network}}
    mod = script_module(config, tmp_path, f"net_{abs(hash(json.dumps(network)))}")
    key = exports.network_key({"config": SessionConfig.model_validate(config).model_dump(mode="json")})
    reference = PlainNetwork(key).eval()
    model = mod.Network().eval()
    model.load_state_dict(reference.state_dict())  # same names and shapes
    x = torch.randn(20, 2)
    torch.testing.assert_close(model(x), reference(x))


@pytest.mark.parametrize("optimizer", list(catalog.OPTIMIZERS))
def test_the_script_optimiser_is_the_engines(optimizer: str, tmp_path: Path) -> None:
    config = {"training": {"optimizer": optimizer, "learning_rate": 0.02, "weight_decay": 0.001}}
    mod = script_module(config, tmp_path, f"opt_{optimizer}")
    cfg = SessionConfig.model_validate(config)
    hyper = {n: cfg.training.optimizer_value(n) for n in OPTIMIZERS[optimizer].hyper}
    ours = mod.make_optimizer(mod.Network())
    theirs = torch_optimizer(optimizer, [torch.nn.Parameter(torch.zeros(1))], 0.02, hyper)
    assert type(ours) is type(theirs) and ours.defaults == theirs.defaults


@pytest.mark.parametrize("dataset", [d for d in catalog.DATASETS if d in GENERATORS])
def test_the_script_makes_the_sessions_data(dataset: str, tmp_path: Path) -> None:
    ds = catalog.DATASETS[dataset]
    config = {
        "problem": ds.problem, "data": {"dataset": dataset, "noise": 20, "seed": 3, "validation_ratio": 0.2,
                                        "train_ratio": 0.6, **({"classes": 4} if ds.max_classes > 2 else {})},
        "features": list(catalog.FEATURES),
    }
    mod = script_module(config, tmp_path, f"data_{dataset.replace('-', '_')}")
    data = mod.make_data()
    cfg = SessionConfig.model_validate(config)
    session = Session("s", cfg, SessionData.build(cfg, 1))
    row = session.fresh_row(session.key())
    for ours, theirs in (("train", "train"), ("validation", "val"), ("test", "test")):
        assert torch.equal(data[ours][0], row.data[f"x_{theirs}"])
        expected = row.data[f"y_{theirs}"]
        got = data[ours][1]
        assert torch.equal(got, expected.argmax(dim=1) if cfg.loss == "cce" else expected)


def load_script(text: str, tmp_path: Path, name: str) -> ModuleType:
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


TABLE_DATASETS = [d for d in catalog.DATASETS if d not in GENERATORS and d != "custom"]


@pytest.mark.parametrize("source", [*TABLE_DATASETS, "drawn"])
def test_data_no_generator_makes_travels_in_the_script(engine: Engine, source: str, tmp_path: Path) -> None:
    name = f"own_{source}"
    if source == "drawn":
        engine.create_session(name, SessionConfig()).result()
        for i, (x, y) in enumerate([(-3, -3), (-2, -4), (3, 3), (4, 2), (-3, 3), (2, -3), (1, 1), (-1, -1)]):
            engine.add_point(name, x, y, i % 2).result()
    else:
        engine.create_session(name, SessionConfig.model_validate({"data": {"dataset": source}})).result()
    engine.train(name, 4).result(timeout=60)
    ckpt = engine.checkpoint(name).result()
    mod = load_script(exports.export(ckpt, "python").decode(), tmp_path, name)
    data = mod.make_data()
    model = mod.Network()
    model.load_state_dict({k: torch.tensor(v) for k, v in mod.WEIGHTS.items()})
    state = engine.state(name)
    assert mod.evaluate(model, *data["train"])["loss"] == pytest.approx(state.train_loss, rel=1e-5)
    assert mod.evaluate(model, *data["test"])["accuracy"] == pytest.approx(state.test_accuracy, abs=1e-6)
    # The same session survives the store's check and an import, its own data included.
    clean = exports.validated(ckpt, Settings())
    assert engine.restore_session(f"{name}-copy", clean).result().train_loss == state.train_loss
    if source == "drawn":
        assert clean["custom_data"]["x"].shape == ckpt["custom_data"]["x"].shape
        js = exports.read_upload(exports.export(ckpt, "json"), "application/json", 10**7)
        assert torch.equal(exports.validated(js)["custom_data"]["y"], ckpt["custom_data"]["y"])

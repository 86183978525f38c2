"""The full course in the browser: every training option is a control, kept in the URL, sent to
the server as a partial update and visible in what the page shows.

Every wait is Playwright's (wait_for_function / expect): no fixed sleeps, no timed assertions.
"""

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from playground_page import open_playground, pause
from playwright.sync_api import Page, expect


def server(page: Page, expr: str) -> None:
    """Wait until the config the server confirmed satisfies `expr` (JS, with `c` the config)."""
    page.wait_for_function(f"(() => {{ const c = nnpg.serverConfig(); return c && ({expr}); }})()")


def play(page: Page) -> None:
    page.get_by_test_id("play-pause").click()
    expect(page.get_by_test_id("play-pause")).to_have_attribute("aria-pressed", "true")


def start(page: Page) -> None:
    """Press Run without checking the button: a session that stops itself may be paused already."""
    page.get_by_test_id("play-pause").click()


def play_until(page: Page, epochs: int) -> None:
    play(page)
    page.wait_for_function(f"nnpg.lastFrame().state.epoch >= {epochs}")


def set_number(page: Page, testid: str, value: str) -> None:
    """Type into a number field and commit it, as leaving the field does."""
    field = page.get_by_test_id(testid)
    field.fill(value)
    field.dispatch_event("change")


def set_slider(page: Page, testid: str, value: int) -> None:
    page.get_by_test_id(testid).evaluate(
        "(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input')); "
        "el.dispatchEvent(new Event('change')); }",
        value,
    )


def hash_dict(hash_: str) -> dict[str, str]:
    text = hash_[1:] if hash_.startswith("#") else hash_
    return {k: unquote(v) for k, _, v in (p.partition("=") for p in text.split("&") if p)}


def test_every_menu_reaches_the_server(page: Page, e2e_server: str, artifacts: Path) -> None:
    open_playground(page, e2e_server)

    # Network: activation for all layers, then one layer of its own.
    page.get_by_test_id("activation").select_option("relu")
    server(page, "c.network.activation === 'relu' && c.network.layer_activations === null")
    expect(page.get_by_test_id("layer-activation-0")).to_have_value("relu")
    page.get_by_test_id("layer-activation-1").select_option("leaky_relu")
    server(page, 'JSON.stringify(c.network.layer_activations) === \'["relu","leaky_relu"]\'')
    # The leaky ReLU slope shows up because a layer uses it.
    expect(page.get_by_test_id("leaky-slope")).to_be_visible()
    set_number(page, "leaky-slope", "0.1")
    server(page, "c.network.leaky_relu_slope === 0.1")
    # A new layer keeps one activation per layer.
    page.get_by_test_id("add-layer").click()
    server(page, "c.network.hidden_layers.length === 3 && c.network.layer_activations.length === 3")
    page.get_by_test_id("remove-layer").click()
    server(page, "c.network.hidden_layers.length === 2")

    page.get_by_test_id("init").select_option("he_normal")
    server(page, "c.network.init === 'he_normal'")
    page.get_by_test_id("batch-norm").select_option("before")
    server(page, "c.network.batch_norm === 'before'")

    # Loss, filtered by problem: classification offers bce, cce and tf_squared only.
    losses = page.get_by_test_id("loss").locator("option").evaluate_all("os => os.map((o) => o.value)")
    assert losses == ["", "bce", "cce", "tf_squared"]
    page.get_by_test_id("loss").select_option("tf_squared")
    server(page, "c.training.loss === 'tf_squared'")
    expect(page.get_by_test_id("huber-delta")).to_be_hidden()

    # Optimiser and its own hyperparameters, defaults shown.
    page.get_by_test_id("optimizer").select_option("momentum")
    server(page, "c.training.optimizer === 'momentum'")
    expect(page.get_by_test_id("opt-momentum")).to_have_value("0.9")
    expect(page.get_by_test_id("opt-beta1")).to_have_count(0)
    set_number(page, "opt-momentum", "0.5")
    server(page, "c.training.momentum === 0.5")
    page.get_by_test_id("optimizer").select_option("adam")
    server(page, "c.training.optimizer === 'adam' && c.training.momentum === null")
    expect(page.get_by_test_id("opt-beta1")).to_have_value("0.9")
    expect(page.get_by_test_id("opt-beta2")).to_have_value("0.999")
    expect(page.get_by_test_id("opt-momentum")).to_have_count(0)
    set_number(page, "opt-beta2", "0.99")
    server(page, "c.training.beta2 === 0.99")

    # Batch mode: the batch-size slider only for mini-batches.
    expect(page.get_by_test_id("batch-size")).to_be_visible()
    page.get_by_test_id("batch-mode").select_option("full")
    server(page, "c.training.batch_mode === 'full'")
    expect(page.get_by_test_id("batch-size")).to_be_hidden()
    page.get_by_test_id("batch-mode").select_option("mini")
    server(page, "c.training.batch_mode === 'mini'")

    # Schedule: each kind shows its own parameters only.
    page.get_by_test_id("schedule").select_option("exponential")
    server(page, "c.training.schedule.kind === 'exponential'")
    expect(page.get_by_test_id("sched-k")).to_be_visible()
    expect(page.get_by_test_id("sched-factor")).to_be_hidden()
    set_number(page, "sched-k", "0.05")
    server(page, "c.training.schedule.k === 0.05")
    page.get_by_test_id("schedule").select_option("cyclical")
    expect(page.get_by_test_id("sched-max-lr")).to_be_visible()
    expect(page.get_by_test_id("sched-k")).to_be_hidden()
    server(page, "c.training.schedule.kind === 'cyclical'")

    # Regularisation: dropout, weight decay, input noise, clipping.
    set_number(page, "dropout", "0.2")
    server(page, "c.network.dropout === 0.2")
    set_number(page, "weight-decay", "0.001")
    server(page, "c.training.weight_decay === 0.001")
    set_number(page, "input-noise", "0.1")
    server(page, "c.training.input_noise === 0.1")
    expect(page.get_by_test_id("clip-value")).to_be_hidden()
    page.get_by_test_id("clip").select_option("value")
    expect(page.get_by_test_id("clip-value")).to_be_visible()
    server(page, "c.training.clip === 'value'")
    set_number(page, "clip-value", "0.5")
    server(page, "c.training.clip_value === 0.5")
    page.get_by_test_id("regularization").select_option("l2")
    page.get_by_test_id("regularization-rate").select_option("0.001")
    server(page, "c.training.regularization === 'l2' && c.training.regularization_rate === 0.001")

    # Stop conditions; early stopping needs a validation set.
    set_number(page, "stop-plateau", "500")
    server(page, "c.training.stop.plateau_patience === 500")
    set_number(page, "stop-target-accuracy", "100")
    server(page, "c.training.stop.target_accuracy === 1")
    set_number(page, "stop-target-accuracy", "")
    server(page, "c.training.stop.target_accuracy === null")
    expect(page.get_by_test_id("stop-early")).to_be_disabled()
    page.get_by_test_id("validation").check()
    server(page, "c.data.validation_ratio === 0.2 && c.data.train_ratio === 0.6")
    expect(page.get_by_test_id("val-ratio")).to_be_visible()
    expect(page.get_by_test_id("stop-early")).to_be_enabled()
    set_number(page, "stop-early", "400")
    server(page, "c.training.stop.early_stopping_patience === 400")

    # A bad number is refused in place and never sent.
    set_number(page, "dropout", "2")
    expect(page.get_by_test_id("dropout")).to_have_class(re.compile(r"\binvalid\b"))
    assert page.evaluate("nnpg.serverConfig().network.dropout") == 0.2
    set_number(page, "dropout", "0.2")
    expect(page.get_by_test_id("dropout")).not_to_have_class(re.compile(r"\binvalid\b"))

    # Play: frames keep arriving, the validation curve and the best epoch are drawn.
    frames = page.evaluate("nnpg.framesReceived()")
    play_until(page, 20)
    page.wait_for_function(f"nnpg.framesReceived() > {frames + 5}")
    page.wait_for_function(
        """() => { const d = document.querySelector('[data-testid=loss-chart]').data;
                   return d.length === 3 && d[2].name === 'validation' && d[2].y.length >= 10; }"""
    )
    page.wait_for_function(
        """() => { const el = document.querySelector('[data-testid=loss-chart]');
                   const s = el.layout.shapes || [];
                   return s.length === 1 && s[0].x0 === nnpg.lastFrame().state.best_epoch; }"""
    )
    expect(page.get_by_test_id("validation-loss")).to_have_text(re.compile(r"^\d+\.\d{3}$"))
    # The cyclical schedule moves the rate in force.
    page.wait_for_function("nnpg.lastFrame().state.learning_rate !== 0.03")
    pause(page)
    page.screenshot(path=str(artifacts / "course-options.png"), full_page=True)

    # The page's URL reproduces all of it.
    config = page.evaluate("nnpg.serverConfig()")
    hash_ = page.evaluate("location.hash")
    other = page.context.new_page()
    open_playground(other, e2e_server, hash_)
    assert other.evaluate("nnpg.serverConfig()") == config
    assert hash_dict(other.evaluate("location.hash")) == hash_dict(hash_)
    other.close()


def test_decaying_schedule_changes_the_shown_rate(page: Page, e2e_server: str) -> None:
    open_playground(page, e2e_server, "#lr=0.1&schedule=step&sched_factor=0.5&sched_every=2")
    expect(page.get_by_test_id("lr-now")).to_have_text("0.1")
    expect(page.get_by_test_id("sched-every")).to_have_value("2")
    play_until(page, 6)
    # Halved every 2 epochs: the top bar shows the rate in force, not the menu's.
    page.wait_for_function("Number(document.querySelector('[data-testid=lr-now]').dataset.value) <= 0.025")
    assert page.evaluate("Number(document.querySelector('[data-testid=lr-now]').textContent)") <= 0.025
    expect(page.get_by_test_id("learning-rate")).to_have_value("0.1")
    pause(page)


def test_max_epochs_pauses_with_the_reason(page: Page, e2e_server: str, artifacts: Path) -> None:
    open_playground(page, e2e_server, "#max_epochs=25")
    expect(page.get_by_test_id("stop-max-epochs")).to_have_value("25")
    expect(page.get_by_test_id("stop-reason")).to_be_hidden()
    start(page)
    page.wait_for_function("nnpg.lastFrame().state.running === false && nnpg.lastFrame().state.stop_reason")
    state = page.evaluate("nnpg.lastFrame().state")
    assert state["epoch"] == 25
    assert "max epochs" in state["stop_reason"]
    expect(page.get_by_test_id("stop-reason")).to_be_visible()
    expect(page.get_by_test_id("stop-reason")).to_contain_text("max epochs")
    expect(page.get_by_test_id("status")).to_contain_text("max epochs")
    expect(page.get_by_test_id("play-pause")).to_have_attribute("aria-pressed", "false")
    page.screenshot(path=str(artifacts / "course-stopped.png"))
    # Lifting the limit and playing again clears the notice.
    set_number(page, "stop-max-epochs", "")
    page.wait_for_function("nnpg.serverConfig().training.stop.max_epochs === null")
    play(page)
    expect(page.get_by_test_id("stop-reason")).to_be_hidden()
    page.wait_for_function("nnpg.lastFrame().state.epoch > 26")
    pause(page)


def test_divergence_is_reported(page: Page, e2e_server: str) -> None:
    open_playground(page, e2e_server, "#lr=1000&activation=relu&hidden=8,8,8&init=he_normal&problem=regression")
    start(page)
    page.wait_for_function("nnpg.lastFrame().state.running === false && nnpg.lastFrame().state.stop_reason")
    assert "diverged" in page.evaluate("nnpg.lastFrame().state.stop_reason")
    expect(page.get_by_test_id("stop-reason")).to_contain_text("diverged")
    expect(page.get_by_test_id("stop-reason")).to_have_class(re.compile(r"\bdiverged\b"))


@pytest.mark.parametrize("dataset", ["blobs", "spiral"])
def test_three_classes(page: Page, e2e_server: str, artifacts: Path, dataset: str) -> None:
    open_playground(page, e2e_server, "#hidden=8,6&activation=relu&optimizer=adam&lr=0.03")
    expect(page.get_by_test_id("classes")).to_be_hidden()
    page.get_by_test_id(f"dataset-{dataset}").click()
    server(page, f"c.data.dataset === '{dataset}'")
    expect(page.get_by_test_id("classes")).to_be_visible()
    page.get_by_test_id("loss").select_option("bce")
    server(page, "c.training.loss === 'bce'")
    set_slider(page, "classes", 3)
    # Three classes: binary losses are no longer offered, and bce went back to the default (cce).
    server(page, "c.data.classes === 3 && c.training.loss === null")
    losses = page.get_by_test_id("loss").locator("option").evaluate_all("os => os.map((o) => o.value)")
    assert losses == ["", "cce"]
    assert "classes=3" in page.evaluate("location.hash")

    play_until(page, 30)
    page.wait_for_function("nnpg.lastFrame().grid.classes === 3")
    frame = page.evaluate("nnpg.lastFrame()")
    grid = next(s for s in frame["sections"] if s["name"] == "grid")
    assert grid["shape"] == [3, 100, 100]
    assert frame["confusion"]["labels"] == [0, 1, 2]
    # The map blends the three class colours into an image; points are coloured by class.
    page.wait_for_function(
        """() => { const el = document.querySelector('[data-testid=heatmap]');
                   const im = el.layout.images || [];
                   return el.dataset.classes === '3' && im.length === 1
                          && im[0].source.startsWith('data:image/png'); }"""
    )
    colours = page.evaluate("new Set(document.querySelector('[data-testid=heatmap]').data[1].marker.color).size")
    assert colours == 3
    for which in ("train", "test"):
        page.wait_for_function(
            f"""() => {{ const d = document.querySelector('[data-testid=confusion-{which}]').data;
                        return d && d[0] && d[0].z.length === 3 && d[0].z.every((r) => r.length === 3); }}"""
        )
    total = page.evaluate(
        "document.querySelector('[data-testid=confusion-train]').data[0].z.flat().reduce((a, b) => a + b, 0)"
    )
    assert total == 250
    expect(page.get_by_test_id("legend-classes").locator(".legend-class")).to_have_count(3)
    pause(page)
    page.screenshot(path=str(artifacts / f"course-{dataset}-3-classes.png"), full_page=True)

    # Back to a two-class data set: classes go back to 2, the orange/blue map returns.
    page.get_by_test_id("dataset-circle").click()
    server(page, "c.data.dataset === 'circle' && c.data.classes === 2")
    page.get_by_test_id("step").click()
    page.wait_for_function(
        """() => nnpg.lastFrame().confusion.labels.length === 2
                 && document.querySelector('[data-testid=heatmap]').data[0].z.length === 100
                 && (document.querySelector('[data-testid=heatmap]').layout.images || []).length === 0"""
    )


def test_regression_losses_and_huber(page: Page, e2e_server: str) -> None:
    open_playground(page, e2e_server, "#problem=regression")
    losses = page.get_by_test_id("loss").locator("option").evaluate_all("os => os.map((o) => o.value)")
    assert losses == ["", "mse", "mae", "huber"]
    page.get_by_test_id("loss").select_option("huber")
    server(page, "c.training.loss === 'huber'")
    expect(page.get_by_test_id("huber-delta")).to_be_visible()
    set_number(page, "huber-delta", "0.5")
    server(page, "c.training.huber_delta === 0.5")
    # Back to classification: the regression loss goes (the server would refuse it).
    page.get_by_test_id("problem").select_option("classification")
    server(page, "c.problem === 'classification' && c.training.loss === null")


def test_lr_range_test(page: Page, e2e_server: str, artifacts: Path) -> None:
    open_playground(page, e2e_server, "#dataset=xor&activation=relu&hidden=6,4&optimizer=adam&lr=0.001")
    page.get_by_test_id("lr-find").click()
    page.wait_for_function(
        """() => !document.querySelector('[data-testid=lr-find-apply]').hidden
                 || document.querySelector('[data-testid=lr-find-result]').dataset.level === 'error'""",
        timeout=90_000,
    )
    result = page.get_by_test_id("lr-find-result")
    if result.get_attribute("data-level") == "error":
        pytest.skip(f"the server has no learning-rate range test yet: {result.text_content()}")
    # Loss against the rate on a log axis, the suggestion marked.
    chart = page.evaluate(
        """() => { const el = document.querySelector('[data-testid=lr-find-chart]');
                   return { type: el.layout.xaxis.type, n: el.data[0].x.length, traces: el.data.length,
                            marked: (el.layout.shapes || []).length }; }"""
    )
    assert chart["type"] == "log" and chart["n"] >= 10 and chart["traces"] == 2 and chart["marked"] == 1
    expect(result).to_contain_text("suggested learning rate")
    rate = float(page.get_by_test_id("lr-find-apply").get_attribute("data-value"))
    assert 1e-7 <= rate <= 10
    page.screenshot(path=str(artifacts / "course-lr-finder.png"), full_page=True)
    page.get_by_test_id("lr-find-apply").click()
    page.wait_for_function(f"nnpg.serverConfig().training.learning_rate === {rate}")
    expect(page.get_by_test_id("learning-rate")).to_have_value(str(rate) if rate != int(rate) else str(int(rate)))
    assert f"lr={page.evaluate('String(nnpg.serverConfig().training.learning_rate)')}&" in page.evaluate(
        "location.hash"
    )


# Every URL key set away from its default, on a config the server accepts.
EVERY_KEY = {
    "problem": "classification",
    "dataset": "spiral",
    "noise": "5",
    "train_ratio": "60",
    "val_ratio": "20",
    "classes": "3",
    "points": "300",
    "seed": "3",
    "features": "x1,x2,sin_x1",
    "hidden": "5,3",
    "activation": "elu",
    "layer_act": "elu,leaky_relu",
    "slope": "0.05",
    "init": "xavier_normal",
    "bn": "after",
    "dropout": "0.1",
    "optimizer": "nadam",
    "lr": "0.01",
    "batch_mode": "mini",
    "batch": "16",
    "loss": "cce",
    "huber": "2",
    "reg": "l2",
    "reg_rate": "0.001",
    "momentum": "0.8",
    "beta1": "0.85",
    "beta2": "0.99",
    "eps": "1e-7",
    "rho": "0.8",
    "alpha": "0.95",
    "wd": "0.0001",
    "momentum_decay": "0.005",
    "schedule": "cosine",
    "sched_factor": "0.25",
    "sched_every": "5",
    "sched_k": "0.02",
    "sched_period": "50",
    "sched_min_lr": "0.001",
    "sched_max_lr": "0.2",
    "sched_step_size": "100",
    "sched_cycle": "60",
    "clip": "norm",
    "clip_value": "2",
    "input_noise": "0.05",
    "max_epochs": "5000",
    "target_loss": "0.01",
    "target_acc": "0.99",
    "plateau": "200",
    "early_stop": "100",
    "show_test": "true",
    "discretize": "true",
    "lang": "es",
    # With set-up keys beside them, the lesson keys open the panel at that step and keep the URL's set-up.
    "lesson": "xor-hidden-layer",
    "step": "2",
}

# URL keys that cannot round-trip here, and the test that covers each instead.
NOT_ROUND_TRIPPED = {
    # `room=CODE` joins (or asks to join) that room before any session exists:
    # test_classroom.py opens `/#room=CODE` and checks the key stays in the URL.
    "room",
}

EVERY_KEY_CONFIG = {
    "problem": "classification",
    "data": {
        "dataset": "spiral",
        "noise": 5,
        "train_ratio": 0.6,
        "num_points": 300,
        "seed": 3,
        "validation_ratio": 0.2,
        "classes": 3,
    },
    "features": ["x1", "x2", "sin_x1"],
    "network": {
        "hidden_layers": [5, 3],
        "activation": "elu",
        "layer_activations": ["elu", "leaky_relu"],
        "leaky_relu_slope": 0.05,
        "init": "xavier_normal",
        "batch_norm": "after",
        "dropout": 0.1,
    },
    "training": {
        "optimizer": "nadam",
        "learning_rate": 0.01,
        "batch_mode": "mini",
        "batch_size": 16,
        "regularization": "l2",
        "regularization_rate": 0.001,
        "loss": "cce",
        "momentum": 0.8,
        "beta1": 0.85,
        "beta2": 0.99,
        "eps": 1e-7,
        "rho": 0.8,
        "alpha": 0.95,
        "weight_decay": 0.0001,
        "momentum_decay": 0.005,
        "huber_delta": 2,
        "schedule": {
            "kind": "cosine",
            "factor": 0.25,
            "every": 5,
            "k": 0.02,
            "period": 50,
            "min_lr": 0.001,
            "max_lr": 0.2,
            "step_size": 100,
            "cycle_epochs": 60,
        },
        "clip": "norm",
        "clip_value": 2,
        "input_noise": 0.05,
        "stop": {
            "max_epochs": 5000,
            "target_loss": 0.01,
            "target_accuracy": 0.99,
            "plateau_patience": 200,
            "early_stopping_patience": 100,
        },
    },
}


def test_every_hash_key_round_trips(page: Page, e2e_server: str) -> None:
    page.goto(f"{e2e_server}/api/health")
    keys = page.evaluate(
        """async () => { const m = await import('/static/js/state.js');
                         return [...m.PROPS, ...m.UI_PROPS].map((p) => p.name); }"""
    )
    assert sorted(keys) == sorted([*EVERY_KEY, *NOT_ROUND_TRIPPED]), "a URL key without a round-trip check"
    hash_ = "#" + "&".join(f"{k}={v}" for k, v in EVERY_KEY.items())

    open_playground(page, e2e_server, hash_)
    assert page.evaluate("nnpg.config()") == EVERY_KEY_CONFIG
    server_config = page.evaluate("nnpg.serverConfig()")
    # Settings without a URL key (data of more than two columns: issue 5) stay at their defaults.
    assert server_config["data"].pop("standardize", True) is True
    assert server_config["data"].pop("plane", None) in (None, {"mode": "features", "x": 0, "y": 1})
    assert server_config == EVERY_KEY_CONFIG
    assert hash_dict(page.evaluate("location.hash")) == EVERY_KEY
    page.wait_for_function("nnpg.lesson() && nnpg.lesson().step === 2")
    assert page.evaluate("nnpg.lesson()")["lesson_id"] == EVERY_KEY["lesson"]

    # The controls show it.
    for testid, value in [
        ("activation", "elu"),
        ("layer-activation-0", "elu"),
        ("layer-activation-1", "leaky_relu"),
        ("leaky-slope", "0.05"),
        ("init", "xavier_normal"),
        ("batch-norm", "after"),
        ("dropout", "0.1"),
        ("optimizer", "nadam"),
        ("opt-beta1", "0.85"),
        ("opt-beta2", "0.99"),
        ("opt-momentum_decay", "0.005"),
        ("loss", "cce"),
        ("batch-mode", "mini"),
        ("schedule", "cosine"),
        ("sched-period", "50"),
        ("sched-min-lr", "0.001"),
        ("clip", "norm"),
        ("clip-value", "2"),
        ("input-noise", "0.05"),
        ("weight-decay", "0.0001"),
        ("stop-max-epochs", "5000"),
        ("stop-target-loss", "0.01"),
        ("stop-target-accuracy", "99"),
        ("stop-plateau", "200"),
        ("stop-early", "100"),
        ("val-ratio", "20"),
        ("train-ratio", "60"),
        ("classes", "3"),
    ]:
        expect(page.get_by_test_id(testid)).to_have_value(value)
    expect(page.get_by_test_id("validation")).to_be_checked()
    expect(page.get_by_test_id("sched-factor")).to_be_hidden()

    # Reload: the same config again.
    page.reload()
    page.wait_for_function("window.nnpg && window.nnpg.sessionId() && window.nnpg.framesReceived() > 0")
    server_config = page.evaluate("nnpg.serverConfig()")
    # Settings without a URL key (data of more than two columns: issue 5) stay at their defaults.
    assert server_config["data"].pop("standardize", True) is True
    assert server_config["data"].pop("plane", None) in (None, {"mode": "features", "x": 0, "y": 1})
    assert server_config == EVERY_KEY_CONFIG
    assert hash_dict(page.evaluate("location.hash")) == EVERY_KEY

    # Off values (empty) read back as null.
    result = page.evaluate(
        """async () => { const { State } = await import('/static/js/state.js');
                         const catalog = await (await fetch('/api/catalog')).json();
                         const a = new State(catalog.defaults);
                         const bad = a.readHash('#max_epochs=&loss=&layer_act=&momentum=&val_ratio=0&max_epochs=x1');
                         const b = new State(catalog.defaults);
                         b.readHash(a.toHash());
                         return { bad, a: a.config(), b: b.config() }; }"""
    )
    assert result["bad"] == ["max_epochs"]
    assert result["a"] == result["b"]
    assert result["a"]["training"]["stop"]["max_epochs"] is None
    assert result["a"]["network"]["layer_activations"] is None
    assert json.dumps(result["a"]["training"]["loss"]) == "null"


def test_screenshot_course(page: Page, e2e_server: str, artifacts: Path) -> None:
    """An over-fitting set-up with validation on: the validation curve turns up at the best epoch."""
    shared = (
        "#dataset=spiral&noise=35&points=120&train_ratio=60&val_ratio=20&hidden=8,8,8,8"
        "&activation=relu&optimizer=adam&lr=0.01&init=he_normal&show_test=true&features=x1,x2,x1^2,x2^2,x1x2,sin_x1,sin_x2"
    )
    open_playground(page, e2e_server, shared)
    play_until(page, 300)
    page.wait_for_function("nnpg.lastFrame().state.best_epoch !== null")
    pause(page)
    path = artifacts / "course.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def test_lesson_links_are_valid(page: Page, e2e_server: str) -> None:
    """Every preset in docs/lessons.md reads without unknown keys and the server accepts it."""
    lessons = (Path(__file__).resolve().parents[2] / "docs" / "lessons.md").read_text()
    hashes = re.findall(r"\(http://127\.0\.0\.1:8000/(#[^)\s]+)\)", lessons)
    assert len(hashes) >= 30
    page.goto(f"{e2e_server}/api/health")
    results = page.evaluate(
        """async (hashes) => {
            const { State } = await import('/static/js/state.js');
            const catalog = await (await fetch('/api/catalog')).json();
            const out = [];
            for (const hash of hashes) {
                const s = new State(catalog.defaults);
                const bad = s.readHash(hash);
                const res = await fetch('/api/sessions', { method: 'POST',
                    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(s.config()) });
                const body = await res.json();
                if (res.ok) await fetch(`/api/sessions/${body.id}`,
                    { method: 'DELETE', headers: { Authorization: `Bearer ${body.token}` } });
                out.push({ hash, bad, status: res.status, detail: res.ok ? null : body.detail });
            }
            return out;
        }""",
        hashes,
    )
    problems = [r for r in results if r["bad"] or r["status"] != 201]
    assert not problems, problems

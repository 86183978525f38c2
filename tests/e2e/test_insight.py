"""Data and insight in the browser (issue 5): metrics, ROC / PR curves, the network diagram's
weights and neuron maps, weight editing, diagnostics, pin + compare, importing a TensorFlow
Playground link, new data sets, drawing points and uploading a CSV.

Every wait is Playwright's (wait_for_function / expect): no fixed sleeps, no timed assertions.
Screenshots go to test-artifacts/insight-*.png.
"""

import json
import re
import urllib.request
from pathlib import Path

import pytest
from playground_page import open_playground, pause, play_until
from playwright.sync_api import Page, expect


def server(page: Page, expr: str) -> None:
    """Wait until the config the server confirmed satisfies `expr` (JS, with `c` the config)."""
    page.wait_for_function(f"(() => {{ const c = nnpg.serverConfig(); return c && ({expr}); }})()")


def trace_names(page: Page, testid: str) -> list[str]:
    return page.evaluate(f"(document.querySelector('[data-testid={testid}]').data || []).map((t) => t.name || '')")


def canvas_colours(page: Page, selector: str) -> int:
    """How many distinct colours a canvas shows (coarsely sampled): 1 means blank."""
    return page.evaluate(
        """(sel) => { const c = document.querySelector(sel);
               const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
               const seen = new Set();
               for (let i = 0; i < d.length; i += 4 * 7) {
                 seen.add(`${d[i] >> 4},${d[i + 1] >> 4},${d[i + 2] >> 4},${d[i + 3] >> 4}`);
               }
               return seen.size; }""",
        selector,
    )


def catalog(base: str) -> dict:
    with urllib.request.urlopen(f"{base}/api/catalog") as r:
        return json.load(r)


def link_midpoint(page: Page, layer: int, src: int, dst: int) -> tuple[float, float]:
    """Page coordinates of a point on the link from unit src of layer `layer`'s input to unit dst
    where no other link crosses it (the pointer lands on this link's own hit area)."""
    point = page.evaluate(
        """([l, j, k]) => { const p = document.querySelector(`[data-testid="link-hit-${l}-${j}-${k}"]`);
               const r = p.ownerSVGElement.getBoundingClientRect();
               for (const f of [0.5, 0.35, 0.65, 0.25, 0.75, 0.45, 0.55]) {
                 const pt = p.getPointAtLength(p.getTotalLength() * f);
                 const x = pt.x + r.left, y = pt.y + r.top;
                 if (document.elementFromPoint(x, y) === p) return [x, y];
               }
               return null; }""",
        [layer, src, dst],
    )
    assert point, f"link {layer}-{src}-{dst} is covered everywhere"
    return tuple(point)


# ---- metrics ----


def test_metrics_and_roc_tabs(page: Page, e2e_server: str, artifacts: Path) -> None:
    open_playground(page, e2e_server, "#dataset=gauss&noise=30&train_ratio=60&val_ratio=20&hidden=4,2")
    play_until(page, 20)
    page.get_by_test_id("tab-metrics").click()
    expect(page.get_by_test_id("panel-metrics")).to_be_visible()
    expect(page.get_by_test_id("heatmap")).to_be_hidden()
    page.wait_for_function("nnpg.metrics() && nnpg.metrics().test && nnpg.metrics().test.per_class")
    # Train, validation and test parts; test is shown first.
    expect(page.get_by_test_id("metrics-part").locator("[data-value]")).to_have_count(3)
    expect(page.get_by_test_id("metrics-part").locator("[data-value=test]")).to_have_attribute("aria-checked", "true")
    cards = page.get_by_test_id("metric-cards")
    expect(cards.locator("[data-metric=accuracy] b")).to_have_text(re.compile(r"^\d+\.\d%$"))
    expect(cards.locator("[data-metric=error_rate] b")).to_have_text(re.compile(r"^\d+\.\d%$"))
    # Per-class table: one row per class plus the macro average, every score in [0, 1].
    rows = page.get_by_test_id("per-class").locator("tr[data-class]")
    expect(rows).to_have_count(2)
    for key in ("precision", "recall", "specificity", "f1"):
        v = float(rows.nth(1).locator(f"td[data-key={key}]").text_content())
        assert 0 <= v <= 1
    # Polled live: while training, the metrics follow (a later epoch's loss differs).
    first = page.evaluate("nnpg.metrics().test.loss")
    page.wait_for_function(f"nnpg.metrics().test.loss !== {first}")

    # Counts add up to the test part; normalised rows sum to 1.
    page.wait_for_function("document.querySelector('[data-testid=metrics-confusion]').data")
    total = page.evaluate(
        "document.querySelector('[data-testid=metrics-confusion]').data[0].z.flat().reduce((a, b) => a + b, 0)"
    )
    assert total == page.evaluate("nnpg.metrics().test.count") == 100
    page.get_by_test_id("metrics-norm").locator("[data-value=normalized]").click()
    page.wait_for_function(
        """() => { const z = document.querySelector('[data-testid=metrics-confusion]').data[0].z;
                   return z.every((row) => Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 0.01); }"""
    )
    page.get_by_test_id("metrics-part").locator("[data-value=validation]").click()
    expect(page.get_by_test_id("metrics-note")).to_contain_text("validation set")
    pause(page)
    page.screenshot(path=str(artifacts / "insight-metrics.png"))

    # ROC / PR: one curve (class 1) with its AUC, the chance diagonal, and the PR curve with AP.
    page.get_by_test_id("tab-curves").click()
    page.wait_for_function("document.querySelector('[data-testid=roc-chart]').data?.length === 2")
    names = trace_names(page, "roc-chart")
    assert names[0] == "chance" and "AUC" in names[1]
    auc = page.evaluate("nnpg.metrics().validation.curves[0].roc.auc")
    assert f"AUC {auc:.3f}" in names[1]
    assert page.evaluate("document.querySelector('[data-testid=roc-chart]').data[1].x.length") > 5
    assert any("AP" in n for n in trace_names(page, "pr-chart"))
    expect(page.get_by_test_id("curves-note")).to_contain_text("AUC")
    page.screenshot(path=str(artifacts / "insight-roc.png"))

    # Back to the boundary: the heatmap is drawn again at its size.
    page.get_by_test_id("tab-boundary").click()
    expect(page.get_by_test_id("heatmap")).to_be_visible()
    width = page.evaluate("document.querySelector('[data-testid=heatmap] .main-svg').getBoundingClientRect().width")
    assert width > 300


def test_three_class_curves_one_vs_rest(page: Page, e2e_server: str) -> None:
    open_playground(page, e2e_server, "#dataset=spiral&classes=3&hidden=8,6&activation=relu&optimizer=adam")
    server(page, "c.data.classes === 3")
    play_until(page, 10)
    pause(page)
    page.get_by_test_id("tab-curves").click()
    page.wait_for_function("document.querySelector('[data-testid=roc-chart]').data?.length === 4")
    names = trace_names(page, "roc-chart")[1:]
    assert [n.split(" · ")[0] for n in names] == [f"class {k} vs rest" for k in range(3)]
    colours = page.evaluate("document.querySelector('[data-testid=roc-chart]').data.slice(1).map((t) => t.line.color)")
    assert colours == ["#f59322", "#0877bd", "#2ca25f"]
    page.get_by_test_id("tab-metrics").click()
    expect(page.get_by_test_id("per-class").locator("tr[data-class]")).to_have_count(3)


def test_regression_metrics(page: Page, e2e_server: str, artifacts: Path) -> None:
    open_playground(page, e2e_server, "#problem=regression&dataset=plane&hidden=3")
    play_until(page, 10)
    pause(page)
    page.get_by_test_id("tab-metrics").click()
    page.wait_for_function("nnpg.metrics() && nnpg.metrics().problem === 'regression'")
    for key in ("mse", "mae", "r2"):
        expect(page.get_by_test_id("metric-cards").locator(f"[data-metric={key}] b")).not_to_have_text("–")
    expect(page.get_by_test_id("per-class")).to_be_hidden()
    expect(page.get_by_test_id("pred-true")).to_be_visible()
    page.wait_for_function("document.querySelector('[data-testid=pred-true]').data?.length === 2")
    line, pts = page.evaluate(
        "document.querySelector('[data-testid=pred-true]').data.map((t) => [t.x.length, t.y.length])"
    )
    assert line == [2, 2] and pts[0] == 250
    page.screenshot(path=str(artifacts / "insight-regression.png"))
    page.get_by_test_id("tab-curves").click()
    expect(page.get_by_test_id("curves-note")).to_contain_text("classification")


# ---- the network ----


def test_links_show_weights_and_neurons_show_maps(page: Page, e2e_server: str, artifacts: Path) -> None:
    open_playground(page, e2e_server, "#dataset=circle&hidden=4,2&features=x1,x2,x1^2")
    play_until(page, 15)
    pause(page)
    # Frames carry the weights; every link is coloured and sized from them.
    frame = page.evaluate("nnpg.lastFrame()")
    assert [layer["name"] for layer in frame["weights"]["layers"]] == ["W0", "b0", "W1", "b1", "W2", "b2"]
    assert frame["weights"]["layers"][0]["shape"] == [3, 4]
    # The link with the largest weight: a weight near zero may change sign between the frame the
    # links were drawn from and the last one, and its colour is near white either way.
    weights = page.evaluate("[0, 1, 2].map((i) => [0, 1, 2, 3].map((j) => nnpg.weight(0, i, j)))")
    w, i, j = max(((w, i, j) for i, row in enumerate(weights) for j, w in enumerate(row)), key=lambda t: abs(t[0]))
    style = page.evaluate(
        f"(() => {{ const p = document.querySelector('[data-testid=\"link-0-{i}-{j}\"]');"
        " return [p.style.stroke, p.style.strokeWidth]; })()"
    )
    assert style[0].startswith("rgb(") and float(style[1]) > 0.5
    # Orange for a negative weight, blue for a positive one.
    r, g, b = (int(x) for x in style[0][4:-1].split(","))
    assert (b > r) == (w > 0)

    # Neuron maps: asked for after connecting, drawn in every hidden neuron.
    page.wait_for_function("nnpg.neuronMapsDrawn() && nnpg.lastFrame().neurons")
    assert page.evaluate("nnpg.lastFrame().neurons.layers") == [4, 2]
    expect(page.locator("#layers .neuron.has-map")).to_have_count(6)
    assert canvas_colours(page, '[data-testid="neuron-0-0"] canvas') > 3
    # Input features show their fixed maps.
    assert canvas_colours(page, '[data-testid="feature-x1^2"] canvas') > 3

    # Hovering a neuron shows its map large.
    expect(page.get_by_test_id("neuron-popup")).to_be_hidden()
    page.get_by_test_id("neuron-1-1").hover()
    expect(page.get_by_test_id("neuron-popup")).to_be_visible()
    expect(page.get_by_test_id("neuron-popup-label")).to_contain_text("Layer 2, neuron 2")
    assert canvas_colours(page, "#neuron-popup-canvas") > 10
    page.screenshot(path=str(artifacts / "insight-neuron-hover.png"))
    page.mouse.move(5, 500)
    expect(page.get_by_test_id("neuron-popup")).to_be_hidden()

    # Hovering a link shows its value.
    x, y = link_midpoint(page, 1, 0, 1)
    page.mouse.move(x, y)
    expect(page.get_by_test_id("link-tip")).to_be_visible()
    value = page.evaluate("nnpg.weight(1, 0, 1)")
    expect(page.get_by_test_id("link-tip")).to_contain_text("layer 1 #1 → layer 2 #2")
    shown = page.get_by_test_id("link-tip").text_content().split("w = ")[1].replace("−", "-")
    assert abs(float(shown) - value) <= abs(value) * 0.01 + 1e-3


def test_edit_a_weight(page: Page, e2e_server: str, artifacts: Path) -> None:
    open_playground(page, e2e_server, "#dataset=xor&hidden=3,2")
    page.get_by_test_id("step").click()
    page.wait_for_function("nnpg.lastFrame().state.epoch === 1 && nnpg.weight(1, 2, 0) !== null")
    before_grid = page.evaluate("nnpg.lastFrame().seq")
    x, y = link_midpoint(page, 1, 2, 0)
    page.mouse.click(x, y)
    expect(page.get_by_test_id("weight-edit")).to_be_visible()
    assert abs(float(page.get_by_test_id("weight-input").input_value()) - page.evaluate("nnpg.weight(1, 2, 0)")) < 1e-3
    page.get_by_test_id("weight-input").fill("-3.25")
    page.get_by_test_id("weight-input").press("Enter")
    expect(page.get_by_test_id("weight-edit")).to_be_hidden()
    # Applied live: the next frame's weights section holds the new value.
    page.wait_for_function("nnpg.weight(1, 2, 0) === -3.25")
    assert page.evaluate("nnpg.lastFrame().seq") > before_grid
    assert page.evaluate("nnpg.lastFrame().state.epoch") == 1  # nothing re-initialised
    color = page.evaluate("document.querySelector('[data-testid=\"link-1-2-0\"]').style.stroke")
    r, g, b = (int(v) for v in color[4:-1].split(","))
    assert r > b  # orange: negative
    # Clicking a neuron edits its bias.
    page.get_by_test_id("neuron-0-1").click()
    expect(page.get_by_test_id("weight-edit")).to_contain_text("bias of layer 1 #2")
    page.get_by_test_id("weight-input").fill("0.75")
    page.get_by_test_id("weight-set").click()
    page.wait_for_function("nnpg.weight(0, null, 1) === 0.75")
    page.screenshot(path=str(artifacts / "insight-weight-edit.png"))


# ---- diagnostics ----


def test_diagnostics_tab(page: Page, e2e_server: str, artifacts: Path) -> None:
    open_playground(page, e2e_server, "#dataset=xor&hidden=6,6,6&activation=relu")
    play_until(page, 10)
    page.get_by_test_id("tab-diagnostics").click()
    page.wait_for_function("nnpg.diagnostics() && nnpg.diagnostics().grad_norms.epoch.length >= 10")
    # Gradient norm per layer (3 hidden + output) on a log axis, following training.
    page.wait_for_function("document.querySelector('[data-testid=grad-chart]').data?.length === 4")
    assert page.evaluate("document.querySelector('[data-testid=grad-chart]').layout.yaxis.type") == "log"
    assert trace_names(page, "grad-chart") == ["layer 1", "layer 2", "layer 3", "output"]
    seen = page.evaluate("nnpg.diagnostics().grad_norms.epoch.length")
    page.wait_for_function(f"nnpg.diagnostics().grad_norms.epoch.length > {seen}")
    pause(page)
    # Dead units: a bar per hidden layer, fractions in [0, 1].
    dead = page.evaluate("document.querySelector('[data-testid=dead-chart]').data[0].y")
    assert len(dead) == 3 and all(0 <= v <= 1 for v in dead)
    # Histograms: weights of 4 layers, activations of 3, each in its own small plot.
    page.wait_for_function("document.querySelector('[data-testid=weight-hist]').data?.length === 4")
    assert page.evaluate("document.querySelector('[data-testid=act-hist]').data.length") == 3
    axes = page.evaluate("document.querySelector('[data-testid=weight-hist]').data.map((t) => t.xaxis)")
    assert axes == ["x", "x2", "x3", "x4"]
    page.screenshot(path=str(artifacts / "insight-diagnostics.png"))


# ---- compare ----


def test_pin_and_compare(page: Page, e2e_server: str, artifacts: Path) -> None:
    open_playground(page, e2e_server, "#dataset=xor&hidden=4&activation=tanh&lr=0.03")
    play_until(page, 30)
    pause(page)
    page.get_by_test_id("pin-run").click()
    page.wait_for_function("nnpg.pinned() && nnpg.pinned().boundary")
    pinned_epochs = page.evaluate("nnpg.pinned().epochs")
    assert pinned_epochs >= 30
    expect(page.get_by_test_id("pin-run")).to_contain_text("Pinned")

    # Change something (a new network starts over) and train again.
    page.get_by_test_id("activation").select_option("relu")
    server(page, "c.network.activation === 'relu'")
    page.wait_for_function("nnpg.lastFrame().state.epoch === 0 && nnpg.lastFrame().history.length === 0")
    # Step a fixed number of epochs so the "now" run is shorter than the pinned one on any machine.
    for epoch in range(1, 6):
        page.get_by_test_id("step").click()
        page.wait_for_function(f"nnpg.lastFrame().state.epoch === {epoch}")

    page.get_by_test_id("tab-compare").click()
    page.wait_for_function("document.querySelector('[data-testid=compare-loss]').data?.length === 4")
    traces = page.evaluate(
        "document.querySelector('[data-testid=compare-loss]').data"
        ".map((t) => [t.name, t.line.dash || 'solid', t.x.length])"
    )
    by_name = {name: (dash, n) for name, dash, n in traces}
    assert by_name["train (pinned)"] == ("dash", pinned_epochs)
    assert by_name["test (pinned)"][0] == "dash"
    assert by_name["train (now)"] == ("solid", 5)
    # Both boundaries side by side, each really drawn.
    assert canvas_colours(page, "#compare-pinned") > 5
    assert canvas_colours(page, "#compare-current") > 5
    expect(page.get_by_test_id("compare-diff")).to_contain_text("network.activation: tanh → relu")
    page.screenshot(path=str(artifacts / "insight-compare.png"))

    page.get_by_test_id("unpin-run").click()
    page.wait_for_function("nnpg.pinned() === null")
    page.wait_for_function("document.querySelector('[data-testid=compare-loss]').data.length === 2")
    expect(page.get_by_test_id("pin-run")).to_have_text("Pin this run")


# ---- TensorFlow Playground links ----

TF = "https://playground.tensorflow.org/#"


def test_tf_playground_link_mapping(page: Page, e2e_server: str) -> None:
    """js/tfimport.js's pure functions on links as TF Playground writes them."""
    page.goto(f"{e2e_server}/api/health")  # same origin, so the module can be imported
    links = {
        "default": TF + "activation=tanh&batchSize=10&dataset=circle&regDataset=reg-plane&learningRate=0.03"
        "&regularizationRate=0&noise=0&networkShape=4,2&seed=0.12345&showTestData=false&discretize=false"
        "&percTrainData=50&x=true&y=true&xTimesY=false&xSquared=false&ySquared=false&cosX=false&sinX=false"
        "&cosY=false&sinY=false&collectStats=false&problem=classification&initZero=false&hideText=false",
        "spiral": TF + "activation=relu&batchSize=25&dataset=spiral&regDataset=reg-plane&learningRate=0.01"
        "&regularizationRate=0.003&noise=15&networkShape=8,8,5&seed=0.84513&showTestData=true&discretize=true"
        "&percTrainData=70&x=true&y=true&xTimesY=true&xSquared=true&ySquared=true&cosX=false&sinX=true"
        "&cosY=false&sinY=true&collectStats=false&problem=classification&initZero=false&hideText=false"
        "&regularization=L2",
        "regression": "#activation=linear&batchSize=30&dataset=circle&regDataset=reg-gauss&learningRate=0.1"
        "&regularizationRate=0.001&noise=5&networkShape=&seed=0.5&showTestData=false&discretize=false"
        "&percTrainData=80&x=true&y=false&xTimesY=false&xSquared=false&ySquared=false&cosX=true&sinX=false"
        "&cosY=true&sinY=false&collectStats=false&problem=regression&initZero=true&hideText=false"
        "&regularization=L1",
        "odd": "activation=sigmoid&dataset=xor&networkShape=9,3,3,3,3,3,3&percTrainData=95&regularization=null"
        "&learningRate=3&x=false&y=false",
        "not-tf": "https://example.com/page",
        "noise": "hello world",
    }
    result = page.evaluate(
        """async (links) => {
            const m = await import('/static/js/tfimport.js');
            const catalog = await (await fetch('/api/catalog')).json();
            const out = {};
            for (const [k, v] of Object.entries(links)) out[k] = m.importTfLink(v, catalog);
            out.seeds = ['0.12345', '0.5', '7', 'abc'].map(m.tfSeed);
            return out;
        }""",
        links,
    )
    d = result["default"]["values"]
    assert d["problem"] == "classification" and d["dataset"] == "circle"
    assert d["features"] == ["x1", "x2"] and d["hidden"] == [4, 2] and d["activation"] == "tanh"
    assert d["lr"] == 0.03 and d["reg_rate"] == 0 and d["noise"] == 0 and d["train_ratio"] == 0.5
    assert d["batch"] == 10 and d["loss"] == "tf_squared" and d["init"] == "tf" and d["optimizer"] == "sgd"
    assert d["show_test"] is False and d["discretize"] is False and d["seed"] == 12345
    assert result["default"]["warnings"] == []

    s = result["spiral"]["values"]
    assert s["dataset"] == "spiral" and s["activation"] == "relu" and s["hidden"] == [8, 8, 5]
    assert s["features"] == ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"]
    assert s["reg"] == "l2" and s["reg_rate"] == 0.003 and s["noise"] == 15 and s["train_ratio"] == 0.7
    assert s["batch"] == 25 and s["show_test"] is True and s["discretize"] is True

    r = result["regression"]["values"]
    assert r["problem"] == "regression" and r["dataset"] == "multi-gauss" and r["hidden"] == []
    assert r["activation"] == "linear" and r["reg"] == "l1" and r["init"] == "zeros" and r["loss"] == "mse"
    assert r["train_ratio"] == 0.8 and r["lr"] == 0.1 and r["batch"] == 30 and r["points"] == 1200
    has_cos = any(f["name"] == "cos_x1" for f in catalog(e2e_server)["features"])
    if has_cos:
        assert r["features"] == ["x1", "cos_x1", "cos_x2"]
    else:
        assert r["features"] == ["x1"] and len(result["regression"]["warnings"]) == 2

    o = result["odd"]
    assert o["values"]["hidden"] == [8, 3, 3, 3, 3, 3]  # clamped to 8 neurons and 6 layers
    assert o["values"]["train_ratio"] == 0.9 and o["values"]["reg"] == "none" and o["values"]["lr"] == 3
    assert o["values"]["features"] == ["x1", "x2"]  # none on: the page needs one
    assert len(o["warnings"]) == 3

    assert "error" in result["not-tf"] and "error" in result["noise"]
    assert result["seeds"][:3] == [12345, 5, 7] and 0 <= result["seeds"][3] < 2**31


def test_import_tf_playground_link(page: Page, e2e_server: str, artifacts: Path) -> None:
    open_playground(page, e2e_server, "#optimizer=adam&dropout=0.1&hidden=2")
    link = (
        TF + "activation=relu&batchSize=20&dataset=xor&regDataset=reg-plane&learningRate=0.003"
        "&regularizationRate=0.01&noise=10&networkShape=5,3&seed=0.42424&showTestData=true&discretize=false"
        "&percTrainData=60&x=true&y=true&xTimesY=true&xSquared=false&ySquared=false&cosX=false&sinX=false"
        "&cosY=false&sinY=false&collectStats=false&problem=classification&initZero=false&hideText=false"
        "&regularization=L2"
    )
    page.get_by_test_id("tf-import-open").click()
    expect(page.get_by_test_id("tf-import")).to_be_visible()
    page.get_by_test_id("tf-import-url").fill("not a link")
    expect(page.get_by_test_id("tf-import-preview")).to_contain_text("does not look like")
    expect(page.get_by_test_id("tf-import-apply")).to_be_disabled()
    page.get_by_test_id("tf-import-url").fill(link)
    expect(page.get_by_test_id("tf-import-preview")).to_contain_text("hidden layers [5, 3], relu")
    page.screenshot(path=str(artifacts / "insight-tf-import.png"))
    page.get_by_test_id("tf-import-apply").click()
    expect(page.get_by_test_id("tf-import")).to_be_hidden()
    server(page, "c.data.dataset === 'xor' && c.training.loss === 'tf_squared'")
    c = page.evaluate("nnpg.serverConfig()")
    assert c["problem"] == "classification"
    assert c["data"]["noise"] == 10 and c["data"]["train_ratio"] == 0.6 and c["data"]["seed"] == 42424
    assert c["features"] == ["x1", "x2", "x1x2"]
    assert c["network"]["hidden_layers"] == [5, 3] and c["network"]["activation"] == "relu"
    assert c["network"]["init"] == "tf" and c["network"]["dropout"] == 0  # the old dropout went
    t = c["training"]
    assert t["optimizer"] == "sgd" and t["learning_rate"] == 0.003 and t["batch_size"] == 20
    assert t["regularization"] == "l2" and t["regularization_rate"] == 0.01
    # The page's own controls and URL say the same.
    expect(page.get_by_test_id("activation")).to_have_value("relu")
    expect(page.get_by_test_id("dataset-xor")).to_have_attribute("aria-checked", "true")
    expect(page.get_by_test_id("show-test-data")).to_be_checked()
    h = page.evaluate("location.hash")
    for part in ("dataset=xor", "hidden=5,3", "lr=0.003", "loss=tf_squared", "optimizer=sgd"):
        assert part in h
    page.wait_for_function("nnpg.lastFrame().weights.layers[0].shape.join() === '3,5'")


# ---- data ----


def test_new_dataset_thumbnails(page: Page, e2e_server: str) -> None:
    open_playground(page, e2e_server)
    names = [d["name"] for d in catalog(e2e_server)["datasets"]]
    for name in ("moons", "checkerboard", "rings", "sine", "ripple"):
        if name not in names:
            pytest.skip(f"the server does not offer {name} yet")
    for name in names:
        expect(page.get_by_test_id(f"dataset-{name}")).to_have_count(1)
    for name in ("moons", "checkerboard", "rings"):
        assert canvas_colours(page, f'[data-testid="dataset-{name}"] canvas') > 1
    page.get_by_test_id("dataset-rings").click()
    server(page, "c.data.dataset === 'rings' && c.data.classes === 3")
    page.wait_for_function("nnpg.lastFrame().grid.classes === 3")
    page.get_by_test_id("problem").select_option("regression")
    page.get_by_test_id("dataset-ripple").click()
    server(page, "c.data.dataset === 'ripple' && c.problem === 'regression'")


def has_points_api(base: str) -> bool:
    """Does this server take drawn points (POST /api/sessions/{id}/points in its OpenAPI)?"""
    with urllib.request.urlopen(f"{base}/openapi.json") as r:
        return any(p.endswith("/points") for p in json.load(r)["paths"])


def test_draw_points(page: Page, e2e_server: str, artifacts: Path) -> None:
    if not has_points_api(e2e_server):
        pytest.skip("the server does not take drawn points yet (add_point / remove_point)")
    open_playground(page, e2e_server, "#dataset=gauss&points=100&hidden=3")
    count = "(() => { const d = nnpg.dataset(); return d.train.x.length + d.test.x.length; })()"
    page.wait_for_function("nnpg.dataset()")
    before = page.evaluate(count)
    version = page.evaluate("nnpg.datasetVersion()")
    page.get_by_test_id("draw-toggle").click()
    expect(page.get_by_test_id("draw-picker")).to_be_visible()
    page.get_by_test_id("draw-class-0").click()
    box = page.get_by_test_id("heatmap").locator(".nsewdrag").bounding_box()

    def at(x: float, y: float) -> tuple[float, float]:
        """Page position of plane point (x, y) in [-6, 6]²."""
        return box["x"] + (x + 6) / 12 * box["width"], box["y"] + (6 - y) / 12 * box["height"]

    # A click adds a point of the chosen class where it was clicked.
    page.mouse.click(*at(4.0, -4.0))
    page.wait_for_function(f"nnpg.datasetVersion() !== {version} && {count} === {before + 1}")
    added = page.evaluate(
        """() => { const d = nnpg.dataset(); const all = [...d.train.x.map((p, i) => [p, d.train.y[i]]),
                                                       ...d.test.x.map((p, i) => [p, d.test.y[i]])];
                   return all.filter(([p]) => Math.hypot(p[0] - 4, p[1] + 4) < 0.2).map(([p, y]) => y); }"""
    )
    assert added == [0]
    server(page, "c.data.dataset === 'custom'")
    # Shift-click: the next class.
    version = page.evaluate("nnpg.datasetVersion()")
    page.keyboard.down("Shift")
    page.mouse.click(*at(-4.0, 4.0))
    page.keyboard.up("Shift")
    page.wait_for_function(f"nnpg.datasetVersion() !== {version} && {count} === {before + 2}")
    # Alt-click deletes the nearest point.
    version = page.evaluate("nnpg.datasetVersion()")
    page.keyboard.down("Alt")
    page.mouse.click(*at(4.05, -3.95))
    page.keyboard.up("Alt")
    page.wait_for_function(f"nnpg.datasetVersion() !== {version} && {count} === {before + 1}")
    page.screenshot(path=str(artifacts / "insight-draw-points.png"))


def has_upload_api(base: str) -> bool:
    with urllib.request.urlopen(f"{base}/openapi.json") as r:
        return any(p.endswith("/data") for p in json.load(r)["paths"])


def test_upload_csv(page: Page, e2e_server: str, artifacts: Path, tmp_path: Path) -> None:
    if not has_upload_api(e2e_server):
        pytest.skip("the server does not take CSV uploads yet (POST /api/sessions/{id}/data)")
    open_playground(page, e2e_server, "#hidden=6,4")
    rows = ["length,width,height,weight,kind"]
    for i in range(60):
        kind = ["small", "medium", "large"][i % 3]
        base = (i % 3) * 2.0
        cells = [base + (i % 7) * 0.1, base + (i % 5) * 0.2, (i % 4) * 0.3, base * 3 + i % 2]
        rows.append(",".join(f"{v:.2f}" for v in cells) + f",{kind}")
    good = tmp_path / "shapes.csv"
    good.write_text("\n".join(rows) + "\n")
    page.get_by_test_id("csv-file").set_input_files(str(good))
    expect(page.get_by_test_id("csv-meta")).to_contain_text("60 rows · 5 columns")
    expect(page.get_by_test_id("csv-label")).to_have_value("kind")
    page.get_by_test_id("csv-upload").click()
    expect(page.get_by_test_id("csv-result")).to_have_attribute("data-level", "ok")
    # d = 4 columns: the plane shows two of them, the network takes all four.
    page.wait_for_function("nnpg.dataset() && (nnpg.dataset().columns || []).length === 4")
    expect(page.get_by_test_id("plane-select")).to_be_visible()
    page.wait_for_function("nnpg.lastFrame().weights.layers[0].shape[0] === 4")
    expect(page.get_by_test_id("draw-toggle")).to_be_hidden()
    page.get_by_test_id("plane-y").select_option("3")
    server(page, "c.data.plane && c.data.plane.y === 3")
    page.get_by_test_id("plane-mode").select_option("pca")
    server(page, "c.data.plane && c.data.plane.mode === 'pca'")
    page.screenshot(path=str(artifacts / "insight-upload.png"))

    # A bad row: the server's 422 names it, the page shows it.
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,oops,y\n")
    page.get_by_test_id("csv-file").set_input_files(str(bad))
    expect(page.get_by_test_id("csv-label")).to_have_value("label")
    page.get_by_test_id("csv-upload").click()
    expect(page.get_by_test_id("csv-result")).to_have_attribute("data-level", "error")
    expect(page.get_by_test_id("csv-result")).to_contain_text("422")


def test_iris_shows_two_of_four_columns(page: Page, e2e_server: str, artifacts: Path) -> None:
    if "iris" not in [d["name"] for d in catalog(e2e_server)["datasets"]]:
        pytest.skip("the server does not offer iris yet")
    open_playground(page, e2e_server, "#hidden=8&activation=relu&optimizer=adam")
    page.get_by_test_id("dataset-iris").click()
    server(page, "c.data.dataset === 'iris'")
    page.wait_for_function("nnpg.dataset() && (nnpg.dataset().columns || []).length === 4")
    # Its four columns are the network's inputs; the feature chips step aside.
    expect(page.locator("#features .column-chip")).to_have_count(4)
    expect(page.get_by_test_id("feature-x1")).to_be_hidden()
    page.wait_for_function("nnpg.lastFrame().weights.layers[0].shape.join() === '4,8'")
    expect(page.get_by_test_id("link-0-3-7")).to_have_count(1)
    # Three species: only the multi-class loss, a legend with their names.
    losses = page.get_by_test_id("loss").locator("option").evaluate_all("os => os.map((o) => o.value)")
    assert losses == ["", "cce"]
    expect(page.get_by_test_id("legend-classes")).to_contain_text("setosa")
    # The plane: two columns (others at their mean), axes named after them, the frame's extent.
    expect(page.get_by_test_id("plane-select")).to_be_visible()
    expect(page.get_by_test_id("plane-x")).to_have_value("0")
    extent = page.evaluate("nnpg.lastFrame().grid.extent")
    assert page.evaluate("document.querySelector('[data-testid=heatmap]').layout.xaxis.range") == extent
    assert page.evaluate("document.querySelector('[data-testid=heatmap]').layout.xaxis.title.text") == "sepal_length"
    page.get_by_test_id("column-2").locator(".swatch").hover()
    expect(page.get_by_test_id("neuron-popup-label")).to_contain_text("held at its mean")
    page.get_by_test_id("plane-x").select_option("2")
    server(page, "c.data.plane.mode === 'features' && c.data.plane.x === 2 && c.data.plane.y === 1")
    page.wait_for_function("document.querySelector('[data-testid=heatmap]').layout.xaxis.title.text === 'petal_length'")
    play_until(page, 60)
    pause(page)
    page.screenshot(path=str(artifacts / "insight-iris.png"))
    page.get_by_test_id("plane-mode").select_option("pca")
    server(page, "c.data.plane.mode === 'pca'")
    expect(page.get_by_test_id("plane-x")).to_be_hidden()
    page.wait_for_function("document.querySelector('[data-testid=heatmap]').layout.xaxis.title.text === 'PC 1'")

"""The playground page in headless Chromium against a live server.

Every wait is Playwright's (wait_for_function / expect): no fixed sleeps, no timed assertions.
"""

import re
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
from playground_page import epoch, open_playground, pause, play_until
from playwright.sync_api import Page, expect

from nnplayground.frames import Frame, encode_frame


def plot_points(page: Page, testid: str, trace: int, key: str = "x") -> int:
    """How many values trace `trace` of the plotly chart under data-testid=`testid` holds."""
    return page.evaluate(
        """([testid, trace, key]) => {
            const el = document.querySelector(`[data-testid="${testid}"]`);
            const t = el && el.data && el.data[trace];
            const v = t && t[key];
            return v ? v.length : 0;
        }""",
        [testid, trace, key],
    )


def test_play_trains_and_draws_every_view(page: Page, e2e_server: str) -> None:
    open_playground(page, e2e_server)
    expect(page.get_by_test_id("epoch")).to_have_text("000,000")
    expect(page.get_by_test_id("play-pause")).to_have_attribute("aria-pressed", "false")

    page.get_by_test_id("play-pause").click()
    expect(page.get_by_test_id("play-pause")).to_have_attribute("aria-pressed", "true")
    # The epoch counter advances.
    page.wait_for_function("Number(document.querySelector('[data-testid=epoch]').dataset.value) >= 5")
    # The loss chart has train and test points.
    page.wait_for_function(
        """() => { const d = document.querySelector('[data-testid=loss-chart]').data;
                   return d && d[0].x.length >= 3 && d[1].y.length >= 3; }"""
    )
    # The heatmap: a 100×100 grid and the training points on top.
    page.wait_for_function(
        """() => { const d = document.querySelector('[data-testid=heatmap]').data;
                   return d && d[0].type === 'heatmap' && d[0].z.length === 100
                          && d[0].z[0].length === 100 && d[1] && d[1].x.length > 0; }"""
    )
    # Confusion matrices: 2×2 counts adding up to the train and test set sizes.
    for which in ("train", "test"):
        page.wait_for_function(
            f"""() => {{ const d = document.querySelector('[data-testid=confusion-{which}]').data;
                        return d && d[0] && d[0].z.flat().reduce((a, b) => a + b, 0) > 0; }}"""
        )
    counts = page.evaluate(
        """() => ['train', 'test'].map((w) =>
               document.querySelector(`[data-testid=confusion-${w}]`).data[0].z.flat()
                 .reduce((a, b) => a + b, 0))"""
    )
    assert counts == [250, 250]  # 500 points, train ratio 50 %
    # Loss numbers and speed are shown.
    expect(page.get_by_test_id("train-loss")).to_have_text(re.compile(r"^\d+\.\d{3}$"))
    expect(page.get_by_test_id("test-loss")).to_have_text(re.compile(r"^\d+\.\d{3}$"))
    page.wait_for_function("Number(document.querySelector('[data-testid=epochs-per-second]').textContent) > 0")

    # Show test data adds a second scatter trace.
    assert plot_points(page, "heatmap", 2) == 0
    page.get_by_test_id("show-test-data").check()
    page.wait_for_function("document.querySelector('[data-testid=heatmap]').data.length === 3")
    assert plot_points(page, "heatmap", 2) == 250
    assert "show_test=true" in page.evaluate("location.hash")

    pause(page)
    assert page.evaluate("nnpg.framesReceived()") > 1


def test_step_and_reset(page: Page, e2e_server: str) -> None:
    open_playground(page, e2e_server)
    page.get_by_test_id("step").click()
    page.wait_for_function("nnpg.lastFrame().state.epoch === 1")
    expect(page.get_by_test_id("epoch")).to_have_text("000,001")
    page.get_by_test_id("step").click()
    page.wait_for_function("nnpg.lastFrame().state.epoch === 2")
    page.get_by_test_id("reset").click()
    page.wait_for_function("nnpg.lastFrame().state.epoch === 0")
    expect(page.get_by_test_id("epoch")).to_have_text("000,000")


def test_learning_rate_changes_live(page: Page, e2e_server: str) -> None:
    open_playground(page, e2e_server)
    play_until(page, 10)
    before = epoch(page)
    page.get_by_test_id("learning-rate").select_option("0.1")
    page.wait_for_function("nnpg.lastFrame().state.learning_rate === 0.1")
    # Live: training went on, the epoch did not start over.
    assert epoch(page) >= before
    assert page.evaluate("nnpg.config().training.learning_rate") == 0.1
    page.wait_for_function("nnpg.serverConfig().training.learning_rate === 0.1")
    assert "lr=0.1&" in page.evaluate("location.hash")
    expect(page.get_by_test_id("play-pause")).to_have_attribute("aria-pressed", "true")
    pause(page)


def test_dataset_change_resets_epoch(page: Page, e2e_server: str) -> None:
    open_playground(page, e2e_server)
    play_until(page, 10)
    pause(page)
    before = epoch(page)
    version = page.evaluate("nnpg.datasetVersion()")
    assert before >= 10

    page.get_by_test_id("dataset-xor").click()
    page.wait_for_function(f"nnpg.datasetVersion() !== {version}")
    page.wait_for_function(f"nnpg.lastFrame().data_version !== {version} && nnpg.lastFrame().state.epoch === 0")
    assert page.evaluate("nnpg.serverConfig().data.dataset") == "xor"
    assert page.evaluate("nnpg.config().data.dataset") == "xor"
    expect(page.get_by_test_id("dataset-xor")).to_have_attribute("aria-checked", "true")
    expect(page.get_by_test_id("dataset-circle")).to_have_attribute("aria-checked", "false")
    expect(page.get_by_test_id("epoch")).to_have_text("000,000")
    assert "dataset=xor" in page.evaluate("location.hash")

    # It trains on the new data from epoch 0.
    play_until(page, 3)
    pause(page)


def test_shared_url_reproduces_the_setup(page: Page, e2e_server: str) -> None:
    shared = (
        "#dataset=spiral&noise=10&train_ratio=70&features=x1,x2,sin_x1&hidden=6,3,2"
        "&activation=relu&optimizer=adam&lr=0.01&batch=20&reg=l2&reg_rate=0.003"
        "&problem=classification&seed=42&points=400"
    )
    open_playground(page, e2e_server, shared)
    expected = {
        "problem": "classification",
        "data": {"dataset": "spiral", "noise": 10, "train_ratio": 0.7, "num_points": 400, "seed": 42},
        "features": ["x1", "x2", "sin_x1"],
        "network": {"hidden_layers": [6, 3, 2], "activation": "relu"},
        "training": {
            "optimizer": "adam",
            "learning_rate": 0.01,
            "batch_size": 20,
            "regularization": "l2",
            "regularization_rate": 0.003,
        },
    }

    def set_fields(cfg: dict, like: dict = expected) -> dict:
        """The config's fields that the URL set (the full course adds many more, left at defaults)."""
        return {k: set_fields(cfg[k], v) if isinstance(v, dict) else cfg[k] for k, v in like.items()}

    assert set_fields(page.evaluate("nnpg.config()")) == expected
    assert set_fields(page.evaluate("nnpg.serverConfig()")) == expected

    expect(page.get_by_test_id("learning-rate")).to_have_value("0.01")
    expect(page.get_by_test_id("activation")).to_have_value("relu")
    expect(page.get_by_test_id("optimizer")).to_have_value("adam")
    expect(page.get_by_test_id("regularization")).to_have_value("l2")
    expect(page.get_by_test_id("regularization-rate")).to_have_value("0.003")
    expect(page.get_by_test_id("dataset-spiral")).to_have_attribute("aria-checked", "true")
    expect(page.get_by_test_id("noise")).to_have_value("10")
    expect(page.get_by_test_id("train-ratio")).to_have_value("70")
    expect(page.get_by_test_id("batch-size")).to_have_value("20")
    expect(page.get_by_test_id("num-points")).to_have_value("400")
    expect(page.get_by_test_id("seed")).to_have_value("42")
    expect(page.get_by_test_id("feature-sin_x1")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("feature-x1^2")).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_test_id("layers-count")).to_have_text("3 hidden layers")
    for i, width in enumerate([6, 3, 2]):
        expect(page.get_by_test_id(f"layer-{i}").locator(".neuron")).to_have_count(width)
    # The page's own URL still says the same, so it can be shared again.
    hash_ = page.evaluate("location.hash")
    for part in ("dataset=spiral", "hidden=6,3,2", "lr=0.01", "features=x1,x2,sin_x1", "seed=42"):
        assert part in hash_

    # The test points are 30 % of 400.
    page.get_by_test_id("step").click()
    page.wait_for_function("nnpg.lastFrame().state.epoch === 1")
    page.wait_for_function(
        "document.querySelector('[data-testid=confusion-test]').data[0].z.flat().reduce((a,b)=>a+b,0) === 120"
    )


def test_network_controls_reconfigure(page: Page, e2e_server: str) -> None:
    open_playground(page, e2e_server)
    page.get_by_test_id("add-layer").click()
    page.wait_for_function("JSON.stringify(nnpg.serverConfig().network.hidden_layers) === '[4,2,2]'")
    page.get_by_test_id("add-neuron-0").click()
    page.wait_for_function("JSON.stringify(nnpg.serverConfig().network.hidden_layers) === '[5,2,2]'")
    page.get_by_test_id("remove-neuron-1").click()
    page.wait_for_function("JSON.stringify(nnpg.serverConfig().network.hidden_layers) === '[5,1,2]'")
    page.get_by_test_id("remove-layer").click()
    page.wait_for_function("JSON.stringify(nnpg.serverConfig().network.hidden_layers) === '[5,1]'")
    expect(page.get_by_test_id("layer-0").locator(".neuron")).to_have_count(5)
    assert "hidden=5,1&" in page.evaluate("location.hash")

    page.get_by_test_id("feature-x1x2").click()
    page.wait_for_function("nnpg.serverConfig().features.includes('x1x2')")
    page.get_by_test_id("activation").select_option("sigmoid")
    page.wait_for_function("nnpg.serverConfig().network.activation === 'sigmoid'")


def test_regression_problem(page: Page, e2e_server: str) -> None:
    open_playground(page, e2e_server)
    page.get_by_test_id("problem").select_option("regression")
    page.wait_for_function(
        "nnpg.serverConfig().problem === 'regression' && nnpg.serverConfig().data.dataset === 'plane'"
    )
    expect(page.get_by_test_id("dataset-plane")).to_be_visible()
    expect(page.get_by_test_id("dataset-circle")).to_be_hidden()
    expect(page.get_by_test_id("confusion-train")).to_be_hidden()
    play_until(page, 5)
    page.wait_for_function(
        """() => { const d = document.querySelector('[data-testid=heatmap]').data;
                   return d[0].z.length === 100 && d[1].x.length > 0; }"""
    )
    assert page.evaluate("nnpg.lastFrame().confusion") is None
    pause(page)


def test_server_error_is_shown(page: Page, e2e_server: str) -> None:
    open_playground(page, e2e_server)
    # Edit the URL by hand to something the server refuses (too many neurons).
    page.evaluate("location.hash = location.hash.replace('hidden=4,2', 'hidden=4,99')")
    expect(page.get_by_test_id("status")).to_contain_text("neurons")
    expect(page.get_by_role("alert").first).to_be_visible()
    # The page goes back to what the server has.
    page.wait_for_function("JSON.stringify(nnpg.config().network.hidden_layers) === '[4,2]'")
    assert "hidden=4,2&" in page.evaluate("location.hash")


def test_invalid_shared_url_falls_back_to_defaults(page: Page, e2e_server: str) -> None:
    open_playground(page, e2e_server, "#hidden=4,99&dataset=xor")
    expect(page.get_by_role("alert").first).to_be_visible()
    assert page.evaluate("nnpg.serverConfig().network.hidden_layers") == [4, 2]


def test_leaving_the_page_deletes_its_session(page: Page, e2e_server: str) -> None:
    open_playground(page, e2e_server)
    session_id = page.evaluate("nnpg.sessionId()")

    def status() -> int:
        req = urllib.request.Request(
            f"{e2e_server}/api/sessions/{session_id}", headers={"Authorization": "Bearer not-the-token"}
        )
        try:
            with urllib.request.urlopen(req) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    assert status() == 403  # exists, wrong token
    # Leave for another page of the same origin, so the check below may fetch without CORS.
    page.goto(f"{e2e_server}/api/health")
    page.wait_for_function(
        """async ([url]) => (await fetch(url, {headers: {Authorization: 'Bearer x'}})).status === 404""",
        arg=[f"{e2e_server}/api/sessions/{session_id}"],
        polling=200,
    )


def test_screenshot(page: Page, e2e_server: str, artifacts: Path) -> None:
    shared = "#dataset=spiral&features=x1,x2,sin_x1,sin_x2&hidden=8,6,4&lr=0.03&show_test=true"
    open_playground(page, e2e_server, shared)
    play_until(page, 60)
    page.wait_for_function("document.querySelector('[data-testid=loss-chart]').data[0].x.length > 10")
    path = artifacts / "playground.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    pause(page)


def test_browser_frame_decoder_matches_python(page: Page, e2e_server: str) -> None:
    """frontend/js/socket.js decodes what nnplayground.frames encodes, compressed or not."""
    rng = np.random.default_rng(0)
    grid = rng.integers(0, 256, size=(7, 7), dtype=np.uint8)
    history = rng.standard_normal((3, 5)).astype(np.float32)
    # A header of odd length puts the float32 section off a 4-byte boundary.
    header = {"type": "frame", "seq": 3, "note": "é" * 3}
    page.goto(f"{e2e_server}/api/health")  # same origin, so the module can be imported
    for compress in (True, False):
        data = encode_frame(Frame(header, {"grid": grid, "history": history}), compress=compress)
        decoded = page.evaluate(
            """async (bytes) => {
                const { decodeFrame } = await import('/static/js/socket.js');
                const f = await decodeFrame(new Uint8Array(bytes).buffer);
                return { header: f.header, grid: Array.from(f.arrays.grid),
                         history: Array.from(f.arrays.history) };
            }""",
            list(data),
        )
        assert decoded["header"]["seq"] == 3 and decoded["header"]["note"] == "ééé"
        assert [s["name"] for s in decoded["header"]["sections"]] == ["grid", "history"]
        assert decoded["grid"] == grid.ravel().tolist()
        assert np.array_equal(np.array(decoded["history"], dtype=np.float32), history.ravel())


def test_url_state_round_trips(page: Page, e2e_server: str) -> None:
    """frontend/js/state.js: hash -> State -> hash keeps every setting; bad values are reported."""
    page.goto(f"{e2e_server}/api/health")
    result = page.evaluate(
        """async () => {
            const { State } = await import('/static/js/state.js');
            const catalog = await (await fetch('/api/catalog')).json();
            const a = new State(catalog.defaults);
            const bad = a.readHash('#dataset=gauss&noise=25&train_ratio=30&features=x1x2,sin_x2'
                + '&hidden=&lr=0.00001&reg=l1&reg_rate=0.3&seed=7&points=250&show_test=true&lr_typo=3&batch=x');
            const b = new State(catalog.defaults);
            b.readHash(a.toHash());
            const regression = new State(catalog.defaults);
            regression.readHash('#problem=regression');
            return { bad, a: a.config(), b: b.config(), hash: a.toHash(), show: b.get('show_test'),
                     regression: regression.config() };
        }"""
    )
    assert sorted(result["bad"]) == ["batch", "lr_typo"]
    assert result["a"] == result["b"]
    assert result["show"] is True
    a = result["a"]
    assert a["data"] == {
        "dataset": "gauss",
        "noise": 25,
        "train_ratio": 0.3,
        "num_points": 250,
        "seed": 7,
        "validation_ratio": 0,
        "classes": 2,
    }
    assert a["features"] == ["x1x2", "sin_x2"]
    assert a["network"]["hidden_layers"] == []
    assert a["training"]["learning_rate"] == 0.00001 and a["training"]["batch_size"] == 10
    assert "lr=0.00001&" in result["hash"] and "train_ratio=30&" in result["hash"]
    assert result["regression"]["problem"] == "regression"
    assert result["regression"]["data"]["dataset"] == "plane"

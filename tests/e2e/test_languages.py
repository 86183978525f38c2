"""The page in English and Spanish: the URL's `lang=`, else the browser's language; switching
mid-training changes every label live and leaves the session and its training alone."""

import re
from collections.abc import Iterator

import pytest
from playground_page import open_playground, pause, play_until
from playwright.sync_api import Browser, Page, expect

# Intl writes "96,5 %" in Spanish: a (non-breaking) space before the sign.
SPANISH_PERCENT = re.compile(r"^\d{1,3},\d\s%$")
SPANISH_LOSS = re.compile(r"^\d+,\d{3}$")


@pytest.fixture
def spanish_browser_page(browser: Browser) -> Iterator[Page]:
    """A page whose browser prefers Spanish (navigator.language es-ES)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="es-ES")
    context.set_default_timeout(30_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, f"errors in the page: {errors}"


def step(page: Page, times: int) -> None:
    """Train exactly `times` epochs with the step button."""
    start = page.evaluate("nnpg.lastFrame().state.epoch")
    for i in range(1, times + 1):
        page.get_by_test_id("step").click()
        page.wait_for_function(f"nnpg.lastFrame().state.epoch >= {start + i}")


def plot_title(page: Page, testid: str, axis: str) -> str:
    return page.evaluate(
        "([id, axis]) => document.querySelector(`[data-testid=${id}]`).layout[axis].title.text", [testid, axis]
    )


def expect_spanish(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_test_id("language")).to_have_value("es")
    expect(page.locator("label[for=learning-rate]")).to_have_text("Tasa de aprendizaje")
    expect(page.locator("label[for=activation]")).to_have_text("Función de activación")
    expect(page.get_by_test_id("tab-metrics")).to_have_text("Métricas")
    expect(page.get_by_test_id("layers-count")).to_have_text("2 capas ocultas")
    expect(page.get_by_test_id("pin-run")).to_have_text("Fijar esta ejecución")
    # Menu options come from the server's catalog: the wire names stay, the labels are Spanish.
    expect(page.locator("#activation option[value=step]")).to_have_text("Escalón")
    expect(page.get_by_test_id("dataset-xor").locator("span")).to_have_text("XOR")


def test_lang_in_the_url_shows_spanish_numbers_and_axis_titles(page: Page, e2e_server: str, artifacts) -> None:
    # The browser context is English: the URL's lang=es wins.
    open_playground(page, e2e_server, "#lang=es")
    expect_spanish(page)
    step(page, 3)
    expect(page.get_by_test_id("test-loss")).to_have_text(SPANISH_LOSS)
    expect(page.get_by_test_id("train-loss")).to_have_text(SPANISH_LOSS)
    expect(page.get_by_test_id("epoch")).to_have_text("000.003")
    # Confusion matrices: Spanish axis titles and plotly writing decimals with a comma.
    page.wait_for_function("document.querySelector('[data-testid=confusion-test]').layout.xaxis.title")
    assert plot_title(page, "confusion-test", "xaxis") == "predicha"
    assert plot_title(page, "confusion-test", "yaxis") == "real"
    assert page.evaluate("document.querySelector('[data-testid=confusion-test]').layout.separators") == ",."
    assert "exactitud" in page.evaluate("document.querySelector('[data-testid=confusion-test]').layout.title.text")
    page.screenshot(path=str(artifacts / "playground-es.png"), full_page=True)

    page.get_by_test_id("tab-metrics").click()
    cards = page.get_by_test_id("metric-cards")
    expect(cards.locator("[data-metric=accuracy] span")).to_have_text("Exactitud")
    expect(cards.locator("[data-metric=error_rate] span")).to_have_text("Tasa de error")
    expect(cards.locator("[data-metric=accuracy] b")).to_have_text(SPANISH_PERCENT)
    header = page.get_by_test_id("per-class").locator("th")
    expect(header.nth(1)).to_have_text("precisión")
    expect(header.nth(2)).to_have_text("sensibilidad")
    expect(header.nth(3)).to_have_text("especificidad")
    expect(page.get_by_test_id("per-class").locator("td[data-key=precision]").first).to_have_text(SPANISH_LOSS)
    page.screenshot(path=str(artifacts / "playground-es-metrics.png"), full_page=True)

    # The URL keeps the language next to the set-up, so a shared link opens in Spanish.
    hash_ = page.evaluate("location.hash")
    assert "lang=es" in hash_ and "dataset=circle" in hash_
    page.reload()
    page.wait_for_function("window.nnpg && window.nnpg.sessionId() && window.nnpg.framesReceived() > 0")
    expect_spanish(page)


def test_switching_language_mid_training_keeps_the_session(page: Page, e2e_server: str, artifacts) -> None:
    open_playground(page, e2e_server, "#lang=es")
    page.get_by_test_id("tab-metrics").click()
    play_until(page, 3)
    expect(page.get_by_test_id("metric-cards").locator("[data-metric=accuracy] span")).to_have_text("Exactitud")
    session = page.evaluate("nnpg.sessionId()")
    before = page.evaluate("nnpg.lastFrame().state.epoch")

    page.get_by_test_id("language").select_option("en")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("label[for=learning-rate]")).to_have_text("Learning rate")
    expect(page.get_by_test_id("tab-metrics")).to_have_text("Metrics")
    expect(page.get_by_test_id("layers-count")).to_have_text("2 hidden layers")
    expect(page.locator("#activation option[value=step]")).to_have_text("Step")
    expect(page.get_by_test_id("metric-cards").locator("[data-metric=accuracy] span")).to_have_text("Accuracy")
    expect(page.get_by_test_id("per-class").locator("th").nth(2)).to_have_text("recall")
    expect(page.get_by_test_id("play-pause")).to_have_attribute("aria-label", "Pause")
    # Training went on: no reload, no new session, the epoch keeps advancing.
    page.wait_for_function(f"nnpg.lastFrame().state.epoch >= {before + 3}")
    assert page.evaluate("nnpg.sessionId()") == session
    assert page.evaluate("nnpg.lastFrame().state.running") is True
    assert "lang=en" in page.evaluate("location.hash")
    expect(page.get_by_test_id("test-loss")).to_have_text(re.compile(r"^\d+\.\d{3}$"))
    pause(page)
    page.get_by_test_id("tab-boundary").click()
    page.wait_for_function("document.querySelector('[data-testid=confusion-test]').layout.xaxis.title")
    assert plot_title(page, "confusion-test", "xaxis") == "predicted"
    assert page.evaluate("document.querySelector('[data-testid=confusion-test]').layout.separators") == ".,"
    page.screenshot(path=str(artifacts / "playground-en.png"), full_page=True)


def test_the_browser_language_is_the_default(spanish_browser_page: Page, e2e_server: str) -> None:
    page = spanish_browser_page
    assert page.evaluate("navigator.language").startswith("es")
    open_playground(page, e2e_server)
    expect_spanish(page)
    # The choice goes into the URL, so the link shows the same language wherever it is opened.
    page.wait_for_function("location.hash.includes('lang=es')")
    # An explicit lang in the URL wins over the browser's.
    page.evaluate("location.hash = location.hash.replace('lang=es', 'lang=en')")
    expect(page.get_by_test_id("tab-metrics")).to_have_text("Metrics")
    expect(page.get_by_test_id("language")).to_have_value("en")

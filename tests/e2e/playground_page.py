"""Actions on the playground page shared by the browser tests."""

from playwright.sync_api import Page, expect


def open_playground(page: Page, base: str, hash_: str = "") -> None:
    """Load the page and wait until its session streams (hello and a first frame arrived)."""
    page.goto(f"{base}/{hash_}")
    page.wait_for_function("window.nnpg && window.nnpg.sessionId() && window.nnpg.framesReceived() > 0")


def epoch(page: Page) -> int:
    return page.evaluate("nnpg.lastFrame().state.epoch")


def play_until(page: Page, epochs: int) -> None:
    page.get_by_test_id("play-pause").click()
    page.wait_for_function(f"nnpg.lastFrame().state.epoch >= {epochs}")


def pause(page: Page) -> None:
    page.get_by_test_id("play-pause").click()
    page.wait_for_function("nnpg.lastFrame().state.running === false")
    expect(page.get_by_test_id("play-pause")).to_have_attribute("aria-pressed", "false")

"""Export, import and run history in the browser (docs/protocol.md: Export, Import, Runs).

Every wait is Playwright's (expect / wait_for_function / expect_download): no fixed sleeps.
"""

import json
from pathlib import Path
from typing import Any

from playground_page import epoch, open_playground, pause, play_until
from playwright.sync_api import Page, expect


def download(page: Page, testid: str) -> tuple[str, bytes]:
    """Open the Export menu, pick one format, and return the file's suggested name and bytes."""
    page.get_by_test_id("export-open").click()
    with page.expect_download() as info:
        page.get_by_test_id(testid).click()
    dl = info.value
    path = dl.path()
    assert path is not None, dl.failure()
    return dl.suggested_filename, Path(path).read_bytes()


def server_config(page: Page) -> dict[str, Any]:
    return page.evaluate("nnpg.serverConfig()")


def wait_for_new_session(page: Page, old_id: str) -> str:
    """Wait until the page shows another session, streaming with its own frames."""
    page.wait_for_function(
        "(old) => nnpg.sessionId() && nnpg.sessionId() !== old && nnpg.lastFrame() !== null",
        arg=old_id,
    )
    return page.evaluate("nnpg.sessionId()")


def test_export_import_and_reopen_a_run(page: Page, e2e_server: str, artifacts: Path, tmp_path: Path) -> None:
    open_playground(page, e2e_server, "#activation=relu&hidden=3,2&dataset=xor")
    play_until(page, 5)
    pause(page)
    trained_epoch = epoch(page)
    config = server_config(page)
    first_id = page.evaluate("nnpg.sessionId()")
    assert trained_epoch >= 5

    # The Python script: a text file that trains with torch.
    name, data = download(page, "export-python")
    assert name.endswith(".py")
    text = data.decode()
    assert "import torch" in text

    # The PyTorch checkpoint: torch.save's zip format.
    name, data = download(page, "export-pt")
    assert name == f"nnplayground_{first_id}.pt"
    assert data[:2] == b"PK"
    pt_file = tmp_path / name
    pt_file.write_bytes(data)

    # JSON: the checkpoint with the config in it.
    name, data = download(page, "export-json")
    exported = json.loads(data)
    assert exported["format"] == "nnplayground-json"
    assert exported["config"]["network"] == config["network"]

    # ONNX needs a package this server lacks: the menu and a toast say which to install.
    page.get_by_test_id("export-open").click()
    page.get_by_test_id("export-onnx").click()
    note = page.get_by_test_id("export-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("pip install 'nnplayground[onnx]'")
    expect(page.locator(".toast").filter(has_text="nnplayground[onnx]")).to_have_count(1)
    page.screenshot(path=str(artifacts / "export-menu.png"), clip={"x": 700, "y": 0, "width": 700, "height": 420})
    # A click elsewhere closes the menu.
    page.locator("h1").click()
    expect(page.get_by_test_id("export-pt")).to_be_hidden()

    # Import the checkpoint: a new session, same set-up, where the export was.
    page.get_by_test_id("import-file").set_input_files(str(pt_file))
    imported_id = wait_for_new_session(page, first_id)
    assert epoch(page) == trained_epoch
    assert server_config(page) == config
    expect(page.get_by_test_id("epoch")).not_to_have_text("000,000")
    expect(page.get_by_test_id("activation")).to_have_value("relu")
    assert "activation=relu" in page.evaluate("location.hash")
    expect(page.get_by_test_id("status")).to_contain_text(f"session {imported_id[:8]}")

    # Reset: the run it ends is listed.
    page.get_by_test_id("reset").click()
    page.wait_for_function("nnpg.lastFrame().state.epoch === 0")
    page.get_by_test_id("runs-open").click()
    runs = page.get_by_test_id("runs-list").locator("li")
    expect(runs).to_have_count(1)
    expect(runs.first).to_contain_text("xor")
    expect(runs.first).to_contain_text("3-2 hidden")
    expect(runs.first).to_contain_text("relu")
    expect(runs.first).to_contain_text(f"{trained_epoch} epochs")
    expect(runs.first).to_contain_text("test loss")
    listed = page.evaluate("nnpg.runs()")
    assert listed[0]["epochs"] == trained_epoch
    assert listed[0]["reason"] == "reset"
    page.screenshot(path=str(artifacts / "export-runs.png"))

    # Reopen it: another new session with the run's set-up and final weights.
    page.get_by_test_id("run-reopen-0").click()
    expect(page.get_by_test_id("runs-dialog")).to_be_hidden()
    reopened_id = wait_for_new_session(page, imported_id)
    assert reopened_id not in (first_id, imported_id)
    assert server_config(page) == config
    assert epoch(page) == trained_epoch
    # The new session has no history of its own yet.
    page.get_by_test_id("runs-open").click()
    expect(page.get_by_test_id("runs-note")).to_contain_text("No past runs yet")
    expect(page.get_by_test_id("runs-list").locator("li")).to_have_count(0)

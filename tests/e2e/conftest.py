"""Browser tests: a live server in a subprocess and headless Chromium driven by Playwright.

Skipped (not failed) where Playwright or a Chromium binary is missing. Chromium is found at
$NNPG_CHROMIUM, else /usr/bin/chromium, else Playwright's own download if one is installed.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api")

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chromium() -> str | None:
    """A Chromium binary; None means: let Playwright use its own, if it has one."""
    for candidate in (os.environ.get("NNPG_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="session")
def e2e_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a uvicorn serving nnplayground.app:create_app, like `nnplayground serve`."""
    port = _free_port()
    data_dir = tmp_path_factory.mktemp("nnpg-data")
    log_path = data_dir / "server.log"
    env = {
        **os.environ,
        "NNPG_DATA_DIR": str(data_dir),
        # Every test opens pages from 127.0.0.1; don't let the per-client cap get in the way.
        "NNPG_MAX_SESSIONS_PER_CLIENT": "200",
        "PYTHONUNBUFFERED": "1",
    }
    # As `nnplayground serve` runs it: one worker, no permessage-deflate (frames are compressed).
    args = "-m uvicorn --factory nnplayground.app:create_app --host 127.0.0.1 --ws-per-message-deflate false"
    cmd = [sys.executable, *args.split(), "--port", str(port), "--log-level", "warning"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not answer /api/health:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator["sync_api.Browser"]:
    executable = _chromium()
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except sync_api.Error as e:
            pytest.skip(f"no usable Chromium: {e.message.splitlines()[0]}")
        yield b
        b.close()


@pytest.fixture
def page(browser: "sync_api.Browser") -> Iterator["sync_api.Page"]:
    """A fresh page at 1400×1000 in English (the page follows the browser's language); any uncaught
    page error fails the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    context.set_default_timeout(30_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture
def new_page(browser: "sync_api.Browser") -> Iterator[Callable[[], "sync_api.Page"]]:
    """Pages in browser contexts of their own (separate storage and cookies, as separate people),
    made on demand at 1400×1000; any uncaught error in any of them fails the test."""
    contexts: list[sync_api.BrowserContext] = []
    errors: list[str] = []

    def make() -> "sync_api.Page":
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(30_000)
        contexts.append(context)
        pg = context.new_page()
        pg.on("pageerror", lambda e: errors.append(str(e)))
        return pg

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"errors in the pages: {errors}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS

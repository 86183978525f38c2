"""The lessons panel in the browser: a lesson end to end in English and in Spanish, a language
switch in the middle of a lesson, a shared link to a step, and a reload.

Expectations come from the server's own lesson (GET /api/lessons/{id}), so the test follows the
lesson file as it is edited.
"""

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playground_page import open_playground
from playwright.sync_api import Page, Response, expect

LESSON = "xor-hidden-layer"
COUNTER = {"en": "Step {k} of {n}", "es": "Paso {k} de {n}"}
NEXT = {"en": ("Next", "Finish"), "es": ("Siguiente", "Terminar")}


def lesson(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/api/lessons/{LESSON}", timeout=10) as r:
        return json.load(r)


def config_matches(page: Page, config: dict[str, Any]) -> None:
    """Wait until the session's config (as the server confirmed it) is the step's."""
    fields = {
        "dataset": config["data"]["dataset"],
        "hidden": config["network"]["hidden_layers"],
        "activation": config["network"]["activation"],
        "lr": config["training"]["learning_rate"],
        "optimizer": config["training"]["optimizer"],
        "features": config["features"],
    }
    page.wait_for_function(
        """(f) => {
            const c = nnpg.serverConfig();
            const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
            return c && c.data.dataset === f.dataset && same(c.network.hidden_layers, f.hidden)
              && c.network.activation === f.activation && c.training.learning_rate === f.lr
              && c.training.optimizer === f.optimizer && same(c.features, f.features);
        }""",
        arg=fields,
    )


def shows_step(page: Page, data: dict[str, Any], k: int, lang: str) -> None:
    """The panel shows step k (1-based) of the lesson in `lang`."""
    step, n = data["steps"][k - 1], len(data["steps"])
    panel = page.get_by_test_id("lesson-panel")
    expect(panel).to_be_visible()
    expect(panel).to_have_attribute("data-step", str(k))
    expect(page.get_by_test_id("lesson-title")).to_have_text(data["title"][lang])
    expect(page.get_by_test_id("lesson-counter")).to_have_text(COUNTER[lang].format(k=k, n=n))
    expect(page.get_by_test_id("lesson-text")).to_have_text(step["text"][lang])
    if step["ask"]:
        expect(page.get_by_test_id("lesson-ask-text")).to_have_text(step["ask"][lang])
    else:
        expect(page.get_by_test_id("lesson-ask")).to_be_hidden()
    expect(page.get_by_test_id("lesson-next")).to_have_text(NEXT[lang][0] if k < n else NEXT[lang][1])
    assert page.evaluate("nnpg.lesson()") == {"lesson_id": LESSON, "step": k, "steps": n}
    assert f"lesson={LESSON}&step={k}" in page.evaluate("location.hash")


def step_loaded(page: Page, data: dict[str, Any], k: int) -> None:
    """The session holds step k's config, and trains when the step says so."""
    step = data["steps"][k - 1]
    config_matches(page, step["config"])
    if step["play"]:
        page.wait_for_function("nnpg.sessionState().running && nnpg.lastFrame().state.epoch > 0")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_lesson_end_to_end(page: Page, e2e_server: str, artifacts: Path, lang: str) -> None:
    data = lesson(e2e_server)
    n = len(data["steps"])
    saved: list[dict[str, Any]] = []

    def record(response: Response) -> None:
        if response.request.method == "PUT" and response.url.endswith("/lesson") and response.ok:
            saved.append(json.loads(response.request.post_data or "null"))

    page.on("response", record)
    open_playground(page, e2e_server, "#lang=es" if lang == "es" else "")
    expect(page.get_by_test_id("lessons-open")).to_have_text("Lecciones" if lang == "es" else "Lessons")
    page.get_by_test_id("lessons-open").click()
    choice = page.get_by_test_id(f"lesson-{LESSON}")
    expect(choice).to_contain_text(data["title"][lang])
    expect(choice).to_contain_text(data["summary"][lang])
    choice.click()
    expect(page.get_by_test_id("lessons-dialog")).to_be_hidden()

    shows_step(page, data, 1, lang)
    step_loaded(page, data, 1)
    expect(page.get_by_test_id("lesson-back")).to_be_disabled()
    for k in range(2, n + 1):
        page.get_by_test_id("lesson-next").click()
        shows_step(page, data, k, lang)
        step_loaded(page, data, k)
        if k == 2:
            page.wait_for_timeout(300)  # a few frames, so the screenshot shows training under way
            page.screenshot(path=str(artifacts / f"lesson-{lang}.png"))

    # What the last step asks: the student changes the learning rate; Back loads step n-1 again.
    page.get_by_test_id("learning-rate").select_option("3")
    page.wait_for_function("nnpg.serverConfig().training.learning_rate === 3")
    page.get_by_test_id("lesson-back").click()
    shows_step(page, data, n - 1, lang)
    step_loaded(page, data, n - 1)
    page.get_by_test_id("lesson-next").click()
    shows_step(page, data, n, lang)

    # The server was told every move, in order (answers may trail the clicks: wait for the last).
    expected = [{"lesson_id": LESSON, "step": k} for k in [*range(1, n + 1), n - 1, n]]
    for _ in range(100):
        if len(saved) >= len(expected):
            break
        page.wait_for_timeout(100)
    assert saved == expected

    # Finish closes the lesson and offers the menu again.
    page.get_by_test_id("lesson-next").click()
    expect(page.get_by_test_id("lesson-panel")).to_be_hidden()
    expect(page.get_by_test_id("lessons-dialog")).to_be_visible()
    assert page.evaluate("nnpg.lesson()") is None
    assert "lesson=" not in page.evaluate("location.hash")


def test_switching_language_mid_lesson_keeps_the_step_and_the_session(page: Page, e2e_server: str) -> None:
    data = lesson(e2e_server)
    # A shared link to step 2 (no set-up in it): the page loads step 2's config.
    open_playground(page, e2e_server, f"#lesson={LESSON}&step=2")
    shows_step(page, data, 2, "en")
    step_loaded(page, data, 2)
    session = page.evaluate("nnpg.sessionId()")
    config = page.evaluate("nnpg.serverConfig()")

    page.get_by_test_id("language").select_option("es")
    shows_step(page, data, 2, "es")
    expect(page.get_by_test_id("lessons-open")).to_have_text("Lecciones")
    assert "lang=es" in page.evaluate("location.hash")
    page.get_by_test_id("language").select_option("en")
    shows_step(page, data, 2, "en")
    assert page.evaluate("nnpg.sessionId()") == session
    assert page.evaluate("nnpg.serverConfig()") == config  # the language never touches the set-up


def test_a_reload_comes_back_to_the_step_with_the_students_changes(page: Page, e2e_server: str) -> None:
    data = lesson(e2e_server)
    open_playground(page, e2e_server, f"#lang=es&lesson={LESSON}&step=1")
    shows_step(page, data, 1, "es")
    page.get_by_test_id("lesson-next").click()
    shows_step(page, data, 2, "es")
    step_loaded(page, data, 2)
    page.get_by_test_id("learning-rate").select_option("0.3")
    page.wait_for_function("nnpg.serverConfig().training.learning_rate === 0.3")
    page.wait_for_function("location.hash.includes('lr=0.3')")
    page.reload()
    page.wait_for_function("window.nnpg && window.nnpg.sessionId() && window.nnpg.framesReceived() > 0")
    shows_step(page, data, 2, "es")
    # The URL held the student's own set-up: the reload keeps it instead of loading the step again.
    page.wait_for_function("nnpg.serverConfig().training.learning_rate === 0.3")
    hidden = data["steps"][1]["config"]["network"]["hidden_layers"]
    assert page.evaluate("nnpg.serverConfig().network.hidden_layers") == hidden


def post(url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.load(r)


def test_a_teacher_opens_a_step_for_the_room_and_a_students_panel_follows(page: Page, e2e_server: str) -> None:
    data = lesson(e2e_server)
    k = len(data["steps"])  # the last step: a student's panel must show that exact one
    room = post(f"{e2e_server}/api/rooms", {"name": "Lessons"})
    code, teacher = room["code"], room["teacher_token"]
    page.goto(f"{e2e_server}/#lang=es&room={code}")
    page.get_by_test_id("join-nickname").fill("Ana")
    page.get_by_test_id("join-submit").click()
    page.wait_for_function("window.nnpg && nnpg.sessionId() && nnpg.framesReceived() > 0")
    session = page.evaluate("nnpg.sessionId()")
    expect(page.get_by_test_id("lesson-panel")).to_be_hidden()

    out = post(f"{e2e_server}/api/rooms/{code}/lesson", {"lesson_id": LESSON, "step": k}, teacher)
    assert out["lesson"] == {"lesson_id": LESSON, "step": k}
    shows_step(page, data, k, "es")  # opened by the room message, in the student's language
    config_matches(page, data["steps"][k - 1]["config"])  # the server reset the session to the step
    assert page.evaluate("nnpg.sessionId()") == session

    # The student comes back later by the class link alone (no lesson in the URL): the server says where.
    page.goto("about:blank")  # a real page load (a hash-only goto would stay on the page)
    page.goto(f"{e2e_server}/#lang=es&room={code}")
    page.wait_for_function(f"window.nnpg && nnpg.sessionId() === {json.dumps(session)}")
    shows_step(page, data, k, "es")


def test_a_link_to_an_unknown_lesson_says_so_and_keeps_the_playground(page: Page, e2e_server: str) -> None:
    open_playground(page, e2e_server, "#lesson=no-such-lesson&step=2")
    message = "Could not load the lesson: unknown lesson no-such-lesson"
    expect(page.get_by_role("alert").filter(has_text=message)).to_be_visible()
    expect(page.get_by_test_id("lesson-panel")).to_be_hidden()
    page.wait_for_function("!location.hash.includes('lesson=')")
    assert page.evaluate("nnpg.lesson()") is None


def rest(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", **({"Content-Type": "application/json"} if data else {})}
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.load(r) if r.status != 204 else None


def test_a_play_step_without_a_config_trains_on_from_the_students_weights(page: Page, e2e_server: str) -> None:
    # The perceptron lesson: step 1 lets the student set the weights by hand; step 2 (play, no
    # config of its own) must train from them, not from a reset.
    with urllib.request.urlopen(f"{e2e_server}/api/lessons/perceptron-line", timeout=10) as r:
        steps = json.load(r)["steps"]
    assert steps[1]["play"] and steps[1]["changes"] == {}
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/api/sessions")) as created:
        open_playground(page, e2e_server, "#lesson=perceptron-line&step=1")
    token = created.value.json()["token"]
    config_matches(page, steps[0]["config"])
    session = page.evaluate("nnpg.sessionId()")
    base = f"{e2e_server}/api/sessions/{session}"

    # The course's g(1 + 3x₁ − 2x₂), then two epochs (exact, with the Step button) from it.
    for source, value in ((0, 3.0), (1, -2.0), (None, 1.0)):
        rest("PUT", f"{base}/weights", token, {"layer": 0, "from": source, "to": 0, "value": value})
    page.wait_for_function("nnpg.weight(0, 0, 0) === 3 && nnpg.weight(0, 1, 0) === -2 && nnpg.weight(0, null, 0) === 1")
    for k in (1, 2):
        page.get_by_test_id("step").click()
        page.wait_for_function(f"nnpg.lastFrame().state.epoch === {k}")
    before = rest("GET", f"{base}/history", token)
    assert before["epoch"] == [1, 2]

    page.get_by_test_id("lesson-next").click()
    expect(page.get_by_test_id("lesson-panel")).to_have_attribute("data-step", "2")
    page.wait_for_function("nnpg.sessionState().running && nnpg.lastFrame().state.epoch >= 4")
    page.get_by_test_id("play-pause").click()
    page.wait_for_function("nnpg.lastFrame().state.running === false")
    after = rest("GET", f"{base}/history", token)
    # The same run went on: a reset would have started a new history from other weights.
    assert after["epoch"][:3] == [1, 2, 3]
    assert after["train_loss"][:2] == before["train_loss"]
    assert page.evaluate("nnpg.sessionId()") == session

"""A lesson for the whole class, from the teacher's dashboard: the teacher (one browser context)
picks a lesson and a step and starts it for everyone; two students (contexts of their own) see
their lesson panels open at that step with its set-up loaded, follow when the teacher clicks
Next step, and close when the teacher clicks Stop the lesson. Expectations come from the server's
own lesson (GET /api/lessons/{id}).

Every wait is Playwright's (wait_for_function / expect): no fixed sleeps, no timed assertions.
"""

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

LESSON = "xor-hidden-layer"


def lesson(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/api/lessons/{LESSON}", timeout=10) as r:
        return json.load(r)


def join(page: Page, base: str, code: str, nickname: str) -> None:
    page.goto(f"{base}/#room={code}")
    expect(page.get_by_test_id("join-code")).to_have_value(code)
    page.get_by_test_id("join-nickname").fill(nickname)
    page.get_by_test_id("join-submit").click()
    expect(page.get_by_test_id("room-bar")).to_be_visible()
    page.wait_for_function("window.nnpg && nnpg.sessionId() && nnpg.framesReceived() > 0")


def at_step(page: Page, data: dict[str, Any], k: int) -> None:
    """The student's panel shows step k, and the session holds step k's set-up."""
    n = len(data["steps"])
    config = data["steps"][k - 1]["config"]
    expect(page.get_by_test_id("lesson-panel")).to_have_attribute("data-step", str(k))
    expect(page.get_by_test_id("lesson-title")).to_have_text(data["title"]["en"])
    expect(page.get_by_test_id("lesson-counter")).to_have_text(f"Step {k} of {n}")
    page.wait_for_function(
        """(f) => { const c = nnpg.serverConfig();
                    return c && c.data.dataset === f.data.dataset
                      && JSON.stringify(c.network.hidden_layers) === JSON.stringify(f.network.hidden_layers)
                      && c.network.activation === f.network.activation
                      && c.training.learning_rate === f.training.learning_rate; }""",
        arg=config,
    )
    assert page.evaluate("nnpg.lesson()") == {"lesson_id": LESSON, "step": k, "steps": n}
    # The controls show the step's set-up too.
    expect(page.get_by_test_id("activation")).to_have_value(config["network"]["activation"])
    expect(page.get_by_test_id(f"dataset-{config['data']['dataset']}")).to_have_attribute("aria-checked", "true")


def test_the_teacher_starts_a_lesson_and_steps_it_for_everyone(
    new_page: Callable[[], Page], e2e_server: str, artifacts: Path
) -> None:
    data = lesson(e2e_server)
    n = len(data["steps"])
    assert n >= 2
    # Step 2's set-up differs from step 1's where this test looks, so following it is seen.
    first, second = data["steps"][0]["config"], data["steps"][1]["config"]
    assert (first["network"]["hidden_layers"], first["data"]) != (second["network"]["hidden_layers"], second["data"])

    teacher = new_page()
    teacher.goto(f"{e2e_server}/teacher")
    teacher.get_by_test_id("room-name").fill("Lessons 7C")
    teacher.get_by_test_id("create-room-btn").click()
    expect(teacher.get_by_test_id("dashboard")).to_be_visible()
    code = teacher.get_by_test_id("join-code").inner_text()

    students = [new_page(), new_page()]
    for pg, nickname in zip(students, ["Ana", "Bo"], strict=True):
        join(pg, e2e_server, code, nickname)
        expect(pg.get_by_test_id("lesson-panel")).to_be_hidden()
    teacher.wait_for_function("document.querySelectorAll('[data-testid=student-card]').length === 2")

    # The control: lessons by title in the page's language, steps 1..n, no lesson running yet.
    control = teacher.get_by_test_id("room-lesson")
    expect(control).to_be_visible()
    current = teacher.get_by_test_id("room-lesson-current")
    expect(current).to_have_text("No lesson is running for the room.")
    expect(teacher.get_by_test_id("room-lesson-next")).to_be_hidden()
    choice = teacher.get_by_test_id("room-lesson-choice")
    expect(choice.locator(f"option[value='{LESSON}']")).to_have_text(data["title"]["en"])
    choice.select_option(LESSON)
    expect(teacher.get_by_test_id("room-lesson-step").locator("option")).to_have_count(n)
    teacher.get_by_test_id("room-lesson-step").select_option("1")

    teacher.get_by_test_id("room-lesson-start").click()
    expect(current).to_have_attribute("data-step", "1")
    expect(current).to_have_text(f"Now: “{data['title']['en']}”, step 1 of {n}")
    assert teacher.evaluate("nnpgTeacher.room().lesson") == {"lesson_id": LESSON, "step": 1}
    expect(teacher.get_by_test_id("room-lesson-prev")).to_be_disabled()
    expect(teacher.get_by_test_id("room-lesson-next")).to_be_enabled()
    for pg in students:
        at_step(pg, data, 1)
    teacher.screenshot(path=str(artifacts / "classroom-lesson-dashboard.png"), full_page=True)

    # Next step: both students follow; Previous step is possible now.
    teacher.get_by_test_id("room-lesson-next").click()
    expect(current).to_have_attribute("data-step", "2")
    expect(teacher.get_by_test_id("room-lesson-step")).to_have_value("2")
    expect(teacher.get_by_test_id("room-lesson-prev")).to_be_enabled()
    for pg in students:
        at_step(pg, data, 2)

    # Previous step takes everyone back.
    teacher.get_by_test_id("room-lesson-prev").click()
    expect(current).to_have_attribute("data-step", "1")
    for pg in students:
        at_step(pg, data, 1)

    # Stop the lesson: the room has none; students' panels close, their sessions keep step 1's set-up.
    stop = teacher.get_by_test_id("room-lesson-stop")
    expect(stop).to_be_enabled()
    stop.click()
    expect(current).to_have_text("No lesson is running for the room.")
    expect(current).to_have_attribute("data-step", "")
    assert teacher.evaluate("nnpgTeacher.room().lesson") is None
    expect(stop).to_be_hidden()
    expect(teacher.get_by_test_id("room-lesson-next")).to_be_hidden()
    expect(teacher.get_by_test_id("room-lesson-start")).to_be_enabled()
    for pg in students:
        expect(pg.get_by_test_id("lesson-panel")).to_be_hidden()
        pg.wait_for_function("nnpg.lesson() === null")
        expect(pg.get_by_test_id("room-bar")).to_be_visible()  # still in the room
        assert pg.evaluate("nnpg.serverConfig().network.hidden_layers") == first["network"]["hidden_layers"]
        assert "lesson=" not in pg.evaluate("location.hash")

    # Starting again afterwards opens the panels again.
    teacher.get_by_test_id("room-lesson-start").click()
    expect(current).to_have_attribute("data-step", "1")
    expect(stop).to_be_enabled()
    for pg in students:
        at_step(pg, data, 1)


def test_the_lesson_control_speaks_spanish(new_page: Callable[[], Page], e2e_server: str) -> None:
    data = lesson(e2e_server)
    teacher = new_page()
    teacher.goto(f"{e2e_server}/teacher#lang=es")
    teacher.get_by_test_id("room-name").fill("Clase 3")
    teacher.get_by_test_id("create-room-btn").click()
    expect(teacher.get_by_test_id("room-lesson-start")).to_have_text("Empezar para todos")
    expect(teacher.get_by_test_id("room-lesson-current")).to_have_text("No hay ninguna lección en marcha en el aula.")
    choice = teacher.get_by_test_id("room-lesson-choice")
    expect(choice.locator(f"option[value='{LESSON}']")).to_have_text(data["title"]["es"])
    # A language switch relabels the menu in place.
    teacher.get_by_test_id("language").select_option("en")
    expect(choice.locator(f"option[value='{LESSON}']")).to_have_text(data["title"]["en"])
    expect(teacher.get_by_test_id("room-lesson-start")).to_have_text("Start for everyone")

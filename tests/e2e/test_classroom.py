"""Classroom mode in the browser: one teacher page and three student pages, each in a browser
context of its own (separate storage, as separate people). The teacher opens a room; students
join with the code and a nickname, train, and appear on the dashboard with live thumbnails; the
teacher pushes a set-up, plays and pauses everyone, and a student follows and forks the teacher.

Every wait is Playwright's (wait_for_function / expect): no fixed sleeps, no timed assertions.
"""

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

CARDS = "[...document.querySelectorAll('[data-testid=student-card]')]"


def open_room(teacher: Page, base: str, max_students: int | None = None) -> str:
    teacher.goto(f"{base}/teacher")
    teacher.get_by_test_id("room-name").fill("Physics 4B")
    if max_students is not None:
        teacher.get_by_test_id("room-max").fill(str(max_students))
    teacher.get_by_test_id("lock-training.learning_rate").check()
    teacher.get_by_test_id("create-room-btn").click()
    expect(teacher.get_by_test_id("dashboard")).to_be_visible()
    code = teacher.get_by_test_id("join-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4,12}", code), code
    expect(teacher.get_by_test_id("join-url")).to_have_text(f"{base}/#room={code}")
    return code


def join(page: Page, base: str, code: str, nickname: str) -> None:
    """Open the class link; the join dialog comes up with the code filled in."""
    page.goto(f"{base}/#room={code}")
    expect(page.get_by_test_id("join-dialog")).to_be_visible()
    expect(page.get_by_test_id("join-code")).to_have_value(code)
    page.get_by_test_id("join-nickname").fill(nickname)
    page.get_by_test_id("join-submit").click()


def join_again(page: Page, code: str, nickname: str) -> None:
    """A refused student corrects the code in the dialog that stays open."""
    page.get_by_test_id("join-code").fill(code)
    page.get_by_test_id("join-nickname").fill(nickname)
    page.get_by_test_id("join-submit").click()


def all_students(pages: list[Page], expr: str) -> None:
    for pg in pages:
        pg.wait_for_function(
            f"(() => {{ const s = nnpg.sessionState(); const c = nnpg.serverConfig(); return {expr}; }})()"
        )


def test_teacher_and_three_students(new_page: Callable[[], Page], e2e_server: str, artifacts: Path) -> None:
    teacher = new_page()
    code = open_room(teacher, e2e_server)
    expect(teacher.get_by_test_id("roster-empty")).to_be_visible()

    # Three students join from the start page; the second "Ana" is made unique.
    students = []
    for nickname in ["Ana", "Ana", "Bo"]:
        pg = new_page()
        join(pg, e2e_server, code, nickname)
        expect(pg.get_by_test_id("room-bar")).to_be_visible()
        expect(pg.get_by_test_id("room-bar-name")).to_have_text("Physics 4B")
        pg.wait_for_function("window.nnpg && nnpg.sessionId() && nnpg.framesReceived() > 0")
        students.append(pg)
    expect(students[0].get_by_test_id("room-bar-who")).to_contain_text("Ana")
    expect(students[1].get_by_test_id("room-bar-who")).to_contain_text("Ana 2")
    assert students[0].url.endswith(f"room={code}") or f"room={code}" in students[0].url
    assert len({pg.evaluate("nnpg.sessionId()") for pg in students}) == 3

    # The teacher locked the learning rate: disabled, with a lock, for every student.
    for pg in students:
        expect(pg.get_by_test_id("learning-rate")).to_be_disabled()
        expect(pg.get_by_test_id("lock-badge-training.learning_rate")).to_be_visible()
        expect(pg.get_by_test_id("room-bar-locks")).to_contain_text("1")
    expect(students[0].get_by_test_id("activation")).to_be_enabled()

    # The roster lists all three.
    teacher.wait_for_function(f"{CARDS}.length === 3")
    names = sorted(teacher.get_by_test_id("student-name").all_inner_texts())
    assert names == ["Ana", "Ana 2", "Bo"]

    # Students train; their cards and thumbnails follow (a thumbnail drawn at epoch ≥ 30).
    for pg in students:
        pg.get_by_test_id("play-pause").click()
    for pg in students:
        pg.wait_for_function("nnpg.lastFrame() && nnpg.lastFrame().state.epoch >= 30")
    teacher.wait_for_function(
        f"{CARDS}.every(c => Number(c.querySelector('[data-testid=student-epoch]').dataset.value) >= 30"
        " && Number(c.querySelector('[data-testid=student-thumb]').dataset.epoch ?? -1) >= 30)"
    )
    colours = teacher.evaluate(
        """() => [...document.querySelectorAll('[data-testid=student-thumb]')].map((cv) => {
          const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
          const seen = new Set();
          for (let i = 0; i < d.length; i += 4) seen.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
          return seen.size;
        })"""
    )
    assert len(colours) == 3 and all(n > 4 for n in colours), colours  # a boundary, not a blank square
    expect(teacher.get_by_test_id("leaderboard-row")).to_have_count(3)

    # One student's session in detail, streamed read-only with the teacher's token.
    teacher.get_by_test_id("student-card").filter(has_text="Bo").click()
    expect(teacher.get_by_test_id("detail-name")).to_have_text("Bo")
    teacher.wait_for_function("nnpgTeacher.detailFrames() > 0")
    expect(teacher.get_by_test_id("detail-project")).to_be_visible()
    expect(teacher.get_by_test_id("detail-setup")).to_contain_text("circle")
    teacher.screenshot(path=str(artifacts / "classroom-dashboard.png"), full_page=True)
    students[0].screenshot(path=str(artifacts / "classroom-student.png"))

    # Push a set-up: every student starts over with it.
    teacher.get_by_test_id("push-link").fill(f"{e2e_server}/#dataset=xor&noise=5&hidden=3")
    teacher.get_by_test_id("push-config").click()
    pushed = "c && c.data.dataset === 'xor' && c.data.noise === 5 && c.network.hidden_layers.join() === '3'"
    all_students(students, pushed)
    teacher.wait_for_function("nnpgTeacher.room().config.data.dataset === 'xor'")

    # Play all, then pause all: every student's session follows, and the roster says so.
    teacher.get_by_test_id("play-all").click()
    all_students(students, "s && s.running === true")
    teacher.get_by_test_id("pause-all").click()
    all_students(students, "s && s.running === false")
    for pg in students:
        expect(pg.get_by_test_id("play-pause")).to_have_attribute("aria-pressed", "false")
    teacher.wait_for_function(f"{CARDS}.every(c => c.dataset.running === 'false')")

    # Locks change live: the students' streams carry the room's new locks.
    teacher.get_by_test_id("lock-open").click()
    teacher.get_by_test_id("dash-lock-network.activation").check()
    teacher.get_by_test_id("apply-locks").click()
    expect(teacher.get_by_test_id("locks-line")).to_contain_text("Activation")
    for pg in students:
        expect(pg.get_by_test_id("activation")).to_be_disabled()
        expect(pg.get_by_test_id("learning-rate")).to_be_disabled()
        expect(pg.get_by_test_id("room-bar-locks")).to_contain_text("2")

    # Results as CSV: a row per student.
    with teacher.expect_download() as info:
        teacher.get_by_test_id("download-csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert sorted(r["nickname"] for r in rows) == ["Ana", "Ana 2", "Bo"]
    assert {r["dataset"] for r in rows} == {"xor"}

    # Follow the teacher (read-only, own controls inert), then fork: the teacher's set-up is theirs.
    bo = students[2]
    bo.get_by_test_id("room-follow").click()
    expect(bo.get_by_test_id("follow-view")).to_be_visible()
    bo.wait_for_function("Number(document.querySelector('[data-testid=follow-boundary]').dataset.frames || 0) > 0")
    assert bo.evaluate("document.querySelector('main.columns').inert") is True
    bo.get_by_test_id("follow-fork").click()
    all_students([bo], "c && c.data.dataset === 'circle'")  # the teacher's session: the defaults
    expect(bo.get_by_test_id("follow-view")).to_be_hidden()
    assert bo.evaluate("document.querySelector('main.columns').inert") is False

    # A student's reload brings back the same session and room bar, without asking to join again.
    ana = students[0]
    ana_id = ana.evaluate("nnpg.sessionId()")
    ana.reload()
    ana.wait_for_function("window.nnpg && nnpg.sessionId() && nnpg.framesReceived() > 0")
    assert ana.evaluate("nnpg.sessionId()") == ana_id
    expect(ana.get_by_test_id("room-bar-who")).to_contain_text("Ana")
    expect(ana.get_by_test_id("join-dialog")).to_be_hidden()
    expect(ana.get_by_test_id("learning-rate")).to_be_disabled()

    # A reload keeps the dashboard (the teacher token is in this tab's sessionStorage).
    teacher.reload()
    expect(teacher.get_by_test_id("join-code")).to_have_text(code)
    teacher.wait_for_function(f"{CARDS}.length === 3")


def test_join_refusals_speak_plainly(new_page: Callable[[], Page], e2e_server: str) -> None:
    teacher = new_page()
    code = open_room(teacher, e2e_server, max_students=1)
    expect(teacher.get_by_test_id("room-count")).to_contain_text("0 of 1")
    student = new_page()

    # An unknown code (answered after the server's slow-failure delay).
    join(student, e2e_server, "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY", "Cy")
    expect(student.get_by_test_id("join-error")).to_have_attribute("data-status", "404")
    expect(student.get_by_test_id("join-error")).to_contain_text("no class with that code")

    # A student inside; the room (of one) is full now.
    inside = new_page()
    join(inside, e2e_server, code, "Di")
    expect(inside.get_by_test_id("room-bar")).to_be_visible()

    # A full room.
    join_again(student, code, "Cy")
    expect(student.get_by_test_id("join-error")).to_have_attribute("data-status", "409")
    expect(student.get_by_test_id("join-error")).to_contain_text("This class is full")

    # An expired code: the student inside stays, nobody new comes in.
    teacher.get_by_test_id("expire-code").click()
    teacher.get_by_test_id("expire-code").click()  # the second click confirms
    expect(teacher.get_by_test_id("room-status")).to_have_attribute("data-status", "expired")
    join_again(student, code, "Cy")
    expect(student.get_by_test_id("join-error")).to_have_attribute("data-status", "410")
    expect(student.get_by_test_id("join-error")).to_contain_text("no longer lets new students in")

    # Closing the room: the student inside hears it and keeps a session of their own.
    teacher.get_by_test_id("close-room").click()
    teacher.get_by_test_id("close-room").click()
    expect(teacher.get_by_test_id("room-status")).to_have_attribute("data-status", "closed")
    expect(inside.get_by_test_id("room-bar-status")).to_have_attribute("data-status", "closed")
    expect(inside.get_by_test_id("room-follow")).to_be_hidden()
    join_again(student, code, "Cy")
    expect(student.get_by_test_id("join-error")).to_have_attribute("data-status", "410")
    expect(student.get_by_test_id("join-error")).to_contain_text("This class has ended")


def test_teacher_pushes_own_session_in_spanish(new_page: Callable[[], Page], e2e_server: str) -> None:
    teacher = new_page()
    teacher.goto(f"{e2e_server}/teacher#lang=es")
    expect(teacher.get_by_test_id("create-room-btn")).to_have_text("Abrir el aula")
    teacher.get_by_test_id("room-name").fill("Clase 2")
    teacher.get_by_test_id("create-room-btn").click()
    expect(teacher.get_by_test_id("room-status")).to_have_text("abierta")
    code = teacher.get_by_test_id("join-code").inner_text()

    student = new_page()
    join(student, e2e_server, code, "Eva")
    student.wait_for_function("window.nnpg && nnpg.sessionId() && nnpg.framesReceived() > 0")

    # The teacher sets up their own session in the full playground (a tab opened from the dashboard)...
    with teacher.context.expect_page() as opened:
        teacher.get_by_test_id("open-own").click()
    own = opened.value
    own.wait_for_function("window.nnpg && nnpg.sessionId() && nnpg.framesReceived() > 0")
    assert own.evaluate("nnpg.sessionId()") == teacher.evaluate("nnpgTeacher.room().teacher_session_id")
    expect(own.get_by_test_id("room-bar-who")).to_be_visible()
    expect(own.get_by_test_id("room-follow")).to_be_hidden()
    own.get_by_test_id("activation").select_option("relu")
    own.wait_for_function("nnpg.serverConfig().network.activation === 'relu'")

    # ...and pushes it (an empty link pushes the teacher's own session's set-up).
    teacher.get_by_test_id("push-config").click()
    student.wait_for_function("nnpg.serverConfig().network.activation === 'relu'")

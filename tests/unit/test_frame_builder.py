"""The frame-builder process draws exactly what the publisher thread would, and frames survive its death."""

import asyncio
import os
import pickle
import signal
import threading
from typing import Any

import numpy as np
import pytest
import torch

from nnplayground.config import Settings
from nnplayground.engine import Engine, framebuilder
from nnplayground.engine.framebuilder import RETRY_AFTER, FrameBuilder, FrameBuildError
from nnplayground.engine.framedraw import DrawRequest, FrameDrawer
from nnplayground.engine.group import Group
from nnplayground.engine.publisher import FrameJob, FramePublisher
from nnplayground.engine.session import Session, SessionData
from nnplayground.engine.worker import next_tick_at, tick_period
from nnplayground.frames import decode_frame
from nnplayground.schemas import SessionConfig
from nnplayground.streaming import LoopHandoff

CONFIGS = [
    {},  # TF Playground's default: 2 classes, a sigmoid output
    {"data": {"dataset": "spiral", "classes": 3}, "network": {"hidden_layers": [8, 8], "activation": "relu"}},
    {"problem": "regression"},
    {"data": {"dataset": "iris", "classes": 3}},  # 4 columns: drawn on a plane of their own
]


def watched_request(config: dict[str, Any], sessions: int = 3, neurons: bool = True) -> DrawRequest:
    """A request as the publisher builds it, for `sessions` watched sessions of one group."""
    cfg = SessionConfig.model_validate(config)
    first = Session("s0", cfg, SessionData.build(cfg, 1))
    group = Group(first.key(), torch.device("cpu"))
    watched = []
    for i in range(sessions):
        s = first if i == 0 else Session(f"s{i}", cfg, SessionData.build(cfg, 1))
        group.add(s, s.fresh_row(s.key()), cfg.training.schedule)
        s.watchers.append(object())  # type: ignore[arg-type] - only counted
        if neurons:
            s.neuron_watchers.add(1)
        for epoch in range(1, 40):
            s.history.append(epoch, {"train_loss": 1 / epoch, "test_loss": 2 / epoch})
        watched.append(s)
    engine = Engine(Settings(frame_builder="thread"))
    return engine._frame_job(group, watched).request(100, torch.device("cpu"))


@pytest.fixture(scope="module")
def builder() -> Any:
    b = FrameBuilder()
    assert b.wait_ready(), "the frame-builder process did not start"
    yield b
    b.close()


@pytest.mark.parametrize("config", CONFIGS, ids=["default", "spiral-relu-3", "regression", "iris-plane"])
def test_the_process_draws_the_same_bytes_as_the_thread(builder: FrameBuilder, config: dict[str, Any]) -> None:
    req = watched_request(config)
    local = FrameDrawer(torch.device("cpu")).draw(req)
    before = builder.remote_draws
    remote = builder.draw(req)
    assert builder.remote_draws == before + 1  # drawn by the child, not on this thread
    assert remote == local
    frame = decode_frame(remote[0])
    assert frame.arrays["grid"].shape[-2:] == (100, 100)
    assert "neurons" in frame.arrays
    if config.get("problem") != "regression":
        assert sum(map(sum, frame.header["confusion"]["train"])) == len(req.items[0].labels["train"])  # type: ignore[index]


def test_a_sessions_own_plane_crosses_to_the_child_as_numpy() -> None:
    """On a GPU server a session's own plane (iris: 4 columns) is on the device, which the child may
    not see: like the rows' tensors, it is pickled as numpy and comes back as tensors."""
    req = watched_request(CONFIGS[3], sessions=1)
    planes = req.items[0].planes
    assert planes, "iris is drawn on a plane of its own"
    state = req.__getstate__()
    assert all(isinstance(p, np.ndarray) for p in state["items"][0].planes.values())
    assert req.items[0].planes is planes, "the request itself is left as it was"
    back = pickle.loads(pickle.dumps(req))
    for resolution, plane in planes.items():
        assert isinstance(back.items[0].planes[resolution], torch.Tensor)
        torch.testing.assert_close(back.items[0].planes[resolution], plane, atol=0, rtol=0)


def test_the_child_freezes_its_long_lived_objects(builder: FrameBuilder) -> None:
    builder.refresh_states()
    assert builder.child_freezes >= 1, "the child froze torch's objects before it said ready"


def test_labels_cross_once_and_the_child_keeps_them(builder: FrameBuilder) -> None:
    req = watched_request({}, sessions=2, neurons=False)
    first, sent = builder._wire(req)
    assert all(item.labels is not None for item in first.items)
    assert sent == {item.labels_key for item in req.items}
    builder.draw(req)
    again, sent = builder._wire(req)
    assert all(item.labels is None for item in again.items) and not sent  # the child holds them
    assert builder.draw(req) == FrameDrawer(torch.device("cpu")).draw(req)  # confusions still counted


def test_a_request_the_child_cannot_draw_is_an_error_and_the_child_lives_on(builder: FrameBuilder) -> None:
    req = watched_request({}, sessions=2, neurons=False)
    broken = DrawRequest(req.key, req.resolution, {k: v[:, :1] for k, v in req.params.items()}, req.data, req.items)
    pid = builder.pid
    with pytest.raises(FrameBuildError):
        builder.draw(broken)
    assert builder.pid == pid
    remote = builder.remote_draws
    builder.draw(req)
    assert builder.remote_draws == remote + 1


def test_requests_in_flight_together_each_get_their_own_frames(builder: FrameBuilder) -> None:
    """The publisher sends a job before the last one's frames are read; replies come in order,
    whichever request's frames are asked for first."""
    reqs = [watched_request(cfg, sessions=n, neurons=False) for cfg, n in ((CONFIGS[0], 2), (CONFIGS[1], 3))]
    expected = [FrameDrawer(torch.device("cpu")).draw(r) for r in reqs]
    remote = builder.remote_draws
    first, second = builder.begin(reqs[0]), builder.begin(reqs[1])
    assert first.sent and second.sent and len(builder._inflight) == 2
    assert builder.finish(second) == expected[1]  # reads the first's reply on the way
    assert first.reply is not None and not builder._inflight
    assert builder.finish(first) == expected[0]
    assert builder.remote_draws == remote + 2


def test_labels_sent_before_a_forget_in_flight_are_sent_again(
    builder: FrameBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two requests in flight the second may tell the child to forget its labels: the
    first one's, confirmed only by its reply, must not count as held afterwards."""
    held, forgetting, again = (watched_request({}, sessions=2, neurons=False) for _ in range(3))
    builder.draw(held)
    monkeypatch.setattr(framebuilder, "MAX_LABEL_SETS", len(builder._labels_sent))
    first = builder.begin(again)  # its labels go with it
    monkeypatch.setattr(framebuilder, "MAX_LABEL_SETS", 0)
    second = builder.begin(forgetting)  # over the bound: the child forgets all before drawing it
    monkeypatch.setattr(framebuilder, "MAX_LABEL_SETS", 10_000)
    for d, req in ((first, again), (second, forgetting)):
        assert builder.finish(d) == FrameDrawer(torch.device("cpu")).draw(req)
    assert builder._labels_sent == {item.labels_key for item in forgetting.items}
    assert builder.draw(again) == FrameDrawer(torch.device("cpu")).draw(again)  # its labels went again


def test_asking_for_the_states_reads_the_replies_ahead_of_it(builder: FrameBuilder) -> None:
    """A publisher that stopped with a request in flight leaves its reply unread; an idle
    publisher's state request (its only call) must read past it, not stall behind it."""
    req = watched_request({}, sessions=2, neurons=False)
    orphan = builder.begin(req)
    assert orphan.sent and builder._inflight
    builder.refresh_states()
    assert not builder._inflight and orphan.reply is not None and orphan.reply[0] == "ok"
    assert builder.finish(orphan) == FrameDrawer(torch.device("cpu")).draw(req)


def test_large_requests_in_flight_together_do_not_block_each_other() -> None:
    """The second request was sent while the child was writing the first one's reply: past the
    socket's buffer, each side waited for the other to read, for ever. The child reads requests
    on a thread of its own now."""
    b = FrameBuilder()
    assert b.wait_ready()
    pid = b.pid
    req = watched_request({}, sessions=200)  # with neuron maps: a reply of over a megabyte
    out: list[list[bytes]] = []

    def two_in_flight() -> None:
        first, second = b.begin(req), b.begin(req)
        out.extend([b.finish(first), b.finish(second)])

    t = threading.Thread(target=two_in_flight, daemon=True)
    t.start()
    t.join(60)
    try:
        assert not t.is_alive(), "the server and the child each waited for the other"
        expected = FrameDrawer(torch.device("cpu")).draw(req)
        assert out == [expected, expected] and b.remote_draws == 2
        assert sum(map(len, expected)) > 2**20
    finally:
        if t.is_alive() and pid is not None:
            os.kill(pid, signal.SIGKILL)  # unblocks the thread, so the test run goes on
            t.join(30)
        b.close()


def test_requests_in_flight_when_the_child_dies_are_drawn_here() -> None:
    b = FrameBuilder()
    try:
        assert b.wait_ready()
        reqs = [watched_request({}, sessions=2, neurons=False), watched_request(CONFIGS[1], sessions=1, neurons=False)]
        pid = b.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # it takes the requests in but answers neither
        begun = [b.begin(r) for r in reqs]
        assert all(d.sent for d in begun)
        os.kill(pid, signal.SIGKILL)
        for d, r in zip(reversed(begun), reversed(reqs), strict=True):
            assert b.finish(d) == FrameDrawer(torch.device("cpu")).draw(r)
        assert all(d.lost for d in begun) and b.local_draws == 2 and b.pid is None
    finally:
        b.close()


def test_frames_go_on_when_the_child_dies_and_a_new_one_takes_over() -> None:
    b = FrameBuilder()
    try:
        assert b.wait_ready()
        old = b.pid
        assert old is not None
        os.kill(old, signal.SIGKILL)
        req = watched_request({}, sessions=2, neurons=False)
        expected = FrameDrawer(torch.device("cpu")).draw(req)
        assert b.draw(req) == expected  # drawn here, while the child is gone
        assert b.local_draws == 1
        b._failed_at = -1e9  # no need to wait out RETRY_AFTER in a test
        assert b.wait_ready()
        assert b.pid not in (None, old)
        assert b.draw(req) == expected  # the new child got the labels again
        assert b.remote_draws == 1
    finally:
        b.close()


def test_a_hung_child_is_killed_and_frames_go_on() -> None:
    b = FrameBuilder()
    try:
        assert b.wait_ready()
        hung = b.pid
        assert hung is not None
        os.kill(hung, signal.SIGSTOP)  # alive, but it will never answer
        b.draw_timeout = 0.5
        req = watched_request({}, sessions=2, neurons=False)
        assert b.draw(req) == FrameDrawer(torch.device("cpu")).draw(req)  # drawn here instead
        assert b.local_draws == 1 and b.pid is None
        with open(f"/proc/{hung}/stat") as f:  # killed: a zombie at most, never a stopped process
            assert f.read().split(")")[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        pass  # already reaped: gone, as it should be
    finally:
        b.close()


def test_a_child_that_cannot_start_leaves_frames_drawn_here_and_is_retried_ever_less_often() -> None:
    b = FrameBuilder()
    b.child_main = "raise SystemExit(3)"  # exits before it says it is ready
    try:
        b.start()
        for _ in range(3000):  # bounded: until the failed start is recorded
            if b._retry_after > RETRY_AFTER:
                break
            threading.Event().wait(0.02)
        assert b._retry_after == 2 * RETRY_AFTER and not b.ready
        b.start()  # within the pause: nothing is started
        assert not b._starting
        req = watched_request({}, sessions=2, neurons=False)
        assert b.draw(req) == FrameDrawer(torch.device("cpu")).draw(req)
        assert b.local_draws == 1 and b.remote_draws == 0
    finally:
        b.close()


def test_a_class_shares_the_frame_budget() -> None:
    assert tick_period(framed=10, stream_fps=20, frame_budget=1200) == pytest.approx(1 / 20)
    assert tick_period(framed=100, stream_fps=20, frame_budget=1200) == pytest.approx(100 / 1200)  # 12 frames/s
    assert tick_period(framed=200, stream_fps=20, frame_budget=1200) == pytest.approx(200 / 1200)  # 6 frames/s
    assert tick_period(framed=0, stream_fps=20, frame_budget=1200) == pytest.approx(1 / 20)


def test_ticks_slow_down_to_what_the_publisher_can_draw() -> None:
    # At 2 ms a frame, 100 watched sessions can have 5 frames/s each, not the budget's 12.
    assert tick_period(100, 20, 1200, seconds_per_frame=0.002) == pytest.approx(0.2)
    assert tick_period(100, 20, 1200, seconds_per_frame=0.002, frame_share=0.5) == pytest.approx(0.4)
    assert tick_period(100, 20, 1200, seconds_per_frame=0.0001) == pytest.approx(100 / 1200)  # fast: the budget
    assert tick_period(1, 20, 1200, seconds_per_frame=0.002) == pytest.approx(1 / 20)


class SlowPublisher(FramePublisher):
    """Takes at least 10 ms per frame, as a slow machine's drawing would."""

    def build(self, job: FrameJob) -> list[bytes]:
        threading.Event().wait(0.01 * len(job.sessions))
        return super().build(job)


def test_the_publisher_measures_its_cost_per_frame_and_a_waiting_chunk_is_not_rebuilt() -> None:
    cfg = SessionConfig()
    engine = Engine(Settings(frame_builder="thread"))
    publisher = engine._publisher = SlowPublisher(torch.device("cpu"), 20)
    group = Group(Session("s0", cfg, SessionData.build(cfg, 1)).key(), torch.device("cpu"))
    engine._groups[group.key] = group
    received: list[bytes] = []
    for i in range(3):
        s = Session(f"s{i}", cfg, SessionData.build(cfg, 1))
        group.add(s, s.fresh_row(s.key()), cfg.training.schedule)
        s.running = True
        s.watchers.append(type("W", (), {"frame": lambda self, data: received.append(data)})())
        engine._sessions[s.id] = s
    built = []
    original = engine._frame_job
    engine._frame_job = lambda *a, **kw: built.append(original(*a, **kw)) or built[-1]  # type: ignore[method-assign]
    # The publisher is not started: the first tick's job waits, and the second tick leaves it be.
    assert engine._tick(0.0) == 3 and len(built) == 1 and publisher.waiting((group.key, 0))
    assert engine._tick(0.1) == 3 and len(built) == 1
    assert publisher.seconds_per_frame == 0.0
    publisher.start()
    try:
        for _ in range(500):  # bounded: until the job is drawn
            if len(received) == 3 and publisher.seconds_per_frame:
                break
            threading.Event().wait(0.01)
        assert len(received) == 3 and not publisher.waiting((group.key, 0))
        assert publisher.seconds_per_frame >= 0.01
        engine._tick(0.2)  # drawn: the next tick builds a new job
        assert len(built) == 2
    finally:
        publisher.stop()


def test_frames_that_went_stale_while_queued_are_not_drawn() -> None:
    """A command's urgent frame, or a config event, that went out while a tick's job waited makes
    that session's frame in the job stale: it was drawn and then dropped (a tenth of the frames
    drawn with a class sending commands). Now its row is left out of what is drawn."""
    cfg = SessionConfig()
    engine = Engine(Settings(frame_builder="thread"))
    publisher = engine._publisher  # not started: publish() is called here
    group = Group(Session("s0", cfg, SessionData.build(cfg, 1)).key(), torch.device("cpu"))
    engine._groups[group.key] = group
    received: dict[str, list[bytes]] = {}
    sessions = []
    for i in range(3):
        s = Session(f"s{i}", cfg, SessionData.build(cfg, 1))
        group.add(s, s.fresh_row(s.key()), cfg.training.schedule)
        s.running = True
        keep = received.setdefault(s.id, []).append
        s.watchers.append(type("W", (), {"frame": lambda self, data, keep=keep: keep(data)})())
        engine._sessions[s.id] = s
        sessions.append(s)
    drawn: list[list[str]] = []
    original = publisher.build
    publisher.build = lambda job: drawn.append([m.session.id for m in job.sessions]) or original(job)  # type: ignore[method-assign]

    job = engine._frame_job(group, sessions)
    sessions[1].published_seq = sessions[1].frame_seq + 1  # a newer (urgent) frame went out
    sessions[2].view_version += 1  # a config event went out
    publisher.publish(job)
    assert drawn == [["s0"]] and publisher.stale_undrawn == 2 and publisher.stale_drawn == 0
    assert [sid for sid, frames in received.items() if frames] == ["s0"]
    assert decode_frame(received["s0"][0]).header["seq"] == sessions[0].frame_seq

    job = engine._frame_job(group, sessions[:2])
    for s in sessions[:2]:
        s.published_seq = s.frame_seq  # both went out already: nothing to draw
    publisher.publish(job)
    assert drawn == [["s0"]] and publisher.stale_undrawn == 4
    assert len(received["s0"]) == 1


def test_the_publisher_sends_the_next_job_while_the_builder_draws_the_last(builder: FrameBuilder) -> None:
    """One job at a time, the builder process idled while this thread handed out frames and
    pickled the next request. Now a second job goes out before the first one's frames are read,
    and every frame still reaches its watcher, in each session's order."""
    cfg = SessionConfig()
    publisher = FramePublisher(torch.device("cpu"), 20, builder)
    engine = Engine(Settings(frame_builder="thread"))
    group = Group(Session("s0", cfg, SessionData.build(cfg, 1)).key(), torch.device("cpu"))
    received: list[int] = []
    watched = []
    for i in range(4):
        s = Session(f"s{i}", cfg, SessionData.build(cfg, 1))
        group.add(s, s.fresh_row(s.key()), cfg.training.schedule)
        s.watchers.append(type("W", (), {"frame": lambda self, data: received.append(decode_frame(data).header)})())
        watched.append(s)
    calls: list[str] = []
    begin, finish = builder.begin, builder.finish
    builder.begin = lambda req: calls.append("begin") or begin(req)  # type: ignore[method-assign]
    builder.finish = lambda d: calls.append("finish") or finish(d)  # type: ignore[method-assign]
    try:
        for chunk in range(2):  # queued before the thread starts: both wait for it
            publisher.submit(engine._frame_job(group, watched[2 * chunk : 2 * chunk + 2], chunk))
        publisher.start()
        for _ in range(1000):  # bounded: until both jobs are handed out
            if len(received) == 4:
                break
            threading.Event().wait(0.01)
    finally:
        publisher.stop()
        del builder.begin, builder.finish
    assert calls == ["begin", "begin", "finish", "finish"]
    assert [h["id"] for h in received] == ["s0", "s1", "s2", "s3"] and publisher.published == 4
    assert publisher.seconds_per_frame > 0


def test_calls_handed_from_other_threads_run_on_the_loop_in_order_many_per_wake_up() -> None:
    async def run() -> list[Any]:
        loop = asyncio.get_running_loop()
        handoff = LoopHandoff.of(loop)
        assert LoopHandoff.of(loop) is handoff
        log: list[Any] = []
        done = asyncio.Event()
        wakeups = 0
        original = handoff._run

        def counted() -> None:
            nonlocal wakeups
            wakeups += 1
            original()

        handoff._run = counted  # type: ignore[method-assign]

        def publisher_thread() -> None:
            for i in range(50):
                handoff.call(lambda name, data: log.append((name, data)), "a" if i % 2 else "b", bytes([i]))
            handoff.call(lambda: (log.append("event"), done.set()))

        t = threading.Thread(target=publisher_thread)
        t.start()
        t.join()  # the loop is held meanwhile, so every call is pending when it next runs
        await asyncio.wait_for(done.wait(), 10)
        wakeups_seen.append(wakeups)
        return log

    out: list[Any] = []
    wakeups_seen: list[int] = []
    # A thread of its own: the browser tests' Playwright keeps an event loop running on this one.
    runner = threading.Thread(target=lambda: out.extend(asyncio.run(run())))
    runner.start()
    runner.join(30)
    log = out
    assert log[-1] == "event"
    frames = log[:-1]
    assert [d[0] for _, d in frames] == list(range(50))
    assert {name for name, _ in frames} == {"a", "b"}
    assert np.all([name == ("a" if d[0] % 2 else "b") for name, d in frames])
    assert wakeups_seen == [1]  # one wake-up for the burst, not one per call


def test_urgent_jobs_of_a_group_are_drawn_as_one_keeping_a_sessions_newest_frame() -> None:
    """Commands come one per drain; their frames, queued while the publisher was busy, are drawn
    in one request per group, and a session changed twice is framed once, as it is now."""
    engine = Engine(Settings(frame_builder="thread"))
    publisher = engine._publisher  # not started: jobs wait in its queue
    groups, sessions = {}, {}
    for name, cfg in (("s", SessionConfig()), ("t", SessionConfig.model_validate({"network": {"hidden_layers": [3]}}))):
        for i in range(2):
            s = sessions[f"{name}{i}"] = Session(f"{name}{i}", cfg, SessionData.build(cfg, 1))
            group = groups.setdefault(name, Group(s.key(), torch.device("cpu")))
            group.add(s, s.fresh_row(s.key()), cfg.training.schedule)
            s.watchers.append(object())  # type: ignore[arg-type] - only counted
    jobs = {}
    for label, sid in (("s0 first", "s0"), ("s1", "s1"), ("t0", "t0"), ("s0 again", "s0")):
        s = sessions[sid]
        group = groups[sid[0]]
        group.tensors["W0"][s.row] += 0.5  # the command changed the weights: each job has other rows
        jobs[label] = engine._frame_job(group, [s])
        publisher.submit(jobs[label], urgent=True)
    merged = publisher._next_job()
    assert [m.session.id for m in merged.sessions] == ["s1", "s0"]
    assert merged.sessions[1] is jobs["s0 again"].sessions[0]  # the newer frame, not the first
    for i, label in enumerate(("s1", "s0 again")):
        for name in merged.params:
            torch.testing.assert_close(merged.params[name][i], jobs[label].params[name][0], rtol=0, atol=0)
        for name in merged.data:
            torch.testing.assert_close(merged.data[name][i], jobs[label].data[name][0], rtol=0, atol=0)
    assert publisher._next_job() is jobs["t0"] and not publisher._urgent  # another group: its own job
    together = [decode_frame(f) for f in publisher.build(merged)]
    alone = [decode_frame(publisher.build(jobs[label])[0]) for label in ("s1", "s0 again")]
    for a, b in zip(together, alone, strict=True):
        assert a.header["id"] == b.header["id"] and a.header["seq"] == b.header["seq"]
        assert np.abs(a.arrays["grid"].astype(int) - b.arrays["grid"].astype(int)).max() <= 1


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="POSIX niceness")
def test_the_child_runs_nicer_than_the_server_by_its_setting() -> None:
    b = FrameBuilder()
    b.niceness = 3
    try:
        assert b.wait_ready()
        assert b.pid is not None
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, b.pid) == min(ours + 3, 19)
        req = watched_request({}, sessions=2, neurons=False)
        assert b.draw(req) == FrameDrawer(torch.device("cpu")).draw(req)  # draws as ever
        assert b.remote_draws == 1
    finally:
        b.close()


def test_an_engine_gives_the_shared_builder_its_niceness() -> None:
    shared = FrameBuilder.shared()
    before = shared.niceness
    try:
        Engine(Settings(frame_builder_nice=7))
        assert shared.niceness == 7
        assert Settings().frame_builder_nice == 5  # by default training wins a contended core
    finally:
        shared.niceness = before


def test_stream_ticks_keep_their_cadence_when_they_start_late() -> None:
    period = 0.05
    # Each tick runs up to 8 ms late (a training slice ran past its deadline): still 20 a second.
    deadline, late = 100.0, [0.008, 0.001, 0.0, 0.0079, 0.004] * 20
    for lateness in late:
        deadline = next_tick_at(deadline, deadline + lateness, period, period)
    assert deadline == pytest.approx(100.0 + period * len(late))
    # A tick a whole period late or more (the worker was busy) starts afresh from when it ran.
    assert next_tick_at(100.0, 100.2, period, period) == pytest.approx(100.25)
    assert next_tick_at(100.0, 100.05, period, period) == pytest.approx(100.1)
    # The first tick (deadline 0 at start-up) counts from when it ran.
    assert next_tick_at(0.0, 5000.0, period, period) == pytest.approx(5000.05)
    # The next tick is never due before the one that just ran.
    for lateness in (0.0, 0.01, 0.049, 0.05, 0.3):
        assert next_tick_at(100.0, 100.0 + lateness, period, period) > 100.0 + lateness
    # Paced down below the stream rate (a class), a tick counts from when it ran, late or not.
    assert next_tick_at(100.0, 100.008, 0.1, period) == pytest.approx(100.108)
    assert next_tick_at(100.0, 100.0, 0.1, period) == pytest.approx(100.1)

"""Subscriber: latest-wins frames, must-deliver events in order, thread-safe entry points, closing."""

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocketDisconnect

from nnplayground.streaming import Subscriber, to_json_text


class FakeSocket:
    """Records what a Subscriber sends; `gate` holds sends back, like a client that reads slowly."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.sending = asyncio.Event()  # set once a send has started (and may wait at the gate)
        self.closed_with: tuple[int, str | None] | None = None
        self.fail_with: Exception | None = None

    async def _send(self, item: tuple[str, Any]) -> None:
        self.sending.set()
        if self.fail_with is not None:
            raise self.fail_with
        await self.gate.wait()
        self.sent.append(item)

    async def send_text(self, text: str) -> None:
        await self._send(("json", json.loads(text)))

    async def send_bytes(self, data: bytes) -> None:
        await self._send(("bytes", data))

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed_with = (code, reason)


async def settle(condition: Callable[[], bool]) -> None:
    """Let the loop run until condition holds (a bounded number of turns, no clock involved)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def from_thread(fn: Callable[[], None]) -> None:
    """Run fn on another thread, as the engine's worker would; once this returns, the callbacks
    it scheduled with call_soon_threadsafe have run (they were queued before the thread's result)."""
    await asyncio.to_thread(fn)
    await asyncio.sleep(0)


def run(coro_fn: Callable[[], Any]) -> None:
    """asyncio.run on a thread of its own: other tests (playwright's sync API) may keep an event
    loop running on the main thread, where asyncio.run refuses to start."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro_fn())
        except BaseException as e:  # handed to the test's thread below
            errors.append(e)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def test_a_slow_client_gets_only_the_latest_frame():
    async def main() -> None:
        ws = FakeSocket()
        ws.gate.clear()
        sub = Subscriber(ws)  # type: ignore[arg-type]
        async with sub:
            sub.frame(b"f0")
            await ws.sending.wait()  # f0 is on its way and stuck at the slow client

            def produce() -> None:
                for i in range(1, 11):
                    sub.frame(b"f%d" % i)

            await from_thread(produce)
            ws.gate.set()
            await settle(lambda: len(ws.sent) == 2)
            assert ws.sent == [("bytes", b"f0"), ("bytes", b"f10")]
            assert sub.frames_skipped == 9 and sub.frames_sent == 2

    run(main)


def test_events_are_all_delivered_in_order_and_frames_never_overtake_them():
    async def main() -> None:
        ws = FakeSocket()
        ws.gate.clear()
        sub = Subscriber(ws)  # type: ignore[arg-type]
        async with sub:
            sub.frame(b"f1")
            await ws.sending.wait()

            def produce() -> None:
                sub.event({"type": "config", "n": 1})
                sub.frame(b"f2")
                sub.event({"type": "config", "n": 2})
                sub.frame(b"f3")
                sub.frame(b"f4")
                sub.event({"type": "dataset", "n": 3})
                sub.frame(b"f5")

            await from_thread(produce)
            ws.gate.set()
            await settle(lambda: len(ws.sent) == 7)
            assert ws.sent == [
                ("bytes", b"f1"),
                ("json", {"type": "config", "n": 1}),
                ("bytes", b"f2"),  # made before event 2, so sent before it
                ("json", {"type": "config", "n": 2}),
                ("bytes", b"f4"),  # f3 was replaced by f4 before event 3 came
                ("json", {"type": "dataset", "n": 3}),
                ("bytes", b"f5"),
            ]
            assert sub.frames_skipped == 1

    run(main)


def test_messages_queued_before_start_go_out_first_hello_leading():
    async def main() -> None:
        ws = FakeSocket()
        sub = Subscriber(ws)  # type: ignore[arg-type]
        await from_thread(lambda: (sub.frame(b"early"), sub.event({"type": "config"})))
        sub.send_first([{"type": "hello"}, {"type": "dataset"}])
        async with sub:
            await settle(lambda: len(ws.sent) == 4)
        assert [kind if kind == "bytes" else msg["type"] for kind, msg in ws.sent] == [
            "hello",
            "dataset",
            "bytes",
            "config",
        ]

    run(main)


def test_closed_from_the_worker_closes_the_socket_and_drops_the_rest():
    async def main() -> None:
        ws = FakeSocket()
        ws.gate.clear()
        sub = Subscriber(ws)  # type: ignore[arg-type]
        async with sub:
            sub.frame(b"f0")
            await ws.sending.wait()
            await from_thread(lambda: (sub.event({"type": "config"}), sub.closed(4404, "session deleted")))
            assert sub.closing
            sub.send({"type": "error"})  # too late: nothing but the close goes out
            ws.gate.set()
            await settle(lambda: ws.closed_with is not None)
        assert ws.closed_with == (4404, "session deleted")
        assert ws.sent == [("bytes", b"f0")]

    run(main)


def test_close_reason_is_clipped_to_fit_a_control_frame():
    async def main() -> None:
        ws = FakeSocket()
        async with Subscriber(ws) as sub:  # type: ignore[arg-type]
            sub.close(1009, "é" * 100)
        assert ws.closed_with is not None
        reason = ws.closed_with[1]
        assert reason is not None and len(reason.encode()) <= 123 and reason.startswith("é")

    run(main)


def test_a_client_that_never_reads_events_is_closed_not_buffered_forever():
    async def main() -> None:
        ws = FakeSocket()
        ws.gate.clear()
        async with Subscriber(ws, max_events=5) as sub:  # type: ignore[arg-type]
            sub.send({"type": "config", "n": 0})
            await ws.sending.wait()
            for n in range(1, 10):
                sub.send({"type": "config", "n": n})
            assert sub.closing
            ws.gate.set()
            await settle(lambda: ws.closed_with is not None)
        assert ws.closed_with is not None and ws.closed_with[0] == 1013

    run(main)


def test_a_vanished_client_ends_the_sender_quietly():
    async def main() -> None:
        ws = FakeSocket()
        ws.fail_with = WebSocketDisconnect(1006)
        sub = Subscriber(ws)  # type: ignore[arg-type]
        async with sub:
            sub.frame(b"f0")
            await settle(lambda: sub.closing)
            sub.frame(b"f1")  # the engine may still publish: it must not raise or block
        assert ws.sent == [] and ws.closed_with is None

    run(main)


def test_the_producer_never_waits_for_the_client():
    async def main() -> None:
        ws = FakeSocket()
        ws.gate.clear()
        done = threading.Event()
        async with Subscriber(ws) as sub:  # type: ignore[arg-type]

            def produce() -> None:
                for i in range(5000):
                    sub.frame(b"%d" % i)
                done.set()

            await from_thread(produce)  # would never return if frame() blocked on the client
            assert done.is_set()
            ws.gate.set()
            await settle(lambda: ws.sent and ws.sent[-1] == ("bytes", b"4999"))
            assert len(ws.sent) < 5000

    run(main)


def test_json_text_has_no_nan():
    text = to_json_text({"loss": float("nan"), "values": [1.5, float("inf")], "ok": None})
    assert json.loads(text) == {"loss": None, "values": [1.5, None], "ok": None}
    assert "NaN" not in text and "Infinity" not in text

"""Websocket fuzz against a real server: thousands of malformed, oversized, binary, wrong-typed,
out-of-order and random messages over several connections at once.

Every message the server can read gets an `error` message back (or, for a valid command, none), and the
connection stays open; a message it must not read closes *that* connection with the proper code (1009 over
`max_message_bytes`, 1007 for a text frame that is not UTF-8, 4404 when the session is deleted under it).
Meanwhile another session trains on (its epoch advances, checked over REST) and `/api/health` answers.

Seeded (one `random.Random` per connection), so every run sends the same messages. Messages are sent in
batches; a batch ends with a sentinel command whose error proves that every message before it was read,
so the errors of a batch can be counted exactly (the server runs a connection's commands in order).
"""

import json
import random
import string
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from nnplayground.config import Settings
from nnplayground.frames import decode_frame

SEED = 20261123
CONNECTIONS = 4  # fuzzed at the same time, one session each
MESSAGES_PER_CONNECTION = 750  # 3,000 in all, sentinels not counted
BATCH = (5, 40)  # messages per batch, before the sentinel (or a closing message)
CLOSING_SHARE = 0.12  # share of batches that end with a message or act that closes the connection
RECV_TIMEOUT = 60.0  # only so a bug fails instead of hanging; nothing depends on speed
SMALL = {"data": {"num_points": 40}, "network": {"hidden_layers": [3]}}

Message = str | bytes


# ---- what to send -------------------------------------------------------------------------------------------

def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(7 if depth < 4 else 4)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 1, 2**31, -(2**63), 10**20, 1e308, -1e-308, 0.5])
    if kind == 2:
        return "".join(rng.choices(string.printable + "éλ😀\u0000", k=rng.randrange(0, 20)))
    if kind == 3:
        return rng.uniform(-1e6, 1e6)
    if kind == 4:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    keys = ["type", "config", "data", "network", "training", "epochs", "steps", "x", "", "start", "end"]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(0, 5))}


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


BAD_UPDATES: list[dict[str, Any]] = [
    {"network": {"hidden_layers": [9]}},
    {"network": {"hidden_layers": "4,2"}},
    {"network": {"hidden_layers": [1] * 50}},
    {"network": {"activation": "softmax"}},
    {"training": {"learning_rate": -1}},
    {"training": {"learning_rate": "fast"}},
    {"training": {"optimiser": "sgd"}},
    {"training": {"schedule": {"kind": "warmup"}}},
    {"training": {"stop": {"max_epochs": 0}}},
    {"data": {"num_points": 10**9}},
    {"data": {"num_points": 5}},
    {"data": {"dataset": "plane"}},
    {"problem": "clustering"},
    {"features": []},
    {"colour": "red"},
    {"data": "circle"},
    {"data": {"seed": 2**40}},
]

GOOD_UPDATES: list[dict[str, Any]] = [
    {"training": {"learning_rate": 0.1}},
    {"training": {"learning_rate": 0.01, "regularization": "l2", "regularization_rate": 0.001}},
    {"training": {"optimizer": "adam"}},
    {"network": {"activation": "relu"}},
    {"network": {"hidden_layers": [4, 2]}},
    {"data": {"dataset": "xor", "num_points": 50}},
    {"data": {"noise": 10, "num_points": 40}},
    {"training": {"schedule": {"kind": "cosine", "period": 5}}},
]


def _bad_message(rng: random.Random) -> tuple[str, Message]:
    """(kind, message) for a message the server must answer with an error."""
    kind = rng.choice([
        "malformed JSON", "binary", "wrong type", "unknown command", "extra field", "bad update", "random JSON",
        "deep nesting", "huge number", "invalid lr range test",
    ])
    match kind:
        case "malformed JSON":
            good = json.dumps({"type": "update", "config": rng.choice(GOOD_UPDATES)})
            cut = good[: rng.randrange(0, len(good))]
            text = rng.choice([cut, cut + "}}}", "{'type': 'play'}", "", " ", "\x00", "{\"type\": play}",
                               "".join(rng.choices(string.printable, k=rng.randrange(1, 200)))])
            return kind, text if not _is_json(text) else text + "]"  # a cut plus braces may be whole again
        case "binary":
            return kind, rng.choice([b"", b"\x00", rng.randbytes(rng.randrange(1, 2048)), b'{"type": "play"}'])
        case "wrong type":
            return kind, json.dumps(rng.choice([
                1, "play", None, [], ["play"], True, {"type": 5}, {"type": None}, {"type": ["play"]},
                {"type": "update", "config": "x"}, {"type": "update", "config": [1]},
                {"type": "update", "config": None},
                {"type": "lr_range_test", "steps": "many"},
            ]))
        case "unknown command":
            name = rng.choice(["jump", "PLAY", "Play", " play", "stop", "delete", "train", "",
                               "".join(rng.choices(string.ascii_letters, k=8))])
            return kind, json.dumps({"type": name})
        case "extra field":
            return kind, json.dumps({"type": rng.choice(["play", "pause", "step", "reset"]), "speed": 2})
        case "bad update":
            return kind, json.dumps({"type": "update", "config": rng.choice(BAD_UPDATES)})
        case "random JSON":
            obj = _random_json(rng)
            if isinstance(obj, dict):
                obj.pop("type", None)  # without a type no command is valid
            return kind, json.dumps(obj)
        case "deep nesting":
            n = rng.randrange(2_000, 10_000)  # deeper than Python's recursion limit, under max_message_bytes
            return kind, rng.choice(["[" * n + "]" * n, '{"a":' * n + "1" + "}" * n, "[" * n])
        case "huge number":
            digits = "9" * rng.randrange(4_400, 20_000)  # past Python's 4,300-digit limit on int()
            return kind, '{"type": "update", "config": {"data": {"num_points": ' + digits + "}}}"
        case _:
            return kind, json.dumps({"type": "lr_range_test", "start": 1.0, "end": rng.choice([0.5, 1.0, -1, 10_000])})


def _good_message(rng: random.Random) -> tuple[str, Message]:
    """(kind, message) for a valid command, sent in any order (pause before play, reset mid-run, ...)."""
    command = rng.choice(["play", "pause", "pause", "step", "reset", "update", "update"])
    if command == "update":
        return "valid update", json.dumps({"type": "update", "config": rng.choice(GOOD_UPDATES)})
    return f"valid {command}", json.dumps({"type": command})


# ---- one fuzzed connection ----------------------------------------------------------------------------------

@dataclass
class Tally:
    sent: Counter[str] = field(default_factory=Counter)
    errors_expected: int = 0
    errors_received: int = 0
    closes: Counter[str] = field(default_factory=Counter)
    frames: int = 0
    connections: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, other: "Tally") -> None:
        self.sent += other.sent
        self.errors_expected += other.errors_expected
        self.errors_received += other.errors_received
        self.closes += other.closes
        self.frames += other.frames
        self.connections += other.connections
        self.problems += other.problems


class Fuzzer:
    def __init__(self, base_url: str, settings: Settings, index: int) -> None:
        self.base = base_url
        self.ws_base = base_url.replace("http://", "ws://", 1)
        self.limit = settings.max_message_bytes
        self.rng = random.Random(SEED + index)
        self.http = httpx.Client(base_url=base_url, trust_env=False, timeout=120)
        self.session = self._new_session()
        self.tally = Tally()
        self.sentinels = 0
        self.connected_id = ""

    def _new_session(self) -> dict[str, Any]:
        r = self.http.post("/api/sessions", json=SMALL)
        assert r.status_code == 201, r.text
        return r.json()

    def _connect(self) -> ClientConnection:
        self.tally.connections += 1
        self.connected_id = self.session["id"]
        uri = f"{self.ws_base}/ws/sessions/{self.session['id']}?token={self.session['token']}"
        return connect(uri, compression=None, proxy=None, open_timeout=RECV_TIMEOUT, max_size=None)

    def _read(self, ws: ClientConnection, until: Callable[[dict[str, Any]], bool]) -> int:
        """Read (frames too) until a JSON message satisfies `until`; the errors read on the way, that one included."""
        errors = 0
        for _ in range(100_000):
            message = ws.recv(timeout=RECV_TIMEOUT)
            if isinstance(message, bytes):
                self._check_frame(message)
                continue
            data = json.loads(message)
            if data["type"] == "error":
                errors += 1
                if data["message"].startswith("command failed"):
                    self.tally.problems.append(f"server failure: {data['message'][:200]}")
            if until(data):
                return errors
        raise AssertionError("the awaited message never came")

    def _check_frame(self, raw: bytes) -> None:
        frame = decode_frame(raw)
        self.tally.frames += 1
        if frame.header["type"] != "frame" or frame.header["id"] != self.connected_id:
            self.tally.problems.append(f"unexpected frame header {frame.header}")
        for name, array in frame.arrays.items():
            if not np.isfinite(array).all():
                self.tally.problems.append(f"non-finite values in a frame's {name} section")

    def _read_until_closed(self, ws: ClientConnection) -> tuple[int, str]:
        try:
            for _ in range(100_000):
                message = ws.recv(timeout=RECV_TIMEOUT)
                if isinstance(message, bytes):
                    self._check_frame(message)
        except ConnectionClosed as e:
            if e.rcvd is None:
                return 1006, "no close frame"
            return e.rcvd.code, e.rcvd.reason
        raise AssertionError("the server did not close the connection")

    def run(self, total: int) -> Tally:
        sent = 0
        try:
            while sent < total:
                with self._connect() as ws:
                    sent += self._fuzz_connection(ws, total - sent)
        finally:
            self.http.delete(f"/api/sessions/{self.session['id']}", headers=self._auth())
            self.http.close()
        return self.tally

    def _fuzz_connection(self, ws: ClientConnection, left: int) -> int:
        """Batches of messages on one connection, until one batch ends by closing it (or none are left)."""
        sent = 0
        while sent < left:
            n = min(self.rng.randrange(*BATCH), left - sent)
            expected_errors = 0
            # Out of order on purpose: a fresh connection gets commands before its hello is read.
            for _ in range(n):
                kind, message = _bad_message(self.rng) if self.rng.random() < 0.8 else _good_message(self.rng)
                expected_errors += not kind.startswith("valid")
                self.tally.sent[kind] += 1
                ws.send(message)
            sent += n
            if self.rng.random() < CLOSING_SHARE:
                # Errors still queued when the close comes may be dropped (a close discards what is pending),
                # so this batch's errors are not counted.
                self._close_this_connection(ws)
                return sent
            self.sentinels += 1
            tag = f"sentinel-{self.sentinels}"
            ws.send(json.dumps({"type": tag}))
            got = self._read(ws, lambda d, tag=tag: d["type"] == "error" and tag in d["message"]) - 1
            self.tally.errors_expected += expected_errors
            self.tally.errors_received += got
            if got != expected_errors:
                self.tally.problems.append(f"batch of {n}: {got} errors for {expected_errors} bad messages")
        return sent

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.session['token']}"}

    def _close_this_connection(self, ws: ClientConnection) -> None:
        """End a batch with something that must close this connection, and check the close code."""
        way = self.rng.choice(["oversized text", "oversized binary", "fragmented oversized", "not UTF-8",
                               "session deleted", "client closes"])
        self.tally.sent[way] += 1
        size = self.limit + 1 + self.rng.randrange(0, self.limit)
        expected = {"oversized text": 1009, "oversized binary": 1009, "fragmented oversized": 1009, "not UTF-8": 1007,
                    "session deleted": 4404}.get(way)
        try:
            match way:
                case "oversized text":
                    ws.send(json.dumps({"type": "update", "config": {"pad": "x" * size}}))
                case "oversized binary":
                    ws.send(self.rng.randbytes(size))
                case "fragmented oversized":
                    ws.send(iter(["x" * 4096] * (size // 4096 + 1)))
                case "not UTF-8":
                    ws.send(b'{"type": "play", "x": "\xff\xfe"}', text=True)
                case "session deleted":
                    r = self.http.delete(f"/api/sessions/{self.session['id']}", headers=self._auth())
                    assert r.status_code == 204, r.text
                    self.session = self._new_session()
                case _:
                    ws.close()
                    self.tally.closes["by the client"] += 1
                    return
        except ConnectionClosed:
            pass  # the server closed while the message was still going out (a long fragmented one)
        code, reason = self._read_until_closed(ws)
        self.tally.closes[str(code)] += 1
        if code != expected:
            self.tally.problems.append(f"{way}: closed with {code} {reason!r}, expected {expected}")


# ---- the test -------------------------------------------------------------------------------------------------

@pytest.fixture
def http(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, trust_env=False, timeout=60) as c:
        yield c


def test_fuzzed_websockets_get_errors_or_a_proper_close_while_another_session_trains(
    live_server: str, live_settings: Settings, http: httpx.Client
) -> None:
    r = http.post("/api/sessions", json={"data": {"num_points": 200}})
    assert r.status_code == 201, r.text
    trainer = r.json()
    auth = {"Authorization": f"Bearer {trainer['token']}"}
    url = f"/api/sessions/{trainer['id']}"
    assert http.post(f"{url}/play", headers=auth).json()["state"]["running"] is True
    before = http.get(url, headers=auth).json()["state"]["epoch"]
    try:
        fuzzers = [Fuzzer(live_server, live_settings, i) for i in range(CONNECTIONS)]
        with ThreadPoolExecutor(CONNECTIONS) as pool:
            tallies = list(pool.map(lambda f: f.run(MESSAGES_PER_CONNECTION), fuzzers))
        tally = Tally()
        for t in tallies:
            tally.add(t)
        mid = http.get(url, headers=auth).json()["state"]
        # Training went on meanwhile: the epoch advanced, and it is still running.
        assert mid["running"] is True and mid["epoch"] > before, (before, mid)
        assert http.get("/api/health").json()["status"] == "ok"
    finally:
        http.delete(url, headers=auth)
    total = sum(tally.sent.values())
    valid = sum(n for kind, n in tally.sent.items() if kind.startswith("valid"))
    closing = sum(tally.closes.values())
    print(
        f"\nwebsocket fuzz: {total} messages over {tally.connections} connections ({CONNECTIONS} at a time): "
        f"{total - valid - closing} bad, {valid} valid commands in any order, {closing} that end a connection; "
        f"{tally.errors_expected} bad messages in batches closed by a sentinel, each answered with exactly one "
        f"error; closes by code {dict(tally.closes)}; {tally.frames} frames decoded; "
        f"trainer epoch {before} -> {mid['epoch']}"
    )
    for kind, n in sorted(tally.sent.items()):
        print(f"  {kind:24s} {n}")
    assert not tally.problems, tally.problems[:20]
    assert tally.errors_received == tally.errors_expected
    assert total >= CONNECTIONS * MESSAGES_PER_CONNECTION
    assert sum(tally.closes.values()) > 0 and set(tally.closes) >= {"1009", "1007", "4404"}

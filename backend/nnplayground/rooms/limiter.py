"""Join attempts per client address and minute: a sliding window, in memory."""

import threading
import time
from collections import deque


class AttemptLimiter:
    """Counts failed attempts per address over the last `window` seconds. Thread-safe."""

    def __init__(self, per_window: int, window: float = 60.0) -> None:
        self.per_window = per_window
        self.window = window
        self._attempts: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._attempts.setdefault(address, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def blocked(self, address: str) -> float | None:
        """Seconds until the address may try again, or None if it may now."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(address, now)
            if len(times) < self.per_window:
                return None
            return times[0] + self.window - now

    def failed(self, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(address, now).append(now)
            if len(self._attempts) > 10_000:  # forget quiet addresses so the table stays small
                for key in [k for k, v in self._attempts.items() if not v]:
                    del self._attempts[key]

"""Who may drive which session: session id -> token hash, owner address and last activity.

Config and state live in the engine; this only answers "is this caller allowed", "how many
sessions does this client hold" and "which sessions are idle", so the API can enforce tokens,
session limits and expiry. Only sha256 digests of tokens are kept (here and in the store): a
leaked database or memory dump does not hand out working tokens.
"""

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from ..store import random_id


class RegistryFull(Exception):
    """A session limit (server-wide or per client) is reached; the message says which."""


def hash_token(token: str) -> str:
    """The sha256 hex digest stored in place of a token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_matches_hash(token_hash: str, token: str) -> bool:
    """Constant-time comparison of digests, so response timing does not leak the token."""
    return secrets.compare_digest(token_hash.encode(), hash_token(token).encode())


@dataclass(frozen=True)
class SessionEntry:
    id: str
    token_hash: str
    client: str


class SessionRegistry:
    """Session ids, their token hashes, owners and activity. Thread-safe."""

    def __init__(self) -> None:
        self._entries: dict[str, SessionEntry] = {}
        self._activity: dict[str, float] = {}  # Unix seconds of the last REST call or stream event
        self._streams: dict[str, int] = {}  # open websockets per session: a watched session is active
        self._lock = threading.Lock()

    def reserve(self, client: str, max_sessions: int, max_per_client: int) -> tuple[SessionEntry, str]:
        """Claim a new id and token for `client` (the token is returned once, never kept), or raise
        RegistryFull.

        Reserving before the engine creates the session means concurrent creates cannot
        overshoot a limit; call `remove` if creation then fails.
        """
        with self._lock:
            if len(self._entries) >= max_sessions:
                raise RegistryFull(f"the server holds its maximum of {max_sessions} sessions; try again later")
            held = sum(1 for e in self._entries.values() if e.client == client)
            if held >= max_per_client:
                raise RegistryFull(
                    f"client {client} holds its maximum of {max_per_client} sessions; delete one first"
                )
            session_id = random_id()
            while session_id in self._entries:  # 72 random bits: a clash is only a formality
                session_id = random_id()
            token = secrets.token_urlsafe(32)
            entry = SessionEntry(id=session_id, token_hash=hash_token(token), client=client)
            self._entries[session_id] = entry
            self._activity[session_id] = time.time()
            return entry, token

    def add(self, entry: SessionEntry, last_activity: float | None = None) -> None:
        """Register a session whose token hash is already known (one restored from storage)."""
        with self._lock:
            self._entries[entry.id] = entry
            self._activity[entry.id] = time.time() if last_activity is None else last_activity

    def get(self, session_id: str) -> SessionEntry | None:
        with self._lock:
            return self._entries.get(session_id)

    def remove(self, session_id: str) -> None:
        with self._lock:
            self._entries.pop(session_id, None)
            self._activity.pop(session_id, None)

    def entries(self) -> list[SessionEntry]:
        with self._lock:
            return list(self._entries.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, session_id: object) -> bool:
        with self._lock:
            return session_id in self._entries

    # ---- activity ------------------------------------------------------------------------------

    def touch(self, session_id: str) -> None:
        """The session was just used (an authorised REST call or websocket)."""
        with self._lock:
            if session_id in self._entries:
                self._activity[session_id] = time.time()

    def stream_opened(self, session_id: str) -> None:
        with self._lock:
            self._streams[session_id] = self._streams.get(session_id, 0) + 1

    def stream_closed(self, session_id: str) -> None:
        with self._lock:
            left = self._streams.get(session_id, 0) - 1
            if left > 0:
                self._streams[session_id] = left
            else:
                self._streams.pop(session_id, None)
            if session_id in self._entries:
                self._activity[session_id] = time.time()  # idle time counts from the disconnect

    def last_activity(self, session_id: str) -> float | None:
        """Unix seconds of the last use; now while a websocket is open."""
        with self._lock:
            if self._streams.get(session_id):
                return time.time()
            return self._activity.get(session_id)

    def activity(self) -> dict[str, float]:
        """Every session's last use (now for those with an open websocket)."""
        with self._lock:
            now = time.time()
            return {sid: now if self._streams.get(sid) else t for sid, t in self._activity.items()}

    def idle(self, older_than: float) -> list[str]:
        """Sessions with no open websocket whose last use was before `older_than` (Unix seconds)."""
        with self._lock:
            return [
                sid for sid, t in self._activity.items()
                if t < older_than and not self._streams.get(sid) and sid in self._entries
            ]

    @staticmethod
    def token_matches(entry: SessionEntry, token: str) -> bool:
        """Constant-time comparison of sha256 digests, so response timing does not leak the token."""
        return token_matches_hash(entry.token_hash, token)

"""Who may drive which session: session id -> token and the client address that created it.

Config and state live in the engine; this only answers "is this caller allowed" and "how many
sessions does this client hold", so the API can enforce tokens and session limits.
"""

import secrets
import threading
from dataclasses import dataclass


class RegistryFull(Exception):
    """A session limit (server-wide or per client) is reached; the message says which."""


@dataclass(frozen=True)
class SessionEntry:
    id: str
    token: str
    client: str


class SessionRegistry:
    """Session ids, their tokens and owners. Thread-safe, though the API uses it from one loop."""

    def __init__(self) -> None:
        self._entries: dict[str, SessionEntry] = {}
        self._lock = threading.Lock()

    def reserve(self, client: str, max_sessions: int, max_per_client: int) -> SessionEntry:
        """Claim a new id and token for `client`, or raise RegistryFull.

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
            session_id = secrets.token_urlsafe(9)
            while session_id in self._entries:  # 72 random bits: a clash is only a formality
                session_id = secrets.token_urlsafe(9)
            entry = SessionEntry(id=session_id, token=secrets.token_urlsafe(32), client=client)
            self._entries[session_id] = entry
            return entry

    def add(self, entry: SessionEntry) -> None:
        """Register a session whose token is already known (e.g. one restored from storage)."""
        with self._lock:
            self._entries[entry.id] = entry

    def get(self, session_id: str) -> SessionEntry | None:
        with self._lock:
            return self._entries.get(session_id)

    def remove(self, session_id: str) -> None:
        with self._lock:
            self._entries.pop(session_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, session_id: object) -> bool:
        with self._lock:
            return session_id in self._entries

    @staticmethod
    def token_matches(entry: SessionEntry, token: str) -> bool:
        """Constant-time comparison, so response timing does not leak the token."""
        return secrets.compare_digest(entry.token.encode(), token.encode())

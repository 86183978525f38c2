"""RoomService: every classroom room of the server, who may do what in it, and its storage.

A room is a teacher session plus ordinary student sessions (same engine, same persistence, each
owned by its student's token). The service keeps rooms in memory and writes each change to the
store (rooms, room_students), so rooms come back after a restart with their sessions. It runs on
the event loop only; the engine is reached through its futures, the disk through threads.

Per-address limits: a lecture hall often shares one public address, so student sessions are
registered under the client label "room:<code>" and counted against the room's max_students,
not against max_sessions_per_client of the address. Join attempts that name an unknown code
count per address (join_attempts_per_minute) and answer slowly; joins with a valid code do not.
"""

import asyncio
import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from ..api.registry import RegistryFull, SessionEntry, SessionRegistry, hash_token, token_matches_hash
from ..config import Settings
from ..engine import Engine
from ..persistence import Persistence
from ..schemas import SessionConfig, SessionState
from ..store import Store
from .codes import new_code, normalize
from .limiter import AttemptLimiter
from .locks import ControlLocked, locked_change, locked_own_data, unknown_controls
from .model import Room, Student
from .schemas import RoomCreate

log = logging.getLogger(__name__)


class RoomError(Exception):
    """A room request refused: `status` is the REST code, `close_code` the websocket one."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def close_code(self) -> int:
        return 4000 + self.status


class Listener(Protocol):
    """A student's session stream (streaming.Subscriber): gets `room` messages."""

    def send(self, message: dict[str, Any]) -> None: ...


class RoomService:
    def __init__(
        self, settings: Settings, engine: Engine, registry: SessionRegistry, persistence: Persistence, store: Store
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.registry = registry
        self.persistence = persistence
        self.store = store
        self.rooms: dict[str, Room] = {}
        self._student_rooms: dict[str, str] = {}  # student session id -> code
        self._teacher_rooms: dict[str, str] = {}  # teacher session id -> code
        self._listeners: dict[str, set[Listener]] = {}  # student session id -> its open streams
        self.attempts = AttemptLimiter(settings.join_attempts_per_minute)
        self._save_lock = asyncio.Lock()

    # ---- start-up and storage ----------------------------------------------------------------

    async def restore(self) -> int:
        """Rooms from the store; students whose sessions did not come back are dropped."""
        for code, data, students in await asyncio.to_thread(self.store.load_rooms):
            try:
                room = Room.from_record(code, data, students)
            except (KeyError, ValueError) as e:
                log.warning("room %s cannot be restored (%s); skipped", code, e)
                continue
            room.students = {sid: s for sid, s in room.students.items() if sid in self.registry}
            self._index(room)
        return len(self.rooms)

    def _index(self, room: Room) -> None:
        self.rooms[room.code] = room
        self._teacher_rooms[room.teacher_session_id] = room.code
        for sid in room.students:
            self._student_rooms[sid] = room.code

    async def save(self, room: Room) -> None:
        """Write the room as it is now (the snapshot is taken under the lock: the last write wins)."""
        async with self._save_lock:
            students = [(s.session_id, s.nickname, s.joined_at) for s in room.students.values()]
            await asyncio.to_thread(self.store.save_room, room.code, room.record(), students)

    # ---- lookup and authorisation ------------------------------------------------------------

    async def find(self, code: str, client: str) -> Room:
        """The room of `code`; an unknown code counts against the address and answers slowly."""
        wait = self.attempts.blocked(client)
        if wait is not None:
            raise RoomError(429, f"too many attempts with unknown codes; try again in {wait:.0f} s")
        normal = normalize(code)
        room = self.rooms.get(normal) if normal else None
        if room is None:
            self.attempts.failed(client)
            await asyncio.sleep(self.settings.join_failure_delay_seconds)
            raise RoomError(404, f"no room with code {code[:12]}")
        return room

    async def as_teacher(self, code: str, token: str | None, client: str) -> Room:
        if not token:
            raise RoomError(401, "missing token")
        room = await self.find(code, client)
        if not token_matches_hash(room.token_hash, token):
            raise RoomError(403, "wrong token: not this room's teacher token")
        return room

    async def as_student(self, code: str, token: str | None, client: str) -> tuple[Room, Student]:
        if not token:
            raise RoomError(401, "missing token")
        room = await self.find(code, client)
        student = self.student_of(room, token)
        if student is None:
            raise RoomError(403, "wrong token: not a student of this room")
        return room, student

    def student_of(self, room: Room, token: str) -> Student | None:
        """The student whose session token this is, in `room`."""
        digest = hash_token(token).encode()  # hashed once, compared in constant time with each
        for student in room.students.values():
            entry = self.registry.get(student.session_id)
            if entry is not None and secrets.compare_digest(entry.token_hash.encode(), digest):
                return student
        return None

    def room_of_student(self, session_id: str) -> Room | None:
        """The live room (open or expired) this session is a student of."""
        room = self.rooms.get(self._student_rooms.get(session_id, ""))
        return room if room is not None and room.live and session_id in room.students else None

    def may_read(self, session_id: str, token: str) -> bool:
        """May this token, not the session's own, watch it read-only? The teacher any session of
        the room; a student the room's teacher session (follow mode). Only in live rooms."""
        room = self.room_of_student(session_id)
        if room is not None and token_matches_hash(room.token_hash, token):
            return True
        room = self.rooms.get(self._teacher_rooms.get(session_id, ""))
        return room is not None and room.live and self.student_of(room, token) is not None

    def check_change(self, session_id: str, old: SessionConfig, new: SessionConfig) -> None:
        """ControlLocked if a student of a live room changes a control its teacher locked."""
        room = self.room_of_student(session_id)
        if room is not None:
            label = locked_change(old, new, room.locked)
            if label is not None:
                raise ControlLocked(label)

    def check_own_data(self, session_id: str, old: SessionConfig, problem: str | None = None) -> None:
        """ControlLocked if a student of a live room draws points or uploads data under a data lock."""
        room = self.room_of_student(session_id)
        if room is not None:
            label = locked_own_data(old, room.locked, problem)
            if label is not None:
                raise ControlLocked(label)

    # ---- create and join ---------------------------------------------------------------------

    def live_rooms(self) -> int:
        return sum(1 for r in self.rooms.values() if r.live)

    async def close_abandoned(self) -> list[str]:
        """Close live rooms whose teacher session and every student session are gone (expired or
        deleted), so forgotten rooms do not hold the server's max_rooms forever."""
        closed = []
        for room in [r for r in self.rooms.values() if r.live]:
            self.prune(room)
            if not room.students and room.teacher_session_id not in self.registry:
                room.status = "closed"
                await self.save(room)
                closed.append(room.code)
        return closed

    async def create(self, body: RoomCreate, config: SessionConfig, client: str) -> tuple[Room, str]:
        """A new room and its teacher session; the session's token is the teacher token."""
        unknown = unknown_controls(body.locked)
        if unknown:
            raise RoomError(422, f"unknown controls {unknown}; see the catalog's controls")
        limit = self.settings.max_students_per_room
        if body.max_students is not None and body.max_students > limit:
            raise RoomError(422, f"max_students must be 1 to {limit} (got {body.max_students})")
        if self.live_rooms() >= self.settings.max_rooms:
            await self.close_abandoned()
        if self.live_rooms() >= self.settings.max_rooms:
            raise RoomError(429, f"the server holds its maximum of {self.settings.max_rooms} rooms; try again later")
        try:
            entry, token, _ = await self.persistence.open_session(client, None, config)
        except RegistryFull as e:
            raise RoomError(429, str(e)) from None
        room = Room(
            code=new_code(self.rooms), name=body.name, token_hash=entry.token_hash, teacher_session_id=entry.id,
            config=config, locked=list(dict.fromkeys(body.locked)), max_students=body.max_students or limit,
            allow_projector=body.allow_projector,
        )
        self._index(room)
        await self.save(room)
        return room, token

    async def join(self, room: Room, nickname: str) -> tuple[Student, str, SessionState]:
        """A new student session from the room's config, under a nickname made unique."""
        if room.status == "closed":
            raise RoomError(410, "this room is closed")
        if room.status == "expired":
            raise RoomError(410, "the teacher closed this code to new students")
        if len(room.students) >= room.max_students:
            raise RoomError(409, f"the room is full ({room.max_students} students)")
        s = self.settings
        try:
            entry, token = self.registry.reserve(f"room:{room.code}", s.max_sessions, room.max_students + 1)
        except RegistryFull as e:
            raise RoomError(429, str(e)) from None
        # Added before the first await: concurrent joins see the seat and the nickname as taken.
        student = Student(entry.id, room.nickname_for(nickname), time.time())
        room.students[entry.id] = student
        self._student_rooms[entry.id] = room.code
        try:
            state = await asyncio.wrap_future(self.engine.create_session(entry.id, room.config))
            await self.persistence.save_now(entry.id)
        except BaseException:
            self._forget_student(room, entry)
            raise
        await self.save(room)
        return student, token, state

    def _forget_student(self, room: Room, entry: SessionEntry) -> None:
        room.students.pop(entry.id, None)
        self._student_rooms.pop(entry.id, None)
        self.registry.remove(entry.id)
        self.engine.delete_session(entry.id)  # in case it was created before a cancellation

    def prune(self, room: Room) -> None:
        """Forget students whose sessions are gone (deleted by their owner, or expired)."""
        for sid in [sid for sid in room.students if sid not in self.registry]:
            del room.students[sid]
            self._student_rooms.pop(sid, None)

    # ---- room messages to students -----------------------------------------------------------

    @contextmanager
    def listening(self, session_id: str, listener: Listener) -> Iterator[None]:
        """While open, a student's stream gets the room's `room` messages (none for other sessions)."""
        if session_id not in self._student_rooms:
            yield
            return
        self._listeners.setdefault(session_id, set()).add(listener)
        try:
            room = self.room_of_student(session_id)
            if room is not None:
                listener.send(room.room_message())
            yield
        finally:
            listeners = self._listeners.get(session_id)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del self._listeners[session_id]

    def broadcast(self, room: Room, message: dict[str, Any] | None = None) -> int:
        """Send a message (default: the room's `room` message) to every open student stream of the
        room; returns how many streams got it."""
        message = message if message is not None else room.room_message()
        sent = 0
        for sid in room.students:
            for listener in self._listeners.get(sid, ()):
                listener.send(message)
                sent += 1
        return sent

    async def changed(self, room: Room) -> None:
        """Store the room and tell its students (after a change of locks, status or lesson)."""
        await self.save(room)
        self.broadcast(room)

"""The store's SQLite schema: numbered migrations and the transaction helper (store.py uses them).

Each migration takes the database from version i to i + 1 inside one transaction. Never edit a
released one: append a new function instead, so databases written by any older version open.
"""

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


def _v1_initial(db: sqlite3.Connection) -> None:
    """First schema: sessions (config, state, where the weights are) and run history (no weights)."""
    db.execute("""CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL,          -- sha256 hex of the session token; never the token
        client TEXT NOT NULL,              -- address that created it (per-client limits)
        config TEXT NOT NULL,              -- SessionConfig JSON
        state TEXT NOT NULL,               -- progress summary JSON (epoch, losses, ...)
        created REAL NOT NULL,             -- Unix seconds
        updated REAL NOT NULL,
        last_activity REAL NOT NULL,
        checkpoint TEXT                    -- path under data_dir, NULL when dropped for space
    )""")
    db.execute("""CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        config TEXT NOT NULL,
        metrics TEXT NOT NULL,             -- final state summary JSON
        epochs INTEGER NOT NULL,
        created REAL NOT NULL
    )""")


def _v2_reopenable_runs(db: sqlite3.Connection) -> None:
    """Runs keep their weights and owner (so they can be reopened, even after the session is gone);
    sessions remember their init count (so an autosave can tell that a run ended in a reset)."""
    db.execute("ALTER TABLE sessions ADD COLUMN init_count INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE runs ADD COLUMN token_hash TEXT")
    db.execute("ALTER TABLE runs ADD COLUMN reason TEXT NOT NULL DEFAULT 'ended'")
    db.execute("ALTER TABLE runs ADD COLUMN checkpoint TEXT")
    # Which run of its session this was: a run ended by a REST reset is recorded at once, and the
    # autosave that later notices the same reset must not record it again (NULLs never clash).
    db.execute("ALTER TABLE runs ADD COLUMN init_count INTEGER")
    db.execute("UPDATE runs SET token_hash = (SELECT token_hash FROM sessions WHERE sessions.id = runs.session_id)")
    db.execute("CREATE INDEX runs_by_session ON runs(session_id, created)")
    db.execute("CREATE UNIQUE INDEX runs_once ON runs(session_id, init_count)")
    db.execute("CREATE INDEX sessions_by_activity ON sessions(last_activity)")


def _v3_rooms(db: sqlite3.Connection) -> None:
    """Classroom rooms (rooms/) and who joined them; the students' sessions are ordinary sessions."""
    db.execute("""CREATE TABLE rooms (
        code TEXT PRIMARY KEY,             -- the join code
        data TEXT NOT NULL,                -- the room as JSON (rooms/model.py Room.record), token hash only
        updated REAL NOT NULL
    )""")
    db.execute("""CREATE TABLE room_students (
        session_id TEXT PRIMARY KEY,
        code TEXT NOT NULL,
        nickname TEXT NOT NULL,
        joined_at REAL NOT NULL
    )""")
    db.execute("CREATE INDEX room_students_by_room ON room_students(code, joined_at)")


def _v4_lesson_progress(db: sqlite3.Connection) -> None:
    """Where each session stands in a lesson (lessons/): one row per session, gone with the session."""
    db.execute("""CREATE TABLE lesson_progress (
        session_id TEXT PRIMARY KEY,
        lesson_id TEXT NOT NULL,
        step INTEGER NOT NULL,             -- counts from 1
        updated REAL NOT NULL
    )""")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _v1_initial, _v2_reopenable_runs, _v3_rooms, _v4_lesson_progress,
]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(db: sqlite3.Connection) -> int:
    """The version a database is at (0 for a new, empty one)."""
    db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = db.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(db: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Apply the migrations from the database's version up to `target`; returns the version reached."""
    version = schema_version(db)
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"the database is at schema version {version}, newer than this nnplayground knows ({SCHEMA_VERSION}); "
            "upgrade nnplayground or use another data directory"
        )
    for index in range(version, target):
        with transaction(db):
            MIGRATIONS[index](db)
            db.execute("DELETE FROM schema_version")
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (index + 1,))
        log.info("store: migrated the database to schema version %d", index + 1)
    return max(version, target)


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error (the connection is in autocommit mode)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")

"""Persistence: sessions and run history in SQLite (WAL), weights as `torch.save` checkpoint files.

Layout under `data_dir`:

    nnplayground.sqlite3 (+ -wal, -shm)   sessions, runs, schema_version
    checkpoints/<session id>.pt           the latest autosave of a live session
    checkpoints/runs/<run id>.pt          the weights a past run ended with

Checkpoint files are written to a temporary name, flushed and renamed over the old one
(`os.replace` is atomic), so a crash at any moment leaves the old file or the new one, never half
of either; they are read back with `torch.load(..., weights_only=True)`. Tokens are never stored,
only their sha256. Every method takes one lock around one shared connection, so the store can be
used from any thread (the app calls it through `asyncio.to_thread`).
"""

import json
import logging
import os
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .store_schema import MIGRATIONS, SCHEMA_VERSION, migrate, schema_version, transaction

log = logging.getLogger(__name__)

DB_NAME = "nnplayground.sqlite3"
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # ids become file names: nothing else is allowed
# The parts of a checkpoint's progress that make up a session's (or run's) state summary.
STATE_FIELDS = (
    "epoch", "step", "train_loss", "test_loss", "validation_loss", "train_accuracy", "test_accuracy",
    "validation_accuracy", "best_epoch", "stop_reason",
)
__all__ = [
    "MIGRATIONS", "SCHEMA_VERSION", "RunRecord", "SaveItem", "SessionRecord", "Store", "migrate", "random_id",
    "schema_version",
]


def random_id() -> str:
    """12 URL-safe characters (72 random bits), never starting with "-": a spreadsheet reads such
    a cell as a formula (the results CSV then escapes it, and the id no longer matches) and a
    command line as an option."""
    while (value := secrets.token_urlsafe(9)).startswith("-"):
        pass
    return value


# ---- records ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRecord:
    id: str
    token_hash: str
    client: str
    config: dict[str, Any]
    state: dict[str, Any]
    init_count: int
    created: float
    updated: float
    last_activity: float
    checkpoint: str | None


@dataclass(frozen=True)
class RunRecord:
    id: str
    session_id: str
    token_hash: str | None
    config: dict[str, Any]
    metrics: dict[str, Any]
    epochs: int
    reason: str
    created: float
    checkpoint: str | None

    def public(self) -> dict[str, Any]:
        """What the API shows of a run (no token hash, no file path)."""
        return {
            "id": self.id, "session_id": self.session_id, "config": self.config, "metrics": self.metrics,
            "epochs": self.epochs, "reason": self.reason, "created": self.created,
            "has_weights": self.checkpoint is not None,
        }


@dataclass(frozen=True)
class SaveItem:
    """One session to autosave: who owns it and its checkpoint (engine/checkpoint.py)."""

    id: str
    token_hash: str
    client: str
    last_activity: float
    ckpt: dict[str, Any]


def summary(ckpt: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint's progress as plain JSON values (what runs and session rows show)."""
    progress = ckpt.get("progress") or {}
    return {name: progress.get(name) for name in STATE_FIELDS}


def _init_count(ckpt: dict[str, Any]) -> int:
    return int((ckpt.get("progress") or {}).get("init_count", 0))


def _session(row: sqlite3.Row) -> SessionRecord:
    return SessionRecord(
        id=row["id"], token_hash=row["token_hash"], client=row["client"], config=json.loads(row["config"]),
        state=json.loads(row["state"]), init_count=row["init_count"], created=row["created"],
        updated=row["updated"], last_activity=row["last_activity"], checkpoint=row["checkpoint"],
    )


def _run(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        id=row["id"], session_id=row["session_id"], token_hash=row["token_hash"], config=json.loads(row["config"]),
        metrics=json.loads(row["metrics"]), epochs=row["epochs"], reason=row["reason"], created=row["created"],
        checkpoint=row["checkpoint"],
    )


def packed_history(ckpt: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint with its history series as tensors, for writing: torch.save pickles a list
    through a Python callback per number, and 720 epochs of eight series took 5.4 ms a save
    against 1 ms as tensors (a fifth of a core at 100 autosaved sessions). A series that is not
    a plain list of numbers (or of equal-length lists, for gradient norms) stays as it is."""
    history = ckpt.get("history")
    if not isinstance(history, dict):
        return ckpt
    packed = dict(history)
    for name, values in history.items():
        if not isinstance(values, list) or not values:
            continue
        try:
            array = np.asarray(values, dtype=np.int64 if name == "epoch" else np.float64)
        except (TypeError, ValueError):  # ragged norms (epochs recorded before norms were), strings
            continue
        if array.ndim == (2 if name == "grad_norms" else 1):
            packed[name] = torch.from_numpy(array)
    return {**ckpt, "history": packed}


def unpacked_history(ckpt: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint as read back, history series as lists again (files written before packing have lists)."""
    history = ckpt.get("history")
    if isinstance(history, dict) and any(isinstance(v, torch.Tensor) for v in history.values()):
        ckpt["history"] = {n: v.tolist() if isinstance(v, torch.Tensor) else v for n, v in history.items()}
    return ckpt


def write_atomically(path: Path, ckpt: dict[str, Any], fsync: bool = True) -> int:
    """torch.save to a temporary file, flush it to disk, rename it over `path`; returns its size."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as f:
            torch.save(packed_history(ckpt), f)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path.stat().st_size


class Store:
    """The data directory: one SQLite database (WAL) and the checkpoint files beside it."""

    def __init__(self, data_dir: Path, fsync: bool = True) -> None:
        self.root = Path(data_dir)
        self.checkpoints = self.root / "checkpoints"
        (self.checkpoints / "runs").mkdir(parents=True, exist_ok=True)
        self.path = self.root / DB_NAME
        self.fsync = fsync
        self._lock = threading.Lock()
        # Autocommit (isolation_level=None): transactions are explicit, in _transaction.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            log.warning("store: SQLite would not switch to WAL (journal mode %s)", mode)
        # NORMAL in WAL mode: a commit survives the process being killed; only a power cut can
        # lose the last commits (never corrupt the database).
        self._db.execute("PRAGMA synchronous=NORMAL")
        self.version = migrate(self._db)
        self._clean_temporaries()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _clean_temporaries(self) -> None:
        """Remove half-written checkpoints a crash left behind (their renames never happened)."""
        for folder in (self.checkpoints, self.checkpoints / "runs"):
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)

    def journal_mode(self) -> str:
        with self._lock:
            return str(self._db.execute("PRAGMA journal_mode").fetchone()[0])

    # ---- files -------------------------------------------------------------------------------

    def _file(self, relative: str) -> Path:
        return self.root / relative

    def _session_file(self, session_id: str) -> str:
        if not _SAFE_ID.match(session_id):
            raise ValueError(f"session id {session_id!r} is not safe as a file name")
        return f"checkpoints/{session_id}.pt"

    def read_checkpoint(self, relative: str | None) -> dict[str, Any] | None:
        """A checkpoint file's dict (weights_only: no arbitrary unpickling), or None if missing or unreadable."""
        if relative is None:
            return None
        path = self._file(relative)
        try:
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            return None
        except Exception as e:  # noqa: BLE001 - a damaged file costs that session its weights, not the server
            log.warning("store: cannot read checkpoint %s: %s", path, e)
            return None
        return unpacked_history(ckpt) if isinstance(ckpt, dict) else None

    def _drop_file(self, relative: str | None) -> None:
        if relative:
            self._file(relative).unlink(missing_ok=True)

    # ---- sessions ----------------------------------------------------------------------------

    def load_sessions(self) -> list[SessionRecord]:
        with self._lock:
            return [_session(r) for r in self._db.execute("SELECT * FROM sessions ORDER BY created")]

    def get_session(self, session_id: str) -> SessionRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return _session(row) if row else None

    def save_sessions(self, items: list[SaveItem], max_runs: int = 50) -> list[str]:
        """Write each item's checkpoint file, then upsert all their rows in one transaction; returns
        the ids of runs recorded.

        When a session's init count moved since its last save, the run that the save held ended
        (a reset, or a config change that re-initialised it): that older checkpoint becomes a run.
        """
        runs: list[str] = []
        rows = []
        with self._lock:
            now = time.time()
            for item in items:
                rel = self._session_file(item.id)
                old = self._db.execute("SELECT * FROM sessions WHERE id = ?", (item.id,)).fetchone()
                init_count = _init_count(item.ckpt)
                if old is not None and old["init_count"] != init_count and json.loads(old["state"]).get("epoch"):
                    run_id = self._archive(_session(old), "reset", now, max_runs)
                    if run_id is not None:
                        runs.append(run_id)
                write_atomically(self._file(rel), item.ckpt, self.fsync)
                rows.append((item.id, item.token_hash, item.client, json.dumps(item.ckpt["config"]),
                             json.dumps(summary(item.ckpt)), now, now, item.last_activity, rel, init_count))
            # A crash before this commit leaves files newer than their rows; restore trusts the
            # files and `sync_row` puts the rows right.
            with transaction(self._db):
                self._db.executemany(
                    """INSERT INTO sessions (id, token_hash, client, config, state, created, updated,
                                             last_activity, checkpoint, init_count)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT(id) DO UPDATE SET config = excluded.config, state = excluded.state,
                           updated = excluded.updated, last_activity = excluded.last_activity,
                           checkpoint = excluded.checkpoint, init_count = excluded.init_count""",
                    rows,
                )
        return runs

    def sync_row(self, session_id: str, ckpt: dict[str, Any]) -> None:
        """Make a session's row describe the checkpoint file it was restored from."""
        with self._lock, transaction(self._db):
            self._db.execute(
                "UPDATE sessions SET config = ?, state = ?, init_count = ? WHERE id = ?",
                (json.dumps(ckpt["config"]), json.dumps(summary(ckpt)), _init_count(ckpt), session_id),
            )

    def touch(self, activity: dict[str, float]) -> None:
        """Record the last REST or websocket activity of sessions (for expiry after a restart)."""
        if not activity:
            return
        with self._lock, transaction(self._db):
            self._db.executemany(
                "UPDATE sessions SET last_activity = ? WHERE id = ? AND last_activity < ?",
                [(t, sid, t) for sid, t in activity.items()],
            )

    def end_session(
        self, session_id: str, ckpt: dict[str, Any] | None, reason: str, max_runs: int = 50,
        token_hash: str | None = None,
    ) -> str | None:
        """Delete a session's row and file; its final state (`ckpt`, else the last save) becomes a run
        when it trained at all. `token_hash` names the owner of a session never saved yet. Returns
        the run's id."""
        with self._lock:
            row = self._db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
            record = _session(row) if row is not None else None
            owner = token_hash or (record.token_hash if record else None)
            run_id = None
            now = time.time()
            if ckpt is not None and summary(ckpt).get("epoch") and owner:
                run_id = self._add_run(
                    session_id, owner, ckpt["config"], summary(ckpt), _init_count(ckpt), reason, ckpt, None, now,
                    max_runs,
                )
            elif ckpt is None and record is not None and record.state.get("epoch"):
                run_id = self._archive(record, reason, now, max_runs)
            with transaction(self._db):
                self._db.execute("DELETE FROM lesson_progress WHERE session_id = ?", (session_id,))
            if record is not None:
                with transaction(self._db):
                    self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
                self._drop_file(record.checkpoint)  # gone already when _archive moved it to the run
            return run_id

    # ---- runs --------------------------------------------------------------------------------

    def _archive(self, record: SessionRecord, reason: str, now: float, max_runs: int) -> str | None:
        """Turn a session's saved state (row + file) into a run; the file is moved, not copied."""
        return self._add_run(
            record.id, record.token_hash, record.config, record.state, record.init_count, reason,
            None, record.checkpoint, now, max_runs,
        )

    def _add_run(
        self, session_id: str, token_hash: str, config: dict[str, Any], metrics: dict[str, Any], init_count: int,
        reason: str, ckpt: dict[str, Any] | None, move_from: str | None, now: float, max_runs: int,
    ) -> str | None:
        """Record a run (None if this run of the session is recorded already)."""
        seen = self._db.execute(
            "SELECT 1 FROM runs WHERE session_id = ? AND init_count = ?", (session_id, init_count)
        ).fetchone()
        if seen:
            return None
        run_id = random_id()
        rel: str | None = f"checkpoints/runs/{run_id}.pt"
        if ckpt is not None:
            write_atomically(self._file(rel), ckpt, self.fsync)
        elif move_from is not None and self._file(move_from).exists():
            os.replace(self._file(move_from), self._file(rel))
        else:
            rel = None  # its weights were dropped for space: the run keeps its config and metrics
        with transaction(self._db):
            self._db.execute(
                """INSERT INTO runs (id, session_id, token_hash, config, metrics, epochs, reason, created, checkpoint,
                                     init_count)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (run_id, session_id, token_hash, json.dumps(config), json.dumps(metrics),
                 int(metrics.get("epoch") or 0), reason, now, rel, init_count),
            )
        self._trim_runs(session_id, max_runs)
        return run_id

    def record_run(
        self, session_id: str, token_hash: str, ckpt: dict[str, Any], reason: str, max_runs: int = 50
    ) -> str | None:
        """Record the run `ckpt` ends (a reset seen as it happens); None if untrained or recorded already."""
        if not summary(ckpt).get("epoch"):
            return None
        with self._lock:
            return self._add_run(
                session_id, token_hash, ckpt["config"], summary(ckpt), _init_count(ckpt), reason, ckpt, None,
                time.time(), max_runs,
            )

    def _trim_runs(self, session_id: str, keep: int) -> None:
        rows = self._db.execute(
            "SELECT id, checkpoint FROM runs WHERE session_id = ? ORDER BY created DESC LIMIT -1 OFFSET ?",
            (session_id, keep),
        ).fetchall()
        self._delete_runs(rows)

    def _delete_runs(self, rows: list[sqlite3.Row]) -> None:
        if not rows:
            return
        with transaction(self._db):
            self._db.executemany("DELETE FROM runs WHERE id = ?", [(r["id"],) for r in rows])
        for r in rows:
            self._drop_file(r["checkpoint"])

    def list_runs(self, session_id: str) -> list[RunRecord]:
        """A session's past runs, newest first."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM runs WHERE session_id = ? ORDER BY created DESC", (session_id,))
            return [_run(r) for r in rows]

    def get_run(self, run_id: str) -> RunRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run(row) if row else None

    def expire_runs(self, older_than: float) -> int:
        """Delete runs recorded before `older_than` whose session is gone; returns how many."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, checkpoint FROM runs WHERE created < ? AND session_id NOT IN (SELECT id FROM sessions)",
                (older_than,),
            ).fetchall()
            self._delete_runs(rows)
            return len(rows)

    # ---- classroom rooms ---------------------------------------------------------------------

    def load_rooms(self) -> list[tuple[str, dict[str, Any], list[tuple[str, str, float]]]]:
        """Every room: (code, data, [(session id, nickname, joined at)] in joining order)."""
        with self._lock:
            rooms = self._db.execute("SELECT code, data FROM rooms ORDER BY updated").fetchall()
            students = self._db.execute(
                "SELECT code, session_id, nickname, joined_at FROM room_students ORDER BY joined_at"
            ).fetchall()
        by_room: dict[str, list[tuple[str, str, float]]] = {}
        for r in students:
            by_room.setdefault(r["code"], []).append((r["session_id"], r["nickname"], r["joined_at"]))
        return [(r["code"], json.loads(r["data"]), by_room.get(r["code"], [])) for r in rooms]

    def save_room(self, code: str, data: dict[str, Any], students: list[tuple[str, str, float]]) -> None:
        """Write a room and its students (replacing what was stored) in one transaction."""
        with self._lock, transaction(self._db):
            self._db.execute(
                "INSERT INTO rooms (code, data, updated) VALUES (?, ?, ?) "
                "ON CONFLICT(code) DO UPDATE SET data = excluded.data, updated = excluded.updated",
                (code, json.dumps(data), time.time()),
            )
            self._db.execute("DELETE FROM room_students WHERE code = ?", (code,))
            self._db.executemany(
                "INSERT OR REPLACE INTO room_students (session_id, code, nickname, joined_at) VALUES (?, ?, ?, ?)",
                [(sid, code, nick, joined) for sid, nick, joined in students],
            )

    # ---- lesson progress ---------------------------------------------------------------------

    def lesson_progress(self, session_id: str) -> tuple[str, int] | None:
        """(lesson id, step) where a session stands in a lesson, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT lesson_id, step FROM lesson_progress WHERE session_id = ?", (session_id,)
            ).fetchone()
        return (row["lesson_id"], row["step"]) if row else None

    def set_lesson_progress(self, session_id: str, position: tuple[str, int] | None) -> None:
        """Record (lesson id, step) for a session; None forgets it (the student left the lesson)."""
        with self._lock, transaction(self._db):
            if position is None:
                self._db.execute("DELETE FROM lesson_progress WHERE session_id = ?", (session_id,))
                return
            self._db.execute(
                "INSERT INTO lesson_progress (session_id, lesson_id, step, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(session_id) DO UPDATE SET lesson_id = excluded.lesson_id, step = excluded.step, "
                "updated = excluded.updated",
                (session_id, position[0], position[1], time.time()),
            )

    # ---- space -------------------------------------------------------------------------------

    def storage_bytes(self) -> int:
        """Bytes the database (with its WAL) and every checkpoint file take."""
        total = 0
        for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm"):
            path = self.root / name
            if path.exists():
                total += path.stat().st_size
        for folder in (self.checkpoints, self.checkpoints / "runs"):
            with os.scandir(folder) as entries:
                total += sum(e.stat().st_size for e in entries if e.is_file())
        return total

    def enforce_limit(self, max_bytes: int) -> list[str]:
        """Over `max_bytes`, drop checkpoint files until 90 % of it is used: past runs' weights first
        (oldest first), then the weights of the sessions idle longest. Rows stay, so runs keep their
        config and metrics and such sessions come back after a restart with their config, untrained.
        Returns the files dropped."""
        with self._lock:
            total = self.storage_bytes()
            if total <= max_bytes:
                return []
            target = int(max_bytes * 0.9)
            candidates = [
                ("runs", r["id"], r["checkpoint"])
                for r in self._db.execute(
                    "SELECT id, checkpoint FROM runs WHERE checkpoint IS NOT NULL ORDER BY created"
                )
            ] + [
                ("sessions", r["id"], r["checkpoint"])
                for r in self._db.execute(
                    "SELECT id, checkpoint FROM sessions WHERE checkpoint IS NOT NULL ORDER BY last_activity"
                )
            ]
            dropped = []
            for table, row_id, rel in candidates:
                if total <= target:
                    break
                path = self._file(rel)
                size = path.stat().st_size if path.exists() else 0
                with transaction(self._db):
                    # Table names come from the literals above, never from input.
                    self._db.execute(f"UPDATE {table} SET checkpoint = NULL WHERE id = ?", (row_id,))
                path.unlink(missing_ok=True)
                total -= size
                dropped.append(rel)
            log.warning("store: over max_storage_bytes (%d); dropped %d checkpoints", max_bytes, len(dropped))
            return dropped

    def integrity_check(self) -> str:
        with self._lock:
            return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])

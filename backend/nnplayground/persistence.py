"""Keeps the engine's sessions in the store: restore at start-up, autosave, expiry, run history.

The app's lifespan owns one Persistence. It moves checkpoint dicts between the engine (which
never does I/O) and the store (which never sees the engine), on the event loop for the engine's
futures and in worker threads (`asyncio.to_thread`) for the disk. One asyncio lock orders every
store write that depends on which sessions exist, so a session deleted during an autosave can
never be written back afterwards.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from pydantic import ValidationError

from . import exports
from .api.registry import RegistryFull, SessionEntry, SessionRegistry, token_matches_hash
from .config import Settings
from .engine import Engine, UnknownSession
from .schemas import SessionConfig, SessionState
from .store import RunRecord, SaveItem, Store

log = logging.getLogger(__name__)


def next_autosave_at(due: float, started: float, spent: float, interval: float, share: float) -> float:
    """When the autosave cycle after one due at `due`, started at `started` and `spent` seconds
    long, is due: on a fixed cadence (a cycle's own time counts against the interval, so a crash
    loses at most about an interval of training), unless saving would then take more than `share`
    of the time (a large class: a save is ~3 ms, mostly with the GIL held, and at 100 sessions
    every 5 s the saver was busy a fifth of the time); then `spent / share` after it started."""
    return max(due + interval, started + spent / share)


class RunNotFound(LookupError):
    """No such run, or not one the caller may see."""


class Persistence:
    """Autosave and restore of every session; run history; expiry of idle sessions."""

    def __init__(self, settings: Settings, engine: Engine, registry: SessionRegistry, store: Store) -> None:
        self.settings = settings
        self.engine = engine
        self.registry = registry
        self.store = store
        self.last_autosave: float | None = None  # Unix seconds of the last completed autosave
        self.autosave_interval = settings.autosave_seconds  # autosave_seconds, or longer when its share stretched it
        self.storage_bytes = 0
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> int:
        """Restore every stored session (paused), then autosave every `autosave_seconds`."""
        restored = await self.restore_all()
        self.storage_bytes = await asyncio.to_thread(self.store.storage_bytes)
        self._task = asyncio.create_task(self._autosave_loop(), name="nnpg-autosave")
        return restored

    async def stop(self) -> None:
        """Stop the autosave loop and save everything that changed (graceful shutdown)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        await self.autosave()
        await asyncio.to_thread(self.store.close)

    async def _autosave_loop(self) -> None:
        interval, share = self.settings.autosave_seconds, self.settings.autosave_share
        next_at = time.monotonic() + interval
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            started = time.monotonic()
            try:
                await self.autosave()
                await self.expire_idle()
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed save must not end autosaving; the next one tries again
                log.exception("autosave failed")
            spent = time.monotonic() - started
            next_at = next_autosave_at(next_at, started, spent, interval, share)
            self.autosave_interval = max(interval, spent / share)  # the cadence in effect

    # ---- restore and save --------------------------------------------------------------------

    async def restore_all(self) -> int:
        """Put every stored session back into the engine (paused, at its last save) and the registry."""
        restored = 0
        for record in await asyncio.to_thread(self.store.load_sessions):
            ckpt = await asyncio.to_thread(self.store.read_checkpoint, record.checkpoint)
            try:
                if ckpt is not None:
                    ckpt = exports.validated(ckpt)
                    await asyncio.wrap_future(self.engine.restore_session(record.id, ckpt))
                    if ckpt["progress"]["init_count"] != record.init_count or ckpt["config"] != record.config:
                        # Killed between writing the file and its row: the file is the truth.
                        await asyncio.to_thread(self.store.sync_row, record.id, ckpt)
                else:
                    # No weights (dropped for space, or unreadable): the config comes back, untrained.
                    log.warning("session %s has no readable checkpoint; restoring its config only", record.id)
                    config = SessionConfig.model_validate(record.config)
                    await asyncio.wrap_future(self.engine.create_session(record.id, config))
            except (ValueError, ValidationError) as e:
                # A session this version cannot run is kept as a run, not dropped.
                log.warning("session %s cannot be restored (%s); moved to its run history", record.id, e)
                await asyncio.to_thread(self.store.end_session, record.id, None, "unrestorable", self._max_runs)
                continue
            self.registry.add(SessionEntry(record.id, record.token_hash, record.client), record.last_activity)
            restored += 1
        if restored:
            log.info("restored %d sessions from %s", restored, self.store.root)
        return restored

    @property
    def _max_runs(self) -> int:
        return self.settings.max_runs_per_session

    async def autosave(self) -> int:
        """Save the sessions that changed since their last save; returns how many."""
        async with self._lock:
            ckpts = await asyncio.wrap_future(self.engine.changed_checkpoints())
            activity = self.registry.activity()
            items = []
            for ckpt in ckpts:
                entry = self.registry.get(ckpt["id"])
                if entry is None:
                    continue  # deleted meanwhile: its end is recorded by end_session
                last = activity.get(entry.id, time.time())
                items.append(SaveItem(entry.id, entry.token_hash, entry.client, last, ckpt))
            await asyncio.to_thread(self._write, items, activity)
        self.last_autosave = time.time()
        return len(items)

    def _write(self, items: list[SaveItem], activity: dict[str, float]) -> None:
        """Worker thread: files and rows, activity, and the storage bound."""
        self.store.save_sessions(items, self._max_runs)
        self.store.touch(activity)
        self.store.enforce_limit(self.settings.max_storage_bytes)
        self.storage_bytes = self.store.storage_bytes()

    async def save_now(self, session_id: str) -> None:
        """Save one session at once (a session just imported or reopened is in the store right away)."""
        entry = self.registry.get(session_id)
        if entry is None:
            return
        ckpt = await asyncio.wrap_future(self.engine.checkpoint(session_id))
        item = SaveItem(entry.id, entry.token_hash, entry.client, time.time(), ckpt)
        async with self._lock:
            if session_id in self.registry:
                await asyncio.to_thread(self.store.save_sessions, [item], self._max_runs)

    async def change(
        self, session_id: str, command: Callable[[], "Future[SessionState]"], may_reset: bool = True
    ) -> SessionState:
        """Run an engine command that may re-initialise the session (reset, a config change); if it
        does, the run it ended goes to the history with its exact final state.

        The autosave would notice the reset too, but only with its last save, up to an interval old.
        `may_reset=False` (a live change, engine.keeps_weights) skips the checkpoint taken before:
        a class changing learning rates once a second made it a fifth of the worker's time.
        """
        before = None
        if may_reset and self.engine.state(session_id).epoch > 0:
            before = await asyncio.wrap_future(self.engine.checkpoint(session_id))
        state = await asyncio.wrap_future(command())
        entry = self.registry.get(session_id)
        if before is not None and state.epoch == 0 and entry is not None:
            async with self._lock:
                await asyncio.to_thread(
                    self.store.record_run, session_id, entry.token_hash, before, "reset", self._max_runs
                )
        return state

    # ---- the end of a session ----------------------------------------------------------------

    async def end_session(self, session_id: str, reason: str) -> None:
        """Remove a session everywhere; its final state becomes a run (when it trained at all)."""
        entry = self.registry.get(session_id)
        self.registry.remove(session_id)  # first, so no new call reaches a session on its way out
        try:
            ckpt: dict[str, Any] | None = await asyncio.wrap_future(self.engine.checkpoint(session_id))
        except UnknownSession:
            ckpt = None
        try:
            await asyncio.wrap_future(self.engine.delete_session(session_id))
        except UnknownSession:
            pass
        async with self._lock:
            await asyncio.to_thread(
                self.store.end_session, session_id, ckpt, reason, self._max_runs, entry.token_hash if entry else None
            )

    async def expire_idle(self) -> list[str]:
        """End the sessions idle past `session_ttl_seconds`, and the runs left by ended ones as long after."""
        cutoff = time.time() - self.settings.session_ttl_seconds
        expired = self.registry.idle(cutoff)
        for session_id in expired:
            log.info("session %s expired after %.0f s idle", session_id, self.settings.session_ttl_seconds)
            await self.end_session(session_id, "expired")
        await asyncio.to_thread(self.store.expire_runs, cutoff)
        return expired

    # ---- new sessions from a checkpoint ------------------------------------------------------

    async def open_session(
        self, client: str, ckpt: dict[str, Any] | None, config: SessionConfig
    ) -> tuple[SessionEntry, str, SessionState]:
        """A new session (new id and token) from a checkpoint, or untrained from a config.

        RegistryFull when a session limit is reached; ValueError when the checkpoint does not fit.
        """
        entry, token = self.registry.reserve(client, self.settings.max_sessions, self.settings.max_sessions_per_client)
        try:
            if ckpt is not None:
                state = await asyncio.wrap_future(self.engine.restore_session(entry.id, ckpt))
            else:
                state = await asyncio.wrap_future(self.engine.create_session(entry.id, config))
        except BaseException:
            self.registry.remove(entry.id)
            self.engine.delete_session(entry.id)  # in case it was created before we were cancelled
            raise
        await self.save_now(entry.id)
        return entry, token, state

    # ---- run history -------------------------------------------------------------------------

    async def runs(self, session_id: str, token: str) -> list[RunRecord]:
        """A session's past runs for the holder of its token (live or ended); RunNotFound / PermissionError."""
        entry = self.registry.get(session_id)
        runs = await asyncio.to_thread(self.store.list_runs, session_id)
        owner_hash = entry.token_hash if entry is not None else (runs[0].token_hash if runs else None)
        if owner_hash is None:
            raise RunNotFound(f"unknown session {session_id}")
        if not token_matches_hash(owner_hash, token):
            raise PermissionError("wrong token")
        if entry is not None:
            self.registry.touch(session_id)
        return runs

    async def reopen(self, run_id: str, token: str, client: str) -> tuple[SessionEntry, str, SessionState]:
        """A new session from a past run: its config, and its final weights when they were kept."""
        run = await asyncio.to_thread(self.store.get_run, run_id)
        if run is None:
            raise RunNotFound(f"unknown run {run_id}")
        if run.token_hash is None or not token_matches_hash(run.token_hash, token):
            raise PermissionError("wrong token")
        raw = await asyncio.to_thread(self.store.read_checkpoint, run.checkpoint)
        ckpt = exports.validated(raw, self.settings) if raw is not None else None
        config = SessionConfig.model_validate(run.config)
        return await self.open_session(client, ckpt, config)


__all__ = ["Persistence", "RegistryFull", "RunNotFound"]

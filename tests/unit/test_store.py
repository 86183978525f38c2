"""The store: migrations from older schemas, WAL, atomic checkpoint files, sessions and run history."""

import json
import sqlite3
import time
from pathlib import Path

import pytest
import torch

from nnplayground import store as store_module
from nnplayground.schemas import SessionConfig
from nnplayground.store import DB_NAME, SCHEMA_VERSION, SaveItem, Store, migrate, random_id, schema_version

CONFIG = SessionConfig().model_dump(mode="json")


def ckpt(epoch: int = 3, init_count: int = 0, seed: int = 0, pad: int = 0) -> dict:
    gen = torch.Generator().manual_seed(seed)
    return {
        "format": "nnplayground-checkpoint", "version": 1, "id": "s1", "config": CONFIG,
        "model": {"W0": torch.randn(2, 4, generator=gen), "b0": torch.zeros(1, 4), "pad": torch.zeros(pad)},
        "progress": {"epoch": epoch, "step": 25 * epoch, "train_loss": 0.5, "init_count": init_count,
                     "stop_reason": None},
        "history": {"stride": 1, "epoch": list(range(1, epoch + 1))},
    }


def item(session_id: str = "s1", **kw) -> SaveItem:
    return SaveItem(session_id, "ab" * 32, "127.0.0.1", time.time(), ckpt(**kw))


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path)
    yield s
    s.close()


def test_a_new_database_is_in_wal_mode_at_the_latest_schema(store: Store, tmp_path: Path) -> None:
    assert store.journal_mode() == "wal"
    assert store.version == SCHEMA_VERSION == len(store_module.MIGRATIONS)
    assert (tmp_path / DB_NAME).exists() and (tmp_path / "checkpoints" / "runs").is_dir()
    assert store.integrity_check() == "ok"


def test_a_database_written_by_schema_version_1_is_migrated_with_its_data(tmp_path: Path) -> None:
    # What the first version of the store wrote: sessions and runs without weights or owners.
    db = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    assert migrate(db, target=1) == 1
    db.execute(
        "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ("old", "cd" * 32, "10.0.0.1", json.dumps(CONFIG), json.dumps({"epoch": 7}), 1.0, 2.0, 3.0, None),
    )
    db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)", ("r1", "old", json.dumps(CONFIG), "{}", 4, 1.5))
    db.close()

    s = Store(tmp_path)
    try:
        assert s.version == SCHEMA_VERSION
        [session] = s.load_sessions()
        assert (session.id, session.token_hash, session.init_count) == ("old", "cd" * 32, 0)
        assert session.state == {"epoch": 7}
        [run] = s.list_runs("old")
        # The migration gave the old run its owner's token hash, a reason and no weights.
        assert (run.id, run.epochs, run.token_hash, run.reason, run.checkpoint) == ("r1", 4, "cd" * 32, "ended", None)
        assert run.public()["has_weights"] is False
    finally:
        s.close()
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        assert schema_version(db) == SCHEMA_VERSION


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / DB_NAME, isolation_level=None) as db:
        migrate(db)
        db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(RuntimeError, match="newer than this nnplayground"):
        Store(tmp_path)


def test_sessions_round_trip_with_their_checkpoints(store: Store) -> None:
    store.save_sessions([item("s1", epoch=3), item("s2", epoch=0)])
    records = {r.id: r for r in store.load_sessions()}
    assert set(records) == {"s1", "s2"}
    assert records["s1"].state["epoch"] == 3 and records["s1"].config == CONFIG
    loaded = store.read_checkpoint(records["s1"].checkpoint)
    assert loaded is not None and torch.equal(loaded["model"]["W0"], ckpt()["model"]["W0"])
    assert loaded["history"]["epoch"] == [1, 2, 3]
    store.save_sessions([item("s1", epoch=9)])  # an update, not a second row
    assert {r.id: r.state["epoch"] for r in store.load_sessions()} == {"s1": 9, "s2": 0}


def test_history_series_are_written_as_tensors_and_read_back_as_the_same_lists(store: Store, tmp_path: Path) -> None:
    history = {
        "stride": 2, "epoch": [0, 2, 4], "train_loss": [0.7, float("nan"), 0.1 + 0.2],
        "test_accuracy": [0.5, 0.75, 1.0], "grad_norms": [[0.1, 0.2], [0.3, 0.4], [1e-300, 5.0]],
    }
    saved = ckpt() | {"history": history}
    store.save_sessions([SaveItem("s1", "ab" * 32, "127.0.0.1", time.time(), saved)])
    raw = torch.load(tmp_path / "checkpoints" / "s1.pt", weights_only=True)
    assert isinstance(raw["history"]["train_loss"], torch.Tensor) and raw["history"]["grad_norms"].shape == (3, 2)
    loaded = store.read_checkpoint("checkpoints/s1.pt")
    assert loaded is not None
    back = loaded["history"]
    assert back["stride"] == 2 and back["epoch"] == [0, 2, 4] and type(back["epoch"][0]) is int
    loss = back["train_loss"]
    assert loss[0] == 0.7 and loss[2] == 0.1 + 0.2 and loss[1] != loss[1]  # exact, NaN kept
    assert back["test_accuracy"] == [0.5, 0.75, 1.0] and back["grad_norms"] == [[0.1, 0.2], [0.3, 0.4], [1e-300, 5.0]]
    assert saved["history"] is history and isinstance(history["epoch"], list)  # the caller's dict is untouched


def test_ragged_norms_and_files_written_with_lists_still_read(store: Store, tmp_path: Path) -> None:
    # Epochs restored from a checkpoint older than gradient norms have none; later ones have two.
    ragged = {"stride": 1, "epoch": [1, 2], "train_loss": [0.5, 0.4], "grad_norms": [[], [0.1, 0.2]]}
    store.save_sessions([SaveItem("s1", "ab" * 32, "127.0.0.1", time.time(), ckpt() | {"history": ragged})])
    loaded = store.read_checkpoint("checkpoints/s1.pt")
    assert loaded is not None and loaded["history"] == ragged
    # A file from before packing: plain lists, as torch.save wrote them.
    torch.save(ckpt() | {"history": ragged}, tmp_path / "checkpoints" / "old.pt")
    old = store.read_checkpoint("checkpoints/old.pt")
    assert old is not None and old["history"] == ragged


def test_checkpoint_files_are_read_without_unpickling_arbitrary_objects(store: Store, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    store.save_sessions([item("s1")])
    # Replace the file with one that would create `marker` if it were unpickled freely.
    torch.save({"x": Exploit(str(marker))}, tmp_path / "checkpoints" / "s1.pt")
    assert store.read_checkpoint("checkpoints/s1.pt") is None
    assert not marker.exists()


class Exploit:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_failed_write_leaves_the_previous_checkpoint_whole(store: Store, tmp_path: Path, monkeypatch) -> None:
    store.save_sessions([item("s1", epoch=3)])
    path = tmp_path / "checkpoints" / "s1.pt"
    before = path.read_bytes()

    def crash(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(store_module.torch, "save", crash)
    with pytest.raises(OSError):
        store.save_sessions([item("s1", epoch=4)])
    assert path.read_bytes() == before
    assert list((tmp_path / "checkpoints").glob(".*.tmp")) == []
    assert store.load_sessions()[0].state["epoch"] == 3


def test_temporary_files_left_by_a_crash_are_removed_on_open(tmp_path: Path) -> None:
    Store(tmp_path).close()
    leftover = tmp_path / "checkpoints" / ".s1.pt.dead.tmp"
    leftover.write_bytes(b"partial")
    Store(tmp_path).close()
    assert not leftover.exists()


def test_a_reset_seen_by_autosave_turns_the_previous_save_into_a_run(store: Store, tmp_path: Path) -> None:
    store.save_sessions([item("s1", epoch=5, init_count=0)])
    ran = store.save_sessions([item("s1", epoch=0, init_count=1)])
    [run] = store.list_runs("s1")
    assert ran == [run.id] and run.epochs == 5 and run.reason == "reset" and run.token_hash == "ab" * 32
    assert store.read_checkpoint(run.checkpoint)["progress"]["epoch"] == 5
    assert store.read_checkpoint(store.load_sessions()[0].checkpoint)["progress"]["epoch"] == 0


def test_a_run_recorded_at_the_reset_is_not_recorded_again_by_autosave(store: Store) -> None:
    store.save_sessions([item("s1", epoch=5, init_count=0)])
    assert store.record_run("s1", "ab" * 32, ckpt(epoch=8, init_count=0), "reset") is not None
    assert store.save_sessions([item("s1", epoch=0, init_count=1)]) == []
    [run] = store.list_runs("s1")
    assert run.epochs == 8  # the exact state at the reset, not the older autosave
    assert store.record_run("s1", "ab" * 32, ckpt(epoch=0, init_count=1), "reset") is None  # nothing trained


def test_ending_a_session_keeps_its_final_state_as_a_run_and_deletes_the_rest(store: Store, tmp_path: Path) -> None:
    store.save_sessions([item("s1", epoch=5)])
    run_id = store.end_session("s1", ckpt(epoch=6), "deleted")
    assert store.load_sessions() == [] and not (tmp_path / "checkpoints" / "s1.pt").exists()
    run = store.get_run(run_id)
    assert run is not None and run.epochs == 6 and run.reason == "deleted"
    # Without a final checkpoint, the last save becomes the run.
    store.save_sessions([item("s2", epoch=4)])
    run2 = store.get_run(store.end_session("s2", None, "expired"))
    assert run2 is not None and run2.epochs == 4 and store.read_checkpoint(run2.checkpoint) is not None
    # A session that never trained leaves nothing; one never saved is recorded with its owner.
    store.save_sessions([item("s3", epoch=0)])
    assert store.end_session("s3", ckpt(epoch=0), "deleted") is None
    assert store.end_session("s4", ckpt(epoch=2), "deleted", token_hash="ef" * 32) is not None
    assert store.list_runs("s4")[0].token_hash == "ef" * 32


def test_runs_are_trimmed_per_session_and_expire_after_their_session(store: Store) -> None:
    for i in range(5):
        store.record_run("s1", "ab" * 32, ckpt(epoch=i + 1, init_count=i), "reset", max_runs=3)
    assert [r.epochs for r in store.list_runs("s1")] == [5, 4, 3]
    store.save_sessions([item("s1", epoch=1, init_count=5)])
    assert store.expire_runs(time.time() + 1) == 0  # its session lives: kept
    store.end_session("s1", None, "deleted")  # its last save becomes a fourth run
    assert store.expire_runs(time.time() - 3600) == 0  # ended just now: kept for the TTL
    assert store.expire_runs(time.time() + 1) == 4
    assert store.list_runs("s1") == []


def test_over_the_storage_bound_run_weights_go_first_then_the_idlest_sessions(store: Store) -> None:
    now = time.time()
    big = 100_000  # 400 KB per checkpoint, so files outweigh the database
    store.save_sessions([
        SaveItem("old", "ab" * 32, "c", now - 100, ckpt(seed=1, pad=big)),
        SaveItem("new", "ab" * 32, "c", now, ckpt(seed=2, pad=big)),
    ])
    store.record_run("new", "ab" * 32, ckpt(epoch=2, init_count=7, pad=big), "reset")
    total = store.storage_bytes()
    assert store.enforce_limit(total) == []
    file_size = (store.root / "checkpoints" / "old.pt").stat().st_size
    dropped = store.enforce_limit(total - file_size)  # down to 90 % of that: two files must go
    assert dropped[0].startswith("checkpoints/runs/") and dropped[1] == "checkpoints/old.pt"
    records = {r.id: r for r in store.load_sessions()}
    assert records["old"].checkpoint is None and records["new"].checkpoint is not None
    assert store.list_runs("new")[0].checkpoint is None
    assert len(dropped) == 2 and store.storage_bytes() <= 0.9 * (total - file_size)


def test_touch_records_activity_only_forwards(store: Store) -> None:
    store.save_sessions([SaveItem("s1", "ab" * 32, "c", 100.0, ckpt())])
    store.touch({"s1": 50.0})
    assert store.load_sessions()[0].last_activity == 100.0
    store.touch({"s1": 200.0, "gone": 300.0})
    assert store.load_sessions()[0].last_activity == 200.0


def test_unsafe_session_ids_never_become_paths(store: Store) -> None:
    with pytest.raises(ValueError, match="not safe"):
        store.save_sessions([item("../escape")])


def test_sync_row_makes_a_row_match_the_file_it_was_restored_from(store: Store) -> None:
    store.save_sessions([item("s1", epoch=5, init_count=0)])
    store.sync_row("s1", ckpt(epoch=2, init_count=3))  # a crash had left the file one save ahead
    [record] = store.load_sessions()
    assert record.init_count == 3 and record.state["epoch"] == 2
    assert store.save_sessions([item("s1", epoch=4, init_count=3)]) == []  # no phantom reset run


def test_ids_never_start_with_a_dash() -> None:
    """One token in 64 starts with "-": the results CSV escaped such a session id as a formula
    ("'-2q4c…"), and a script matching ids against it failed now and then."""
    ids = [random_id() for _ in range(4000)]
    assert all(len(i) == 12 and store_module._SAFE_ID.match(i) for i in ids)
    assert not [i for i in ids if i.startswith("-")]
    assert len(set(ids)) == len(ids)

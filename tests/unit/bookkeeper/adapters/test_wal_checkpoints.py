"""The embedded store's WAL is copied into its file by a thread of its own, not by the commit
that crosses SQLite's threshold (bookkeeper/adapters/embedded/checkpoints.py)."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

from bookkeeper.adapters.embedded import EmbeddedStore, checkpoints
from bookkeeper.adapters.embedded.checkpoints import BACKSTOP_PAGES, CHECKPOINTS, Checkpointer, checkpoint
from testkit.support.kazbill_service import wait_for


def write_documents(store: EmbeddedStore, count: int) -> None:
    store.create_database("ledgers")
    for start in range(0, count, 100):
        store.bulk_put(
            "ledgers", [{"_id": f"entry{n:06d}", "amount": n, "note": "x" * 200} for n in range(start, start + 100)]
        )


def child_exit_code(pid: int, within_s: float = 60.0) -> int:
    """The forked child's exit code; a child stuck past `within_s` (a lock inherited held, the
    very failure these tests look for) is killed and reported, not waited for forever."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError(f"the forked child was stuck after {within_s:g} s")


def test_the_writes_reach_the_database_file_without_a_commit_checkpointing(tmp_path: Path):
    path = tmp_path / "store.sqlite3"
    store = EmbeddedStore(path)
    assert store._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == BACKSTOP_PAGES
    before = path.stat().st_size
    write_documents(store, 1000)  # a few hundred pages: far below SQLite's own threshold now
    # Only a checkpoint grows the database file; the commits only append to the WAL.
    wait_for(lambda: path.stat().st_size > before + 100_000, 30, "the background checkpoint")
    reader = sqlite3.connect(path)
    assert reader.execute("SELECT COUNT(*) FROM docs WHERE db = 'ledgers'").fetchone()[0] == 1000
    reader.close()
    store.close()


def test_a_store_file_removed_meanwhile_is_not_made_again(tmp_path: Path):
    path = tmp_path / "gone.sqlite3"
    checkpoint(str(path))  # as the thread would for a temporary store deleted since its last write
    assert not path.exists()


def test_one_thread_per_process_and_it_stops(tmp_path: Path):
    checkpointer = Checkpointer(every_s=0.01)
    before = {thread.ident for thread in threading.enumerate() if thread.name == "wal-checkpoints"}
    for n in range(3):
        checkpointer.written(str(tmp_path / f"store{n}.sqlite3"))
    started = [t for t in threading.enumerate() if t.name == "wal-checkpoints" and t.ident not in before]
    assert len(started) == 1
    checkpointer.stop()
    started[0].join(5)
    assert not started[0].is_alive()
    assert not any(tmp_path.iterdir())  # files never written are not created


def test_a_forked_child_checkpoints_with_a_thread_of_its_own(tmp_path: Path):
    path = tmp_path / "forked.sqlite3"
    store = EmbeddedStore(path)
    store.create_database("ledgers")  # the parent's thread is running
    # Its round over, it has nothing to copy: only a thread of the child's own can copy the child's writes.
    wait_for(lambda: not CHECKPOINTS._written, 30, "the parent's round")
    pid = os.fork()
    if pid == 0:  # the child: its first write starts its own thread, which copies the WAL
        try:
            child = EmbeddedStore(path)
            before = path.stat().st_size
            for n in range(10):
                child.bulk_put("ledgers", [{"_id": f"c{n}-{m}", "note": "y" * 400} for m in range(100)])
            wait_for(lambda: path.stat().st_size > before + 100_000, 30, "the child's checkpoint")
            os._exit(0)
        except BaseException:
            os._exit(1)
    assert child_exit_code(pid) == 0
    store.close()


def test_a_fork_waits_for_a_checkpoint_in_progress(tmp_path: Path):
    """A child forked mid-checkpoint would inherit SQLite's record of the checkpoint's locks
    without its connection, and never checkpoint the file again: the fork waits for it."""
    order: list[str] = []
    holding = threading.Event()

    def checkpoint_in_progress():
        with checkpoints._IN_PROGRESS:
            holding.set()
            order.append("checkpoint running")
            time.sleep(0.3)  # a long checkpoint; what is asserted is the order, not the time
            order.append("checkpoint done")

    thread = threading.Thread(target=checkpoint_in_progress)
    thread.start()
    holding.wait(10)
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    order.append("forked")
    assert child_exit_code(pid) == 0
    thread.join()
    assert order == ["checkpoint running", "checkpoint done", "forked"]


def test_a_child_forked_while_the_parent_checkpoints_can_checkpoint(tmp_path: Path):
    path = tmp_path / "busy.sqlite3"
    store = EmbeddedStore(path)
    write_documents(store, 3000)
    running = threading.Thread(target=checkpoint, args=(str(path),))
    running.start()  # the fork below lands during it or after it, never inside it
    pid = os.fork()
    if pid == 0:
        child = EmbeddedStore(path)
        child.bulk_put("ledgers", [{"_id": f"child{n}", "note": "y" * 400} for n in range(200)])
        busy = child._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[0]
        os._exit(10 + busy)
    code = child_exit_code(pid)
    running.join()
    assert code == 10  # the child's checkpoint was not busy
    store.close()


def test_a_closed_store_is_not_checkpointed_again(tmp_path: Path):
    path = tmp_path / "closed.sqlite3"
    store = EmbeddedStore(path)
    write_documents(store, 100)
    store.close()
    assert str(path.resolve()) not in CHECKPOINTS._written


def test_a_round_that_listed_a_store_before_it_closed_leaves_its_files_alone(tmp_path: Path, monkeypatch):
    """The race a removed temporary directory met ("Directory not empty"): the thread took the
    file for its round, the store closed, and the round's connection made the WAL file again."""
    path = tmp_path / "closing.sqlite3"
    store = EmbeddedStore(path)
    write_documents(store, 100)
    checkpointer = Checkpointer(every_s=3600)
    checkpointer.written(str(path.resolve()))
    listed = list(checkpointer._written)  # what a round takes before it checkpoints
    store.close()
    checkpointer.forget(str(path.resolve()))
    opened = []
    monkeypatch.setattr(checkpoints.sqlite3, "connect", lambda *args, **kwargs: opened.append(args))
    for listed_path in listed:
        checkpointer._checkpoint(listed_path)
    assert opened == []
    checkpointer.written(str(path.resolve()))  # written again (a store opened on it anew): checkpointed
    monkeypatch.undo()
    checkpointer._checkpoint(str(path.resolve()))
    checkpointer.stop()


def test_forgetting_a_store_waits_for_its_checkpoint_in_progress(tmp_path: Path):
    checkpointer = Checkpointer(every_s=3600)
    forgotten = threading.Event()
    with checkpoints._IN_PROGRESS:  # a checkpoint under way
        waiter = threading.Thread(target=lambda: (checkpointer.forget(str(tmp_path / "x")), forgotten.set()))
        waiter.start()
        assert not forgotten.wait(0.2)
    waiter.join(10)
    assert forgotten.is_set()

"""Repeated deliveries found through event_keys and the newer keys in memory (SQLite's
alone: PostgreSQL keeps a unique index), and the migration that brought event_keys."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from bridge.queue.schema import MIGRATIONS
from bridge.queue.storage import StoreError
from bridge.queue.store import Store
from tests.fakes.clock import ShiftedClock, StoppedClock
from tests.queue.test_store import event

NEVER = 3600.0


def merged_keys(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as conn:
        return dict(conn.execute("SELECT body_key, event_id FROM event_keys").fetchall())


@contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """Another connection holds the write lock: deliveries queue up for one commit."""
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


async def test_a_repeat_of_a_merged_event_is_a_duplicate_of_it(tmp_path: Path) -> None:
    path = tmp_path / "bridge.sqlite3"
    first = await Store.open(path, merge_quiet=NEVER)
    stored = [await first.accept(event(n)) for n in range(3)]
    await first.close()
    reopened = await Store.open(path)  # opening merges what the last run left in memory
    try:
        assert merged_keys(path) == {event(n).body_key: s.event_id for n, s in enumerate(stored)}
        again = await reopened.accept(event(1))
        assert (again.event_id, again.duplicate) == (stored[1].event_id, True)
        fresh = await reopened.accept(event(9))
        assert (fresh.event_id, fresh.duplicate) == (stored[-1].event_id + 1, False)
    finally:
        await reopened.close()


async def test_the_newer_keys_are_merged_once_the_limit_is_held(tmp_path: Path) -> None:
    path = tmp_path / "bridge.sqlite3"
    clock = ShiftedClock()
    store = await Store.open(path, clock=clock, merge_quiet=NEVER, recent_limit=4)
    try:
        ids = []
        for n in range(6):
            ids.append((await store.accept(event(n))).event_id)
            clock.advance(1.0)  # a shop's pace, not a burst
        # Merged after the fourth commit; the two after it are held in memory.
        assert merged_keys(path) == {event(n).body_key: ids[n] for n in range(4)}
        repeats = [await store.accept(event(n)) for n in range(6)]
        assert [(r.event_id, r.duplicate) for r in repeats] == [(i, True) for i in ids]
    finally:
        await store.close()


async def test_keys_that_came_in_a_burst_wait_for_the_burst_limit(tmp_path: Path) -> None:
    """A merge holds every delivery meanwhile: inside a burst it waits, up to the burst
    limit; the repeats of the events held meanwhile are still found."""
    path = tmp_path / "bridge.sqlite3"
    clock = StoppedClock()  # all at once, however slow the disk
    store = await Store.open(path, clock=clock, merge_quiet=NEVER, recent_limit=4, burst_limit=8)
    try:
        ids = [(await store.accept(event(n))).event_id for n in range(7)]
        assert merged_keys(path) == {}
        repeats = [await store.accept(event(n)) for n in range(7)]
        assert [(r.event_id, r.duplicate) for r in repeats] == [(i, True) for i in ids]
        ids.append((await store.accept(event(7))).event_id)
        # The merge follows that commit on the database thread, before the next one.
        again = await store.accept(event(7))
        assert (again.event_id, again.duplicate) == (ids[7], True)
        assert merged_keys(path) == {event(n).body_key: ids[n] for n in range(8)}
    finally:
        await store.close()


async def test_the_newer_keys_are_merged_once_intake_is_quiet(tmp_path: Path) -> None:
    path = tmp_path / "bridge.sqlite3"
    store = await Store.open(path, merge_quiet=0.05)
    try:
        accepted = await store.accept(event(1))
        deadline = time.monotonic() + 10
        while not merged_keys(path) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert merged_keys(path) == {event(1).body_key: accepted.event_id}
        again = await store.accept(event(1))
        assert (again.event_id, again.duplicate) == (accepted.event_id, True)
    finally:
        await store.close()


async def test_an_event_another_process_stored_is_found_before_it_is_merged(
    tmp_path: Path,
) -> None:
    """`woo-bridge reconcile` stores events from its own process: each commit reads the
    events newer than the newest it knows of, so theirs count, alone and in a batch."""
    path = tmp_path / "bridge.sqlite3"
    ours = await Store.open(path, merge_quiet=NEVER)
    theirs = await Store.open(path, merge_quiet=NEVER)
    try:
        await ours.accept(event(0))
        first = await theirs.accept(event(1))
        second = await theirs.accept(event(2))
        alone = await ours.accept(event(1))
        assert (alone.event_id, alone.duplicate) == (first.event_id, True)
        with write_lock(path):
            batch = asyncio.gather(*(ours.accept(event(n)) for n in (3, 2, 4)))
            await asyncio.sleep(0.05)
        answers = [(a.event_id, a.duplicate) for a in await batch]
        assert answers[1] == (second.event_id, True)
        assert [d for _, d in answers] == [False, True, False]
        assert merged_keys(path) == {}
    finally:
        await ours.close()
        await theirs.close()


async def test_a_batch_that_fails_teaches_nothing(tmp_path: Path) -> None:
    """A commit that rolls back leaves no key in memory: the same deliveries again are
    stored, not answered as repeats of events that do not exist."""
    path = tmp_path / "bridge.sqlite3"
    store = await Store.open(path, merge_quiet=NEVER)
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute(
            "CREATE TRIGGER refuse AFTER INSERT ON events"
            " WHEN NEW.body = CAST('{\"id\":7}' AS BLOB) BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    try:
        with write_lock(path):
            batch = asyncio.gather(
                *(store.accept(event(n)) for n in (5, 6, 7)), return_exceptions=True
            )
            await asyncio.sleep(0.05)
        assert all(isinstance(result, Exception) for result in await batch)
        with closing(sqlite3.connect(path, isolation_level=None)) as conn:
            conn.execute("DROP TRIGGER refuse")
        again = [await store.accept(event(n)) for n in (5, 6, 7)]
        assert [a.duplicate for a in again] == [False, False, False]
    finally:
        await store.close()


async def test_a_commit_rolled_back_after_its_insert_teaches_nothing(tmp_path: Path) -> None:
    """The file moved away while a delivery is inserted: the commit rolls back after
    the row was written, and the same bytes later are a new event, not a repeat."""
    path = tmp_path / "bridge.sqlite3"
    store = await Store.open(path, merge_quiet=NEVER)
    try:
        await store.accept(event(1))
        path.rename(tmp_path / "moved.sqlite3")
        with pytest.raises(StoreError):
            await store.accept(event(2))
        (tmp_path / "moved.sqlite3").rename(path)
        again = await store.accept(event(2))
        assert not again.duplicate
        with closing(sqlite3.connect(path)) as conn:
            body = conn.execute("SELECT body FROM events WHERE id = ?", (again.event_id,))
            assert body.fetchone() == (event(2).body,)
    finally:
        await store.close()


def version_11(path: Path) -> None:
    """A database as the bridge left it before event_keys: three events (the id after
    the third already used), a message and a remembered state referring to them."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for number, script in enumerate(MIGRATIONS[:11], start=1):
            conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
        for n in range(1, 5):
            e = event(n)
            conn.execute(
                "INSERT INTO events (id, store, topic, body_key, body, received_at, state)"
                " VALUES (?, ?, ?, ?, ?, ?, 'routed')",
                (n, e.store, e.topic, e.body_key, e.body, e.received_at),
            )
        conn.execute("DELETE FROM events WHERE id = 4")
        conn.execute(
            "INSERT INTO messages (event_id, chat_id, topic, text, run_at, created_at,"
            " updated_at) VALUES (2, 5, 'order.created', 'hi', 0, 0, 0)"
        )
        conn.execute("INSERT INTO resource_states (state_key, event_id) VALUES ('s', 1)")


async def test_the_migration_keeps_every_event_its_id_and_what_refers_to_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bridge.sqlite3"
    version_11(path)
    store = await Store.open(path)
    try:
        repeat = await store.accept(event(2))
        assert (repeat.event_id, repeat.duplicate) == (2, True)
        fresh = await store.accept(event(8))
        assert (fresh.event_id, fresh.duplicate) == (5, False)  # id 4 was used: never reused
    finally:
        await store.close()
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert [r[0] for r in conn.execute("SELECT id FROM events ORDER BY id")] == [1, 2, 3, 5]
        assert conn.execute("SELECT event_id FROM messages").fetchall() == [(2,)]
        assert conn.execute("SELECT event_id FROM resource_states").fetchall() == [(1,)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        indexes = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'"
        ).fetchall()
        assert sorted(i[0] for i in indexes) == ["events_new", "events_store_time"]


async def test_a_schema_newer_than_this_bridge_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bridge.sqlite3"
    await (await Store.open(path)).close()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="newer than this version of the bridge knows"):
        await Store.open(path)

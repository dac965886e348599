"""What shares the database with intake must not hold up its commits: the queue's
counts and the WAL checkpoints run on the store's side thread; accepted events are
logged at most once per interval."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path

import pytest

from bridge.queue.models import IncomingEvent
from bridge.queue.storage import DatabaseMissing
from bridge.queue.store import CHECKPOINT_BYTES, PRUNE_SLICE, Store
from bridge.webhook.intake import body_key
from tests.helpers import eventually


def event(n: int, size: int = 0) -> IncomingEvent:
    body = b'{"id":%d,"pad":"%s"}' % (n, b"x" * size)
    return IncomingEvent(
        "default", "order.created", body, body_key("default", "order.created", body), time.time()
    )


def fill_messages(path: Path, count: int) -> None:
    """`count` sent messages, written directly: what a long-running bridge keeps."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO events (store, topic, body_key, body, received_at, state)"
        " VALUES ('default', 'order.created', 'k', x'00', 0, 'routed')"
    )
    conn.executemany(
        "INSERT INTO messages (event_id, chat_id, topic, text, status, run_at, created_at,"
        " updated_at, sent_at) VALUES (1, 1, 'order.created', ?, 'sent', 0, 0, 0, 0)",
        (("x" * 400,) for _ in range(count)),
    )
    conn.execute("COMMIT")
    conn.close()


async def test_counting_the_queue_does_not_hold_up_intake(tmp_path: Path) -> None:
    path = tmp_path / "bridge.sqlite3"
    store = await Store.open(path)
    try:
        await asyncio.to_thread(fill_messages, path, 150_000)
        finished: list[str] = []

        async def count() -> None:
            stats = await store.stats()
            assert stats.sent == 150_000
            finished.append("stats")

        async def accept() -> None:
            await store.accept(event(1))
            finished.append("accept")

        counting = asyncio.create_task(count())
        await asyncio.sleep(0)  # the count has started when the delivery arrives
        await asyncio.gather(counting, accept())
        # On the database thread, the delivery would wait for the whole scan.
        assert finished == ["accept", "stats"]
    finally:
        await store.close()


async def test_stats_never_create_a_deleted_database(tmp_path: Path) -> None:
    path = tmp_path / "bridge.sqlite3"
    store = await Store.open(path)
    try:
        path.unlink()
        with pytest.raises(DatabaseMissing):
            await store.stats()
        assert not path.exists()
    finally:
        await store.close()


async def test_intake_has_the_wal_checkpointed_off_its_thread(tmp_path: Path) -> None:
    path = tmp_path / "bridge.sqlite3"
    store = await Store.open(path)
    try:
        size = 2500
        count = CHECKPOINT_BYTES // size + 200
        for start in range(0, count, 50):
            await asyncio.gather(*(store.accept(event(n, size)) for n in range(start, start + 50)))

        # The side thread copied the WAL into the database file: without it the WAL would
        # grow to the safety net of 10,000 pages (40 MB) before the database thread did.
        def checkpointed() -> bool:
            return path.stat().st_size >= CHECKPOINT_BYTES

        await eventually(checkpointed)
    finally:
        await store.close()


async def test_accepted_events_are_logged_once_per_interval(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bridge.queue.store")
    store = await Store.open(tmp_path / "bridge.sqlite3", log_every=0.2)
    try:
        for n in range(3):
            await store.accept(event(n))
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("accepted")]
        # A lone event is told at once, with its id; the next ones wait for the interval.
        assert lines == ["accepted order.created of store default as event #1"]
        first = caplog.records[-1]
        assert (first.store, first.topic, first.event_id) == ("default", "order.created", 1)  # type: ignore[attr-defined]

        def told() -> bool:
            return any("#2 to #3" in r.getMessage() for r in caplog.records)

        await eventually(told)
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("accepted")]
        assert lines[1:] == ["accepted 2 events, #2 to #3: 2 order.created of store default"]
    finally:
        await store.close()


async def test_events_accepted_just_before_closing_are_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bridge.queue.store")
    store = await Store.open(tmp_path / "bridge.sqlite3", log_every=3600)
    for n in range(2):
        await store.accept(event(n))
    await store.close()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("accepted")]
    assert lines == [
        "accepted order.created of store default as event #1",
        "accepted order.created of store default as event #2",
    ]


async def test_pruning_lets_intake_in_between_its_slices(tmp_path: Path) -> None:
    path = tmp_path / "bridge.sqlite3"
    store = await Store.open(path)
    try:
        await asyncio.to_thread(fill_messages, path, 3 * PRUNE_SLICE + 5)
        finished: list[str] = []

        async def prune() -> None:
            now = time.time()
            # Every slice is pruned: the old event goes once all its messages have.
            assert await store.prune(now, now) == (3 * PRUNE_SLICE + 5, 1)
            finished.append("prune")

        async def accept() -> None:
            await store.accept(event(1))
            finished.append("accept")

        pruning = asyncio.create_task(prune())
        await asyncio.sleep(0)
        await asyncio.gather(pruning, accept())
        # As one statement, the delivery would wait for the whole table.
        assert finished == ["accept", "prune"]
    finally:
        await store.close()

"""The queue on its own, on SQLite and on PostgreSQL: intake, claiming order, recovery,
pruning. What only a file can do (be deleted, be locked) is SQLite's alone."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.queue.models import EventState, IncomingEvent, OutgoingMessage, Routing
from bridge.queue.retention import DAY
from bridge.queue.storage import DatabaseMissing, Storage, StoreError
from bridge.queue.store import Store
from bridge.webhook.intake import body_key
from tests.backends import Backend


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "bridge.sqlite3")
    yield opened
    await opened.close()


def event(n: int, topic: str = "order.created") -> IncomingEvent:
    body = b'{"id":%d}' % n
    return IncomingEvent("default", topic, body, body_key("default", topic, body), time.time())


async def routed(store: Storage, chats: list[int], count: int = 1) -> list[int]:
    """Store `count` events, each routed to every chat in `chats`; returns the event ids."""
    ids = []
    for _ in range(count):
        accepted = await store.accept(event(time.time_ns()))
        messages = tuple(
            OutgoingMessage(chat_id=c, topic="order.created", text="hi") for c in chats
        )
        await store.commit_routing(Routing(accepted.event_id, EventState.ROUTED, messages))
        ids.append(accepted.event_id)
    return ids


async def test_concurrent_accepts_are_all_committed(store: Storage, backend: Backend) -> None:
    results = await asyncio.gather(*(store.accept(event(n)) for n in range(200)))
    assert sorted(r.event_id for r in results) == list(range(1, 201))
    assert await backend.sql("SELECT COUNT(*) FROM events") == [(200,)]


async def test_identical_events_in_one_batch_are_one(store: Storage) -> None:
    first, second = await asyncio.gather(store.accept(event(1)), store.accept(event(1)))
    assert first.event_id == second.event_id
    # Concurrent deliveries: either may be the one stored, never both.
    assert sorted([first.duplicate, second.duplicate]) == [False, True]


async def test_events_come_back_in_arrival_order(store: Storage) -> None:
    for n in (3, 1, 2):
        await store.accept(event(n))
    assert [e.body for e in await store.new_events()] == [b'{"id":3}', b'{"id":1}', b'{"id":2}']


async def test_claim_takes_one_head_per_chat_in_order(store: Storage) -> None:
    await routed(store, [1, 2], count=3)
    now = time.time()
    first = await store.claim(now, limit=10)
    assert [(m.chat_id, m.id) for m in first] == [(1, 1), (2, 2)]
    # Nothing more for these chats while their heads are in flight.
    assert await store.claim(now, limit=10) == []
    await store.mark_sent(first[0].id, now)
    assert [(m.chat_id, m.id) for m in await store.claim(now, limit=10)] == [(1, 3)]


async def test_a_waiting_head_holds_back_its_chat_only(store: Storage) -> None:
    await routed(store, [1, 2], count=2)
    now = time.time()
    heads = await store.claim(now, limit=10)
    await store.retry_later(heads[0].id, now + 60, "boom")
    await store.mark_sent(heads[1].id, now)
    assert [(m.chat_id, m.id) for m in await store.claim(now, limit=10)] == [(2, 4)]
    assert await store.next_due(exclude_chats=[2]) == pytest.approx(now + 60)


async def test_claim_finds_every_chats_head_among_many(store: Storage) -> None:
    # Groups (negative ids), private chats and a gap left by finished messages: the
    # heads are found one chat after another, so none may be skipped.
    chats = [-1001000000002, -1001000000001, -5, 7, 9_000_000_000]
    await routed(store, chats, count=3)
    now = time.time()
    first = await store.claim(now, limit=10)
    assert sorted(m.chat_id for m in first) == sorted(chats)
    await store.mark_sent(first[0].id, now)
    await store.mark_dead(first[3].id, "gone", now)
    assert [(m.chat_id, m.id) for m in await store.claim(now, limit=10)] == [
        (first[0].chat_id, first[0].id + len(chats)),
        (first[3].chat_id, first[3].id + len(chats)),
    ]
    assert await store.next_due(exclude_chats=chats) is None


async def test_a_message_leaving_the_send_queue_is_signalled(store: Storage) -> None:
    # The router, holding back during a burst while the queue is full, waits on it.
    await routed(store, [1, 2, 3])
    now = time.time()
    heads = await store.claim(now, limit=10)
    await store.retry_later(heads[0].id, now, "boom")
    assert not store.messages_done.is_set()
    await store.mark_sent(heads[1].id, now)
    assert store.messages_done.is_set()
    store.messages_done.clear()
    await store.mark_dead(heads[2].id, "gone", now)
    assert store.messages_done.is_set()
    store.messages_done.clear()
    await store.mark_skipped(heads[0].id, "muted", now)
    assert store.messages_done.is_set()


async def test_excluded_chats_are_not_claimed(store: Storage) -> None:
    await routed(store, [1, 2])
    claimed = await store.claim(time.time(), limit=10, exclude_chats=[1])
    assert [m.chat_id for m in claimed] == [2]


async def test_in_flight_sends_are_recovered_after_a_restart(backend: Backend) -> None:
    store = await backend.open()
    await routed(store, [1])
    [claimed] = await store.claim(time.time(), limit=1)
    await store.close()  # as if the process died mid-send

    store = await backend.open()
    await backend.new_term(store)  # on PostgreSQL, the next leader's term
    try:
        assert await store.recover_in_flight() == 1
        [again] = await store.claim(time.time(), limit=1)
        assert again.id == claimed.id
        assert again.attempts == 2
    finally:
        await store.close()


async def test_retry_after_refunds_the_attempt(store: Storage) -> None:
    await routed(store, [1])
    [claimed] = await store.claim(time.time(), limit=1)
    await store.retry_later(claimed.id, time.time(), "429", counts=False)
    [again] = await store.claim(time.time(), limit=1)
    assert again.attempts == 1


async def age(backend: Backend, seconds: float) -> None:
    await backend.sql("UPDATE messages SET updated_at = $1", seconds)
    await backend.sql("UPDATE events SET received_at = $1", seconds)


async def test_prune_keeps_pending_and_recent_rows(store: Storage, backend: Backend) -> None:
    await routed(store, [1], count=3)
    now = time.time()
    [head] = await store.claim(now, 1)
    await store.mark_sent(head.id, now)
    await age(backend, now - 10 * DAY)
    assert await store.prune(now - 7 * DAY, now - 30 * DAY) == (1, 1)
    remaining = await backend.sql("SELECT status FROM messages ORDER BY id")
    assert remaining == [("pending",), ("pending",)]
    assert await store.prune(now - 7 * DAY, now - 30 * DAY) == (0, 0)


async def test_prune_removes_old_dead_letters_after_their_own_retention(
    store: Storage, backend: Backend
) -> None:
    await routed(store, [1])
    now = time.time()
    [head] = await store.claim(now, 1)
    await store.mark_dead(head.id, "Forbidden", now)
    await age(backend, now - 10 * DAY)
    assert await store.prune(now - 7 * DAY, now - 30 * DAY) == (0, 0)
    assert await store.prune(now - 7 * DAY, now - 5 * DAY) == (1, 1)


async def test_ping_writes(store: Storage, backend: Backend) -> None:
    await store.ping()
    assert await backend.sql("SELECT COUNT(*) FROM health") == [(1,)]


async def test_a_row_the_database_refuses_is_no_outage(store: Storage) -> None:
    """The router goes on with the next event after one whose row is refused."""
    orphan = Routing(4711, EventState.ROUTED, (OutgoingMessage(chat_id=1, topic="t", text="x"),))
    with pytest.raises(StoreError) as refused:
        await store.commit_routing(orphan)  # no event 4711: the foreign key refuses it
    assert refused.value.outage is False


async def test_one_commit_of_many_deliveries_answers_each_with_its_own_event(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """Deliveries that waited together are committed together: each is answered with the
    id of its own bytes, and a repeat (of a stored event, or of one earlier in the same
    commit) with the first one's."""
    stored = await sqlite_store.accept(event(0))
    blocker = sqlite3.connect(tmp_path / "bridge.sqlite3", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the next commit waits for the lock
    try:
        first = asyncio.ensure_future(sqlite_store.accept(event(1)))
        await asyncio.sleep(0.05)
        # These queue up meanwhile: one commit, more than one INSERT statement's worth.
        batch = [event(n) for n in range(2, 152)] + [event(0), event(5), event(5)]
        answers = asyncio.gather(*(sqlite_store.accept(e) for e in batch))
        await asyncio.sleep(0.05)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert not (await first).duplicate
    results = await answers
    check = sqlite3.connect(tmp_path / "bridge.sqlite3")
    try:
        bodies = dict(check.execute("SELECT id, body FROM events").fetchall())
    finally:
        check.close()
    for e, result in zip(batch[:150], results[:150], strict=True):
        assert not result.duplicate
        assert bodies[result.event_id] == e.body
    assert (results[150].event_id, results[150].duplicate) == (stored.event_id, True)
    assert [(r.event_id, r.duplicate) for r in results[151:]] == [(results[3].event_id, True)] * 2
    assert len(bodies) == 152


async def test_a_database_that_cannot_be_written_is_an_outage(tmp_path: Path) -> None:
    path = tmp_path / "bridge.sqlite3"
    opened = await Store.open(path)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        locked = await Store.open(path, busy_timeout=0.05)
        with pytest.raises(StoreError) as failed:
            await locked.accept(event(1))
        assert failed.value.outage is True
        await locked.close()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        await opened.close()


async def test_a_deleted_file_is_an_outage_named_database_missing(
    sqlite_store: Store, tmp_path: Path
) -> None:
    (tmp_path / "bridge.sqlite3").unlink()
    with pytest.raises(DatabaseMissing) as missing:
        await sqlite_store.accept(event(1))
    assert missing.value.outage is True
    with pytest.raises(DatabaseMissing):
        await sqlite_store.ping()


async def test_latest_time_is_the_newest_time_stored(store: Storage) -> None:
    assert await store.latest_time() == 0.0
    await routed(store, [1])
    newest = await store.latest_time()
    assert 0 < newest <= time.time()

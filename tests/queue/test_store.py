"""The queue's intake: concurrent webhooks are committed together, in arrival order,
and redeliveries are recognised within a batch as well as across batches."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.queue.models import IncomingEvent
from bridge.queue.store import Store
from bridge.webhook.intake import incoming_event

HEADERS = {"X-WC-Webhook-Topic": "order.created"}


def event(number: int) -> IncomingEvent:
    return incoming_event("default", HEADERS, b'{"id":%d}' % number, 1000.0 + number)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "bridge.sqlite3")
    yield opened
    await opened.close()


def stored(path: Path) -> list[tuple[int, bytes]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT id, body FROM events ORDER BY id").fetchall()
    finally:
        conn.close()


async def test_concurrent_events_are_all_committed_in_arrival_order(
    store: Store, tmp_path: Path
) -> None:
    # More than one INSERT statement's worth, all in one batch.
    events = [event(n) for n in range(400)]
    accepted = await asyncio.gather(*(store.accept(e) for e in events))
    assert [a.duplicate for a in accepted] == [False] * 400
    ids = [a.event_id for a in accepted]
    assert ids == sorted(ids)
    assert len(set(ids)) == 400
    assert stored(tmp_path / "bridge.sqlite3") == [
        (i, e.body) for i, e in zip(ids, events, strict=True)
    ]


async def test_a_redelivery_in_the_same_batch_is_a_duplicate_of_the_first(
    store: Store, tmp_path: Path
) -> None:
    first, again, other = await asyncio.gather(
        store.accept(event(1)), store.accept(event(1)), store.accept(event(2))
    )
    assert not first.duplicate
    assert again.duplicate
    assert again.event_id == first.event_id
    assert not other.duplicate
    assert len(stored(tmp_path / "bridge.sqlite3")) == 2


async def test_a_later_redelivery_is_a_duplicate_of_the_stored_event(store: Store) -> None:
    original = await store.accept(event(7))
    again, new = await asyncio.gather(store.accept(event(7)), store.accept(event(8)))
    assert again.duplicate
    assert again.event_id == original.event_id
    assert not new.duplicate
    assert new.event_id > original.event_id

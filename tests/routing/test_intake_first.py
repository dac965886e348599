"""Intake comes first: while a burst arrives the router routes at a set pace, then catches up.

The pace is twice BRIDGE_RATE_OVERALL_PER_SECOND events a second; a lone order in a quiet
bridge is routed at once, and after a burst everything is routed, in order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestClient

from bridge.config import Settings
from bridge.keys import STORE
from bridge.queue.sql import OPEN_MESSAGES_UP_TO
from bridge.queue.store import Store
from tests.fakes.telegram import FakeTelegram
from tests.helpers import db_rows, deliver, eventually, numbered_order

StartBridge = Callable[..., Awaitable[TestClient]]


def routed(client: TestClient) -> int:
    return len(db_rows(client, "SELECT id FROM events WHERE state != 'new'"))


async def test_a_burst_is_routed_at_the_pace_then_in_full_and_in_order(
    start_bridge: StartBridge, make_settings: Callable[..., Settings]
) -> None:
    # A pace of 10 events a second, against a burst of 600 deliveries at hundreds a second.
    client = await start_bridge(make_settings(bridge_rate_overall_per_second=5))
    await deliver(client, "order.created", numbered_order(1))  # warm: templates, connections
    await eventually(lambda: routed(client) == 1)
    started = time.monotonic()
    numbers = range(100, 700)
    for first in range(0, len(numbers), 20):
        answers = await asyncio.gather(
            *(deliver(client, "order.created", numbered_order(n)) for n in numbers[first:][:20])
        )
        assert all(a.status == 200 for a in answers)
    elapsed = time.monotonic() - started
    assert len(numbers) / elapsed >= 100, "the burst was too slow to count as one"
    # Routing at full speed would have kept up with a good part of the burst.
    assert routed(client) - 1 <= 10 * elapsed + 3
    await eventually(lambda: routed(client) == len(numbers) + 1, timeout=60)
    rows = db_rows(client, "SELECT event_id FROM messages ORDER BY id")
    assert [e for (e,) in rows] == sorted(e for (e,) in rows)
    assert len(rows) == len(numbers) + 1


async def test_a_lone_order_in_a_quiet_bridge_is_routed_at_once(
    start_bridge: StartBridge, make_settings: Callable[..., Settings]
) -> None:
    # At this pace a routing held back would wait half a second.
    client = await start_bridge(make_settings(bridge_rate_overall_per_second=1))
    for number in range(1, 6):
        await asyncio.sleep(0.15)  # a few orders a second: a shop's busy day, not a burst
        answer = await deliver(client, "order.created", numbered_order(number))
        assert answer.status == 200
        delivered = time.monotonic()
        await eventually(lambda n=number: routed(client) == n)  # type: ignore[misc]
        assert time.monotonic() - delivered < 0.3


async def test_a_full_send_queue_is_not_counted_again_and_again_during_a_burst(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    # A pace of 10 events a second and a lookahead of 10 messages, for a group chat that
    # takes one message a minute: after the first, the send queue stays full.
    client = await start_bridge(
        make_settings(bridge_rate_overall_per_second=5, bridge_rate_group_per_minute=1)
    )
    await deliver(client, "order.created", numbered_order(1))
    await fake_telegram.wait_for_messages(1)
    numbers = iter(range(100, 100_000))

    async def burst(seconds: float) -> None:  # well over 100 deliveries a second
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            batch = [next(numbers) for _ in range(20)]
            answers = await asyncio.gather(
                *(deliver(client, "order.created", numbered_order(n)) for n in batch)
            )
            assert all(a.status == 200 for a in answers)

    # The burst begins: the router routes at the pace until 10 messages wait (a second).
    while routed(client) < 1 + 10:
        await burst(0.1)
    # Then watch the bridge's own connection (SQLite's trace hook: the bridge unchanged).
    store = client.server.app[STORE]
    assert isinstance(store, Store)
    counts: list[str] = []
    counting = OPEN_MESSAGES_UP_TO[:40]
    store._conn.set_trace_callback(lambda sql: counts.append(sql) if counting in sql else None)
    await burst(1.5)
    store._conn.set_trace_callback(None)
    # Counting the full queue at the pace would have taken about 15 statements.
    assert len(counts) <= 2, f"the full send queue was counted {len(counts)} times"
    assert routed(client) <= 1 + 10 + 1  # the lookahead, not the burst

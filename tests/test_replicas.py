"""Two real `woo-bridge serve` processes on one PostgreSQL database.

Every replica takes webhooks; one leads (routes, sends, polls Telegram). These tests
alternate deliveries between the replicas, SIGKILL the leader mid-stream, stop the
database under both, and burst through Telegram's flood limits, and judge by what the
stand-in Telegram received. Leadership windows are shrunk (tests/replicas.py), so a
takeover takes a fraction of a second plus the new leader's start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from tests.fakes.telegram import FakeTelegram
from tests.helpers import CHAT_ID, numbered_order, order_numbers, write_routes
from tests.postgres import PostgresServer
from tests.replicas import POLL, Fleet, Replica, post_order, status_of, until
from tests.send.test_delivery import shrunk_200_times

#: the takeover docs/leadership.md states for a leader that dies: another replica leads
#: after about one poll interval (jittered by up to 20 %), then its work starts and sends
TAKEOVER_STARTUP = 1.0
#: what a machine shared with other work may add to that in these tests
MARGIN = 2.0


@pytest.fixture
def make_fleet(
    telegram: tuple[FakeTelegram, TestServer], postgres_url: str, tmp_path: Path
) -> Iterator[Callable[..., Fleet]]:
    fake, server = telegram
    made: list[Fleet] = []

    def make(**common: str) -> Fleet:
        url = str(server.make_url("")).rstrip("/")
        fleet = Fleet(postgres_url, url, fake.token, tmp_path, **common)
        made.append(fleet)
        return fleet

    yield make
    for fleet in made:
        fleet.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_webhooks_to_both_replicas_reach_telegram_once_in_order(
    make_fleet: Callable[..., Fleet], fake_telegram: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    fleet = make_fleet()
    pair = await fleet.start(2)
    numbers = list(range(1, 41))
    for n in numbers:
        assert await post_order(http, pair[n % 2], numbered_order(n)) == 200
        if n % 4 == 0:
            # WooCommerce retrying a delivery that reached one replica, through the balancer
            # to the other one: the same body, accepted as a duplicate
            assert await post_order(http, pair[(n + 1) % 2], numbered_order(n)) == 200

    async def all_recorded_sent() -> bool:
        statuses = await fleet.statuses()
        return len(statuses) >= len(numbers) and set(statuses) == {"sent"}

    # Every message recorded as sent: nothing is left that could still be sent twice.
    await until(all_recorded_sent, timeout=20, what="every order sent")
    assert len(await fleet.statuses()) == len(numbers)  # one message per order
    assert order_numbers(fake_telegram.sent) == numbers  # each once, in the order accepted
    assert {m.chat_id for m in fake_telegram.sent} == {CHAT_ID}
    # Only the leader polls Telegram for updates (a second poller gets 409 Conflict).
    assert fake_telegram.most_polls_at_once == 1
    assert all(replica.alive() for replica in pair)


async def test_sigkill_of_the_leader_loses_nothing_and_the_other_takes_over(
    make_fleet: Callable[..., Fleet], fake_telegram: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    fleet = make_fleet()
    leader, follower = await fleet.start(2)
    _, first_term = await fleet.leader()
    fake_telegram.send_delay = 0.05  # sending lags behind intake, so the kill finds a backlog
    acknowledged: list[int] = []

    async def send(number: int) -> None:
        try:
            replica = (leader, follower)[number % 2]
            if await post_order(http, replica, numbered_order(number)) == 200:
                acknowledged.append(number)
        except aiohttp.ClientError:
            pass  # to the leader as it died: WooCommerce would log a failure and retry

    senders = []
    for n in range(1, 81):
        senders.append(asyncio.create_task(send(n)))
        if n == 40:
            await until(lambda: len(fake_telegram.sent) >= 5, timeout=20, what="sending started")
    await until(lambda: len(acknowledged) >= 50, timeout=20, what="50 acknowledged")
    delivered_at_kill = len(fake_telegram.sent)
    killed_at = time.time()
    leader.kill()
    await asyncio.gather(*senders)
    assert delivered_at_kill < len(acknowledged)  # the kill really cut the stream

    # The takeover: from the kill to the stand-in accepting the first message claimed in a
    # later term, which only the survivor can have sent.
    bound = 1.2 * POLL + TAKEOVER_STARTUP
    survivors: set[int] = set()

    async def survivor_sent() -> bool:
        survivors.update(await fleet.sent_in_terms_after(first_term))
        return any(m.message_id in survivors for m in fake_telegram.sent)

    await until(survivor_sent, timeout=bound + MARGIN + 10, what="the survivor sending")
    takeover = min(m.at for m in fake_telegram.sent if m.message_id in survivors) - killed_at
    assert await fleet.wait_for_leader({follower.name}, timeout=1, after=first_term)
    assert takeover < bound + MARGIN, f"takeover took {takeover:.2f} s"

    await until(
        lambda: set(acknowledged) <= set(order_numbers(fake_telegram.sent)),
        timeout=30,
        what="every acknowledged order sent",
    )
    numbers = order_numbers(fake_telegram.sent)
    # One chat has at most one message in flight: only that one may be sent twice.
    assert len(numbers) - len(set(numbers)) <= 1
    assert follower.alive()


async def test_a_database_outage_makes_both_answer_503_and_they_recover(
    make_fleet: Callable[..., Fleet],
    fake_telegram: FakeTelegram,
    http: aiohttp.ClientSession,
    postgres_server: PostgresServer,
) -> None:
    pair = await make_fleet().start(2)
    assert await post_order(http, pair[0], numbered_order(1)) == 200
    assert await post_order(http, pair[1], numbered_order(2)) == 200
    await until(lambda: len(fake_telegram.sent) == 2, timeout=10, what="the first two sent")

    postgres_server.stop()
    try:
        for replica in pair:
            # Nothing can be committed, so nothing is acknowledged: WooCommerce retries.
            assert await post_order(http, replica, numbered_order(3)) == 503
            await until(
                partial(_not_ready, http, replica),
                timeout=10,
                what=f"{replica.name}'s /readyz failing",
            )
    finally:
        postgres_server.start()

    accepted: list[int] = []
    for number, replica in ((3, pair[0]), (4, pair[1]), (5, pair[0]), (6, pair[1])):

        async def takes(n: int = number, r: Replica = replica) -> bool:
            return await post_order(http, r, numbered_order(n)) == 200

        await until(takes, timeout=15, what=f"{replica.name} taking a delivery again")
        accepted.append(number)
    for replica in pair:
        await until(
            partial(_ready, http, replica),
            timeout=15,
            what=f"{replica.name}'s /readyz passing again",
        )
    await until(
        lambda: set(order_numbers(fake_telegram.sent)) >= {1, 2, *accepted},
        timeout=20,
        what="the queue drained after the outage",
    )
    numbers = order_numbers(fake_telegram.sent)
    assert sorted(numbers) == sorted(set(numbers))  # none sent twice
    assert all(replica.alive() for replica in pair)


async def _ready(http: aiohttp.ClientSession, replica: Replica) -> bool:
    return await status_of(http, f"{replica.url}/readyz") == 200


async def _not_ready(http: aiohttp.ClientSession, replica: Replica) -> bool:
    return await status_of(http, f"{replica.url}/readyz") == 503


ORDERS, STOCK, OWNER = -100111, -100222, 4242


async def test_a_burst_through_two_replicas_stays_within_the_flood_limits(
    make_fleet: Callable[..., Fleet],
    fake_telegram: FakeTelegram,
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    fake_telegram.limits = shrunk_200_times()
    routes = write_routes(
        tmp_path,
        "".join(
            f'[[routes]]\nchat_id = {chat}\ntopics = ["order.created"]\n\n'
            for chat in (ORDERS, STOCK, OWNER)
        ),
    )
    fleet = make_fleet(
        TELEGRAM_CHAT_ID="",
        BRIDGE_CONFIG=str(routes),
        BRIDGE_RATE_CHAT_INTERVAL_SECONDS="0.005",
        BRIDGE_RATE_GROUP_PER_MINUTE="20",
        BRIDGE_RATE_GROUP_WINDOW_SECONDS="0.3",
        BRIDGE_RATE_OVERALL_PER_SECOND="30",
        BRIDGE_RATE_OVERALL_WINDOW_SECONDS="0.005",
    )
    pair = await fleet.start(2)
    numbers = list(range(1, 101))
    for n in numbers:
        assert await post_order(http, pair[n % 2], numbered_order(n)) == 200
    await until(
        lambda: len(fake_telegram.sent) >= 3 * len(numbers), timeout=60, what="every message sent"
    )
    assert fake_telegram.flood_429s == 0
    for chat in (ORDERS, STOCK, OWNER):
        assert order_numbers(fake_telegram.messages_to(chat)) == numbers

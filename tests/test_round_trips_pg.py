"""A quiet bridge on PostgreSQL takes few round trips from a webhook to its message.

Each statement is a round trip to the server and a wake-up of its process; on a busy
machine, or with PostgreSQL on another host, those waits are most of the latency from a
webhook to Telegram. The bridge runs here through a relay that counts them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

from aiohttp.test_utils import TestClient

from bridge.config import Settings
from bridge.keys import LEADERSHIP
from tests.fakes.telegram import FakeTelegram
from tests.helpers import bot_ready, deliver, eventually, numbered_order
from tests.pg_wire import counting_relay

ORDERS = 10
#: intake 1, the router's look for new events 2 (one finds it, one finds nothing), what it
#: knows of the order 2, its commit 1, the sender's claims 3 and look for what is due 2,
#: the sent mark 1: 12, and a little room. Before: 45 (explicit transactions around
#: single statements, and asyncpg's reset query after every statement).
MOST_PER_ORDER = 15


def through(url: str, port: int) -> str:
    parts = urlsplit(url)
    user = parts.netloc.rsplit("@", 1)[0]
    return urlunsplit((parts.scheme, f"{user}@127.0.0.1:{port}", parts.path, parts.query, ""))


async def test_an_order_takes_few_round_trips_from_webhook_to_telegram(
    postgres_url: str,
    start_bridge: Callable[..., Awaitable[TestClient]],
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
) -> None:
    server = urlsplit(postgres_url)
    assert server.hostname is not None
    assert server.port is not None
    async with counting_relay(server.hostname, server.port) as relay:
        settings = make_settings(
            bridge_database_url=through(postgres_url, relay.port),
            # Heartbeats out of the way of the count.
            bridge_leader_heartbeat_seconds=30.0,
            bridge_leader_timeout_seconds=10.0,
        )
        client = await start_bridge(settings)
        await bot_ready(client)
        await eventually(lambda: client.server.app[LEADERSHIP].leading)
        first = numbered_order(100)
        assert (await deliver(client, "order.created", first)).status == 200
        await fake_telegram.wait_for_messages(1)
        await eventually(lambda: relay.round_trips > 0)

        before = relay.round_trips
        for number in range(ORDERS):
            body = numbered_order(200 + number)
            assert (await deliver(client, "order.created", body)).status == 200
            await fake_telegram.wait_for_messages(2 + number)
        per_order = (relay.round_trips - before) / ORDERS
        await client.close()
    assert per_order <= MOST_PER_ORDER, per_order

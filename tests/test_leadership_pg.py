"""Two replicas of the production app on one PostgreSQL database: one leads (routes,
sends, polls Telegram), the other only takes webhooks, and takes over the moment the
leader's session is lost. The replicas and the leader show in /metrics and /status."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bridge.app import create_app
from bridge.config import Settings
from bridge.keys import BOT, LEADERSHIP
from tests.fakes.telegram import FakeTelegram
from tests.helpers import bot_ready, deliver, eventually, wire
from tests.postgres import TEST_PASSWORD, PostgresServer

ADMIN = 42

Start = Callable[..., Awaitable[TestClient]]


async def gauges(client: TestClient) -> dict[str, float]:
    text = await (await client.get("/metrics")).text()
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name in ("bridge_leader", "bridge_replicas")
    }


async def two_replicas(
    start_bridge: Start, make_settings: Callable[..., Settings], url: str
) -> tuple[TestClient, TestClient]:
    replicas = []
    for name in ("a", "b"):
        settings = make_settings(
            bridge_database_url=url,
            bridge_replica_name=name,
            bridge_leader_poll_seconds=0.05,
            bridge_leader_heartbeat_seconds=0.2,
            bridge_leader_timeout_seconds=0.5,
            bridge_metrics_refresh_seconds=0.05,
        )
        replicas.append(await start_bridge(settings))
    for client in replicas:
        await bot_ready(client)
    await eventually(lambda: any(c.server.app[LEADERSHIP].leading for c in replicas))
    return replicas[0], replicas[1]


def leader_and_follower(a: TestClient, b: TestClient) -> tuple[TestClient, TestClient]:
    leading = [c for c in (a, b) if c.server.app[LEADERSHIP].leading]
    assert len(leading) == 1
    return (a, b) if leading[0] is a else (b, a)


async def end_session(url: str, leader: TestClient) -> None:
    """The leader's session ends (its connection is cut), as when its process dies."""
    name = leader.server.app[LEADERSHIP].replica
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            f"woo-bridge leader {name}",
        )
    finally:
        await conn.close()


def polling(client: TestClient) -> bool:
    updater = client.server.app[BOT].application.updater
    assert updater is not None
    return updater.running


async def test_one_replica_leads_and_the_other_takes_over_when_its_session_ends(
    postgres_url: str,  # first: the database outlives the replicas
    start_bridge: Start,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
) -> None:
    a, b = await two_replicas(start_bridge, make_settings, postgres_url)
    leader, follower = leader_and_follower(a, b)
    await eventually(lambda: polling(leader))
    assert not polling(follower)

    async def counted() -> bool:
        return await gauges(leader) == {"bridge_leader": 1, "bridge_replicas": 2} and (
            await gauges(follower) == {"bridge_leader": 0, "bridge_replicas": 2}
        )

    await eventually(counted)
    assert (await (await leader.get("/readyz")).json())["role"] == "leader"
    follower_ready = await follower.get("/readyz")
    assert follower_ready.status == 200
    assert (await follower_ready.json())["role"] == "follower"

    # A webhook taken by the follower is sent by the leader, once.
    assert (await deliver(follower, "order.created", wire("order"))).status == 200
    await fake_telegram.wait_for_messages(1, timeout=5)

    # The leader's session ends: it stops at once, and the follower leads.
    await end_session(postgres_url, leader)
    await eventually(lambda: follower.server.app[LEADERSHIP].leading, timeout=3)
    await eventually(lambda: not polling(leader), timeout=3)
    await eventually(lambda: polling(follower), timeout=3)
    # The old leader, following now, does not send; the new one does.
    body = wire("order").replace(b'"id":', b'"id": 9', 1)
    assert (await deliver(leader, "order.created", body)).status == 200
    await fake_telegram.wait_for_messages(2, timeout=5)
    await asyncio.sleep(0.3)
    assert len(fake_telegram.sent) == 2

    async def swapped() -> bool:
        return (await gauges(follower))["bridge_leader"] == 1 and (await gauges(leader))[
            "bridge_leader"
        ] == 0

    await eventually(swapped)


async def test_status_lists_the_replicas_and_the_leader(
    postgres_url: str,  # first: the database outlives the replicas
    start_bridge: Start,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
) -> None:
    a, b = await two_replicas(start_bridge, make_settings, postgres_url)
    leader, _ = leader_and_follower(a, b)
    name = leader.server.app[LEADERSHIP].replica

    async def both_seen() -> bool:
        return len(await leader.server.app[LEADERSHIP].replicas()) == 2

    await eventually(both_seen)
    fake_telegram.send_command("/status", chat_id=ADMIN, user_id=ADMIN, chat_type="private")
    await eventually(lambda: bool(fake_telegram.messages_to(ADMIN)))
    [reply] = fake_telegram.messages_to(ADMIN)
    assert f"Replicas</b>: 2, leader: {name}" in reply.text
    assert f"\n{name} (this one), leading, seen" in reply.text
    other = "b" if name == "a" else "a"
    assert f"\n{other}, seen" in reply.text
    assert TEST_PASSWORD not in reply.text


async def test_a_replica_that_cannot_reach_the_database_is_not_ready(
    postgres_url: str,  # first: the database outlives the replicas
    start_bridge: Start,
    make_settings: Callable[..., Settings],
    postgres_server: PostgresServer,
) -> None:
    a, b = await two_replicas(start_bridge, make_settings, postgres_url)
    leader, _ = leader_and_follower(a, b)
    postgres_server.stop()
    try:
        response = await a.get("/readyz")
        assert response.status == 503
        body = await response.json()
        assert body["database"] != "ok"
        assert TEST_PASSWORD not in await response.text()
        await eventually(lambda: not leader.server.app[LEADERSHIP].leading, timeout=3)
        await eventually(lambda: not polling(leader), timeout=3)
    finally:
        postgres_server.start()

    async def ready() -> bool:
        return (await a.get("/readyz")).status == 200

    await eventually(ready, timeout=10)
    await eventually(lambda: any(c.server.app[LEADERSHIP].leading for c in (a, b)), timeout=10)


async def test_a_replica_stops_promptly_when_its_database_is_gone(
    postgres_url: str,
    postgres_server: PostgresServer,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
) -> None:
    """Leadership lost while the app stops must not keep the app from stopping."""
    client = TestClient(TestServer(create_app(make_settings(bridge_database_url=postgres_url))))
    await client.start_server()
    try:
        assert (await deliver(client, "order.created", wire("order"))).status == 200
        await fake_telegram.wait_for_messages(1, timeout=5)
        postgres_server.drop_database(postgres_url.rsplit("/", 1)[1])
    finally:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await client.close()
        assert loop.time() - started < 5

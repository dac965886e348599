"""Leadership through the production app on SQLite: the one process leads from the
start, and everything that shows the replicas says so without changing a sole bridge."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bridge.config import Settings
from bridge.keys import BOT, LEADERSHIP
from bridge.queue.leadership import SoleLeader
from tests.fakes.telegram import FakeTelegram
from tests.helpers import bot_ready, deliver, eventually, wire

ADMIN = 42


async def gauges(client: TestClient) -> dict[str, float]:
    text = await (await client.get("/metrics")).text()
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name in ("bridge_leader", "bridge_replicas")
    }


async def test_a_sole_bridge_leads_and_counts_itself(
    start_bridge: Callable[..., Awaitable[TestClient]],
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
) -> None:
    bridge = await start_bridge(
        make_settings(bridge_metrics_refresh_seconds=0.05, bridge_replica_name="solo")
    )
    leadership = bridge.server.app[LEADERSHIP]
    assert isinstance(leadership, SoleLeader)
    assert leadership.leading
    assert leadership.replica == "solo"

    async def counted() -> bool:
        return await gauges(bridge) == {"bridge_leader": 1.0, "bridge_replicas": 1.0}

    await eventually(counted)
    # It routes, sends and polls, as a single bridge always has.
    await deliver(bridge, "order.created", wire("order"))
    await fake_telegram.wait_for_messages(1, timeout=5)
    fake_telegram.send_command("/start", chat_id=ADMIN, user_id=ADMIN, chat_type="private")
    await eventually(lambda: bool(fake_telegram.messages_to(ADMIN)))


async def test_health_and_status_of_a_sole_bridge_name_no_replica(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    await bot_ready(bridge)
    ready = await bridge.get("/readyz")
    assert ready.status == 200
    assert "role" not in await ready.json()
    assert "role" not in await (await bridge.get("/healthz")).json()
    fake_telegram.send_command("/status", chat_id=ADMIN, user_id=ADMIN, chat_type="private")
    await eventually(lambda: bool(fake_telegram.messages_to(ADMIN)))
    [reply] = fake_telegram.messages_to(ADMIN)
    assert "Queued for all chats" in reply.text
    assert "Replicas" not in reply.text


async def test_the_bot_polls_only_while_leading(bridge: TestClient) -> None:
    """The poller stops when the replica stops leading and starts again when it leads."""
    await bot_ready(bridge)
    runner = bridge.server.app[BOT]
    updater = runner.application.updater
    assert updater is not None
    await eventually(lambda: updater.running)
    await runner.follow(timeout=5)
    assert not updater.running
    runner.lead()
    await eventually(lambda: updater.running)

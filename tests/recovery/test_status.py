"""/status and /metrics tell each store's gap filling: the last webhook, the last pass,
recoveries in the last 24 hours, and the webhooks' health."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestClient

from bridge.config import Settings
from bridge.recovery.watchdog import WATCHED_TOPICS
from tests.fakes.telegram import FakeTelegram
from tests.fakes.woocommerce import FakeStore
from tests.helpers import deliver, eventually, replies
from tests.recovery.conftest import PUBLIC_URL, after_passes, gmt, passes, shop_order

StartBridge = Callable[..., Awaitable[TestClient]]
ADMIN = 42


async def test_status_and_metrics_show_each_stores_gap_filling(
    start_bridge: StartBridge,
    shop_settings: Callable[..., Settings],
    fake_shop: FakeStore,
    fake_telegram: FakeTelegram,
) -> None:
    for topic in WATCHED_TOPICS:
        fake_shop.add_webhook(topic, f"{PUBLIC_URL}/webhook")
    bridge = await start_bridge(shop_settings(bridge_public_url=PUBLIC_URL))
    await eventually(lambda: passes(bridge) >= 1)
    fake_shop.put_order(shop_order(950, modified=gmt(1)))
    await deliver(bridge, "order.created", json.dumps(shop_order(951)).encode())
    await fake_telegram.wait_for_messages(2)
    await after_passes(bridge, 1)

    fake_telegram.send_command("/status", chat_id=ADMIN, user_id=ADMIN, chat_type="private")
    status = (await replies(fake_telegram, ADMIN, 1))[-1].text
    assert "Store default" in status
    assert "Last webhook: " in status
    assert "s ago" in status
    assert "Last reconcile: " in status
    assert "recovered" in status
    assert "Recovered in 24 h: 1" in status
    assert f"Webhooks: {len(WATCHED_TOPICS)} active" in status
    assert fake_shop.consumer_secret not in status

    metrics = await (await bridge.get("/metrics")).text()
    assert 'bridge_recovered_events_total{store="default"} 1.0' in metrics
    assert 'bridge_reconcile_passes_total{result="ok",store="default"}' in metrics
    assert f'bridge_store_webhooks{{status="active",store="default"}} {len(WATCHED_TOPICS)}.0' in (
        metrics
    )


async def test_status_says_what_a_key_would_add(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.send_command("/status", chat_id=ADMIN, user_id=ADMIN, chat_type="private")
    status = (await replies(fake_telegram, ADMIN, 1))[-1].text
    assert "Store default</b>: no REST API key" in status

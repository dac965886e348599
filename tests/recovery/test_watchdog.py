"""The webhook watchdog: this bridge's disabled webhooks are set active again and reported
once in the alert chat; paused ones and missing topics are only reported."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestClient

from bridge.config import Settings
from bridge.keys import RECOVERY
from bridge.recovery.watchdog import WATCHED_TOPICS
from tests.fakes.telegram import FakeTelegram
from tests.fakes.woocommerce import FakeStore
from tests.helpers import eventually
from tests.recovery.conftest import PUBLIC_URL, after_passes

StartBridge = Callable[..., Awaitable[TestClient]]
ALERTS = -100999


def watched(settings: Callable[..., Settings], **overrides: object) -> Settings:
    return settings(bridge_public_url=PUBLIC_URL, telegram_alert_chat_id=ALERTS, **overrides)


async def test_a_disabled_webhook_is_reactivated_and_reported_once(
    start_bridge: StartBridge,
    shop_settings: Callable[..., Settings],
    fake_shop: FakeStore,
    fake_telegram: FakeTelegram,
) -> None:
    hooks = {t: fake_shop.add_webhook(t, f"{PUBLIC_URL}/webhook") for t in WATCHED_TOPICS}
    hooks["order.created"].status = "disabled"
    # Another bridge's webhook is none of this one's business.
    other = fake_shop.add_webhook("order.created", "https://elsewhere.example/hook")
    other.status = "disabled"

    bridge = await start_bridge(watched(shop_settings))
    await eventually(lambda: hooks["order.created"].status == "active")
    [alert] = await fake_telegram.wait_for_messages(1)
    await after_passes(bridge, 3)

    assert alert.chat_id == ALERTS
    assert f"#{hooks['order.created'].id} (order.created)" in alert.text
    assert "WooCommerce &gt; Status &gt; Logs" in alert.text or "Status > Logs" in alert.text
    assert len(fake_telegram.sent) == 1
    assert other.status == "disabled"
    board = bridge.server.app[RECOVERY].of("default")
    assert board.webhooks == {"active": len(WATCHED_TOPICS)}


async def test_without_reactivation_paused_and_missing_topics_are_reported_once(
    start_bridge: StartBridge,
    shop_settings: Callable[..., Settings],
    fake_shop: FakeStore,
    fake_telegram: FakeTelegram,
) -> None:
    for topic in WATCHED_TOPICS[1:]:
        fake_shop.add_webhook(topic, f"{PUBLIC_URL}/webhook")
    paused = fake_shop.add_webhook("order.updated", f"{PUBLIC_URL}/webhook/")
    paused.status = "paused"
    disabled = fake_shop.add_webhook("order.created", f"{PUBLIC_URL}/webhook")
    disabled.status = "disabled"

    bridge = await start_bridge(watched(shop_settings, bridge_webhook_reactivate=False))
    await fake_telegram.wait_for_messages(3)
    await after_passes(bridge, 3)

    texts = sorted(m.text for m in fake_telegram.sent)
    assert len(texts) == 3, texts
    assert any("is paused by an admin" in t for t in texts)
    assert any("BRIDGE_WEBHOOK_REACTIVATE=false" in t for t in texts)
    assert any("expect order.created" in t for t in texts)
    assert (paused.status, disabled.status) == ("paused", "disabled")

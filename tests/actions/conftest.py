"""A shop with a REST API key, and a bridge whose order messages carry status buttons."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.config import Settings
from tests.fakes.telegram import FakeTelegram, SentMessage
from tests.fakes.woocommerce import FakeStore
from tests.helpers import SHOP_ROUTES, bot_ready, deliver, write_routes
from tests.recovery.conftest import gmt, shop_order

#: a member of TELEGRAM_STAFF_IDS, and someone who is neither staff nor admin
STAFF, STRANGER = 77, 555

StartBridge = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def action_settings(
    shop: tuple[FakeStore, TestServer], make_settings: Callable[..., Settings], tmp_path: Path
) -> Callable[..., Settings]:
    """Orders go to two chats (a group and a forum topic); gap filling is off."""
    store, server = shop

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "telegram_chat_id": None,
            "telegram_staff_ids": str(STAFF),
            "woocommerce_store_url": str(server.make_url("")).rstrip("/"),
            "woocommerce_consumer_key": store.consumer_key,
            "woocommerce_consumer_secret": store.consumer_secret,
            "bridge_reconcile_interval_seconds": 0,
        }
        values.update(overrides)
        if "bridge_config" not in values:
            values["bridge_config"] = write_routes(tmp_path, SHOP_ROUTES)
        return make_settings(**values)

    return make


@pytest.fixture
def open_shop(
    start_bridge: StartBridge, action_settings: Callable[..., Settings]
) -> Callable[..., Awaitable[TestClient]]:
    async def start(clock: Clock = SYSTEM_CLOCK, **overrides: Any) -> TestClient:
        client = await start_bridge(action_settings(**overrides), clock=clock)
        await bot_ready(client)
        return client

    return start


async def order_message(
    bridge: TestClient,
    fake_shop: FakeStore,
    fake_telegram: FakeTelegram,
    number: int = 1001,
    status: str = "processing",
) -> tuple[dict[str, Any], list[SentMessage]]:
    """An order the shop has and WooCommerce announced: its two copies (group, forum)."""
    order = shop_order(number, status, modified=gmt(60))
    fake_shop.put_order(order)
    before = len(fake_telegram.sent)
    await deliver(bridge, "order.created", json.dumps(order).encode())
    sent = await fake_telegram.wait_for_messages(before + 2)
    return order, sent[before:]

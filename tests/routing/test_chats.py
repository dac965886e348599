"""Groups that become supergroups: messages, routes and mutes follow, also after a restart."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from bridge.config import Settings
from tests.fakes.telegram import FakeTelegram, Reply
from tests.helpers import (
    ADMIN,
    ORDERS_CHAT,
    SHOP_ROUTES,
    STAFF,
    STOCK_CHAT,
    bot_ready,
    db_rows,
    deliver,
    eventually,
    order_body,
    replies,
    wire,
    write_routes,
)

StartBridge = Callable[..., Awaitable[TestClient]]

OLD, NEW = -4001, -1009876543210
UPGRADED = Reply(
    400, "Bad Request: group chat was upgraded to a supergroup chat", migrate_to_chat_id=NEW
)


def sends_to(fake: FakeTelegram, chat_id: int) -> int:
    return sum(1 for m, p in fake.calls if m == "sendMessage" and int(p["chat_id"]) == chat_id)


async def test_a_group_that_became_a_supergroup_is_followed_for_good(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = write_routes(tmp_path, f'[[routes]]\nname = "orders"\nchat_id = {OLD}\n')
    settings = make_settings(telegram_chat_id=None, bridge_config=path)
    first = await start_bridge(settings)
    await bot_ready(first)
    fake_telegram.send_command("/mute product.*", chat_id=OLD, user_id=ADMIN)
    await replies(fake_telegram, OLD, 1)

    fake_telegram.script("sendMessage", UPGRADED)
    await deliver(first, "order.created", order_body(saved=1))
    [message] = await replies(fake_telegram, NEW, 1)
    assert "New order" in message.text
    hint = (
        f"chat {OLD} became supergroup {NEW}; the bridge sends there now. Update the "
        f"configuration: replace chat_id = {OLD} with chat_id = {NEW} in {path}"
    )
    assert hint in caplog.text
    assert db_rows(first, "SELECT old_chat_id, new_chat_id FROM chat_aliases") == [(OLD, NEW)]
    assert db_rows(first, "SELECT chat_id, pattern FROM mutes") == [(NEW, "product.*")]

    # New events go straight to the new id, and the mute came along.
    await deliver(first, "product.created", wire("product"))
    await eventually(
        lambda: (
            db_rows(
                first, "SELECT chat_id, status FROM messages WHERE topic = ?", "product.created"
            )
            == [(NEW, "skipped")]
        )
    )
    await first.close()

    caplog.clear()
    second = await start_bridge(settings)  # the file still names the old id
    await bot_ready(second)
    assert hint in caplog.text
    await deliver(second, "order.updated", order_body(saved=2, status="completed"))
    [_, update] = await replies(fake_telegram, NEW, 2)
    assert "Processing → Completed" in update.text
    assert sends_to(fake_telegram, OLD) == 2  # the /mute answer and the refused order

    fake_telegram.send_command("/topics", chat_id=NEW, user_id=STAFF, chat_type="supergroup")
    listing = (await replies(fake_telegram, NEW, 3))[-1]
    assert "🔕 product.created: muted until /unmute" in listing.text


async def test_the_hint_names_telegram_chat_id_in_the_simple_case(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    client = await start_bridge(make_settings(telegram_chat_id=OLD))
    fake_telegram.script("sendMessage", UPGRADED)
    await deliver(client, "order.created", wire("order"))
    await replies(fake_telegram, NEW, 1)
    assert f"configuration: set TELEGRAM_CHAT_ID={NEW}" in caplog.text


async def test_the_bridges_own_alerts_are_never_muted(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    path = write_routes(tmp_path, SHOP_ROUTES)
    settings = make_settings(
        telegram_chat_id=None, bridge_config=path, telegram_alert_chat_id=ORDERS_CHAT
    )
    client = await start_bridge(settings)
    await bot_ready(client)
    fake_telegram.send_command("/mute *", chat_id=ORDERS_CHAT, user_id=ADMIN)
    await replies(fake_telegram, ORDERS_CHAT, 1)
    fake_telegram.forbidden_chats.add(STOCK_CHAT)
    await deliver(client, "product.created", wire("product"))
    alert = (await replies(fake_telegram, ORDERS_CHAT, 2))[-1]
    assert f"cannot post to chat <code>{STOCK_CHAT}</code>" in alert.text

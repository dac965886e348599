"""/start, /help and /status through the stand-in Telegram, and who may use them where."""

from __future__ import annotations

import logging

import pytest
from aiohttp.test_utils import TestClient

from tests.fakes.telegram import FakeTelegram
from tests.helpers import (
    ADMIN,
    FORUM_CHAT,
    ORDERS_CHAT,
    STAFF,
    STOCK_CHAT,
    UNROUTED_CHAT,
    db_rows,
    deliver,
    eventually,
    replies,
    wire,
)


async def test_the_command_menu_lists_every_staff_command(
    shop: TestClient, fake_telegram: FakeTelegram
) -> None:
    await eventually(lambda: bool(fake_telegram.commands))
    assert [c["command"] for c in fake_telegram.commands] == [
        "start",
        "help",
        "topics",
        "mute",
        "unmute",
        "status",
        "failed",
        "order",
        "orders",
        "note",
        "report",
    ]


async def test_start_shows_the_ids_in_any_chat(
    shop: TestClient, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.send_command("/start", chat_id=UNROUTED_CHAT, user_id=STAFF)
    [reply] = await replies(fake_telegram, UNROUTED_CHAT, 1)
    assert f"Chat id: <code>{UNROUTED_CHAT}</code>" in reply.text
    assert "Thread id" not in reply.text


async def test_help_in_a_forum_topic_answers_there_with_the_thread_id(
    shop: TestClient, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.send_command(
        "/help@shop_bridge_bot",
        chat_id=FORUM_CHAT,
        user_id=STAFF,
        chat_type="supergroup",
        thread_id=12,
    )
    [reply] = await replies(fake_telegram, FORUM_CHAT, 1)
    assert reply.thread_id == 12
    assert f"Chat id: <code>{FORUM_CHAT}</code>" in reply.text
    assert "Thread id: <code>12</code>" in reply.text


async def test_a_command_for_another_bot_is_not_answered(
    shop: TestClient, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.send_command("/help@other_bot", chat_id=ORDERS_CHAT, user_id=STAFF)
    fake_telegram.send_command("/start", chat_id=ORDERS_CHAT, user_id=STAFF)
    await replies(fake_telegram, ORDERS_CHAT, 1)
    # Updates are handled in order: /start's answer means the first was handled too.
    assert len(fake_telegram.messages_to(ORDERS_CHAT)) == 1


async def test_status_speaks_of_this_chat_only(
    shop: TestClient, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.forbidden_chats.add(STOCK_CHAT)  # its message becomes a dead letter
    await deliver(shop, "order.created", wire("order"))
    await deliver(shop, "product.created", wire("product"))
    await replies(fake_telegram, ORDERS_CHAT, 1)
    await replies(fake_telegram, FORUM_CHAT, 2)
    await eventually(lambda: bool(db_rows(shop, "SELECT id FROM messages WHERE status = 'dead'")))
    fake_telegram.forbidden_chats.clear()

    fake_telegram.send_command("/status", chat_id=ORDERS_CHAT, user_id=STAFF)
    fake_telegram.send_command("/status", chat_id=STOCK_CHAT, user_id=STAFF)
    fake_telegram.send_command("/status", chat_id=ADMIN, user_id=ADMIN, chat_type="private")
    orders = (await replies(fake_telegram, ORDERS_CHAT, 2))[-1].text
    stock = (await replies(fake_telegram, STOCK_CHAT, 1))[-1].text
    owner = (await replies(fake_telegram, ADMIN, 1))[-1].text
    assert "Queued for this chat: 0" in orders
    assert "Dead letters: 0" in orders
    assert "s ago" in orders
    assert "Dead letters: 1" in stock
    assert "Last message sent: never" in stock
    assert "Queued for all chats: 0" in owner
    assert "Dead letters: 1" in owner


async def test_commands_from_chats_no_route_names_are_ignored_and_logged_once(
    shop: TestClient, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bridge.bot.access")
    for command in ("/status", "/topics", "/mute order.*", "/unmute all"):
        fake_telegram.send_command(command, chat_id=UNROUTED_CHAT, user_id=ADMIN)
    fake_telegram.send_command("/status", chat_id=STAFF, user_id=STAFF, chat_type="private")
    fake_telegram.send_command("/start", chat_id=UNROUTED_CHAT, user_id=ADMIN)
    await replies(fake_telegram, UNROUTED_CHAT, 1)
    assert len(fake_telegram.messages_to(UNROUTED_CHAT)) == 1  # only /start answered
    assert fake_telegram.messages_to(STAFF) == []
    ignored = [
        r.getMessage() for r in caplog.records if "ignoring staff commands" in r.getMessage()
    ]
    reason = "no route names it (/start shows its id)"
    assert ignored == [
        f"ignoring staff commands from chat {UNROUTED_CHAT}: {reason}",
        f"ignoring staff commands from chat {STAFF}: {reason}",
    ]


async def test_failed_shows_admins_the_count_and_latest_errors(
    shop: TestClient, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.forbidden_chats.add(STOCK_CHAT)
    await deliver(shop, "product.created", wire("product"))
    await deliver(shop, "order.created", wire("order"))
    await replies(fake_telegram, ORDERS_CHAT, 1)
    await eventually(lambda: bool(db_rows(shop, "SELECT id FROM messages WHERE status = 'dead'")))
    fake_telegram.forbidden_chats.clear()

    fake_telegram.send_command("/failed", chat_id=STOCK_CHAT, user_id=ADMIN)
    fake_telegram.send_command("/failed", chat_id=ORDERS_CHAT, user_id=ADMIN)
    fake_telegram.send_command("/failed", chat_id=ADMIN, user_id=ADMIN, chat_type="private")
    stock = (await replies(fake_telegram, STOCK_CHAT, 1))[-1].text
    orders = (await replies(fake_telegram, ORDERS_CHAT, 2))[-1].text
    owner = (await replies(fake_telegram, ADMIN, 1))[-1].text
    assert "1 dead letter(s) for this chat" in stock
    assert "product.created" in stock
    assert "Forbidden" in stock
    assert "woo-bridge replay --all" in stock
    assert orders == "No dead letters for this chat."
    assert "1 dead letter(s) for all chats" in owner


async def test_failed_is_for_admins_only(shop: TestClient, fake_telegram: FakeTelegram) -> None:
    fake_telegram.send_command("/failed", chat_id=ORDERS_CHAT, user_id=STAFF)
    [reply] = await replies(fake_telegram, ORDERS_CHAT, 1)
    assert "only the shop's admins" in reply.text
    assert str(STAFF) in reply.text

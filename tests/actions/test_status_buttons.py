"""Status buttons under order messages, end to end: the real bridge, a fake Telegram that
presses them, and a fake store whose REST API changes the order."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from bridge.keys import SETTINGS
from tests.actions.conftest import STAFF, STRANGER, order_message
from tests.fakes.clock import ShiftedClock
from tests.fakes.telegram import FakeTelegram
from tests.fakes.woocommerce import FakeStore
from tests.helpers import (
    FORUM_CHAT,
    ORDERS_CHAT,
    button_data,
    db_rows,
    deliver,
    eventually,
    write_routes,
)

OpenShop = Callable[..., Awaitable[TestClient]]


def with_actions(group_lines: str, forum_lines: str = "") -> str:
    """The orders group with `group_lines` added to its route; the forum's orders topic."""
    return f"""
[[routes]]
name = "orders"
chat_id = {ORDERS_CHAT}
topics = ["order.*"]
{group_lines}

[[routes]]
name = "forum: orders"
chat_id = {FORUM_CHAT}
thread_id = 12
topics = ["order.*"]
{forum_lines}
"""


def labels(markup: object) -> list[str]:
    rows = markup["inline_keyboard"] if isinstance(markup, dict) else []
    return [button["text"] for row in rows for button in row]


def audit(bridge: TestClient) -> list[tuple[object, ...]]:
    return db_rows(
        bridge, "SELECT user_id, order_id, from_status, to_status, result FROM order_actions"
    )


async def answered(fake: FakeTelegram, count: int) -> str:
    await eventually(lambda: len(fake.callback_answers) >= count)
    return str(fake.callback_answers[count - 1].get("text", ""))


async def test_order_messages_carry_the_next_statuses_and_the_admin_link(
    open_shop: OpenShop, fake_shop: FakeStore, fake_telegram: FakeTelegram
) -> None:
    bridge = await open_shop()
    _, [group, forum] = await order_message(bridge, fake_shop, fake_telegram)

    for message in (group, forum):
        assert labels(message.reply_markup) == ["Completed", "On hold", "Cancelled"]
        data = button_data(message, "Completed")
        assert data == "os:processing:completed"
        assert len(data.encode()) < 64


async def test_a_press_changes_the_status_once_and_edits_every_chat(
    open_shop: OpenShop, fake_shop: FakeStore, fake_telegram: FakeTelegram
) -> None:
    bridge = await open_shop()
    order, [group, forum] = await order_message(bridge, fake_shop, fake_telegram)

    fake_telegram.press_button(group, button_data(group, "Completed"), user_id=STAFF)

    assert await answered(fake_telegram, 1) == "Order #1001 is now Completed."
    assert fake_shop.orders[1001]["status"] == "completed"
    assert len(fake_shop.calls("PUT")) == 1
    [note] = fake_shop.notes[1001]
    assert "to completed by Staff (Telegram user 77) from Telegram" in note["note"]
    assert note["customer_note"] is False
    await eventually(lambda: len(fake_telegram.edits) == 2)
    for message in (group, forum):
        text, markup = fake_telegram.shown[(message.chat_id, message.message_id)]
        assert "✅ Completed · Staff ·" in text
        assert "Completed" in text.split("✅")[0]  # the card itself shows the new status
        assert labels(markup) == []  # nothing comes after completed by default
    assert audit(bridge) == [(STAFF, "1001", "processing", "completed", "done")]

    # WooCommerce's order.updated for this change tells nothing new: no second message.
    saved = json.dumps(fake_shop.orders[1001]).encode()
    await deliver(bridge, "order.updated", saved)
    await eventually(
        lambda: (
            db_rows(bridge, "SELECT state FROM events ORDER BY id DESC LIMIT 1") == [("routed",)]
        )
    )
    assert len(fake_telegram.sent) == 2
    assert order["id"] == 1001


async def test_a_status_changed_in_wp_admin_meanwhile_is_not_overwritten(
    open_shop: OpenShop, fake_shop: FakeStore, fake_telegram: FakeTelegram
) -> None:
    bridge = await open_shop()
    _, [group, _] = await order_message(bridge, fake_shop, fake_telegram)
    fake_shop.orders[1001]["status"] = "on-hold"  # someone in wp-admin was quicker

    fake_telegram.press_button(group, button_data(group, "Completed"), user_id=STAFF)

    answer = await answered(fake_telegram, 1)
    assert answer == "Order #1001 is already On hold; nothing was changed."
    assert fake_shop.calls("PUT") == []
    assert fake_shop.notes == {}
    # The message is refreshed: it shows on-hold now, with on-hold's buttons.
    await eventually(lambda: len(fake_telegram.edits) == 2)
    _, markup = fake_telegram.shown[(group.chat_id, group.message_id)]
    assert labels(markup) == ["Processing", "Cancelled"]  # the store's link is not public
    race = "race: the order was on-hold"
    assert audit(bridge) == [(STAFF, "1001", "processing", "completed", race)]


async def test_a_double_tap_changes_the_order_once(
    open_shop: OpenShop, fake_shop: FakeStore, fake_telegram: FakeTelegram
) -> None:
    bridge = await open_shop()
    _, [group, forum] = await order_message(bridge, fake_shop, fake_telegram)
    data = button_data(group, "Completed")

    fake_telegram.press_button(group, data, user_id=STAFF)
    fake_telegram.press_button(forum, button_data(forum, "Completed"), user_id=42)

    await answered(fake_telegram, 2)
    answers = sorted(a["text"] for a in fake_telegram.callback_answers)
    assert answers == [
        "Order #1001 is already Completed; nothing was changed.",
        "Order #1001 is now Completed.",
    ]
    assert len(fake_shop.calls("PUT")) == 1
    assert len(fake_shop.notes[1001]) == 1
    results = [row[-1] for row in audit(bridge)]
    assert sorted(results) == ["done", "race: the order was completed"]


async def test_someone_not_on_the_staff_is_refused_with_their_id(
    open_shop: OpenShop, fake_shop: FakeStore, fake_telegram: FakeTelegram
) -> None:
    bridge = await open_shop()
    _, [group, _] = await order_message(bridge, fake_shop, fake_telegram)

    fake_telegram.press_button(group, button_data(group, "Completed"), user_id=STRANGER)

    answer = await answered(fake_telegram, 1)
    assert str(STRANGER) in answer
    assert "TELEGRAM_STAFF_IDS" in answer
    assert fake_telegram.callback_answers[0]["show_alert"] == "true"
    assert fake_shop.calls("PUT") == []
    # Not even read (the start-up setup check lists the store's webhooks; that is all).
    assert [call.path for call in fake_shop.calls("GET") if "/orders" in call.path] == []
    assert fake_shop.orders[1001]["status"] == "processing"
    assert audit(bridge) == []


async def test_forged_data_cannot_reach_another_order(
    open_shop: OpenShop, fake_shop: FakeStore, fake_telegram: FakeTelegram
) -> None:
    bridge = await open_shop()
    _, [group, _] = await order_message(bridge, fake_shop, fake_telegram, number=1001)
    await order_message(bridge, fake_shop, fake_telegram, number=1002)

    # Data naming another order is not even understood; the message names the order.
    fake_telegram.press_button(group, "os:processing:completed:1002", user_id=STAFF)
    await answered(fake_telegram, 1)
    fake_telegram.press_button(group, "os:processing:completed", user_id=STAFF)
    await answered(fake_telegram, 2)

    assert fake_shop.orders[1001]["status"] == "completed"
    assert fake_shop.orders[1002]["status"] == "processing"
    assert [call.path.rsplit("/", 1)[-1] for call in fake_shop.calls("PUT")] == ["1001"]


async def test_cancelling_asks_for_a_confirming_tap_that_expires(
    open_shop: OpenShop, fake_shop: FakeStore, fake_telegram: FakeTelegram
) -> None:
    clock = ShiftedClock()
    bridge = await open_shop(clock=clock, bridge_order_confirm_seconds=30)
    _, [group, _] = await order_message(bridge, fake_shop, fake_telegram)
    cancel = button_data(group, "Cancelled")

    fake_telegram.press_button(group, cancel, user_id=STAFF)
    first = await answered(fake_telegram, 1)
    assert "again within 30 s to confirm" in first
    clock.advance(31)  # too late: the second tap asks again
    fake_telegram.press_button(group, cancel, user_id=STAFF)
    assert "to confirm" in await answered(fake_telegram, 2)
    assert fake_shop.calls("PUT") == []
    # Someone else's tap does not confirm it either.
    fake_telegram.press_button(group, cancel, user_id=42)
    assert "to confirm" in await answered(fake_telegram, 3)
    assert fake_shop.calls("PUT") == []

    fake_telegram.press_button(group, cancel, user_id=42)
    assert await answered(fake_telegram, 4) == "Order #1001 is now Cancelled."
    assert fake_shop.orders[1001]["status"] == "cancelled"
    assert audit(bridge) == [(42, "1001", "processing", "cancelled", "done")]


@pytest.mark.parametrize(
    ("fault", "expected", "result"),
    [
        ("timeout", "did not answer in time", "failed: unreachable"),
        ("401", "refused the bridge's REST API key (HTTP 401)", "failed: 401"),
        ("403", "refused the bridge's REST API key (HTTP 403)", "failed: 403"),
        ("read-only key", "refused the bridge's REST API key (HTTP 401)", "failed: 401"),
        ("404", "Order #1001 no longer exists in the store", "failed: 404"),
        ("400", "does not accept “Shipped”", "failed: 400"),
    ],
)
async def test_failures_answer_in_one_sentence_and_change_nothing(
    open_shop: OpenShop,
    fake_shop: FakeStore,
    fake_telegram: FakeTelegram,
    tmp_path: Path,
    fault: str,
    expected: str,
    result: str,
) -> None:
    # "shipped" is offered here, but this store has no such status.
    offered = 'order_actions = { processing = ["completed", "shipped"] }'
    routes = write_routes(tmp_path, with_actions(offered))
    bridge = await open_shop(bridge_order_rest_timeout_seconds=0.3, bridge_config=routes)
    _, [group, forum] = await order_message(bridge, fake_shop, fake_telegram)
    data = "os:processing:completed"  # as a button of the default flow would send
    match fault:
        case "timeout":
            fake_shop.delay = 1.0
        case "401" | "403":
            fake_shop.fail_status = int(fault)
        case "read-only key":
            fake_shop.permissions = "read"
        case "404":
            del fake_shop.orders[1001]
        case "400":
            data = button_data(group, "Shipped")

    fake_telegram.press_button(group, data, user_id=STAFF)

    answer = await answered(fake_telegram, 1)
    assert expected in answer
    assert fake_shop.consumer_secret not in answer
    assert fake_shop.orders.get(1001, {}).get("status", "processing") == "processing"
    assert fake_telegram.edits == []
    assert [row[-1] for row in audit(bridge)] == [result]
    # The bot goes on handling updates.
    fake_shop.delay, fake_shop.fail_status, fake_shop.permissions = 0.0, None, "read_write"
    if fault != "404":
        fake_telegram.press_button(forum, "os:processing:completed", user_id=STAFF)
        assert await answered(fake_telegram, 2) == "Order #1001 is now Completed."


async def test_orders_of_a_store_without_a_rest_key_have_no_status_buttons(
    open_shop: OpenShop, fake_shop: FakeStore, fake_telegram: FakeTelegram
) -> None:
    bridge = await open_shop(woocommerce_consumer_key=None, woocommerce_consumer_secret=None)
    _, [group, _] = await order_message(bridge, fake_shop, fake_telegram)
    assert not any(label in labels(group.reply_markup) for label in ("Completed", "Cancelled"))


async def test_woo_bridge_actions_lists_the_audit(
    open_shop: OpenShop, fake_shop: FakeStore, fake_telegram: FakeTelegram
) -> None:
    bridge = await open_shop()
    _, [group, forum] = await order_message(bridge, fake_shop, fake_telegram)
    fake_telegram.press_button(group, button_data(group, "Completed"), user_id=STAFF)
    await answered(fake_telegram, 1)
    fake_telegram.press_button(forum, button_data(forum, "On hold"), user_id=42)
    await answered(fake_telegram, 2)
    data_dir = bridge.server.app[SETTINGS].bridge_data_dir

    run = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bridge", "actions"],
        env={"PATH": os.environ.get("PATH", ""), "BRIDGE_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    listing = run.stdout

    newest, oldest = listing.splitlines()[1:]
    for part in ("#1001", "processing -> on-hold", "(42)", "race: the order was completed"):
        assert part in newest
    for part in ("#1001", "processing -> completed", "Staff (77)", "done"):
        assert part in oldest
    assert fake_shop.consumer_secret not in listing


async def test_a_route_chooses_its_buttons_turns_them_off_or_trusts_its_chat(
    open_shop: OpenShop, fake_shop: FakeStore, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    group_lines = 'order_actions = { processing = ["completed"] }\norder_actions_by = "chat"'
    routes = write_routes(tmp_path, with_actions(group_lines, "order_actions = false"))
    bridge = await open_shop(bridge_config=routes)
    _, [group, forum] = await order_message(bridge, fake_shop, fake_telegram)

    assert labels(group.reply_markup) == ["Completed"]
    assert labels(forum.reply_markup) == []
    # A status this chat is not offered cannot be asked for by hand.
    fake_telegram.press_button(group, "os:processing:on-hold", user_id=STRANGER)
    assert await answered(fake_telegram, 1) == "This chat's buttons do not offer that change."
    assert fake_shop.calls("PUT") == []
    # Every member of the group may press its buttons.
    fake_telegram.press_button(group, button_data(group, "Completed"), user_id=STRANGER)
    assert await answered(fake_telegram, 2) == "Order #1001 is now Completed."
    # Not in the forum, whose route trusts only the staff.
    fake_telegram.press_button(forum, "os:completed:processing", user_id=STRANGER)
    assert "TELEGRAM_STAFF_IDS" in await answered(fake_telegram, 3)
    assert [row[-1] for row in audit(bridge)] == ["done"]


async def test_buttons_and_answers_speak_the_chats_language(
    open_shop: OpenShop, fake_shop: FakeStore, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    routes = write_routes(tmp_path, with_actions('language = "vi"', 'language = "pt_BR"'))
    bridge = await open_shop(bridge_config=routes)
    _, [group, forum] = await order_message(bridge, fake_shop, fake_telegram)

    assert labels(group.reply_markup) == ["Đã hoàn thành", "Tạm giữ", "Đã hủy"]
    fake_telegram.press_button(group, "os:processing:completed", user_id=STAFF)
    assert await answered(fake_telegram, 1) == "Đơn hàng #1001 giờ là Đã hoàn thành."
    fake_telegram.press_button(forum, "os:processing:completed", user_id=STRANGER)
    assert (await answered(fake_telegram, 2)).startswith("Desculpe, só a equipe da loja")
    assert bridge is not None

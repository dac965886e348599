"""Routing through the real bridge: status changes, several chats, filters, forum topics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestClient

from bridge.config import Settings
from tests.fakes.telegram import FakeTelegram
from tests.helpers import db_rows, deliver, eventually, order_body, wire, write_routes

StartBridge = Callable[..., Awaitable[TestClient]]

ORDERS, BIG, STOCK, FORUM = -1001, -1002, -1003, -1004


async def all_routed(client: TestClient) -> None:
    await eventually(lambda: not db_rows(client, "SELECT id FROM events WHERE state = 'new'"))
    await eventually(
        lambda: (
            not db_rows(client, "SELECT id FROM messages WHERE status IN ('pending', 'sending')")
        )
    )


async def test_a_status_change_is_sent_and_a_save_without_one_is_not(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    await deliver(bridge, "order.updated", order_body(saved=1, status="pending"))
    await deliver(bridge, "order.updated", order_body(saved=2, status="pending"))
    await deliver(bridge, "order.updated", order_body(saved=3, status="processing"))
    await deliver(bridge, "order.updated", order_body(saved=4, status="processing"))
    await all_routed(bridge)
    texts = [m.text for m in fake_telegram.sent]
    assert len(texts) == 2
    assert "Order #727 is now Pending payment" in texts[0]
    assert "Order #727: Pending payment → Processing" in texts[1]
    notes = [n for (n,) in db_rows(bridge, "SELECT note FROM events ORDER BY id")]
    assert notes == [None, "no status change (pending)", None, "no status change (processing)"]


async def test_a_new_order_then_its_first_change(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    await deliver(bridge, "order.created", order_body(saved=1, status="on-hold"))
    await deliver(bridge, "order.updated", order_body(saved=1, status="on-hold", note="x"))
    await deliver(bridge, "order.updated", order_body(saved=2, status="completed"))
    await all_routed(bridge)
    first, second = fake_telegram.sent
    assert "New order" in first.text
    assert "On hold → Completed" in second.text


async def test_a_late_delivery_is_not_a_change(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    await deliver(bridge, "order.updated", order_body(saved=5, status="completed"))
    await deliver(bridge, "order.updated", order_body(saved=3, status="processing"))
    await deliver(bridge, "order.updated", order_body(saved=6, status="refunded"))
    await all_routed(bridge)
    assert [t.text.splitlines()[0] for t in fake_telegram.sent] == [
        "🔄 <b>Order #727 is now Completed</b>",
        "🔄 <b>Order #727: Completed → Refunded</b>",
    ]


async def test_a_route_can_ask_for_every_save(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    path = write_routes(tmp_path, f'[[routes]]\nchat_id = {ORDERS}\norder_updates = "all"\n')
    client = await start_bridge(make_settings(telegram_chat_id=None, bridge_config=path))
    await deliver(client, "order.updated", order_body(saved=1))
    await deliver(client, "order.updated", order_body(saved=2))
    await all_routed(client)
    first, second = fake_telegram.sent
    assert "Order #727 is now Processing" in first.text
    assert "Order #727 updated" in second.text


async def test_one_event_reaches_several_chats_through_their_filters(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    path = write_routes(
        tmp_path,
        f"""
[[routes]]
name = "orders"
chat_id = {ORDERS}
topics = ["order.*"]
statuses = ["processing"]

[[routes]]
name = "big orders"
chat_id = {BIG}
topics = ["order.created"]
min_total = 100

[[routes]]
name = "stock"
chat_id = {STOCK}
topics = ["product.*"]
silent = true

[[routes]]
name = "forum: orders topic"
chat_id = {FORUM}
thread_id = 12
topics = ["order.*"]

[[routes]]
name = "forum: general"
chat_id = {FORUM}
exclude = ["order.*"]
""",
    )
    client = await start_bridge(make_settings(telegram_chat_id=None, bridge_config=path))
    await deliver(client, "order.created", order_body(status="processing", total="29.35"))
    await deliver(client, "product.updated", wire("product"))
    await deliver(
        client, "order.created", order_body(id=728, number="728", status="pending", total="150")
    )
    await all_routed(client)

    def what(text: str) -> str:
        return next(
            w
            for w in ("order #727", "order #728", "Premium Quality")
            if w in text.lower() or w in text
        )

    received = Counter((m.chat_id, m.thread_id, m.silent, what(m.text)) for m in fake_telegram.sent)
    assert received == Counter(
        [
            (ORDERS, None, False, "order #727"),
            (FORUM, 12, False, "order #727"),
            (STOCK, None, True, "Premium Quality"),
            (FORUM, None, False, "Premium Quality"),
            (BIG, None, False, "order #728"),
            (FORUM, 12, False, "order #728"),
        ]
    )
    # The General topic is reached without a thread id: Telegram refuses 1.
    general = [
        p for m, p in fake_telegram.calls if m == "sendMessage" and int(p["chat_id"]) == FORUM
    ]
    assert sum("message_thread_id" not in p for p in general) == 1


# --- several stores ---------------------------------------------------------------------------

TWO_STORES = f"""
[[stores]]
name = "br"
secret = "br_secret"
store_url = "https://loja.example.com.br"

[[routes]]
name = "default staff"
chat_id = {ORDERS}
stores = ["default"]

[[routes]]
name = "br staff"
chat_id = {STOCK}
stores = ["br"]

[[routes]]
name = "owners"
chat_id = {BIG}
"""


async def two_stores(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], tmp_path: Path
) -> TestClient:
    path = write_routes(tmp_path, TWO_STORES)
    return await start_bridge(
        make_settings(
            telegram_chat_id=None,
            bridge_config=path,
            woocommerce_store_url="https://shop.example.com",
        )
    )


def button_url(message: object) -> str:
    markup = getattr(message, "reply_markup", None) or {}
    return str(markup["inline_keyboard"][0][0]["url"])


async def test_each_store_reaches_its_routes_named_and_linked_to_its_admin(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    client = await two_stores(start_bridge, make_settings, tmp_path)
    await deliver(client, "order.created", wire("order"), path="/webhook/br", secret="br_secret")
    await deliver(client, "product.created", wire("product"))
    await all_routed(client)
    [br_order] = fake_telegram.messages_to(STOCK)
    [default_product] = fake_telegram.messages_to(ORDERS)
    owners = fake_telegram.messages_to(BIG)
    assert br_order.text.startswith("[br] 🛒 <b>New order #727")
    assert button_url(br_order).startswith("https://loja.example.com.br/wp-admin/post.php?post=727")
    assert default_product.text.startswith("[default] ")
    assert button_url(default_product).startswith("https://shop.example.com/wp-admin/")
    # A route without `stores` hears both.
    assert [m.text.split(" ", 1)[0] for m in owners] == ["[br]", "[default]"]


async def test_the_same_order_in_two_stores_is_two_orders(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    client = await two_stores(start_bridge, make_settings, tmp_path)
    br = {"path": "/webhook/br", "secret": "br_secret"}
    # The same order number, saved at the same second, in both stores: neither is a repeat.
    await deliver(client, "order.updated", order_body(saved=1, status="processing"))
    await deliver(client, "order.updated", order_body(saved=1, status="processing"), **br)
    # Each store remembers its own order's status.
    await deliver(client, "order.updated", order_body(saved=2, status="completed"), **br)
    await deliver(client, "order.updated", order_body(saved=3, status="processing"))
    await all_routed(client)
    br_first, br_second = (m.text for m in fake_telegram.messages_to(STOCK))
    assert br_first.startswith("[br] 🔄 <b>Order #727 is now Processing")
    assert br_second.startswith("[br] 🔄 <b>Order #727: Processing → Completed")
    # The default store's order was never completed: its second save changed nothing.
    [default_first] = (m.text for m in fake_telegram.messages_to(ORDERS))
    assert default_first.startswith("[default] 🔄 <b>Order #727 is now Processing")


async def test_a_single_store_names_no_store(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    await deliver(bridge, "order.created", wire("order"))
    [message] = await fake_telegram.wait_for_messages(1)
    assert message.text.startswith("🛒 ")

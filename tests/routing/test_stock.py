"""Stock alerts: product.updated becomes a stock message only when the stock crosses a line."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bridge.config import Settings
from bridge.payloads import parse_payload
from bridge.queue.models import EventState, Routing, StockLevel, StockState
from bridge.routing.stock import Stock, StockChange, compare, stock_state
from tests.backends import Backend
from tests.fakes.telegram import FakeTelegram
from tests.helpers import db_rows, deliver, eventually, wire, write_routes

StartBridge = Callable[..., Awaitable[TestClient]]
STOCK_CHAT, ALL_CHAT = -1003, -1005
SHOP = "https://shop.example.com"

_saves = iter(range(1, 1_000_000))


def product(**changes: Any) -> bytes:
    """The sample simple product, saved again (a new date_modified) with `changes`."""
    body = json.loads(wire("product"))
    save = next(_saves)
    body.update(
        date_modified=f"2030-01-01T{save // 3600:02}:{save // 60 % 60:02}:{save % 60:02}",
        date_modified_gmt=f"2030-01-01T{save // 3600:02}:{save // 60 % 60:02}:{save % 60:02}",
        sku="TS-M",
        manage_stock=True,
    )
    body.update(changes)
    return json.dumps(body).encode()


def managed(quantity: int | None, status: str = "instock", **changes: Any) -> bytes:
    return product(stock_quantity=quantity, stock_status=status, **changes)


def routes_file(tmp_path: Path, extra: str = "low_stock_at = 5") -> Path:
    return write_routes(
        tmp_path,
        f"""
[[routes]]
chat_id = {STOCK_CHAT}
topics = ["product.updated"]
stock_alerts = true
{extra}

[[routes]]
chat_id = {ALL_CHAT}
topics = ["product.updated"]
""",
    )


async def all_routed(client: TestClient) -> None:
    await eventually(lambda: not db_rows(client, "SELECT id FROM events WHERE state = 'new'"))
    await eventually(
        lambda: (
            not db_rows(client, "SELECT id FROM messages WHERE status IN ('pending', 'sending')")
        )
    )


def texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [m.text for m in fake.sent if m.chat_id == chat_id]


# --- the crossings, one by one --------------------------------------------------------------


def change(before: StockLevel | None, after: StockLevel, low: int | None = None) -> StockChange:
    return StockChange(before, after, low)


IN_10, IN_6, IN_5, IN_3 = (StockLevel("instock", q) for q in (10, 6, 5, 3))
OUT_0 = StockLevel("outofstock", 0)
BACK = StockLevel("onbackorder", -2)
UNMANAGED_IN, UNMANAGED_OUT = StockLevel("instock", None), StockLevel("outofstock", None)


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (IN_10, IN_5, (Stock.IN, Stock.LOW)),  # at the threshold is low
        (IN_10, IN_6, None),  # above it is not
        (IN_5, IN_3, None),  # low stays low
        (IN_10, OUT_0, (Stock.IN, Stock.OUT)),
        (IN_3, OUT_0, (Stock.LOW, Stock.OUT)),
        (IN_3, BACK, (Stock.LOW, Stock.BACKORDER)),
        (OUT_0, IN_10, (Stock.OUT, Stock.IN)),  # back in stock
        (BACK, IN_10, (Stock.BACKORDER, Stock.IN)),
        (IN_3, IN_10, (Stock.LOW, Stock.IN)),  # restocked above the threshold
        (OUT_0, IN_3, (Stock.OUT, Stock.LOW)),  # restocked, but low
        (OUT_0, OUT_0, None),
        (UNMANAGED_IN, UNMANAGED_OUT, (Stock.IN, Stock.OUT)),
        (UNMANAGED_OUT, UNMANAGED_IN, (Stock.OUT, Stock.IN)),
        (UNMANAGED_IN, UNMANAGED_IN, None),  # no quantity: never low
        (None, IN_10, None),  # first seen, in stock: nothing to say
        (None, IN_3, (None, Stock.LOW)),  # first seen, short: said once
        (None, OUT_0, (None, Stock.OUT)),
    ],
)
def test_each_threshold_crossing(
    before: StockLevel | None, after: StockLevel, expected: tuple[Stock | None, Stock] | None
) -> None:
    assert change(before, after).crossing(5) == expected


def test_the_products_own_low_stock_amount_wins_over_the_routes() -> None:
    assert change(IN_10, IN_6, low=8).crossing(5) == (Stock.IN, Stock.LOW)
    assert change(IN_10, IN_5, low=2).crossing(5) is None
    assert change(IN_10, IN_3).crossing(None) is None  # no threshold: never low


def test_a_late_delivery_crosses_nothing() -> None:
    assert StockChange(IN_10, OUT_0, current=False).crossing(5) is None


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"manage_stock": True, "stock_quantity": 4}, StockLevel("instock", 4)),
        ({"manage_stock": True, "stock_quantity": "4"}, StockLevel("instock", 4)),
        ({"manage_stock": True, "stock_quantity": None}, StockLevel("instock", None)),
        # manage_stock off: a quantity WooCommerce still sends means nothing
        ({"manage_stock": False, "stock_quantity": 4}, StockLevel("instock", None)),
        ({"manage_stock": "parent", "stock_quantity": 7}, StockLevel("instock", 7)),
    ],
)
def test_the_stock_a_payload_shows(fields: dict[str, Any], expected: StockLevel) -> None:
    payload = parse_payload("product.updated", product(stock_status="instock", **fields))
    state = stock_state("s", payload)
    assert state is not None
    assert (state.level.status, state.level.quantity) == (expected.status, expected.quantity)


def test_payloads_without_a_stock_status_are_not_stock() -> None:
    body = json.loads(product())
    del body["stock_status"]
    assert stock_state("s", parse_payload("product.updated", json.dumps(body).encode())) is None
    assert stock_state("s", parse_payload("order.updated", wire("order"))) is None


async def test_the_last_stock_is_remembered_per_shop_and_product(backend: Backend) -> None:
    store = await backend.open()
    try:
        newer = StockState("a", "794", StockLevel("instock", 3, "2030-01-01T10:00:00"))
        assert await store.seen_stock("a", "794") is None
        await store.commit_routing(Routing(1, EventState.ROUTED, stock_state=newer))
        assert await store.seen_stock("a", "794") == newer.level
        assert await store.seen_stock("b", "794") is None  # another shop's product 794
        older = StockState("a", "794", StockLevel("outofstock", 0, "2030-01-01T09:00:00"))
        payload = parse_payload("product.updated", managed(0, "outofstock"))
        assert not compare(older, payload, await store.seen_stock("a", "794")).current
        await store.commit_routing(Routing(2, EventState.ROUTED, stock_state=older))
        assert await store.seen_stock("a", "794") == newer.level  # a late one changes nothing
    finally:
        await store.close()


# --- through the real bridge ----------------------------------------------------------------


async def test_only_crossings_reach_a_stock_route(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    settings = make_settings(
        telegram_chat_id=None, bridge_config=routes_file(tmp_path), woocommerce_store_url=SHOP
    )
    client = await start_bridge(settings)
    saves = [
        managed(10),  # first seen, in stock: nothing
        managed(8),  # still above 5: nothing
        managed(8, price="99.00", regular_price="99.00"),  # a price edit: nothing
        managed(5),  # low
        managed(3),  # still low: nothing
        managed(0, "outofstock"),  # out
        managed(-2, "onbackorder"),  # backorder
        managed(20),  # back in stock
    ]
    for body in saves:
        await deliver(client, "product.updated", body)
    await all_routed(client)
    stock = [m for m in fake_telegram.sent if m.chat_id == STOCK_CHAT]
    assert [m.text.splitlines()[0] for m in stock] == [
        "⚠️ <b>Low stock: Premium Quality</b>",
        "🚫 <b>Out of stock: Premium Quality</b>",
        "⏳ <b>On backorder: Premium Quality</b>",
        "✅ <b>Back in stock: Premium Quality</b>",
    ]
    assert "SKU: <code>TS-M</code>" in stock[0].text
    assert "📦 In stock (8) → In stock (5)" in stock[0].text
    assert "📦 In stock (3) → Out of stock" in stock[1].text
    assert "📦 On backorder (-2) → In stock (20)" in stock[3].text
    for message in stock:
        button = message.reply_markup["inline_keyboard"][0][0]  # type: ignore[index]
        assert button["text"] == "Open in admin"
        assert button["url"] == f"{SHOP}/wp-admin/post.php?post=794&action=edit"
    # A route without stock_alerts hears every save, as before.
    assert len(texts(fake_telegram, ALL_CHAT)) == len(saves)
    assert all("Product updated" in t for t in texts(fake_telegram, ALL_CHAT))


async def test_a_variations_stock_names_its_attributes_and_opens_its_parent(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    settings = make_settings(
        telegram_chat_id=None, bridge_config=routes_file(tmp_path), woocommerce_store_url=SHOP
    )
    client = await start_bridge(settings)
    variation = {
        "id": 801,
        "parent_id": 800,
        "type": "variation",
        "name": "Áo thun - M",
        "sku": "AT-M",
        "attributes": [{"id": 1, "name": "Size", "option": "M"}],
    }
    other = {**variation, "id": 802, "name": "Áo thun - L", "sku": "AT-L"}
    other["attributes"] = [{"id": 1, "name": "Size", "option": "L"}]
    await deliver(client, "product.updated", managed(9, **variation))
    await deliver(client, "product.updated", managed(9, **other))
    await deliver(client, "product.updated", managed(0, "outofstock", **variation))
    await all_routed(client)
    (message,) = [m for m in fake_telegram.sent if m.chat_id == STOCK_CHAT]
    assert message.text.splitlines()[:3] == [
        "🚫 <b>Out of stock: Áo thun - M</b>",
        "Size: M",
        "SKU: <code>AT-M</code>",
    ]
    assert "(9) → Out of stock" in message.text
    button = message.reply_markup["inline_keyboard"][0][0]  # type: ignore[index]
    assert button["url"] == f"{SHOP}/wp-admin/post.php?post=800&action=edit"


async def test_unmanaged_stock_and_a_products_own_threshold(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    settings = make_settings(telegram_chat_id=None, bridge_config=routes_file(tmp_path))
    client = await start_bridge(settings)
    # The sample product: manage_stock off, stock_quantity null, attributes [].
    unmanaged = {"id": 794, "manage_stock": False, "stock_quantity": None, "attributes": []}
    await deliver(client, "product.updated", product(stock_status="instock", **unmanaged))
    await deliver(client, "product.updated", product(stock_status="outofstock", **unmanaged))
    await deliver(client, "product.updated", product(stock_status="instock", **unmanaged))
    own = {"id": 900, "low_stock_amount": 8}
    await deliver(client, "product.updated", managed(12, **own))
    await deliver(client, "product.updated", managed(7, **own))  # at or below its own 8
    await all_routed(client)
    firsts = [t.splitlines()[0] for t in texts(fake_telegram, STOCK_CHAT)]
    assert firsts == [
        "🚫 <b>Out of stock: Premium Quality</b>",
        "✅ <b>Back in stock: Premium Quality</b>",
        "⚠️ <b>Low stock: Premium Quality</b>",
    ]
    assert "📦 In stock → Out of stock\n" in texts(fake_telegram, STOCK_CHAT)[0] + "\n"
    rows = db_rows(client, "SELECT product_id, status, quantity FROM stock_levels ORDER BY 1")
    assert rows == [("794", "instock", None), ("900", "instock", 7)]


@pytest.mark.parametrize(
    ("language", "first_line"),
    [
        ("vi", "🚫 <b>Hết hàng: Premium Quality</b>"),
        ("pt_BR", "🚫 <b>Fora de estoque: Premium Quality</b>"),
    ],
)
async def test_stock_messages_speak_the_chats_language(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
    language: str,
    first_line: str,
) -> None:
    client = await start_bridge(
        make_settings(
            telegram_chat_id=None,
            bridge_config=routes_file(tmp_path, f'language = "{language}"'),
        )
    )
    await deliver(client, "product.updated", managed(4))
    await deliver(client, "product.updated", managed(0, "outofstock"))
    await all_routed(client)
    stock = texts(fake_telegram, STOCK_CHAT)
    assert stock[-1].splitlines()[0] == first_line


async def test_a_burst_of_300_updates_sends_its_12_crossings_through_the_digest(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    path = write_routes(
        tmp_path,
        f"[[routes]]\nchat_id = {STOCK_CHAT}\nstock_alerts = true\nlow_stock_at = 5\n",
    )
    client = await start_bridge(
        make_settings(
            telegram_chat_id=None,
            bridge_config=path,
            bridge_digest_threshold=3,
            bridge_digest_window_seconds=1.0,
        )
    )
    # A CSV import: 300 saves of 100 products; 12 of them run out on their last save.
    bodies = []
    for save in range(3):
        for number in range(1, 101):
            out = save == 2 and number <= 12
            name = f"Item {number}"
            quantity = 0 if out else 50 - save
            status = "outofstock" if out else "instock"
            bodies.append(managed(quantity, status, id=number, name=name))
    for body in bodies:
        await deliver(client, "product.updated", body)
    sent = await fake_telegram.wait_for_messages(4, timeout=15)
    await all_routed(client)
    await eventually(lambda: not db_rows(client, "SELECT id FROM digest_items"))
    sent = list(fake_telegram.sent)
    assert len(sent) == 4
    assert [m.text.splitlines()[0] for m in sent[:3]] == [
        f"🚫 <b>Out of stock: Item {n}</b>" for n in (1, 2, 3)
    ]
    assert "product.updated: 9 more events" in sent[3].text
    assert "Item 4, Item 5" in sent[3].text
    assert len(db_rows(client, "SELECT product_id FROM stock_levels")) == 100

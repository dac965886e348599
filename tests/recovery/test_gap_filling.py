"""Gap filling, end to end: the real bridge against a fake store's REST API and a fake
Telegram. Orders WooCommerce never delivered arrive once, marked recovered; nothing that
a webhook brought (before or after) is told twice."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient

from bridge.config import Settings
from tests.fakes.telegram import FakeTelegram
from tests.fakes.woocommerce import FakeStore
from tests.helpers import db_rows, deliver, eventually, order_numbers
from tests.recovery.conftest import after_passes, gmt, passes, shop_order

StartBridge = Callable[..., Awaitable[TestClient]]
RECOVERED = "Recovered: WooCommerce did not deliver this event"


async def test_orders_created_while_the_bridge_was_stopped_arrive_once_marked_recovered(
    start_bridge: StartBridge,
    shop_settings: Callable[..., Settings],
    fake_shop: FakeStore,
    fake_telegram: FakeTelegram,
) -> None:
    settings = shop_settings()
    first = await start_bridge(settings)
    await eventually(lambda: passes(first) >= 1)  # a first start only sets the watermark
    await first.close()
    assert fake_telegram.sent == []
    for number in range(801, 806):
        fake_shop.put_order(shop_order(number, modified=gmt(1)))

    bridge = await start_bridge(settings)
    messages = await fake_telegram.wait_for_messages(5)
    await after_passes(bridge, 3)  # later passes overlap the same orders

    assert sorted(order_numbers(fake_telegram.sent)) == [801, 802, 803, 804, 805]
    assert all(RECOVERED in m.text for m in messages)
    rows = db_rows(bridge, "SELECT topic, recovered FROM events ORDER BY id")
    assert rows == [("order.created", 1)] * 5


async def test_a_status_change_woocommerce_never_delivered_arrives_as_a_change(
    start_bridge: StartBridge,
    shop_settings: Callable[..., Settings],
    fake_shop: FakeStore,
    fake_telegram: FakeTelegram,
) -> None:
    bridge = await start_bridge(shop_settings())
    await eventually(lambda: passes(bridge) >= 1)
    order = shop_order(727, "pending", modified=gmt(30))
    await deliver(bridge, "order.created", json.dumps(order).encode())
    [created] = await fake_telegram.wait_for_messages(1)
    assert RECOVERED not in created.text

    # Paid: WooCommerce saved "processing" but its order.updated never came.
    fake_shop.put_order({**order, "status": "processing", "date_modified_gmt": gmt(1)})
    _, changed = await fake_telegram.wait_for_messages(2)
    await after_passes(bridge, 2)

    assert "Order #727: Pending payment → Processing" in changed.text
    assert RECOVERED in changed.text
    assert len(fake_telegram.sent) == 2


async def test_a_webhook_arriving_after_the_recovery_sends_nothing(
    start_bridge: StartBridge,
    shop_settings: Callable[..., Settings],
    fake_shop: FakeStore,
    fake_telegram: FakeTelegram,
) -> None:
    bridge = await start_bridge(shop_settings())
    await eventually(lambda: passes(bridge) >= 1)
    order = shop_order(900, modified=gmt(1))
    fake_shop.put_order(order)
    [recovered] = await fake_telegram.wait_for_messages(1)
    assert RECOVERED in recovered.text

    # WooCommerce's delivery, late: the same state, under either topic.
    for topic in ("order.created", "order.updated"):
        assert (await deliver(bridge, topic, json.dumps(order).encode())).status == 200
    await eventually(
        lambda: db_rows(bridge, "SELECT COUNT(*) FROM events WHERE state = 'duplicate'") == [(2,)]
    )
    await after_passes(bridge, 2)
    assert len(fake_telegram.sent) == 1


async def test_a_state_a_webhook_delivered_is_not_recovered_again(
    start_bridge: StartBridge,
    shop_settings: Callable[..., Settings],
    fake_shop: FakeStore,
    fake_telegram: FakeTelegram,
) -> None:
    bridge = await start_bridge(shop_settings())
    await eventually(lambda: passes(bridge) >= 1)
    order = shop_order(901, modified=gmt(1))
    await deliver(bridge, "order.created", json.dumps(order).encode())
    await fake_telegram.wait_for_messages(1)
    fake_shop.put_order(order)
    # A checkout-draft is never news, recovered or not.
    fake_shop.put_order(shop_order(902, "checkout-draft", modified=gmt(1)))

    await after_passes(bridge, 3)
    assert len(fake_telegram.sent) == 1
    assert db_rows(bridge, "SELECT COUNT(*) FROM events WHERE recovered = 1") == [(0,)]


async def test_bad_keys_are_logged_once_with_what_to_do_and_intake_goes_on(
    start_bridge: StartBridge,
    shop_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "cs_" + "0" * 40
    caplog.set_level(logging.INFO)
    bridge = await start_bridge(shop_settings(woocommerce_consumer_secret=wrong))
    await after_passes(bridge, 3)
    await deliver(bridge, "order.created", json.dumps(shop_order(903)).encode())
    await fake_telegram.wait_for_messages(1)

    failures = [r for r in caplog.records if r.name.startswith("bridge.recovery")]
    assert len(failures) == 1, [r.getMessage() for r in failures]
    assert "REST API key was refused" in failures[0].getMessage()
    assert "Intake and sending go on" in failures[0].getMessage()
    assert wrong not in caplog.text


@pytest.mark.parametrize("html", [False, True])
async def test_a_failing_store_is_one_log_line_per_outage_and_its_end_is_told(
    start_bridge: StartBridge,
    shop_settings: Callable[..., Settings],
    fake_shop: FakeStore,
    caplog: pytest.LogCaptureFixture,
    html: bool,
) -> None:
    fake_shop.fail_status, fake_shop.fail_html = (403 if html else 503), html
    bridge = await start_bridge(shop_settings())
    await after_passes(bridge, 3)
    fake_shop.fail_status = None
    await after_passes(bridge, 1)

    lines = [r.getMessage() for r in caplog.records if r.name.startswith("bridge.recovery")]
    expected = "HTML page" if html else "HTTP 503"
    assert [expected in line for line in lines] == [True, False], lines
    assert "answers again" in lines[1]


async def test_thousands_of_changed_orders_are_paged_not_fetched_at_once(
    start_bridge: StartBridge,
    shop_settings: Callable[..., Settings],
    fake_shop: FakeStore,
) -> None:
    # No chat: events are only stored, so that the test measures the paging alone.
    settings = shop_settings(telegram_chat_id=None, bridge_reconcile_interval_seconds=30)
    first = await start_bridge(settings)
    await eventually(lambda: passes(first) >= 1)
    await first.close()
    for number in range(1, 3001):
        fake_shop.put_order(shop_order(number, modified=gmt(60 - number // 100)))

    bridge = await start_bridge(settings)
    await eventually(lambda: passes(bridge) >= 1, timeout=30)

    listed = [r.query for r in fake_shop.calls("GET") if r.path.endswith("/orders")]
    # The first start only proved the key, with an empty listing of one order per page.
    pages = [q for q in listed if q["per_page"] == "100"]
    assert [q["page"] for q in pages] == [str(n) for n in range(1, 31)]
    assert {(q["orderby"], q["order"], q["dates_are_gmt"]) for q in pages} == {
        ("modified", "asc", "true")
    }
    assert db_rows(bridge, "SELECT COUNT(*) FROM events WHERE recovered = 1") == [(3000,)]

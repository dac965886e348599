"""End to end: a signed WooCommerce webhook in, a Telegram message out, nothing lost."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from bridge.config import Settings
from bridge.keys import SETTINGS
from tests.fakes.telegram import FakeTelegram, Reply
from tests.helpers import CHAT_ID, bot_ready, deliver, eventually, wire

StartBridge = Callable[..., Awaitable[TestClient]]

# Signatures from SOURCES.md, computed by PHP's hash_hmac over the wire bytes.
SIGNATURES = {
    "order": "Iq9Fu58gAS+bxuXiSsW+pVW5hojZ9CbXe2VAn20m8Dc=",
    "product": "CXQD+va+ZbC/7LYhnQXg4nCukGO8wPpqR1q/ra9DZ2Y=",
    "customer": "RuiOzlo5KAZRClFROVJnkgBPD4BI9ytAAylk5bonVvk=",
    "coupon": "a85bL0v655eI9jUQ+f+Z3NdB2cFQPVYlXOXJfRxIzNc=",
}


def message_rows(client: TestClient) -> list[tuple[str, int, str | None]]:
    conn = sqlite3.connect(client.server.app[SETTINGS].database_path)
    try:
        return conn.execute(
            "SELECT status, attempts, last_error FROM messages ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("name", "facts"),
    [
        ("order", ["727", "John Doe", "$29.35", "Woo Single #1", "Ship Your Idea – Color"]),
        ("product", ["Premium Quality", "$21.99", "In stock"]),
        ("customer", ["John Doe", "john.doe@example.com"]),
        ("coupon", ["10off", "10%"]),
    ],
)
async def test_sample_payload_arrives_with_its_facts(
    bridge: TestClient, fake_telegram: FakeTelegram, name: str, facts: list[str]
) -> None:
    response = await deliver(
        bridge,
        f"{name}.created",
        wire(name),
        headers={"X-WC-Webhook-Signature": SIGNATURES[name]},
    )
    assert response.status == 200
    [message] = await fake_telegram.wait_for_messages(1)
    assert message.chat_id == CHAT_ID
    assert message.parse_mode == "HTML"
    for fact in facts:
        assert fact in message.text, fact


async def test_redelivery_sends_one_message(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    for _ in range(3):
        assert (await deliver(bridge, "order.created", wire("order"))).status == 200
    await fake_telegram.wait_for_messages(1)
    await eventually(lambda: all(s == "sent" for s, _, _ in message_rows(bridge)))
    assert len(fake_telegram.sent) == 1


async def test_same_resource_state_in_a_new_body_sends_nothing_new(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    order = json.loads(wire("order"))
    await deliver(bridge, "order.updated", json.dumps(order).encode())
    order["meta_data"] = [{"id": 1, "key": "_plugin_touch", "value": "x"}]  # same save, new bytes
    await deliver(bridge, "order.updated", json.dumps(order).encode())
    order["date_modified_gmt"] = "2017-03-22T20:00:00"  # a real later save
    order["status"] = "completed"
    await deliver(bridge, "order.updated", json.dumps(order).encode())
    await fake_telegram.wait_for_messages(2)
    await eventually(
        lambda: len(message_rows(bridge)) == 2 and all(r[0] == "sent" for r in message_rows(bridge))
    )
    assert len(fake_telegram.sent) == 2
    assert "Completed" in fake_telegram.sent[1].text


async def test_checkout_draft_orders_send_nothing(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    draft = json.loads(wire("order"))
    draft["status"] = "checkout-draft"
    assert (await deliver(bridge, "order.created", json.dumps(draft).encode())).status == 200
    await deliver(bridge, "product.created", wire("product"))  # a later event goes through
    await fake_telegram.wait_for_messages(1)
    assert "Premium Quality" in fake_telegram.sent[0].text
    assert len(fake_telegram.sent) == 1


async def test_429_is_waited_out_without_counting_an_attempt(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.script(
        "sendMessage", Reply(429, "Too Many Requests: retry after 1", retry_after=1)
    )
    await deliver(bridge, "order.created", wire("order"))
    await fake_telegram.wait_for_messages(1, timeout=5)
    attempts = [p for m, p in fake_telegram.calls if m == "sendMessage"]
    assert len(attempts) == 2
    await eventually(lambda: message_rows(bridge)[0][0] == "sent")
    assert message_rows(bridge)[0][1] == 1  # the 429 was refunded


async def test_server_errors_are_retried_until_success(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.script(
        "sendMessage", Reply(500, "Internal Server Error"), Reply(502, "Bad Gateway"), Reply(500)
    )
    await deliver(bridge, "order.created", wire("order"))
    await fake_telegram.wait_for_messages(1)
    await eventually(lambda: message_rows(bridge)[0][0] == "sent")
    assert message_rows(bridge)[0][1] == 4


async def test_a_hanging_telegram_is_timed_out_and_retried(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    client = await start_bridge(make_settings(bridge_send_timeout_seconds=0.3))
    fake_telegram.script("sendMessage", Reply(hang=True))
    await deliver(client, "order.created", wire("order"))
    await fake_telegram.wait_for_messages(1, timeout=10)
    assert len([m for m, _ in fake_telegram.calls if m == "sendMessage"]) == 2


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        (lambda fake: fake.forbidden_chats.add(CHAT_ID), "Forbidden"),
        (lambda fake: fake.missing_chats.add(CHAT_ID), "chat not found"),
    ],
)
async def test_permanent_failures_become_dead_letters(
    bridge: TestClient,
    fake_telegram: FakeTelegram,
    setup: Callable[[FakeTelegram], None],
    error: str,
) -> None:
    setup(fake_telegram)
    await deliver(bridge, "order.created", wire("order"))
    await eventually(lambda: bool(message_rows(bridge)) and message_rows(bridge)[0][0] == "dead")
    _, attempts, last_error = message_rows(bridge)[0]
    assert attempts == 1
    assert error.lower() in (last_error or "").lower()
    assert fake_telegram.sent == []


async def test_retries_end_in_a_dead_letter(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    client = await start_bridge(make_settings(bridge_retry_max_attempts=3))
    await bot_ready(client)
    fake_telegram.outage(Reply(500, "Internal Server Error"))
    await deliver(client, "order.created", wire("order"))
    await eventually(lambda: bool(message_rows(client)) and message_rows(client)[0][0] == "dead")
    assert message_rows(client)[0][1] == 3


async def test_pending_messages_are_sent_after_a_restart(
    start_bridge: StartBridge, settings: Settings, fake_telegram: FakeTelegram
) -> None:
    first = await start_bridge(settings)
    await bot_ready(first)
    fake_telegram.outage(Reply(502, "Bad Gateway"))
    for name in ("order", "product", "customer"):
        assert (await deliver(first, f"{name}.created", wire(name))).status == 200
    await eventually(lambda: len(message_rows(first)) == 3)
    await first.close()
    assert fake_telegram.sent == []

    fake_telegram.outage(None)
    await start_bridge(settings)
    sent = await fake_telegram.wait_for_messages(3)
    assert ["order #727" in sent[0].text, "Premium" in sent[1].text, "John" in sent[2].text] == [
        True
    ] * 3


async def test_broken_template_falls_back_to_the_built_in_one(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    overrides = tmp_path / "templates"
    overrides.mkdir()
    (overrides / "order.created.html").write_text("{{ order.no_such_field.upper() }}")
    client = await start_bridge(make_settings(bridge_templates_dir=overrides))
    await deliver(client, "order.created", wire("order"))
    [message] = await fake_telegram.wait_for_messages(1)
    assert "New order #727" in message.text
    assert "John Doe" in message.text


async def test_unreadable_body_is_announced(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    await deliver(bridge, "order.created", b"Fatal error: Allowed memory size exhausted")
    [message] = await fake_telegram.wait_for_messages(1)
    assert "unreadable" in message.text.lower()


async def test_rest_error_payload_explains_the_fix(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    body = (
        b'{"code":"woocommerce_rest_cannot_view",'
        b'"message":"Sorry, you cannot view this resource.","data":{"status":401}}'
    )
    await deliver(bridge, "order.created", body)
    [message] = await fake_telegram.wait_for_messages(1)
    assert "woocommerce_rest_cannot_view" in message.text
    assert "permission" in message.text


async def test_deleted_and_action_payloads_are_sent(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    await deliver(bridge, "order.deleted", b'{"id":727}')
    await deliver(
        bridge,
        "action.woocommerce_add_to_cart",
        b'{"action":"woocommerce_add_to_cart","arg":"a1b2"}',
    )
    first, second = await fake_telegram.wait_for_messages(2)
    assert "Order #727 moved to the trash" in first.text
    assert "added a product to their cart" in second.text
    assert "a1b2" in second.text


async def test_payload_html_is_escaped(bridge: TestClient, fake_telegram: FakeTelegram) -> None:
    order = json.loads(wire("order"))
    order["billing"]["first_name"] = "<script>alert(1)</script> & <b>Bob</b>"
    await deliver(bridge, "order.created", json.dumps(order).encode())
    [message] = await fake_telegram.wait_for_messages(1)  # the stub refuses invalid HTML
    assert "&lt;script&gt;" in message.text


async def test_healthz_reports_database_and_bot(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    await bot_ready(bridge)
    response = await bridge.get("/healthz")
    assert response.status == 200
    assert await response.json() == {
        "status": "ok",
        "database": "ok",
        "telegram": "ok",
        "workers": "ok",
    }
    ready = await bridge.get("/readyz")
    assert ready.status == 200


async def test_not_ready_until_telegram_answers_but_webhooks_are_kept(
    start_bridge: StartBridge, settings: Settings, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.outage(Reply(502, "Bad Gateway"))
    client = await start_bridge(settings)
    assert (await deliver(client, "order.created", wire("order"))).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert "unreachable" in (await ready.json())["telegram"]
    assert (await client.get("/healthz")).status == 200
    fake_telegram.outage(None)
    await fake_telegram.wait_for_messages(1)
    assert (await client.get("/readyz")).status == 200


async def test_the_command_menu_is_registered(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    await eventually(lambda: bool(fake_telegram.commands))
    assert {"start", "help", "status"} <= {c["command"] for c in fake_telegram.commands}

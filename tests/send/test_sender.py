"""The sender end to end, through the stand-in Telegram: buttons Telegram refuses are dropped,
never the message."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestClient

from bridge.config import Settings
from bridge.keys import SETTINGS
from tests.fakes.telegram import FakeTelegram
from tests.helpers import deliver, eventually, wire

StartBridge = Callable[..., Awaitable[TestClient]]


def rows(client: TestClient) -> list[tuple[str, int, str | None]]:
    conn = sqlite3.connect(client.server.app[SETTINGS].database_path)
    try:
        return conn.execute("SELECT status, attempts, reply_markup FROM messages").fetchall()
    finally:
        conn.close()


async def test_a_refused_button_is_dropped_and_the_message_sent(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    # Telegram answers BUTTON_URL_INVALID for a host without a dot, such as localhost.
    client = await start_bridge(make_settings(woocommerce_store_url="http://localhost:8000"))
    await deliver(client, "order.created", wire("order"))
    [message] = await fake_telegram.wait_for_messages(1)
    assert message.text.startswith("🛒 <b>New order #727</b>")
    assert message.reply_markup is None
    tries = [params for method, params in fake_telegram.calls if method == "sendMessage"]
    assert len(tries) == 2
    [[button]] = tries[0]["reply_markup"]["inline_keyboard"]
    assert button["url"] == "http://localhost:8000/wp-admin/post.php?post=727&action=edit"
    await eventually(lambda: rows(client) == [("sent", 1, None)])


async def test_an_accepted_button_arrives_under_the_message(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    settings = make_settings(
        woocommerce_store_url="https://shop.example.com",
        woocommerce_order_admin_urls="hpos",
        bridge_language="pt_BR",
    )
    client = await start_bridge(settings)
    await deliver(client, "order.created", wire("order"))
    [message] = await fake_telegram.wait_for_messages(1)
    assert message.text.startswith("🛒 <b>Novo pedido #727</b> · Processando")
    assert message.reply_markup == {
        "inline_keyboard": [
            [
                {
                    "text": "Abrir no painel",
                    "url": "https://shop.example.com/wp-admin/admin.php"
                    "?page=wc-orders&action=edit&id=727",
                }
            ]
        ]
    }
    await eventually(lambda: [r[0] for r in rows(client)] == ["sent"])


async def test_a_long_message_carries_its_button_on_the_last_part(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    # The built-in templates shorten the note; a shop's may print it whole.
    (tmp_path / "order.created.html").write_text(
        "🛒 <b>New order #{{ order.number }}</b>\n{{ payload.customer_note }}", encoding="utf-8"
    )
    settings = make_settings(
        woocommerce_store_url="https://shop.example.com", bridge_templates_dir=tmp_path
    )
    client = await start_bridge(settings)
    order = json.loads(wire("order"))
    order["customer_note"] = "Ring twice & wait <politely>.\n" * 300
    await deliver(client, "order.created", json.dumps(order).encode())
    sent = await fake_telegram.wait_for_messages(2)
    await eventually(lambda: all(r[0] == "sent" for r in rows(client)))
    sent = fake_telegram.sent
    assert len(sent) > 1
    assert sent[0].text.startswith("🛒 <b>New order #727</b>")
    assert [m.reply_markup is not None for m in sent] == [False] * (len(sent) - 1) + [True]

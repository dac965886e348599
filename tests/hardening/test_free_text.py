"""A customer's note cannot flood the chat, hide the items, or hold intake: free text is
shortened first, one event becomes at most a few messages, and routing runs off the loop."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestClient

from bridge.config import Settings
from bridge.render.renderer import MAX_PARTS
from tests.fakes.telegram import FakeTelegram
from tests.helpers import db_rows, deliver, eventually, wire

StartBridge = Callable[..., Awaitable[TestClient]]


def order_with_note(length: int, number: int = 727) -> bytes:
    order = json.loads(wire("order"))
    note = ("Please leave it by the door & ring twice. " * (length // 40 + 1))[:length]
    order.update(id=number, number=str(number), customer_note=note)
    return json.dumps(order).encode()


async def test_a_long_note_is_shortened_and_the_items_are_kept(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    for number, length in ((1, 4_800), (2, 1_000_000)):
        await deliver(bridge, "order.created", order_with_note(length, number))
    await eventually(lambda: len(fake_telegram.sent) == 2)
    for message in fake_telegram.sent:
        assert "Woo Single #1" in message.text  # the items
        assert "Ship Your Idea" in message.text
        assert "more item" not in message.text
        assert "Please leave it by the door &amp; ring twice." in message.text
        assert "…" in message.text
        assert len(message.text) < 2_000
    await eventually(lambda: not db_rows(bridge, "SELECT id FROM events WHERE state = 'new'"))
    assert len(fake_telegram.sent) == 2


async def test_an_event_becomes_at_most_a_few_messages_and_intake_goes_on_meanwhile(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    # A shop's template may print the raw payload whole: 1 MB is about 250 messages.
    (tmp_path / "order.created.html").write_text(
        "Order {{ order.number }}\n<i>{{ payload.customer_note }}</i>", encoding="utf-8"
    )
    client = await start_bridge(make_settings(bridge_templates_dir=tmp_path))
    await deliver(client, "order.created", order_with_note(1_000_000))
    slowest = 0.0
    while db_rows(client, "SELECT id FROM events WHERE state = 'new'"):
        started = time.perf_counter()
        assert (await client.get("/healthz")).status == 200
        slowest = max(slowest, time.perf_counter() - started)
    # Rendering it takes 2-3 s on a 2-core machine; it ran beside the loop.
    assert slowest < 1.5
    await eventually(lambda: len(fake_telegram.sent) == MAX_PARTS)
    texts = [m.text for m in fake_telegram.sent]
    assert texts[0].startswith("Order 727")
    assert texts[-1].startswith("✂️ <i>The rest of this message (")


async def test_the_notice_of_a_cut_message_is_in_the_chats_language(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    (tmp_path / "order.created.html").write_text(
        "Order {{ order.number }}\n<i>{{ payload.customer_note }}</i>", encoding="utf-8"
    )
    settings = make_settings(bridge_templates_dir=tmp_path, bridge_language="vi")
    client = await start_bridge(settings)
    await deliver(client, "order.created", order_with_note(30_000))
    await eventually(lambda: len(fake_telegram.sent) == MAX_PARTS)
    last = fake_telegram.sent[-1].text
    assert last.startswith("✂️ <i>Phần còn lại của tin nhắn này (thêm ")
    assert last.endswith(" phần) không được gửi.</i>")

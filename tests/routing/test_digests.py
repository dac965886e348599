"""A burst of one topic to one chat becomes one digest, and nothing held is lost."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestClient

from bridge.config import Settings
from tests.fakes.telegram import FakeTelegram
from tests.helpers import CHAT_ID, db_rows, deliver, eventually, numbered_order, wire, write_config

StartBridge = Callable[..., Awaitable[TestClient]]


def product(number: int, name: str | None = None) -> bytes:
    body = json.loads(wire("product"))
    body.update(id=number, name=name or f"Product {number}")
    return json.dumps(body).encode()


def digest_settings(make_settings: Callable[..., Settings], **extra: object) -> Settings:
    return make_settings(bridge_digest_threshold=3, bridge_digest_window_seconds=1.0, **extra)


async def test_a_product_burst_becomes_one_digest(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    client = await start_bridge(digest_settings(make_settings))
    for n in range(1, 41):
        await deliver(client, "product.updated", product(n, f"Shirt &amp; Tie {n}"))
    sent = await fake_telegram.wait_for_messages(4, timeout=10)
    singles, digest = sent[:3], sent[3]
    assert [f"Shirt &amp; Tie {n}" in m.text for n, m in enumerate(singles, 1)] == [True] * 3
    assert "product.updated: 37 more events" in digest.text
    assert "Shirt &amp; Tie 4, Shirt &amp; Tie 5" in digest.text  # the first few names
    assert "and 32 more" in digest.text
    await eventually(lambda: not db_rows(client, "SELECT id FROM digest_items"))
    assert len(fake_telegram.sent) == 4


async def test_orders_are_never_digested(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    client = await start_bridge(digest_settings(make_settings))
    for n in range(1, 9):
        await deliver(client, "order.created", numbered_order(n))
    sent = await fake_telegram.wait_for_messages(8)
    assert all("New order #" in m.text for m in sent)


async def test_digests_can_be_turned_off(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    client = await start_bridge(digest_settings(make_settings, bridge_digest_topics=""))
    for n in range(1, 9):
        await deliver(client, "product.updated", product(n))
    await fake_telegram.wait_for_messages(8)
    assert not any("more product.updated" in m.text for m in fake_telegram.sent)


async def test_held_events_survive_a_restart(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    # A long window: the digest cannot go out before the restart.
    settings = make_settings(bridge_digest_threshold=2, bridge_digest_window_seconds=600.0)
    first = await start_bridge(settings)
    for n in range(1, 8):
        await deliver(first, "product.updated", product(n))
    await eventually(lambda: len(db_rows(first, "SELECT id FROM digest_items")) == 5)
    await fake_telegram.wait_for_messages(2)
    await first.close()

    short = make_settings(bridge_digest_threshold=2, bridge_digest_window_seconds=0.5)
    await start_bridge(short)
    sent = await fake_telegram.wait_for_messages(3, timeout=10)
    assert "product.updated: 5 more events" in sent[2].text
    assert sent[2].chat_id == CHAT_ID


async def test_a_digest_speaks_its_chats_language(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    client = await start_bridge(digest_settings(make_settings, bridge_language="vi"))
    for n in range(1, 6):
        await deliver(client, "product.updated", product(n))
    sent = await fake_telegram.wait_for_messages(4, timeout=10)
    assert "product.updated: thêm 2 sự kiện" in sent[3].text
    assert "gộp thành một tin nhắn" in sent[3].text


async def test_a_broken_digest_template_still_reports_the_burst(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    overrides = tmp_path / "templates"
    overrides.mkdir()
    (overrides / "digest.html").write_text("{{ names.no_such_thing() }}")
    client = await start_bridge(digest_settings(make_settings, bridge_templates_dir=overrides))
    for n in range(1, 6):
        await deliver(client, "product.updated", product(n))
    sent = await fake_telegram.wait_for_messages(4, timeout=10)
    assert "2 more product.updated events" in sent[3].text


async def test_a_digest_names_the_store_of_each_item(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    path = write_config(tmp_path, '[[stores]]\nname = "br"\nsecret = "br_secret"\n')
    client = await start_bridge(digest_settings(make_settings, bridge_config=path))
    for n in range(1, 6):
        await deliver(client, "product.updated", product(n), path="/webhook/br", secret="br_secret")
    sent = await fake_telegram.wait_for_messages(4, timeout=10)
    assert "[br] Product 4, [br] Product 5" in sent[3].text

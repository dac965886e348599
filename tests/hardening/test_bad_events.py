"""One bad event never stops the others: whatever fails while routing, rendering or
committing one event is kept for that event alone, and the workers go on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestClient

from bridge.config import Settings
from bridge.keys import WORKERS
from tests.fakes.telegram import FakeTelegram
from tests.helpers import (
    bot_ready,
    db_rows,
    deliver,
    eventually,
    numbered_order,
    order_numbers,
    wire,
)

StartBridge = Callable[..., Awaitable[TestClient]]

# A lone surrogate is valid JSON text but cannot be encoded as UTF-8.
SURROGATE_PRODUCT = wire("product").replace(b'"name":', b'"name":"Widget \\ud800","x_name":', 1)


async def test_a_lone_surrogate_neither_stops_sending_nor_a_restart(
    start_bridge: StartBridge, fake_telegram: FakeTelegram
) -> None:
    assert b"\\ud800" in SURROGATE_PRODUCT
    client = await start_bridge()
    assert (await deliver(client, "product.updated", SURROGATE_PRODUCT)).status == 200
    await deliver(client, "order.created", numbered_order(1001))
    await eventually(lambda: order_numbers(fake_telegram.sent) == [1001])
    assert "Widget \ufffd" in fake_telegram.sent[0].text
    await client.close()

    again = await start_bridge()
    await deliver(again, "order.created", numbered_order(1002))
    await eventually(lambda: order_numbers(fake_telegram.sent) == [1001, 1002])
    assert not db_rows(again, "SELECT id FROM events WHERE state = 'new'")


def templates_with(directory: Path, **files: str) -> Path:
    """A BRIDGE_TEMPLATES_DIR holding `files` (name with "_" for ".")."""
    folder = directory / "templates"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("_", ".")).write_text(text, encoding="utf-8")
    return folder


# A template can render text SQLite cannot store: "%c" % 55296 is a lone surrogate.
LONE_SURROGATE = '{{ "%c" % 55296 }}'


async def test_a_message_that_cannot_be_stored_becomes_a_notice_and_the_rest_go_on(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    folder = templates_with(tmp_path, product_updated_html=f"Product {LONE_SURROGATE}")
    client = await start_bridge(make_settings(bridge_templates_dir=folder))
    await deliver(client, "product.updated", wire("product"))
    await deliver(client, "order.created", numbered_order(1001))
    await eventually(lambda: len(fake_telegram.sent) == 2)
    notice, order = fake_telegram.sent
    assert "product.updated (the templates could not render it)" in notice.text
    assert order_numbers([order]) == [1001]
    [(note,)] = db_rows(client, "SELECT note FROM events WHERE topic = 'product.updated'")
    assert note.startswith("routing failed: UnicodeEncodeError")


async def test_a_digest_that_cannot_be_stored_is_sent_plain_and_the_next_ones_go_on(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    folder = templates_with(tmp_path, digest_html=f"Digest {LONE_SURROGATE}")
    settings = make_settings(
        bridge_templates_dir=folder,
        bridge_digest_threshold=1,
        bridge_digest_window_seconds=0.5,
    )
    client = await start_bridge(settings)

    def digests() -> list[str]:
        return [m.text for m in fake_telegram.sent if "more product.updated events" in m.text]

    for burst in range(2):
        for n in range(3):
            body = json.loads(wire("product"))
            body.update(id=100 * burst + n, name=f"Shirt {burst}-{n}")
            await deliver(client, "product.updated", json.dumps(body).encode())
        # Both plain: digest.html rendered a lone surrogate, and the flusher went on.
        await eventually(lambda: len(digests()) == burst + 1)  # noqa: B023
    assert "Shirt 0-1, Shirt 0-2" in digests()[0]
    assert "Shirt 1-" in digests()[1]
    assert not db_rows(client, "SELECT id FROM digest_items")


async def test_a_worker_that_dies_fails_readiness_and_is_restarted(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    workers = bridge.server.app[WORKERS]
    await bot_ready(bridge)
    assert (await bridge.get("/readyz")).status == 200
    runs: list[int] = []

    async def fails_twice() -> None:
        runs.append(len(runs))
        if len(runs) <= 2:
            raise RuntimeError("secret-looking detail")
        await asyncio.Event().wait()

    workers.start("probe", fails_twice)
    answer = await bridge.get("/readyz")
    assert answer.status == 503
    body = await answer.json()
    assert body["workers"] == "probe restarting"
    assert "secret-looking" not in await answer.text()
    await eventually(lambda: len(runs) == 3)
    await eventually(lambda: workers.problems() == {})
    assert (await bridge.get("/readyz")).status == 200
    # The real workers ran all along: an order still goes out.
    await deliver(bridge, "order.created", numbered_order(1003))
    await eventually(lambda: order_numbers(fake_telegram.sent) == [1003])


async def test_a_body_nested_too_deep_to_parse_is_reported_as_unreadable(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    deep = b"[" * 200_000 + b"]" * 200_000  # json.loads raises RecursionError
    await deliver(bridge, "product.updated", deep)
    await deliver(bridge, "order.created", numbered_order(1004))
    await eventually(lambda: len(fake_telegram.sent) == 2)
    assert "product.updated" in fake_telegram.sent[0].text
    assert order_numbers(fake_telegram.sent) == [1004]

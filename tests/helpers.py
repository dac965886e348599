"""Helpers for tests: WooCommerce-shaped deliveries, sample payloads, waiting."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from bridge.keys import BOT, SETTINGS, STORE
from bridge.queue.store import Store
from tests.fakes.deliveries import delivery_headers
from tests.fakes.telegram import FakeTelegram, SentMessage

PAYLOADS = Path(__file__).parent / "fixtures" / "payloads"
SECRET = "test_secret"
CHAT_ID = -100123


def wire(name: str) -> bytes:
    """A sample payload exactly as WooCommerce puts it on the wire."""
    return (PAYLOADS / f"{name}.wire.json").read_bytes()


async def bot_ready(client: TestClient) -> None:
    """Wait until the bridge's bot has started (it starts in the background)."""
    async with asyncio.timeout(5):
        await client.server.app[BOT].ready.wait()


def store_of(client: TestClient) -> Store:
    return client.server.app[STORE]


async def deliver(
    client: TestClient,
    topic: str,
    body: bytes,
    *,
    secret: str = SECRET,
    path: str = "/webhook",
    headers: dict[str, str] | None = None,
) -> ClientResponse:
    """POST `body` the way WooCommerce does, signed with `secret`."""
    sent_headers = delivery_headers(topic, body, secret)
    sent_headers.update(headers or {})
    return await client.post(path, data=body, headers=sent_headers, allow_redirects=False)


async def eventually(check: Callable[[], Awaitable[bool] | bool], timeout: float = 5.0) -> None:
    """Wait until `check()` holds, failing the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.02)


def write_routes(directory: Path, text: str) -> Path:
    """A routes file (BRIDGE_CONFIG) with `text` in it."""
    path = directory / "routes.toml"
    path.write_text(text, encoding="utf-8")
    return path


def write_config(directory: Path, text: str, **secret_files: str) -> Path:
    """A BRIDGE_CONFIG file with `text` in it, and beside it the files `secret_files` names."""
    for name, secret in secret_files.items():
        (directory / name).write_text(secret, encoding="utf-8")
    path = directory / "bridge.toml"
    path.write_text(text, encoding="utf-8")
    return path


REPO = Path(__file__).parents[1]


def doc_section(doc: str, heading: str) -> str:
    """The section of `doc` (README.md, docs/x.md) under `heading` (e.g. "## Docker"), up to
    the next heading of its level or above; `#` lines inside code blocks are no headings."""
    level = len(heading.split(" ")[0])
    lines = (REPO / doc).read_text(encoding="utf-8").split("\n")
    start = lines.index(heading)
    fence = False
    for number in range(start + 1, len(lines)):
        line = lines[number]
        if line.startswith("```"):
            fence = not fence
        marks = len(line) - len(line.lstrip("#"))
        if not fence and 0 < marks <= level and line[marks : marks + 1] == " ":
            return "\n".join(lines[start:number])
    return "\n".join(lines[start:])


def doc_block(doc: str, heading: str, language: str, number: int = 0) -> str:
    """The `number`th code block in `language` of `doc`'s section under `heading`."""
    blocks = re.findall(rf"```{language}\n(.*?)```", doc_section(doc, heading), re.S)
    return str(blocks[number])


def button_data(message: SentMessage, label_part: str) -> str:
    """The callback data of the button under `message` whose label contains `label_part`."""
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    for row in rows:
        for button in row:
            if label_part in button["text"]:
                return str(button["callback_data"])
    raise AssertionError(f"no button {label_part!r} under message {message.message_id}")


def db_rows(client: TestClient, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Read the bridge's database directly, as an operator would."""
    conn = sqlite3.connect(client.server.app[SETTINGS].database_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def numbered_order(number: int) -> bytes:
    """The sample order, renumbered: tests tell the messages apart by `Order #N`."""
    order = json.loads(wire("order"))
    order.update(id=number, number=str(number))
    return json.dumps(order).encode()


def order_numbers(messages: Iterable[SentMessage]) -> list[int]:
    """The order numbers the messages show, in the order they were sent."""
    return [int(m.group(1)) for s in messages if (m := _ORDER_NUMBER.search(s.text))]


_ORDER_NUMBER = re.compile(r"[Oo]rder #(\d+)")


def order_body(*, saved: int = 0, **changes: object) -> bytes:
    """The sample order with `changes`, as saved `saved` minutes after the first save."""
    order = json.loads(wire("order"))
    order["date_modified_gmt"] = f"2024-05-01T10:{saved:02d}:00"
    order.update(changes)
    return json.dumps(order).encode()


# A shop with several chats, for the staff command tests: an order chat, a stock chat,
# and a forum group whose topic 12 gets orders and whose General gets the rest.
ORDERS_CHAT, STOCK_CHAT, FORUM_CHAT, UNROUTED_CHAT = -1001, -1002, -1004, -1999
ADMIN, STAFF = 42, 7
SHOP_ROUTES = f"""
[[routes]]
name = "orders"
chat_id = {ORDERS_CHAT}
topics = ["order.*"]

[[routes]]
name = "stock"
chat_id = {STOCK_CHAT}
topics = ["product.*"]

[[routes]]
name = "forum: orders"
chat_id = {FORUM_CHAT}
thread_id = 12
topics = ["order.created", "order.updated"]

[[routes]]
name = "forum: general"
chat_id = {FORUM_CHAT}
topics = ["product.*", "customer.*"]
"""


async def replies(
    fake: FakeTelegram, chat_id: int, count: int, timeout: float = 5.0
) -> list[SentMessage]:
    """Wait until `chat_id` has received `count` messages; returns them all."""
    await eventually(lambda: len(fake.messages_to(chat_id)) >= count, timeout)
    return fake.messages_to(chat_id)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

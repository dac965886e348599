"""Helpers for tests: WooCommerce-shaped deliveries, sample payloads, waiting."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from bridge.keys import BOT, STORE
from bridge.queue.store import Store
from bridge.webhook.signature import sign

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
    resource, _, event = topic.partition(".")
    sent_headers = {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/9.8.1 Hookshot (WordPress/6.8)",
        "X-WC-Webhook-Source": "https://shop.example.com/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": sign(body, secret),
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": "2f5e7c0c6a7b4f7b9b3b5a1e0c9d8e7f",
    }
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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

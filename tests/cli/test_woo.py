"""`woo-bridge woo register|status` against a stand-in WooCommerce store."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from tests.fakes.woocommerce import FakeStore, create_app

KEY, SECRET = "ck_" + "a" * 40, "cs_" + "b" * 40
DELIVERY = "https://bridge.example.com/webhook"


@pytest.fixture
async def store(aiohttp_server: Any) -> tuple[FakeStore, TestServer]:
    fake = FakeStore(KEY, SECRET)
    return fake, await aiohttp_server(create_app(fake))


async def woo(
    server: TestServer, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run `woo-bridge woo ...` as a child process (it runs its own event loop)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        "woo",
        *args,
        "--store-url",
        str(server.make_url("")),
        env={
            "PATH": os.environ.get("PATH", ""),
            "WOOCOMMERCE_CONSUMER_KEY": KEY,
            "WOOCOMMERCE_CONSUMER_SECRET": SECRET,
            "WOOCOMMERCE_WEBHOOK_SECRET": "whsec",
            **(env or {}),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_register_creates_then_reuses(store: tuple[FakeStore, TestServer]) -> None:
    fake, server = store
    args = ("register", "--delivery-url", DELIVERY, "--topics", "order.created,order.updated")
    status, out, err = await woo(server, *args)
    assert status == 0, err
    assert [line.split()[0] for line in out.splitlines()[:2]] == ["created", "created"]
    assert sorted(h.topic for h in fake.webhooks.values()) == ["order.created", "order.updated"]
    assert all(h.secret == "whsec" for h in fake.webhooks.values())

    status, out, _ = await woo(server, *args)
    assert status == 0
    assert [line.split()[0] for line in out.splitlines()[:2]] == ["reused", "reused"]
    assert len(fake.webhooks) == 2


async def test_status_flags_disabled_webhooks(store: tuple[FakeStore, TestServer]) -> None:
    fake, server = store
    fake.add_webhook("order.created", DELIVERY, status="disabled")
    fake.add_webhook("order.updated", DELIVERY)
    status, out, _ = await woo(server, "status")
    assert status == 1
    assert "not delivering" in out
    assert "re-activates" in out


async def test_a_url_woocommerce_would_refuse_is_refused_first(
    store: tuple[FakeStore, TestServer],
) -> None:
    fake, server = store
    status, _, err = await woo(
        server, "register", "--delivery-url", "https://bridge.example.com:8000/webhook"
    )
    assert status == 2
    assert "ports 80, 443 and 8080" in err
    assert fake.webhooks == {}


async def test_missing_key_says_where_to_make_one(store: tuple[FakeStore, TestServer]) -> None:
    _, server = store
    status, _, err = await woo(server, "status", env={"WOOCOMMERCE_CONSUMER_KEY": ""})
    assert status == 2
    assert "REST API" in err

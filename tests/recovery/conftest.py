"""A fake WooCommerce store with a REST API, and bridges that fill gaps from it."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bridge.config import Settings
from bridge.keys import RECOVERY
from tests.fakes.woocommerce import FakeStore
from tests.helpers import eventually, wire

#: the address WooCommerce delivers to, in the tests' settings
PUBLIC_URL = "https://bridge.example.com"


@pytest.fixture
def shop_settings(
    shop: tuple[FakeStore, TestServer], make_settings: Callable[..., Settings]
) -> Callable[..., Settings]:
    """Settings of a bridge whose default store has a REST API key; passes 0.2 s apart."""
    store, server = shop

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "woocommerce_store_url": str(server.make_url("")).rstrip("/"),
            "woocommerce_consumer_key": store.consumer_key,
            "woocommerce_consumer_secret": store.consumer_secret,
            "bridge_reconcile_interval_seconds": 0.2,
        }
        values.update(overrides)
        return make_settings(**values)

    return make


def gmt(seconds_ago: float = 0.0) -> str:
    """A date_modified_gmt some seconds before now."""
    moment = dt.datetime.fromtimestamp(time.time() - seconds_ago, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def shop_order(
    number: int, status: str = "processing", modified: str | None = None
) -> dict[str, Any]:
    """The sample order, renumbered, in `status`, saved at `modified` (default: now)."""
    order: dict[str, Any] = json.loads(wire("order"))
    stamp = modified or gmt()
    order.update(
        id=number,
        number=str(number),
        status=status,
        date_created_gmt=stamp,
        date_modified_gmt=stamp,
    )
    return order


def passes(client: TestClient, store: str = "default") -> int:
    return client.server.app[RECOVERY].of(store).passes


async def after_passes(client: TestClient, count: int, store: str = "default") -> None:
    """Wait until `count` more passes over `store` have finished."""
    target = passes(client, store) + count
    await eventually(lambda: passes(client, store) >= target, timeout=10)

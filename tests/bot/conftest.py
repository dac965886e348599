"""A running bridge for the shop in tests.helpers.SHOP_ROUTES, with its bot polling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from bridge.config import Settings
from tests.helpers import SHOP_ROUTES, bot_ready, write_routes


@pytest.fixture
def shop_settings(make_settings: Callable[..., Settings], tmp_path: Path) -> Settings:
    path = write_routes(tmp_path, SHOP_ROUTES)
    return make_settings(telegram_chat_id=None, bridge_config=path)


@pytest.fixture
async def shop(
    start_bridge: Callable[..., Awaitable[TestClient]], shop_settings: Settings
) -> TestClient:
    client = await start_bridge(shop_settings)
    await bot_ready(client)
    return client

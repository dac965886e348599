"""Fixtures that build real bridges: the production app factory, SQLite files in
temporary directories, a real PostgreSQL server (tests/postgres.py), python-telegram-bot,
and a stand-in Telegram server."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bridge.app import create_app
from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.config import Settings
from bridge.redact import RedactingFilter
from tests.fakes.telegram import FakeTelegram
from tests.fakes.woocommerce import FakeStore
from tests.fakes.woocommerce import create_app as create_shop
from tests.helpers import CHAT_ID, SECRET
from tests.postgres import postgres_server, postgres_url  # noqa: F401 - fixtures: a real server


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's own settings out of the tests."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("BRIDGE_SECRETS_DIR", "/nonexistent")


@pytest.fixture(autouse=True)
def _forget_the_bridges_log_handler() -> Iterator[None]:
    """A command run in a test points the root logger at that test's captured stderr; a
    later test logging before its own command would write to the closed stream."""
    yield
    root = logging.getLogger()
    for handler in root.handlers[:]:
        if any(isinstance(f, RedactingFilter) for f in handler.filters):
            root.removeHandler(handler)


@pytest.fixture
async def telegram(aiohttp_server: Any) -> tuple[FakeTelegram, TestServer]:
    fake = FakeTelegram()
    server = await aiohttp_server(fake.app())
    return fake, server


@pytest.fixture
def fake_telegram(telegram: tuple[FakeTelegram, TestServer]) -> FakeTelegram:
    return telegram[0]


@pytest.fixture
def make_settings(
    tmp_path: Path, telegram: tuple[FakeTelegram, TestServer]
) -> Callable[..., Settings]:
    """Settings pointing at the stand-in Telegram, with retries shrunk to milliseconds."""
    fake, server = telegram

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "telegram_bot_token": fake.token,
            "telegram_chat_id": CHAT_ID,
            "telegram_api_base_url": str(server.make_url("")).rstrip("/"),
            "telegram_admin_ids": "42",
            "woocommerce_webhook_secret": SECRET,
            "bridge_data_dir": tmp_path / "data",
            "bridge_retry_base_seconds": 0.02,
            "bridge_retry_max_seconds": 0.1,
            "bridge_send_timeout_seconds": 2.0,
            "bridge_poll_timeout_seconds": 1,
            "bridge_shutdown_grace_seconds": 2.0,
            "bridge_rate_chat_interval_seconds": 0.0,
            "bridge_rate_group_per_minute": 100_000,
            "bridge_db_busy_timeout_seconds": 0.2,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def start_bridge(
    telegram: tuple[FakeTelegram, TestServer], aiohttp_client: Any, settings: Settings
) -> Callable[..., Awaitable[TestClient]]:
    """Start a bridge built by the production factory; tests may start several in turn.

    Depends on `telegram` first so that the stand-in outlives every bridge.
    """

    async def start(custom: Settings | None = None, clock: Clock = SYSTEM_CLOCK) -> TestClient:
        client: TestClient = await aiohttp_client(create_app(custom or settings, clock=clock))
        return client

    return start


@pytest.fixture
async def bridge(start_bridge: Callable[..., Awaitable[TestClient]]) -> TestClient:
    return await start_bridge()


@pytest.fixture
async def shop(aiohttp_server: Any) -> tuple[FakeStore, TestServer]:
    """A fake WooCommerce store's REST API, served on a local port."""
    store = FakeStore()
    return store, await aiohttp_server(create_shop(store))


@pytest.fixture
def fake_shop(shop: tuple[FakeStore, TestServer]) -> FakeStore:
    return shop[0]

"""`woo-bridge reconcile`: one pass by hand, with progress; the bridge then sends what it found."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bridge.cli import main
from bridge.config import Settings
from tests.fakes.telegram import FakeTelegram
from tests.fakes.woocommerce import FakeStore
from tests.helpers import order_numbers
from tests.recovery.conftest import gmt, shop_order

StartBridge = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def environment(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    shop: tuple[FakeStore, TestServer],
    settings: Settings,
) -> Path:
    """The bridge's settings as its host has them: variables, in an empty directory."""
    store, server = shop
    monkeypatch.chdir(tmp_path)
    values = {
        "TELEGRAM_BOT_TOKEN": settings.telegram_bot_token.get_secret_value(),
        "TELEGRAM_CHAT_ID": str(settings.telegram_chat_id),
        "WOOCOMMERCE_WEBHOOK_SECRET": "test_secret",
        "WOOCOMMERCE_STORE_URL": str(server.make_url("")).rstrip("/"),
        "WOOCOMMERCE_CONSUMER_KEY": store.consumer_key,
        "WOOCOMMERCE_CONSUMER_SECRET": store.consumer_secret,
        "BRIDGE_DATA_DIR": str(settings.bridge_data_dir),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return Path(settings.database_path)


async def test_a_pass_by_hand_reports_progress_and_the_bridge_sends_what_it_recovered(
    environment: Path,
    fake_shop: FakeStore,
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for number in (11, 12, 13):
        fake_shop.put_order(shop_order(number, modified=gmt(600)))

    status = await asyncio.to_thread(
        main, ["reconcile", "--store", "default", "--since", gmt(3600)]
    )
    out, err = capsys.readouterr()

    assert status == 0, err
    assert "default: 3 order(s) compared, 3 recovered" in out
    assert "page 1, 3 order(s) compared" in err
    assert fake_shop.consumer_secret not in out + err
    with sqlite3.connect(environment) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events WHERE recovered = 1").fetchone() == (3,)

    await start_bridge(make_settings(bridge_reconcile_interval_seconds=0))
    await fake_telegram.wait_for_messages(3)
    assert sorted(order_numbers(fake_telegram.sent)) == [11, 12, 13]


async def test_bad_input_gets_a_clear_message(
    environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(main, ["reconcile", "--since", "yesterday"]) == 2
    assert "not a date" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["reconcile", "--store", "nope"]) == 2
    assert "no store is named 'nope'" in capsys.readouterr().err

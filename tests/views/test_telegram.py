"""Telegram updates by webhook, on the bridge's own HTTP server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bridge.config import ConfigError, Settings, load_settings
from tests.fakes.telegram import FakeTelegram
from tests.helpers import CHAT_ID, bot_ready

StartBridge = Callable[..., Awaitable[TestClient]]
HOOK = "https://bridge.example.com/telegram"
TOKEN = "s3cret_token-1"


def start_command(update_id: int = 1) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 10,
            "date": 1,
            "chat": {"id": CHAT_ID, "type": "supergroup", "title": "Staff"},
            "from": {"id": 42, "is_bot": False, "first_name": "Ana"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


@pytest.fixture
async def webhook_bridge(
    start_bridge: StartBridge, make_settings: Callable[..., Settings]
) -> TestClient:
    client = await start_bridge(
        make_settings(telegram_webhook_url=HOOK, telegram_webhook_secret=TOKEN)
    )
    await bot_ready(client)
    return client


async def test_registers_the_webhook_instead_of_polling(
    webhook_bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    assert fake_telegram.webhook is not None
    assert fake_telegram.webhook["url"] == HOOK
    assert fake_telegram.webhook["secret_token"] == TOKEN
    assert not any(method == "getUpdates" for method, _ in fake_telegram.calls)


async def test_an_update_with_the_secret_is_answered(
    webhook_bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    response = await webhook_bridge.post(
        "/telegram", json=start_command(), headers={"X-Telegram-Bot-Api-Secret-Token": TOKEN}
    )
    assert response.status == 200
    [reply] = await fake_telegram.wait_for_messages(1)
    assert str(CHAT_ID) in reply.text


async def test_an_update_without_the_secret_is_refused(
    webhook_bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
        response = await webhook_bridge.post("/telegram", json=start_command(), headers=headers)
        assert response.status == 403
    assert fake_telegram.sent == []


def test_url_and_secret_go_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:A")
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "s")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", HOOK)
    with pytest.raises(ConfigError, match="go together"):
        load_settings(env_file=None)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "no spaces allowed")
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET: use 1 to 256"):
        load_settings(env_file=None)


@pytest.mark.parametrize(
    "url",
    [
        "https://b.example.com/webhook",
        "https://b.example.com/webhook/",
        "https://b.example.com/webhook/shop-vn",
        "https://b.example.com/metrics",
    ],
)
def test_a_path_the_bridge_serves_for_something_else_is_refused(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:A")
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "s")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", url)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", TOKEN)
    with pytest.raises(ConfigError, match=r"TELEGRAM_WEBHOOK_URL: its path \S+ is served for") as e:
        load_settings(env_file=None)
    assert "https://b.example.com/telegram" in str(e.value)


@pytest.mark.parametrize("body", [b"[1,2]", b"5", b"null", b"{}", b'{"update_id": "x"}', b"{,"])
async def test_a_body_that_is_not_an_update_gets_400(
    webhook_bridge: TestClient, fake_telegram: FakeTelegram, body: bytes
) -> None:
    response = await webhook_bridge.post(
        "/telegram",
        data=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": TOKEN, "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert "error" in await response.json()
    # The bot still works afterwards.
    response = await webhook_bridge.post(
        "/telegram", json=start_command(), headers={"X-Telegram-Bot-Api-Secret-Token": TOKEN}
    )
    assert response.status == 200
    await fake_telegram.wait_for_messages(1)

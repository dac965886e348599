"""Admins hear once that a chat stopped taking messages, not once per event."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient

from bridge.config import Settings
from tests.fakes.telegram import FakeTelegram
from tests.helpers import CHAT_ID, deliver, eventually, numbered_order, store_of

StartBridge = Callable[..., Awaitable[TestClient]]
ADMINS = 777


async def dead(client: TestClient) -> int:
    return (await store_of(client).stats()).dead


async def test_one_alert_per_failure_then_again_after_recovery(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    client = await start_bridge(make_settings(telegram_alert_chat_id=ADMINS))
    fake_telegram.forbidden_chats.add(CHAT_ID)
    for n in range(1, 4):
        await deliver(client, "order.created", numbered_order(n))
    await eventually(lambda: _is(dead(client), 3))
    [alert] = await fake_telegram.wait_for_messages(1)
    assert alert.chat_id == ADMINS
    assert str(CHAT_ID) in alert.text
    assert "woo-bridge replay --all" in alert.text

    fake_telegram.forbidden_chats.clear()
    await deliver(client, "order.created", numbered_order(4))
    await fake_telegram.wait_for_messages(2)
    fake_telegram.forbidden_chats.add(CHAT_ID)
    await deliver(client, "order.created", numbered_order(5))
    sent = await fake_telegram.wait_for_messages(3)
    assert [m.chat_id for m in sent] == [ADMINS, CHAT_ID, ADMINS]


async def test_without_an_alert_chat_the_log_says_it_loudly_once(
    bridge: TestClient, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    fake_telegram.forbidden_chats.add(CHAT_ID)
    for n in range(1, 4):
        await deliver(bridge, "order.created", numbered_order(n))
    await eventually(lambda: _is(dead(bridge), 3))
    critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(critical) == 1
    assert "TELEGRAM_ALERT_CHAT_ID" in critical[0].getMessage()


async def test_a_known_failure_is_not_alerted_again_after_a_restart(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    settings = make_settings(telegram_alert_chat_id=ADMINS)
    first = await start_bridge(settings)
    fake_telegram.forbidden_chats.add(CHAT_ID)
    await deliver(first, "order.created", numbered_order(1))
    await fake_telegram.wait_for_messages(1)
    await first.close()
    second = await start_bridge(settings)
    await deliver(second, "order.created", numbered_order(2))
    await eventually(lambda: _is(dead(second), 2))
    assert [m.chat_id for m in fake_telegram.sent] == [ADMINS]


async def _is(value: Awaitable[int], expected: int) -> bool:
    return await value == expected

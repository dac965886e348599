"""Delivery through the real app when Telegram misbehaves: outages, hangs, floods."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestClient

from bridge.config import Settings
from tests.fakes.telegram import FakeTelegram, FloodLimits, Reply
from tests.helpers import (
    ADMIN,
    ORDERS_CHAT,
    STOCK_CHAT,
    bot_ready,
    deliver,
    eventually,
    numbered_order,
    order_numbers,
    write_routes,
)

StartBridge = Callable[..., Awaitable[TestClient]]


def shrunk_200_times() -> FloodLimits:
    """Telegram's flood limits with every window shrunk 200 times: seconds, not an hour."""
    return FloodLimits(
        chat_interval=0.005,
        chat_burst=3,
        group_per_window=20,
        group_window=0.3,
        overall_per_second=30,
        second=0.005,
    )


async def test_telegram_down_then_back_delivers_everything_once(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    await bot_ready(bridge)
    fake_telegram.outage(Reply(502, "Bad Gateway"))
    for n in range(1, 21):
        assert (await deliver(bridge, "order.created", numbered_order(n))).status == 200
    await eventually(lambda: sum(m == "sendMessage" for m, _ in fake_telegram.calls) >= 5)
    assert fake_telegram.sent == []
    fake_telegram.outage(None)
    await fake_telegram.wait_for_messages(20)
    assert order_numbers(fake_telegram.sent) == list(range(1, 21))


async def test_telegram_hanging_past_the_timeout_then_back(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    client = await start_bridge(make_settings(bridge_send_timeout_seconds=0.3))
    await bot_ready(client)
    fake_telegram.outage(Reply(hang=True))
    for n in range(1, 6):
        assert (await deliver(client, "order.created", numbered_order(n))).status == 200
    await eventually(lambda: sum(m == "sendMessage" for m, _ in fake_telegram.calls) >= 2)
    fake_telegram.outage(None)
    await fake_telegram.wait_for_messages(5, timeout=15)
    assert order_numbers(fake_telegram.sent) == [1, 2, 3, 4, 5]


async def test_one_chat_keeps_event_order_through_retries(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.script("sendMessage", Reply(500), Reply(500))
    for n in (3, 1, 2):
        await deliver(bridge, "order.created", numbered_order(n))
    await fake_telegram.wait_for_messages(3)
    assert order_numbers(fake_telegram.sent) == [3, 1, 2]


async def test_a_burst_stays_within_the_flood_limits(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    # Telegram's limits, with windows 1/20 to 1/60 of the real ones so the test is quick.
    fake_telegram.limits = FloodLimits(
        chat_interval=0.05,
        chat_burst=3,
        group_per_window=20,
        group_window=1.0,
        overall_per_second=30,
        second=0.05,
    )
    client = await start_bridge(
        make_settings(
            bridge_rate_chat_interval_seconds=0.05,
            bridge_rate_group_per_minute=20,
            bridge_rate_group_window_seconds=1.0,
        )
    )
    for n in range(1, 51):
        assert (await deliver(client, "order.created", numbered_order(n))).status == 200
    await fake_telegram.wait_for_messages(50, timeout=30)
    assert fake_telegram.flood_429s == 0
    assert order_numbers(fake_telegram.sent) == list(range(1, 51))


async def test_the_stand_in_does_punish_a_flood(
    fake_telegram: FakeTelegram, start_bridge: StartBridge, make_settings: Callable[..., Settings]
) -> None:
    # Guards the test above: without the bridge's pacing, the same burst gets 429s.
    fake_telegram.limits = FloodLimits(chat_interval=0.05, chat_burst=3, group_window=1.0)
    client = await start_bridge(
        make_settings(bridge_rate_chat_interval_seconds=0.0, bridge_rate_group_per_minute=100_000)
    )
    for n in range(1, 11):
        await deliver(client, "order.created", numbered_order(n))
    await fake_telegram.wait_for_messages(10, timeout=60)
    assert fake_telegram.flood_429s > 0
    assert order_numbers(fake_telegram.sent) == list(range(1, 11))  # still all delivered, in order


async def test_a_burst_to_three_chats_stays_within_the_flood_limits(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    # 500 events, each to 3 chats (two groups, one private): 1,500 messages, with the
    # windows shrunk 200 times so that the test takes seconds, not an hour.
    fake_telegram.limits = shrunk_200_times()
    routes = write_routes(
        tmp_path,
        f"""
[[routes]]
chat_id = {ORDERS_CHAT}
topics = ["order.*"]

[[routes]]
chat_id = {STOCK_CHAT}
topics = ["order.created"]

[[routes]]
chat_id = {ADMIN}
topics = ["order.created"]
""",
    )
    client = await start_bridge(
        make_settings(
            telegram_chat_id=None,
            bridge_config=routes,
            bridge_rate_chat_interval_seconds=0.005,
            bridge_rate_group_per_minute=20,
            bridge_rate_group_window_seconds=0.3,
            bridge_rate_overall_per_second=30,
            bridge_rate_overall_window_seconds=0.005,
        )
    )
    numbers_sent = list(range(1, 501))
    for n in numbers_sent:
        assert (await deliver(client, "order.created", numbered_order(n))).status == 200
    await fake_telegram.wait_for_messages(3 * len(numbers_sent), timeout=60)
    assert fake_telegram.flood_429s == 0
    for chat in (ORDERS_CHAT, STOCK_CHAT, ADMIN):
        assert order_numbers(fake_telegram.messages_to(chat)) == numbers_sent  # in event order


async def test_a_429_pauses_only_its_chat(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    routes = write_routes(
        tmp_path,
        f"""
[[routes]]
chat_id = {ORDERS_CHAT}
topics = ["order.created"]

[[routes]]
chat_id = {STOCK_CHAT}
topics = ["order.created"]
""",
    )
    client = await start_bridge(make_settings(telegram_chat_id=None, bridge_config=routes))
    await bot_ready(client)
    fake_telegram.script(
        "sendMessage", Reply(429, "Too Many Requests: retry after 2", retry_after=2)
    )
    for n in range(1, 4):
        await deliver(client, "order.created", numbered_order(n))
    sent = await fake_telegram.wait_for_messages(6, timeout=10)
    # The chat that got the 429 is the one whose first message came last.
    paused = sent[-1].chat_id
    other = STOCK_CHAT if paused == ORDERS_CHAT else ORDERS_CHAT
    first_of_paused = fake_telegram.messages_to(paused)[0].at
    # The other chat did not wait: all its messages went before the pause ended.
    assert all(m.at < first_of_paused for m in fake_telegram.messages_to(other))
    assert first_of_paused - fake_telegram.messages_to(other)[0].at >= 1.5
    assert len(fake_telegram.messages_to(paused)) == 3

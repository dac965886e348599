"""The daily summary: sent once at its time, once per day across a restart, late with a note."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from bridge.config import ConfigError, Settings
from bridge.config_routes import load_routes
from tests.fakes.clock import ShiftedClock
from tests.fakes.telegram import FakeTelegram
from tests.helpers import CHAT_ID, bot_ready, eventually, store_of, write_routes
from tests.reports.test_figures import HCM, ROWS

StartBridge = Callable[..., Awaitable[TestClient]]


class WallClock(ShiftedClock):
    """Wall time set to a day in 2026, monotonic time left alone: a shift of hours back
    would make the sender's pacing clock negative."""

    def monotonic(self) -> float:
        return time.monotonic()


def clock_at(hour: int, minute: int) -> ShiftedClock:
    clock = WallClock()
    clock.offset = dt.datetime(2026, 11, 29, hour, minute, tzinfo=HCM).timestamp() - time.time()
    return clock


@pytest.fixture
def summary_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        bridge_daily_summary_at="21:00",
        bridge_timezone="Asia/Ho_Chi_Minh",
        bridge_language="vi",
        bridge_summary_check_seconds=0.02,
    )


async def started(start: StartBridge, settings: Settings, clock: ShiftedClock) -> TestClient:
    client = await start(settings, clock=clock)
    await bot_ready(client)
    return client


async def test_sent_once_at_its_time_even_across_a_restart(
    start_bridge: StartBridge, summary_settings: Settings, fake_telegram: FakeTelegram
) -> None:
    clock = clock_at(20, 59)
    client = await started(start_bridge, summary_settings, clock)
    for row in ROWS:
        await store_of(client).record_ledger(row)
    await asyncio.sleep(0.2)  # ten looks at the clock: not yet 21:00
    assert fake_telegram.messages_to(CHAT_ID) == []
    clock.advance(120)  # 21:01
    [summary] = await fake_telegram.wait_for_messages(1)
    assert summary.chat_id == CHAT_ID
    assert summary.text.startswith("<b>🗓 Tóm tắt trong ngày: Hôm nay</b>")
    assert "Doanh thu: 2.150.000\xa0₫" in summary.text  # the Ho Chi Minh City store's day
    assert "Gửi muộn" not in summary.text
    await client.close()

    clock.advance(3600)  # 22:01, a new process: the day's summary is not sent again
    client = await started(start_bridge, summary_settings, clock)
    await asyncio.sleep(0.2)
    assert len(fake_telegram.messages_to(CHAT_ID)) == 1
    await client.close()


async def test_a_bridge_down_at_that_time_sends_it_late_the_same_day(
    start_bridge: StartBridge, summary_settings: Settings, fake_telegram: FakeTelegram
) -> None:
    clock = clock_at(23, 30)
    await started(start_bridge, summary_settings, clock)
    await eventually(lambda: bool(fake_telegram.messages_to(CHAT_ID)))
    [summary] = fake_telegram.messages_to(CHAT_ID)
    assert "<i>Gửi muộn: bridge không chạy lúc 21:00.</i>" in summary.text


async def test_a_weekly_summary_on_its_weekday(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    settings = make_settings(
        bridge_daily_summary_at="21:00",
        bridge_weekly_summary_on="sunday",  # 29 Nov 2026 is a Sunday
        bridge_timezone="Asia/Ho_Chi_Minh",
        bridge_summary_check_seconds=0.02,
    )
    await started(start_bridge, settings, clock_at(21, 5))
    await eventually(lambda: len(fake_telegram.messages_to(CHAT_ID)) == 2)
    messages = fake_telegram.messages_to(CHAT_ID)
    assert sorted(m.text.split(":")[0] for m in messages) == [
        "<b>🗓 Daily summary",
        "<b>🗓 Weekly summary",
    ]


def test_bad_summary_settings_are_named(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValueError, match='write it as "21:00"'):
        make_settings(bridge_daily_summary_at="9pm")
    with pytest.raises(ValueError, match="needs BRIDGE_DAILY_SUMMARY_AT"):
        make_settings(bridge_weekly_summary_on="monday")
    with pytest.raises(ValueError, match="monday, tuesday"):
        make_settings(bridge_daily_summary_at="21:00", bridge_weekly_summary_on="someday")


def test_route_keys_for_summaries_are_checked(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    good = write_routes(
        tmp_path,
        '[[routes]]\nname = "orders"\nchat_id = -1001\nsummary_at = "21:30"\n'
        'weekly_summary_on = "Mon"\n',
    )
    [route] = load_routes(make_settings(telegram_chat_id=None, bridge_config=good)).routes
    assert (route.target.summary_at, route.target.weekly_summary_on) == ("21:30", 0)
    bad = write_routes(
        tmp_path,
        '[[routes]]\nname = "orders"\nchat_id = -1001\nsummary_at = "9pm"\n'
        'weekly_summary_on = "someday"\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_routes(make_settings(telegram_chat_id=None, bridge_config=bad))
    assert [p.partition(": ")[2] for p in caught.value.problems] == [
        'route 1 ("orders"), key summary_at: must be a time of day in quotes, e.g. '
        'summary_at = "21:00"',
        'route 1 ("orders"), key weekly_summary_on: must be a weekday in quotes: monday, '
        "tuesday, wednesday, thursday, friday, saturday, sunday",
    ]

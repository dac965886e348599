"""A backward step of the wall clock (an NTP correction, a VM resume) neither stops nor
delays sending: pacing is monotonic, and stored schedules never run backward."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from bridge.app import create_app
from bridge.config import Settings
from tests.fakes.telegram import FakeTelegram, Reply
from tests.helpers import db_rows, deliver, eventually, numbered_order, order_numbers

HOUR = 3600.0


class SteppedClock:
    """The machine's clocks, with a wall time the test can step."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time() + self.offset


async def start(aiohttp_client: Any, settings: Settings, clock: SteppedClock) -> TestClient:
    client: TestClient = await aiohttp_client(create_app(settings, clock=clock))
    return client


def send_attempts(fake: FakeTelegram) -> int:
    return sum(1 for method, _ in fake.calls if method == "sendMessage")


async def test_orders_after_a_step_back_are_sent_at_their_usual_pace(
    aiohttp_client: Any, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    clock = SteppedClock()
    client = await start(
        aiohttp_client, make_settings(bridge_rate_chat_interval_seconds=0.2), clock
    )
    await deliver(client, "order.created", numbered_order(1))
    await eventually(lambda: order_numbers(fake_telegram.sent) == [1])
    clock.offset = -HOUR
    await deliver(client, "order.created", numbered_order(2))
    await deliver(client, "order.created", numbered_order(3))
    await eventually(lambda: order_numbers(fake_telegram.sent) == [1, 2, 3], timeout=3)


async def test_a_retry_scheduled_before_a_step_back_is_not_held_for_the_step(
    aiohttp_client: Any, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    clock = SteppedClock()
    settings = make_settings(bridge_retry_base_seconds=0.4, bridge_retry_max_seconds=0.4)
    client = await start(aiohttp_client, settings, clock)
    fake_telegram.script("sendMessage", Reply(500, "Internal Server Error"))
    await deliver(client, "order.created", numbered_order(4))
    await eventually(lambda: send_attempts(fake_telegram) == 1)
    clock.offset = -HOUR
    await eventually(lambda: order_numbers(fake_telegram.sent) == [4], timeout=3)


async def test_a_restart_after_a_step_back_sends_what_was_queued_before_it(
    aiohttp_client: Any, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    clock = SteppedClock()
    settings = make_settings()
    fake_telegram.outage(Reply(502, "Bad Gateway"))  # the bot cannot start: nothing is sent
    first = await start(aiohttp_client, settings, clock)
    await deliver(first, "order.created", numbered_order(5))
    await eventually(lambda: bool(db_rows(first, "SELECT id FROM messages")))
    await first.close()
    fake_telegram.outage(None)
    clock.offset = -HOUR
    await start(aiohttp_client, settings, clock)
    await eventually(lambda: order_numbers(fake_telegram.sent) == [5], timeout=3)

"""/report in Telegram: the report in the chat's language, and its chart by sendPhoto."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestClient

from bridge.config import Settings
from tests.fakes.clock import ShiftedClock
from tests.fakes.telegram import FakeTelegram
from tests.helpers import (
    ADMIN,
    ORDERS_CHAT,
    SHOP_ROUTES,
    STAFF,
    bot_ready,
    eventually,
    replies,
    store_of,
    write_routes,
)
from tests.reports.test_figures import HCM, NOW, ROWS

StartBridge = Callable[..., Awaitable[TestClient]]
STRANGER = 555


async def start(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], tmp_path: Path
) -> TestClient:
    routes = SHOP_ROUTES.replace('name = "orders"', 'name = "orders"\nlanguage = "vi"', 1)
    settings = make_settings(
        telegram_chat_id=None,
        bridge_config=write_routes(tmp_path, routes),
        telegram_staff_ids=str(STAFF),
        bridge_timezone="Asia/Ho_Chi_Minh",
    )
    clock = ShiftedClock()
    clock.offset = NOW - time.time()
    client = await start_bridge(settings, clock=clock)
    await bot_ready(client)
    for row in ROWS:
        await store_of(client).record_ledger(row)
    return client


async def test_report_answers_with_text_and_a_chart(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    fake_telegram: FakeTelegram,
) -> None:
    await start(start_bridge, make_settings, tmp_path)
    fake_telegram.send_command("/report today", chat_id=ORDERS_CHAT, user_id=STAFF)
    [reply] = await replies(fake_telegram, ORDERS_CHAT, 1)
    assert reply.parse_mode == "HTML"
    assert "<b>📊 Báo cáo bán hàng: Hôm nay</b>" in reply.text
    assert "Doanh thu: 2.150.000\xa0₫ (+438% so với hôm trước)" in reply.text
    assert "🏬 <b>sp</b>" in reply.text  # the second store, with its own currencies
    await eventually(lambda: bool(fake_telegram.photos))
    [photo] = fake_telegram.photos
    assert photo.chat_id == ORDERS_CHAT
    assert photo.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(photo.data[16:20]) == 800
    assert int.from_bytes(photo.data[20:24]) == 400
    assert len(photo.data) < 20_000
    assert photo.caption.startswith("Doanh thu theo giờ")
    assert HCM  # the report's days are BRIDGE_TIMEZONE's


async def test_report_is_for_admins_and_staff_and_names_bad_periods(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    fake_telegram: FakeTelegram,
) -> None:
    await start(start_bridge, make_settings, tmp_path)
    fake_telegram.send_command("/report", chat_id=ORDERS_CHAT, user_id=STRANGER)
    fake_telegram.send_command("/report fortnight", chat_id=ORDERS_CHAT, user_id=ADMIN)
    first, second = await replies(fake_telegram, ORDERS_CHAT, 2)
    assert "quản trị viên và nhân viên" in first.text
    assert "unknown period 'fortnight'; use one of today, yesterday" in second.text
    assert not fake_telegram.photos

"""Each Telegram update is handled once: Telegram gives again an update no getUpdates
confirmed (a bridge that stopped before its next poll), and may post one twice by webhook.
(Across replicas on PostgreSQL: tests/test_terms_pg.py.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestClient

from bridge.config import Settings
from tests.bot.test_mute_commands import mutes_in_db
from tests.fakes.telegram import FakeTelegram
from tests.helpers import (
    ADMIN,
    ORDERS_CHAT,
    STAFF,
    bot_ready,
    button_data,
    eventually,
    replies,
)
from tests.views.test_telegram import HOOK, TOKEN, start_command

StartBridge = Callable[..., Awaitable[TestClient]]


async def test_a_button_press_given_again_after_a_restart_is_not_applied_again(
    start_bridge: StartBridge, shop_settings: Settings, fake_telegram: FakeTelegram
) -> None:
    bridge = await start_bridge(shop_settings)
    await bot_ready(bridge)
    fake_telegram.send_command("/topics", chat_id=ORDERS_CHAT, user_id=STAFF)
    [listing] = await replies(fake_telegram, ORDERS_CHAT, 1)
    fake_telegram.press_button(listing, button_data(listing, "order.created"), user_id=ADMIN)
    await eventually(lambda: len(fake_telegram.callback_answers) == 1)
    assert mutes_in_db(bridge) == [(ORDERS_CHAT, 0, "order.created")]
    press = fake_telegram.pushed[-1]
    await bridge.close()

    # The bridge stopped before a getUpdates confirmed the press: Telegram gives it again.
    fake_telegram.give_again(press)
    again = await start_bridge(shop_settings)
    await bot_ready(again)
    fake_telegram.send_command("/start", chat_id=ORDERS_CHAT, user_id=STAFF)
    await replies(fake_telegram, ORDERS_CHAT, 2)  # handled after the press, in order
    assert len(fake_telegram.callback_answers) == 1  # the toggle did not run again
    assert mutes_in_db(again) == [(ORDERS_CHAT, 0, "order.created")]


async def test_an_update_posted_twice_by_webhook_is_handled_once(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    bridge = await start_bridge(
        make_settings(telegram_webhook_url=HOOK, telegram_webhook_secret=TOKEN)
    )
    await bot_ready(bridge)
    headers = {"X-Telegram-Bot-Api-Secret-Token": TOKEN}
    for update in (start_command(7), start_command(7), start_command(8)):
        assert (await bridge.post("/telegram", json=update, headers=headers)).status == 200
    await fake_telegram.wait_for_messages(2)
    await eventually(lambda: len(fake_telegram.sent) >= 2)
    await bridge.close()  # handles what was queued before it stops
    assert len(fake_telegram.sent) == 2  # updates 7 and 8, 7 once

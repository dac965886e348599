"""What a new leader must not redo or undo on PostgreSQL: Telegram updates the old leader
handled are not applied again, and chats that moved (recorded by the old leader) are never
sent to at their dead id. Two replicas of the production app on one real database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
from aiohttp.test_utils import TestClient

from bridge.config import Settings
from bridge.keys import LEADERSHIP
from tests.fakes.telegram import FakeTelegram
from tests.helpers import (
    ADMIN,
    CHAT_ID,
    ORDERS_CHAT,
    SHOP_ROUTES,
    STAFF,
    bot_ready,
    button_data,
    deliver,
    eventually,
    replies,
    wire,
    write_routes,
)
from tests.test_leadership_pg import end_session, leader_and_follower, polling
from tests.views.test_telegram import HOOK, TOKEN, start_command

Start = Callable[..., Awaitable[TestClient]]
#: the supergroup the configured group became
SUPERGROUP = -1009000


async def replicas(start_bridge: Start, settings: list[Settings]) -> tuple[TestClient, TestClient]:
    """Two replicas, the first one started leading: (leader, follower)."""
    clients = []
    for each in settings:
        clients.append(await start_bridge(each))
        await bot_ready(clients[-1])
        await eventually(lambda: any(c.server.app[LEADERSHIP].leading for c in clients))
    return leader_and_follower(*clients)


def replica_settings(make_settings: Callable[..., Settings], url: str, **more: object) -> list:
    return [
        make_settings(
            bridge_database_url=url,
            bridge_replica_name=name,
            bridge_leader_poll_seconds=0.05,
            bridge_leader_heartbeat_seconds=0.2,
            bridge_leader_timeout_seconds=0.5,
            **more,
        )
        for name in ("a", "b")
    ]


async def test_a_new_leader_does_not_apply_again_a_press_the_old_one_handled(
    postgres_url: str,
    start_bridge: Start,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    routes = write_routes(tmp_path, SHOP_ROUTES)
    each = replica_settings(
        make_settings, postgres_url, telegram_chat_id=None, bridge_config=routes
    )
    leader, follower = await replicas(start_bridge, each)
    await eventually(lambda: polling(leader))
    fake_telegram.send_command("/topics", chat_id=ORDERS_CHAT, user_id=STAFF)
    [listing] = await replies(fake_telegram, ORDERS_CHAT, 1)
    fake_telegram.press_button(listing, button_data(listing, "order.created"), user_id=ADMIN)
    await eventually(lambda: len(fake_telegram.callback_answers) == 1)
    press = fake_telegram.pushed[-1]

    # The leader dies before a getUpdates confirmed the press: the next one is given it.
    await end_session(postgres_url, leader)
    await eventually(lambda: follower.server.app[LEADERSHIP].leading, timeout=3)
    fake_telegram.give_again(press)
    await eventually(lambda: polling(follower), timeout=3)
    fake_telegram.send_command("/start", chat_id=ORDERS_CHAT, user_id=STAFF)
    await replies(fake_telegram, ORDERS_CHAT, 2)  # handled after the press, in order
    assert len(fake_telegram.callback_answers) == 1  # the toggle did not run again
    conn = await asyncpg.connect(postgres_url)
    try:
        mutes = [tuple(r) for r in await conn.fetch("SELECT chat_id, pattern FROM mutes")]
    finally:
        await conn.close()
    assert mutes == [(ORDERS_CHAT, "order.created")]


async def test_an_update_posted_to_both_replicas_is_handled_once(
    postgres_url: str,
    start_bridge: Start,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
) -> None:
    each = replica_settings(
        make_settings, postgres_url, telegram_webhook_url=HOOK, telegram_webhook_secret=TOKEN
    )
    a, b = await replicas(start_bridge, each)
    headers = {"X-Telegram-Bot-Api-Secret-Token": TOKEN}
    for client, update in ((a, start_command(7)), (b, start_command(7)), (b, start_command(8))):
        assert (await client.post("/telegram", json=update, headers=headers)).status == 200
    await fake_telegram.wait_for_messages(2)
    await a.close()  # each handles what was queued before it stops
    await b.close()
    assert len(fake_telegram.sent) == 2  # updates 7 and 8, 7 once


def sends_to(fake: FakeTelegram, chat_id: int) -> int:
    return sum(
        1
        for method, params in fake.calls
        if method == "sendMessage" and int(params["chat_id"]) == chat_id
    )


async def test_a_new_leader_sends_to_the_supergroup_the_old_one_found(
    postgres_url: str,
    start_bridge: Start,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
) -> None:
    leader, follower = await replicas(start_bridge, replica_settings(make_settings, postgres_url))
    # The configured group became a supergroup: the leader learns it from Telegram's 400.
    fake_telegram.migrated_chats[CHAT_ID] = SUPERGROUP
    assert (await deliver(follower, "order.created", wire("order"))).status == 200
    await eventually(lambda: any(m.chat_id == SUPERGROUP for m in fake_telegram.sent))
    assert sends_to(fake_telegram, CHAT_ID) == 1

    await end_session(postgres_url, leader)
    await eventually(lambda: follower.server.app[LEADERSHIP].leading, timeout=3)
    body = wire("order").replace(b'"id":', b'"id": 9', 1)
    assert (await deliver(follower, "order.created", body)).status == 200
    await eventually(lambda: len([m for m in fake_telegram.sent if m.chat_id == SUPERGROUP]) == 2)
    assert sends_to(fake_telegram, CHAT_ID) == 1  # the new leader never tried the dead id

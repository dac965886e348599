"""/topics, /mute, /unmute and the toggle buttons, through the stand-in Telegram."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from bridge.bot.mute_commands import UsageError, callback_data, parse_duration, topic_of
from bridge.config import Settings
from tests.fakes.clock import ShiftedClock
from tests.fakes.telegram import FakeTelegram, Reply
from tests.helpers import (
    ADMIN,
    FORUM_CHAT,
    ORDERS_CHAT,
    STAFF,
    STOCK_CHAT,
    bot_ready,
    button_data,
    db_rows,
    deliver,
    eventually,
    order_body,
    replies,
    wire,
    write_routes,
)

StartBridge = Callable[..., Awaitable[TestClient]]


def mutes_in_db(client: TestClient) -> list[tuple[int, int, str]]:
    return db_rows(client, "SELECT chat_id, thread_id, pattern FROM mutes ORDER BY pattern")


def skipped(client: TestClient) -> list[tuple[int, str, str]]:
    return db_rows(
        client,
        "SELECT chat_id, topic, last_error FROM messages WHERE status = 'skipped' ORDER BY id",
    )


async def routed(client: TestClient, count: int) -> None:
    """Wait until `count` events are routed and no message waits to be sent."""
    await eventually(
        lambda: (
            len(db_rows(client, "SELECT id FROM events WHERE state != 'new'")) == count
            and not db_rows(
                client, "SELECT id FROM messages WHERE status IN ('pending', 'sending')"
            )
        )
    )


async def test_topics_lists_what_this_chat_receives_with_a_button_each(
    shop: TestClient, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.send_command("/topics", chat_id=ORDERS_CHAT, user_id=STAFF)
    [reply] = await replies(fake_telegram, ORDERS_CHAT, 1)
    assert reply.text.splitlines()[1:5] == [
        "🔔 order.created",
        "🔔 order.updated",
        "🔔 order.deleted",
        "🔔 order.restored",
    ]
    assert "product" not in reply.text  # the stock chat's topics are not shown here
    labels = [b["text"] for row in reply.reply_markup["inline_keyboard"] for b in row]  # type: ignore[index]
    assert labels == [
        "🔔 order.created",
        "🔔 order.updated",
        "🔔 order.deleted",
        "🔔 order.restored",
    ]
    assert all(len(button_data(reply, t).encode()) <= 64 for t in labels)


async def test_a_button_toggles_the_mute_of_its_topic(
    shop: TestClient, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.send_command("/topics", chat_id=ORDERS_CHAT, user_id=STAFF)
    [listing] = await replies(fake_telegram, ORDERS_CHAT, 1)

    fake_telegram.press_button(listing, button_data(listing, "order.updated"), user_id=ADMIN)
    await eventually(lambda: len(fake_telegram.edits) == 1)
    assert fake_telegram.callback_answers[-1]["text"] == "🔕 order.updated muted"
    edited = fake_telegram.edits[-1]
    assert "🔕 order.updated: muted until /unmute" in edited["text"]
    assert "🔔 order.created" in edited["text"]
    assert mutes_in_db(shop) == [(ORDERS_CHAT, 0, "order.updated")]

    await deliver(shop, "order.updated", order_body(saved=1, status="completed"))
    await routed(shop, 1)
    assert [(chat, topic) for chat, topic, _ in skipped(shop)] == [(ORDERS_CHAT, "order.updated")]
    assert skipped(shop)[0][2] == "muted: order.updated until unmuted"
    assert len(fake_telegram.messages_to(ORDERS_CHAT)) == 1  # just the /topics answer

    fake_telegram.press_button(listing, button_data(listing, "order.updated"), user_id=ADMIN)
    await eventually(lambda: len(fake_telegram.edits) == 2)
    assert fake_telegram.callback_answers[-1]["text"] == "🔔 order.updated unmuted"
    assert mutes_in_db(shop) == []
    await deliver(shop, "order.updated", order_body(saved=2, status="refunded"))
    [_, message] = await replies(fake_telegram, ORDERS_CHAT, 2)
    assert "Completed → Refunded" in message.text


async def test_a_button_under_a_wider_mute_lifts_it_and_says_so(
    shop: TestClient, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.send_command("/mute order.*", chat_id=ORDERS_CHAT, user_id=ADMIN)
    fake_telegram.send_command("/topics", chat_id=ORDERS_CHAT, user_id=STAFF)
    listing = (await replies(fake_telegram, ORDERS_CHAT, 2))[-1]
    assert "🔕 order.deleted: muted until /unmute" in listing.text
    fake_telegram.press_button(listing, button_data(listing, "order.created"), user_id=ADMIN)
    await eventually(lambda: len(fake_telegram.edits) == 1)
    answer = fake_telegram.callback_answers[-1]["text"]
    assert answer == "🔔 order.created unmuted (lifted order.*, which covered it)"
    assert "🔕" not in fake_telegram.edits[-1]["text"]
    assert mutes_in_db(shop) == []


async def test_others_than_admins_cannot_change_mutes(
    shop: TestClient, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.send_command("/topics", chat_id=ORDERS_CHAT, user_id=STAFF)
    [listing] = await replies(fake_telegram, ORDERS_CHAT, 1)
    fake_telegram.press_button(listing, button_data(listing, "order.created"), user_id=STAFF)
    await eventually(lambda: len(fake_telegram.callback_answers) == 1)
    answer = fake_telegram.callback_answers[0]
    assert "only the shop's admins" in answer["text"]
    assert str(answer["show_alert"]).lower() == "true"

    fake_telegram.send_command("/mute order.*", chat_id=ORDERS_CHAT, user_id=STAFF)
    fake_telegram.send_command("/unmute all", chat_id=ORDERS_CHAT, user_id=STAFF)
    refusals = (await replies(fake_telegram, ORDERS_CHAT, 3))[1:]
    for refusal in refusals:
        assert refusal.text.startswith("Sorry, only the shop's admins can change")
        assert f"({STAFF})" in refusal.text
    assert fake_telegram.edits == []
    assert mutes_in_db(shop) == []


async def test_mute_with_a_duration_ends_on_time(
    start_bridge: StartBridge, shop_settings: Settings, fake_telegram: FakeTelegram
) -> None:
    clock = ShiftedClock()
    shop = await start_bridge(shop_settings, clock=clock)
    await bot_ready(shop)
    fake_telegram.send_command("/mute product.* 2h", chat_id=STOCK_CHAT, user_id=ADMIN)
    [reply] = await replies(fake_telegram, STOCK_CHAT, 1)
    assert reply.text.startswith("🔕 Muted <code>product.*</code> here for 2h")
    assert "product.created, product.updated" in reply.text

    await deliver(shop, "product.created", wire("product"))
    await routed(shop, 1)
    [(chat, _, reason)] = skipped(shop)
    assert chat == STOCK_CHAT
    assert reason.startswith("muted: product.* until ")
    clock.advance(2 * 3600 + 1)  # two hours later, without waiting for them
    await deliver(shop, "product.deleted", b'{"id": 19}')
    [_, message] = await replies(fake_telegram, STOCK_CHAT, 2)
    assert "19" in message.text


async def test_mutes_survive_a_restart(
    start_bridge: StartBridge, shop_settings: Settings, fake_telegram: FakeTelegram
) -> None:
    first = await start_bridge(shop_settings)
    await bot_ready(first)
    fake_telegram.send_command("/mute order.*", chat_id=ORDERS_CHAT, user_id=ADMIN)
    await replies(fake_telegram, ORDERS_CHAT, 1)
    await first.close()

    second = await start_bridge(shop_settings)
    await bot_ready(second)
    await deliver(second, "order.created", wire("order"))
    await routed(second, 1)
    assert [(chat, topic) for chat, topic, _ in skipped(second)] == [(ORDERS_CHAT, "order.created")]
    fake_telegram.send_command("/topics", chat_id=ORDERS_CHAT, user_id=STAFF)
    listing = (await replies(fake_telegram, ORDERS_CHAT, 2))[-1]
    assert "🔕 order.created: muted until /unmute" in listing.text


async def test_a_message_queued_before_the_mute_is_skipped_not_sent(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    shop_settings: Settings,
    fake_telegram: FakeTelegram,
) -> None:
    # A slow retry leaves the message waiting in the queue while staff mute its topic.
    settings = shop_settings.model_copy(
        update={"bridge_retry_base_seconds": 3.0, "bridge_retry_max_seconds": 3.0}
    )
    client = await start_bridge(settings)
    await bot_ready(client)
    fake_telegram.script("sendMessage", Reply(502, "Bad Gateway"))
    await deliver(client, "product.created", wire("product"))
    await eventually(
        lambda: (
            db_rows(client, "SELECT status, attempts FROM messages WHERE chat_id = ?", STOCK_CHAT)
            == [("pending", 1)]
        )
    )
    fake_telegram.send_command("/mute product.created", chat_id=STOCK_CHAT, user_id=ADMIN)
    [reply] = await replies(fake_telegram, STOCK_CHAT, 1)
    assert "still waiting are dropped too" in reply.text
    assert db_rows(client, "SELECT status FROM messages WHERE chat_id = ?", STOCK_CHAT) == [
        ("pending",)
    ]
    await eventually(lambda: bool(skipped(client)), timeout=6)
    assert skipped(client)[0][2] == "muted: product.created until unmuted"
    assert [m.text for m in fake_telegram.messages_to(STOCK_CHAT)] == [reply.text]


async def test_unmute_lifts_the_mutes_a_topic_or_all_names(
    shop: TestClient, fake_telegram: FakeTelegram
) -> None:
    for command in ("/mute order.*", "/mute@shop_bridge_bot order.deleted 2h"):
        fake_telegram.send_command(command, chat_id=ORDERS_CHAT, user_id=ADMIN)
    await replies(fake_telegram, ORDERS_CHAT, 2)
    assert mutes_in_db(shop) == [(ORDERS_CHAT, 0, "order.*"), (ORDERS_CHAT, 0, "order.deleted")]

    fake_telegram.send_command("/unmute order.created", chat_id=ORDERS_CHAT, user_id=ADMIN)
    lifted = (await replies(fake_telegram, ORDERS_CHAT, 3))[-1]
    assert lifted.text == "🔔 Unmuted order.*."
    fake_telegram.send_command("/unmute customer.*", chat_id=ORDERS_CHAT, user_id=ADMIN)
    nothing = (await replies(fake_telegram, ORDERS_CHAT, 4))[-1]
    assert nothing.text == "Nothing muted here matches customer.*."
    fake_telegram.send_command("/unmute all", chat_id=ORDERS_CHAT, user_id=ADMIN)
    everything = (await replies(fake_telegram, ORDERS_CHAT, 5))[-1]
    assert everything.text == "🔔 Unmuted order.deleted."
    assert mutes_in_db(shop) == []


async def test_mistakes_in_mute_get_a_helpful_answer(
    shop: TestClient, fake_telegram: FakeTelegram
) -> None:
    for command in ("/mute", "/mute customer.*", "/mute order.* soon", "/mute orders.*"):
        fake_telegram.send_command(command, chat_id=ORDERS_CHAT, user_id=ADMIN)
    answers = [m.text for m in await replies(fake_telegram, ORDERS_CHAT, 4)]
    assert answers[0].startswith("Write /mute &lt;topic or pattern&gt; [duration]")
    assert "This chat receives: order.created, order.updated" in answers[0]
    assert answers[1].startswith("No topic this chat receives matches customer.*")
    assert answers[2] == "“soon” is not a duration; write it like 30m, 2h or 1d."
    assert "names no WooCommerce topic" in answers[3]
    assert mutes_in_db(shop) == []


async def test_mutes_belong_to_their_chat_and_forum_topic(
    shop: TestClient, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.send_command(
        "/mute order.*", chat_id=FORUM_CHAT, user_id=ADMIN, chat_type="supergroup", thread_id=12
    )
    [reply] = await replies(fake_telegram, FORUM_CHAT, 1)
    assert reply.thread_id == 12  # answered in the topic it was asked in
    assert mutes_in_db(shop) == [(FORUM_CHAT, 12, "order.*")]

    await deliver(shop, "order.created", wire("order"))
    await routed(shop, 1)
    assert [(chat, topic) for chat, topic, _ in skipped(shop)] == [(FORUM_CHAT, "order.created")]
    assert len(fake_telegram.messages_to(ORDERS_CHAT)) == 1  # the order chat still hears it

    fake_telegram.send_command("/topics", chat_id=FORUM_CHAT, user_id=STAFF, chat_type="supergroup")
    general = (await replies(fake_telegram, FORUM_CHAT, 2))[-1]
    assert general.thread_id is None
    assert "🔔 product.created" in general.text
    assert "order" not in general.text
    assert "🔕" not in general.text


def test_long_topics_get_short_button_data() -> None:
    long_topic = "action.woocommerce_" + "x" * 60
    topics = ["order.created", long_topic]
    data = callback_data(long_topic)
    assert len(data.encode()) <= 64
    assert topic_of(data, topics) == long_topic
    assert topic_of(callback_data("order.created"), topics) == "order.created"
    assert topic_of(callback_data("order.created"), [long_topic]) is None


@pytest.mark.parametrize(
    ("text", "seconds"), [("30m", 1800), ("2h", 7200), ("1d", 86400), ("45s", 45), ("1H", 3600)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "0m", "2w", "400d", "1.5h", "-1h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError):
        parse_duration(text)


async def test_commands_work_in_a_private_chat_that_a_route_names(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
) -> None:
    path = write_routes(tmp_path, f'[[routes]]\nchat_id = {ADMIN}\ntopics = ["coupon.*"]\n')
    client = await start_bridge(make_settings(telegram_chat_id=None, bridge_config=path))
    await bot_ready(client)
    fake_telegram.send_command(
        "/mute coupon.created 30m", chat_id=ADMIN, user_id=ADMIN, chat_type="private"
    )
    [reply] = await replies(fake_telegram, ADMIN, 1)
    assert reply.text.startswith("🔕 Muted <code>coupon.created</code> here for 30m")
    assert mutes_in_db(client) == [(ADMIN, 0, "coupon.created")]

"""The rest of the store's named operations, the same on both backends: order cards and
actions, gap filling's memory, summaries, replays, chats that moved."""

from __future__ import annotations

import json
import time

from bridge.queue.models import (
    EventState,
    IncomingEvent,
    OrderAction,
    OrderState,
    OutgoingMessage,
    Routing,
    SeenOrder,
)
from bridge.queue.storage import Storage
from bridge.webhook.intake import body_key
from tests.backends import Backend
from tests.fakes.clock import ShiftedClock


def order_event(order_id: int | str, n: int = 0, recovered: bool = False) -> IncomingEvent:
    body = json.dumps({"id": order_id, "n": n}).encode()
    key = body_key("shop", "order.updated", body)
    return IncomingEvent("shop", "order.updated", body, key, time.time(), recovered=recovered)


async def routed_to(store: Storage, event: IncomingEvent, *chats: int) -> int:
    accepted = await store.accept(event)
    messages = tuple(
        OutgoingMessage(chat_id=c, topic=event.topic, text=f"order in {c}", reply_markup="{}")
        for c in chats
    )
    await store.commit_routing(
        Routing(accepted.event_id, EventState.ROUTED, messages, state_key=f"k{accepted.event_id}")
    )
    return accepted.event_id


async def test_order_cards_copies_and_actions(store: Storage) -> None:
    event_id = await routed_to(store, order_event(727), -1, -2)
    await routed_to(store, order_event(728), -1)
    # A body that is no JSON object: never an order card, and no error either.
    odd = IncomingEvent("shop", "order.updated", b"[1, 2", "odd", time.time())
    await routed_to(store, odd, -1)
    assert await store.seen_state(f"k{event_id}") == event_id
    assert await store.open_messages(up_to=2) == 2
    sent: dict[int, tuple[int, int]] = {}  # message id: (chat, Telegram's id)
    while claimed := await store.claim(time.time(), limit=10):
        for message in claimed:
            sent[message.id] = (message.chat_id, 100 + message.id)
            await store.mark_sent(message.id, time.time(), telegram_id=100 + message.id)
    assert sent == {1: (-1, 101), 2: (-2, 102), 3: (-1, 103), 4: (-1, 104)}
    card = await store.card_of_message(-1, 101)
    assert card is not None
    assert (card.store, card.order_id, card.event_id) == (
        "shop",
        "727",
        event_id,
    )
    assert await store.card_of_message(-1, 104) is None  # the odd body
    assert await store.card_of_message(-1, 999) is None

    await store.save_order_card(-3, 5, "shop", "727", "card text")
    card = await store.card_of_message(-3, 5)
    assert card is not None
    assert (card.order_id, card.event_id) == ("727", 0)
    copies = await store.order_copies("shop", "727")
    assert sorted((c.chat_id, c.telegram_id) for c in copies) == [(-3, 5), (-2, 102), (-1, 101)]

    action = OrderAction("shop", "727", 42, "Ann", -1, "status", "pending", "done", "done", 5.0)
    await store.record_order_action(action)
    [stored] = await store.order_actions()
    assert stored.id > 0
    assert (stored.user_name, stored.to_status) == ("Ann", "done")


async def test_what_gap_filling_remembers(store: Storage) -> None:
    assert await store.watermark("shop") is None
    await store.save_watermark("shop", "2024-01-01T00:00:00")
    await store.save_watermark("shop", "2024-01-02T00:00:00")
    assert await store.watermark("shop") == "2024-01-02T00:00:00"

    await store.remember_order_status(OrderState("shop", "1", "processing", "2024-01-01"), 1)
    await store.remember_order_status(OrderState("shop", "2", "pending", "2024-01-01", True), 2)
    assert await store.seen_orders("shop", ["1", "2", "3"]) == {
        "1": SeenOrder("processing", "2024-01-01", False),
        "2": SeenOrder("pending", "2024-01-01", True),
    }
    assert await store.seen_order("shop", "2") == SeenOrder("pending", "2024-01-01", True)

    since = time.time() - 60
    await routed_to(store, order_event(1))
    await routed_to(store, order_event(2, recovered=True))
    activity = await store.store_activity("shop", since)
    assert activity.recovered == 1
    assert activity.last_webhook is not None
    assert activity.last_webhook >= since

    notice = IncomingEvent("bridge", "bridge.report", b"{}", "notice-1", time.time())
    store.messages_waiting.clear()
    await store.queue_notice(notice, OutgoingMessage(chat_id=9, topic="bridge.report", text="r"))
    assert store.messages_waiting.is_set()
    assert [m.text for m in await store.claim(time.time(), limit=10)] == ["r"]


async def test_a_summary_is_queued_once(store: Storage) -> None:
    event = IncomingEvent("bridge", "bridge.summary", b"{}", "summary-1", time.time())
    message = OutgoingMessage(chat_id=9, topic="bridge.summary", text="today")
    assert not await store.summary_sent("9:0:daily:2024-01-01")
    assert await store.queue_summary("9:0:daily:2024-01-01", event, message)
    assert await store.summary_sent("9:0:daily:2024-01-01")
    again = IncomingEvent("bridge", "bridge.summary", b"{}", "summary-2", time.time())
    assert not await store.queue_summary("9:0:daily:2024-01-01", again, message)
    assert (await store.stats()).pending == 1


async def test_replay_skip_and_a_chat_that_moved(store: Storage) -> None:
    await routed_to(store, order_event(1), 1, 2, 3)
    await routed_to(store, order_event(2), 1)
    now = time.time()
    first, second, third = await store.claim(now, limit=10)
    await store.mark_dead(first.id, "Forbidden", now)
    await store.mark_dead(second.id, "Forbidden", now)
    await store.mark_skipped(third.id, "muted", now)
    assert await store.replay([first.id]) == 1
    assert await store.replay(None) == 1
    await store.update_text(first.id, "new text", None)
    [again] = await store.claim(time.time(), limit=1, exclude_chats=[2])
    assert (again.id, again.text, again.reply_markup, again.attempts) == (
        first.id,
        "new text",
        None,
        1,
    )
    await store.mark_sent(again.id, time.time())
    # Chat 1 became a supergroup: its unsent message follows it.
    await store.migrate_chat(1, -1001)
    moved = await store.claim(time.time(), limit=10)
    assert sorted(m.chat_id for m in moved) == [-1001, 2]
    await store.record_failed_chat(3, "Forbidden", time.time())
    await store.forget_failed_chat(3)
    assert await store.failed_chats() == []


async def test_a_telegram_update_is_taken_once_and_forgotten_after_two_days(
    backend: Backend, clock: ShiftedClock
) -> None:
    store = await backend.open(clock)
    try:
        assert await store.take_update(41)
        assert not await store.take_update(41)
        assert await store.take_update(40)  # out of order (webhooks in parallel): still new
    finally:
        await store.close()
    # Another replica, or the bridge after a restart, knows what was taken.
    again = await backend.open(clock)
    try:
        assert not await again.take_update(41)
        clock.advance(2 * 86400 + 1)  # Telegram keeps an update 24 hours at most
        assert await again.take_update(42)
        assert await again.take_update(41)
    finally:
        await again.close()

"""The store's named operations beyond the queue itself, and the wake-ups they set, on
both backends."""

from __future__ import annotations

import time

from bridge.queue.models import (
    DigestItem,
    EventState,
    IncomingEvent,
    MuteRecord,
    OrderState,
    OutgoingMessage,
    Routing,
)
from bridge.queue.storage import Storage
from bridge.webhook.intake import body_key
from tests.fakes.clock import ShiftedClock


async def an_event(store: Storage, n: int = 1) -> int:
    body = b'{"id":%d}' % n
    event = IncomingEvent("default", "product.updated", body, body_key("default", "p", body), 1.0)
    return (await store.accept(event)).event_id


async def test_stats_and_dead_letters_of_one_chat_or_all(store: Storage) -> None:
    event = await an_event(store)
    messages = tuple(OutgoingMessage(chat_id=c, topic="t", text="x") for c in (1, 1, 2))
    await store.commit_routing(Routing(event, EventState.ROUTED, messages))
    now = time.time()
    for message in await store.claim(now, limit=10):
        await store.mark_dead(message.id, f"gone {message.chat_id}", now)
    assert (await store.stats()).dead == 2
    assert (await store.stats(1)).dead == 1
    assert (await store.stats(1)).pending == 1
    assert (await store.stats(3)).pending == 0
    assert await store.count_dead_letters() == 2
    assert await store.count_dead_letters(2) == 1
    assert [d.last_error for d in await store.dead_letters(10, chat_id=2)] == ["gone 2"]


async def test_what_routing_learned_is_committed_with_its_messages(store: Storage) -> None:
    event = await an_event(store)
    order = OrderState("default", "727", "processing", "2024-01-01T10:00:00")
    held = DigestItem(5, None, "product.updated", False, None, "Hoodie", event)
    await store.commit_routing(
        Routing(event, EventState.ROUTED, order_state=order, digest_items=(held,))
    )
    assert await store.order_status("default", "727") == ("processing", "2024-01-01T10:00:00")
    [digest] = await store.due_digests(quiet_since=time.time() + 1, started_before=0, titles=5)
    assert (digest.chat_id, digest.count, digest.titles) == (5, 1, ("Hoodie",))


async def test_writes_that_make_work_wake_the_sender(store: Storage) -> None:
    event = await an_event(store)
    held = DigestItem(5, None, "product.updated", False, None, "Hoodie", event)
    await store.commit_routing(Routing(event, EventState.ROUTED, digest_items=(held,)))
    assert not store.messages_waiting.is_set()  # nothing to send yet
    [digest] = await store.due_digests(quiet_since=time.time() + 1, started_before=0, titles=5)
    await store.commit_digest(digest, "1 more product.updated")
    assert store.messages_waiting.is_set()

    store.messages_waiting.clear()
    await store.record_failed_chat(7, "Forbidden", time.time())  # no alert chat: no message
    assert not store.messages_waiting.is_set()
    alert = IncomingEvent("bridge", "bridge.chat_failed", b"{}", "alert-key", time.time())
    message = OutgoingMessage(chat_id=9, topic="bridge.chat_failed", text="chat 8 fails")
    await store.record_failed_chat(8, "Forbidden", time.time(), (alert, message))
    assert store.messages_waiting.is_set()
    assert sorted(await store.failed_chats()) == [7, 8]
    queued = await store.claim(time.time(), limit=10)
    assert [(m.chat_id, m.text) for m in queued] == [
        (5, "1 more product.updated"),
        (9, "chat 8 fails"),
    ]


async def test_mutes_end_on_the_stores_clock_and_follow_a_moved_chat(
    store: Storage, clock: ShiftedClock
) -> None:
    hour = time.time() + 3600
    await store.save_mute(MuteRecord(-1, None, "order.*", None, 42))
    await store.save_mute(MuteRecord(-1, 7, "product.*", hour, 42))
    await store.record_chat_move(-1, -100)
    assert await store.chat_moves() == {-1: -100}
    assert {(m.chat_id, m.thread_id, m.pattern) for m in await store.mutes()} == {
        (-100, None, "order.*"),
        (-100, 7, "product.*"),
    }
    clock.advance(3601)
    assert [m.pattern for m in await store.mutes()] == ["order.*"]

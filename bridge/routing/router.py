"""The router: turns each stored event into the messages its chats should receive.

It handles events one at a time in arrival order, so that what it remembers about a
resource (the last state it saw, an order's last status) is always up to date; what
it learns from an event is committed together with the event's messages.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
from collections.abc import Callable

from bridge.payloads import Payload, PayloadKind, parse_payload
from bridge.queue.models import EventState, OutgoingMessage, Routing, StoredEvent
from bridge.queue.store import Store, StoreError
from bridge.render.renderer import Renderer, last_resort_text
from bridge.routing import orders
from bridge.routing.chats import Chats
from bridge.routing.mutes import Mutes
from bridge.routing.orders import StatusChange
from bridge.routing.targets import Routes

log = logging.getLogger(__name__)

# Orders the block checkout creates before the customer has ordered anything.
IGNORED_ORDER_STATUSES = frozenset({"checkout-draft"})
_STORE_RETRY_SECONDS = 1.0

#: what routing an event taught the router, written in the routing's own transaction
_Learned = Callable[[sqlite3.Connection], None] | None


def decide(
    event: StoredEvent,
    payload: Payload,
    routes: Routes,
    renderer: Renderer,
    change: StatusChange | None = None,
    mutes: Mutes | None = None,
) -> Routing:
    """The messages for one event; pure apart from rendering and the clock.

    A target that muted the topic still gets its messages, kept as skipped.
    """
    if payload.resource == "order" and payload.status in IGNORED_ORDER_STATUSES:
        return Routing(event.id, EventState.IGNORED, note=f"order status {payload.status}")
    template_change = (
        {"before": change.before or "", "after": change.after, "changed": change.changed}
        if change is not None
        else None
    )
    messages: list[OutgoingMessage] = []
    now = time.time()
    for target in routes.targets_for(payload, change):
        mute = mutes.muting(target.chat_id, target.thread_id, event.topic, now) if mutes else None
        rendered = renderer.render(payload, event.id, target.language, template_change)
        last = len(rendered.parts) - 1
        messages.extend(
            OutgoingMessage(
                chat_id=target.chat_id,
                thread_id=target.thread_id,
                silent=target.silent,
                topic=event.topic,
                text=part,
                # Buttons go under the last part, where the reader ends up.
                reply_markup=rendered.reply_markup if index == last else None,
                skip_reason=None if mute is None else f"muted: {mute.describe()}",
            )
            for index, part in enumerate(rendered.parts)
        )
    note = None
    if change is not None and not change.changed and payload.event == "updated":
        note = f"no status change ({change.after})"
    return Routing(
        event.id, EventState.ROUTED, tuple(messages), note=note, state_key=payload.state_key()
    )


def fallback_routing(event: StoredEvent, routes: Routes) -> Routing:
    """A bare notice for an event that could not be routed normally."""
    text = last_resort_text(event.topic, event.id)
    payload = Payload(event.topic, PayloadKind.UNREADABLE)
    messages = tuple(
        OutgoingMessage(chat_id=t.chat_id, thread_id=t.thread_id, topic=event.topic, text=text)
        for t in routes.targets_for(payload)
    )
    return Routing(event.id, EventState.ROUTED, messages, note="routing failed")


class Router:
    """Routes new events until cancelled."""

    def __init__(self, store: Store, chats: Chats, renderer: Renderer) -> None:
        self._store = store
        self._chats = chats
        self._renderer = renderer

    async def run(self) -> None:
        if not self._chats.routes.configured:
            log.warning(
                "no chat is configured (TELEGRAM_CHAT_ID or BRIDGE_CONFIG): events are stored "
                "and will be sent once a chat is set and the bridge restarted"
            )
            return
        while True:
            self._store.events_waiting.clear()
            try:
                handled = await self.route_pending()
            except StoreError as exc:
                log.error("cannot route events, retrying: %s", exc)
                await asyncio.sleep(_STORE_RETRY_SECONDS)
                continue
            if not handled:
                await self._store.events_waiting.wait()

    async def route_pending(self) -> int:
        """Route every event waiting now; returns how many."""
        events = await self._store.new_events()
        for event in events:
            learned: _Learned = None
            try:
                routing, learned = await self._route(event)
            except StoreError:
                raise
            except Exception:
                # A bug here must not stall the queue, nor drop the event silently.
                log.exception("routing event #%d (%s) failed", event.id, event.topic)
                routing = fallback_routing(event, self._chats.routes)
            await self._store.commit_routing(routing, now=time.time(), also=learned)
        return len(events)

    async def _route(self, event: StoredEvent) -> tuple[Routing, _Learned]:
        payload = parse_payload(event.topic, event.body)
        if payload.kind is PayloadKind.UNREADABLE:
            log.warning("event #%d (%s) is %s", event.id, event.topic, payload.problem)
        state_key = payload.state_key()
        if state_key is not None:
            first = await self._store.seen_state(state_key)
            if first is not None:
                note = f"same state as event #{first}"
                return Routing(event.id, EventState.DUPLICATE, note=note), None
        state = orders.order_state(event.store, payload)
        change = await self._store.call(orders.recall, state) if state is not None else None
        routing = decide(
            event, payload, self._chats.routes, self._renderer, change, self._chats.mutes
        )
        learned: _Learned = None
        if state is not None and change is not None and change.current:
            learned = functools.partial(orders.remember, state=state, event_id=event.id)
        return routing, learned

"""The router: turns each stored event into the messages its chats should receive.

It handles events one at a time in arrival order, so that what it remembers about a
resource (the last state it saw, an order's last status) is always up to date; what
it learns from an event is committed together with the event's messages.

Intake comes first. WooCommerce delivers each webhook once and waits for the answer,
while Telegram takes about 30 messages a second whatever the bridge does: routing a
burst as fast as it arrives only queues messages earlier, and costs what intake needs,
the CPU (parsing and rendering hold the GIL, even in a thread) and the database thread
(each routing is a few statements and a commit with an fsync, ahead of the next group
commit of deliveries). Profiled under a burst of deliveries, rendering alone took a
tenth of the time the bridge held the GIL even at 60 events a second (bench/RESULTS.md,
section 10). So while deliveries arrive fast the router keeps just ahead of the sender:
it routes at most `busy_pace` events a second, and only while fewer than that many
messages wait to be sent (when that many wait, it sleeps until the store says one has
gone, rather than counting them again and again). Once the burst is over it catches up
at full speed. A lone order in a quiet bridge is routed at once. Events are still
routed one at a time in arrival order, so every chat gets its messages in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging

from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.payloads import Payload, PayloadKind, parse_payload
from bridge.queue.models import (
    DEFAULT_STORE,
    Digest,
    DigestItem,
    EventState,
    OutgoingMessage,
    Routing,
    StoredEvent,
)
from bridge.queue.storage import Storage, StoreError
from bridge.render.renderer import Renderer, last_resort_text
from bridge.routing import ledger, orders, stock
from bridge.routing.chats import Chats
from bridge.routing.digests import Digests, digest_text, held_item, title_of
from bridge.routing.mutes import Mutes
from bridge.routing.orders import StatusChange
from bridge.routing.stock import Stock, StockChange
from bridge.routing.targets import Routes

log = logging.getLogger(__name__)

# Orders the block checkout creates before the customer has ordered anything.
IGNORED_ORDER_STATUSES = frozenset({"checkout-draft"})
_STORE_RETRY_SECONDS = 1.0
_POLL_SECONDS = 5.0
#: intake counts as busy while at least BUSY_DELIVERIES arrive within BUSY_WINDOW seconds
#: (100 a second): far above a shop's normal traffic, far below a burst
BUSY_WINDOW = 0.1
BUSY_DELIVERIES = 10


def decide(
    event: StoredEvent,
    payload: Payload,
    *,
    routes: Routes,
    renderer: Renderer,
    now: float,
    change: StatusChange | None = None,
    mutes: Mutes | None = None,
    digests: Digests | None = None,
    paced: float | None = None,
    stock_change: StockChange | None = None,
) -> tuple[Routing, list[DigestItem]]:
    """The messages for one event, and what is held for a digest instead.

    A target that muted the topic still gets its messages, kept as skipped. `now` is wall
    time (mutes end at one); `paced` is monotonic time for digest windows (default `now`).
    """
    if payload.resource == "order" and payload.status in IGNORED_ORDER_STATUSES:
        return Routing(event.id, EventState.IGNORED, note=f"order status {payload.status}"), []
    template_change = (
        {"before": change.before or "", "after": change.after, "changed": change.changed}
        if change is not None
        else None
    )
    messages: list[OutgoingMessage] = []
    held: list[DigestItem] = []
    # Mutes end at a stored wall time; digest windows only measure time passing.
    paced = now if paced is None else paced
    label = renderer.options.label_of(event.store)
    for target, crossing in routes.deliveries(payload, change, event.store, stock_change):
        mute = mutes.muting(target.chat_id, target.thread_id, event.topic, now) if mutes else None
        if mute is None and digests is not None and digests.should_hold(target, event.topic, paced):
            title = f"[{label}] {title_of(payload)}" if label else title_of(payload)
            held.append(held_item(target, event.topic, title, event.id))
            continue
        rendered = renderer.render(
            payload,
            event.id,
            target.language,
            template_change,
            store=event.store,
            recovered=event.recovered,
            stock=None if crossing is None else stock_context(crossing, stock_change),
            order_next=None if target.order_actions is None else dict(target.order_actions),
        )
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
    if held:
        note = f"held for a digest in {len(held)} chat(s)"
    doubt = payload.topic_doubt()
    if doubt:
        note = f"doubtful topic: {doubt}" + (f"; {note}" if note else "")
    routing = Routing(
        event.id, EventState.ROUTED, tuple(messages), note=note, state_key=state_key(event, payload)
    )
    return routing, held


def stock_context(
    crossing: tuple[Stock | None, Stock], change: StockChange | None
) -> dict[str, object]:
    """What a stock message's template is told of the crossing."""
    before, after = crossing
    previous = change.before if change is not None else None
    return {
        "kind": after.value,
        "before": before.value if before is not None else "",
        "before_status": previous.status if previous is not None else "",
        "after_status": change.after.status if change is not None else "",
        "before_quantity": previous.quantity if previous is not None else None,
        "after_quantity": change.after.quantity if change is not None else None,
    }


def state_key(event: StoredEvent, payload: Payload) -> str | None:
    """The resource state `payload` shows, in its store: two stores may both have order 727."""
    key = payload.state_key()
    if key is None or event.store == DEFAULT_STORE:
        return key  # as before there were several stores, so stored keys still match
    # A topic never holds a colon, so no key of the default store starts like this.
    return f"store:{event.store}|{key}"


def fallback_routing(event: StoredEvent, routes: Routes, error: str = "") -> Routing:
    """A bare notice for an event that could not be routed normally; `error` says why."""
    text = last_resort_text(event.topic, event.id)
    payload = Payload(event.topic, PayloadKind.UNREADABLE)
    messages = tuple(
        OutgoingMessage(chat_id=t.chat_id, thread_id=t.thread_id, topic=event.topic, text=text)
        for t in routes.targets_for(payload, store=event.store)
    )
    note = f"routing failed: {error}" if error else "routing failed"
    return Routing(event.id, EventState.ROUTED, messages, note=note[:500])


def describe(exc: BaseException) -> str:
    """`exc` as one line that can always be stored and logged (no lone surrogates)."""
    text = f"{type(exc).__name__}: {exc}"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:300]


class Router:
    """Routes new events until cancelled."""

    def __init__(
        self,
        store: Storage,
        chats: Chats,
        renderer: Renderer,
        digests: Digests | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        busy_pace: float | None = None,
    ) -> None:
        """`busy_pace`: events routed per second while intake is busy (None: no limit)."""
        self._store = store
        self._clock = clock
        self._busy_pause = 1 / busy_pace if busy_pace else 0.0
        #: messages waiting to be sent that are enough to keep the sender busy
        self._lookahead = max(1, round(busy_pace or 0))
        # Where the last look at intake began (event-loop time, deliveries so far), and
        # what it found. Loop time, not the clock: this is scheduling, like a sleep.
        self._window = (-BUSY_WINDOW, 0)
        self._busy = False
        #: set by the store when a message leaves the send queue
        self._room = store.messages_done
        self._chats = chats
        self._renderer = renderer
        self._digests = digests

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
                # Also looks now and then: `woo-bridge reconcile` stores events from its own
                # process, whose wake-up this one never hears.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._store.events_waiting.wait(), _POLL_SECONDS)

    async def route_pending(self) -> int:
        """Route every event waiting now; returns how many."""
        events = await self._store.new_events()
        for event in events:
            await self._yield_to_intake()
            await self._route_one(event)
        return len(events)

    async def _yield_to_intake(self) -> None:
        """While deliveries arrive fast: at most `busy_pace` events a second, and none while
        the sender already has `lookahead` messages to send."""
        if not self._busy_pause:
            return
        while self._intake_busy():
            await asyncio.sleep(self._busy_pause)
            self._room.clear()  # before counting: a message done meanwhile sets it again
            if await self._store.open_messages(self._lookahead) < self._lookahead:
                return
            await self._wait_for_room()

    async def _wait_for_room(self) -> None:
        """While the send queue is full: until a message leaves it, or intake calms down.

        Counting the queue at the pace (`busy_pace` times a second) was a statement on the
        database thread each time, queued between intake's group commits, while one chat
        takes 20 messages a minute. The store's signal costs nothing until a message goes;
        intake is looked at again every BUSY_WINDOW (no statement), so that the catching up
        starts as soon as the burst ends.
        """
        while not self._room.is_set() and self._intake_busy():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._room.wait(), BUSY_WINDOW)

    def _intake_busy(self) -> bool:
        """Whether deliveries arrive at BUSY_DELIVERIES per BUSY_WINDOW or faster."""
        now, count = asyncio.get_running_loop().time(), self._store.deliveries
        started, first = self._window
        arrived, elapsed = count - first, now - started
        if elapsed >= BUSY_WINDOW:
            # Judged over the whole time since the last look: after a quiet spell a lone
            # order (or a few) is routed at once.
            self._busy = arrived * BUSY_WINDOW >= BUSY_DELIVERIES * elapsed
            self._window = (now, count)
        elif arrived >= BUSY_DELIVERIES:
            self._busy = True
        return self._busy

    async def _route_one(self, event: StoredEvent) -> None:
        """Route and commit one event; what fails is kept for this event alone.

        Raises StoreError only when the database itself fails (the whole queue waits).
        """
        try:
            routing = await self._route(event)
            await self._store.commit_routing(routing, now=self._clock.time())
            return
        except StoreError as exc:
            if exc.outage:
                raise
            problem: BaseException = exc
        except Exception as exc:
            problem = exc
        # A bug, or a value the database or Telegram cannot take, must not stall the queue,
        # nor drop the event silently: its chats get a plain notice, the event its error.
        log.error(
            "routing event #%d (%s) failed: %s",
            event.id,
            event.topic,
            describe(problem),
            exc_info=problem,
            extra=_fields(event),
        )
        routing = fallback_routing(event, self._chats.routes, describe(problem))
        await self._store.commit_routing(routing, now=self._clock.time())

    async def _route(self, event: StoredEvent) -> Routing:
        """The event's routing, with what it taught: written in the routing's transaction."""
        # Parsing and rendering run in a thread: a 1 MB body, or a shop's template printing
        # it whole, must not hold the event loop (and with it intake) for seconds.
        payload = await asyncio.to_thread(parse_payload, event.topic, event.body)
        if payload.kind is PayloadKind.UNREADABLE:
            log.warning(
                "event #%d (%s) is %s", event.id, event.topic, payload.problem, extra=_fields(event)
            )
        doubt = payload.topic_doubt()
        if doubt:
            log.warning(
                "event #%d (%s): the topic is doubtful: %s",
                event.id,
                event.topic,
                doubt,
                extra=_fields(event),
            )
        key = state_key(event, payload)
        if key is not None:
            first = await self._store.seen_state(key)
            if first is not None:
                note = f"same state as event #{first}"
                return Routing(event.id, EventState.DUPLICATE, note=note)
        state = orders.order_state(event.store, payload)
        change = None
        if state is not None:
            seen = await self._store.seen_order(state.store, state.order_id)
            repeated = orders.recovery_duplicate(event.recovered, event.topic, state, seen)
            if repeated is not None:
                return Routing(event.id, EventState.DUPLICATE, note=repeated)
            if event.recovered:
                # Told as the webhook would have told it: new to the bridge, or a change.
                topic = "order.created" if seen is None else "order.updated"
                event = dataclasses.replace(event, topic=topic)
                payload = dataclasses.replace(payload, topic=topic)
                state = dataclasses.replace(state, recovered=True)
            change = orders.compare(state, (seen.status, seen.modified) if seen else None)
        level = stock.stock_state(event.store, payload)
        stock_change = None
        if level is not None:
            seen_stock = await self._store.seen_stock(level.store, level.product_id)
            stock_change = stock.compare(level, payload, seen_stock)
        routing, held = await asyncio.to_thread(
            functools.partial(
                decide,
                event,
                payload,
                routes=self._chats.routes,
                renderer=self._renderer,
                now=self._clock.time(),
                paced=self._clock.monotonic(),
                change=change,
                mutes=self._chats.mutes,
                digests=self._digests,
                stock_change=stock_change,
            )
        )
        remembered = state if change is not None and change.current else None
        stock_seen = level if stock_change is not None and stock_change.current else None
        # The ledger keeps every order state, even one that sends nothing (a muted chat).
        ledger_row = ledger.ledger_row(event.store, payload) if remembered is not None else None
        return dataclasses.replace(
            routing,
            order_state=remembered,
            stock_state=stock_seen,
            digest_items=tuple(held),
            ledger_row=ledger_row,
        )

    def _digest_text(self, digest: Digest) -> str:
        """The digest in its chat's language; a plain English one if the template fails."""
        try:
            return self._renderer.render_digest(
                topic=digest.topic,
                count=digest.count,
                names=digest.titles,
                minutes=digest.minutes,
                language=digest.language,
            )
        except Exception:
            # A shop's digest.html may be broken; the burst must still be reported.
            log.exception("digest.html failed for a %s digest; sending plain text", digest.topic)
            return digest_text(digest)

    async def flush_digests_forever(self) -> None:
        """Send each burst's digest once it is over; until cancelled."""
        if self._digests is None:
            return
        interval = max(0.05, min(1.0, self._digests.policy.quiet / 4))
        while True:
            try:
                for digest in await self._digests.due():
                    await self._flush(digest)
            except StoreError as exc:
                log.error("cannot send digests, retrying: %s", exc)
            await asyncio.sleep(interval)

    async def _flush(self, digest: Digest) -> None:
        """Queue one digest; one that cannot be stored must not stop the others."""
        assert self._digests is not None
        try:
            await self._digests.commit(digest, self._digest_text(digest))
            return
        except StoreError as exc:
            if exc.outage:
                raise
            problem: Exception = exc
        except Exception as exc:
            problem = exc
        log.error(
            "the %s digest for chat %s failed (%s); sending it as plain text",
            digest.topic,
            digest.chat_id,
            describe(problem),
            extra={"topic": digest.topic, "chat_id": digest.chat_id},
        )
        await self._digests.commit(digest, digest_text(digest))


def _fields(event: StoredEvent) -> dict[str, object]:
    """An event's structured log fields: never its payload."""
    return {"store": event.store, "topic": event.topic, "event_id": event.id}

"""What the bridge asks of its queue's storage: named operations, no SQL.

`bridge.queue.store.Store` implements it on SQLite; another backend (PostgreSQL, for
several replicas) implements the same operations. Times are epoch seconds; ids are the
storage's own integers, in arrival order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

from bridge.queue.models import (
    Accepted,
    DeadLetter,
    Digest,
    IncomingEvent,
    LedgerRow,
    MuteRecord,
    OrderAction,
    OrderCard,
    OrderCopy,
    OrderState,
    OutgoingMessage,
    QueuedMessage,
    QueueStats,
    Routing,
    SeenOrder,
    StockLevel,
    StoreActivity,
    StoredEvent,
)


class StoreError(Exception):
    """The database could not be read or written.

    `outage` is False when only one row's values were refused (the next event may go
    through), True when the database itself failed (locked, full, unreadable, gone).
    """

    def __init__(self, message: str, *, outage: bool = True) -> None:
        super().__init__(message)
        self.outage = outage


class DatabaseMissing(StoreError):
    """The file the bridge opened is no longer at its path (deleted or replaced)."""


@runtime_checkable
class SignalsRoom(Protocol):
    """A store that says when a message leaves the send queue (sent, skipped or dead).

    Optional: the router, holding back during a burst while the queue is full, waits on
    it instead of counting the queue at its pace; without it, it counts."""

    #: set whenever a message is marked sent, skipped or dead
    messages_done: asyncio.Event


class Storage(Protocol):
    """The queue's durable state. Every write that makes work sets the matching wake-up."""

    #: set when a new event is committed; the router waits on it
    events_waiting: asyncio.Event
    #: set when messages become sendable or change state; the sender waits on it
    messages_waiting: asyncio.Event
    #: deliveries handed to intake so far (stored or not): the router slows down while
    #: this climbs fast, so that a burst of webhooks gets the CPU first
    deliveries: int

    async def close(self) -> None: ...

    # intake
    async def accept(self, event: IncomingEvent) -> Accepted: ...

    # routing commits
    async def new_events(self, limit: int = 100) -> list[StoredEvent]: ...
    async def seen_state(self, state_key: str) -> int | None: ...
    async def commit_routing(self, routing: Routing, now: float | None = None) -> None: ...
    async def open_messages(self, up_to: int) -> int: ...

    # order states
    async def order_status(self, store: str, order_id: str) -> tuple[str, str] | None: ...
    async def seen_order(self, store: str, order_id: str) -> SeenOrder | None: ...
    async def remember_order_status(self, state: OrderState, event_id: int) -> None: ...

    # orders ledger: one row per order, its latest state, for sales reports
    async def record_ledger(self, row: LedgerRow) -> None: ...
    async def ledger_rows(
        self, since: float, until: float, store: str | None = None
    ) -> list[LedgerRow]: ...
    async def known_customers(
        self, before: float, store: str | None = None
    ) -> set[tuple[str, str]]: ...
    async def ledger_start(self, store: str | None = None) -> float | None: ...
    async def prune_ledger(self, before: float) -> int: ...
    # scheduled summaries: queued once per key (chat, thread, kind, day)
    async def summary_sent(self, key: str) -> bool: ...
    async def queue_summary(
        self, key: str, event: IncomingEvent, message: OutgoingMessage
    ) -> bool: ...

    # stock levels: each product's last stock status and quantity
    async def seen_stock(self, store: str, product_id: str) -> StockLevel | None: ...

    # gap filling: where each store's reconciler got to, and what /status tells of it
    async def watermark(self, store: str) -> str | None: ...
    async def seen_orders(self, store: str, order_ids: Sequence[str]) -> dict[str, SeenOrder]: ...
    async def save_watermark(self, store: str, watermark: str) -> None: ...
    async def store_activity(self, store: str, since: float) -> StoreActivity: ...
    async def queue_notice(self, event: IncomingEvent, message: OutgoingMessage) -> None: ...

    # digests
    async def due_digests(
        self, *, quiet_since: float, started_before: float, titles: int
    ) -> list[Digest]: ...
    async def commit_digest(self, digest: Digest, text: str) -> None: ...

    # mutes and chats that moved
    async def mutes(self) -> list[MuteRecord]: ...
    async def save_mute(self, mute: MuteRecord) -> None: ...
    async def delete_mutes(self, mutes: Iterable[MuteRecord]) -> None: ...
    async def chat_moves(self) -> dict[int, int]: ...
    async def record_chat_move(self, old_chat_id: int, new_chat_id: int) -> None: ...

    # Telegram updates: each handled once, whichever replica (or run) is given it
    async def take_update(self, update_id: int) -> bool: ...

    # claims and their outcomes
    async def recover_in_flight(self) -> int: ...
    async def claim(
        self, now: float, limit: int, exclude_chats: Iterable[int] = ()
    ) -> list[QueuedMessage]: ...
    async def next_due(self, exclude_chats: Iterable[int] = ()) -> float | None: ...
    async def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None: ...
    async def mark_sent(
        self, message_id: int, now: float, telegram_id: int | None = None
    ) -> None: ...
    async def retry_later(
        self, message_id: int, run_at: float, error: str, *, counts: bool = True
    ) -> None: ...
    async def update_text(self, message_id: int, text: str, reply_markup: str | None) -> None: ...
    async def mark_skipped(self, message_id: int, reason: str, now: float) -> None: ...
    async def mark_dead(self, message_id: int, error: str, now: float) -> None: ...

    # alerts
    async def failed_chats(self) -> list[int]: ...
    async def forget_failed_chat(self, chat_id: int) -> None: ...
    async def record_failed_chat(
        self,
        chat_id: int,
        error: str,
        now: float,
        alert: tuple[IncomingEvent, OutgoingMessage] | None = None,
    ) -> None: ...

    # dead letters and stats
    async def stats(self, chat_id: int | None = None) -> QueueStats: ...
    async def dead_letters(
        self, limit: int = 100, chat_id: int | None = None
    ) -> list[DeadLetter]: ...
    async def count_dead_letters(self, chat_id: int | None = None) -> int: ...
    async def replay(self, ids: Sequence[int] | None) -> int: ...
    async def ping(self) -> None:
        """Raise StoreError unless the storage takes a write (DatabaseMissing if its file
        went away) and intake worked lately."""
        ...

    async def latest_time(self) -> float:
        """The latest wall time stored as "now" (0 if none): the schedule clock's floor."""
        ...

    # retention
    # Order actions from Telegram
    async def card_of_message(self, chat_id: int, telegram_id: int) -> OrderCard | None: ...
    async def save_order_card(
        self, chat_id: int, telegram_id: int, store: str, order_id: str, text: str
    ) -> None: ...
    async def order_copies(self, store: str, order_id: str) -> list[OrderCopy]: ...
    async def record_order_action(self, action: OrderAction) -> None: ...
    async def order_actions(self, limit: int = 50) -> list[OrderAction]: ...

    async def prune(self, finished_before: float, dead_before: float) -> tuple[int, int]: ...

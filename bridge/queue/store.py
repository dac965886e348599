"""The durable queue: one SQLite file in WAL mode, one connection, one thread.

Every statement runs on a single dedicated thread, so writes are serialised without
locks and the event loop never blocks on disk. Webhooks that arrive together are
committed together (group commit): one fsync acknowledges them all.

The Store is the only place that runs SQL (its statements are in bridge.queue.sql):
the rest of the bridge calls its named operations, which a second backend can offer
too. It also sets its own wake-ups, so no write path can forget one.

Longer than 300 lines on purpose: one method per operation of the queue, each short.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, TypeVar

from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.queue import sql
from bridge.queue.models import (
    Accepted,
    DeadLetter,
    Digest,
    DigestItem,
    IncomingEvent,
    MessageStatus,
    MuteRecord,
    OrderState,
    OutgoingMessage,
    QueuedMessage,
    QueueStats,
    Routing,
    StoredEvent,
)
from bridge.queue.schema import MIGRATIONS
from bridge.queue.storage import StoreError as StoreError

T = TypeVar("T")

log = logging.getLogger(__name__)

#: how long a failed intake keeps /readyz failing
INTAKE_ERROR_MEMORY_SECONDS = 60.0


class Store:
    """The queue's Storage on SQLite. Create with `await Store.open(path)`."""

    def __init__(
        self, conn: sqlite3.Connection, executor: ThreadPoolExecutor, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self._conn = conn
        self._executor = executor
        self._clock = clock
        self._intake: list[tuple[IncomingEvent, asyncio.Future[Accepted]]] = []
        self._flusher: asyncio.Task[None] | None = None
        #: set when a new event is committed; the router waits on it
        self.events_waiting = asyncio.Event()
        #: set when messages become sendable or change state; the sender waits on it
        self.messages_waiting = asyncio.Event()
        #: why the last attempt to store an event failed, and when; None once one succeeds
        self.intake_error: tuple[str, float] | None = None

    @classmethod
    async def open(
        cls,
        path: Path,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        busy_timeout: float = 5.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> Store:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bridge-sqlite")
        loop = asyncio.get_running_loop()
        try:
            conn = await loop.run_in_executor(executor, _connect, path, synchronous, busy_timeout)
        except (sqlite3.Error, OSError) as exc:
            executor.shutdown(wait=False)
            raise StoreError(f"cannot open the database {path}: {exc}") from exc
        return cls(conn, executor, clock)

    async def close(self) -> None:
        if self._flusher is not None:
            await asyncio.shield(self._flusher)
        await self._run(self._conn.close)
        self._executor.shutdown(wait=True)

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    async def _in_transaction(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(*args)` on the database thread inside one transaction."""
        return await self._run(self._transaction, fn, args)

    def _transaction(self, fn: Callable[..., T], args: tuple[object, ...]) -> T:
        with transaction(self._conn):
            return fn(*args)

    # --- intake -------------------------------------------------------------------------

    async def accept(self, event: IncomingEvent) -> Accepted:
        """Store an event durably; returns once it is committed (or raises StoreError)."""
        future: asyncio.Future[Accepted] = asyncio.get_running_loop().create_future()
        self._intake.append((event, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_intake())
        return await asyncio.shield(future)

    async def _flush_intake(self) -> None:
        # Whatever queued up while the previous batch was on disk goes in the next one.
        while self._intake:
            batch, self._intake = self._intake, []
            try:
                results = await self._run(self._insert_events, [event for event, _ in batch])
            except Exception as exc:  # every waiter must hear of the failure
                self.intake_error = (str(exc), self._clock.monotonic())
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.intake_error = None
            stored = []
            for (event, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
                if not result.duplicate:
                    stored.append((event, result))
            if stored:
                self.events_waiting.set()
                # One line per commit, not per webhook: under load, writing a log line
                # for each webhook cost the event loop more than anything else it did.
                if log.isEnabledFor(logging.INFO):
                    log.info("%s", _describe(stored))

    def _insert_events(self, events: Sequence[IncomingEvent]) -> list[Accepted]:
        with transaction(self._conn):
            return [self._insert_event(event) for event in events]

    def _insert_event(self, e: IncomingEvent) -> Accepted:
        row = self._conn.execute(
            sql.INSERT_EVENT,
            (e.store, e.topic, e.webhook_id, e.delivery_id, e.body_key, e.body, e.received_at),
        ).fetchone()
        if row is not None:
            return Accepted(event_id=row[0], duplicate=False)
        existing = self._conn.execute(sql.EVENT_BY_KEY, (e.body_key,)).fetchone()
        return Accepted(event_id=existing[0], duplicate=True)

    # --- routing ------------------------------------------------------------------------

    async def new_events(self, limit: int = 100) -> list[StoredEvent]:
        """Events not routed yet, oldest first."""
        rows = await self._run(self._query, sql.NEW_EVENTS, (limit,))
        return [StoredEvent(*row) for row in rows]

    async def seen_state(self, state_key: str) -> int | None:
        """The event that first carried this resource state, if any."""
        rows = await self._run(self._query, sql.SEEN_STATE, (state_key,))
        return int(rows[0][0]) if rows else None

    async def commit_routing(self, routing: Routing, now: float | None = None) -> None:
        """Record the router's decision, with what it learned (order status, digest items),
        atomically."""
        now = self._clock.time() if now is None else now
        await self._in_transaction(self._commit_routing, routing, now)
        if any(m.skip_reason is None for m in routing.messages):
            self.messages_waiting.set()

    def _commit_routing(self, r: Routing, now: float) -> None:
        self._conn.execute(sql.SET_EVENT_STATE, (r.state, r.note, r.event_id))
        if r.state_key is not None:
            self._conn.execute(sql.REMEMBER_STATE, (r.state_key, r.event_id))
        self._insert_messages(r.event_id, r.messages, now)
        if r.order_state is not None:
            self._remember_order_status(r.order_state, r.event_id)
        if r.digest_items:
            self._hold_digest_items(r.digest_items, now)

    def _insert_messages(
        self, event_id: int, messages: Iterable[OutgoingMessage], now: float
    ) -> None:
        self._conn.executemany(
            sql.INSERT_MESSAGE,
            [
                (
                    event_id,
                    m.chat_id,
                    m.thread_id,
                    m.topic,
                    m.text,
                    m.reply_markup,
                    int(m.silent),
                    MessageStatus.PENDING if m.skip_reason is None else MessageStatus.SKIPPED,
                    m.skip_reason,
                    now,
                    now,
                    now,
                )
                for m in messages
            ],
        )

    # --- order states -------------------------------------------------------------------

    async def order_status(self, store: str, order_id: str) -> tuple[str, str] | None:
        """The last status seen for an order, and the date_modified that showed it."""
        rows = await self._run(self._query, sql.ORDER_STATUS, (store, order_id))
        return (rows[0][0], rows[0][1]) if rows else None

    async def remember_order_status(self, state: OrderState, event_id: int) -> None:
        """Store `state` as the order's last known status, unless a newer one is known."""
        await self._in_transaction(self._remember_order_status, state, event_id)

    def _remember_order_status(self, state: OrderState, event_id: int) -> None:
        self._conn.execute(
            sql.REMEMBER_ORDER_STATUS,
            (state.store, state.order_id, state.status, state.modified, event_id),
        )

    # --- digests ------------------------------------------------------------------------

    def _hold_digest_items(self, items: Iterable[DigestItem], now: float) -> None:
        self._conn.executemany(
            sql.HOLD_DIGEST_ITEM,
            [
                (
                    i.chat_id,
                    i.thread_id,
                    i.topic,
                    int(i.silent),
                    i.language,
                    i.title,
                    i.event_id,
                    now,
                )
                for i in items
            ],
        )

    async def due_digests(
        self, *, quiet_since: float, started_before: float, titles: int
    ) -> list[Digest]:
        """Bursts with no item since `quiet_since`, or begun before `started_before`, with
        the first `titles` titles of each."""
        return await self._in_transaction(self._due_digests, quiet_since, started_before, titles)

    def _due_digests(self, quiet_since: float, started_before: float, limit: int) -> list[Digest]:
        buckets = self._conn.execute(sql.DUE_DIGESTS, (quiet_since, started_before)).fetchall()
        digests = []
        for chat, thread, topic, silent, language, count, first, last, event_id, ids in buckets:
            titles = self._conn.execute(sql.DIGEST_TITLES, (chat, thread, topic, limit))
            digests.append(
                Digest(
                    chat_id=chat,
                    thread_id=thread,
                    topic=topic,
                    silent=bool(silent),
                    language=language,
                    count=count,
                    titles=tuple(t[0] for t in titles.fetchall()),
                    first_at=first,
                    last_at=last,
                    last_event_id=event_id,
                    item_ids=tuple(sorted(json.loads(ids))),
                )
            )
        return digests

    async def commit_digest(self, digest: Digest, text: str) -> None:
        """Queue the digest's message and drop its items, in one transaction."""
        await self._in_transaction(self._commit_digest, digest, text, self._clock.time())
        self.messages_waiting.set()

    def _commit_digest(self, digest: Digest, text: str, now: float) -> None:
        message = OutgoingMessage(
            chat_id=digest.chat_id,
            thread_id=digest.thread_id,
            topic=digest.topic,
            text=text,
            silent=digest.silent,
        )
        self._insert_messages(digest.last_event_id, [message], now)
        self._conn.executemany(sql.DELETE_DIGEST_ITEM, [(i,) for i in digest.item_ids])

    # --- mutes and chats that moved -----------------------------------------------------

    async def mutes(self) -> list[MuteRecord]:
        """Every mute still in force, oldest first (ended ones are deleted)."""
        return await self._in_transaction(self._mutes, self._clock.time())

    def _mutes(self, now: float) -> list[MuteRecord]:
        self._conn.execute(sql.DROP_ENDED_MUTES, (now,))
        rows = self._conn.execute(sql.MUTES).fetchall()
        return [
            MuteRecord(chat, None if thread == _NO_THREAD else thread, pattern, until, by)
            for chat, thread, pattern, until, by in rows
        ]

    async def save_mute(self, mute: MuteRecord) -> None:
        """Add a mute, replacing one of the same pattern in the same place."""
        await self._in_transaction(self._save_mute, mute, self._clock.time())

    def _save_mute(self, m: MuteRecord, now: float) -> None:
        self._conn.execute(sql.DROP_ENDED_MUTES, (now,))
        self._conn.execute(
            sql.SAVE_MUTE,
            (m.chat_id, m.thread_id or _NO_THREAD, m.pattern, m.until, m.muted_by, now),
        )

    async def delete_mutes(self, mutes: Iterable[MuteRecord]) -> None:
        rows = [(m.chat_id, m.thread_id or _NO_THREAD, m.pattern) for m in mutes]
        await self._in_transaction(self._conn.executemany, sql.DELETE_MUTE, rows)

    async def chat_moves(self) -> dict[int, int]:
        """Groups that became supergroups: old id to new id."""
        return dict(await self._run(self._query, sql.CHAT_MOVES, ()))

    async def record_chat_move(self, old_chat_id: int, new_chat_id: int) -> None:
        """Remember that a chat moved, and move its mutes along, in one transaction."""
        await self._in_transaction(
            self._record_chat_move, old_chat_id, new_chat_id, self._clock.time()
        )

    def _record_chat_move(self, old: int, new: int, now: float) -> None:
        self._conn.execute(sql.RECORD_CHAT_MOVE, (old, new, now))
        self._conn.execute(sql.MOVE_MUTES, (new, old))
        self._conn.execute(sql.DELETE_CHAT_MUTES, (old,))

    # --- sending ------------------------------------------------------------------------

    async def recover_in_flight(self) -> int:
        """After a restart, sends that were in flight are queued again (they may duplicate)."""
        return await self._run(self._execute, sql.RECOVER_IN_FLIGHT, ())

    async def claim(
        self, now: float, limit: int, exclude_chats: Iterable[int] = ()
    ) -> list[QueuedMessage]:
        """Take the due head message of up to `limit` chats, marking them as sending."""
        return await self._run(self._claim, now, limit, json.dumps(sorted(set(exclude_chats))))

    def _claim(self, now: float, limit: int, excluded: str) -> list[QueuedMessage]:
        with transaction(self._conn):
            rows = self._conn.execute(sql.CLAIM, (now, now, excluded, limit)).fetchall()
        return sorted((QueuedMessage(*row) for row in rows), key=lambda m: m.id)

    async def next_due(self, exclude_chats: Iterable[int] = ()) -> float | None:
        """When the earliest waiting head message becomes due, or None if nothing waits."""
        rows = await self._run(self._query, sql.NEXT_DUE, (json.dumps(sorted(set(exclude_chats))),))
        value = rows[0][0] if rows else None
        return float(value) if isinstance(value, int | float) else None

    async def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its unsent messages go to the new id, at once."""
        await self._run(
            self._execute,
            sql.MIGRATE_CHAT_MESSAGES,
            (new_chat_id, self._clock.time(), old_chat_id),
        )
        self.messages_waiting.set()

    async def mark_sent(self, message_id: int, now: float) -> None:
        await self._run(self._execute, sql.MARK_SENT, (now, now, message_id))

    async def retry_later(
        self, message_id: int, run_at: float, error: str, *, counts: bool = True
    ) -> None:
        """Put a message back in its queue until `run_at`; `counts=False` refunds the attempt."""
        await self._run(
            self._execute,
            sql.RETRY_LATER,
            (run_at, error, self._clock.time(), 0 if counts else 1, message_id),
        )
        self.messages_waiting.set()

    async def update_text(self, message_id: int, text: str, reply_markup: str | None) -> None:
        """Replace what a pending message will send (e.g. without a button Telegram refused)."""
        await self._run(self._execute, sql.UPDATE_TEXT, (text, reply_markup, message_id))

    async def mark_skipped(self, message_id: int, reason: str, now: float) -> None:
        """Drop a message on purpose, unsent (e.g. its chat muted the topic meanwhile)."""
        await self._run(self._execute, sql.MARK_SKIPPED, (reason, now, message_id))
        self.messages_waiting.set()

    async def mark_dead(self, message_id: int, error: str, now: float) -> None:
        await self._run(self._execute, sql.MARK_DEAD, (error, now, message_id))
        self.messages_waiting.set()

    # --- alerts -------------------------------------------------------------------------

    async def failed_chats(self) -> list[int]:
        """Chats known to refuse messages."""
        return [row[0] for row in await self._run(self._query, sql.FAILED_CHATS, ())]

    async def forget_failed_chat(self, chat_id: int) -> None:
        await self._run(self._execute, sql.FORGET_FAILED_CHAT, (chat_id,))

    async def record_failed_chat(
        self,
        chat_id: int,
        error: str,
        now: float,
        alert: tuple[IncomingEvent, OutgoingMessage] | None = None,
    ) -> None:
        """Remember that a chat refuses messages; queue the alert event and its message."""
        await self._in_transaction(self._record_failed_chat, chat_id, error, now, alert)
        if alert is not None:
            self.messages_waiting.set()

    def _record_failed_chat(
        self,
        chat_id: int,
        error: str,
        now: float,
        alert: tuple[IncomingEvent, OutgoingMessage] | None,
    ) -> None:
        self._conn.execute(sql.RECORD_FAILED_CHAT, (chat_id, error, now))
        if alert is None:
            return
        event, message = alert
        event_id = self._conn.execute(
            sql.INSERT_ROUTED_EVENT,
            (event.store, event.topic, event.body_key, event.body, event.received_at),
        ).fetchone()[0]
        self._insert_messages(event_id, [message], now)

    # --- inspection ---------------------------------------------------------------------

    async def stats(self, chat_id: int | None = None) -> QueueStats:
        """Counts of the whole queue, or of one chat's messages."""
        return await self._run(self._stats, chat_id)

    def _stats(self, chat_id: int | None) -> QueueStats:
        waiting = self._conn.execute(sql.COUNT_NEW_EVENTS).fetchone()
        counts = dict(self._conn.execute(sql.COUNT_BY_STATUS, (chat_id, chat_id)).fetchall())
        last = self._conn.execute(sql.LAST_SENT, (chat_id, chat_id)).fetchone()
        return QueueStats(
            events_waiting=waiting[0],
            pending=counts.get(MessageStatus.PENDING, 0),
            sending=counts.get(MessageStatus.SENDING, 0),
            sent=counts.get(MessageStatus.SENT, 0),
            dead=counts.get(MessageStatus.DEAD, 0),
            last_sent_at=last[0],
        )

    async def dead_letters(self, limit: int = 100, chat_id: int | None = None) -> list[DeadLetter]:
        """The latest dead letters, of one chat or of all."""
        rows = await self._run(self._query, sql.DEAD_LETTERS, (chat_id, chat_id, limit))
        return [DeadLetter(*row) for row in rows]

    async def count_dead_letters(self, chat_id: int | None = None) -> int:
        rows = await self._run(self._query, sql.COUNT_DEAD, (chat_id, chat_id))
        return int(rows[0][0])

    async def replay(self, ids: Sequence[int] | None) -> int:
        """Queue dead letters again (the given ids, or all of them); returns how many."""
        now = self._clock.time()
        chosen = None if ids is None else json.dumps(list(ids))
        count = await self._run(self._execute, sql.REPLAY, (now, now, now, chosen, chosen))
        self.messages_waiting.set()
        return count

    async def ping(self) -> None:
        """Raise StoreError unless the database takes a write and intake worked lately.

        A failed intake counts for a minute: the probe's small write can succeed on a disk
        too full for a real event, but a failure must not stick forever either, or a
        readiness check could keep away the traffic that would clear it.
        """
        await self._run(self._execute, sql.TOUCH_HEALTH, (self._clock.time(),))
        if self.intake_error is not None:
            error, when = self.intake_error
            if self._clock.monotonic() - when < INTAKE_ERROR_MEMORY_SECONDS:
                raise StoreError(f"the last event could not be stored: {error}")

    # --- retention ----------------------------------------------------------------------

    async def prune(self, finished_before: float, dead_before: float) -> tuple[int, int]:
        """Delete sent and skipped messages, dead letters, and events left without messages.

        Returns (messages, events) deleted. Pending messages and their events are never
        touched, whatever their age.
        """
        return await self._in_transaction(self._prune, finished_before, dead_before)

    def _prune(self, finished_before: float, dead_before: float) -> tuple[int, int]:
        messages = self._conn.execute(sql.PRUNE_MESSAGES, (finished_before, dead_before)).rowcount
        events = self._conn.execute(sql.PRUNE_EVENTS, (finished_before,)).rowcount
        return messages, events

    # --- helpers ------------------------------------------------------------------------

    def _query(self, statement: str, params: Sequence[object]) -> list[Any]:
        return self._conn.execute(statement, params).fetchall()

    def _execute(self, statement: str, params: Sequence[object]) -> int:
        with transaction(self._conn):
            return self._conn.execute(statement, params).rowcount


# SQLite keys cannot hold NULL usefully; 0 is "no forum topic" (real thread ids start at 2).
_NO_THREAD = 0


def _describe(stored: list[tuple[IncomingEvent, Accepted]]) -> str:
    """`accepted order.created of store shop as event #5`, or a summary of a larger commit."""
    if len(stored) == 1:
        event, accepted = stored[0]
        return f"accepted {event.topic} of store {event.store} as event #{accepted.event_id}"
    kinds = Counter(f"{event.topic} of store {event.store}" for event, _ in stored)
    first, last = stored[0][1].event_id, stored[-1][1].event_id
    listed = ", ".join(f"{count} {kind}" for kind, count in kinds.most_common())
    return f"accepted {len(stored)} events, #{first} to #{last}: {listed}"


class transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error.

    IMMEDIATE takes the write lock up front, so a transaction never fails half-way
    when it upgrades from reading to writing.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self._conn.execute("COMMIT")
        elif self._conn.in_transaction:
            self._conn.execute("ROLLBACK")


def _connect(path: Path, synchronous: str, busy_timeout: float) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    conn.execute("PRAGMA journal_mode = WAL")
    # FULL: WooCommerce never resends, so an acknowledged event must survive a power cut.
    conn.execute(f"PRAGMA synchronous = {'FULL' if synchronous == 'FULL' else 'NORMAL'}")
    conn.execute("PRAGMA foreign_keys = ON")
    _migrate(conn)
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.executescript(f"BEGIN IMMEDIATE; {script}; PRAGMA user_version = {number}; COMMIT;")

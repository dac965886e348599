"""The durable queue on PostgreSQL, shared by several replicas of the bridge.

Create with `await PgStore.open(url)`: it migrates the schema, then opens a pool. The
store offers the same named operations as the SQLite Store (bridge.queue.storage), with
the same meaning; what differs is written down where it differs:

- Intake (intake.py): group commit, as on SQLite. Webhooks that arrive together are
  committed together by one writer task, at synchronous_commit=on, before any of them is
  answered; redeliveries are one row through ON CONFLICT on the body key. The same
  transaction sends NOTIFY bridge_events, delivered at commit.
- Wake-ups: `events_waiting` is set by this replica's own intake, by NOTIFY from the
  others (a listener on a dedicated connection: a pooled one would be UNLISTENed when
  released), and by a poll, since a notification sent while the listener is disconnected
  is lost for good.
- Claims: the head of each chat, chosen without locks, then locked with SKIP LOCKED and
  re-checked (sql.CLAIM); a unique index keeps at most one message per chat in flight.
  Each claim stamps the leader's term (`epoch`) and claims nothing unless the database's
  term is this replica's: a deposed leader cannot take work.
- Errors: any database failure is StoreError, outage unless one row's values caused it,
  with a message that never carries the URL's password.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence

import asyncpg

from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.queue.models import (
    DeadLetter,
    MessageStatus,
    QueuedMessage,
    QueueStats,
    Routing,
    StoredEvent,
)
from bridge.queue.postgres import sql
from bridge.queue.postgres.action_memory import ActionMemory
from bridge.queue.postgres.base import (
    OPEN_ERRORS,
    Redactor,
    affected,
    describe,
    one_statement,
)
from bridge.queue.postgres.intake import PgIntake
from bridge.queue.postgres.recovery_memory import RecoveryMemory
from bridge.queue.postgres.routing_memory import (
    RoutingMemory,
    ledger_args,
    order_status_args,
    stock_args,
)
from bridge.queue.postgres.schema import migrate
from bridge.queue.storage import StoreError

log = logging.getLogger("bridge.queue.store")

#: how long a failed intake keeps /readyz failing (as on SQLite)
INTAKE_ERROR_MEMORY_SECONDS = 60.0
#: how long /readyz waits for the database before calling it unreachable
PING_TIMEOUT_SECONDS = 2.0
#: how long opening a connection may take, so that a dead server fails a request quickly
CONNECT_TIMEOUT_SECONDS = 5.0
#: the longest any one statement may wait for the server: a cut network fails the
#: operation (StoreError) rather than holding its worker until TCP gives up
STATEMENT_TIMEOUT_SECONDS = 60.0
#: how long closing waits for connections still in use before cutting them
CLOSE_TIMEOUT_SECONDS = 5.0
#: every session of the pool: commits wait for the WAL flush whatever the server's
#: default, since an acknowledged webhook is never delivered again
_SESSION = {"application_name": "woo-bridge", "synchronous_commit": "on"}


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Nothing to reset when a connection goes back to the pool (asyncpg still rolls back
    a transaction left open): the store never changes a pooled session (no LISTEN, no
    session lock, no SET), and asyncpg's default reset costs a round trip per statement."""


class PgStore(PgIntake, RoutingMemory, RecoveryMemory, ActionMemory):
    """The queue's Storage on PostgreSQL."""

    def __init__(
        self, pool: asyncpg.Pool, url: str, clock: Clock = SYSTEM_CLOCK, poll_seconds: float = 2.0
    ) -> None:
        super().__init__(pool, url, clock)
        self._init_intake()
        self._poll_seconds = poll_seconds
        self._listener: asyncpg.Connection | None = None
        self._watch: asyncio.Task[None] | None = None
        self._ping: asyncio.Future[int] | None = None

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        clock: Clock = SYSTEM_CLOCK,
        pool_size: int = 10,
        poll_seconds: float = 2.0,
    ) -> PgStore:
        """Migrate the schema, open the pool and the listener of new events."""
        redact = Redactor(url)
        try:
            conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_SECONDS)
            try:
                await migrate(conn)
            finally:
                await conn.close()
            pool = await asyncpg.create_pool(
                url,
                min_size=min(2, pool_size),
                max_size=pool_size,
                timeout=CONNECT_TIMEOUT_SECONDS,
                command_timeout=STATEMENT_TIMEOUT_SECONDS,
                server_settings=_SESSION,
                reset=_keep_session,
            )
        except OPEN_ERRORS as exc:
            raise StoreError(f"cannot open the database: {describe(exc, redact)}") from None
        store = cls(pool, url, clock, poll_seconds)
        store._watch = asyncio.create_task(store._watch_events(), name="bridge-pg-listener")
        return store

    async def close(self) -> None:
        await self._drain_intake()
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await self._close_listener()
        if self._stalled:  # queries left waiting on a server that stopped answering
            self._pool.terminate()
            return
        try:
            # Graceful: connections in use are waited for, unless the server hangs them.
            await asyncio.wait_for(self._pool.close(), CLOSE_TIMEOUT_SECONDS)
        except TimeoutError:
            self._pool.terminate()

    # --- wake-ups -----------------------------------------------------------------------

    async def _watch_events(self) -> None:
        """Keep a listener connected, and poll: NOTIFY is lost while it is disconnected."""
        while True:
            try:
                if self._listener is None or self._listener.is_closed():
                    await self._listen()
                    # Whatever was notified while no one listened is found now.
                if await self._pool.fetchval(sql.ANY_NEW_EVENT):
                    self.events_waiting.set()
            except Exception as exc:  # the watch never stops: it is how events get found
                log.debug("new events: cannot ask the database: %s", describe(exc, self._redact))
                await self._close_listener()
            await asyncio.sleep(self._poll_seconds)

    async def _listen(self) -> None:
        await self._close_listener()
        conn = await asyncpg.connect(
            self._url, timeout=CONNECT_TIMEOUT_SECONDS, server_settings=_SESSION
        )
        await conn.add_listener(sql.EVENTS_CHANNEL, self._notified)
        self._listener = conn

    def _notified(self, *_: object) -> None:
        self.events_waiting.set()

    async def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None and not listener.is_closed():
            listener.terminate()

    # --- routing ------------------------------------------------------------------------

    async def new_events(self, limit: int = 100) -> list[StoredEvent]:
        """Events not routed yet, oldest first."""
        rows = await self._fetch(sql.NEW_EVENTS, limit)
        return [StoredEvent(r[0], r[1], r[2], bytes(r[3]), r[4], bool(r[5])) for r in rows]

    async def seen_state(self, state_key: str) -> int | None:
        """The event that first showed this resource state, if one did."""
        value = await self._fetchval(sql.SEEN_STATE, state_key)
        return None if value is None else int(value)

    async def commit_routing(self, routing: Routing, now: float | None = None) -> None:
        """Record what the router decided for one event, its messages included, at once."""
        r, when = routing, self._clock.time() if now is None else now
        if not r.digest_items:
            # The usual case, as one statement: one round trip instead of one per part.
            statement, args = one_statement(routing_parts(r, when))
            await self._execute(statement, *args)
            if any(m.skip_reason is None for m in r.messages):
                self.messages_waiting.set()
            return
        async with self._transaction() as conn:
            await conn.execute(sql.SET_EVENT_STATE, r.state.value, r.note, r.event_id)
            if r.state_key is not None:
                await conn.execute(sql.REMEMBER_STATE, r.state_key, r.event_id)
            await self._insert_messages(conn, r.event_id, r.messages, when)
            if r.order_state is not None:
                await self._remember_order_status(conn, r.order_state, r.event_id)
            if r.stock_state is not None:
                await self._remember_stock(conn, r.stock_state, r.event_id)
            if r.digest_items:
                await self._hold_digest_items(conn, r.digest_items, when)
            if r.ledger_row is not None:
                await self._record_ledger(conn, r.ledger_row)
        if any(m.skip_reason is None for m in r.messages):
            self.messages_waiting.set()

    async def open_messages(self, up_to: int) -> int:
        """How many messages wait to be sent (pending or sending), counting at most `up_to`."""
        return int(await self._fetchval(sql.OPEN_MESSAGES_UP_TO, up_to))

    # --- sending ------------------------------------------------------------------------

    async def recover_in_flight(self) -> int:
        """Sends left in flight under an earlier leader's term are queued again (they may
        duplicate); this term's own are not."""
        return await self._execute(sql.RECOVER_IN_FLIGHT, self.epoch)

    async def claim(
        self, now: float, limit: int, exclude_chats: Iterable[int] = ()
    ) -> list[QueuedMessage]:
        """Take the due head message of up to `limit` chats, marking them as sending.

        Nothing when the database's leader term is not this store's: the leader row is
        held (FOR SHARE) until the claim commits, so a new leader's bump waits for it and
        then requeues what it claimed. One statement: one round trip per claim."""
        excluded = sorted(set(exclude_chats))
        rows = await self._fetch(sql.CLAIM, now, now, excluded, limit, self.epoch)
        return sorted(
            (
                QueuedMessage(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8], r[9])
                for r in rows
            ),
            key=lambda m: m.id,
        )

    async def next_due(self, exclude_chats: Iterable[int] = ()) -> float | None:
        """When the earliest waiting head message becomes due, or None if nothing waits."""
        value = await self._fetchval(sql.NEXT_DUE, sorted(set(exclude_chats)))
        return None if value is None else float(value)

    async def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its unsent messages go to the new id, at once."""
        await self._execute(sql.MIGRATE_CHAT_MESSAGES, new_chat_id, self._clock.time(), old_chat_id)
        self.messages_waiting.set()

    async def mark_sent(self, message_id: int, now: float, telegram_id: int | None = None) -> None:
        """Sent; `telegram_id` is Telegram's id for it, to edit it later."""
        await self._execute(sql.MARK_SENT, now, now, telegram_id, message_id)
        self.messages_done.set()

    async def retry_later(
        self, message_id: int, run_at: float, error: str, *, counts: bool = True
    ) -> None:
        """Put a message back in its queue until `run_at`; `counts=False` refunds the attempt."""
        await self._execute(
            sql.RETRY_LATER, run_at, error, self._clock.time(), 0 if counts else 1, message_id
        )
        self.messages_waiting.set()

    async def update_text(self, message_id: int, text: str, reply_markup: str | None) -> None:
        """Replace what a pending message will send (e.g. without a button Telegram refused)."""
        await self._execute(sql.UPDATE_TEXT, text, reply_markup, message_id)

    async def mark_skipped(self, message_id: int, reason: str, now: float) -> None:
        """Drop a message on purpose, unsent (e.g. its chat muted the topic meanwhile)."""
        await self._execute(sql.MARK_SKIPPED, reason, now, message_id)
        self.messages_waiting.set()
        self.messages_done.set()

    async def mark_dead(self, message_id: int, error: str, now: float) -> None:
        await self._execute(sql.MARK_DEAD, error, now, message_id)
        self.messages_waiting.set()
        self.messages_done.set()

    # --- inspection ---------------------------------------------------------------------

    async def stats(self, chat_id: int | None = None) -> QueueStats:
        """Counts of the whole queue, or of one chat's messages."""
        async with self._transaction() as conn:
            waiting = await conn.fetchval(sql.COUNT_NEW_EVENTS)
            counts = {r[0]: r[1] for r in await conn.fetch(sql.COUNT_BY_STATUS, chat_id)}
            last = await conn.fetchval(sql.LAST_SENT, chat_id)
        return QueueStats(
            events_waiting=waiting,
            pending=counts.get(MessageStatus.PENDING.value, 0),
            sending=counts.get(MessageStatus.SENDING.value, 0),
            sent=counts.get(MessageStatus.SENT.value, 0),
            dead=counts.get(MessageStatus.DEAD.value, 0),
            last_sent_at=last,
        )

    async def dead_letters(self, limit: int = 100, chat_id: int | None = None) -> list[DeadLetter]:
        """The latest dead letters, of one chat or of all."""
        rows = await self._fetch(sql.DEAD_LETTERS, chat_id, limit)
        return [DeadLetter(*row) for row in rows]

    async def count_dead_letters(self, chat_id: int | None = None) -> int:
        return int(await self._fetchval(sql.COUNT_DEAD, chat_id))

    async def replay(self, ids: Sequence[int] | None) -> int:
        """Queue dead letters again (the given ids, or all of them); returns how many."""
        chosen = None if ids is None else list(ids)
        count = await self._execute(sql.REPLAY, self._clock.time(), chosen)
        self.messages_waiting.set()
        return count

    async def latest_time(self) -> float:
        """The latest wall time stored as "now" by this bridge (0 if none)."""
        return float(await self._fetchval(sql.LATEST_TIME))

    async def ping(self) -> None:
        """Raise StoreError unless the database takes a write and intake worked lately.

        Bounded by PING_TIMEOUT_SECONDS, so that /readyz answers even when the server
        neither answers nor refuses (a cut network). A failed intake counts for a minute,
        as on SQLite.
        """
        if self._ping is None or self._ping.done():
            self._ping = asyncio.ensure_future(self._execute(sql.TOUCH_HEALTH, self._clock.time()))
        # else checks at once share one write: none piles up behind a server that hangs
        await self._bounded(self._ping, PING_TIMEOUT_SECONDS)
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
        async with self._transaction() as conn:
            messages = await conn.execute(sql.PRUNE_MESSAGES, finished_before, dead_before)
            events = await conn.execute(sql.PRUNE_EVENTS, finished_before)
        return affected(messages), affected(events)


PENDING, SKIPPED = MessageStatus.PENDING.value, MessageStatus.SKIPPED.value


def routing_parts(r: Routing, now: float) -> list[tuple[str, tuple[object, ...]]]:
    """The statements that record a routing without digest items, with their arguments."""
    parts: list[tuple[str, tuple[object, ...]]] = [
        (sql.SET_EVENT_STATE, (r.state.value, r.note, r.event_id))
    ]
    if r.state_key is not None:
        parts.append((sql.REMEMBER_STATE, (r.state_key, r.event_id)))
    if r.messages:
        m = r.messages
        columns = (
            [x.chat_id for x in m],
            [x.thread_id for x in m],
            [x.topic for x in m],
            [x.text for x in m],
            [x.reply_markup for x in m],
            [x.silent for x in m],
            [(PENDING if x.skip_reason is None else SKIPPED) for x in m],
            [x.skip_reason for x in m],
        )
        parts.append((sql.INSERT_MESSAGES, (r.event_id, now, *columns)))
    if r.order_state is not None:
        parts.append((sql.REMEMBER_ORDER_STATUS, order_status_args(r.order_state, r.event_id)))
    if r.stock_state is not None:
        parts.append((sql.REMEMBER_STOCK, stock_args(r.stock_state, r.event_id)))
    if r.ledger_row is not None:
        parts.append((sql.RECORD_LEDGER, ledger_args(r.ledger_row)))
    return parts

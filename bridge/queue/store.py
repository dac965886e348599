"""The durable queue: one SQLite file in WAL mode, one connection, one thread.

Every statement runs on a single dedicated thread, so writes are serialised without
locks and the event loop never blocks on disk. Webhooks that arrive together are
committed together (group commit): one fsync acknowledges them all.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, TypeVar

from bridge.queue.models import (
    Accepted,
    DeadLetter,
    IncomingEvent,
    MessageStatus,
    QueuedMessage,
    QueueStats,
    Routing,
    StoredEvent,
)
from bridge.queue.schema import MIGRATIONS

T = TypeVar("T")

log = logging.getLogger(__name__)

# The head of each chat's queue: the oldest message not yet sent or dead. A skip scan
# over the messages_open index (one seek per chat) rather than GROUP BY, which reads
# every open message: with 10,000 queued a claim took 1.3 ms and with 100,000 11 ms
# (0.4 and 0.9 ms now), and the sender runs it each time it looks for work.
_HEADS = """
    WITH RECURSIVE chats(chat_id) AS (
        SELECT MIN(chat_id) FROM messages WHERE status IN ('pending', 'sending')
        UNION ALL
        SELECT (SELECT MIN(chat_id) FROM messages
                WHERE status IN ('pending', 'sending') AND chat_id > chats.chat_id)
        FROM chats WHERE chat_id IS NOT NULL
    )
    SELECT chat_id, (SELECT MIN(id) FROM messages
                     WHERE status IN ('pending', 'sending') AND chat_id = chats.chat_id) AS head
    FROM chats WHERE chat_id IS NOT NULL
"""


# Only constant SQL is interpolated into these two.
_CLAIM = f"""
    UPDATE messages SET status = 'sending', attempts = attempts + 1, updated_at = ?
    WHERE id IN (
        SELECT m.id FROM messages m JOIN ({_HEADS}) h ON m.id = h.head
        WHERE m.status = 'pending' AND m.run_at <= ?
          AND m.chat_id NOT IN (SELECT value FROM json_each(?))
        ORDER BY m.id LIMIT ?)
    RETURNING id, event_id, chat_id, thread_id, topic, text, reply_markup, silent,
              attempts, created_at
"""  # noqa: S608
_NEXT_DUE = f"""
    SELECT MIN(m.run_at) FROM messages m JOIN ({_HEADS}) h ON m.id = h.head
    WHERE m.status = 'pending' AND m.chat_id NOT IN (SELECT value FROM json_each(?))
"""  # noqa: S608


#: how long a failed intake keeps /readyz failing
INTAKE_ERROR_MEMORY_SECONDS = 60.0


class StoreError(Exception):
    """The database could not be read or written."""


class DatabaseMissing(StoreError):
    """The file the bridge opened is no longer at its path (deleted or replaced)."""


class Store:
    """Async access to the queue. Create with `await Store.open(path)`."""

    def __init__(
        self, conn: sqlite3.Connection, executor: ThreadPoolExecutor, path: Path | None = None
    ) -> None:
        self._conn = conn
        self._executor = executor
        # The file as opened: deleting (or replacing) it while the connection is open
        # would let intake commit into a file that no longer exists, lost at the restart.
        self._path = path
        self._identity = _identity(path) if path is not None else None
        self._missing_logged = False
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
    ) -> Store:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bridge-sqlite")
        loop = asyncio.get_running_loop()
        try:
            conn = await loop.run_in_executor(executor, _connect, path, synchronous, busy_timeout)
        except (sqlite3.Error, OSError) as exc:
            executor.shutdown(wait=False)
            raise StoreError(f"cannot open the database {path}: {exc}") from exc
        return cls(conn, executor, path)

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

    async def call(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(connection, *args)` on the database thread inside one transaction.

        Modules that own tables of their own (mutes, order states, ...) keep their SQL
        beside their logic and run it through here.
        """
        return await self._run(self._call, fn, args)

    def _call(self, fn: Callable[..., T], args: tuple[object, ...]) -> T:
        with transaction(self._conn):
            return fn(self._conn, *args)

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
                self.intake_error = (str(exc), time.monotonic())
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
            accepted = [self._insert_event(event) for event in events]
            # Checked inside the transaction: on a missing file it rolls back, unacknowledged.
            self._check_file()
            return accepted

    def _check_file(self) -> None:
        """Raise DatabaseMissing unless the opened file is still the one at its path.

        One stat(): microseconds, on the database thread, once per commit.
        """
        if self._path is None or self._identity is None:
            return
        if _identity(self._path) == self._identity:
            return
        if not self._missing_logged:
            self._missing_logged = True
            log.critical(
                "the database file %s was deleted or replaced while the bridge ran: webhooks "
                "now get 503; messages already queued are still sent. Restart the bridge "
                "(after restoring a backup of the file, if you have one)",
                self._path,
            )
        raise DatabaseMissing(
            f"the database file {self._path} was deleted or replaced; restart the bridge"
        )

    def _insert_event(self, e: IncomingEvent) -> Accepted:
        row = self._conn.execute(
            "INSERT INTO events"
            " (store, topic, webhook_id, delivery_id, body_key, body, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (body_key) DO NOTHING RETURNING id",
            (e.store, e.topic, e.webhook_id, e.delivery_id, e.body_key, e.body, e.received_at),
        ).fetchone()
        if row is not None:
            return Accepted(event_id=row[0], duplicate=False)
        existing = self._conn.execute(
            "SELECT id FROM events WHERE body_key = ?", (e.body_key,)
        ).fetchone()
        return Accepted(event_id=existing[0], duplicate=True)

    # --- routing ------------------------------------------------------------------------

    async def new_events(self, limit: int = 100) -> list[StoredEvent]:
        """Events not routed yet, oldest first."""
        rows = await self._run(
            self._query,
            "SELECT id, store, topic, body, received_at FROM events"
            " WHERE state = 'new' ORDER BY id LIMIT ?",
            (limit,),
        )
        return [StoredEvent(*row) for row in rows]

    async def seen_state(self, state_key: str) -> int | None:
        """The event that first carried this resource state, if any."""
        rows = await self._run(
            self._query, "SELECT event_id FROM resource_states WHERE state_key = ?", (state_key,)
        )
        return int(rows[0][0]) if rows else None

    async def commit_routing(
        self,
        routing: Routing,
        now: float | None = None,
        also: Callable[[sqlite3.Connection], object] | None = None,
    ) -> None:
        """Record the router's decision; `also` writes what the router learned, atomically."""
        await self._run(self._commit_routing, routing, time.time() if now is None else now, also)
        if any(m.skip_reason is None for m in routing.messages):
            self.messages_waiting.set()

    def _commit_routing(
        self, r: Routing, now: float, also: Callable[[sqlite3.Connection], object] | None
    ) -> None:
        with transaction(self._conn):
            self._conn.execute(
                "UPDATE events SET state = ?, note = ? WHERE id = ?", (r.state, r.note, r.event_id)
            )
            if r.state_key is not None:
                self._conn.execute(
                    "INSERT OR IGNORE INTO resource_states (state_key, event_id) VALUES (?, ?)",
                    (r.state_key, r.event_id),
                )
            self._conn.executemany(
                "INSERT INTO messages (event_id, chat_id, thread_id, topic, text, reply_markup,"
                " silent, status, last_error, run_at, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.event_id,
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
                    for m in r.messages
                ],
            )
            if also is not None:
                also(self._conn)

    # --- sending ------------------------------------------------------------------------

    async def recover_in_flight(self) -> int:
        """After a restart, sends that were in flight are queued again (they may duplicate)."""
        return await self._run(
            self._execute, "UPDATE messages SET status = 'pending' WHERE status = 'sending'", ()
        )

    async def claim(
        self, now: float, limit: int, exclude_chats: Iterable[int] = ()
    ) -> list[QueuedMessage]:
        """Take the due head message of up to `limit` chats, marking them as sending."""
        return await self._run(self._claim, now, limit, json.dumps(sorted(set(exclude_chats))))

    def _claim(self, now: float, limit: int, excluded: str) -> list[QueuedMessage]:
        with transaction(self._conn):
            rows = self._conn.execute(_CLAIM, (now, now, excluded, limit)).fetchall()
        return sorted((QueuedMessage(*row) for row in rows), key=lambda m: m.id)

    async def next_due(self, exclude_chats: Iterable[int] = ()) -> float | None:
        """When the earliest waiting head message becomes due, or None if nothing waits."""
        rows = await self._run(
            self._query,
            _NEXT_DUE,
            (json.dumps(sorted(set(exclude_chats))),),
        )
        value = rows[0][0] if rows else None
        return float(value) if isinstance(value, int | float) else None

    async def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its unsent messages go to the new id, at once."""
        await self._run(
            self._execute,
            "UPDATE messages SET chat_id = ?, status = 'pending', run_at = ?"
            " WHERE chat_id = ? AND status IN ('pending', 'sending')",
            (new_chat_id, time.time(), old_chat_id),
        )
        self.messages_waiting.set()

    async def mark_sent(self, message_id: int, now: float) -> None:
        await self._run(
            self._execute,
            "UPDATE messages SET status = 'sent', sent_at = ?, updated_at = ?, last_error = NULL"
            " WHERE id = ?",
            (now, now, message_id),
        )

    async def retry_later(
        self, message_id: int, run_at: float, error: str, *, counts: bool = True
    ) -> None:
        """Put a message back in its queue until `run_at`; `counts=False` refunds the attempt."""
        await self._run(
            self._execute,
            "UPDATE messages SET status = 'pending', run_at = ?, last_error = ?, updated_at = ?,"
            " attempts = attempts - ? WHERE id = ?",
            (run_at, error, time.time(), 0 if counts else 1, message_id),
        )
        self.messages_waiting.set()

    async def update_text(self, message_id: int, text: str, reply_markup: str | None) -> None:
        """Replace what a pending message will send (e.g. without a button Telegram refused)."""
        await self._run(
            self._execute,
            "UPDATE messages SET text = ?, reply_markup = ? WHERE id = ?",
            (text, reply_markup, message_id),
        )

    async def mark_skipped(self, message_id: int, reason: str, now: float) -> None:
        """Drop a message on purpose, unsent (e.g. its chat muted the topic meanwhile)."""
        await self._run(
            self._execute,
            "UPDATE messages SET status = 'skipped', last_error = ?, updated_at = ? WHERE id = ?",
            (reason, now, message_id),
        )
        self.messages_waiting.set()

    async def mark_dead(self, message_id: int, error: str, now: float) -> None:
        await self._run(
            self._execute,
            "UPDATE messages SET status = 'dead', last_error = ?, updated_at = ? WHERE id = ?",
            (error, now, message_id),
        )
        self.messages_waiting.set()

    # --- inspection ---------------------------------------------------------------------

    async def stats(self) -> QueueStats:
        return await self._run(self._stats)

    def _stats(self) -> QueueStats:
        waiting = self._conn.execute("SELECT COUNT(*) FROM events WHERE state = 'new'").fetchone()
        counts = dict(
            self._conn.execute("SELECT status, COUNT(*) FROM messages GROUP BY status").fetchall()
        )
        last = self._conn.execute("SELECT MAX(sent_at) FROM messages").fetchone()
        return QueueStats(
            events_waiting=waiting[0],
            pending=counts.get(MessageStatus.PENDING, 0),
            sending=counts.get(MessageStatus.SENDING, 0),
            sent=counts.get(MessageStatus.SENT, 0),
            dead=counts.get(MessageStatus.DEAD, 0),
            last_sent_at=last[0],
        )

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        rows = await self._run(
            self._query,
            "SELECT id, event_id, chat_id, topic, attempts, created_at, updated_at, last_error"
            " FROM messages WHERE status = 'dead' ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [DeadLetter(*row) for row in rows]

    async def replay(self, ids: Sequence[int] | None) -> int:
        """Queue dead letters again (the given ids, or all of them); returns how many."""
        now = time.time()
        chosen = None if ids is None else json.dumps(list(ids))
        count = await self._run(
            self._execute,
            "UPDATE messages SET status = 'pending', attempts = 0, run_at = ?, updated_at = ?,"
            " created_at = ? WHERE status = 'dead'"
            " AND (? IS NULL OR id IN (SELECT value FROM json_each(?)))",
            (now, now, now, chosen, chosen),
        )
        self.messages_waiting.set()
        return count

    async def latest_time(self) -> float:
        """The latest wall time stored as "now" by this bridge (0 if none)."""
        rows = await self._run(
            self._query,
            "SELECT MAX(COALESCE((SELECT MAX(updated_at) FROM messages), 0),"
            " COALESCE((SELECT MAX(created_at) FROM digest_items), 0))",
            (),
        )
        return float(rows[0][0])

    async def ping(self) -> None:
        """Raise StoreError unless the database takes a write and intake worked lately.

        A failed intake counts for a minute: the probe's small write can succeed on a disk
        too full for a real event, but a failure must not stick forever either, or a
        readiness check could keep away the traffic that would clear it.
        """
        await self._run(self._check_file)
        await self._run(
            self._execute,
            "INSERT OR REPLACE INTO health (id, checked_at) VALUES (1, ?)",
            (time.time(),),
        )
        if self.intake_error is not None:
            error, when = self.intake_error
            if time.monotonic() - when < INTAKE_ERROR_MEMORY_SECONDS:
                raise StoreError(f"the last event could not be stored: {error}")

    async def prune(self, finished_before: float, dead_before: float) -> tuple[int, int]:
        """Delete sent and skipped messages, dead letters, and events left without messages.

        Returns (messages, events) deleted. Pending messages and their events are never
        touched, whatever their age.
        """
        return await self._run(self._prune, finished_before, dead_before)

    def _prune(self, finished_before: float, dead_before: float) -> tuple[int, int]:
        with transaction(self._conn):
            messages = self._conn.execute(
                "DELETE FROM messages WHERE (status IN ('sent', 'skipped') AND updated_at < ?)"
                " OR (status = 'dead' AND updated_at < ?)",
                (finished_before, dead_before),
            ).rowcount
            events = self._conn.execute(
                "DELETE FROM events WHERE state != 'new' AND received_at < ?"
                " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.event_id = events.id)"
                " AND NOT EXISTS (SELECT 1 FROM digest_items d WHERE d.event_id = events.id)",
                (finished_before,),
            ).rowcount
        return messages, events

    # --- helpers ------------------------------------------------------------------------

    def _query(self, sql: str, params: Sequence[object]) -> list[Any]:
        return self._conn.execute(sql, params).fetchall()

    def _execute(self, sql: str, params: Sequence[object]) -> int:
        with transaction(self._conn):
            return self._conn.execute(sql, params).rowcount


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


def _identity(path: Path) -> tuple[int, int] | None:
    """The device and inode of the file at `path`, None if there is none."""
    try:
        stat = os.stat(path)
    except OSError:  # gone, or no longer reachable: either way not the file opened
        return None
    return stat.st_dev, stat.st_ino


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

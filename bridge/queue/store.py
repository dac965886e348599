"""The durable queue: one SQLite file in WAL mode, one connection, one thread.

Every statement runs on a single dedicated thread, so writes are serialised without
locks and the event loop never blocks on disk. Webhooks that arrive together are
committed together (group commit): one fsync acknowledges them all.

The store is the only place that runs SQL (its statements are in bridge.queue.sql):
the rest of the bridge calls its named operations (bridge.queue.storage.Storage), which
a second backend can offer too. It also sets its own wake-ups, so no write path can
forget one. Here: intake, routing commits, claims and their outcomes, inspection and
retention; what routing remembers is in routing_memory.py, the connection's helpers in
sqlite_base.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import operator
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.queue import sql
from bridge.queue.action_memory import ActionMemory
from bridge.queue.intake_keys import (
    BURST_LIMIT,
    MERGE_QUIET_SECONDS,
    RECENT_LIMIT,
    RecentKeys,
    look_up,
    merge,
)
from bridge.queue.intake_log import AcceptedTally
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
from bridge.queue.recovery_memory import RecoveryMemory
from bridge.queue.routing_memory import RoutingMemory
from bridge.queue.schema import MIGRATIONS
from bridge.queue.sqlite_base import ROW_ERRORS, transaction
from bridge.queue.storage import StoreError as StoreError

log = logging.getLogger(__name__)

#: how long a failed intake keeps /readyz failing
INTAKE_ERROR_MEMORY_SECONDS = 60.0
#: group commits in a row before the intake job lets the database thread's other work in
_COMMITS_PER_DRAIN = 8
#: events per INSERT statement at intake (8 parameters each, far below SQLite's limit)
INSERT_SLICE = 64
#: rows (by id) pruned per transaction: a few milliseconds of the database thread each
PRUNE_SLICE = 2000
#: at most one log line of accepted events per this many seconds (a lone one at once)
ACCEPTED_LOG_SECONDS = 1.0
#: WAL bytes written by intake after which the side thread checkpoints (SQLite's own
#: automatic checkpoint, after 1000 pages, runs inside the commit that crosses it)
CHECKPOINT_BYTES = 4 * 1024 * 1024
#: the automatic checkpoint kept as a safety net on the database thread, in pages: with
#: the side thread at work it only runs when writes outpace it
_AUTOCHECKPOINT_PAGES = 10_000

_Waiter = tuple[IncomingEvent, "asyncio.Future[Accepted]"]


class Store(RoutingMemory, RecoveryMemory, ActionMemory):
    """The queue's Storage on SQLite. Create with `await Store.open(path)`."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        executor: ThreadPoolExecutor,
        clock: Clock = SYSTEM_CLOCK,
        path: Path | None = None,
        log_every: float = ACCEPTED_LOG_SECONDS,
        *,
        newest: int = 0,
        merge_quiet: float = MERGE_QUIET_SECONDS,
        recent_limit: int = RECENT_LIMIT,
        burst_limit: int = BURST_LIMIT,
    ) -> None:
        """`log_every`: seconds between log lines of accepted events, at most one each;
        `newest`: the newest event, all keys merged (bridge.queue.intake_keys); the keys
        of newer ones are merged after `merge_quiet` seconds without one, or once there
        are `recent_limit` (`burst_limit` if they came in a burst)."""
        super().__init__(conn, executor, clock, path)
        self._log_every = log_every
        # Used on the database thread only.
        self._recent = RecentKeys(newest=newest)
        self._recent_limit = self._merge_at = recent_limit
        self._burst_limit = burst_limit
        # On the event loop: when the last new event was stored, and the quiet-merge timer.
        self._merge_quiet = merge_quiet
        self._stored_at = 0.0
        self._merge_timer: asyncio.TimerHandle | None = None
        # Opened on the event loop that uses it; asked for once, not per delivery.
        self._loop = asyncio.get_running_loop()
        # Deliveries waiting for the database thread, and whether a drain job is queued or
        # running there; both guarded by the lock, since both threads use them.
        self._intake: list[_Waiter] = []
        self._intake_lock = threading.Lock()
        self._draining = False
        self._drained = asyncio.Event()
        self._drained.set()
        self.deliveries = 0
        #: why the last attempt to store an event failed, and when; None once one succeeds
        self.intake_error: tuple[str, float] | None = None
        # Accepted events not logged yet, the timer that will, and when the last line went.
        self._unlogged = AcceptedTally()
        self._log_timer: asyncio.TimerHandle | None = None
        self._logged_at = float("-inf")
        # The side thread: its own connection for long reads and checkpoints.
        self._side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bridge-sqlite-side")
        self._side_conn: sqlite3.Connection | None = None
        self._side_closed = False
        self._written = 0  # intake bytes since the last checkpoint was asked for
        self._checkpointing = False

    @classmethod
    async def open(
        cls,
        path: Path,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        busy_timeout: float = 5.0,
        clock: Clock = SYSTEM_CLOCK,
        log_every: float = ACCEPTED_LOG_SECONDS,
        merge_quiet: float = MERGE_QUIET_SECONDS,
        recent_limit: int = RECENT_LIMIT,
        burst_limit: int = BURST_LIMIT,
    ) -> Store:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bridge-sqlite")
        loop = asyncio.get_running_loop()
        try:
            conn = await loop.run_in_executor(executor, _connect, path, synchronous, busy_timeout)
            newest = await loop.run_in_executor(executor, merge, conn)
        except (sqlite3.Error, OSError) as exc:
            executor.shutdown(wait=False)
            raise StoreError(f"cannot open the database {path}: {exc}") from exc
        return cls(
            conn,
            executor,
            clock,
            path,
            log_every,
            newest=newest,
            merge_quiet=merge_quiet,
            recent_limit=recent_limit,
            burst_limit=burst_limit,
        )

    async def close(self) -> None:
        await self._drained.wait()
        if self._log_timer is not None:
            self._log_timer.cancel()
        if self._merge_timer is not None:
            self._merge_timer.cancel()
        self._log_accepted_now()
        await asyncio.get_running_loop().run_in_executor(self._side, self._close_side)
        self._side.shutdown(wait=True)
        await self._run(self._conn.close)
        self._executor.shutdown(wait=True)

    # --- intake -------------------------------------------------------------------------
    #
    # Group commit, driven from the database thread. A drain job there takes every
    # delivery queued so far, commits them with one fsync, hands the results to the event
    # loop (one wake-up per commit), and at once takes what queued meanwhile, without
    # waiting for the event loop to ask: under a burst the loop is busy with requests,
    # and each round trip through it left the disk idle. After a few commits the job
    # queues itself again behind the other work of the thread (routing, claims), so a
    # long burst delays that work but never stops it.

    async def accept(self, event: IncomingEvent) -> Accepted:
        """Store an event durably; returns once it is committed (or raises StoreError)."""
        loop = self._loop
        future: asyncio.Future[Accepted] = loop.create_future()
        self.deliveries += 1
        with self._intake_lock:
            self._intake.append((event, future))
            start = not self._draining
            self._draining = True
        if start:
            self._drained.clear()
            self._executor.submit(self._drain, loop)
        # No shield needed: a request cancelled meanwhile cancels only its future, and the
        # event is committed all the same (_committed skips futures already done).
        return await future

    def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the database thread: commit what is queued, batch after batch."""
        for _ in range(_COMMITS_PER_DRAIN):
            with self._intake_lock:
                batch, self._intake = self._intake, []
                if not batch:
                    self._draining = False
                    loop.call_soon_threadsafe(self._drained.set)
                    return
            try:
                results: list[Accepted] | Exception = self._insert_events([e for e, _ in batch])
            except sqlite3.Error as exc:
                results = StoreError(str(exc), outage=not isinstance(exc, ROW_ERRORS))
            except Exception as exc:  # every waiter must hear of the failure
                results = exc
            loop.call_soon_threadsafe(self._committed, batch, results)
            self._written += sum(len(e.body) for e, _ in batch)
            if self._written >= CHECKPOINT_BYTES:
                self._ask_checkpoint()
            if self._recent.merge_due(self._merge_at, self._burst_limit, self._clock.monotonic()):
                self._merge_recent()
        self._executor.submit(self._drain, loop)

    def _committed(self, batch: list[_Waiter], results: list[Accepted] | Exception) -> None:
        """On the event loop: answer the batch's waiters, wake the router, log the commit."""
        if isinstance(results, Exception):
            self.intake_error = (str(results), self._clock.monotonic())
            for _, future in batch:
                if not future.done():
                    future.set_exception(results)
            return
        self.intake_error = None
        stored = []
        for (event, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
            if not result.duplicate:
                stored.append((event, result))
        if stored:
            self.events_waiting.set()
            self._stored_at = self._loop.time()
            if self._merge_timer is None:
                self._merge_timer = self._loop.call_later(self._merge_quiet, self._merge_if_quiet)
            if log.isEnabledFor(logging.INFO):
                self._log_accepted(stored)

    # One line per second at most, not per webhook nor per commit: under a burst, a line
    # per commit (one every few deliveries) still took 7 % of the event loop's time, its
    # formatting and the secret-masking filter. A lone event is logged at once, with its
    # id; what arrives within the second after a line is told in one line at its end.

    def _log_accepted(self, stored: list[tuple[IncomingEvent, Accepted]]) -> None:
        self._unlogged.add(stored)
        if self._log_timer is not None:
            return
        loop = asyncio.get_running_loop()
        wait = self._logged_at + self._log_every - loop.time()
        if wait <= 0:
            self._log_accepted_now()
        else:
            self._log_timer = loop.call_later(wait, self._log_accepted_now)

    def _log_accepted_now(self) -> None:
        self._log_timer = None
        tally, self._unlogged = self._unlogged, AcceptedTally()
        if tally.count:
            self._logged_at = asyncio.get_running_loop().time()
            log.info("%s", tally.line(), extra=tally.fields())

    def _insert_events(self, events: Sequence[IncomingEvent]) -> list[Accepted]:
        with transaction(self._conn):
            accepted, learned, newest = self._insert_batch(events)
            # Checked inside the transaction: on a missing file it rolls back, unacknowledged.
            self._check_file()
        # Only now: a key in memory must always be a committed event.
        self._recent.learn(learned, newest, self._clock.monotonic())
        return accepted

    # A statement per event made the database thread wait for the GIL per event: sqlite3
    # lets it go around every step, the event loop takes it at once under a burst, and
    # gives it back only at its next system call. So a commit is a fixed handful of
    # statements however many events it holds: the keys already stored (intake_keys),
    # then one INSERT per INSERT_SLICE events. Its rows' ids need no statement of their
    # own: under the write lock, AUTOINCREMENT numbers the rows of one INSERT in their
    # order, each one above the last, so the last id tells them all.

    def _insert_batch(
        self, events: Sequence[IncomingEvent]
    ) -> tuple[list[Accepted], dict[str, int], int]:
        """The events' answers, and the keys and newest id learned (kept after commit)."""
        found = look_up(self._conn, self._recent, [e.body_key for e in events])
        ids: dict[str, int] = {}
        new: dict[str, IncomingEvent] = {}
        for e in events:
            event_id = found.event_of(e.body_key, self._recent)
            if event_id is not None:
                ids[e.body_key] = event_id
            else:
                new.setdefault(e.body_key, e)  # a second delivery in the batch repeats it
        rows = list(new.values())
        stored: dict[str, int] = {}
        newest = found.newest
        for start in range(0, len(rows), INSERT_SLICE):
            part = rows[start : start + INSERT_SLICE]
            newest = _last_id(self._conn.execute(sql.insert_events(len(part)), _columns(part)))
            lowest = newest - len(part) + 1
            stored.update(zip([e.body_key for e in part], range(lowest, newest + 1), strict=True))
        ids.update(stored)
        accepted = []
        for e in events:
            first = new.get(e.body_key)
            accepted.append(Accepted(event_id=ids[e.body_key], duplicate=first is not e))
            if first is e:
                del new[e.body_key]  # the same bytes again later in the batch: a duplicate
        return accepted, found.newer | stored, newest

    def _merge_recent(self) -> None:
        """On the database thread: merge the newer keys into event_keys."""
        try:
            newest = merge(self._conn)
        except sqlite3.Error as exc:
            # Intake goes on, the keys stay in memory; tried again RECENT_LIMIT keys later.
            self._merge_at = len(self._recent.keys) + self._recent_limit
            log.warning(
                "could not merge %d event keys, kept in memory: %s", len(self._recent.keys), exc
            )
            return
        self._recent = RecentKeys(newest=newest)
        self._merge_at = self._recent_limit

    def _merge_if_quiet(self) -> None:
        """On the event loop: merge once no new event came for `merge_quiet` seconds."""
        wait = self._stored_at + self._merge_quiet - self._loop.time()
        if wait > 0:
            self._merge_timer = self._loop.call_later(wait, self._merge_if_quiet)
            return
        self._merge_timer = None
        self._executor.submit(self._merge_recent)

    # --- routing ------------------------------------------------------------------------

    async def new_events(self, limit: int = 100) -> list[StoredEvent]:
        """Events not routed yet, oldest first."""
        rows = await self._run(self._query, sql.NEW_EVENTS, (limit,))
        return [StoredEvent(row[0], row[1], row[2], row[3], row[4], bool(row[5])) for row in rows]

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

    async def open_messages(self, up_to: int) -> int:
        """How many messages wait to be sent (pending or sending), counting at most `up_to`."""
        rows = await self._run(self._query, sql.OPEN_MESSAGES_UP_TO, (up_to,))
        return int(rows[0][0])

    def _commit_routing(self, r: Routing, now: float) -> None:
        self._conn.execute(sql.SET_EVENT_STATE, (r.state, r.note, r.event_id))
        if r.state_key is not None:
            self._conn.execute(sql.REMEMBER_STATE, (r.state_key, r.event_id))
        self._insert_messages(r.event_id, r.messages, now)
        if r.order_state is not None:
            self._remember_order_status(r.order_state, r.event_id)
        if r.stock_state is not None:
            self._remember_stock(r.stock_state, r.event_id)
        if r.digest_items:
            self._hold_digest_items(r.digest_items, now)
        if r.ledger_row is not None:
            self._record_ledger(r.ledger_row)

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

    async def mark_sent(self, message_id: int, now: float, telegram_id: int | None = None) -> None:
        """Sent; `telegram_id` is Telegram's id for it, to edit it later."""
        await self._run(self._execute, sql.MARK_SENT, (now, now, telegram_id, message_id))
        self.messages_done.set()

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
        self.messages_done.set()

    async def mark_dead(self, message_id: int, error: str, now: float) -> None:
        await self._run(self._execute, sql.MARK_DEAD, (error, now, message_id))
        self.messages_waiting.set()
        self.messages_done.set()

    # --- inspection ---------------------------------------------------------------------

    async def stats(self, chat_id: int | None = None) -> QueueStats:
        """Counts of the whole queue, or of one chat's messages.

        Read on the side thread: counting every message scans the table (60 ms with
        70,000 queued), which on the database thread would hold up intake's next commit.
        """
        if self._path is None:
            return await self._run(self._stats, self._conn, chat_id)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._side, self._side_stats, chat_id)
        except sqlite3.Error as exc:
            raise StoreError(str(exc), outage=not isinstance(exc, ROW_ERRORS)) from exc

    def _side_stats(self, chat_id: int | None) -> QueueStats:
        conn = self._side_connection()
        # One read transaction: the three counts from one snapshot.
        conn.execute("BEGIN")
        try:
            return self._stats(conn, chat_id)
        finally:
            conn.execute("COMMIT")

    def _stats(self, conn: sqlite3.Connection, chat_id: int | None) -> QueueStats:
        waiting = conn.execute(sql.COUNT_NEW_EVENTS).fetchone()
        counts = dict(conn.execute(sql.COUNT_BY_STATUS, (chat_id, chat_id)).fetchall())
        last = conn.execute(sql.LAST_SENT, (chat_id, chat_id)).fetchone()
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

    async def latest_time(self) -> float:
        """The latest wall time stored as "now" by this bridge (0 if none)."""
        rows = await self._run(self._query, sql.LATEST_TIME, ())
        return float(rows[0][0])

    async def ping(self) -> None:
        """Raise StoreError unless the database takes a write and intake worked lately.

        A failed intake counts for a minute: the probe's small write can succeed on a disk
        too full for a real event, but a failure must not stick forever either, or a
        readiness check could keep away the traffic that would clear it.
        """
        await self._run(self._check_file)
        await self._run(self._execute, sql.TOUCH_HEALTH, (self._clock.time(),))
        if self.intake_error is not None:
            error, when = self.intake_error
            if self._clock.monotonic() - when < INTAKE_ERROR_MEMORY_SECONDS:
                raise StoreError(f"the last event could not be stored: {error}")

    # --- the side thread ----------------------------------------------------------------
    #
    # A second connection, on a thread of its own, for what takes long and need not wait
    # its turn on the database thread: the counts of the whole queue, and the WAL
    # checkpoints. WAL lets it read while the database thread writes, and a PASSIVE
    # checkpoint copies committed pages into the database file without blocking writers:
    # neither holds up a group commit, where SQLite's automatic checkpoint (copy and
    # fsync, 6-11 ms here) ran inside the commit that crossed its threshold.

    def _side_connection(self) -> sqlite3.Connection:
        if self._side_conn is None:
            self._check_file()  # never open (and so create) a file deleted meanwhile
            assert self._path is not None
            uri = f"{self._path.resolve().as_uri()}?mode=rw"
            self._side_conn = sqlite3.connect(
                uri, uri=True, isolation_level=None, check_same_thread=False
            )
            self._side_conn.execute("PRAGMA busy_timeout = 5000")
            self._side_conn.execute("PRAGMA synchronous = FULL")
        return self._side_conn

    def _ask_checkpoint(self) -> None:
        """On the database thread: have the side thread checkpoint, unless it is already."""
        self._written = 0
        if self._checkpointing or self._path is None:
            return
        self._checkpointing = True
        try:
            self._side.submit(self._checkpoint)
        except RuntimeError:  # shut down: closing
            self._checkpointing = False

    def _checkpoint(self) -> None:
        try:
            if not self._side_closed:
                self._side_connection().execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:
            # The safety net (the automatic checkpoint) still runs on the database thread.
            log.debug("could not checkpoint the WAL from the side thread: %s", exc)
        finally:
            self._checkpointing = False

    def _close_side(self) -> None:
        self._side_closed = True
        if self._side_conn is not None:
            self._side_conn.close()
            self._side_conn = None

    # --- retention ----------------------------------------------------------------------

    async def prune(self, finished_before: float, dead_before: float) -> tuple[int, int]:
        """Delete sent and skipped messages, dead letters, and events left without messages.

        Returns (messages, events) deleted. Pending messages and their events are never
        touched, whatever their age.
        """
        messages = await self._prune_slices(
            sql.MESSAGE_IDS, sql.PRUNE_MESSAGES, finished_before, dead_before
        )
        events = await self._prune_slices(sql.EVENT_IDS, sql.PRUNE_EVENTS, finished_before)
        return messages, events

    async def _prune_slices(self, ids: str, statement: str, *limits: float) -> int:
        """Run `statement` over PRUNE_SLICE ids at a time, each slice its own transaction,
        so that intake's commits and the routing go in between."""
        rows = await self._run(self._query, ids, ())
        first, last = rows[0]
        deleted = 0
        if first is None:
            return 0
        for start in range(first, last + 1, PRUNE_SLICE):
            deleted += await self._run(
                self._execute, statement, (start, start + PRUNE_SLICE - 1, *limits)
            )
        return deleted


def _connect(path: Path, synchronous: str, busy_timeout: float) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    conn.execute("PRAGMA journal_mode = WAL")
    # FULL: WooCommerce never resends, so an acknowledged event must survive a power cut.
    conn.execute(f"PRAGMA synchronous = {'FULL' if synchronous == 'FULL' else 'NORMAL'}")
    # An INSERT of many rows keeps a statement journal (to undo it alone): in memory, not
    # in a temporary file created and deleted at every commit.
    conn.execute("PRAGMA temp_store = MEMORY")
    # Checkpoints run on the side thread (Store._checkpoint); this one is the safety net.
    conn.execute(f"PRAGMA wal_autocheckpoint = {_AUTOCHECKPOINT_PAGES}")
    _migrate(conn)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations this file lacks, with foreign keys off (set on after): a
    migration that rebuilds a table drops the old one, which with them on would delete
    every row referring to it."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise sqlite3.DatabaseError(
            f"its schema {version} is newer than this version of the bridge knows "
            f"({len(MIGRATIONS)}): run the newer version, or a copy of the file made "
            "before upgrading"
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.executescript(f"BEGIN IMMEDIATE; {script}; PRAGMA user_version = {number}; COMMIT;")


def _columns(events: Sequence[IncomingEvent]) -> list[object]:
    """The parameters of sql.insert_events for `events`, in order."""
    values: list[object] = []
    for e in events:
        values += _COLUMNS(e)
    return values


#: an event's values in sql.insert_events' order (`recovered` binds as 0 or 1)
_COLUMNS = operator.attrgetter(
    "store", "topic", "webhook_id", "delivery_id", "body_key", "body", "received_at", "recovered"
)


def _last_id(cursor: sqlite3.Cursor) -> int:
    """The id of the last row an INSERT added."""
    if cursor.lastrowid is None:
        raise sqlite3.DatabaseError("SQLite reported no id for the events just inserted")
    return cursor.lastrowid

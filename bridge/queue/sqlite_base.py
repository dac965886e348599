"""The SQLite store's foundation: one connection on one thread, the clock, the wake-ups.

bridge.queue.store.Store is built on it; the helpers here run statements from
bridge.queue.sql on the database thread and insert messages, the one way they enter.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.queue import sql
from bridge.queue.models import MessageStatus, OutgoingMessage
from bridge.queue.storage import DatabaseMissing, StoreError

T = TypeVar("T")

log = logging.getLogger("bridge.queue.store")

# SQLite errors that a row's own values cause; any other one is the database failing.
ROW_ERRORS = (
    sqlite3.IntegrityError,
    sqlite3.DataError,
    sqlite3.ProgrammingError,
    sqlite3.InterfaceError,
)


class SQLiteBase:
    """The connection, its thread and the wake-ups every operation of the store shares."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        executor: ThreadPoolExecutor,
        clock: Clock = SYSTEM_CLOCK,
        path: Path | None = None,
    ) -> None:
        self._conn = conn
        self._executor = executor
        self._clock = clock
        # The file as opened: deleting (or replacing) it while the connection is open
        # would let intake commit into a file that no longer exists, lost at the restart.
        self._path = path
        self._identity = _identity(path) if path is not None else None
        self._missing_logged = False
        #: set when a new event is committed; the router waits on it
        self.events_waiting = asyncio.Event()
        #: set when messages become sendable or change state; the sender waits on it
        self.messages_waiting = asyncio.Event()
        #: set when a message leaves the send queue; the router waits on it in a burst
        self.messages_done = asyncio.Event()

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        except sqlite3.Error as exc:
            raise StoreError(str(exc), outage=not isinstance(exc, ROW_ERRORS)) from exc

    async def _in_transaction(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(*args)` on the database thread inside one transaction."""
        return await self._run(self._transaction, fn, args)

    def _transaction(self, fn: Callable[..., T], args: tuple[object, ...]) -> T:
        with transaction(self._conn):
            return fn(*args)

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

    def _query(self, statement: str, params: Sequence[object]) -> list[Any]:
        return self._conn.execute(statement, params).fetchall()

    def _execute(self, statement: str, params: Sequence[object]) -> int:
        with transaction(self._conn):
            return self._conn.execute(statement, params).rowcount


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

"""The PostgreSQL store's foundation: the pool, the clock, the wake-ups, safe errors.

bridge.queue.postgres.store.PgStore is built on it; the helpers here run statements from
bridge.queue.postgres.sql and translate every driver failure into StoreError, with a
message built from safe parts: asyncpg's errors may carry the URL, and so the password.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import AsyncIterator, Awaitable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, NoReturn, TypeAlias, TypeVar
from urllib.parse import quote, unquote, urlsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.queue.models import IncomingEvent, MessageStatus, OutgoingMessage
from bridge.queue.postgres import sql
from bridge.queue.storage import StoreError

T = TypeVar("T")

#: a connection borrowed from the pool
Conn: TypeAlias = "PoolConnectionProxy[asyncpg.Record]"

# Errors that a row's own values cause (a constraint, a value out of range); any other
# one is the database failing (unreachable, restarting, out of space, timed out).
ROW_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.DataError,
    asyncpg.exceptions._base.DataError,  # a value the driver could not encode
)
DRIVER_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    # a connection caught mid-operation as the server went away
    asyncpg.exceptions._base.InternalClientError,
    OSError,
    TimeoutError,
)
#: and a URL the driver cannot read, when opening
OPEN_ERRORS: tuple[type[Exception], ...] = (*DRIVER_ERRORS, ValueError)


class Redactor:
    """Masks a URL's password wherever it appears in a text."""

    def __init__(self, url: str) -> None:
        try:
            password = urlsplit(url).password
        except ValueError:
            password = None
        self._secrets = sorted(
            {
                p
                for p in (password, password and unquote(password), password and quote(password))
                if p
            },
            key=len,
            reverse=True,
        )

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def describe(exc: BaseException, redact: Redactor) -> str:
    """What went wrong, in words safe for a log line or an answer."""
    if isinstance(exc, asyncpg.PostgresError):
        return redact(f"{exc.__class__.__name__} (SQLSTATE {exc.sqlstate}): {exc}")
    if isinstance(exc, TimeoutError):
        return "the database did not answer in time"
    if isinstance(exc, OSError):
        reason = exc.strerror or exc.__class__.__name__
        return redact(f"cannot reach the database server: {reason}")
    return redact(f"lost the connection to the database: {exc}")


def store_error(exc: BaseException, redact: Redactor) -> StoreError:
    return StoreError(describe(exc, redact), outage=not isinstance(exc, ROW_ERRORS))


async def bounded(work: Awaitable[T], seconds: float) -> T:
    """`work`'s result, or StoreError after `seconds` with `work` left to finish alone.

    Not asyncio.timeout: cancelling a query on a server that has stopped answering
    returns its connection to the pool, whose reset waits on that same server, so the
    cancellation itself would hang (measured: a 2 s timeout took 62 s)."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.add_done_callback(_forget)
        raise StoreError("the database did not answer in time")
    return task.result()


def _forget(task: asyncio.Future[Any]) -> None:
    """Collect the outcome of work given up on, so that asyncio does not report it."""
    if not task.cancelled():
        task.exception()


def one_statement(parts: Sequence[tuple[str, Sequence[object]]]) -> tuple[str, list[object]]:
    """Data-modifying statements (each with its own $1...) as one statement and its
    arguments: one round trip and one transaction. The statements must touch different
    rows: they all see the database as it was when the statement began."""
    texts: list[str] = []
    args: list[object] = []
    for index, (statement, values) in enumerate(parts):
        renumbered = _PARAMETER.sub(functools.partial(_shift, by=len(args)), statement)
        texts.append(f"s{index} AS ({renumbered})")
        args.extend(values)
    return "WITH " + ", ".join(texts) + " SELECT 1", args


_PARAMETER = re.compile(r"\$(\d+)")


def _shift(match: re.Match[str], by: int) -> str:
    return f"${int(match.group(1)) + by}"


def affected(status: str) -> int:
    """The row count of a command's status ("UPDATE 3", "INSERT 0 1")."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PgBase:
    """The pool and the wake-ups every operation of the store shares."""

    def __init__(self, pool: asyncpg.Pool, url: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self._pool = pool
        self._url = url
        self._clock = clock
        self._redact = Redactor(url)
        #: set when a new event is committed; the router waits on it
        self.events_waiting = asyncio.Event()
        #: set when messages become sendable or change state; the sender waits on it
        self.messages_waiting = asyncio.Event()
        #: set when a message leaves the send queue; the router waits on it in a burst
        self.messages_done = asyncio.Event()
        #: the leader's term this replica claims under (0: no leader has set one)
        self.epoch = 0
        #: work was given up on while the server did not answer: closing cuts connections
        self._stalled = False

    async def _bounded(self, work: Awaitable[T], seconds: float) -> T:
        try:
            return await bounded(work, seconds)
        except StoreError:
            self._stalled = True
            raise

    def _fail(self, exc: BaseException) -> NoReturn:
        raise store_error(exc, self._redact) from None

    async def _fetch(self, statement: str, *args: object) -> list[asyncpg.Record]:
        try:
            return await self._pool.fetch(statement, *args)
        except DRIVER_ERRORS as exc:
            self._fail(exc)

    async def _fetchval(self, statement: str, *args: object) -> Any:
        try:
            return await self._pool.fetchval(statement, *args)
        except DRIVER_ERRORS as exc:
            self._fail(exc)

    async def _execute(self, statement: str, *args: object) -> int:
        """Run one statement (its own transaction); returns the rows it touched."""
        try:
            return affected(await self._pool.execute(statement, *args))
        except DRIVER_ERRORS as exc:
            self._fail(exc)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Conn]:
        """A pooled connection inside one transaction, committed on leaving."""
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                yield conn
        except DRIVER_ERRORS as exc:
            self._fail(exc)

    async def _insert_routed_event(self, conn: Conn, event: IncomingEvent) -> int:
        """Store an event the bridge made itself (a notice, an alert, a summary) as routed."""
        event_id: int = await conn.fetchval(
            sql.INSERT_ROUTED_EVENT,
            event.store,
            event.topic,
            event.body_key,
            event.body,
            event.received_at,
        )
        return event_id

    async def _insert_messages(
        self,
        conn: Conn,
        event_id: int,
        messages: Iterable[OutgoingMessage],
        now: float,
    ) -> None:
        rows: Sequence[tuple[object, ...]] = [
            (
                event_id,
                m.chat_id,
                m.thread_id,
                m.topic,
                m.text,
                m.reply_markup,
                m.silent,
                MessageStatus.PENDING.value
                if m.skip_reason is None
                else MessageStatus.SKIPPED.value,
                m.skip_reason,
                now,
                now,
                now,
            )
            for m in messages
        ]
        if rows:
            await conn.executemany(sql.INSERT_MESSAGE, rows)

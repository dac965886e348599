"""Leader election on PostgreSQL: a session advisory lock on a connection of its own.

Why a session lock, not a lease row: the server frees it the moment the holder's session
ends (a crash, a kill, a terminated backend), so a follower takes over within its poll
interval rather than after a lease expires. Its weak spot is a leader cut off from the
database without its session ending (a partition, a frozen VM): the server only notices
through `idle_session_timeout` and TCP keepalives. So the leader heartbeats with a
timeout and demotes itself on the first failure, sooner than the server can free the
lock: heartbeat + timeout < idle_session_timeout - heartbeat (POSTGRES.md §2.5).

The connection is never pooled: asyncpg's pool reset would release the lock. Each term
bumps `leader.epoch` in the transaction that follows the win and hands it to the store,
which stamps it on the messages it claims and claims nothing once another replica has
bumped it: a deposed leader that has not noticed yet cannot take new work.

Every replica, leading or not, heartbeats its row in `replicas` on the same connection;
`replicas()` lists those seen within three heartbeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Any, Protocol

import asyncpg

from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.queue.leadership import Replica
from bridge.queue.storage import StoreError

log = logging.getLogger(__name__)

#: the lock's key: the server hashes the name, so every replica computes the same bigint
_KEY = "hashtextextended('woo-telegram-bridge:leader', 0)"
TRY_LOCK = f"SELECT pg_try_advisory_lock({_KEY})"
UNLOCK = f"SELECT pg_advisory_unlock({_KEY})"
NEW_TERM = (
    "UPDATE leader SET epoch = epoch + 1, holder = $1, since = $2 WHERE id = 1 RETURNING epoch"
)
#: the heartbeat: a write on the lock's session, so it proves the session (and the lock)
#: alive, and the replica's row says when it was last seen
HEARTBEAT = (
    "INSERT INTO replicas (name, started_at, seen_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (name) DO UPDATE SET seen_at = EXCLUDED.seen_at"
)
FORGET_REPLICA = "DELETE FROM replicas WHERE name = $1"
#: the holder recorded by the last term, if a session holds the lock now (a dead leader's
#: name stays in the row; pg_locks shows a bigint key split into classid and objid)
LEADER_NOW = (
    "SELECT holder FROM leader WHERE id = 1 AND EXISTS ("
    " SELECT 1 FROM pg_locks k WHERE k.locktype = 'advisory' AND k.granted"
    " AND k.objsubid = 1"
    " AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND ((k.classid::bigint << 32) | k.objid::bigint)"
    " = hashtextextended('woo-telegram-bridge:leader', 0))"
)
RECENT_REPLICAS = "SELECT name, started_at, seen_at FROM replicas WHERE seen_at >= $1 ORDER BY name"

#: what a failed connection or statement can raise; only the class name is ever logged,
#: since asyncpg's texts may carry the user, the host or the DSN
_DB_ERRORS = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    # a pooled connection left mid-statement when the server went away, seen afterwards
    asyncpg.InternalClientError,
)
#: the longest pause between attempts to reach the database, in poll intervals
_BACKOFF_POLLS = 16
#: how long a replica whose term just ended waits before competing again, in poll
#: intervals: longer than a follower's poll, so a healthy follower takes over first
_STEP_BACK_POLLS = 3


class HasEpoch(Protocol):
    """The store, as far as leadership goes: it stamps claims with the current term."""

    epoch: int


class _Lost(Exception):
    """The term ended; the argument is the reason's word."""


class PgLeader:
    """Leadership through a PostgreSQL advisory lock (see the module's docstring)."""

    def __init__(
        self,
        url: str,
        store: HasEpoch,
        *,
        replica: str,
        clock: Clock = SYSTEM_CLOCK,
        poll_seconds: float = 1.0,
        heartbeat_seconds: float = 2.0,
        timeout_seconds: float = 2.0,
    ) -> None:
        self.replica = replica
        self.lost = asyncio.Event()
        self.leading = False
        #: the current (or last) term's epoch; 0 before the first
        self.epoch = 0
        self._url = url
        self._store = store
        self._clock = clock
        self._poll = poll_seconds
        self._heartbeat = heartbeat_seconds
        self._timeout = timeout_seconds
        self._started_at = clock.time()
        self._won = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection[Any] | None = None
        self._reads: asyncpg.Pool[Any] | None = None
        #: why the session ended, set by the termination listener
        self._ended = asyncio.Event()

    # the session
    def _server_settings(self) -> dict[str, str]:
        beat, timeout = self._heartbeat, self._timeout
        # The server frees the lock of a silent leader after this; the leader demotes
        # itself within heartbeat + timeout, well before (margin: one more of each).
        idle = 3 * beat + 2 * timeout + self._poll
        return {
            "application_name": f"woo-bridge leader {self.replica}"[:63],
            "idle_session_timeout": f"{int(idle * 1000)}ms",
            # A safety net behind the client's own timeout, which ends a heartbeat first.
            "statement_timeout": f"{int(max(2 * timeout, 0.1) * 1000)}ms",
            # A dead peer is noticed by the server in about idle + interval * count.
            "tcp_keepalives_idle": "5",
            "tcp_keepalives_interval": "2",
            "tcp_keepalives_count": "3",
        }

    async def _connect(self) -> asyncpg.Connection[Any]:
        self._ended.clear()
        conn: asyncpg.Connection[Any] = await asyncpg.connect(
            self._url,
            timeout=max(self._timeout, 1.0),
            server_settings=self._server_settings(),
            statement_cache_size=0,  # a handful of statements, rarely: nothing to cache
        )
        conn.add_termination_listener(self._terminated)
        return conn

    def _terminated(self, conn: object) -> None:
        # Called by asyncpg the moment the session ends: no statement need fail first.
        if conn is not self._conn:
            return  # one this replica closed itself
        self._ended.set()
        if self.leading:
            self._demote("disconnected")

    # the protocol
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"leadership-{self.replica}")

    async def acquire(self) -> int:
        self.start()
        while True:
            await self._won.wait()
            if self.leading:
                self.lost.clear()
                return self.epoch
            await asyncio.sleep(0)  # demoted meanwhile: wait for the next term

    async def leader_name(self) -> str | None:
        name: str | None = await self._read(LEADER_NOW)
        return name

    async def replicas(self) -> list[Replica]:
        since = self._clock.time() - 3 * max(self._heartbeat, self._poll)
        rows = await self._read(RECENT_REPLICAS, since, many=True)
        leader = await self.leader_name()
        return [
            Replica(row["name"], row["started_at"], row["seen_at"], row["name"] == leader)
            for row in rows
        ]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        conn, self._conn = self._conn, None
        was_leading = self.leading
        self.leading = False
        self._won.clear()
        if conn is not None:
            try:
                # Released at once rather than when the server sees the socket close;
                # the row goes too, so /status stops listing this replica.
                if was_leading:
                    await conn.fetchval(UNLOCK, timeout=self._timeout)
                await conn.execute(FORGET_REPLICA, self.replica, timeout=self._timeout)
                await conn.close(timeout=self._timeout)
            except _DB_ERRORS:
                conn.terminate()
        if was_leading:
            log.info("leadership released (term %d)", self.epoch)
        if self._reads is not None:
            await self._reads.close()
            self._reads = None

    # reads for /status and /metrics: a small pool of their own, never the lock's session
    async def _read(self, query: str, *args: object, many: bool = False) -> Any:
        try:
            if self._reads is None:
                self._reads = await asyncpg.create_pool(
                    self._url, min_size=0, max_size=2, timeout=max(self._timeout, 1.0)
                )
            if many:
                return await self._reads.fetch(query, *args, timeout=self._timeout)
            return await self._reads.fetchval(query, *args, timeout=self._timeout)
        except _DB_ERRORS as exc:
            raise StoreError(
                f"cannot read the replicas from PostgreSQL ({type(exc).__name__})"
            ) from None

    # the election
    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                self._conn = await self._connect()
            except _DB_ERRORS as exc:
                if failures == 0:
                    log.warning(
                        "cannot reach PostgreSQL for the leadership (%s); retrying",
                        type(exc).__name__,
                    )
                failures += 1
                await asyncio.sleep(self._backoff(failures))
                continue
            if failures:
                log.info("PostgreSQL reached again for the leadership")
            failures = 0
            epoch = self.epoch
            reason = await self._term(self._conn)
            conn, self._conn = self._conn, None
            conn.terminate()  # a closed session holds no lock
            if self.leading:
                self._demote(reason)
            if self.epoch != epoch:
                # The session that failed led: another replica may be healthier.
                await asyncio.sleep(self._poll * _STEP_BACK_POLLS)
            else:
                await asyncio.sleep(self._backoff(1))

    def _backoff(self, failures: int) -> float:
        pause = self._poll * min(1 << min(failures - 1, 8), _BACKOFF_POLLS)
        return pause * random.uniform(0.8, 1.2)

    async def _term(self, conn: asyncpg.Connection[Any]) -> str:
        """Follow until the lock is won, then lead until the session fails: the reason."""
        try:
            await self._follow(conn)
            await self._win(conn)
            await self._lead(conn)
        except _Lost as lost:
            return str(lost.args[0])
        except TimeoutError:
            return "timeout"
        except (OSError, asyncpg.InterfaceError, asyncpg.ConnectionDoesNotExistError):
            return "disconnected"
        except (asyncpg.PostgresError, asyncpg.InternalClientError) as exc:
            log.debug("leadership statement failed: %s", type(exc).__name__)
            return "error"
        except Exception as exc:
            # Whatever else the driver raises ends this term only, never the election.
            log.error("leadership failed unexpectedly: %s", type(exc).__name__)
            return "error"
        return "error"  # pragma: no cover - _lead only ends by raising

    async def _beat(self, conn: asyncpg.Connection[Any]) -> None:
        await conn.execute(
            HEARTBEAT, self.replica, self._started_at, self._clock.time(), timeout=self._timeout
        )

    async def _follow(self, conn: asyncpg.Connection[Any]) -> None:
        beat_due = 0.0
        while True:
            if self._clock.monotonic() >= beat_due:
                await self._beat(conn)
                beat_due = self._clock.monotonic() + self._heartbeat
            if await conn.fetchval(TRY_LOCK, timeout=self._timeout):
                return
            await self._pause(self._poll * random.uniform(0.8, 1.2))

    async def _win(self, conn: asyncpg.Connection[Any]) -> None:
        async with conn.transaction():
            epoch = await conn.fetchval(
                NEW_TERM, self.replica, self._clock.time(), timeout=self._timeout
            )
        self.epoch = int(epoch)
        self._store.epoch = self.epoch
        self.leading = True
        self._won.set()
        log.info("leading (term %d)", self.epoch)

    async def _lead(self, conn: asyncpg.Connection[Any]) -> None:
        while True:
            await self._pause(self._heartbeat)
            await self._beat(conn)

    async def _pause(self, seconds: float) -> None:
        """Sleep, unless the session ends meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ended.wait(), seconds)
        if self._ended.is_set():
            raise _Lost("disconnected")

    def _demote(self, reason: str) -> None:
        self.leading = False
        self._won.clear()
        # A fence of its own: the store claims nothing under an epoch no term has.
        self._store.epoch = 0
        self.lost.set()
        log.warning("no longer leading: %s", reason)

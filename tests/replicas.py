"""Several `python -m bridge serve` processes on one PostgreSQL database, for the tests.

Each replica is a real child process with a data directory and a port of its own and the
same settings as the others; Telegram is the stand-in served by the test. A SIGKILL is a
real kill. Who leads is read from the database itself (the `leader` row), as an operator
would, so the tests do not depend on how /status words it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import asyncpg

from tests.fakes.deliveries import delivery_headers
from tests.helpers import CHAT_ID, SECRET, free_port
from tests.test_process import QUICK_SETTINGS, BridgeProcess

#: leadership shrunk so that a takeover takes a fraction of a second plus start-up:
#: followers try the lock every POLL seconds; the leader's heartbeat runs every
#: HEARTBEAT seconds and gives up after TIMEOUT
POLL = 0.2
HEARTBEAT = 0.5
TIMEOUT = 1.0


class Replica(BridgeProcess):
    """One `python -m bridge serve` child process, one of a fleet, and how to talk to it."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        super().__init__(env, log)
        self.name = name
        self.log = log

    def kill(self) -> None:
        """SIGKILL: no shutdown, no unlock, connections left for the server to notice."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Fleet:
    """Replicas sharing one database and one stand-in Telegram."""

    def __init__(
        self, database_url: str, telegram_url: str, token: str, work: Path, **common: str
    ) -> None:
        self.database_url = database_url
        self.work = work
        self.replicas: list[Replica] = []
        self.common = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_BASE_URL": telegram_url,
            "TELEGRAM_CHAT_ID": str(CHAT_ID),
            "WOOCOMMERCE_WEBHOOK_SECRET": SECRET,
            "BRIDGE_DATABASE_URL": database_url,
            "BRIDGE_HOST": "127.0.0.1",
            **QUICK_SETTINGS,
            "BRIDGE_SHUTDOWN_GRACE_SECONDS": "1",
            "BRIDGE_LEADER_POLL_SECONDS": str(POLL),
            "BRIDGE_LEADER_HEARTBEAT_SECONDS": str(HEARTBEAT),
            "BRIDGE_LEADER_TIMEOUT_SECONDS": str(TIMEOUT),
            **common,
        }

    def add(self, **overrides: str) -> Replica:
        """A replica (not started yet) with the common settings and `overrides`."""
        name = f"replica-{len(self.replicas)}"
        env = {
            **self.common,
            "BRIDGE_REPLICA_NAME": name,
            "BRIDGE_DATA_DIR": str(self.work / name),
            "BRIDGE_PORT": str(free_port()),
            **overrides,
        }
        # An empty value leaves the setting out (TELEGRAM_CHAT_ID when routes name the chats).
        env = {key: value for key, value in env.items() if value != ""}
        replica = Replica(name, env, self.work / f"{name}.log")
        self.replicas.append(replica)
        return replica

    async def start(self, count: int, **overrides: str) -> list[Replica]:
        """`count` replicas, the first one leading before the next starts."""
        started = []
        for _ in range(count):
            replica = self.add(**overrides)
            await replica.start()
            if not started:
                await self.wait_for_leader({replica.name}, timeout=20)
            started.append(replica)
        return started

    async def leader(self) -> tuple[str | None, int]:
        """The replica the database names as leader, and its term."""
        conn = await asyncpg.connect(self.database_url, timeout=5)
        try:
            row = await conn.fetchrow("SELECT holder, epoch FROM leader WHERE id = 1")
        except asyncpg.UndefinedTableError:
            return None, 0  # not migrated yet: no replica has started far enough
        finally:
            await conn.close()
        assert row is not None
        return row["holder"], int(row["epoch"])

    async def wait_for_leader(self, among: set[str], *, timeout: float, after: int = 0) -> str:
        """Wait until one of `among` leads in a term later than `after`; returns its name."""
        deadline = time.monotonic() + timeout
        while True:
            holder, epoch = await self.leader()
            if holder in among and epoch > after:
                return holder
            if time.monotonic() > deadline:
                logs = "\n".join(r.output()[-3000:] for r in self.replicas)
                raise AssertionError(f"no leader among {among} after {timeout} s:\n{logs}")
            await asyncio.sleep(0.05)

    async def statuses(self) -> list[str]:
        """Every message's status, in queue order."""
        conn = await asyncpg.connect(self.database_url, timeout=5)
        try:
            rows = await conn.fetch("SELECT status FROM messages ORDER BY id")
        finally:
            await conn.close()
        return [str(row["status"]) for row in rows]

    async def sent_in_terms_after(self, term: int) -> set[int]:
        """Telegram's ids of the messages sent under a term later than `term`: what only a
        later leader can have sent (each claim stamps its leader's term)."""
        conn = await asyncpg.connect(self.database_url, timeout=5)
        try:
            rows = await conn.fetch(
                "SELECT telegram_id FROM messages WHERE claimed_epoch > $1"
                " AND status = 'sent' AND telegram_id IS NOT NULL",
                term,
            )
        finally:
            await conn.close()
        return {int(row["telegram_id"]) for row in rows}

    def by_name(self, name: str) -> Replica:
        return next(r for r in self.replicas if r.name == name)

    def stop(self) -> None:
        for replica in self.replicas:
            replica.stop()


async def post_order(
    http: aiohttp.ClientSession, replica: Replica, body: bytes, *, topic: str = "order.created"
) -> int:
    """POST a signed delivery to `replica`'s /webhook; its status."""
    headers = delivery_headers(topic, body, SECRET)
    async with http.post(f"{replica.url}/webhook", data=body, headers=headers) as response:
        return response.status


async def status_of(http: aiohttp.ClientSession, url: str) -> int | None:
    """The status of a GET, or None when nothing answers."""
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=5)) as response:
            return response.status
    except (aiohttp.ClientError, TimeoutError):
        return None


async def until(check: Callable[[], Awaitable[bool] | bool], *, timeout: float, what: str) -> float:
    """Wait until `check()` holds; returns the seconds it took. Fails with `what`."""
    started = time.monotonic()
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.02)

"""Leader election on a real PostgreSQL server: one leader at a time, a new term (and a
larger epoch) at each change, demotion the moment the leader's session is lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Protocol

import asyncpg
import pytest

from bridge.queue.postgres.leader import PgLeader
from bridge.queue.postgres.schema import migrate
from bridge.queue.storage import StoreError
from tests.helpers import eventually
from tests.postgres import TEST_PASSWORD, PostgresServer

#: windows shrunk so that every change happens in well under a second
POLL, BEAT, TIMEOUT = 0.05, 0.2, 0.5


class EpochHolder:
    """The store, as far as leadership is concerned: the term it stamps on claims."""

    def __init__(self) -> None:
        self.epoch = 0


class Make(Protocol):
    def __call__(self, name: str, url: str | None = None) -> PgLeader: ...


@pytest.fixture
async def make(postgres_url: str) -> AsyncIterator[Make]:
    conn = await asyncpg.connect(postgres_url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    made: list[PgLeader] = []

    def build(name: str, url: str | None = None) -> PgLeader:
        leader = PgLeader(
            url or postgres_url,
            EpochHolder(),
            replica=name,
            poll_seconds=POLL,
            heartbeat_seconds=BEAT,
            timeout_seconds=TIMEOUT,
        )
        made.append(leader)
        return leader

    yield build
    for leader in made:
        await leader.close()


async def _first(*leaders: PgLeader) -> PgLeader:
    """The one that wins; the others must not."""
    tasks = {asyncio.create_task(leader.acquire()): leader for leader in leaders}
    done, pending = await asyncio.wait(tasks, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    assert done, "no replica became the leader"
    await asyncio.sleep(5 * POLL)  # the others keep polling meanwhile
    for task in pending:
        assert not task.done()
        task.cancel()
    assert [tasks[task] for task in done] == [one for one in leaders if one.leading]
    return tasks[done.pop()]


async def _session_of(url: str, name: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        pid: int = await conn.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
            f"woo-bridge leader {name}",
        )
        return pid
    finally:
        await conn.close()


async def _terminate(url: str, pid: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


async def test_exactly_one_of_two_leads(make: Make) -> None:
    a, b = make("a"), make("b")
    leader = await _first(a, b)
    other = b if leader is a else a
    assert leader.epoch == 1
    assert leader._store.epoch == 1
    assert other._store.epoch == 0
    assert not other.leading
    assert await a.leader_name() == leader.replica == await b.leader_name()
    await eventually(lambda: _count(a, 2))
    replicas = await b.replicas()
    assert [(r.name, r.leader) for r in replicas] == [
        ("a", leader is a),
        ("b", leader is b),
    ]


async def _count(leader: PgLeader, expected: int) -> bool:
    return len(await leader.replicas()) == expected


async def test_a_terminated_session_demotes_at_once_and_the_other_takes_over(
    make: Make, postgres_url: str
) -> None:
    a, b = make("a"), make("b")
    first = await _first(a, b)
    second = b if first is a else a
    waiting = asyncio.create_task(second.acquire())
    pid = await _session_of(postgres_url, first.replica)
    loop = asyncio.get_running_loop()
    killed = loop.time()
    await _terminate(postgres_url, pid)
    async with asyncio.timeout(1):
        await first.lost.wait()
    assert loop.time() - killed < 0.5  # the termination listener, not a heartbeat
    assert not first.leading
    assert first._store.epoch == 0
    async with asyncio.timeout(2):
        assert await waiting == 2
    assert loop.time() - killed < 1.0  # within a few poll intervals
    assert second.leading
    assert second._store.epoch == 2
    assert await second.leader_name() == second.replica
    # The deposed one follows again, on a new session, and leads again once free.
    await second.close()
    async with asyncio.timeout(3):
        assert await first.acquire() == 3
    assert not first.lost.is_set()


async def test_a_leader_whose_session_ended_steps_back_before_competing_again(
    make: Make, postgres_url: str
) -> None:
    a = make("a")
    async with asyncio.timeout(3):
        assert await a.acquire() == 1
    loop = asyncio.get_running_loop()
    killed = loop.time()
    await _terminate(postgres_url, await _session_of(postgres_url, "a"))
    async with asyncio.timeout(3):
        await a.lost.wait()
        assert await a.acquire() == 2
    # Longer than a follower's poll (at most 1.2 of one), so a healthy follower wins.
    assert loop.time() - killed >= 3 * POLL


async def test_closing_the_leader_hands_over_and_forgets_it(make: Make) -> None:
    a, b = make("a"), make("b")
    first = await _first(a, b)
    second = b if first is a else a
    waiting = asyncio.create_task(second.acquire())
    await first.close()
    async with asyncio.timeout(2):
        assert await waiting == 2
    assert [r.name for r in await second.replicas()] == [second.replica]


async def test_a_heartbeat_that_hangs_demotes_the_leader(make: Make, postgres_url: str) -> None:
    a = make("a")
    async with asyncio.timeout(3):
        await a.acquire()
    blocker = await asyncpg.connect(postgres_url)
    try:
        # The next heartbeat waits on this row lock, as on a server that stopped answering.
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("SELECT * FROM replicas WHERE name = 'a' FOR UPDATE")
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with asyncio.timeout(3):
            await a.lost.wait()
        assert loop.time() - started < BEAT + TIMEOUT + 0.5
        assert not a.leading
        await transaction.rollback()
        async with asyncio.timeout(3):
            assert await a.acquire() == 2
    finally:
        await blocker.close()


async def test_leadership_comes_back_after_the_server_restarts(
    make: Make, postgres_server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    a = make("a")
    async with asyncio.timeout(3):
        assert await a.acquire() == 1
    caplog.set_level(logging.INFO)
    postgres_server.stop()
    try:
        async with asyncio.timeout(3):
            await a.lost.wait()
        assert not a.leading
        await asyncio.sleep(0.3)  # a few attempts against no server
    finally:
        postgres_server.start()
    async with asyncio.timeout(10):
        assert await a.acquire() == 2
    text = caplog.text
    assert "no longer leading: disconnected" in text
    assert "cannot reach PostgreSQL for the leadership" in text
    assert text.count("cannot reach PostgreSQL") == 1  # once per outage
    assert TEST_PASSWORD not in text


async def test_a_refused_login_never_leads_and_never_shows_the_password(
    make: Make, postgres_server: PostgresServer, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wrong-Pass-9d8e7f"
    name = postgres_url.rsplit("/", 1)[1]
    a = make("a", postgres_server.url(name, password=wrong))
    a.start()
    await asyncio.sleep(0.5)
    assert not a.leading
    with pytest.raises(StoreError) as raised:
        await a.replicas()
    assert wrong not in str(raised.value)
    assert "InvalidPasswordError" in str(raised.value)
    assert "cannot reach PostgreSQL for the leadership (InvalidPasswordError)" in caplog.text
    assert wrong not in caplog.text

"""What only the PostgreSQL store does: several replicas on one database, the leader's
term on claims, wake-ups through NOTIFY, and a server that goes away and comes back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bridge.queue.models import EventState, IncomingEvent, OutgoingMessage, Routing
from bridge.queue.postgres.store import PgStore
from bridge.queue.storage import StoreError
from bridge.webhook.intake import body_key
from tests.postgres import TEST_PASSWORD, PostgresServer


def event(n: int) -> IncomingEvent:
    body = b'{"id":%d}' % n
    return IncomingEvent("default", "order.created", body, body_key("default", "o", body), 1.0)


async def routed(store: PgStore, chats: list[int]) -> int:
    accepted = await store.accept(event(time.time_ns()))
    messages = tuple(OutgoingMessage(chat_id=c, topic="order.created", text="hi") for c in chats)
    await store.commit_routing(Routing(accepted.event_id, EventState.ROUTED, messages))
    return accepted.event_id


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.02)


@pytest.fixture
async def two(postgres_url: str) -> AsyncIterator[tuple[PgStore, PgStore]]:
    """Two replicas' stores on one database."""
    first = await PgStore.open(postgres_url, pool_size=4)
    second = await PgStore.open(postgres_url, pool_size=4, poll_seconds=0.1)
    yield first, second
    await first.close()
    await second.close()


async def new_term(store: PgStore) -> int:
    """What a new leader does: bump the term in the database and claim under it."""
    async with store._pool.acquire() as conn:
        epoch: int = await conn.fetchval(
            "UPDATE leader SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch"
        )
    store.epoch = epoch
    return epoch


async def test_replicas_accepting_the_same_deliveries_store_each_once(
    two: tuple[PgStore, PgStore], postgres_url: str
) -> None:
    first, second = two
    deliveries = [event(n) for n in range(50)]
    results = await asyncio.gather(
        *(first.accept(e) for e in deliveries), *(second.accept(e) for e in deliveries)
    )
    by_body = {}
    for delivered, accepted in zip(deliveries * 2, results, strict=True):
        by_body.setdefault(delivered.body, set()).add(accepted.event_id)
    assert all(len(ids) == 1 for ids in by_body.values())  # both got the same id
    assert sum(not r.duplicate for r in results) == 50
    conn = await asyncpg.connect(postgres_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM events") == 50
    finally:
        await conn.close()


async def test_a_notification_wakes_the_other_replica(postgres_url: str) -> None:
    first = await PgStore.open(postgres_url, pool_size=2)
    # A poll far slower than the test: only the notification can wake it.
    second = await PgStore.open(postgres_url, pool_size=2, poll_seconds=60)
    try:
        await asyncio.sleep(0.3)  # the listener is up and the first poll has run
        second.events_waiting.clear()
        await first.accept(event(1))
        await asyncio.wait_for(second.events_waiting.wait(), 2)
    finally:
        await first.close()
        await second.close()


async def test_a_notification_lost_while_disconnected_is_found_by_the_poll(
    two: tuple[PgStore, PgStore], postgres_url: str
) -> None:
    first, second = two
    await asyncio.sleep(0.3)
    admin = await asyncpg.connect(postgres_url)
    try:
        # Every listener is cut off: the NOTIFY of the next event reaches no one.
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
        )
        second.events_waiting.clear()
        await first.accept(event(2))
        await asyncio.wait_for(second.events_waiting.wait(), 3)
        # And the listener comes back.
        await eventually(
            lambda: admin.fetchval(
                "SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE 'LISTEN%'"
            )
        )
    finally:
        await admin.close()


async def test_a_deposed_leader_claims_nothing(two: tuple[PgStore, PgStore]) -> None:
    old, new = two
    await new_term(old)
    await routed(old, [1, 2])
    [first] = await old.claim(time.time(), limit=1)
    assert first.chat_id == 1
    await new_term(new)  # another replica leads now
    assert await old.claim(time.time(), limit=10) == []
    # The new leader requeues what the old term left in flight, and takes it.
    assert await new.recover_in_flight() == 1
    claimed = await new.claim(time.time(), limit=10)
    assert [(m.id, m.attempts) for m in claimed] == [(first.id, 2), (first.id + 1, 1)]


async def test_recovery_requeues_only_earlier_terms(two: tuple[PgStore, PgStore]) -> None:
    leader, _ = two
    await new_term(leader)
    await routed(leader, [1, 2])
    [earlier] = await leader.claim(time.time(), limit=1)
    await new_term(leader)
    [current] = await leader.claim(time.time(), limit=1)
    assert (earlier.chat_id, current.chat_id) == (1, 2)
    # The current term's own send is in flight for real: it stays so.
    assert await leader.recover_in_flight() == 1
    stats = await leader.stats()
    assert (stats.pending, stats.sending) == (1, 1)


async def test_two_claimers_never_have_one_chat_in_flight_twice(
    two: tuple[PgStore, PgStore],
) -> None:
    first, second = two
    for _ in range(5):
        await routed(first, [1, 2, 3])
    # Both claim at once under the same term (as two leaders would by mistake).
    claims = await asyncio.gather(
        *(store.claim(time.time(), limit=10) for store in (first, second, first, second))
    )
    chats = [m.chat_id for claim in claims for m in claim]
    assert sorted(chats) == [1, 2, 3]
    # Each chat's head, in order: the first three messages.
    assert sorted(m.id for claim in claims for m in claim) == [1, 2, 3]


async def test_the_database_refuses_a_second_message_in_flight_for_a_chat(
    two: tuple[PgStore, PgStore], postgres_url: str
) -> None:
    first, _ = two
    await routed(first, [1])
    await routed(first, [1])
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute("UPDATE messages SET status = 'sending' WHERE id = 1")
        with pytest.raises(asyncpg.UniqueViolationError, match="one_sending_per_chat"):
            await conn.execute("UPDATE messages SET status = 'sending' WHERE id = 2")
    finally:
        await conn.close()


async def test_a_wrong_password_is_refused_without_showing_it(
    postgres_server: PostgresServer,
) -> None:
    name = postgres_server.create_database()
    try:
        wrong = "Not-The-Password-91c2"
        with pytest.raises(StoreError) as refused:
            await PgStore.open(postgres_server.url(name, password=wrong))
        assert "password authentication failed" in str(refused.value)
        assert wrong not in str(refused.value)
        assert TEST_PASSWORD not in str(refused.value)
    finally:
        postgres_server.drop_database(name)


async def test_a_server_that_goes_away_is_an_outage_until_it_comes_back(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    store = await PgStore.open(postgres_url, pool_size=2, poll_seconds=0.1)
    try:
        await store.accept(event(1))
        postgres_server.stop()
        try:
            with pytest.raises(StoreError) as down:
                await store.accept(event(2))
            assert down.value.outage is True
            assert TEST_PASSWORD not in str(down.value)
            started = time.monotonic()
            with pytest.raises(StoreError):
                await store.ping()
            assert time.monotonic() - started < 5
        finally:
            postgres_server.start()
        # The pool reconnects by itself: the next delivery is stored, the queue works.
        assert (await store.accept(event(2))).duplicate is False
        await store.ping()
    finally:
        await store.close()
    reopened = await PgStore.open(postgres_url, pool_size=2)
    try:
        await reopened.ping()
        assert [e.body for e in await reopened.new_events()] == [b'{"id":1}', b'{"id":2}']
    finally:
        await reopened.close()


async def test_a_row_refused_in_a_batch_fails_only_its_own_webhook(
    two: tuple[PgStore, PgStore],
) -> None:
    store, _ = two
    bad = IncomingEvent("nul\x00store", "order.created", b"{}", "bad-key", 1.0)
    results = await asyncio.gather(
        store.accept(event(1)), store.accept(bad), store.accept(event(2)), return_exceptions=True
    )
    assert isinstance(results[1], StoreError)
    assert results[1].outage is False
    assert [r.duplicate for r in (results[0], results[2])] == [False, False]  # type: ignore[union-attr]
    assert len(await store.new_events()) == 2


class FreezableProxy:
    """A TCP proxy on loopback that can stop forwarding while keeping its sockets open:
    a server that neither answers nor refuses, as behind a cut network."""

    def __init__(self, port: int) -> None:
        self._port = port
        self.frozen = asyncio.Event()
        self.thawed = asyncio.Event()
        self.thawed.set()
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def freeze(self) -> None:
        self.thawed.clear()

    def thaw(self) -> None:
        self.thawed.set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    await self.thawed.wait()
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()


async def test_readiness_fails_quickly_when_the_server_stops_answering(
    postgres_url: str,
) -> None:
    parts = urlsplit(postgres_url)
    proxy = FreezableProxy(parts.port or 5432)
    port = await proxy.start()
    via_proxy = urlunsplit(parts._replace(netloc=f"{parts.netloc.rsplit(':', 1)[0]}:{port}"))
    store = await PgStore.open(via_proxy, pool_size=2)
    try:
        await store.ping()
        proxy.freeze()
        started = time.monotonic()
        with pytest.raises(StoreError) as failed:
            await store.ping()
        assert time.monotonic() - started < 4
        assert failed.value.outage is True
        assert "did not answer in time" in str(failed.value)
        proxy.thaw()
        await eventually(lambda: _pings(store))
    finally:
        proxy.thaw()
        await store.close()
        await proxy.close()


async def test_closing_does_not_wait_for_a_server_that_stopped_answering(
    postgres_url: str,
) -> None:
    parts = urlsplit(postgres_url)
    proxy = FreezableProxy(parts.port or 5432)
    port = await proxy.start()
    via_proxy = urlunsplit(parts._replace(netloc=f"{parts.netloc.rsplit(':', 1)[0]}:{port}"))
    store = await PgStore.open(via_proxy, pool_size=2)
    try:
        proxy.freeze()
        with pytest.raises(StoreError):
            await store.ping()  # its query is left waiting, holding a connection
        started = time.monotonic()
        await store.close()
        assert time.monotonic() - started < 8
    finally:
        proxy.thaw()
        await proxy.close()


async def _pings(store: PgStore) -> bool:
    try:
        await store.ping()
    except StoreError:
        return False
    return True


async def test_checks_at_once_all_pass(two: tuple[PgStore, PgStore]) -> None:
    store, _ = two
    await asyncio.gather(*(store.ping() for _ in range(5)))

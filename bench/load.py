"""A lean HTTP load generator: distinct, correctly signed WooCommerce deliveries.

Requests are built and signed before the clock starts, and sent over a minimal asyncio
protocol rather than a full HTTP client, so that the generator costs as little CPU as
possible next to the servers it measures.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import HOST, REPO, SECRET
from bridge.webhook.signature import sign

ORDER = REPO / "tests" / "fixtures" / "payloads" / "order.wire.json"
FIRST_NUMBER = 100_000


def order_bodies(count: int, start: int = FIRST_NUMBER, sample: Path = ORDER) -> list[bytes]:
    """`count` different order payloads, numbered from `start`, compact as PHP writes them."""
    order = json.loads(sample.read_bytes())
    bodies = []
    for number in range(start, start + count):
        order["id"] = number
        order["number"] = str(number)
        bodies.append(json.dumps(order, separators=(",", ":")).encode())
    return bodies


def deliveries(
    bodies: Sequence[bytes],
    *,
    topic: str = "order.created",
    keep_alive: bool = False,
    secret: str = SECRET,
) -> list[bytes]:
    """Raw HTTP requests, each as WooCommerce sends it (`Connection: close` by default)."""
    resource, _, event = topic.partition(".")
    connection = "keep-alive" if keep_alive else "close"
    requests = []
    for body in bodies:
        head = (
            f"POST /webhook HTTP/1.1\r\n"
            f"Host: {HOST}\r\n"
            f"User-Agent: WooCommerce/9.8.1 Hookshot (WordPress/6.8)\r\n"
            f"Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"Connection: {connection}\r\n"
            f"X-WC-Webhook-Source: https://shop.example.com/\r\n"
            f"X-WC-Webhook-Topic: {topic}\r\n"
            f"X-WC-Webhook-Resource: {resource}\r\n"
            f"X-WC-Webhook-Event: {event}\r\n"
            f"X-WC-Webhook-Signature: {sign(body, secret)}\r\n"
            f"X-WC-Webhook-ID: 12\r\n"
            f"X-WC-Webhook-Delivery-ID: 2f5e7c0c6a7b4f7b9b3b5a1e0c9d8e7f\r\n"
            f"\r\n"
        )
        requests.append(head.encode() + body)
    return requests


class _Exchange(asyncio.Protocol):
    """One connection: send a request, resolve with the response's status code."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[int] | None = None
        self._lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0 or self._waiter is None or self._waiter.done():
            return
        length = 0
        for line in bytes(self._buffer[:end]).split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if len(self._buffer) >= end + 4 + length:
            status = int(self._buffer[9:12])
            del self._buffer[: end + 4 + length]
            self._waiter.set_result(status)

    @property
    def usable(self) -> bool:
        """Whether the connection is still open at this end (the server has not closed it)."""
        return not self._lost and self.transport is not None and not self.transport.is_closing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc or ConnectionError("closed before the response"))

    async def send(self, request: bytes) -> int:
        assert self.transport is not None
        # A server over its connection limit closes a new connection at once: without
        # this, the request would wait for an answer forever.
        if self._lost or self.transport.is_closing():
            raise ConnectionError("closed by the server before the request")
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self._waiter


@dataclass
class Results:
    """What one load run measured."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    elapsed: float = 0.0
    #: wall-clock time the run started; request i of an open loop was due i/rate later
    wall_started: float = 0.0

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def extend(self, other: Results) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.elapsed += other.elapsed
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n


class Client:
    """Sends prepared requests to one port, reusing connections when they are kept alive."""

    def __init__(self, port: int, keep_alive: bool) -> None:
        self._port = port
        self._keep_alive = keep_alive
        self._idle: list[_Exchange] = []

    async def send(self, request: bytes) -> int:
        exchange = self._reusable() or await self._connect()
        try:
            status = await exchange.send(request)
        except BaseException:
            assert exchange.transport is not None
            exchange.transport.close()
            raise
        assert exchange.transport is not None
        if self._keep_alive and not exchange.transport.is_closing():
            self._idle.append(exchange)
        else:
            exchange.transport.close()
        return status

    def _reusable(self) -> _Exchange | None:
        """An idle connection still open. A server closes those idle for longer than its
        keep-alive timeout (the bridge's is BRIDGE_HEADER_TIMEOUT_SECONDS, 10 s): after a
        spike the pool keeps more connections than the steady rate uses, and sending on one
        already closed would count as the server's error; a pooling client drops them."""
        while self._idle:
            exchange = self._idle.pop()
            if exchange.usable:
                return exchange
            if exchange.transport is not None:
                exchange.transport.close()
        return None

    async def _connect(self) -> _Exchange:
        loop = asyncio.get_running_loop()
        _, exchange = await loop.create_connection(_Exchange, HOST, self._port)
        return exchange

    def close(self) -> None:
        for exchange in self._idle:
            if exchange.transport is not None:
                exchange.transport.close()
        self._idle.clear()


async def _one(client: Client, request: bytes, scheduled: float, results: Results) -> None:
    # Latency counts from when the request was due, not when it went out, so that a
    # slow server cannot hide its queueing by delaying the generator.
    try:
        status = await client.send(request)
    except OSError:
        results.errors += 1
        return
    results.latencies.append(time.perf_counter() - scheduled)
    results.statuses[status] = results.statuses.get(status, 0) + 1


async def closed_loop(
    port: int, requests: Sequence[bytes], concurrency: int, keep_alive: bool
) -> Results:
    """As fast as the server answers, with `concurrency` requests outstanding."""
    results = Results()
    client = Client(port, keep_alive)
    queue = iter(requests)

    async def worker() -> None:
        for request in queue:
            await _one(client, request, time.perf_counter(), results)

    results.wall_started, started = time.time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    results.elapsed = time.perf_counter() - started
    client.close()
    return results


async def open_loop(port: int, requests: Sequence[bytes], rate: float, keep_alive: bool) -> Results:
    """`rate` requests per second on a fixed schedule, whatever the server's speed."""
    results = Results()
    client = Client(port, keep_alive)
    tasks = []
    results.wall_started, started = time.time(), time.perf_counter()
    for index, request in enumerate(requests):
        due = started + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_one(client, request, due, results)))
    await asyncio.gather(*tasks)
    results.elapsed = time.perf_counter() - started
    client.close()
    return results

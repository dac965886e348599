"""A loopback relay in front of PostgreSQL that counts the client's round trips.

It reads the frontend side of the wire protocol: after the start-up (an SSLRequest, a
StartupMessage), every message is a type byte and a length. A round trip ends with Sync
('S', the extended protocol: a prepared statement's Bind/Execute) or is one Query ('Q',
the simple protocol: BEGIN, COMMIT, asyncpg's reset). The bytes pass through untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass

from tests.proxies import pipe

_SSL_REQUEST = 80877103
_GSS_REQUEST = 80877104
_CANCEL = 80877102


@dataclass
class Counter:
    """Where the relay listens, and the round trips it saw."""

    port: int
    round_trips: int = 0


class _Frontend:
    """Splits the client's stream into messages and counts the round trips."""

    def __init__(self, counter: Counter) -> None:
        self._counter = counter
        self._buffer = b""
        self._started = False

    def feed(self, data: bytes) -> None:
        self._buffer += data
        while True:
            if not self._started:
                if len(self._buffer) < 8:
                    return
                (length, code) = struct.unpack("!ii", self._buffer[:8])
                if len(self._buffer) < length:
                    return
                self._buffer = self._buffer[length:]
                # Anything but a request for SSL or GSS encryption starts the session.
                self._started = code not in (_SSL_REQUEST, _GSS_REQUEST, _CANCEL)
                continue
            if len(self._buffer) < 5:
                return
            kind = self._buffer[:1]
            (length,) = struct.unpack("!i", self._buffer[1:5])
            if len(self._buffer) < 1 + length:
                return
            self._buffer = self._buffer[1 + length :]
            if kind in (b"S", b"Q"):
                self._counter.round_trips += 1


@contextlib.asynccontextmanager
async def counting_relay(host: str, port: int) -> AsyncIterator[Counter]:
    """A relay to PostgreSQL at host:port on a free loopback port."""
    tasks: set[asyncio.Task[None]] = set()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.close()
            return
        for task in (
            asyncio.create_task(pipe(reader, up_writer, _Frontend(counter).feed)),
            asyncio.create_task(pipe(up_reader, writer)),
        ):
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    counter = Counter(server.sockets[0].getsockname()[1])
    try:
        yield counter
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

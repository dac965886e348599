"""The listening socket: a bounded number of connections, within the file-descriptor limit.

Each open connection holds a file descriptor. Without a bound, a few hundred idle or
slow clients exhaust the process's limit, and then the real deliveries cannot be
accepted (`socket.accept() out of system resource`). Beyond BRIDGE_MAX_CONNECTIONS open
connections, a new one is closed as soon as it is accepted; the header timeout
(bridge.guard) frees the slots of clients that send nothing.
"""

from __future__ import annotations

import asyncio
import logging
import resource

from aiohttp import web

from bridge.refusals import RefusalLog

log = logging.getLogger(__name__)

#: descriptors the bridge needs besides its connections: the database, its journal,
#: the connections to Telegram, the listening sockets, logs
SPARE_DESCRIPTORS = 64


#: aiohttp's listen backlog when none is given
_AIOHTTP_BACKLOG = 128


class _Refused(asyncio.Protocol):
    """A connection beyond the bound: closed at once, nothing read."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


class _Counted(asyncio.Protocol):
    """aiohttp's protocol for one connection, telling the bound when it closes."""

    def __init__(self, inner: asyncio.Protocol, bound: _Bounded) -> None:
        self._inner = inner
        self._bound = bound

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._bound.open -= 1
        self._inner.connection_lost(exc)


class _Bounded:
    """aiohttp's protocol factory, behind a count of the connections it serves.

    Counted here rather than from aiohttp's list of connections, which lags behind a
    burst of accepts (a protocol is made for each before any of them is registered).
    """

    def __init__(self, server: web.Server, limit: int, refusals: RefusalLog) -> None:
        self._server = server
        self._limit = limit
        self._refusals = refusals
        self.open = 0

    def __call__(self) -> asyncio.BaseProtocol:
        if self.open >= self._limit:
            self._refusals.warning(
                "connections",
                "closed a new connection: %d are open, BRIDGE_MAX_CONNECTIONS is %d",
                self.open,
                self._limit,
            )
            return _Refused()
        self.open += 1
        return _Counted(self._server(), self)


class BoundedSite(web.TCPSite):
    """web.TCPSite whose connections beyond `limit` are closed as soon as accepted."""

    def __init__(
        self, runner: web.BaseRunner, host: str, port: int, limit: int, refusals: RefusalLog
    ) -> None:
        # A listen backlog as large as the bound, and never below aiohttp's 128: during a
        # short stall, new connections wait in the kernel's queue instead of having their
        # SYN dropped, which a client retries only after a second (seen at 500/s). A small
        # bound must not shrink the queue: connections beyond it are accepted and closed
        # at once, which only a queue big enough to accept them can do.
        super().__init__(runner, host, port, backlog=max(limit, _AIOHTTP_BACKLOG))
        self._limit = limit
        self._refusals = refusals

    async def start(self) -> None:
        # TCPSite.start, with the protocol factory behind the bound.
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            _Bounded(server, self._limit, self._refusals),
            self._host,
            self._port,
            backlog=self._backlog,
        )
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port


def ensure_descriptors(connections: int) -> None:
    """Raise the soft limit of open files up to the hard one if the bound needs it;
    warn when even the hard limit is too low."""
    needed = connections + SPARE_DESCRIPTORS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < needed:
        log.warning(
            "the open-file limit is %d, too low for BRIDGE_MAX_CONNECTIONS=%d (needs %d): "
            "raise it (docker run --ulimit nofile=%d:%d, or ulimits in compose) or lower "
            "BRIDGE_MAX_CONNECTIONS",
            soft,
            connections,
            needed,
            needed,
            needed,
        )

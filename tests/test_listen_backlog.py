"""The listener's backlog: new connections wait in the kernel's queue while the event
loop is busy, up to BRIDGE_MAX_CONNECTIONS, instead of having their SYN dropped."""

from __future__ import annotations

import errno
import logging
import select
import socket
import time

from aiohttp import web

from bridge.listen import BoundedSite
from bridge.refusals import RefusalLog

HOST = "127.0.0.1"


def connected_while_stalled(port: int, count: int) -> int:
    """Open `count` connections while the event loop is blocked (this call blocks it);
    how many the kernel completes without the server accepting any."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.setblocking(False)
            assert s.connect_ex((HOST, port)) in (0, errno.EINPROGRESS)
            sockets.append(s)
        time.sleep(0.3)  # the handshakes the kernel completes on its own take microseconds
        _, writable, _ = select.select([], sockets, [], 0)
        return sum(1 for s in writable if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)
    finally:
        for s in sockets:
            s.close()


async def test_connections_wait_in_the_backlog_during_a_stall() -> None:
    runner = web.AppRunner(web.Application(), handle_signals=False)
    await runner.setup()
    site = BoundedSite(runner, HOST, 0, 400, RefusalLog(logging.getLogger("test"), 60))
    await site.start()
    try:
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        # aiohttp's default backlog (128) would leave the rest with their SYN dropped,
        # retried by the client only after a second.
        assert connected_while_stalled(port, 300) == 300
    finally:
        await runner.cleanup()

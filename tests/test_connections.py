"""Bad clients against the real `python -m bridge serve` process, over real sockets:
a gzip bomb (peak memory read from /proc), slow headers, slow bodies, too many
connections. The timeouts are shrunk through the settings."""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path

import aiohttp

from tests import test_process
from tests.fakes.deliveries import delivery_headers
from tests.helpers import SECRET, numbered_order
from tests.test_process import BridgeProcess, post

HOST = "127.0.0.1"
# The real process and an HTTP session, as in test_process.
bridge_process = test_process.bridge_process
http = test_process.http


@cache
def gzip_bomb(mebibytes: int) -> bytes:
    """`mebibytes` MiB of spaces, gzipped: about 1 KB per MiB on the wire."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * (1 << 20)
    return b"".join(compressor.compress(chunk) for _ in range(mebibytes)) + compressor.flush()


def peak_rss_mib(process: BridgeProcess) -> float:
    """The process's peak resident memory so far (VmHWM)."""
    assert process.process is not None
    for line in Path(f"/proc/{process.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


async def test_a_gzip_bomb_is_refused_unread_and_costs_no_memory(
    bridge_process: Callable[..., BridgeProcess], http: aiohttp.ClientSession
) -> None:
    bridge = bridge_process()
    await bridge.start()
    assert await post(http, bridge.url, numbered_order(1)) == 200
    before = peak_rss_mib(bridge)
    bomb = gzip_bomb(64)  # 64 KB that inflate to 64 MiB
    headers = {**delivery_headers("order.created", bomb, SECRET), "Content-Encoding": "gzip"}

    async def send() -> int:
        async with http.post(f"{bridge.url}/webhook", data=bomb, headers=headers) as response:
            return response.status

    statuses = await asyncio.gather(*(send() for _ in range(20)))
    assert statuses == [415] * 20
    # Inflating them (as aiohttp does by default) took the peak up by about 170 MiB.
    assert peak_rss_mib(bridge) - before < 30
    assert await post(http, bridge.url, numbered_order(2)) == 200


async def trickle(writer: asyncio.StreamWriter, head: bytes, piece: bytes) -> None:
    """Send `head`, then `piece` every 0.1 s until the server closes the connection."""
    with contextlib.suppress(ConnectionError):
        writer.write(head)
        while True:
            await writer.drain()
            await asyncio.sleep(0.1)
            writer.write(piece)


async def closed_after(head: bytes, piece: bytes, port: int, limit: float) -> tuple[float, bytes]:
    """Seconds until the server closed a trickling connection, and what it answered."""
    reader, writer = await asyncio.open_connection(HOST, port)
    started = time.monotonic()
    sending = asyncio.create_task(trickle(writer, head, piece))
    try:
        async with asyncio.timeout(limit):
            answer = await reader.read()
    except ConnectionError:
        answer = b""
    finally:
        sending.cancel()
        writer.close()
    return time.monotonic() - started, answer


async def test_slow_headers_and_bodies_are_cut_off(
    bridge_process: Callable[..., BridgeProcess], http: aiohttp.ClientSession
) -> None:
    bridge = bridge_process(BRIDGE_HEADER_TIMEOUT_SECONDS="0.5", BRIDGE_BODY_TIMEOUT_SECONDS="0.5")
    await bridge.start()
    port = int(bridge.env["BRIDGE_PORT"])
    headers_phase = b"POST /webhook HTTP/1.1\r\nHost: b\r\n"
    elapsed, _ = await closed_after(headers_phase, b"X-Slow: 1\r\n", port, limit=5)
    assert elapsed < 2
    body_phase = b"POST /webhook HTTP/1.1\r\nHost: b\r\nContent-Length: 5000\r\n\r\n{"
    elapsed, answer = await closed_after(body_phase, b" ", port, limit=5)
    assert elapsed < 3
    assert answer.startswith(b"HTTP/1.1 408")
    assert await post(http, bridge.url, numbered_order(1)) == 200


async def test_connections_beyond_the_bound_are_closed_at_once(
    bridge_process: Callable[..., BridgeProcess], http: aiohttp.ClientSession
) -> None:
    bridge = bridge_process(BRIDGE_MAX_CONNECTIONS="20", BRIDGE_HEADER_TIMEOUT_SECONDS="1")
    await bridge.start()
    port = int(bridge.env["BRIDGE_PORT"])
    head, piece = b"POST /webhook HTTP/1.1\r\n", b"X-Slow: 1\r\n"
    results = await asyncio.gather(*(closed_after(head, piece, port, limit=5) for _ in range(60)))
    times = sorted(elapsed for elapsed, _ in results)
    # 20 held until the header timeout; the other 40 closed as soon as they were accepted.
    assert times[39] < 0.5, f"{sum(t < 0.5 for t in times)} {times[-25:]}"
    assert times[-1] < 3, times
    # Once the slow ones are gone, deliveries are served again.
    assert await post(http, bridge.url, numbered_order(1)) == 200

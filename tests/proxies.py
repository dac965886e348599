"""Small forward proxies for the tests, on loopback only: HTTP (CONNECT) and SOCKS5.

Each relays bytes to the target it is asked for, after checking the credentials it was
given, and records the Bot API methods it saw pass (the stand-in Telegram speaks plain
HTTP, so they show in the stream), so a test can prove what went through it. The HTTP
proxy tunnels with CONNECT (how clients reach https:// targets) and forwards absolute-form
requests (how they reach http:// ones).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import re
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field


@dataclass
class Proxy:
    """A running proxy: where it listens and what it relayed."""

    port: int
    user: str
    password: str
    #: "host:port" of every connection opened upstream
    tunnels: list[str] = field(default_factory=list)
    #: Bot API methods seen in requests that went through
    methods: set[str] = field(default_factory=set)
    #: requests refused for wrong or missing credentials
    refused: int = 0

    def url(self, scheme: str) -> str:
        return f"{scheme}://{self.user}:{self.password}@127.0.0.1:{self.port}"


_METHOD = re.compile(rb"(?:GET|POST) \S*/bot[^/\s]+/(\w+)")


async def pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    observe: Callable[[bytes], None] | None = None,
) -> None:
    """Copy bytes from `reader` to `writer` until either end closes, showing each chunk to
    `observe` first."""
    try:
        while data := await reader.read(65536):
            if observe is not None:
                observe(data)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _relay(
    proxy: Proxy,
    client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    def seen(data: bytes) -> None:
        proxy.methods.update(m.decode() for m in _METHOD.findall(data))

    await asyncio.gather(pipe(client[0], upstream[1], seen), pipe(upstream[0], client[1]))


async def _connect_handler(
    proxy: Proxy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """HTTP CONNECT with Basic proxy authentication."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        expected = base64.b64encode(f"{proxy.user}:{proxy.password}".encode()).decode()
        if headers.get("Proxy-Authorization") != f"Basic {expected}":
            proxy.refused += 1
            writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            upstream = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
        else:
            # Forwarding: the request names its target, http://host:port/path.
            host, _, port = target.split("/")[2].partition(":")
            upstream = await asyncio.open_connection(host, int(port or 80))
            proxy.methods.update(m.decode() for m in _METHOD.findall(head))
            upstream[1].write(head)
        proxy.tunnels.append(f"{host}:{port}")
        await _relay(proxy, (reader, writer), upstream)
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        writer.close()


async def _socks5_handler(
    proxy: Proxy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """SOCKS5 (RFC 1928) CONNECT with user/password authentication (RFC 1929)."""
    try:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        if version != 5 or 2 not in methods:
            writer.write(b"\x05\xff")
            proxy.refused += 1
            writer.close()
            return
        writer.write(b"\x05\x02")
        _, ulen = await reader.readexactly(2)
        user = (await reader.readexactly(ulen)).decode()
        (plen,) = await reader.readexactly(1)
        password = (await reader.readexactly(plen)).decode()
        if (user, password) != (proxy.user, proxy.password):
            proxy.refused += 1
            writer.write(b"\x01\x01")
            writer.close()
            return
        writer.write(b"\x01\x00")
        _, command, _, kind = await reader.readexactly(4)
        if kind == 1:
            host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif kind == 3:
            (length,) = await reader.readexactly(1)
            host = (await reader.readexactly(length)).decode()
        else:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        if command != 1:
            writer.write(b"\x05\x07\x00\x01" + bytes(6))
            writer.close()
            return
        upstream = await asyncio.open_connection(host, port)
        proxy.tunnels.append(f"{host}:{port}")
        writer.write(b"\x05\x00\x00\x01" + bytes(4) + struct.pack("!H", 0))
        await writer.drain()
        await _relay(proxy, (reader, writer), upstream)
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        writer.close()


@contextlib.asynccontextmanager
async def running_proxy(kind: str, user: str, password: str) -> AsyncIterator[Proxy]:
    """Serve a `connect` or `socks5` proxy on a free loopback port while in the block."""
    proxy = Proxy(0, user, password)
    handler = _connect_handler if kind == "connect" else _socks5_handler
    server = await asyncio.start_server(lambda r, w: handler(proxy, r, w), host="127.0.0.1", port=0)
    proxy.port = server.sockets[0].getsockname()[1]
    try:
        yield proxy
    finally:
        server.close()
        # Tunnels left open by keep-alive clients end with the test's event loop.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 1)

"""The honest limit for ingest: the least a receiver that keeps every delivery must do.

python -m bench.durable --port 8083 --database events.sqlite3 --secret SECRET

An aiohttp app that checks the HMAC over the raw body, inserts the raw bytes into a
SQLite file in WAL mode at synchronous=FULL, and answers 200 once they are committed;
nothing else. One thread does every write, in group commits: whatever arrived while the
previous commit was on disk goes into the next one, with one fsync for all of them.
WooCommerce delivers each event once, so any receiver that keeps it must do this much.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import queue
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

_SIGNATURE = "X-WC-Webhook-Signature"
_Waiter = tuple[bytes, asyncio.Future[None]]


class Writer:
    """One thread that commits what is queued, in batches, and wakes the waiters."""

    def __init__(self, path: Path, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: queue.SimpleQueue[_Waiter | None] = queue.SimpleQueue()
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, body BLOB)")
        self._thread = threading.Thread(target=self._run, name="writer", daemon=True)
        self._thread.start()

    async def store(self, body: bytes) -> None:
        future = self._loop.create_future()
        self._queue.put((body, future))
        await future

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._conn.close()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany("INSERT INTO events (body) VALUES (?)", [(b,) for b, _ in batch])
            self._conn.execute("COMMIT")
            # One wake-up of the event loop per commit, not per delivery.
            self._loop.call_soon_threadsafe(_resolve, [f for _, f in batch])


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():
            future.set_result(None)


def build(path: Path, secret: str) -> web.Application:
    key = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    writer: list[Writer] = []

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        mac = key.copy()
        mac.update(body)
        expected = base64.b64encode(mac.digest())
        given = request.headers.get(_SIGNATURE, "").encode("ascii", "replace")
        if not hmac.compare_digest(expected, given):
            return web.Response(status=401, text="bad signature")
        await writer[0].store(body)
        return web.Response(text="ok")

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        writer.append(Writer(path, asyncio.get_running_loop()))
        yield
        writer[0].stop()

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/webhook", receive)
    app.router.add_get("/healthz", healthz)
    app.cleanup_ctx.append(lifecycle)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    app = build(args.database, args.secret)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()

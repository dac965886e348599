"""Scrapes during a burst: does /metrics slow the acknowledgement of webhooks?

    python -m bench.scrape [--queued 10000] [--requests 2000] [--rate 200] [--scrapers 8]

The bridge (`woo-bridge serve`, one group chat, paced at Telegram's 20 messages a
minute, so messages pile up) first takes `--queued` orders, which stay queued. Then it
takes a burst of `--requests` deliveries at `--rate`, twice: once alone, once while
`--scrapers` clients fetch /metrics back to back. The figures are the burst's
acknowledgement latency in both runs and how long a scrape took.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import time
from pathlib import Path

from bench.common import (
    CHAT_ID,
    HOST,
    bridge_settings,
    free_port,
    header,
    percentile,
    start_bridge,
    telegram_server,
    workdir,
)
from bench.load import Results, closed_loop, deliveries, open_loop, order_bodies


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def queued_messages(database: Path) -> int:
    conn = sqlite3.connect(database)
    try:
        count: int = conn.execute(
            "SELECT COUNT(*) FROM messages WHERE status = 'pending'"
        ).fetchone()[0]
        return count
    finally:
        conn.close()


async def scrape_once(port: int) -> float:
    """One GET /metrics on a new connection; returns how long it took."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(f"GET /metrics HTTP/1.0\r\nHost: {HOST}\r\n\r\n".encode())
    await reader.read()
    writer.close()
    return time.perf_counter() - started


async def scrapers(port: int, count: int, stop: asyncio.Event) -> list[float]:
    times: list[float] = []

    async def one() -> None:
        while not stop.is_set():
            times.append(await scrape_once(port))

    await asyncio.gather(*(one() for _ in range(count)))
    return times


async def burst(
    port: int, metrics_port: int, requests: list[bytes], rate: float, count: int
) -> tuple[Results, list[float]]:
    stop = asyncio.Event()
    scraping = asyncio.create_task(scrapers(metrics_port, count, stop)) if count else None
    results = await open_loop(port, requests, rate, keep_alive=False)
    stop.set()
    times = await scraping if scraping is not None else []
    return results, times


async def measure(
    args: argparse.Namespace, port: int, metrics_port: int, database: Path
) -> dict[str, tuple[Results, list[float]]]:
    bodies = order_bodies(args.queued + 2 * args.requests)
    requests = deliveries(bodies)
    await closed_loop(port, requests[: args.queued], 32, keep_alive=False)
    deadline = time.monotonic() + 600
    # The bridge routes in its own process: watch its database.
    while queued_messages(database) < args.queued * 0.95:
        if time.monotonic() > deadline:
            raise RuntimeError("the bridge did not route the queued orders in time")
        await asyncio.sleep(0.5)
    runs = {}
    rest = requests[args.queued :]
    runs["alone"] = await burst(port, metrics_port, rest[: args.requests], args.rate, 0)
    runs[f"{args.scrapers} scrapers"] = await burst(
        port, metrics_port, rest[args.requests :], args.rate, args.scrapers
    )
    return runs


def report(
    args: argparse.Namespace, runs: dict[str, tuple[Results, list[float]]], queued: int
) -> None:
    header("Scrapes during a burst")
    print(
        f"{queued} messages queued; a burst of {args.requests} deliveries at {args.rate:g}/s, "
        f"a new connection each; /metrics on "
        f"{'its own port' if args.metrics_port else 'the webhook port'}.\n"
    )
    print("| figure | " + " | ".join(runs) + " |")
    print("| --- |" + " --- |" * len(runs))
    for q in (50, 99):
        row = " | ".join(ms(percentile(r.latencies, q)) for r, _ in runs.values())
        print(f"| webhook p{q} ms | {row} |")
    row = " | ".join(str(dict(r.statuses)) for r, _ in runs.values())
    print(f"| answers (status: count) | {row} |")
    for q in (50, 99):
        row = " | ".join(ms(percentile(t, q)) if t else "-" for _, t in runs.values())
        print(f"| scrape p{q} ms | {row} |")
    row = " | ".join(str(len(t)) for _, t in runs.values())
    print(f"| scrapes | {row} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queued", type=int, default=10_000, help="messages queued first")
    parser.add_argument("--requests", type=int, default=2000, help="deliveries per burst")
    parser.add_argument("--rate", type=float, default=200.0, help="deliveries/s of a burst")
    parser.add_argument("--scrapers", type=int, default=8)
    parser.add_argument(
        "--metrics-port", action="store_true", help="serve /metrics on BRIDGE_METRICS_PORT"
    )
    args = parser.parse_args()

    with workdir() as work, telegram_server(work) as telegram:
        port = free_port()
        metrics_port = free_port() if args.metrics_port else port
        extra = {"bridge_metrics_port": metrics_port} if args.metrics_port else {}
        env = bridge_settings(work, port, telegram, telegram_chat_id=CHAT_ID, **extra)
        bridge = start_bridge(work, env)
        database = work / "data" / "bridge.sqlite3"
        try:
            runs = asyncio.run(measure(args, port, metrics_port, database))
            queued = queued_messages(database)
        finally:
            bridge.stop()
    report(args, runs, queued)
    return 0


if __name__ == "__main__":
    sys.exit(main())

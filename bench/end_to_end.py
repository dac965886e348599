"""End to end: from a webhook posted to the stand-in Telegram receiving its message.

    python -m bench.end_to_end [--events 2000] [--rate 50] [--postgres | --database-url URL]

The bridge (`woo-bridge serve`) and the stand-in Telegram run in processes of their
own, with no flood limits on either side. Deliveries go out on a fixed schedule;
each one's latency runs from when it was due to when the stand-in accepted the
message carrying its order number (both clocks are this machine's wall clock).
With `--postgres` (or `--database-url`) the bridge keeps its data in PostgreSQL.
The stages are read from the rows afterwards: from receipt to routed (a message's
`created_at`) and from routed to sent (its `sent_at`, once Telegram answered), beside
the time the webhook took to be answered.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from pathlib import Path

import asyncpg

from bench.common import (
    CHAT_ID,
    UNTHROTTLED,
    bridge_settings,
    free_port,
    header,
    percentile,
    profiled,
    start_bridge,
    telegram_server,
    telegram_stats,
    verdict,
    wait_for_sent,
    workdir,
)
from bench.load import FIRST_NUMBER, deliveries, open_loop, order_bodies
from bench.postgres import add_arguments, database, describe

TARGET_P50_MS = 20.0
WARMUP = 50


#: each measured message's receipt, routing and sent times, after the warm-up's
STAGES = (
    "SELECT e.received_at, m.created_at, m.sent_at FROM events e"
    " JOIN messages m ON m.event_id = e.id WHERE m.status = 'sent' ORDER BY e.id"
)


async def measure(
    port: int, telegram: str, events: int, rate: float
) -> tuple[list[float], list[float]]:
    """Each delivery's time to Telegram, and to its answer."""
    warm = deliveries(order_bodies(WARMUP, start=FIRST_NUMBER - WARMUP))
    await open_loop(port, warm, rate, keep_alive=False)
    await wait_for_sent(telegram, WARMUP, 60.0)
    run = await open_loop(port, deliveries(order_bodies(events)), rate, keep_alive=False)
    if run.ok != events:
        raise RuntimeError(f"the bridge acknowledged {run.ok} of {events}: {run.statuses}")
    await wait_for_sent(telegram, WARMUP + events, 60.0 + events / 50)
    arrived = {number: at for _, at, number in telegram_stats(telegram, WARMUP)["sent"]}
    latencies = [arrived[FIRST_NUMBER + i] - (run.wall_started + i / rate) for i in range(events)]
    return latencies, run.latencies


async def stage_rows(database_url: str | None, sqlite_path: Path) -> list[tuple[float, ...]]:
    """The STAGES rows of the measured deliveries, from either backend."""
    if database_url is None:
        with sqlite3.connect(sqlite_path) as conn:
            rows = conn.execute(STAGES).fetchall()
    else:
        conn_pg = await asyncpg.connect(database_url)
        try:
            rows = [tuple(row) for row in await conn_pg.fetch(STAGES)]
        finally:
            await conn_pg.close()
    return [tuple(float(x) for x in row) for row in rows[WARMUP:]]


def stage_line(name: str, values: list[float]) -> str:
    p50, p99 = (percentile(values, q) * 1000 for q in (50, 99))
    return f"| p50 / p99 ms, {name} | {p50:.1f} / {p99:.1f} | |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50.0, help="deliveries per second")
    parser.add_argument("--profile", type=Path, help="write a py-spy profile of the bridge here")
    add_arguments(parser)
    args = parser.parse_args()
    with workdir() as work, database(args) as database_url, telegram_server(work) as telegram:
        port = free_port()
        chat = {"telegram_chat_id": CHAT_ID, "bridge_database_url": database_url}
        env = bridge_settings(work, port, telegram, **chat, **UNTHROTTLED)
        database_name = describe(database_url)
        bridge = start_bridge(work, env)
        try:
            with profiled(bridge, args.profile):
                latencies, answers = asyncio.run(measure(port, telegram, args.events, args.rate))
        finally:
            bridge.stop()
        rows = asyncio.run(stage_rows(database_url, work / "data" / "bridge.sqlite3"))
    p50, p99 = (percentile(latencies, q) * 1000 for q in (50, 99))
    header("End to end")
    print(f"{args.events} order deliveries at {args.rate:g}/s, one message each, unthrottled.\n")
    print(f"The bridge's database: {database_name}.\n")
    print("| figure | bridge | target |")
    print("| --- | --- | --- |")
    met = verdict(p50 < TARGET_P50_MS)
    print(f"| p50 ms, webhook to Telegram | {p50:.1f} | < {TARGET_P50_MS:g} ({met}) |")
    print(f"| p99 ms, webhook to Telegram | {p99:.1f} | |")
    print(f"| max ms | {max(latencies) * 1000:.1f} | |")
    print(stage_line("webhook answered", answers))
    print(stage_line("received to routed", [routed - received for received, routed, _ in rows]))
    print(stage_line("routed to sent", [sent - routed for _, routed, sent in rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

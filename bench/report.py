"""A 30-day sales report over a large orders ledger: how long the bot takes to answer.

    python -m bench.report [--orders 100000] [--days 400] [--rounds 5]

Fills a fresh SQLite ledger with `--orders` orders spread over `--days` days (two stores,
VND and BRL, mixed statuses, refunds, 1-3 items each), then times `/report 30d` as the bot
builds it: the ledger read, the figures, the text, and the chart (PNG).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import header
from bridge.queue.models import LedgerRow
from bridge.queue.store import Store
from bridge.render.renderer import Renderer, RenderOptions
from bridge.reports.build import period_at
from bridge.reports.message import report_message

STATUSES = ["completed"] * 6 + ["processing"] * 2 + ["cancelled", "refunded", "failed", "on-hold"]
PRODUCTS = [f"Sản phẩm {n}" for n in range(200)]


def fake_rows(count: int, days: int, now: float) -> list[LedgerRow]:
    rng = random.Random(19)
    rows = []
    for n in range(count):
        store, currency, unit = ("vn", "VND", 150000) if n % 3 else ("br", "BRL", 50)
        items = tuple(
            (rng.choice(PRODUCTS), rng.randint(1, 3), str(unit * rng.randint(1, 5)))
            for _ in range(rng.randint(1, 3))
        )
        total = sum(int(t) for _, _, t in items)
        status = rng.choice(STATUSES)
        refunded = str(unit) if status == "completed" and n % 17 == 0 else "0"
        rows.append(
            LedgerRow(
                store, str(n), status, currency, str(total), refunded, items,
                f"id:{rng.randint(1, count // 4)}", now - rng.random() * days * 86400, "",
            )
        )  # fmt: skip
    return rows


async def run(orders: int, days: int, rounds: int) -> None:
    header("A 30-day report over the orders ledger")
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    now = time.time()
    with tempfile.TemporaryDirectory() as work:
        store = await Store.open(Path(work) / "bridge.sqlite3", synchronous="NORMAL")
        started = time.perf_counter()
        for row in fake_rows(orders, days, now):
            await store.record_ledger(row)
        filled = time.perf_counter() - started
        renderer = Renderer(RenderOptions(timezone=zone))
        fmt = renderer.formatter("vi")
        period = period_at("30d", now, zone)
        timings, size, in_period = [], 0, 0
        for _ in range(rounds):
            started = time.perf_counter()
            built = await report_message(store, period, fmt, stores=("vn", "br"))
            timings.append((time.perf_counter() - started) * 1000)
            size = len(built.chart or b"")
        in_period = len(await store.ledger_rows(period.start.timestamp(), period.end.timestamp()))
        await store.close()
    print("| figure | value |")
    print("| --- | --- |")
    print(f"| ledger rows | {orders:,} over {days} days |")
    print(f"| orders placed in the 30 days | {in_period:,} |")
    print(f"| filling the ledger s | {filled:.1f} |")
    print(f"| 30-day report ms, median of {rounds} | {statistics.median(timings):.0f} |")
    print(f"| 30-day report ms, slowest | {max(timings):.0f} |")
    print(f"| chart PNG bytes | {size:,} |")
    print(f"\n(measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.orders, args.days, args.rounds))


if __name__ == "__main__":
    main()

"""The store's intake alone, in process: CPU per event of `Store.accept`, without HTTP.

python -m bench.store [--events 20000] [--concurrency 32] [--rounds 3]

Distinct 2.5 KB bodies, `concurrency` deliveries in flight, a fresh database per round
at synchronous=FULL; prints events/s and the CPU of every thread per event. It isolates
what the row, its indexes and the group commit cost, which HTTP's noise hides.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path

from bench.common import header
from bridge.queue.models import IncomingEvent
from bridge.queue.store import Store
from bridge.webhook.intake import body_key


def _events(count: int, salt: int) -> list[IncomingEvent]:
    filler = b"x" * 2400
    out = []
    for n in range(count):
        body = b'{"id":%d,"salt":%d,"pad":"%s"}' % (n, salt, filler)
        key = body_key("default", "order.updated", body)
        out.append(IncomingEvent("default", "order.updated", body, key, time.time()))
    return out


async def _round(path: Path, events: list[IncomingEvent], concurrency: int) -> tuple[float, float]:
    store = await Store.open(path)
    try:
        queue = iter(events)

        async def worker() -> None:
            for event in queue:
                await store.accept(event)

        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        await store.close()
    return len(events) / wall, cpu / len(events) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    header("The store's intake, in process")
    print(f"{args.events} distinct 2.5 KB events per round, {args.concurrency} concurrent.\n")
    print("| round | events/s | CPU per event, µs (all threads) |")
    print("| --- | --- | --- |")
    for n in range(args.rounds):
        events = _events(args.events, n)
        with tempfile.TemporaryDirectory() as tmp:
            rate, cpu = asyncio.run(_round(Path(tmp) / "bridge.sqlite3", events, args.concurrency))
        print(f"| {n + 1} | {rate:,.0f} | {cpu:.1f} |")


if __name__ == "__main__":
    main()

"""Memory and disk: the bridge's resident memory idle and over a soak of many events,
and the database file's size over the same soak.

    python -m bench.memory [--events 100000] [--rounds 10] [--retention-seconds 30]

The bridge (`woo-bridge serve`) relays every event to an unthrottled stand-in
Telegram. Its resident memory (VmRSS) and the size of its database (the file and its
write-ahead log) are read when idle after start-up, then after each round of
deliveries once all of that round's messages have arrived. Retention is shrunk to
`--retention-seconds` so that the soak covers many retention windows: the file must
stop growing once the first window is full, as it does with the default seven days.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from bench.common import (
    CHAT_ID,
    UNTHROTTLED,
    Server,
    bridge_settings,
    free_port,
    header,
    start_bridge,
    telegram_server,
    verdict,
    wait_for_sent,
    workdir,
)
from bench.load import FIRST_NUMBER, closed_loop, deliveries, order_bodies

TARGET_IDLE_MIB = 80.0
SETTLE_SECONDS = 1.0


def database_mib(work: Path) -> float:
    """The database file and its write-ahead log, in MiB."""
    files = (work / "data").glob("bridge.sqlite3*")
    return sum(f.stat().st_size for f in files) / (1024 * 1024)


async def soak(
    port: int, telegram: str, bridge: Server, events: int, rounds: int, work: Path
) -> tuple[list[float], list[float]]:
    """RSS and database size after each round."""
    per_round = events // rounds
    readings: list[float] = []
    disk: list[float] = []
    for round_ in range(rounds):
        bodies = order_bodies(per_round, start=FIRST_NUMBER + round_ * per_round)
        run = await closed_loop(port, deliveries(bodies), 16, keep_alive=False)
        if run.ok != per_round:
            raise RuntimeError(f"the bridge acknowledged {run.ok} of {per_round}: {run.statuses}")
        await wait_for_sent(telegram, (round_ + 1) * per_round, 60.0 + per_round / 20)
        await asyncio.sleep(SETTLE_SECONDS)
        readings.append(bridge.rss_mib())
        disk.append(database_mib(work))
    return readings, disk


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--idle-seconds", type=float, default=3.0, help="wait before idle RSS")
    parser.add_argument(
        "--retention-seconds", type=float, default=30.0, help="how long sent rows are kept"
    )
    args = parser.parse_args()
    with workdir() as work, telegram_server(work) as telegram:
        port = free_port()
        env = bridge_settings(
            work,
            port,
            telegram,
            telegram_chat_id=CHAT_ID,
            bridge_retention_days=args.retention_seconds / 86400,
            bridge_prune_interval_seconds=max(1.0, args.retention_seconds / 4),
            **UNTHROTTLED,
        )
        bridge = start_bridge(work, env)
        try:
            time.sleep(args.idle_seconds)
            idle = bridge.rss_mib()
            started = time.perf_counter()
            readings, disk = asyncio.run(
                soak(port, telegram, bridge, args.events, args.rounds, work)
            )
            elapsed = time.perf_counter() - started
        finally:
            bridge.stop()
    half = len(readings) // 2
    growth = readings[-1] - readings[half - 1] if half else 0.0
    disk_growth = disk[-1] - disk[half - 1] if half else 0.0
    per_round = args.events // args.rounds
    header("Memory")
    print(
        f"{args.events} order deliveries in {args.rounds} rounds, each relayed to Telegram "
        f"({args.events / elapsed:.0f} events/s end to end).\n"
    )
    print("| figure | bridge | target |")
    print("| --- | --- | --- |")
    print(
        f"| RSS idle MiB | {idle:.1f} | < {TARGET_IDLE_MIB:g} ({verdict(idle < TARGET_IDLE_MIB)}) |"
    )
    print(f"| RSS after {args.events} events MiB | {readings[-1]:.1f} | |")
    print(
        f"| growth over the second half of the soak MiB | {growth:+.1f} | "
        f"none ({verdict(growth < 1.0)}) |"
    )
    print("| RSS after each round MiB | " + ", ".join(f"{r:.1f}" for r in readings) + " | |")
    print(
        f"| database growth over the second half MiB (retention {args.retention_seconds:g} s)"
        f" | {disk_growth:+.1f} | bounded ({verdict(disk[-1] <= max(disk[: half or 1]) * 1.2)}) |"
    )
    print("| database after each round MiB | " + ", ".join(f"{d:.1f}" for d in disk) + " | |")
    print(f"\n({per_round} events a round.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

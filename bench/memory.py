"""Memory: the bridge's resident memory idle, and over a soak of many events.

    python -m bench.memory [--events 100000] [--rounds 10]

The bridge (`woo-bridge serve`) relays every event to an unthrottled stand-in
Telegram. Its resident memory (VmRSS) is read when idle after start-up, then after
each round of deliveries once all of that round's messages have arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

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


async def soak(port: int, telegram: str, bridge: Server, events: int, rounds: int) -> list[float]:
    """RSS after each round."""
    per_round = events // rounds
    readings = []
    for round_ in range(rounds):
        bodies = order_bodies(per_round, start=FIRST_NUMBER + round_ * per_round)
        run = await closed_loop(port, deliveries(bodies), 16, keep_alive=False)
        if run.ok != per_round:
            raise RuntimeError(f"the bridge acknowledged {run.ok} of {per_round}: {run.statuses}")
        await wait_for_sent(telegram, (round_ + 1) * per_round, 60.0 + per_round / 20)
        await asyncio.sleep(SETTLE_SECONDS)
        readings.append(bridge.rss_mib())
    return readings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--idle-seconds", type=float, default=3.0, help="wait before idle RSS")
    args = parser.parse_args()
    with workdir() as work, telegram_server(work) as telegram:
        port = free_port()
        env = bridge_settings(work, port, telegram, telegram_chat_id=CHAT_ID, **UNTHROTTLED)
        bridge = start_bridge(work, env)
        try:
            time.sleep(args.idle_seconds)
            idle = bridge.rss_mib()
            started = time.perf_counter()
            readings = asyncio.run(soak(port, telegram, bridge, args.events, args.rounds))
            elapsed = time.perf_counter() - started
        finally:
            bridge.stop()
    half = len(readings) // 2
    growth = readings[-1] - readings[half - 1] if half else 0.0
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
    print(f"\n({per_round} events a round.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

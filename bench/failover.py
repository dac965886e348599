"""Failover: how long two replicas on PostgreSQL stop sending when the leader is killed.

    python -m bench.failover [--runs 5] [--rate 20] [--postgres | --database-url URL]
                             [--poll S] [--heartbeat S] [--timeout S]

Two `woo-bridge serve` replicas share one PostgreSQL database (a throwaway durable
cluster unless `--database-url` names a server) and the stand-in Telegram, unthrottled.
Each run posts order deliveries at `--rate` per second to the follower, SIGKILLs the
leader a third of the way through, and measures the takeover: from the kill to the first
message the stand-in accepts that was claimed in a later term (each claim stamps its
leader's term), which only the survivor can have sent. The killed replica
is then started again (as the follower), and the next run kills the other one.
Every acknowledged delivery must reach Telegram; sends that were in flight at the
kill may arrive twice. Without --poll/--heartbeat/--timeout the bridge's defaults hold.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    CHAT_ID,
    UNTHROTTLED,
    Server,
    bridge_settings,
    free_port,
    header,
    percentile,
    start_bridge,
    telegram_server,
    telegram_stats,
    workdir,
)
from bench.load import FIRST_NUMBER, deliveries, open_loop, order_bodies
from bench.postgres import database, describe, fetchval


class Replica:
    """One replica: its settings, and its process while it runs."""

    def __init__(self, work: Path, name: str, env: dict[str, str]) -> None:
        self.work = work / name
        self.work.mkdir()
        self.name = name
        self.env = env
        self.port = int(env["BRIDGE_PORT"])
        self.server: Server | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.server = start_bridge(self.work, self.env)
        # start_bridge logs to bridge.log: keep each start's log.
        kept = self.work / f"bridge-{self.starts}.log"
        self.server.log.rename(kept)
        self.server.log = kept

    def kill(self) -> None:
        assert self.server is not None
        self.server.process.send_signal(signal.SIGKILL)
        self.server.process.wait()
        self.server.stop()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


def leader(url: str) -> str | None:
    holder = asyncio.run(fetchval(url, "SELECT holder FROM leader WHERE id = 1"))
    return None if holder is None else str(holder)


def wait_for_leader(url: str, names: set[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while (name := leader(url)) not in names:
        if time.monotonic() > deadline:
            raise RuntimeError(f"none of {sorted(names)} leads after {timeout} s")
        time.sleep(0.05)
    assert name is not None
    return name


@dataclass(frozen=True)
class Run:
    """One kill: when the survivor led and sent, the gap in sending, what was lost or doubled."""

    led: float
    takeover: float
    gap: float
    acknowledged: int
    lost: int
    doubled: int


def term(url: str) -> tuple[int, float]:
    """The leader's term now, and when it began (the leader's wall clock)."""
    epoch = asyncio.run(fetchval(url, "SELECT epoch FROM leader WHERE id = 1"))
    since = asyncio.run(fetchval(url, "SELECT since FROM leader WHERE id = 1"))
    return int(epoch), float(since or 0.0)


def sent_in_terms_after(url: str, epoch: int) -> set[int]:
    """Telegram's ids of the messages claimed in a term after `epoch`: only a later leader
    can have sent them."""
    query = (
        "SELECT coalesce(array_agg(telegram_id), '{}') FROM messages"
        " WHERE claimed_epoch > $1 AND status = 'sent'"
    )
    return set(asyncio.run(fetchval(url, query, epoch)))


async def one_run(
    url: str,
    telegram: str,
    follower: Replica,
    leading: Replica,
    first: int,
    args: argparse.Namespace,
) -> Run:
    count = int(args.rate * args.seconds)
    requests = deliveries(order_bodies(count, start=first))
    since = len(telegram_stats(telegram)["sent"])
    old_term, _ = await asyncio.to_thread(term, url)
    load = asyncio.create_task(open_loop(follower.port, requests, args.rate, keep_alive=False))
    await asyncio.sleep(args.seconds / 3)
    killed_at = time.time()
    await asyncio.to_thread(leading.kill)
    results = await load
    if results.ok != count:
        raise RuntimeError(f"the follower acknowledged {results.ok} of {count}: {results.statuses}")
    wanted = set(range(first, first + count))
    # Count the order numbers, not the messages: a message sent twice is no other's.
    deadline = time.monotonic() + 60.0
    while not wanted <= {n for _, _, n in telegram_stats(telegram, since)["sent"]}:
        if time.monotonic() > deadline:
            break  # reported as lost
        await asyncio.sleep(0.1)
    stats = telegram_stats(telegram, since)
    sent, ids = stats["sent"], stats["ids"]
    later = await asyncio.to_thread(sent_in_terms_after, url, old_term)
    new_term, began = await asyncio.to_thread(term, url)
    if new_term <= old_term:
        raise RuntimeError("no new term after the kill")
    by_survivor = [at for (_, at, _), i in zip(sent, ids, strict=True) if i in later]
    by_dead = [at for (_, at, _), i in zip(sent, ids, strict=True) if i not in later]
    numbers = Counter(number for _, _, number in sent)
    return Run(
        led=began - killed_at,
        takeover=min(by_survivor) - killed_at,
        gap=min(by_survivor) - max(by_dead) if by_dead else float("nan"),
        acknowledged=count,
        lost=len(wanted - set(numbers)),
        doubled=sum(n - 1 for number, n in numbers.items() if number in wanted and n > 1),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rate", type=float, default=20.0, help="deliveries per second")
    parser.add_argument("--seconds", type=float, default=9.0, help="of deliveries per run")
    parser.add_argument("--poll", type=float, help="BRIDGE_LEADER_POLL_SECONDS")
    parser.add_argument("--heartbeat", type=float, help="BRIDGE_LEADER_HEARTBEAT_SECONDS")
    parser.add_argument("--timeout", type=float, help="BRIDGE_LEADER_TIMEOUT_SECONDS")
    parser.add_argument(
        "--database-url",
        help="a superuser's URL to a PostgreSQL server (default: a throwaway cluster)",
    )
    args = parser.parse_args()
    args.postgres = True
    leadership = {
        "bridge_leader_poll_seconds": args.poll,
        "bridge_leader_heartbeat_seconds": args.heartbeat,
        "bridge_leader_timeout_seconds": args.timeout,
    }
    runs: list[Run] = []
    with workdir() as work, database(args) as url, telegram_server(work) as telegram:
        assert url is not None
        database_name = describe(url)
        replicas = []
        for name in ("replica-a", "replica-b"):
            env = bridge_settings(
                work / name,
                free_port(),
                telegram,
                telegram_chat_id=CHAT_ID,
                bridge_database_url=url,
                bridge_replica_name=name,
                **leadership,
                **UNTHROTTLED,
            )
            replicas.append(Replica(work, name, env))
        try:
            replicas[0].start()
            wait_for_leader(url, {replicas[0].name}, 30.0)
            replicas[1].start()
            for index in range(args.runs):
                name = wait_for_leader(url, {r.name for r in replicas}, 30.0)
                leading = next(r for r in replicas if r.name == name)
                follower = next(r for r in replicas if r.name != name)
                first = FIRST_NUMBER + index * 100_000
                runs.append(asyncio.run(one_run(url, telegram, follower, leading, first, args)))
                leading.start()  # back, as the follower
        finally:
            for replica in replicas:
                replica.stop()
    header("Failover")
    settings = ", ".join(f"{k.upper()}={v:g}" for k, v in leadership.items() if v is not None)
    print(
        f"Two replicas, one PostgreSQL database; {args.runs} SIGKILLs of the leader while "
        f"deliveries arrive at the follower at {args.rate:g}/s, unthrottled.\n"
    )
    print(f"The database: {database_name}. Leadership settings: {settings or 'the defaults'}.\n")
    print(
        "| run | new term s (kill to the survivor leading) | takeover s (kill to its first "
        "message) | gap s (last message before to first after) | acknowledged | lost "
        "| sent twice |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for number, run in enumerate(runs, 1):
        print(
            f"| {number} | {run.led:.2f} | {run.takeover:.2f} | {run.gap:.2f} "
            f"| {run.acknowledged} | {run.lost} | {run.doubled} |"
        )
    takeovers = [run.takeover for run in runs]
    print(
        f"\nTakeover: median {percentile(takeovers, 50):.2f} s, "
        f"worst {max(takeovers):.2f} s, best {min(takeovers):.2f} s."
    )
    lost = sum(run.lost for run in runs)
    print(f"Acknowledged deliveries lost: {lost}.")
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

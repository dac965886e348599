"""Ingest: how fast the bridge acknowledges webhooks, beside two baselines.

    python -m bench.ingest [--requests 40000] [--rounds 2] [--rate 500]
                           [--rate-requests 30000] [--keep-alive]
                           [--postgres | --database-url URL]

Three servers, each in a process of its own; this process is the load generator:

- the bridge (`woo-bridge serve`) with one chat configured against the stand-in Telegram,
  so that it routes, renders and sends while it takes the burst, as in production;
- the minimal durable receiver (bench/durable.py): HMAC check, raw bytes into SQLite WAL
  at synchronous=FULL with group commits, 200: the honest limit for this product;
- a bare aiohttp app that reads the body and answers 200 (bench/bare.py).

Each round sends each server the same distinct, correctly signed order deliveries as
fast as they answer (`--concurrency` at a time), rotating which goes first. Then each
gets `--rate-requests` more at a fixed `--rate`, in turn. At the end, every delivery
the bridge and the durable receiver acknowledged must be in their databases.

With `--postgres` (or `--database-url`) the bridge keeps its data in PostgreSQL
(bench/postgres.py); the two baselines stay as they are.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from bench.common import (
    CHAT_ID,
    HOST,
    REPO,
    SECRET,
    Server,
    bridge_settings,
    clean_env,
    free_port,
    header,
    http_status,
    percentile,
    profiled,
    start_bridge,
    telegram_server,
    verdict,
    wait_until,
    workdir,
)
from bench.load import Results, closed_loop, deliveries, open_loop, order_bodies
from bench.postgres import add_arguments, database, describe, server_cpu_seconds
from bench.postgres import committed_events as committed_in_postgres

TARGET_RATIO = 0.8
TARGET_P99_MS = 10.0
NAMES = ("bridge", "durable", "bare")
WARMUP = 200


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


class Measured:
    """What one server took: the burst, the steady part, its CPU during each."""

    def __init__(self) -> None:
        self.fast = Results()
        self.steady = Results()
        self.cpu = 0.0
        #: the PostgreSQL server's CPU during the bridge's bursts, when it runs here
        self.database_cpu: float | None = None
        self.steady_cpu = 0.0

    @property
    def cpu_per_request_us(self) -> float:
        return self.cpu / max(1, len(self.fast.latencies)) * 1e6

    @property
    def database_cpu_per_request_us(self) -> float | None:
        if self.database_cpu is None:
            return None
        return self.database_cpu / max(1, len(self.fast.latencies)) * 1e6

    @property
    def steady_cpu_per_request_us(self) -> float:
        return self.steady_cpu / max(1, len(self.steady.latencies)) * 1e6


async def measure(
    args: argparse.Namespace,
    ports: dict[str, int],
    servers: dict[str, Server],
    database_cpu: Callable[[], float | None],
) -> tuple[dict[str, Measured], float]:
    """Each server's figures, and the generator's own CPU per request, in µs."""
    bodies = order_bodies(WARMUP + args.requests * args.rounds + args.rate_requests)
    requests = deliveries(bodies, keep_alive=args.keep_alive)
    # Every server gets the same bytes; each sees every body once.
    for port in ports.values():
        await closed_loop(port, requests[:WARMUP], args.concurrency, args.keep_alive)
    measured = {name: Measured() for name in ports}
    generator_cpu, sent = 0.0, 0
    for round_ in range(args.rounds):
        chunk = requests[WARMUP + round_ * args.requests : WARMUP + (round_ + 1) * args.requests]
        # Rotate who goes first: what else runs on the machine drifts over a run.
        order = list(ports)[round_ % len(ports) :] + list(ports)[: round_ % len(ports)]
        for name in order:
            # The bridge routes its backlog at full speed once a burst is over: that must
            # not slow the next server measured, so each starts with the machine quiet.
            await settle(servers.values())
            before, own = servers[name].cpu_seconds(), time.process_time()
            database_before = database_cpu() if name == "bridge" else None
            # Only the burst: the catching up afterwards would drown what competes with it.
            output = args.profile if name == "bridge" and round_ == 0 else None
            with profiled(servers[name], output):
                run = await closed_loop(ports[name], chunk, args.concurrency, args.keep_alive)
            generator_cpu += time.process_time() - own
            sent += len(chunk)
            measured[name].cpu += servers[name].cpu_seconds() - before
            database_after = database_cpu() if name == "bridge" else None
            if database_before is not None and database_after is not None:
                used = database_after - database_before
                measured[name].database_cpu = (measured[name].database_cpu or 0.0) + used
            measured[name].fast.extend(run)
    steady = requests[WARMUP + args.requests * args.rounds :]
    for name in ports:
        await settle(servers.values())
        before = servers[name].cpu_seconds()
        run = await open_loop(ports[name], steady, args.rate, args.keep_alive)
        measured[name].steady_cpu += servers[name].cpu_seconds() - before
        measured[name].steady.extend(run)
    return measured, generator_cpu / max(1, sent) * 1e6


async def settle(servers: Iterable[Server], timeout: float = 600.0) -> None:
    """Wait until no server uses more than a tenth of a core (the sender's trickle)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = sum(s.cpu_seconds() for s in servers)
        await asyncio.sleep(0.5)
        if sum(s.cpu_seconds() for s in servers) - before < 0.05:
            return
    raise RuntimeError(f"the servers were still busy after {timeout:g} s")


def _none() -> None:
    return None


def committed_events(database: Path) -> int:
    conn = sqlite3.connect(database)
    try:
        count: int = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        return count
    finally:
        conn.close()


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def report(
    args: argparse.Namespace,
    measured: dict[str, Measured],
    generator_us: float,
    committed: dict[str, int],
    database_name: str,
) -> bool:
    bridge, durable, bare = (measured[n] for n in NAMES)
    ratio = bridge.fast.rps / durable.fast.rps if durable.fast.rps else 0.0
    b_p99 = percentile(bridge.steady.latencies, 99)
    connection = "kept-alive connections" if args.keep_alive else "a new connection per delivery"
    header("Ingest")
    print(
        f"{args.rounds} rounds of {args.requests} deliveries at {args.concurrency} concurrent "
        f"to each server, then {args.rate_requests} at {args.rate:g}/s to each; {connection}; "
        + ("no chat configured.\n" if args.no_chat else "the bridge routes and sends meanwhile.\n")
    )
    print(f"The bridge's database: {database_name}.\n")
    print("| figure | bridge | durable receiver | bare aiohttp | bridge/durable | bridge/bare |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(
        f"| requests/s, {args.concurrency} concurrent | {bridge.fast.rps:.0f} "
        f"| {durable.fast.rps:.0f} | {bare.fast.rps:.0f} "
        f"| {ratio:.2f} (>= {TARGET_RATIO}: {verdict(ratio >= TARGET_RATIO)}) "
        f"| {_ratio(bridge.fast.rps, bare.fast.rps)} |"
    )
    # /proc counts CPU in ticks of 10 ms: a short run may read 0.
    cpu = [m.cpu_per_request_us for m in (bridge, durable, bare)]
    print(
        f"| server CPU per delivery, µs (all threads) | {cpu[0]:.0f} | {cpu[1]:.0f} "
        f"| {cpu[2]:.0f} | {_ratio(cpu[0], cpu[1])} | {_ratio(cpu[0], cpu[2])} |"
    )
    database_us = bridge.database_cpu_per_request_us
    if database_us is not None:
        # The bridge's statements run in PostgreSQL's processes: their CPU is the bridge's too.
        print(
            f"| PostgreSQL server CPU per delivery, µs | {database_us:.0f} | | "
            f"| {_ratio(cpu[0] + database_us, cpu[1])} (both) "
            f"| {_ratio(cpu[0] + database_us, cpu[2])} (both) |"
        )
    steady_cpu = [m.steady_cpu_per_request_us for m in (bridge, durable, bare)]
    print(
        f"| server CPU per delivery at {args.rate:g}/s, µs | {steady_cpu[0]:.0f} "
        f"| {steady_cpu[1]:.0f} | {steady_cpu[2]:.0f} | {_ratio(steady_cpu[0], steady_cpu[1])} "
        f"| {_ratio(steady_cpu[0], steady_cpu[2])} |"
    )
    for q in (50, 99):
        print(
            f"| p{q} ms, {args.concurrency} concurrent "
            + "".join(f"| {ms(percentile(m.fast.latencies, q))} " for m in (bridge, durable, bare))
            + "| | |"
        )
    for q in (50, 99):
        target = (
            f" (< {TARGET_P99_MS:g}: {verdict(b_p99 * 1000 < TARGET_P99_MS)})" if q == 99 else ""
        )
        print(
            f"| p{q} ms at {args.rate:g}/s "
            + "".join(
                f"| {ms(percentile(m.steady.latencies, q))}{target if m is bridge else ''} "
                for m in (bridge, durable, bare)
            )
            + "| | |"
        )
    statuses = {}
    for name, m in measured.items():
        counts = dict(m.fast.statuses)
        for status, count in m.steady.statuses.items():
            counts[status] = counts.get(status, 0) + count
        statuses[name] = f"{counts}, {m.fast.errors + m.steady.errors}"
    print(
        "| answers (status: count), connection errors "
        + "".join(f"| {statuses[n]} " for n in NAMES)
        + "| | |"
    )
    acked = {n: measured[n].fast.ok + measured[n].steady.ok + WARMUP for n in committed}
    durable_ok = all(committed[n] >= acked[n] for n in committed)
    print(
        f"| acknowledged / committed | {acked['bridge']} / "
        f"{committed['bridge']} | {acked['durable']} / {committed['durable']} | | "
        f"all: {verdict(durable_ok)} | |"
    )
    print(f"\nThe load generator used {generator_us:.0f} µs of CPU per request of the bursts.")
    errors = bridge.fast.errors + bridge.steady.errors
    return durable_ok and not errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40000, help="per round and server")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=500.0, help="requests/s of the steady part")
    parser.add_argument("--rate-requests", type=int, default=30000, help="per server, at --rate")
    parser.add_argument("--keep-alive", action="store_true", help="reuse connections")
    parser.add_argument(
        "--no-chat",
        action="store_true",
        help="diagnosis only: no chat configured, so the bridge neither routes nor sends",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="write a py-spy profile of the bridge's first burst here",
    )
    add_arguments(parser)
    args = parser.parse_args()

    with workdir() as work, database(args) as database_url, telegram_server(work) as telegram:
        ports = {name: free_port() for name in NAMES}
        chat = None if args.no_chat else CHAT_ID
        settings = bridge_settings(
            work, ports["bridge"], telegram, telegram_chat_id=chat, bridge_database_url=database_url
        )
        database_name = describe(database_url)
        bridge = start_bridge(work, settings)
        durable_db = work / "durable.sqlite3"
        argv = {
            "durable": ["-m", "bench.durable", "--database", str(durable_db), "--secret", SECRET],
            "bare": ["-m", "bench.bare"],
        }
        servers = {"bridge": bridge}
        try:
            for name, args_ in argv.items():
                servers[name] = Server(
                    [sys.executable, *args_, "--port", str(ports[name])],
                    clean_env(),
                    REPO,
                    work / f"{name}.log",
                )
                url = f"http://{HOST}:{ports[name]}/healthz"
                wait_until(lambda u=url: http_status(u) == 200, servers[name], 20.0)
            database_cpu = partial(server_cpu_seconds, database_url) if database_url else _none
            measured, generator = asyncio.run(measure(args, ports, servers, database_cpu))
        finally:
            for server in servers.values():
                server.stop()
        committed = {
            "bridge": (
                committed_in_postgres(database_url)
                if database_url
                else committed_events(work / "data" / "bridge.sqlite3")
            ),
            "durable": committed_events(durable_db),
        }
    return 0 if report(args, measured, generator, committed, database_name) else 1


if __name__ == "__main__":
    sys.exit(main())

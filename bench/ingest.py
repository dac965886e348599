"""Ingest: how fast the bridge acknowledges webhooks, beside a bare aiohttp app.

    python -m bench.ingest [--requests 4000] [--rounds 3] [--rate 500] [--keep-alive]

The bridge (`woo-bridge serve`, no chat configured, so only the ingest path runs) and
the bare app each run in a process of their own; this process is the load generator.
Each round sends both the same number of distinct, correctly signed order deliveries,
alternating which goes first: first as fast as they answer (`--concurrency` at a
time), then at a fixed `--rate`. At the end, every delivery the bridge acknowledged
must be in its database.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from pathlib import Path

from bench.common import (
    HOST,
    REPO,
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

TARGET_RATIO = 0.8
TARGET_P99_MS = 10.0


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


async def measure(
    args: argparse.Namespace, ports: dict[str, int], servers: dict[str, Server]
) -> tuple[dict[str, list[Results]], dict[str, float]]:
    per_round = args.requests + args.rate_requests
    warmup = 200
    bodies = order_bodies(warmup + per_round * args.rounds)
    requests = deliveries(bodies, keep_alive=args.keep_alive)
    # Both get the same bytes; the bare app never sees a body twice in a row anyway.
    for port in ports.values():
        await closed_loop(port, requests[:warmup], args.concurrency, args.keep_alive)
    fast: dict[str, Results] = {name: Results() for name in ports}
    steady: dict[str, Results] = {name: Results() for name in ports}
    cpu = dict.fromkeys(ports, 0.0)
    for round_ in range(args.rounds):
        chunk = requests[warmup + round_ * per_round : warmup + (round_ + 1) * per_round]
        order = list(ports) if round_ % 2 == 0 else list(reversed(ports))
        for name in order:
            before = servers[name].cpu_seconds()
            run = await closed_loop(
                ports[name], chunk[: args.requests], args.concurrency, args.keep_alive
            )
            cpu[name] += servers[name].cpu_seconds() - before
            fast[name].extend(run)
        for name in order:
            run = await open_loop(ports[name], chunk[args.requests :], args.rate, args.keep_alive)
            steady[name].extend(run)
    # CPU per delivery while serving as fast as it can, in microseconds
    per_request = {name: cpu[name] / max(1, len(fast[name].latencies)) * 1e6 for name in ports}
    return {name: [fast[name], steady[name]] for name in ports}, per_request


def committed_events(database: Path) -> int:
    conn = sqlite3.connect(database)
    try:
        count: int = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        return count
    finally:
        conn.close()


def report(
    args: argparse.Namespace,
    results: dict[str, list[Results]],
    cpu: dict[str, float],
    committed: int,
) -> bool:
    (b_fast, b_steady), (a_fast, a_steady) = results["bridge"], results["bare"]
    ratio = b_fast.rps / a_fast.rps if a_fast.rps else 0.0
    acked = b_fast.ok + b_steady.ok + 200  # plus the warm-up, all acknowledged
    b_p99 = percentile(b_steady.latencies, 99)
    connection = "keep-alive" if args.keep_alive else "a new connection per delivery"
    header("Ingest")
    print(
        f"{args.rounds} rounds of {args.requests} deliveries at {args.concurrency} concurrent, "
        f"then {args.rate_requests} at {args.rate:g}/s, each; {connection}.\n"
    )
    print("| figure | bridge | bare aiohttp | bridge/bare | target |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| requests/s, {args.concurrency} concurrent | {b_fast.rps:.0f} | {a_fast.rps:.0f} "
        f"| {ratio:.2f} | >= {TARGET_RATIO} ({verdict(ratio >= TARGET_RATIO)}) |"
    )
    # /proc counts CPU in ticks of 10 ms: a short run of the bare app may read 0.
    cpu_ratio = f"{cpu['bridge'] / cpu['bare']:.2f}" if cpu["bare"] else "n/a"
    print(
        f"| server CPU per delivery, µs (all threads) | {cpu['bridge']:.0f} | {cpu['bare']:.0f} "
        f"| {cpu_ratio} | |"
    )
    for q in (50, 99):
        print(
            f"| p{q} ms, {args.concurrency} concurrent | {ms(percentile(b_fast.latencies, q))} "
            f"| {ms(percentile(a_fast.latencies, q))} | | |"
        )
    print(
        f"| p50 ms at {args.rate:g}/s | {ms(percentile(b_steady.latencies, 50))} "
        f"| {ms(percentile(a_steady.latencies, 50))} | | |"
    )
    print(
        f"| p99 ms at {args.rate:g}/s | {ms(b_p99)} | {ms(percentile(a_steady.latencies, 99))} "
        f"| | < {TARGET_P99_MS:g} ({verdict(b_p99 * 1000 < TARGET_P99_MS)}) |"
    )
    statuses = {n: {**r[0].statuses} for n, r in results.items()}
    for name, (_, s) in results.items():
        for status, count in s.statuses.items():
            statuses[name][status] = statuses[name].get(status, 0) + count
    errors = {n: r[0].errors + r[1].errors for n, r in results.items()}
    print(
        f"| answers (status: count), connection errors | {statuses['bridge']}, "
        f"{errors['bridge']} | {statuses['bare']}, {errors['bare']} | | |"
    )
    durable = committed >= acked
    print(
        f"| acknowledged / committed (synchronous=FULL) | {acked} / {committed} | | "
        f"| all ({verdict(durable)}) |"
    )
    return durable and not errors["bridge"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="per round, as fast as possible")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=500.0, help="requests/s of the steady part")
    parser.add_argument("--rate-requests", type=int, default=2500, help="per round, at --rate")
    parser.add_argument("--keep-alive", action="store_true", help="reuse connections")
    parser.add_argument("--profile", type=Path, help="write a py-spy profile of the bridge here")
    args = parser.parse_args()

    with workdir() as work, telegram_server(work) as telegram:
        ports = {"bridge": free_port(), "bare": free_port()}
        bridge = start_bridge(work, bridge_settings(work, ports["bridge"], telegram))
        bare = Server(
            [sys.executable, "-m", "bench.bare", "--port", str(ports["bare"])],
            clean_env(),
            REPO,
            work / "bare.log",
        )
        try:
            bare_health = f"http://{HOST}:{ports['bare']}/healthz"
            wait_until(lambda: http_status(bare_health) == 200, bare, 20.0)
            with profiled(bridge, args.profile):
                results, cpu = asyncio.run(measure(args, ports, {"bridge": bridge, "bare": bare}))
        finally:
            bare.stop()
            bridge.stop()
        committed = committed_events(work / "data" / "bridge.sqlite3")
    return 0 if report(args, results, cpu, committed) else 1


if __name__ == "__main__":
    sys.exit(main())

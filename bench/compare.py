"""Checkouts of the bridge side by side, beside the durable receiver: ingest kept alive.

    python -m bench.compare DIR [DIR ...] [--requests 20000] [--rounds 3]

Each DIR is a source tree of the bridge (a `git worktree`, or `git archive REV bridge
templates | tar -x -C DIR`). Each runs as `python -m bridge serve` with a chat against
the stand-in Telegram, so it routes and sends meanwhile. Every round sends each server
the same distinct signed orders at 32 concurrent over kept-alive connections, rotating
who goes first, and prints requests/s and the CPU per delivery of each thread (the
event loop's, then the others' by thread id): the figures that tell two versions apart
on a machine whose speed drifts between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
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
    http_status,
    machine,
    telegram_server,
    wait_until,
    workdir,
)
from bench.ingest import WARMUP, settle
from bench.load import closed_loop, deliveries, order_bodies

CONCURRENCY = 32


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds so far of each thread: "loop" for the main one, others by id."""
    used = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # a thread that ended meanwhile
        name = "loop" if task.name == str(pid) else task.name
        used[name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def start(
    name: str, argv: list[str], env: dict[str, str], cwd: Path, logs: Path, port: int
) -> Server:
    server = Server(argv, env, cwd, logs / f"{name.replace(' ', '')}.log")
    wait_until(lambda: http_status(f"http://{HOST}:{port}/healthz") == 200, server, 30.0)
    return server


async def compare(trees: list[Path], requests: int, rounds: int) -> None:
    print(f"Machine: {machine()}", flush=True)
    with workdir() as work, telegram_server(work) as telegram:
        servers: dict[str, tuple[Server, int]] = {}
        for index, tree in enumerate(trees):
            name, port = f"bridge {index + 1}", free_port()
            home = work / f"bridge{index + 1}"
            home.mkdir()
            env = bridge_settings(home, port, telegram, telegram_chat_id=CHAT_ID)
            env["PYTHONPATH"] = str(tree.resolve())
            argv = [sys.executable, "-m", "bridge", "serve"]
            servers[name] = (start(name, argv, env, home, work, port), port)
            print(f"{name}: {tree}", flush=True)
        port = free_port()
        argv = [sys.executable, "-m", "bench.durable", "--database", str(work / "d.sqlite3")]
        argv += ["--secret", SECRET, "--port", str(port)]
        servers["durable"] = (start("durable", argv, clean_env(), REPO, work, port), port)
        requests_ = deliveries(order_bodies(WARMUP + requests * rounds), keep_alive=True)
        for _, port in servers.values():
            await closed_loop(port, requests_[:WARMUP], CONCURRENCY, True)
        rates: dict[str, list[float]] = {name: [] for name in servers}
        cpus: dict[str, list[float]] = {name: [] for name in servers}
        try:
            for round_ in range(rounds):
                chunk = requests_[WARMUP + round_ * requests : WARMUP + (round_ + 1) * requests]
                names = list(servers)
                for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                    server, port = servers[name]
                    await settle([s for s, _ in servers.values()])
                    before, started = thread_cpu(server.pid), time.perf_counter()
                    await closed_loop(port, chunk, CONCURRENCY, True)
                    elapsed, after = time.perf_counter() - started, thread_cpu(server.pid)
                    used = {t: (after[t] - before.get(t, 0.0)) / requests * 1e6 for t in after}
                    rates[name].append(requests / elapsed)
                    cpus[name].append(sum(used.values()))
                    threads = ", ".join(
                        f"{t} {us:.0f}"
                        for t, us in sorted(used.items(), key=lambda i: -i[1])
                        if us >= 1
                    )
                    print(
                        f"round {round_ + 1}, {name}: {requests / elapsed:.0f}/s, "
                        f"{sum(used.values()):.0f} µs per delivery ({threads}), "
                        f"load average {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
        finally:
            for server, _ in servers.values():
                server.stop()
        print("medians:")
        durable = statistics.median(rates["durable"])
        for name in servers:
            rate = statistics.median(rates[name])
            print(
                f"  {name}: {rate:.0f}/s ({rate / durable:.2f} of the durable receiver), "
                f"{statistics.median(cpus[name]):.0f} µs per delivery"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", type=Path, help="source trees of the bridge")
    parser.add_argument("--requests", type=int, default=20000, help="per round and server")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(compare(args.trees, args.requests, args.rounds))


if __name__ == "__main__":
    main()

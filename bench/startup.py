"""Start-up: from launching `woo-bridge serve` to /healthz answering 200.

    python -m bench.startup [--runs 5]

Each run launches a real `woo-bridge serve` process with a fresh data directory
against the stand-in Telegram (in its own process), and polls /healthz every 2 ms.
/healthz answers 200 once the database takes writes and the bot runs.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time

from bench.common import (
    HOST,
    bridge_settings,
    free_port,
    header,
    http_status,
    percentile,
    start_bridge,
    telegram_server,
    verdict,
    workdir,
)

TARGET_SECONDS = 1.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    listening: list[float] = []
    healthy: list[float] = []
    with workdir() as work, telegram_server(work) as telegram:
        for _ in range(args.runs):
            shutil.rmtree(work / "data", ignore_errors=True)
            port = free_port()
            url = f"http://{HOST}:{port}/healthz"
            bridge = start_bridge(work, bridge_settings(work, port, telegram), wait=False)
            try:
                first = None
                while (status := http_status(url)) != 200:
                    if status is not None and first is None:
                        first = time.perf_counter() - bridge.started_at
                    bridge.check_alive()
                    if time.perf_counter() - bridge.started_at > 30:
                        raise RuntimeError("the bridge did not become healthy in 30 s")
                    time.sleep(0.002)
                healthy.append(time.perf_counter() - bridge.started_at)
                listening.append(first if first is not None else healthy[-1])
            finally:
                bridge.stop()
    worst = max(healthy)
    header("Start-up")
    print(f"{args.runs} launches of `woo-bridge serve`, fresh database each.\n")
    print("| figure | median | worst | target |")
    print("| --- | --- | --- | --- |")
    print(
        f"| launch to first HTTP answer s | {percentile(listening, 50):.2f} | "
        f"{max(listening):.2f} | |"
    )
    print(
        f"| launch to /healthz 200 s | {percentile(healthy, 50):.2f} | {worst:.2f} | "
        f"< {TARGET_SECONDS:g} ({verdict(worst < TARGET_SECONDS)}) |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

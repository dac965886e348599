"""The cost of one gap-filling pass: 10,000 changed orders listed through the REST API.

    python -m bench.reconcile [--orders 10000]

A fake WooCommerce store (tests/fakes/woocommerce.py, OAuth 1.0a over http as WooCommerce
checks it) serves the orders from a process of its own. The bridge's reconciler runs in
this process against a fresh database, twice: a first pass that finds every order new
(each stored as a recovered event), then a second over the same window, whose every
order is already stored (no router runs here, so each is known by its event rather than
by a routed status: a lookup and a refused insert per order). Reported per pass: wall
time, REST calls (pages of 100), the Python memory the pass allocated at its peak
(tracemalloc) and the growth of this process's resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import time
import tracemalloc
from pathlib import Path

import aiohttp
from aiohttp import web

from bench.common import free_port, header, workdir
from bridge.queue.store import Store
from bridge.recovery.passes import PassResult, gmt
from bridge.recovery.reconciler import ReconcileOptions, Reconciler, StoreLink
from bridge.woo.rest import WooClient
from tests.fakes.woocommerce import FakeStore, create_app

KEY, SECRET = "ck_" + "b" * 40, "cs_" + "e" * 40
SAMPLE = Path(__file__).parents[1] / "tests" / "fixtures" / "payloads" / "order.wire.json"


def serve_store(port: int, orders: int) -> None:
    """The fake store with `orders` orders saved in the last hour (a child process)."""
    store = FakeStore(KEY, SECRET)
    sample = json.loads(SAMPLE.read_bytes())
    now = time.time()
    for number in range(1, orders + 1):
        stamp = gmt(now - 3600 + number * 3000 / orders)
        store.put_order({**sample, "id": number, "number": str(number), "date_modified_gmt": stamp})
    web.run_app(create_app(store), host="127.0.0.1", port=port, print=None)


async def wait_for(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(url):
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"the fake store did not start at {url}")


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def one_pass(
    reconciler: Reconciler, link: StoreLink, since: str
) -> tuple[PassResult, float, float, float]:
    """Run a pass; its result, seconds, peak traced MiB and RSS growth in MiB."""
    rss = rss_mib()
    tracemalloc.start()
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        result = await reconciler.reconcile(session, link, since=since)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if result.error:
        raise RuntimeError(result.error)
    return result, seconds, peak / (1024 * 1024), rss_mib() - rss


async def measure(orders: int, work: Path) -> None:
    port = free_port()
    child = multiprocessing.Process(target=serve_store, args=(port, orders), daemon=True)
    child.start()
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_for(url + "/")
        store = await Store.open(work / "bridge.sqlite3")
        link = StoreLink("default", url, KEY, SECRET, "/webhook")
        reconciler = Reconciler(store, (link,), ReconcileOptions(interval=0))
        since = gmt(time.time() - 7200)
        rows = []
        labels = (f"first pass: {orders:,} orders new", "second pass: same window, all stored")
        for label in labels:
            result, seconds, peak, rss = await one_pass(reconciler, link, since)
            rows.append(
                f"| {label} | {seconds:.1f} | {result.pages} | {result.recovered:,} | "
                f"{peak:.1f} | {rss:.1f} | {seconds / max(1, result.orders) * 1e3:.2f} |"
            )
        # What the store and the wire cost alone: the same pages, nothing compared.
        started = time.perf_counter()
        async with aiohttp.ClientSession() as session:
            client = WooClient(session, url, KEY, SECRET)
            pages = 0
            async for _ in client.orders_modified(since, gmt(time.time())):
                pages += 1
        seconds = time.perf_counter() - started
        rows.append(f"| listing alone (fake store, HTTP, JSON) | {seconds:.1f} | {pages} | | | | |")
        await store.close()
    finally:
        child.terminate()
        child.join()
    header(f"Reconcile pass over {orders:,} changed orders")
    print(
        "| pass | time s | REST calls | recovered | peak traced MiB | RSS growth MiB "
        "| ms per order |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    args = parser.parse_args()
    with workdir() as work:
        asyncio.run(measure(args.orders, work))


if __name__ == "__main__":
    main()

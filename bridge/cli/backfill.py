"""`woo-bridge backfill`: fill the orders ledger from the stores' REST API, so that the first
reports are complete."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import aiohttp

from bridge.cli.common import (
    EXIT_CONFIG,
    open_database_or_report,
    report_problems,
    rest_command_setup,
    rest_links_or_report,
    settings_or_report,
)
from bridge.config import ConfigError, Settings
from bridge.queue.store import StoreError
from bridge.recovery.passes import gmt
from bridge.routing.ledger import row_of_order
from bridge.woo.rest import WooApiError, WooClient

NAME = "backfill"
HELP = "fill the orders ledger (sales reports) from the stores' REST API"
DESCRIPTION = """Lists the orders each store with a REST API key saved in the last --days
days and writes each one's current state into the orders ledger that /report and the
daily summary read. Sends nothing to Telegram; a newer state the bridge already holds is
kept. Safe to run again."""
EPILOG = """\
examples:
  woo-bridge backfill --days 90
  woo-bridge backfill --store shop-vn --days 30
"""

_DAY = 24 * 3600.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store", metavar="NAME", help="only this store (default: every store with a REST key)"
    )
    parser.add_argument(
        "--days", type=int, default=90, help="how many days back to fill (default: 90)"
    )


def run(args: argparse.Namespace) -> int:
    settings = settings_or_report()
    if settings is None:
        return EXIT_CONFIG
    if args.days < 1:
        print("woo-bridge: --days must be 1 or more", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return asyncio.run(_backfill(settings, args.store, args.days))
    except ConfigError as exc:
        report_problems(exc)
        return EXIT_CONFIG


async def _backfill(settings: Settings, only: str | None, days: int) -> int:
    # The REST client's log lines pass the bridge's secret filter, as in `reconcile`.
    stores, secrets = rest_command_setup(settings)
    without_keys = "; without one, reports start on the day the bridge first saw an order"
    links = rest_links_or_report(settings, stores, only, without_keys)
    if links is None:
        return EXIT_CONFIG
    store = await open_database_or_report(settings)
    if store is None:
        return EXIT_CONFIG
    now = time.time()
    failed = False
    try:
        async with aiohttp.ClientSession() as session:
            for link in links:
                client = WooClient(
                    session,
                    link.store_url,
                    link.consumer_key,
                    link.consumer_secret,
                    timeout=settings.bridge_order_rest_timeout_seconds,
                )
                written = 0
                try:
                    async for page in client.orders_modified(gmt(now - days * _DAY), gmt(now)):
                        for order in page:
                            row = row_of_order(link.name, order)
                            if row is not None:
                                await store.record_ledger(row)
                                written += 1
                        print(f"  {link.name}: {written} order(s)", file=sys.stderr, flush=True)
                except (WooApiError, StoreError) as exc:
                    print(f"{link.name}: failed: {secrets.scrub(str(exc))}")
                    failed = True
                    continue
                print(f"{link.name}: {written} order(s) written to the orders ledger")
    finally:
        await store.close()
    return 1 if failed else 0

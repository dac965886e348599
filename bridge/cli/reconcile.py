"""`woo-bridge reconcile`: one gap-filling pass by hand, with progress and what it recovered."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import aiohttp

from bridge import wiring
from bridge.cli.common import (
    EXIT_CONFIG,
    open_database_or_report,
    report_problems,
    rest_command_setup,
    rest_links_or_report,
    settings_or_report,
)
from bridge.config import ConfigError, Settings
from bridge.recovery.passes import PassResult, Progress, gmt, parse_gmt
from bridge.recovery.reconciler import Reconciler
from bridge.redact import Secrets

NAME = "reconcile"
HELP = "compare the stores' orders (REST API) with what webhooks brought; send what was missed"
DESCRIPTION = """One gap-filling pass by hand: list the orders each store with a REST API key
saved since the bridge's watermark (or --since), and store every state no webhook brought
as a recovered event, which a running bridge sends within seconds. Prints its progress and
what it recovered; exits 1 if a store's REST API failed."""
EPILOG = """\
examples:
  woo-bridge reconcile
  woo-bridge reconcile --store shop-vn
  woo-bridge reconcile --since 2024-05-01
  woo-bridge reconcile --store shop-vn --since 2024-05-01T08:00:00
"""

_DAY = 24 * 3600.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store", metavar="NAME", help="only this store (default: every store with a REST key)"
    )
    parser.add_argument(
        "--since",
        metavar="DATE",
        help="compare orders saved since this UTC date or time (2024-05-01 or "
        "2024-05-01T08:00:00); default: where the bridge got to (its watermark), or 24 hours",
    )


def run(args: argparse.Namespace) -> int:
    settings = settings_or_report()
    if settings is None:
        return EXIT_CONFIG
    since = None
    if args.since:
        try:
            since = gmt(parse_gmt(args.since))
        except ValueError:
            print(
                f"woo-bridge: --since {args.since!r} is not a date: write 2024-05-01 or "
                "2024-05-01T08:00:00 (UTC)",
                file=sys.stderr,
            )
            return EXIT_CONFIG
    try:
        return asyncio.run(_reconcile(settings, args.store, since))
    except ConfigError as exc:
        report_problems(exc)
        return EXIT_CONFIG


async def _reconcile(settings: Settings, only: str | None, since: str | None) -> int:
    # What the reconciler logs (a failing REST API, say) passes the same secret filter as
    # the bridge's own log, and so does what this command prints.
    stores, secrets = rest_command_setup(settings)
    links = rest_links_or_report(settings, stores, only)
    if links is None:
        return EXIT_CONFIG
    store = await open_database_or_report(settings)
    if store is None:
        return EXIT_CONFIG
    reconciler = Reconciler(store, links, wiring.reconcile_options(settings))
    failed = False
    try:
        async with aiohttp.ClientSession() as session:
            for link in links:
                start = since
                if start is None and await store.watermark(link.name) is None:
                    start = gmt(time.time() - _DAY)
                result = await reconciler.reconcile(
                    session, link, since=start, progress=_progress(link.name)
                )
                _report(result, secrets)
                failed = failed or result.error is not None
    finally:
        await store.close()
    return 1 if failed else 0


def _progress(store: str) -> Progress:
    def show(pages: int, orders: int, recovered: int) -> None:
        print(
            f"  {store}: page {pages}, {orders} order(s) compared, {recovered} recovered",
            file=sys.stderr,
            flush=True,
        )

    return show


def _report(result: PassResult, secrets: Secrets) -> None:
    if result.error:
        print(f"{result.store}: failed: {secrets.scrub(result.error)}")
        return
    print(
        f"{result.store}: {result.orders} order(s) compared, {result.recovered} recovered; "
        + (
            "a running bridge sends them within seconds."
            if result.recovered
            else "nothing was missing."
        )
    )

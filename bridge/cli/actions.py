"""`woo-bridge actions`: the audit of what staff did to orders from Telegram."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt

from bridge.cli.common import EXIT_CONFIG, open_store_or_report
from bridge.queue.models import OrderAction

NAME = "actions"
HELP = "list what staff did to orders from Telegram (status buttons), newest first"
DESCRIPTION = """List the order actions taken from Telegram, newest first.

Each line shows when (UTC), the store and order, who pressed (name and Telegram user id),
the change (from -> to) and how it ended: done, a race (the order had moved on in the
meantime, nothing changed) or failed (the store's HTTP status). Reads BRIDGE_DATA_DIR's
queue."""
EPILOG = """\
examples:
  woo-bridge actions
  woo-bridge actions --limit 10
  docker exec woo-bridge woo-bridge actions
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=50, help="how many to show (default 50)")


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_list(args.limit))


async def _list(limit: int) -> int:
    store = await open_store_or_report()
    if store is None:
        return EXIT_CONFIG
    try:
        actions = await store.order_actions(limit)
    finally:
        await store.close()
    if not actions:
        print("No order actions yet: staff have not used the status buttons.")
        return 0
    print(f"{'when (UTC)':<16}  {'store':<10} {'order':>8}  {'change':<24}  {'by':<28}  result")
    for action in actions:
        print(format_line(action))
    return 0


def format_line(action: OrderAction) -> str:
    when = dt.datetime.fromtimestamp(action.at, dt.UTC).strftime("%Y-%m-%d %H:%M")
    change = f"{action.from_status or '?'} -> {action.to_status or '?'}"
    who = f"{action.user_name} ({action.user_id})"
    return (
        f"{when:<16}  {action.store:<10} {'#' + action.order_id:>8}  {change:<24}  "
        f"{who:<28}  {action.result}"
    )

"""`woo-bridge report`: the sales report in the terminal, and its chart as a PNG file."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from pathlib import Path

from bridge.cli.common import (
    EXIT_CONFIG,
    open_database_or_report,
    report_problems,
    settings_or_report,
)
from bridge.config import ConfigError, Settings
from bridge.config_stores import load_stores
from bridge.render.renderer import Renderer
from bridge.reports.message import report_message
from bridge.reports.periods import PeriodError, parse_period
from bridge.reports.text import plain_text
from bridge.wiring import render_options

NAME = "report"
HELP = "print the sales report of a period from the bridge's orders ledger; write its chart"
DESCRIPTION = """The report /report sends in Telegram, printed here: orders, revenue (paid
orders, less refunds), average order value, statuses, top products, new customers and the
change against the previous period, per store and currency, in BRIDGE_LANGUAGE and
BRIDGE_TIMEZONE. With --output, the chart is written as a PNG (800x400)."""
EPILOG = """\
examples:
  woo-bridge report
  woo-bridge report --period 7d --output report.png
  woo-bridge report --period 2024-05-01 --store shop-vn
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--period",
        default="today",
        help="today, yesterday, week, month, 7d, 30d or a date YYYY-MM-DD (default: today)",
    )
    parser.add_argument("--store", metavar="NAME", help="only this store (default: every store)")
    parser.add_argument("--output", metavar="FILE", type=Path, help="write the chart (PNG) here")


def run(args: argparse.Namespace) -> int:
    settings = settings_or_report()
    if settings is None:
        return EXIT_CONFIG
    try:
        return asyncio.run(_report(settings, args))
    except ConfigError as exc:
        report_problems(exc)
        return EXIT_CONFIG


async def _report(settings: Settings, args: argparse.Namespace) -> int:
    stores = load_stores(settings)
    if args.store is not None and stores.get(args.store) is None:
        names = ", ".join(stores.names) or "none"
        print(f"woo-bridge: no store is named {args.store!r} (stores: {names})", file=sys.stderr)
        return EXIT_CONFIG
    try:
        period = parse_period(args.period, dt.datetime.now(settings.timezone))
    except PeriodError as exc:
        print(f"woo-bridge: --period: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    store = await open_database_or_report(settings)
    if store is None:
        return EXIT_CONFIG
    renderer = Renderer(render_options(settings, stores.urls()))
    fmt = renderer.formatter(renderer.language(None))
    try:
        built = await report_message(store, period, fmt, only_store=args.store, stores=stores.names)
    finally:
        await store.close()
    print(plain_text(built.text))
    if args.output is not None:
        if built.chart is None:
            print("woo-bridge: no order in this period: no chart written", file=sys.stderr)
            return 0
        args.output.write_bytes(built.chart)
        print(f"chart: {args.output} ({len(built.chart)} bytes, 800x400)", file=sys.stderr)
    return 0

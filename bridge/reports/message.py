"""A report as what the bot sends: its text and its chart, built from the ledger."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from bridge.queue.storage import Storage
from bridge.render.formatting import Formatter
from bridge.reports.build import build_report
from bridge.reports.chart import chart_png
from bridge.reports.figures import Figures, Report
from bridge.reports.periods import Period
from bridge.reports.text import report_text


@dataclass(frozen=True)
class ReportMessage:
    text: str
    #: the chart as a PNG, or None when no order brought revenue or counted
    chart: bytes | None
    caption: str


async def report_message(
    store: Storage,
    period: Period,
    fmt: Formatter,
    *,
    only_store: str | None = None,
    stores: Sequence[str] = (),
    heading: str | None = None,
) -> ReportMessage:
    """The report's text and chart; the chart is drawn off the event loop."""
    report = await build_report(store, period, only_store=only_store, stores=stores)
    text = report_text(report, fmt, summary=heading)
    charted = charted_figures(report)
    chart = None
    if charted is not None:
        labels = chart_labels(period)
        chart = await asyncio.to_thread(chart_png, charted.series, labels, charted.currency)
    caption = fmt.gettext("Revenue per hour") if period.hourly else fmt.gettext("Revenue per day")
    caption += f" ({charted.currency}) · " if charted else " · "
    return ReportMessage(text, chart, caption + fmt.gettext("Orders"))


def charted_figures(report: Report) -> Figures | None:
    """What the chart shows: the currency with the most paid orders, over every store."""
    every = report.totals or tuple(f for _, figures in report.stores for f in figures)
    shown = [f for f in every if f.orders]
    return max(shown, key=lambda f: (f.orders, f.revenue)) if shown else None


def chart_labels(period: Period) -> list[str]:
    """Hours (0 to 23) for one day, days of the month otherwise."""
    buckets = period.buckets()
    if period.hourly:
        return [str(b.hour) for b in buckets]
    return [str(b.day) for b in buckets]

"""A report as a Telegram message (HTML), in the reader's language and money format."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from decimal import Decimal

from bridge.render.formatting import Formatter
from bridge.render.labels import N_, ORDER_STATUSES
from bridge.reports.figures import Figures, Product, Report

PERIOD_WORDS = {
    "today": N_("Today"),
    "yesterday": N_("Yesterday"),
    "week": N_("This week"),
    "month": N_("This month"),
    "7d": N_("Last 7 days"),
    "30d": N_("Last 30 days"),
}


def report_text(report: Report, fmt: Formatter, *, summary: str | None = None) -> str:
    """The report's message; `summary` heads a scheduled summary instead of the title."""
    _ = fmt.gettext
    period = report.period
    last_day = period.end - dt.timedelta(days=1)
    span = fmt.date(period.start)
    if period.days > 1:
        span = f"{span} – {fmt.date(last_day)}"
    name = _(PERIOD_WORDS[period.name]) if period.name in PERIOD_WORDS else span
    heading = summary or _("📊 Sales report")
    lines = [f"<b>{html.escape(heading)}: {html.escape(name)}</b>"]
    if name != span:
        lines.append(html.escape(span))
    several = len(report.stores) > 1
    for store, figures in report.stores:
        if several:
            lines += ["", f"🏬 <b>{html.escape(store)}</b>"]
        if not figures:
            lines.append(_("No orders in this period."))
        for one in figures:
            lines += _figures_lines(one, fmt, period.days, short=False)
    if report.totals:
        for total in report.totals:
            lines += [
                "",
                "<b>"
                + html.escape(_("Total in %(currency)s") % {"currency": total.currency})
                + "</b>",
            ]
            lines += _figures_lines(total, fmt, period.days, short=True)
    if report.ledger_start is None or report.ledger_start > period.start.timestamp():
        start = (
            fmt.date(dt.datetime.fromtimestamp(report.ledger_start, dt.UTC))
            if report.ledger_start is not None
            else fmt.date(period.end)
        )
        lines += [
            "",
            "<i>"
            + html.escape(
                _(
                    "Figures start on %(date)s: the bridge's orders ledger begins there "
                    "(woo-bridge backfill fills it from the store)."
                )
                % {"date": start}
            )
            + "</i>",
        ]
    return "\n".join(lines)


def _figures_lines(f: Figures, fmt: Formatter, days: int, *, short: bool) -> list[str]:
    _ = fmt.gettext

    def money(amount: Decimal) -> str:
        return fmt.money(amount, f.currency)

    revenue_change, orders_change = f.change()
    lines = [
        "",
        _("Orders: %(count)s") % {"count": fmt.number(f.orders)}
        + _change(orders_change, fmt, days),
        _("Revenue: %(amount)s") % {"amount": money(f.revenue)}
        + _change(revenue_change, fmt, days),
    ]
    if f.refunds:
        lines.append(_("Refunds subtracted: %(amount)s") % {"amount": money(f.refunds)})
    if f.average is not None:
        lines.append(_("Average order value: %(amount)s") % {"amount": money(f.average)})
    lines.append(_("New customers: %(count)s") % {"count": fmt.number(f.new_customers)})
    if f.lost:
        lost = ", ".join(f"{fmt.label(ORDER_STATUSES, s)} {fmt.number(n)}" for s, n in f.lost)
        lines.append(_("Left out: %(list)s") % {"list": lost})
    if short:
        return [html.escape(line) if line else line for line in lines]
    if f.by_status:
        shown = ", ".join(f"{fmt.label(ORDER_STATUSES, s)} {fmt.number(n)}" for s, n in f.by_status)
        lines.append(_("By status: %(list)s") % {"list": shown})
    lines = [html.escape(line) if line else line for line in lines]
    lines += _top(
        _("Top products by quantity"), f.top_by_quantity, fmt, lambda p: fmt.number(p.quantity)
    )
    lines += _top(_("Top products by revenue"), f.top_by_revenue, fmt, lambda p: money(p.revenue))
    return lines


def _top(
    title: str, products: tuple[Product, ...], fmt: Formatter, shown: Callable[[Product], str]
) -> list[str]:
    if not products:
        return []
    lines = ["", f"<b>{html.escape(title)}</b>"]
    for n, product in enumerate(products, 1):
        lines.append(f"{n}. {html.escape(_plain(product.name))} · {html.escape(shown(product))}")
    return lines


def _change(percent: int | None, fmt: Formatter, days: int) -> str:
    if percent is None:
        return ""
    sign = "+" if percent >= 0 else "−"
    if days == 1:
        text = fmt.gettext("%(change)s vs the day before")
    else:
        text = fmt.gettext("%(change)s vs previous %(days)s days")
    return " (" + text % {"change": f"{sign}{abs(percent)}%", "days": days} + ")"


def _plain(name: str) -> str:
    """A product name as WooCommerce stores it may hold entities (`&ndash;`)."""
    return html.unescape(re.sub(r"<[^>]+>", "", name))


def plain_text(message: str) -> str:
    """The message without its HTML, for a terminal."""
    return html.unescape(re.sub(r"<[^>]+>", "", message))

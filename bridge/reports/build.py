"""A report from the orders ledger: the rows of the period and of the one before it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bridge.queue.storage import Storage
from bridge.reports.figures import Report, compute
from bridge.reports.periods import Period, parse_period


async def build_report(
    store: Storage,
    period: Period,
    *,
    only_store: str | None = None,
    stores: Sequence[str] = (),
) -> Report:
    """The report over `period`, of `only_store` or of every store (`stores` are shown even
    without an order)."""
    before = period.previous()
    since, until = period.start.timestamp(), period.end.timestamp()
    rows = await store.ledger_rows(since, until, only_store)
    previous = await store.ledger_rows(before.start.timestamp(), since, only_store)
    known = await store.known_customers(since, only_store)
    start = await store.ledger_start(only_store)
    shown = [only_store] if only_store else list(stores)
    return compute(period, rows, previous, known, shown, start)


def period_at(text: str | None, now: float, zone: dt.tzinfo) -> Period:
    """The period `text` names, at the epoch `now`, in the report's time zone."""
    return parse_period(text, dt.datetime.fromtimestamp(now, zone))

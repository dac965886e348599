"""One gap-filling pass: its result, its progress, and WooCommerce's date format."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

_FORMAT = "%Y-%m-%dT%H:%M:%S"

#: told after each page: pages read, orders compared, events recovered
Progress = Callable[[int, int, int], None]


@dataclass
class PassResult:
    store: str
    orders: int = 0
    recovered: int = 0
    pages: int = 0
    error: str | None = None
    first_start: bool = False

    def describe(self) -> str:
        if self.error:
            return f"failed: {self.error}"
        if self.first_start:
            return "first start: watching orders saved from now on"
        return f"ok: {self.orders} order(s) compared, {self.recovered} recovered"


def gmt(timestamp: float) -> str:
    """Epoch seconds as WooCommerce's date_modified_gmt (naive UTC, to the second)."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime(_FORMAT)


def parse_gmt(text: str) -> float:
    """A date_modified_gmt (or a date, YYYY-MM-DD) as epoch seconds; raises ValueError."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", ""))
    return value.replace(tzinfo=dt.UTC).timestamp()

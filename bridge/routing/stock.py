"""Stock alerts: when a product's stock crosses a line staff care about.

WooCommerce sends product.updated on every save of a product (a price, a description, a
CSV import), and the payload carries no previous stock. Keeping each product's (and each
variation's) last stock status and quantity turns that stream into "out of stock", "only
3 left", "back in stock", once each, for the routes that ask for stock alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bridge.payloads import Payload, PayloadKind
from bridge.queue.models import StockLevel, StockState

_STATUSES = frozenset({"instock", "outofstock", "onbackorder"})


class Stock(StrEnum):
    """Where a product's stock stands, for one threshold."""

    IN = "in"
    LOW = "low"
    OUT = "out"
    BACKORDER = "backorder"


@dataclass(frozen=True)
class StockChange:
    """A product's stock before and after an event."""

    #: the level last seen, or None for a product never seen before
    before: StockLevel | None
    after: StockLevel
    #: the product's own low_stock_amount, when WooCommerce sends it
    low_stock_amount: int | None = None
    #: False when the payload is older than one already seen (a late delivery)
    current: bool = True

    def threshold(self, route_value: int | None) -> int | None:
        """The quantity at or below which stock is low: the product's own, else the route's."""
        return self.low_stock_amount if self.low_stock_amount is not None else route_value

    def crossing(self, route_value: int | None) -> tuple[Stock | None, Stock] | None:
        """(old, new) when the stock crossed a line for this threshold; None otherwise.

        A product seen for the first time crosses when it is anything but plainly in stock:
        the bridge cannot know what it was, and a shortage must not go unsaid.
        """
        if not self.current:
            return None
        threshold = self.threshold(route_value)
        new = level(self.after, threshold)
        old = None if self.before is None else level(self.before, threshold)
        if old == new or (old is None and new is Stock.IN):
            return None
        return old, new


def level(stock: StockLevel, threshold: int | None) -> Stock:
    """Where `stock` stands; a quantity at or below `threshold` is low."""
    if stock.status == "outofstock":
        return Stock.OUT
    if stock.status == "onbackorder":
        return Stock.BACKORDER
    low = stock.quantity is not None and threshold is not None and stock.quantity <= threshold
    return Stock.LOW if low else Stock.IN


def stock_state(store: str, payload: Payload) -> StockState | None:
    """The stock a product (or variation) payload shows, if it shows one."""
    if payload.kind is not PayloadKind.RESOURCE or payload.resource != "product":
        return None
    data = payload.data
    status = data.get("stock_status")
    if payload.resource_id is None or status not in _STATUSES:
        return None
    # manage_stock off: WooCommerce still sends a quantity (null or a stale number), which
    # means nothing; only the status counts.
    quantity = _integer(data.get("stock_quantity")) if data.get("manage_stock") else None
    modified = data.get("date_modified_gmt") or data.get("date_modified")
    return StockState(
        store,
        str(payload.resource_id),
        StockLevel(str(status), quantity, modified if isinstance(modified, str) else ""),
    )


def compare(state: StockState, payload: Payload, seen: StockLevel | None) -> StockChange:
    """Compare `state` with the last stock seen for its product."""
    after = state.level
    stale = bool(
        seen is not None and after.modified and seen.modified and after.modified < seen.modified
    )
    low = _integer(payload.data.get("low_stock_amount"))
    return StockChange(seen, after, low, current=not stale)


def _integer(value: object) -> int | None:
    """A whole number from a payload field (WooCommerce may send "3" or 3.0), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None

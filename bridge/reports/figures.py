"""A report's figures, computed from ledger rows by plain functions (no I/O).

Revenue counts paid orders only (WooCommerce's own paid statuses, processing and
completed) less their partial refunds; cancelled, failed and refunded orders are left out
and counted apart. Amounts are Decimals, per store and currency: two currencies are never
added up, not even in the total over several stores.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from bridge.queue.models import LedgerRow
from bridge.reports.periods import Period

PAID = frozenset({"processing", "completed"})
#: orders that brought nothing: counted apart, never in the revenue
LOST = ("cancelled", "failed", "refunded")
TOP = 5


@dataclass(frozen=True)
class Product:
    name: str
    quantity: int
    revenue: Decimal


@dataclass(frozen=True)
class Figures:
    """One store's (or the stores' total) figures in one currency over one period."""

    currency: str
    orders: int = 0
    revenue: Decimal = Decimal()
    refunds: Decimal = Decimal()
    #: orders of every status placed in the period, by status
    by_status: tuple[tuple[str, int], ...] = ()
    #: cancelled, failed and refunded orders: how many, and what they would have brought
    lost: tuple[tuple[str, int], ...] = ()
    top_by_quantity: tuple[Product, ...] = ()
    top_by_revenue: tuple[Product, ...] = ()
    new_customers: int = 0
    #: revenue and paid orders per bucket of the period (hours or days)
    series: tuple[tuple[Decimal, int], ...] = ()
    #: the previous period's revenue and orders, for the change
    previous_revenue: Decimal = Decimal()
    previous_orders: int = 0

    @property
    def average(self) -> Decimal | None:
        """The average order value, or None without an order."""
        return (self.revenue / self.orders).quantize(Decimal("0.01")) if self.orders else None

    def change(self) -> tuple[int | None, int | None]:
        """Percent change of revenue and of orders against the previous period (None:
        nothing to compare with)."""
        return _percent(self.revenue, self.previous_revenue), _percent(
            Decimal(self.orders), Decimal(self.previous_orders)
        )


@dataclass(frozen=True)
class Report:
    """Figures per store and currency, and the total per currency over several stores."""

    period: Period
    stores: tuple[tuple[str, tuple[Figures, ...]], ...]
    totals: tuple[Figures, ...] = ()
    #: when the ledger's oldest order was placed (None: empty), to say figures start there
    ledger_start: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def compute(
    period: Period,
    rows: Iterable[LedgerRow],
    previous: Iterable[LedgerRow],
    known_customers: set[tuple[str, str]],
    stores: Sequence[str] = (),
    ledger_start: float | None = None,
) -> Report:
    """The report over `period` from its ledger rows and the previous period's.

    `known_customers` are (store, customer) with an order before the period: their orders
    are not new customers. `stores` lists stores to show even without an order.
    """
    grouped: dict[tuple[str, str], list[LedgerRow]] = defaultdict(list)
    for row in rows:
        grouped[(row.store, row.currency)].append(row)
    before: dict[tuple[str, str], list[LedgerRow]] = defaultdict(list)
    for row in previous:
        before[(row.store, row.currency)].append(row)
    buckets = len(period.buckets())
    names = sorted({s for s, _ in grouped} | {s for s, _ in before} | set(stores))
    per_store = []
    for store in names:
        currencies = sorted(
            {c for s, c in grouped if s == store} | {c for s, c in before if s == store}
        )
        per_store.append(
            (
                store,
                tuple(
                    _figures(
                        currency,
                        grouped.get((store, currency), []),
                        before.get((store, currency), []),
                        known_customers,
                        period,
                        buckets,
                    )
                    for currency in currencies
                ),
            )
        )
    totals: tuple[Figures, ...] = ()
    if len(names) > 1:
        every = sorted({c for _, c in grouped} | {c for _, c in before})
        totals = tuple(
            _figures(
                currency,
                [r for (_, c), rs in grouped.items() if c == currency for r in rs],
                [r for (_, c), rs in before.items() if c == currency for r in rs],
                known_customers,
                period,
                buckets,
            )
            for currency in every
        )
    return Report(period, tuple(per_store), totals, ledger_start)


def _figures(
    currency: str,
    rows: Sequence[LedgerRow],
    previous: Sequence[LedgerRow],
    known: set[tuple[str, str]],
    period: Period,
    buckets: int,
) -> Figures:
    paid = [r for r in rows if r.status in PAID]
    revenue = sum((_net(r) for r in paid), Decimal())
    quantities: Counter[str] = Counter()
    takings: dict[str, Decimal] = defaultdict(Decimal)
    amounts = [Decimal()] * buckets
    counts = [0] * buckets
    for row in paid:
        for name, quantity, total in row.items:
            quantities[name] += quantity
            takings[name] += Decimal(total)
        index = period.bucket_of(row.created_at)
        if 0 <= index < buckets:
            amounts[index] += _net(row)
            counts[index] += 1
    products = {n: Product(n, quantities[n], takings[n]) for n in quantities}
    by_quantity = sorted(products.values(), key=lambda p: (-p.quantity, -p.revenue, p.name))
    by_revenue = sorted(products.values(), key=lambda p: (-p.revenue, -p.quantity, p.name))
    statuses = Counter(r.status for r in rows)
    # A customer is new when the ledger shows no order of theirs before the period, and
    # counted once however many orders they placed in it.
    new = {(r.store, r.customer) for r in paid if r.customer} - known
    previous_paid = [r for r in previous if r.status in PAID]
    return Figures(
        currency=currency,
        orders=len(paid),
        revenue=revenue,
        refunds=sum((Decimal(r.refunded) for r in paid), Decimal()),
        by_status=tuple(sorted(statuses.items(), key=lambda s: (-s[1], s[0]))),
        lost=tuple((s, statuses[s]) for s in LOST if statuses[s]),
        top_by_quantity=tuple(by_quantity[:TOP]),
        top_by_revenue=tuple(by_revenue[:TOP]),
        new_customers=len(new),
        series=tuple(zip(amounts, counts, strict=True)),
        previous_revenue=sum((_net(r) for r in previous_paid), Decimal()),
        previous_orders=len(previous_paid),
    )


def _net(row: LedgerRow) -> Decimal:
    return Decimal(row.total) - Decimal(row.refunded)


def _percent(now: Decimal, before: Decimal) -> int | None:
    if before == 0:
        return None
    return int(((now - before) * 100 / before).to_integral_value())

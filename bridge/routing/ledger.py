"""An order payload as a row of the orders ledger, the figures sales reports add up.

Only what a report needs is kept (no address, no name, no e-mail): amounts as the decimal
text WooCommerce writes, a summary of the line items, and a customer key that is the
customer's id or, for a guest, a digest of the e-mail (to count new customers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge.payloads import Payload, PayloadKind
from bridge.queue.models import LedgerRow


def ledger_row(store: str, payload: Payload) -> LedgerRow | None:
    """The ledger row an order payload shows, or None if it is no order with a date."""
    if payload.kind is not PayloadKind.RESOURCE or payload.resource != "order":
        return None
    return row_of_order(store, payload.data)


def row_of_order(store: str, data: Mapping[str, Any]) -> LedgerRow | None:
    """The ledger row of an order as the webhook or the REST API gives it."""
    order_id, status = data.get("id"), data.get("status")
    if isinstance(order_id, bool) or not isinstance(order_id, int | str) or not status:
        return None
    created = _epoch(data.get("date_created_gmt")) or _epoch(data.get("date_created"))
    if created is None:
        return None
    refunds = data.get("refunds")
    if not isinstance(refunds, list):
        refunds = []
    refunded = sum(
        (abs(_amount(r.get("total"))) for r in refunds if isinstance(r, dict)), Decimal()
    )
    modified = data.get("date_modified_gmt") or data.get("date_modified")
    return LedgerRow(
        store=store,
        order_id=str(order_id),
        status=str(status),
        currency=str(data.get("currency") or ""),
        total=str(_amount(data.get("total"))),
        refunded=str(refunded),
        items=_items(data.get("line_items")),
        customer=_customer(data),
        created_at=created,
        modified=modified if isinstance(modified, str) else "",
    )


def _items(lines: object) -> tuple[tuple[str, int, str], ...]:
    if not isinstance(lines, list):
        return ()
    items = []
    for line in lines:
        if not isinstance(line, dict):
            continue
        quantity = line.get("quantity")
        name = line.get("name") or f"#{line.get('product_id', '?')}"
        count = quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else 0
        items.append((str(name), count, str(_amount(line.get("total")))))
    return tuple(items)


def _customer(data: Mapping[str, Any]) -> str:
    customer_id = data.get("customer_id")
    if isinstance(customer_id, int) and not isinstance(customer_id, bool) and customer_id > 0:
        return f"id:{customer_id}"
    billing = data.get("billing")
    email = billing.get("email") if isinstance(billing, dict) else None
    if isinstance(email, str) and email.strip():
        # A digest, so that the ledger holds no e-mail address, only "the same guest".
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]
        return f"guest:{digest}"
    return ""


def _amount(value: object) -> Decimal:
    try:
        amount = Decimal(str(value)) if value not in (None, "") else Decimal()
    except InvalidOperation:
        return Decimal()
    return amount if amount.is_finite() else Decimal()


def _epoch(value: object) -> float | None:
    """Epoch seconds of a WooCommerce date (one without an offset is taken as UTC)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        # date_created without its _gmt twin is the store's local time; the payload does not
        # name the store's zone, so it is taken as UTC (off by the store's offset at most).
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()

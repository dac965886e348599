"""Plain, always-present values for templates, built tolerantly from payloads.

Templates run with StrictUndefined so that a typo fails loudly; the price of that is
that every name a template uses must exist. These views guarantee it: a field missing
from the payload, or `[]` where PHP had an empty object, becomes an empty value here.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from bridge.payloads import Payload


def obj(value: object) -> Mapping[str, Any]:
    """A mapping, or an empty one for `[]`, null and anything else."""
    return value if isinstance(value, Mapping) else {}


def objects(value: object) -> list[Mapping[str, Any]]:
    """The mappings in a list, skipping anything else."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def text(value: object) -> str:
    """A display string with WooCommerce's HTML entities decoded (`&ndash;` -> `–`).

    Escaping for Telegram happens later, in the template's autoescape.
    """
    if value is None or isinstance(value, Mapping | list) or value is False:
        return ""
    return html.unescape(str(value)).strip()


def person_name(address: Mapping[str, Any]) -> str:
    return " ".join(
        p for p in (text(address.get("first_name")), text(address.get("last_name"))) if p
    )


def address_lines(address: Mapping[str, Any]) -> str:
    """A postal address on one line, skipping empty parts."""
    parts = [
        text(address.get(key))
        for key in ("company", "address_1", "address_2", "city", "state", "postcode", "country")
    ]
    return ", ".join(p for p in parts if p)


def order_view(data: Mapping[str, Any]) -> dict[str, Any]:
    billing, shipping = obj(data.get("billing")), obj(data.get("shipping"))
    items = [
        {
            "name": text(item.get("name")),
            "quantity": item.get("quantity") if isinstance(item.get("quantity"), int) else 0,
            "total": text(item.get("total")),
            "sku": text(item.get("sku")),
        }
        for item in objects(data.get("line_items"))
    ]
    return {
        "id": text(data.get("id")),
        "number": text(data.get("number")) or text(data.get("id")),
        "status": text(data.get("status")),
        "currency": text(data.get("currency")),
        "total": text(data.get("total")),
        "customer_name": person_name(billing) or person_name(shipping),
        "email": text(billing.get("email")),
        "phone": text(billing.get("phone")),
        "billing_address": address_lines(billing),
        "shipping_address": address_lines(shipping),
        "shipping_methods": [
            text(line.get("method_title")) for line in objects(data.get("shipping_lines"))
        ],
        "payment_method": text(data.get("payment_method_title"))
        or text(data.get("payment_method")),
        "customer_note": text(data.get("customer_note")),
        "date_created": text(data.get("date_created")),
        "line_items": items,
    }


def product_view(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": text(data.get("id")),
        "name": text(data.get("name")),
        "sku": text(data.get("sku")),
        "price": text(data.get("price")),
        "regular_price": text(data.get("regular_price")),
        "sale_price": text(data.get("sale_price")),
        "stock_status": text(data.get("stock_status")),
        "stock_quantity": text(data.get("stock_quantity")),
        "permalink": text(data.get("permalink")),
        "status": text(data.get("status")),
    }


def customer_view(data: Mapping[str, Any]) -> dict[str, Any]:
    billing = obj(data.get("billing"))
    return {
        "id": text(data.get("id")),
        "name": person_name(data) or person_name(billing) or text(data.get("username")),
        "email": text(data.get("email")) or text(billing.get("email")),
        "city": text(billing.get("city")),
        "country": text(billing.get("country")),
        "orders_count": text(data.get("orders_count")),
    }


def coupon_view(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": text(data.get("id")),
        "code": text(data.get("code")),
        "amount": text(data.get("amount")),
        "discount_type": text(data.get("discount_type")),
        "date_expires": text(data.get("date_expires")),
        "usage_count": text(data.get("usage_count")),
        "usage_limit": text(data.get("usage_limit")),
    }


_VIEWS = {
    "order": order_view,
    "product": product_view,
    "customer": customer_view,
    "coupon": coupon_view,
}


#: `status_change` of every event that is not an order status change
NO_STATUS_CHANGE: Mapping[str, object] = {"before": "", "after": "", "changed": False}


def template_context(
    payload: Payload, event_id: int, status_change: Mapping[str, object] | None = None
) -> dict[str, Any]:
    """Everything a template may use. Documented in the README; keep the two in step."""
    data = payload.data
    context: dict[str, Any] = {
        "status_change": dict(status_change or NO_STATUS_CHANGE),
        "topic": payload.topic,
        "resource": payload.resource,
        "event": payload.event,
        "kind": payload.kind.value,
        "event_id": event_id,
        "resource_id": text(payload.resource_id),
        "payload": data,
        "problem": payload.problem or "",
        "error": {
            "code": text(data.get("code")),
            "message": text(data.get("message")),
            "status": text(obj(data.get("data")).get("status")),
        },
        "action": {"name": text(data.get("action")), "arg": data.get("arg")},
        "fields": {
            k: text(v)
            for k, v in data.items()
            if isinstance(v, str | int | float) and not isinstance(v, bool) and text(v)
        },
    }
    for name, view in _VIEWS.items():
        context[name] = view(data if payload.resource == name else {})
    return context

"""Plain, always-present values for templates, built tolerantly from payloads.

Templates run with StrictUndefined so that a typo fails loudly; the price of that is that
every name a template uses must exist. These views guarantee it: a field missing from the
payload, or `[]` where PHP had an empty object, becomes an empty value here. Values are
ready to show in the reader's language (money, dates, names of statuses); the raw payload
stays available as `payload`. docs/messages.md documents every name; keep the two in step.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from bridge.payloads import Payload
from bridge.render.formatting import Formatter, to_decimal
from bridge.render.labels import DISCOUNT_TYPES, ORDER_STATUSES, PRODUCT_STATUSES, STOCK_STATUSES
from bridge.render.store_text import strip_to_text

#: how many characters of a description a message shows
DESCRIPTION_CHARS = 300
#: how many characters of the customer's note a message shows
NOTE_CHARS = 600
#: how many characters of any other value (a name, an address, an item) a message shows:
#: free text is cut before anything else is dropped, so an order keeps its items
TEXT_CHARS = 200
# Store HTML longer than this is cut before it is parsed: a 1 MB description must not
# cost a second of parsing to show 300 characters.
_HTML_READ_CHARS = 20_000


def obj(value: object) -> Mapping[str, Any]:
    """A mapping, or an empty one for `[]`, null and anything else."""
    return value if isinstance(value, Mapping) else {}


def objects(value: object) -> list[Mapping[str, Any]]:
    """The mappings in a list, skipping anything else."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def text(value: object, limit: int = TEXT_CHARS) -> str:
    """A display string with WooCommerce's HTML entities decoded (`&ndash;` -> `–`), cut to
    `limit` characters.

    Escaping for Telegram happens later, in the template's autoescape.
    """
    if value is None or isinstance(value, Mapping | list) or value is False:
        return ""
    # An entity is at most a few characters long: cut first, so a huge value costs little.
    raw = str(value)[: limit * 10 + 16]
    return shorten(html.unescape(raw).strip(), limit)


def html_text(value: object, limit: int = TEXT_CHARS) -> str:
    """Store HTML (a description, price_html) reduced to text, cut to `limit` characters."""
    if not isinstance(value, str):
        return ""
    return shorten(strip_to_text(value[:_HTML_READ_CHARS]), limit)


def shorten(plain: str, limit: int) -> str:
    """`plain` cut to at most `limit` characters at a word, with "…" if anything was cut."""
    if len(plain) <= limit:
        return plain
    cut = plain[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:\n") + "…"


def web_link(value: object) -> str:
    """An http(s) address to link to, or "" (Telegram links other schemes too; we do not)."""
    link = text(value)
    return link if link.startswith(("https://", "http://")) else ""


def person_name(address: Mapping[str, Any]) -> str:
    return " ".join(
        p for p in (text(address.get("first_name")), text(address.get("last_name"))) if p
    )


def address_line(address: Mapping[str, Any], fmt: Formatter) -> str:
    """A postal address on one line, skipping empty parts; the country by its name."""
    parts = [
        text(address.get(key))
        for key in ("company", "address_1", "address_2", "city", "state", "postcode")
    ]
    parts.append(fmt.country(address.get("country")))
    return ", ".join(p for p in parts if p)


def _nonzero_money(value: object, currency: object, fmt: Formatter) -> str:
    amount = to_decimal(value)
    return fmt.money(value, currency) if amount else ""


def _item_details(item: Mapping[str, Any]) -> str:
    """A line item's visible attributes (`Size: M, Color: Black`), as WooCommerce shows them."""
    shown = []
    for meta in objects(item.get("meta_data")):
        key, value = meta.get("display_key"), meta.get("display_value")
        if isinstance(key, str) and key and not key.startswith("_"):
            value_text = html_text(value) if isinstance(value, str) else text(value)
            if value_text:
                shown.append(f"{text(key)}: {value_text}")
    return ", ".join(shown)


def order_view(data: Mapping[str, Any], fmt: Formatter) -> dict[str, Any]:
    billing, shipping = obj(data.get("billing")), obj(data.get("shipping"))
    currency = text(data.get("currency"))
    items = [
        {
            "name": text(item.get("name")),
            "quantity": fmt.number(item.get("quantity")),
            "price": fmt.money(item.get("price"), currency),
            "total": fmt.money(item.get("total"), currency),
            "sku": text(item.get("sku")),
            "details": _item_details(item),
        }
        for item in objects(data.get("line_items"))
    ]
    quantities = [to_decimal(item.get("quantity")) for item in objects(data.get("line_items"))]
    created = fmt.moment(data, "date_created")
    shipping_lines = objects(data.get("shipping_lines"))
    return {
        "id": text(data.get("id")),
        "number": text(data.get("number")) or text(data.get("id")),
        "status": text(data.get("status")),
        "status_label": fmt.label(ORDER_STATUSES, data.get("status")),
        "currency": currency,
        "total": fmt.money(data.get("total"), currency),
        "discount_total": _nonzero_money(data.get("discount_total"), currency, fmt),
        "shipping_total": _nonzero_money(data.get("shipping_total"), currency, fmt),
        "total_tax": _nonzero_money(data.get("total_tax"), currency, fmt),
        "customer_name": person_name(billing) or person_name(shipping),
        "email": text(billing.get("email")),
        "phone": text(billing.get("phone")) or text(shipping.get("phone")),
        "billing_address": address_line(billing, fmt),
        "shipping_address": address_line(shipping, fmt),
        "shipping_methods": [t for t in (text(s.get("method_title")) for s in shipping_lines) if t],
        "payment_method": (
            text(data.get("payment_method_title")) or text(data.get("payment_method"))
        ),
        "customer_note": text(data.get("customer_note"), NOTE_CHARS),
        "date_created": fmt.datetime(created),
        "created_ago": fmt.ago(created),
        "date_paid": fmt.datetime(fmt.moment(data, "date_paid")),
        "line_items": items,
        "item_count": fmt.number(sum((q for q in quantities if q is not None), start=0)),
        # Set by the renderer when the list is cut to fit one message.
        "more_items": 0,
    }


def _product_price(data: Mapping[str, Any], fmt: Formatter) -> str:
    price_text = html_text(data.get("price_html"))
    if data.get("type") in ("variable", "grouped") and price_text:
        return price_text  # a range of prices, which `price` (the lowest) would hide
    if fmt.store_currency or not price_text:
        return fmt.money(data.get("price"))
    return price_text  # the store's own formatting, with its currency symbol


def product_view(data: Mapping[str, Any], fmt: Formatter) -> dict[str, Any]:
    regular, sale = fmt.money(data.get("regular_price")), fmt.money(data.get("sale_price"))
    return {
        "id": text(data.get("id")),
        "parent_id": text(data.get("parent_id")) if data.get("parent_id") else "",
        "name": text(data.get("name")),
        "type": text(data.get("type")),
        "status": text(data.get("status")),
        "status_label": fmt.label(PRODUCT_STATUSES, data.get("status")),
        "sku": text(data.get("sku")),
        "price": _product_price(data, fmt),
        "regular_price": regular,
        "sale_price": sale,
        "on_sale": bool(data.get("on_sale") is True or (sale and sale != regular)),
        "price_text": html_text(data.get("price_html")),
        "stock_status": text(data.get("stock_status")),
        "stock_label": fmt.label(STOCK_STATUSES, data.get("stock_status")),
        "stock_quantity": fmt.number(data.get("stock_quantity")),
        "permalink": web_link(data.get("permalink")),
        "short_description": html_text(data.get("short_description"), DESCRIPTION_CHARS),
        "categories": [
            t for t in (text(c.get("name")) for c in objects(data.get("categories"))) if t
        ],
    }


def customer_view(data: Mapping[str, Any], fmt: Formatter) -> dict[str, Any]:
    billing = obj(data.get("billing"))
    return {
        "id": text(data.get("id")),
        "name": person_name(data) or person_name(billing) or text(data.get("username")),
        "username": text(data.get("username")),
        "email": text(data.get("email")) or text(billing.get("email")),
        "phone": text(billing.get("phone")),
        "city": text(billing.get("city")),
        "country": fmt.country(billing.get("country")),
        "country_code": text(billing.get("country")),
        "orders_count": fmt.number(data.get("orders_count")),
        "date_created": fmt.datetime(fmt.moment(data, "date_created")),
    }


def _coupon_amount(data: Mapping[str, Any], fmt: Formatter) -> str:
    if data.get("discount_type") == "percent":
        return fmt.percent(data.get("amount"))
    return fmt.money(data.get("amount"))


def coupon_view(data: Mapping[str, Any], fmt: Formatter) -> dict[str, Any]:
    return {
        "id": text(data.get("id")),
        "code": text(data.get("code")),
        "amount": _coupon_amount(data, fmt),
        "discount_type": text(data.get("discount_type")),
        "discount_label": fmt.label(DISCOUNT_TYPES, data.get("discount_type")),
        "date_expires": fmt.date(fmt.moment(data, "date_expires")),
        "usage_count": fmt.number(data.get("usage_count")) or "0",
        "usage_limit": fmt.number(data.get("usage_limit")),
        "minimum_amount": _nonzero_money(data.get("minimum_amount"), None, fmt),
        "maximum_amount": _nonzero_money(data.get("maximum_amount"), None, fmt),
        "free_shipping": data.get("free_shipping") is True,
        "description": text(data.get("description"), DESCRIPTION_CHARS),
    }


def scalar_fields(data: Mapping[str, Any]) -> dict[str, str]:
    """A payload's top-level text and number fields, as text."""
    return {
        k: text(v)
        for k, v in data.items()
        if isinstance(v, str | int | float) and not isinstance(v, bool) and text(v)
    }


def action_view(data: Mapping[str, Any]) -> dict[str, Any]:
    arg = data.get("arg")
    scalar = isinstance(arg, str | int | float) and not isinstance(arg, bool)
    return {
        "name": text(data.get("action")),
        "arg": arg,
        "arg_text": text(arg) if scalar else "",
        "arg_fields": scalar_fields(obj(arg)),
    }


_VIEWS = {
    "order": order_view,
    "product": product_view,
    "customer": customer_view,
    "coupon": coupon_view,
}


def _status_change(change: Mapping[str, object], fmt: Formatter) -> dict[str, object]:
    """The router's status change, with the statuses' names in the reader's language."""
    return {
        **change,
        "before_label": fmt.label(ORDER_STATUSES, change.get("before")),
        "after_label": fmt.label(ORDER_STATUSES, change.get("after")),
    }


#: `status_change` of every event that is not an order status change
NO_STATUS_CHANGE: Mapping[str, object] = {"before": "", "after": "", "changed": False}


def template_context(
    payload: Payload,
    event_id: int,
    fmt: Formatter,
    *,
    language: str = "en",
    admin_url: str = "",
    status_change: Mapping[str, object] | None = None,
    store: str = "",
) -> dict[str, Any]:
    """Everything a template may use. Documented in docs/messages.md; keep the two in step."""
    data = payload.data
    context: dict[str, Any] = {
        "store": store,
        "status_change": _status_change(status_change or NO_STATUS_CHANGE, fmt),
        "topic": payload.topic,
        "resource": payload.resource,
        "event": payload.event,
        "kind": payload.kind.value,
        "event_id": event_id,
        "resource_id": text(payload.resource_id),
        "language": language,
        "admin_url": admin_url,
        "payload": data,
        "problem": payload.problem or "",
        "error": {
            "code": text(data.get("code")),
            "message": text(data.get("message")),
            "status": text(obj(data.get("data")).get("status")),
        },
        "action": action_view(data),
        "fields": scalar_fields(data),
    }
    for name, view in _VIEWS.items():
        context[name] = view(data if payload.resource == name else {}, fmt)
    return context

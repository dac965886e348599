"""Names for WooCommerce's codes (order statuses, stock statuses, ...), in English.

The names are translated when shown (Formatter.label); N_ only marks them for `pybabel extract`.
The English wording follows WooCommerce's own admin screens, so staff recognise it.
"""

from __future__ import annotations

from collections.abc import Mapping


def N_(message: str) -> str:  # the gettext convention's name for "translate later"
    """Mark `message` for translation without translating it here."""
    return message


ORDER_STATUSES: Mapping[str, str] = {
    "pending": N_("Pending payment"),
    "processing": N_("Processing"),
    "on-hold": N_("On hold"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
    "refunded": N_("Refunded"),
    "failed": N_("Failed"),
    "checkout-draft": N_("Draft"),
    "trash": N_("In the trash"),
}

PRODUCT_STATUSES: Mapping[str, str] = {
    "publish": N_("Published"),
    "draft": N_("Draft"),
    "pending": N_("Pending review"),
    "private": N_("Private"),
    "future": N_("Scheduled"),
    "trash": N_("In the trash"),
}

STOCK_STATUSES: Mapping[str, str] = {
    "instock": N_("In stock"),
    "outofstock": N_("Out of stock"),
    "onbackorder": N_("On backorder"),
}

DISCOUNT_TYPES: Mapping[str, str] = {
    "percent": N_("Percentage discount"),
    "fixed_cart": N_("Fixed cart discount"),
    "fixed_product": N_("Fixed product discount"),
}


def readable(code: str) -> str:
    """A code no table knows (a plugin's own order status, say), made readable: `wc-shipped` ->
    `Shipped`."""
    words = code.removeprefix("wc-").replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def order_status_name(code: str) -> str:
    """An order status's English name: WooCommerce's own, or the code made readable."""
    return ORDER_STATUSES.get(code) or readable(code)

"""A sample payload for each template, so that `woo-bridge check` can run every template in
every language before a real event needs it.

The resources in samples/ are the WooCommerce REST API documentation's examples, with a few
fields filled in (a customer note, a sale price, an expiry date) so that more of each
template runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from bridge.payloads import Payload, PayloadKind, parse_payload

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
RESOURCES = ("order", "product", "customer", "coupon")
_SAMPLE_IDS = {"order": 727, "product": 794, "customer": 25, "coupon": 719}

_BY_SHAPE = {
    "deleted": Payload("booking.deleted", PayloadKind.DELETED, {"id": 12}),
    "action": Payload(
        "action.woocommerce_payment_complete",
        PayloadKind.ACTION,
        {"action": "woocommerce_payment_complete", "arg": 727},
    ),
    "rest_error": Payload(
        "order.created",
        PayloadKind.ERROR,
        {
            "code": "woocommerce_rest_cannot_view",
            "message": "Sorry, you cannot view this resource.",
            "data": {"status": 401},
        },
    ),
    "unreadable": Payload(
        "order.created",
        PayloadKind.UNREADABLE,
        problem="not valid JSON (Expecting value: line 1 column 1 (char 0))",
    ),
    "default": Payload(
        "booking.created", PayloadKind.RESOURCE, {"id": 12, "name": "Sample", "status": "ok"}
    ),
}


def resource_body(resource: str) -> bytes:
    return (SAMPLES_DIR / f"{resource}.json").read_bytes()


def sample_for(template: str) -> Payload:
    """A payload `template` (a file name such as `order.created.html`) is made for."""
    name = template.removesuffix(".html")
    if name in _BY_SHAPE:
        return _BY_SHAPE[name]
    resource, _, event = name.partition(".")
    if resource == "action" and event:
        return Payload(name, PayloadKind.ACTION, {"action": event, "arg": "4b2f1e0c9a7d"})
    if resource in RESOURCES and event == "deleted":
        return Payload(name, PayloadKind.DELETED, {"id": _SAMPLE_IDS[resource]})
    if resource in RESOURCES:
        return parse_payload(name, resource_body(resource))
    # A template for a topic of the shop's own: show it an order, the richest payload.
    return Payload(name, PayloadKind.RESOURCE, json.loads(resource_body("order")))

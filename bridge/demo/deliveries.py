"""The demo's deliveries, shaped as WooCommerce sends them: PHP's JSON and signed headers.

The tests keep their own copy (tests/fakes/deliveries.py) that signs without the
bridge's code, so that a signing bug cannot hide behind itself.
"""

from __future__ import annotations

import json
from typing import Any

from bridge.webhook.signature import sign


def wire_bytes(payload: Any) -> bytes:
    """The body WooCommerce puts on the wire: compact, \\uXXXX, `\\/`, `[]` for `{}`."""
    text = json.dumps(_php_shape(payload), separators=(",", ":"), ensure_ascii=True)
    return text.replace("/", "\\/").encode("ascii")


def delivery_headers(topic: str, body: bytes, secret: str) -> dict[str, str]:
    """The headers WC_Webhook::deliver() sends with `body` (the ones the bridge reads)."""
    resource, _, event = topic.partition(".")
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": "https://shop.example.com/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": sign(body, secret),
        "X-WC-Webhook-ID": "12",
    }


def ping_body(webhook_id: int = 12) -> bytes:
    """The unsigned form body of the ping WooCommerce sends when a webhook is saved."""
    return f"webhook_id={webhook_id}".encode()


def _php_shape(value: Any) -> Any:
    # PHP arrays cannot tell an empty object from an empty list.
    if isinstance(value, dict):
        return [] if not value else {k: _php_shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_php_shape(v) for v in value]
    return value

"""Webhook deliveries shaped exactly as WooCommerce sends them, for the demo and the tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

USER_AGENT = "WooCommerce/9.8.1 Hookshot (WordPress/6.8)"


def wire_bytes(payload: Any) -> bytes:
    """The body WooCommerce puts on the wire: PHP's json_encode with no flags.

    Compact, non-ASCII as \\uXXXX, `/` escaped as `\\/`, empty objects as `[]`.
    """
    text = json.dumps(_php_shape(payload), separators=(",", ":"), ensure_ascii=True)
    return text.replace("/", "\\/").encode("ascii")


def delivery_headers(
    topic: str, body: bytes, secret: str, *, webhook_id: int = 12, source: str = ""
) -> dict[str, str]:
    """The headers WC_Webhook::deliver() sends with `body`."""
    resource, _, event = topic.partition(".")
    # Like WooCommerce: a hash of the webhook id and the current second, so not unique.
    delivery = hashlib.md5(f"{webhook_id}{int(time.time())}".encode(), usedforsecurity=False)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-WC-Webhook-Source": source or "https://shop.example.com/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": signature(body, secret),
        "X-WC-Webhook-ID": str(webhook_id),
        "X-WC-Webhook-Delivery-ID": delivery.hexdigest(),
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


def signature(body: bytes, secret: str) -> str:
    """What WC_Webhook::generate_signature() sends: base64 of the raw HMAC-SHA256 of the body.

    Computed here, not with the bridge's signing code, so that a bug there cannot hide.
    """
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()

"""What a request to the webhook endpoint is, decided from headers and raw bytes only."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping

from bridge.queue.models import IncomingEvent
from bridge.webhook.hashing import feed

TOPIC_HEADER = "X-WC-Webhook-Topic"
SIGNATURE_HEADER = "X-WC-Webhook-Signature"
WEBHOOK_ID_HEADER = "X-WC-Webhook-ID"
DELIVERY_ID_HEADER = "X-WC-Webhook-Delivery-ID"

#: stored when a correctly signed delivery carries no topic header, so nothing is dropped
UNKNOWN_TOPIC = "unknown"

# WooCommerce's ping is exactly `webhook_id=<the webhook's id>`; anything else unsigned is
# refused like any unsigned delivery (and a long id would only fill the log).
_PING_BODY = re.compile(rb"webhook_id=\d{1,20}")
_PING_MAX_BYTES = 64
_TOPIC = re.compile(r"[A-Za-z0-9_.\-]{1,200}")


def is_ping(headers: Mapping[str, str], body: bytes) -> bool:
    """WooCommerce's ping on saving a webhook: unsigned form body `webhook_id=N`, no topic."""
    return (
        TOPIC_HEADER not in headers
        and len(body) <= _PING_MAX_BYTES
        and _PING_BODY.fullmatch(body.strip()) is not None
    )


def body_key(store: str, topic: str, body: bytes) -> str:
    """Identity of a delivery: the same store, topic and bytes are the same event."""
    digest = _key_prefix(store, topic).copy()
    digest.update(len(body).to_bytes(8, "big"))
    feed(digest, body)
    return digest.hexdigest()


@functools.lru_cache(maxsize=256)
def _key_prefix(store: str, topic: str) -> hashlib._Hash:
    """The hash of a key's store and topic parts, copied for each body."""
    digest = hashlib.sha256()
    for part in (store.encode(), topic.encode()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest


def incoming_event(
    store: str, headers: Mapping[str, str], body: bytes, received_at: float
) -> IncomingEvent:
    """The event to store for a verified delivery."""
    raw_topic = headers.get(TOPIC_HEADER, "").strip()
    topic = raw_topic if _TOPIC.fullmatch(raw_topic) else UNKNOWN_TOPIC
    return IncomingEvent(
        store=store,
        topic=topic,
        body=body,
        body_key=body_key(store, topic, body),
        received_at=received_at,
        webhook_id=_short(headers.get(WEBHOOK_ID_HEADER)),
        delivery_id=_short(headers.get(DELIVERY_ID_HEADER)),
    )


def _short(value: str | None) -> str | None:
    return value[:100] if value else None

"""WooCommerce payloads, read tolerantly.

A delivery body is one of: a full REST v3 resource; `{"id": N}` for `*.deleted`;
`{"action": ..., "arg": ...}` for `action.*`; a REST error object when the webhook's
owner lacks permission; or, rarely, something that is not JSON at all. PHP encodes
empty objects as `[]`, so no field is assumed to be a dict.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

#: the resources whose topics carry a REST resource (or its id, for deletions)
RESOURCES = frozenset({"order", "product", "coupon", "customer"})
# A REST resource links to itself: https://shop/wp-json/wc/v3/orders/727
_SELF_LINK = re.compile(r"/wc/v\d+/(orders|products|coupons|customers)/\d+(/variations/\d+)?/?$")


class PayloadKind(StrEnum):
    """The shape of a delivery body."""

    RESOURCE = "resource"
    DELETED = "deleted"
    ACTION = "action"
    ERROR = "error"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Payload:
    """A parsed delivery: its topic split in two, its shape, and its fields."""

    topic: str
    kind: PayloadKind
    data: Mapping[str, Any] = field(default_factory=dict)
    #: for UNREADABLE payloads, why the body could not be read
    problem: str | None = None

    @property
    def resource(self) -> str:
        """`order` for `order.created`; the part before the first dot."""
        return self.topic.partition(".")[0]

    @property
    def event(self) -> str:
        """`created` for `order.created`; the hook name for `action.*`."""
        return self.topic.partition(".")[2]

    @property
    def resource_id(self) -> int | str | None:
        value = self.data.get("id")
        return value if isinstance(value, int | str) and not isinstance(value, bool) else None

    @property
    def status(self) -> str | None:
        value = self.data.get("status")
        return value if isinstance(value, str) else None

    def topic_doubt(self) -> str | None:
        """Why the body does not fit its topic, or None.

        WooCommerce signs the body, not the X-WC-Webhook-Topic header: a signed body
        replayed under another topic passes the signature check, so the shape of the
        body is checked against what WooCommerce sends for the topic.
        """
        if self.kind is not PayloadKind.RESOURCE or self.resource not in RESOURCES:
            return None
        found = body_resource(self.data)
        if self.event == "deleted":
            shown = found or "resource"
            return f"WooCommerce sends only the id for a deletion, but this body is a full {shown}"
        if found is not None and found != self.resource:
            return f"the body is {_a(found)}, not {_a(self.resource)}"
        if set(self.data) <= {"id"}:
            return f"WooCommerce sends the full {self.resource} here, but this body has only its id"
        return None

    def state_key(self) -> str | None:
        """Identity of the resource state this payload shows, to spot redeliveries.

        WooCommerce builds payloads at send time, so two deliveries of one save carry the
        same `date_modified`; a later save changes it.
        """
        if self.kind is not PayloadKind.RESOURCE or self.resource_id is None:
            return None
        modified = self.data.get("date_modified_gmt") or self.data.get("date_modified")
        if not isinstance(modified, str) or not modified:
            return None
        return f"{self.topic}|{self.resource_id}|{modified}|{self.status or ''}"


# A JSON escape of a UTF-16 surrogate; a lone one decodes to text UTF-8 cannot encode.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_payload(topic: str, body: bytes) -> Payload:
    """Classify and decode a delivery body; never raises."""
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return Payload(topic, PayloadKind.UNREADABLE, problem=f"not valid JSON ({exc})")
    if _SURROGATE_ESCAPE.search(body):
        # "Widget \ud800" is valid JSON, but its text could neither be stored nor sent.
        value = _without_surrogates(value)
    if not isinstance(value, dict):
        kind = type(value).__name__
        return Payload(topic, PayloadKind.UNREADABLE, problem=f"JSON {kind}, not an object")
    if "code" in value and "id" not in value and isinstance(value.get("message"), str):
        return Payload(topic, PayloadKind.ERROR, value)
    if topic.startswith("action.") or ("action" in value and "id" not in value):
        return Payload(topic, PayloadKind.ACTION, value)
    if topic.endswith(".deleted") and set(value) <= {"id"}:
        return Payload(topic, PayloadKind.DELETED, value)
    return Payload(topic, PayloadKind.RESOURCE, value)


def _without_surrogates(value: Any) -> Any:
    """`value` with every lone surrogate replaced by U+FFFD (a pair decodes to one char)."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


def body_resource(data: Mapping[str, Any]) -> str | None:
    """Which resource a body is (`order`, `product`, ...), from its self link or its
    fields; None when it cannot tell."""
    links = data.get("_links")
    selves = links.get("self") if isinstance(links, dict) else None
    if isinstance(selves, list) and selves and isinstance(selves[0], dict):
        match = _SELF_LINK.search(str(selves[0].get("href", "")))
        if match:
            return match.group(1)[:-1]
    if "line_items" in data or "order_key" in data:
        return "order"
    if "discount_type" in data and "code" in data:
        return "coupon"
    if "username" in data and "email" in data:
        return "customer"
    if "stock_status" in data or "sku" in data:
        return "product"
    return None


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"

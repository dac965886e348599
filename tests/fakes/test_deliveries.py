"""Deliveries shaped like WooCommerce's: the bytes PHP writes and the headers it sends."""

from __future__ import annotations

import json

import pytest

from bridge.webhook.signature import matching_secret
from tests.fakes.deliveries import delivery_headers, wire_bytes
from tests.helpers import PAYLOADS, SECRET


@pytest.mark.parametrize("name", ["order", "product", "customer", "coupon"])
def test_wire_bytes_are_what_php_wrote(name: str) -> None:
    source = json.loads((PAYLOADS / f"{name}.json").read_text())
    assert wire_bytes(source) == (PAYLOADS / f"{name}.wire.json").read_bytes().strip()


def test_empty_objects_become_lists_and_slashes_are_escaped() -> None:
    assert wire_bytes({"a": {}, "b": "x/y", "c": "é"}) == b'{"a":[],"b":"x\\/y","c":"\\u00e9"}'


def test_headers_carry_topic_and_a_valid_signature() -> None:
    headers = delivery_headers("order.updated", b"{}", SECRET, webhook_id=5)
    assert headers["X-WC-Webhook-Topic"] == "order.updated"
    assert (headers["X-WC-Webhook-Resource"], headers["X-WC-Webhook-Event"]) == ("order", "updated")
    assert headers["X-WC-Webhook-ID"] == "5"
    assert len(headers["X-WC-Webhook-Delivery-ID"]) == 32
    assert matching_secret(b"{}", headers["X-WC-Webhook-Signature"], [SECRET]) == 0

"""Deciding what a request is from its headers and bytes."""

from __future__ import annotations

from bridge.webhook.intake import UNKNOWN_TOPIC, body_key, incoming_event, is_ping


def test_ping_is_the_unsigned_form_body_without_topic() -> None:
    assert is_ping({}, b"webhook_id=12")
    assert is_ping({}, b"webhook_id=12\n")
    assert not is_ping({"X-WC-Webhook-Topic": "order.created"}, b"webhook_id=12")
    assert not is_ping({}, b'{"id":12}')
    assert not is_ping({}, b"webhook_id=12&x=1")


def test_body_key_separates_store_topic_and_body() -> None:
    assert body_key("a", "order.created", b"{}") == body_key("a", "order.created", b"{}")
    assert body_key("a", "order.created", b"{}") != body_key("a", "order.updated", b"{}")
    assert body_key("a", "order.created", b"{}") != body_key("b", "order.created", b"{}")
    # Boundaries are length-prefixed, so shifting bytes between parts changes the key.
    assert body_key("ab", "c", b"") != body_key("a", "bc", b"")


def test_body_key_is_the_key_earlier_versions_stored() -> None:
    # A redelivery after an upgrade must find the event stored before it.
    assert body_key("default", "order.created", b"{}") == (
        "b17bd6b6ca59d6477000368f52d6874257a47177223a180e8f449b778d037051"
    )
    assert body_key("shop", "order.updated", bytes(range(256)) * 20) == (
        "2fecadd2c9d24f36a1bf821ebf909900c5f7638f250f996bcd3d55ef9e9e8fc0"
    )


def test_incoming_event_keeps_headers_and_guards_the_topic() -> None:
    event = incoming_event(
        "default",
        {"X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-ID": "5"},
        b"{}",
        1.0,
    )
    assert (event.topic, event.webhook_id, event.delivery_id) == ("order.created", "5", None)
    odd = incoming_event("default", {"X-WC-Webhook-Topic": "<script>"}, b"{}", 1.0)
    assert odd.topic == UNKNOWN_TOPIC

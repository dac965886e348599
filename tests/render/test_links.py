"""Links into the store's admin, for the "Open in admin" button."""

from __future__ import annotations

import json

import pytest
from yarl import URL

from bridge.payloads import Payload, PayloadKind, parse_payload
from bridge.render.links import admin_url, keyboard
from tests.helpers import PAYLOADS

STORE = URL("https://shop.example.com")


def resource(topic: str, name: str | None = None, **changes: object) -> Payload:
    data = json.loads((PAYLOADS / f"{name or topic.split('.')[0]}.json").read_text())
    data.update(changes)
    return parse_payload(topic, json.dumps(data).encode())


@pytest.mark.parametrize(
    ("payload", "orders", "expected"),
    [
        (resource("order.created"), "classic", "/wp-admin/post.php?post=727&action=edit"),
        (
            resource("order.updated"),
            "hpos",
            "/wp-admin/admin.php?page=wc-orders&action=edit&id=727",
        ),
        (resource("product.updated"), "hpos", "/wp-admin/post.php?post=794&action=edit"),
        (resource("coupon.created"), "classic", "/wp-admin/post.php?post=719&action=edit"),
        (resource("customer.created"), "classic", "/wp-admin/user-edit.php?user_id=25"),
        # A variation is edited on its parent product's screen.
        (
            resource("product.updated", id=800, type="variation", parent_id=794),
            "classic",
            "/wp-admin/post.php?post=794&action=edit",
        ),
    ],
)
def test_each_resource_opens_its_admin_screen(payload: Payload, orders: str, expected: str) -> None:
    assert admin_url(payload, STORE, orders) == f"https://shop.example.com{expected}"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("topic", "orders", "expected"),
    [
        ("order.deleted", "classic", "/wp-admin/edit.php?post_status=trash&post_type=shop_order"),
        ("order.deleted", "hpos", "/wp-admin/admin.php?page=wc-orders&status=trash"),
        ("product.deleted", "hpos", "/wp-admin/edit.php?post_status=trash&post_type=product"),
        ("coupon.deleted", "classic", "/wp-admin/edit.php?post_status=trash&post_type=shop_coupon"),
    ],
)
def test_a_deletion_opens_the_trash(topic: str, orders: str, expected: str) -> None:
    payload = Payload(topic, PayloadKind.DELETED, {"id": 5})
    assert admin_url(payload, STORE, orders) == f"https://shop.example.com{expected}"  # type: ignore[arg-type]


def test_no_link_where_none_makes_sense() -> None:
    assert admin_url(resource("order.created"), None) == ""
    assert admin_url(Payload("customer.deleted", PayloadKind.DELETED, {"id": 25}), STORE) == ""
    assert admin_url(Payload("order.created", PayloadKind.RESOURCE, {"id": "x"}), STORE) == ""
    action = Payload("action.woocommerce_add_to_cart", PayloadKind.ACTION, {"arg": "k"})
    assert admin_url(action, STORE) == ""
    error = Payload("order.created", PayloadKind.ERROR, {"code": "woocommerce_rest_cannot_view"})
    assert admin_url(error, STORE) == ""


def test_a_store_in_a_subfolder_keeps_it() -> None:
    url = admin_url(resource("order.created"), URL("https://example.com/shop"))
    assert url == "https://example.com/shop/wp-admin/post.php?post=727&action=edit"


def test_keyboard_is_telegram_json_and_absent_without_a_link() -> None:
    assert keyboard([("Mở", "https://a.example/x")]) == (
        '{"inline_keyboard": [[{"text": "Mở", "url": "https://a.example/x"}]]}'
    )
    assert keyboard([("Open", "")]) is None

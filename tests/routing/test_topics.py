"""Topic patterns: what they name, and which are mistakes."""

from __future__ import annotations

import pytest

from bridge.routing.topics import KNOWN_TOPICS, expand, matches, pattern_problem


@pytest.mark.parametrize(
    ("topic", "pattern", "expected"),
    [
        ("order.created", "order.*", True),
        ("order.created", "order.created", True),
        ("order.created", "product.*", False),
        ("product.deleted", "*.deleted", True),
        ("action.woocommerce_add_to_cart", "*", True),
        ("order.created", "Order.*", False),
    ],
)
def test_matches(topic: str, pattern: str, expected: bool) -> None:
    assert matches(topic, pattern) is expected


@pytest.mark.parametrize(
    "pattern", ["*", "order.*", "*.deleted", "action.woocommerce_*", "product.updated", "coupon.?*"]
)
def test_good_patterns(pattern: str) -> None:
    assert pattern_problem(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("orders.*", "names no WooCommerce topic"),
        ("Order.created", "is not a topic pattern"),
        ("order created", "is not a topic pattern"),
        ("", "must be a topic or pattern"),
        (5, "must be a topic or pattern"),
    ],
)
def test_bad_patterns(pattern: object, problem: str) -> None:
    assert problem in (pattern_problem(pattern) or "")


def test_expand_lists_known_topics_then_the_rest() -> None:
    assert expand(["order.*"], ["order.deleted"]) == [
        "order.created",
        "order.updated",
        "order.restored",
    ]
    assert expand(["product.updated", "action.woocommerce_add_to_cart"]) == [
        "product.updated",
        "action.woocommerce_add_to_cart",
    ]
    everything = expand(["*"])
    assert everything == [*KNOWN_TOPICS, "action.*"]
    assert "action.*" not in expand(["*.deleted"])
    assert expand(["*"], ["action.*", "product.*"])[-1] == "coupon.restored"
    assert expand(["order.*"], ["order.*"]) == []

"""Routes: which events each one takes, and which chats an event reaches."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from bridge.payloads import Payload, parse_payload
from bridge.routing.orders import StatusChange
from bridge.routing.targets import OrderUpdates, Route, Routes, Target

PAYLOADS = Path(__file__).parents[1] / "fixtures" / "payloads"


def order(**changes: object) -> Payload:
    data = json.loads((PAYLOADS / "order.wire.json").read_bytes())
    data.update(changes)
    topic = str(data.pop("_topic", "order.created"))
    return parse_payload(topic, json.dumps(data).encode())


def product() -> Payload:
    return parse_payload("product.updated", (PAYLOADS / "product.wire.json").read_bytes())


def test_topics_and_exclusions() -> None:
    route = Route("r", Target(1), topics=("order.*", "product.updated"), exclude=("order.deleted",))
    assert route.accepts(order(), None)
    assert route.accepts(product(), None)
    assert not route.accepts(parse_payload("order.deleted", b'{"id": 727}'), None)
    assert not route.accepts(parse_payload("customer.created", b'{"id": 1}'), None)


def test_statuses_filter_orders_only() -> None:
    route = Route("r", Target(1), statuses=frozenset({"processing", "completed"}))
    assert route.accepts(order(status="processing"), None)
    assert not route.accepts(order(status="pending"), None)
    assert route.accepts(product(), None)
    # A deleted order carries only its id: nothing to filter on, so it passes.
    assert route.accepts(parse_payload("order.deleted", b'{"id": 727}'), None)


@pytest.mark.parametrize(
    ("total", "accepted"), [("99.99", False), ("100.00", True), ("2500", True), ("", True)]
)
def test_minimum_total(total: str, accepted: bool) -> None:
    route = Route("r", Target(1), min_total=Decimal(100))
    assert route.accepts(order(total=total), None) is accepted


def test_order_updates_need_a_status_change_by_default() -> None:
    update = order(_topic="order.updated", status="processing")
    same = StatusChange("processing", "processing")
    changed = StatusChange("pending", "processing")
    first = StatusChange(None, "processing")
    late = StatusChange("completed", "processing", current=False)
    default = Route("r", Target(1))
    every_save = Route("r", Target(1), order_updates=OrderUpdates.ALL)
    assert [default.accepts(update, c) for c in (same, changed, first, late)] == [
        False,
        True,
        True,
        False,
    ]
    assert all(every_save.accepts(update, c) for c in (same, changed, first, late))
    # order.created is always news, whatever was remembered.
    assert default.accepts(order(status="processing"), same)


def test_one_event_reaches_each_chat_once_first_route_deciding() -> None:
    routes = Routes(
        [
            Route("orders", Target(-1, silent=True), topics=("order.*",)),
            Route("big orders", Target(-1), min_total=Decimal(1)),
            Route("forum topic", Target(-2, thread_id=7), topics=("order.created",)),
            Route("forum general", Target(-2)),
            Route("stock", Target(-3), topics=("product.*",)),
        ]
    )
    assert routes.targets_for(order(), None) == [
        Target(-1, silent=True),
        Target(-2, thread_id=7),
        Target(-2),
    ]
    assert routes.targets_for(product(), None) == [Target(-1), Target(-2), Target(-3)]


def test_what_a_chat_receives() -> None:
    routes = Routes(
        [
            Route("a", Target(-1), topics=("order.created",)),
            Route("b", Target(-1), topics=("order.*", "action.woocommerce_add_to_cart")),
            Route("c", Target(-1, thread_id=5), topics=("product.*",)),
        ]
    )
    assert routes.names_chat(-1)
    assert not routes.names_chat(-2)
    assert routes.topics_for(-1, None) == [
        "order.created",
        "order.updated",
        "order.deleted",
        "order.restored",
        "action.woocommerce_add_to_cart",
    ]
    assert routes.topics_for(-1, 5)[0] == "product.created"
    assert routes.topics_for(-1, 6) == []


def test_routes_follow_a_chat_that_moved() -> None:
    routes = Routes([Route("a", Target(-1, silent=True)), Route("b", Target(-2))])
    moved = routes.follow(-1, -1009)
    assert [r.name for r in moved] == ["a"]
    assert routes.targets_for(product(), None) == [Target(-1009, silent=True), Target(-2)]
    assert routes.names_chat(-1009)
    assert not routes.names_chat(-1)


def test_a_route_with_stores_takes_only_their_events() -> None:
    route = Route("r", Target(1), stores=frozenset({"br"}))
    assert route.accepts(order(), None, "br")
    assert not route.accepts(order(), None, "vn")
    assert Route("every", Target(2)).accepts(order(), None, "vn")
    routes = Routes(
        [route, Route("every", Target(2)), Route("vn", Target(3), stores=frozenset({"vn"}))]
    )
    assert [t.chat_id for t in routes.targets_for(order(), None, "br")] == [1, 2]
    assert [t.chat_id for t in routes.targets_for(order(), None, "vn")] == [2, 3]

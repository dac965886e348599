"""Where messages go: routes name a chat and the topics and orders it receives."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from bridge.payloads import Payload, PayloadKind
from bridge.routing.orders import StatusChange
from bridge.routing.stock import Stock, StockChange
from bridge.routing.topics import expand, matches


@dataclass(frozen=True)
class Target:
    """A chat (and optionally a forum topic) that receives messages."""

    chat_id: int
    thread_id: int | None = None
    silent: bool = False
    #: the language of this chat's messages; None for the bridge's default
    language: str | None = None
    #: the status buttons under orders: (current status, the statuses it may move to) pairs;
    #: None for the default flow, () for none
    order_actions: tuple[tuple[str, tuple[str, ...]], ...] | None = None
    #: every member of the chat may press them, not only TELEGRAM_ADMIN_IDS/STAFF_IDS
    actions_by_chat: bool = False
    #: when the day's sales summary is sent ("21:00" in BRIDGE_TIMEZONE); None: never
    summary_at: str | None = None
    #: the weekday (0 Monday ... 6 Sunday) of a weekly summary at summary_at; None: none
    weekly_summary_on: int | None = None


class OrderUpdates(StrEnum):
    """Which order.updated events a route sends."""

    #: only those that change the order's status (WooCommerce sends one per save)
    STATUS_CHANGES = "status-changes"
    #: every one, status change or not
    ALL = "all"


@dataclass(frozen=True)
class Route:
    """One chat's subscription: which topics, which orders, and how to deliver them."""

    #: how the configuration calls it, for logs and hints
    name: str
    target: Target
    topics: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    #: order statuses to send; None sends every status
    statuses: frozenset[str] | None = None
    #: orders below this total are not sent
    min_total: Decimal | None = None
    order_updates: OrderUpdates = OrderUpdates.STATUS_CHANGES
    #: the stores whose events it sends; None sends every store's
    stores: frozenset[str] | None = None
    #: product.updated sends only stock crossings, as stock messages
    stock_alerts: bool = False
    #: stock at or below this is low, unless the product has its own low_stock_amount
    low_stock_at: int | None = None

    def names(self, topic: str) -> bool:
        return any(matches(topic, p) for p in self.topics) and not any(
            matches(topic, p) for p in self.exclude
        )

    def stock_alert(
        self, payload: Payload, stock: StockChange | None
    ) -> tuple[Stock | None, Stock] | None:
        """The crossing this route tells of `payload` as a stock message, if any."""
        if not self.stock_alerts or stock is None or payload.topic != "product.updated":
            return None
        return stock.crossing(self.low_stock_at)

    def accepts(
        self,
        payload: Payload,
        change: StatusChange | None,
        store: str | None = None,
        stock: StockChange | None = None,
    ) -> bool:
        """Whether this route sends `payload` of `store`; order filters pass orders that lack
        the field."""
        if not self.names(payload.topic):
            return False
        if self.stores is not None and store is not None and store not in self.stores:
            return False
        if self.stock_alerts and payload.topic == "product.updated":
            # Other saves of the product (a price, a description) send nothing here.
            return self.stock_alert(payload, stock) is not None
        if payload.resource != "order" or payload.kind is not PayloadKind.RESOURCE:
            return True
        status = payload.status
        if self.statuses is not None and status is not None and status not in self.statuses:
            return False
        total = order_total(payload)
        if self.min_total is not None and total is not None and total < self.min_total:
            return False
        return not (
            payload.event == "updated"
            and self.order_updates is OrderUpdates.STATUS_CHANGES
            and change is not None
            and not change.changed
        )


def order_total(payload: Payload) -> Decimal | None:
    value = payload.data.get("total")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        total = Decimal(str(value))
    except InvalidOperation:
        return None
    return total if total.is_finite() else None


class Routes:
    """Decides which targets receive an event, and what each chat receives."""

    def __init__(self, routes: Iterable[Route], source: str = "TELEGRAM_CHAT_ID") -> None:
        self._routes = list(routes)
        #: where the routes were configured, for hints to the shop owner
        self.source = source

    @property
    def configured(self) -> bool:
        return bool(self._routes)

    @property
    def routes(self) -> tuple[Route, ...]:
        return tuple(self._routes)

    def targets_for(
        self, payload: Payload, change: StatusChange | None = None, store: str | None = None
    ) -> list[Target]:
        """The targets that receive `payload` of `store`, once per chat and thread (the first
        route wins)."""
        return [target for target, _ in self.deliveries(payload, change, store)]

    def deliveries(
        self,
        payload: Payload,
        change: StatusChange | None = None,
        store: str | None = None,
        stock: StockChange | None = None,
    ) -> list[tuple[Target, tuple[Stock | None, Stock] | None]]:
        """Each target that receives `payload`, with the stock crossing it is told as a stock
        message (None: the plain message)."""
        chosen: dict[tuple[int, int | None], tuple[Target, tuple[Stock | None, Stock] | None]]
        chosen = {}
        for route in self._routes:
            key = (route.target.chat_id, route.target.thread_id)
            if key not in chosen and route.accepts(payload, change, store, stock):
                chosen[key] = (route.target, route.stock_alert(payload, stock))
        return list(chosen.values())

    def names_chat(self, chat_id: int) -> bool:
        return any(r.target.chat_id == chat_id for r in self._routes)

    def target_of(self, chat_id: int) -> Target | None:
        """The target of the first route to `chat_id`: its language, its order actions."""
        return next((r.target for r in self._routes if r.target.chat_id == chat_id), None)

    def topics_for(self, chat_id: int, thread_id: int | None) -> list[str]:
        """Every topic this chat (or forum topic) receives, known topics first."""
        topics: list[str] = []
        for route in self._routes:
            if (route.target.chat_id, route.target.thread_id) == (chat_id, thread_id):
                topics.extend(expand(route.topics, route.exclude))
        return list(dict.fromkeys(topics))

    def expected_topics(self, store: str) -> list[str]:
        """Every topic some route wants from `store`, known topics first."""
        topics: list[str] = []
        for route in self._routes:
            if route.stores is None or store in route.stores:
                topics.extend(expand(route.topics, route.exclude))
        return list(dict.fromkeys(topics))

    def follow(self, old_chat_id: int, new_chat_id: int) -> list[Route]:
        """Send what went to `old_chat_id` to `new_chat_id`; returns the routes that moved."""
        moved = []
        for index, route in enumerate(self._routes):
            if route.target.chat_id == old_chat_id:
                target = dataclasses.replace(route.target, chat_id=new_chat_id)
                self._routes[index] = dataclasses.replace(route, target=target)
                moved.append(route)
        return moved

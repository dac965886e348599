"""The routes (the [[routes]] tables of the BRIDGE_CONFIG file): which chats receive which topics.

Without routes, TELEGRAM_CHAT_ID alone receives every topic of every store. A file with
a mistake is refused as a whole, with one line per problem naming the route and the key:
a half-read routing table would send orders to the wrong chat, or to none.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from decimal import Decimal
from pathlib import Path
from typing import Any

from bridge.config import ConfigError, Settings
from bridge.config_file import read_config_file
from bridge.config_stores import DEFAULT_STORE
from bridge.reports.schedule import WEEKDAYS, summary_time_problem, weekday_number
from bridge.routing.targets import OrderUpdates, Route, Routes, Target
from bridge.routing.topics import expand, pattern_problem

ROUTE_KEYS = (
    "name",
    "chat_id",
    "thread_id",
    "topics",
    "exclude",
    "stores",
    "silent",
    "language",
    "statuses",
    "min_total",
    "order_updates",
    "stock_alerts",
    "low_stock_at",
    "order_actions",
    "order_actions_by",
    "summary_at",
    "weekly_summary_on",
)
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:_[A-Z]{2})?")
_STATUS = re.compile(r"[a-z0-9_-]+")


def load_routes(settings: Settings, stores: Collection[str] = (DEFAULT_STORE,)) -> Routes:
    """The routes the settings describe; raises ConfigError with one line per problem.

    `stores` are the names routes may list in their `stores` key.
    """
    path = settings.bridge_config
    data = {} if path is None else read_config_file(path)
    chat = settings.telegram_chat_id
    if "routes" not in data:
        weekly = settings.bridge_weekly_summary_on
        routes = (
            []
            if chat is None
            else [
                Route(
                    "TELEGRAM_CHAT_ID",
                    Target(
                        chat,
                        summary_at=settings.bridge_daily_summary_at,
                        weekly_summary_on=weekday_number(weekly) if weekly else None,
                    ),
                )
            ]
        )
        return Routes(routes, source="TELEGRAM_CHAT_ID")
    if chat is not None:
        raise ConfigError(
            [
                f"TELEGRAM_CHAT_ID: is set, and {path} has [[routes]]; unset "
                "TELEGRAM_CHAT_ID and give that chat a [[routes]] entry in the file instead"
            ]
        )
    assert path is not None  # data came from the file
    return Routes(read_routes(path, data, stores), source=str(path))


def read_routes(path: Path, data: dict[str, Any], stores: Collection[str]) -> list[Route]:
    problems: list[str] = []
    routes = parse_routes(data, problems, stores)
    if problems:
        raise ConfigError([f"{path}: {problem}" for problem in problems])
    return routes


def parse_routes(
    data: dict[str, Any], problems: list[str], stores: Collection[str] = (DEFAULT_STORE,)
) -> list[Route]:
    """Routes from a parsed file; appends what is wrong to `problems`."""
    entries = data.get("routes")
    if isinstance(entries, dict):
        problems.append("routes: write each route as [[routes]], with two brackets")
        return []
    if not isinstance(entries, list) or not entries:
        problems.append(
            "routes: no route; add a [[routes]] table per chat, with chat_id and topics"
        )
        return []
    routes = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            problems.append(f"routes: entry {number} is not a table; write it as [[routes]]")
            continue
        route = _RouteReader(entry, number, problems, stores).read()
        if route is not None:
            routes.append(route)
    return routes


class _RouteReader:
    """Reads one [[routes]] table, collecting every problem rather than stopping at one."""

    def __init__(
        self, entry: dict[str, Any], number: int, problems: list[str], stores: Collection[str]
    ) -> None:
        self._entry = entry
        self._problems = problems
        self._stores = stores
        name = entry.get("name")
        self._name = name if isinstance(name, str) and name else f"route {number}"
        self._where = f'route {number} ("{name}")' if isinstance(name, str) else f"route {number}"
        self._ok = True

    def problem(self, key: str, text: str) -> None:
        self._problems.append(f"{self._where}, key {key}: {text}")
        self._ok = False

    def read(self) -> Route | None:
        for key in self._entry:
            if key not in ROUTE_KEYS:
                self.problem(key, f"is not a known key; a route may have {', '.join(ROUTE_KEYS)}")
        if not isinstance(self._entry.get("name", ""), str):
            self.problem("name", 'must be text in quotes, e.g. name = "orders"')
        target = Target(
            chat_id=self._chat_id(),
            thread_id=self._thread_id(),
            silent=self._flag("silent"),
            language=self._language(),
            order_actions=self._order_actions(),
            actions_by_chat=self._actions_by() == "chat",
            summary_at=self._summary_at(),
            weekly_summary_on=self._weekly_summary_on(),
        )
        topics = self._patterns("topics", default=("*",))
        exclude = self._patterns("exclude", default=())
        if self._ok and not expand(topics, exclude):
            self.problem("exclude", "leaves no topic of those in topics; this route sends nothing")
        route = Route(
            name=self._name,
            target=target,
            topics=topics,
            exclude=exclude,
            statuses=self._statuses(),
            min_total=self._min_total(),
            order_updates=self._order_updates(),
            stores=self._store_names(),
            stock_alerts=self._flag("stock_alerts"),
            low_stock_at=self._low_stock_at(),
        )
        if route.stock_alerts and not route.names("product.updated"):
            self.problem("stock_alerts", "needs product.updated in topics, which tells of stock")
        if route.low_stock_at is not None and not route.stock_alerts:
            self.problem("low_stock_at", "works only with stock_alerts = true in the same route")
        return route if self._ok else None

    def _chat_id(self) -> int:
        value = self._entry.get("chat_id")
        if isinstance(value, int) and not isinstance(value, bool) and value != 0:
            return value
        if value is None:
            self.problem("chat_id", "is required; send /start in the chat to see its id")
        else:
            self.problem(
                "chat_id", "must be a chat id without quotes, e.g. chat_id = -1001234567890"
            )
        return 0

    def _thread_id(self) -> int | None:
        value = self._entry.get("thread_id")
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value > 1:
            return value
        if value == 1 and not isinstance(value, bool):
            self.problem(
                "thread_id",
                "1 is the General topic, which takes no thread id; leave thread_id out "
                "to post in General",
            )
        else:
            self.problem(
                "thread_id",
                "must be a forum topic's id without quotes, e.g. thread_id = 42; "
                "send /start in the topic to see it",
            )
        return None

    def _flag(self, key: str) -> bool:
        value = self._entry.get(key, False)
        if not isinstance(value, bool):
            self.problem(key, f"must be true or false, without quotes, e.g. {key} = true")
            return False
        return value

    def _language(self) -> str | None:
        value = self._entry.get("language")
        if value is not None and not (isinstance(value, str) and _LANGUAGE.fullmatch(value)):
            self.problem("language", 'must be a language code in quotes, e.g. "en", "vi", "pt_BR"')
            return None
        return value

    def _patterns(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self._entry.get(key)
        if value is None:
            return default
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or (key == "topics" and not values):
            self.problem(
                key, f'must be a list of topics, e.g. {key} = ["order.*", "product.updated"]'
            )
            return default
        for pattern in values:
            problem = pattern_problem(pattern)
            if problem is not None:
                self.problem(key, problem)
        return tuple(str(v) for v in values)

    def _store_names(self) -> frozenset[str] | None:
        value = self._entry.get("stores")
        if value is None:
            return None
        values = [value] if isinstance(value, str) else value
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            self.problem("stores", 'must be a list of store names, e.g. stores = ["shop-vn"]')
            return None
        known = ", ".join(self._stores) or "none"
        for name in values:
            if name not in self._stores:
                self.problem(
                    "stores",
                    f'"{name}" is not a store; the stores are: {known} (the [[stores]] names, '
                    'and "default" for /webhook when WOOCOMMERCE_WEBHOOK_SECRET is set)',
                )
        return frozenset(values)

    def _statuses(self) -> frozenset[str] | None:
        value = self._entry.get("statuses")
        if value is None:
            return None
        if not isinstance(value, list) or not value:
            self.problem(
                "statuses", 'must be a list of order statuses, e.g. ["processing", "completed"]'
            )
            return None
        statuses = set()
        for status in value:
            if not isinstance(status, str) or not _STATUS.fullmatch(status.lower().strip()):
                self.problem(
                    "statuses",
                    f"{status!r} is not an order status; use WooCommerce's status slugs such as "
                    "pending, processing, on-hold, completed, cancelled, refunded, failed",
                )
                continue
            # The database says wc-processing; the REST payload says processing.
            statuses.add(status.lower().strip().removeprefix("wc-"))
        return frozenset(statuses)

    def _min_total(self) -> Decimal | None:
        value = self._entry.get("min_total")
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            self.problem(
                "min_total", "must be a number without quotes, at least 0, e.g. min_total = 100"
            )
            return None
        return Decimal(str(value))

    def _low_stock_at(self) -> int | None:
        value = self._entry.get("low_stock_at")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.problem(
                "low_stock_at",
                "must be a whole number without quotes, at least 0, e.g. low_stock_at = 5",
            )
            return None
        return value

    def _order_actions(self) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
        """false: no status buttons; a table: current status = [the next ones]."""
        value = self._entry.get("order_actions")
        example = 'e.g. order_actions = { processing = ["completed"], on-hold = ["processing"] }'
        if value is None or value is True:
            return None
        if value is False:
            return ()
        if not isinstance(value, dict):
            self.problem("order_actions", f"must be false or a table of statuses, {example}")
            return None
        pairs = []
        for status, targets in value.items():
            good = isinstance(targets, list) and all(
                isinstance(t, str) and _STATUS.fullmatch(t) for t in targets
            )
            if not _STATUS.fullmatch(status) or not good:
                self.problem(
                    "order_actions",
                    f"{status!r} must name a status and list statuses in quotes, {example}",
                )
                return None
            pairs.append((status, tuple(targets)))
        return tuple(pairs)

    def _summary_at(self) -> str | None:
        value = self._entry.get("summary_at")
        if value is None:
            return None
        if not isinstance(value, str) or summary_time_problem(value):
            self.problem("summary_at", 'must be a time of day in quotes, e.g. summary_at = "21:00"')
            return None
        return value

    def _weekly_summary_on(self) -> int | None:
        value = self._entry.get("weekly_summary_on")
        if value is None:
            return None
        day = weekday_number(value) if isinstance(value, str) else None
        if day is None:
            self.problem("weekly_summary_on", f"must be a weekday in quotes: {', '.join(WEEKDAYS)}")
        elif "summary_at" not in self._entry:
            self.problem("weekly_summary_on", "needs summary_at too (the time it is sent at)")
        return day

    def _actions_by(self) -> str:
        value = self._entry.get("order_actions_by", "staff")
        if value not in ("staff", "chat"):
            self.problem(
                "order_actions_by",
                'must be "staff" (TELEGRAM_ADMIN_IDS and TELEGRAM_STAFF_IDS) or "chat" '
                "(every member of the chat)",
            )
        return str(value)

    def _order_updates(self) -> OrderUpdates:
        value = self._entry.get("order_updates", OrderUpdates.STATUS_CHANGES.value)
        try:
            return OrderUpdates(value)
        except ValueError:
            choices = " or ".join(f'"{m.value}"' for m in OrderUpdates)
            self.problem("order_updates", f"must be {choices}")
            return OrderUpdates.STATUS_CHANGES

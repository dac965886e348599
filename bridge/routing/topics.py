"""WooCommerce topics and the glob patterns routes and mutes use to name them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import fnmatchcase

#: the topics WooCommerce offers in its webhook screen, besides `action.<hook>`
KNOWN_TOPICS: tuple[str, ...] = (
    "order.created",
    "order.updated",
    "order.deleted",
    "order.restored",
    "product.created",
    "product.updated",
    "product.deleted",
    "product.restored",
    "product.published",
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "coupon.created",
    "coupon.updated",
    "coupon.deleted",
    "coupon.restored",
)
RESOURCES = ("order", "product", "customer", "coupon", "action")

# Stands for every action topic when deciding whether a pattern reaches them.
_SOME_ACTION = "action.woocommerce_add_to_cart"
_PATTERN = re.compile(r"[a-z0-9_.*?\[\]!-]+")


def matches(topic: str, pattern: str) -> bool:
    """Whether `pattern` names `topic`: `order.*` names `order.created`; `*` names all."""
    return fnmatchcase(topic, pattern)


def pattern_problem(pattern: object) -> str | None:
    """Why `pattern` cannot name a topic, or None if it can."""
    if not isinstance(pattern, str) or not pattern:
        return 'must be a topic or pattern in quotes, e.g. "order.*" or "product.updated"'
    if not _PATTERN.fullmatch(pattern):
        return (
            f'"{pattern}" is not a topic pattern: use lower-case topics such as order.created, '
            "with * for any part (order.*)"
        )
    resource = pattern.partition(".")[0]
    if not any(fnmatchcase(known, resource) for known in RESOURCES):
        return (
            f'"{pattern}" names no WooCommerce topic; topics start with '
            f"{', '.join(RESOURCES[:-1])} or action (e.g. order.created, action.woocommerce_*)"
        )
    return None


def expand(include: Iterable[str], exclude: Iterable[str] = ()) -> list[str]:
    """The topics `include` names and `exclude` does not, known topics first.

    A pattern that names no known topic (`action.*`, a plugin's topic) stands for itself,
    and a pattern that reaches action topics (`*`) brings `action.*` along, so that
    staff can see and mute them too.
    """
    include, exclude = list(include), list(exclude)
    topics = [t for t in KNOWN_TOPICS if any(matches(t, p) for p in include)]
    for pattern in include:
        if not any(matches(t, pattern) for t in KNOWN_TOPICS):
            topics.append(pattern)
        elif matches(_SOME_ACTION, pattern):
            topics.append("action.*")
    return [t for t in dict.fromkeys(topics) if not any(matches(t, e) for e in exclude)]

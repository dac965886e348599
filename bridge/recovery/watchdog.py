"""The webhook watchdog's judgement: which of a store's webhooks are this bridge's, and
what is wrong with them. The REST calls are the reconciler's."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bridge.woo.rest import Webhook

#: the topics `woo-bridge woo register` creates; a route expecting one of them that no
#: active webhook delivers is reported (other topics are the shop's own choice)
WATCHED_TOPICS = (
    "order.created",
    "order.updated",
    "product.created",
    "product.updated",
    "customer.created",
)


@dataclass(frozen=True)
class Finding:
    """One thing to tell the admins once: `key` identifies it until it clears."""

    key: str
    text: str


def ours(hooks: Iterable[Webhook], delivery_url: str) -> list[Webhook]:
    """The webhooks that deliver to this bridge's URL for the store (trailing slash or not)."""
    wanted = delivery_url.rstrip("/")
    return [h for h in hooks if h.delivery_url.rstrip("/") == wanted]


def missing_topics(hooks: Iterable[Webhook], expected: Iterable[str]) -> list[str]:
    """The expected topics that no active webhook of ours delivers."""
    delivering = {h.topic for h in hooks if h.delivers}
    return [t for t in expected if t in WATCHED_TOPICS and t not in delivering]


def disabled_text(store: str, hook: Webhook, reactivated: bool) -> str:
    what = (
        "the bridge set it active again"
        if reactivated
        else "it stays off (BRIDGE_WEBHOOK_REACTIVATE=false): set it Active in wp-admin"
    )
    return (
        f"Store {store}: WooCommerce had disabled webhook #{hook.id} ({hook.topic}) after "
        f"repeated failed deliveries; {what}. Its reasons are in WooCommerce > Status > Logs "
        "(source webhooks-delivery). Orders it missed are recovered through the REST API."
    )


def paused_text(store: str, hook: Webhook) -> str:
    return (
        f"Store {store}: webhook #{hook.id} ({hook.topic}) is paused by an admin and delivers "
        "nothing; the bridge leaves it paused (WooCommerce > Settings > Advanced > Webhooks)."
    )


def missing_text(store: str, topic: str) -> str:
    return (
        f"Store {store}: the routes expect {topic}, but no active webhook delivers it to this "
        "bridge; run `woo-bridge woo register` to create it."
    )

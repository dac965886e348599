"""Everything we refuse before talking to the store, with a message that says what to do.

The topic rules mirror ``wc_is_webhook_valid_topic()`` of current WooCommerce (DELIVERY.md
section 6), which also refuses topics that save as Active but never fire. Older stores accept a
few of those, so we check here rather than trust the store to refuse them.
"""

import re
from collections.abc import Iterable

from yarl import URL


class WooConfigError(ValueError):
    """Our own settings or arguments are wrong; nothing was sent to the store."""


RESOURCES = ("coupon", "customer", "order", "product")
EVENTS = ("created", "updated", "deleted", "restored")

# WooCommerce refuses these hooks as topics: they would send credentials or webhook internals out.
FORBIDDEN_ACTIONS = frozenset(
    {
        "action.woocommerce_login_credentials",
        "action.woocommerce_product_csv_importer_check_import_file_path",
        "action.woocommerce_webhook_should_deliver",
    }
)

_ACTION = re.compile(r"action\.(woocommerce|wc)_\S+")
_HINT = (
    f"use resource.event with a resource of {', '.join(RESOURCES)} and an event of "
    f"{', '.join(EVENTS)}; or product.published; or action.woocommerce_<hook> / action.wc_<hook>"
)


def topic_problem(topic: str) -> str | None:
    """Say what is wrong with ``topic`` and what to use instead; None if WooCommerce delivers it."""
    if topic in FORBIDDEN_ACTIONS:
        return f"WooCommerce does not allow {topic!r} as a webhook topic; pick another hook"
    if topic.startswith("action."):
        if _ACTION.fullmatch(topic):
            return None
        return f"{topic!r} is not a WooCommerce action: name a hook as action.woocommerce_<hook>"
    resource, _, event = topic.partition(".")
    if topic != topic.strip() or topic != topic.lower():
        return f"{topic!r}: topics are lower case without spaces, e.g. order.created"
    if topic == "customer.restored":
        # Users have no trash in WordPress, so no hook ever fires it (WooCommerce issue #64502).
        return "customer.restored never fires: WordPress users cannot be restored from a trash"
    if event == "published" and resource in RESOURCES:
        if resource == "product":
            return None
        return f"only products have a published event; use {resource}.created or {resource}.updated"
    if resource in RESOURCES and event in EVENTS:
        return None
    return f"{topic!r} is not a webhook topic: {_HINT}"


def store_url(text: str) -> URL:
    """Parse the store's home address, e.g. https://shop.example.com or …/shop for a sub-folder."""
    try:
        url = URL(text.strip())
    except ValueError:
        url = URL()
    if url.scheme not in ("http", "https") or not url.host:
        # The input is not repeated: a slip could have pasted the API key into it.
        raise WooConfigError(
            "the store URL is not a web address: write it like https://shop.example.com"
        )
    if url.user or url.password or url.query_string or url.fragment:
        raise WooConfigError(
            "give the store URL without a user, password, query or fragment; the REST API key "
            "has settings of its own"
        )
    if "/wp-json" in url.path:
        raise WooConfigError("give the store's home address, without /wp-json/…")
    return url.with_path(url.path.rstrip("/"))


def check_credentials(consumer_key: str, consumer_secret: str) -> None:
    """Catch a key and secret that cannot be WooCommerce's, e.g. swapped ones."""
    # WooCommerce makes every key "ck_…" and every secret "cs_…"; anything else is a paste slip.
    # The values themselves never go into the message.
    if not consumer_key.startswith("ck_") or not consumer_secret.startswith("cs_"):
        raise WooConfigError(
            "the REST API consumer key must start with ck_ and the secret with cs_: copy both "
            "from WooCommerce > Settings > Advanced > REST API"
        )


def check_topics(topics: Iterable[str]) -> list[str]:
    """Return the topics once each, in order; refuse them all if any is wrong."""
    wanted = list(dict.fromkeys([topics] if isinstance(topics, str) else topics))
    if not wanted:
        raise WooConfigError("no topics given: name at least one, e.g. order.created")
    problems = [p for p in map(topic_problem, wanted) if p is not None]
    if problems:
        raise WooConfigError("; ".join(problems))
    return wanted


def check_delivery_url(delivery_url: str) -> None:
    """Refuse what WooCommerce would refuse as a delivery URL."""
    try:
        url = URL(delivery_url)
    except ValueError:
        url = URL()
    # WooCommerce itself insists on http(s):// and a valid URL (wc_is_valid_url).
    if url.scheme not in ("http", "https") or not url.host:
        raise WooConfigError(
            f"the delivery URL {delivery_url!r} must be a full http(s):// address that the "
            "store can reach, e.g. https://bridge.example.com/woo"
        )

"""The HTTP endpoint WooCommerce delivers to. Thin: the decisions live in intake and the store."""

from __future__ import annotations

import logging

from aiohttp import web

from bridge.config_stores import DEFAULT_STORE, WooStore
from bridge.keys import CLOCK, METRICS, REFUSALS, STORE, STORES
from bridge.queue.storage import StoreError
from bridge.refusals import clip
from bridge.webhook.intake import (
    SIGNATURE_HEADER,
    TOPIC_HEADER,
    WEBHOOK_ID_HEADER,
    incoming_event,
    is_ping,
)
from bridge.webhook.signature import matching_secret

log = logging.getLogger(__name__)

#: the result label of deliveries to a store name the bridge does not know
UNKNOWN_STORE = "unknown_store"


async def receive(request: web.Request) -> web.Response:
    """Verify a WooCommerce delivery, store it durably, then acknowledge it."""
    store = request.app[STORES].get(request.match_info.get("store", DEFAULT_STORE))
    if store is None:
        request.app[METRICS].webhooks.labels("-", "-", UNKNOWN_STORE).inc()
        return _unknown_store(request)
    # Within the request guard's deadline; larger than the size limit raises 413.
    body = await request.read()
    headers = request.headers
    metrics = request.app[METRICS]
    if is_ping(headers, body):
        # WooCommerce marks the webhook as delivering only after exactly 200.
        log.info(
            "answered WooCommerce's ping for webhook %s of store %s",
            body.decode().partition("=")[2],
            store.name,
            extra={"store": store.name},
        )
        return web.Response(text="ok")

    used = matching_secret(body, headers.get(SIGNATURE_HEADER), store.signing_secrets)
    if used is None:
        reason = "missing" if SIGNATURE_HEADER not in headers else "wrong"
        metrics.signature_failures.labels(store.name).inc()
        metrics.webhooks.labels(store.name, "-", "unauthorized").inc()
        request.app[REFUSALS].warning(
            f"signature {store.name}",
            "refused a delivery to store %s with a %s signature (topic %s, webhook %s, from %s): "
            "check %s",
            store.name,
            reason,
            clip(request.headers.get(TOPIC_HEADER)),
            clip(request.headers.get(WEBHOOK_ID_HEADER)),
            request.remote,
            _secret_setting(store),
        )
        return web.json_response(
            {"error": f"{reason} X-WC-Webhook-Signature; the webhook secrets must match"},
            status=401,
        )
    if used > 0:
        metrics.previous_secret.labels(store.name).inc()
        log.info(
            "store %s: webhook %s (%s) still signs with the previous secret; the rotation is "
            "complete once no delivery does: then remove the previous secret",
            store.name,
            clip(request.headers.get(WEBHOOK_ID_HEADER)),
            clip(request.headers.get(TOPIC_HEADER)),
            extra={"store": store.name},
        )

    event = incoming_event(store.name, headers, body, request.app[CLOCK].time())
    try:
        accepted = await request.app[STORE].accept(event)
    except StoreError as exc:
        # A 5xx shows in WooCommerce's delivery log; a 2xx would lose the event silently.
        log.error(
            "could not store a %s delivery, answered 503: %s",
            event.topic,
            exc,
            extra={"store": store.name, "topic": event.topic},
        )
        metrics.webhooks.labels(store.name, event.topic, "unavailable").inc()
        return web.json_response({"error": "the bridge cannot store events right now"}, status=503)

    result = "duplicate" if accepted.duplicate else "accepted"
    metrics.webhook(store.name, event.topic, result).inc()
    # New events are logged by the store, one line per commit.
    if accepted.duplicate:
        log.info(
            "%s delivery of store %s repeated event #%d; nothing new",
            event.topic,
            store.name,
            accepted.event_id,
            extra={"store": store.name, "topic": event.topic, "event_id": accepted.event_id},
        )
    return _answer(result, accepted.event_id)


async def explain(request: web.Request) -> web.Response:
    """Answer a browser's GET with what this URL is for, instead of 405."""
    store = request.app[STORES].get(request.match_info.get("store", DEFAULT_STORE))
    if store is None:
        return _unknown_store(request)
    return web.Response(
        text=f"This is the woo-telegram-bridge webhook endpoint of the store {store.name}. "
        "WooCommerce delivers events here with POST.\n"
    )


def _unknown_store(request: web.Request) -> web.Response:
    """404, never a redirect: WooCommerce would count a 301 or 302 as delivered."""
    name = request.match_info.get("store")
    stores = request.app[STORES]
    if name is None:
        text = (
            "no store is configured at /webhook (WOOCOMMERCE_WEBHOOK_SECRET is not set); "
            "deliver to /webhook/<store> with a store's name from the bridge's [[stores]]"
        )
    else:
        text = (
            f"no store named {name[:64]!r} is configured in this bridge; check the delivery "
            "URL (/webhook/<store>), or add a [[stores]] table with that name to BRIDGE_CONFIG"
        )
    request.app[REFUSALS].warning(
        "unknown store",
        "refused a delivery to %s: %s (the stores are %s)",
        clip(request.path),
        text.split(";")[0],
        ", ".join(f"{s.name} at {s.path}" for s in stores) or "none",
    )
    return web.json_response({"error": text}, status=404)


def _answer(result: str, event_id: int) -> web.Response:
    """`{"status": "accepted", "event": 5}`, the bytes web.json_response would write,
    without a JSON encoder per delivery."""
    return web.Response(
        text=f'{{"status": "{result}", "event": {event_id:d}}}', content_type="application/json"
    )


def _secret_setting(store: WooStore) -> str:
    """Where the owner sets the secret of `store`, for the log."""
    if store.name == DEFAULT_STORE:
        return "WOOCOMMERCE_WEBHOOK_SECRET"
    return f"the secret of [[stores]] {store.name} in BRIDGE_CONFIG"

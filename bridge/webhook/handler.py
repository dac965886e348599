"""The HTTP endpoint WooCommerce delivers to. Thin: the decisions live in intake and the store."""

from __future__ import annotations

import logging
import time

from aiohttp import web

from bridge.keys import METRICS, SETTINGS, STORE
from bridge.queue.store import StoreError
from bridge.webhook.intake import (
    SIGNATURE_HEADER,
    TOPIC_HEADER,
    WEBHOOK_ID_HEADER,
    incoming_event,
    is_ping,
)
from bridge.webhook.signature import verify

log = logging.getLogger(__name__)

DEFAULT_STORE = "default"


async def receive(request: web.Request) -> web.Response:
    """Verify a WooCommerce delivery, store it durably, then acknowledge it."""
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        log.warning(
            "refused a %s delivery larger than BRIDGE_MAX_BODY_BYTES (%s bytes)",
            request.headers.get(TOPIC_HEADER, "webhook"),
            request.app[SETTINGS].bridge_max_body_bytes,
        )
        raise
    metrics = request.app[METRICS]
    if is_ping(request.headers, body):
        # WooCommerce marks the webhook as delivering only after exactly 200.
        log.info("answered WooCommerce's ping for webhook %s", body.decode().partition("=")[2])
        return web.Response(text="ok")

    secret = request.app[SETTINGS].woocommerce_webhook_secret.get_secret_value()
    if not verify(body, request.headers.get(SIGNATURE_HEADER), secret):
        reason = "missing" if SIGNATURE_HEADER not in request.headers else "wrong"
        metrics.signature_failures.labels(DEFAULT_STORE).inc()
        metrics.webhooks.labels(DEFAULT_STORE, "-", "unauthorized").inc()
        log.warning(
            "refused a delivery with a %s signature (topic %s, webhook %s, from %s): "
            "check WOOCOMMERCE_WEBHOOK_SECRET",
            reason,
            request.headers.get(TOPIC_HEADER, "-"),
            request.headers.get(WEBHOOK_ID_HEADER, "-"),
            request.remote,
        )
        return web.json_response(
            {"error": f"{reason} X-WC-Webhook-Signature; the webhook secrets must match"},
            status=401,
        )

    event = incoming_event(DEFAULT_STORE, request.headers, body, time.time())
    try:
        accepted = await request.app[STORE].accept(event)
    except StoreError as exc:
        # A 5xx shows in WooCommerce's delivery log; a 2xx would lose the event silently.
        log.error("could not store a %s delivery, answered 503: %s", event.topic, exc)
        metrics.webhooks.labels(DEFAULT_STORE, event.topic, "unavailable").inc()
        return web.json_response({"error": "the bridge cannot store events right now"}, status=503)

    result = "duplicate" if accepted.duplicate else "accepted"
    metrics.webhooks.labels(DEFAULT_STORE, event.topic, result).inc()
    if accepted.duplicate:
        log.info("%s delivery repeated event #%d; nothing new", event.topic, accepted.event_id)
    else:
        log.info("accepted %s as event #%d", event.topic, accepted.event_id)
    return web.json_response({"status": result, "event": accepted.event_id})


async def explain(request: web.Request) -> web.Response:
    """Answer a browser's GET with what this URL is for, instead of 405."""
    return web.Response(
        text="This is the woo-telegram-bridge webhook endpoint. "
        "WooCommerce delivers events here with POST.\n"
    )

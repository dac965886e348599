"""What every request to a route must respect before its handler sees it, and the HTTP
server's limits (a path with no route gets 404 without its body being read).

WooCommerce (and Telegram) send a request at once, uncompressed, within the size limit.
Anything else is refused before it costs memory or a file descriptor for long:

- a compressed body (Content-Encoding other than identity) gets 415 before any byte of
  it is read, and the server never inflates bodies (a gzip bomb stays 1 MB on the wire);
- a body not received within BRIDGE_BODY_TIMEOUT_SECONDS gets 408 and the connection
  closes; one larger than BRIDGE_MAX_BODY_BYTES gets 413 (a body already whole in the
  buffer is read by the handler, whose read raises it; the guard logs it either way);
- a connection that has not sent a request's headers within
  BRIDGE_HEADER_TIMEOUT_SECONDS of opening (or of its previous answer) is closed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from bridge.keys import REFUSALS, SETTINGS
from bridge.refusals import clip

log = logging.getLogger(__name__)

#: after refusing a request whose body is still arriving, how long to drain it so that
#: the client can read the answer before the connection closes
LINGER_SECONDS = 2.0


def server_options(*, header_timeout: float, body_timeout: float) -> dict[str, Any]:
    """Options of aiohttp's request handler (`web.Application(handler_args=...)`)."""
    return {
        # Bodies are kept as they arrive: nothing is inflated (see the 415 below).
        "auto_decompress": False,
        # aiohttp closes a connection that has no complete request after this long, from
        # its opening and after each answer: slow or idle headers hold nothing for long.
        "keepalive_timeout": header_timeout,
        "lingering_time": min(LINGER_SECONDS, body_timeout),
    }


def guarded(handler: Handler) -> Handler:
    """`handler` behind the guard: refuse compressed, slow and oversized bodies first.

    Wrapped around each route rather than installed as a middleware: with any middleware
    at all, aiohttp runs every request through two more coroutines (the middleware and a
    second one of its own that sets `current_app`), paid per delivery under a burst.
    """

    async def guarded_handler(request: web.Request) -> web.StreamResponse:
        refused = compressed(request)
        if refused is not None:
            return refused
        # A body that has arrived whole (most do, with their headers) is the handler's to
        # read: no deadline to arm, no coroutine of the guard's own per delivery.
        if request.body_exists and not request.content.is_eof():
            refused = await read_in_time(request)
            if refused is not None:
                return refused
        try:
            return await handler(request)
        except web.HTTPRequestEntityTooLarge:
            too_large(request)
            raise

    return guarded_handler


def compressed(request: web.Request) -> web.StreamResponse | None:
    """415 for a compressed body, before any byte of it is read."""
    encoding = request.headers.get(hdrs.CONTENT_ENCODING)
    if encoding is None or encoding.strip().lower() in ("", "identity"):
        return None
    request.app[REFUSALS].warning(
        "content encoding",
        "refused a request to %s with Content-Encoding %s (answered 415): WooCommerce "
        "never compresses deliveries",
        clip(request.path),
        clip(encoding.strip().lower()),
    )
    response = web.json_response(
        {"error": "compressed bodies are not accepted; send the body uncompressed"},
        status=415,
    )
    response.force_close()
    return response


async def read_in_time(request: web.Request) -> web.StreamResponse | None:
    """Read a body still arriving, within BRIDGE_BODY_TIMEOUT_SECONDS: None once read,
    else 408 (413 is raised, as aiohttp does)."""
    settings = request.app[SETTINGS]
    try:
        async with asyncio.timeout(settings.bridge_body_timeout_seconds):
            # Kept by aiohttp: the handler's own read() returns these bytes.
            await request.read()
    except TimeoutError:
        request.app[REFUSALS].warning(
            "slow body",
            "closed a request to %s whose body did not arrive within "
            "BRIDGE_BODY_TIMEOUT_SECONDS (%s s), from %s",
            clip(request.path),
            settings.bridge_body_timeout_seconds,
            request.remote,
        )
        response = web.json_response(
            {"error": "the body did not arrive in time; send it at once"}, status=408
        )
        response.force_close()
        return response
    except web.HTTPRequestEntityTooLarge:
        too_large(request)
        raise
    return None


def too_large(request: web.Request) -> None:
    """Log a body larger than BRIDGE_MAX_BODY_BYTES (aiohttp answers 413)."""
    request.app[REFUSALS].warning(
        "too large",
        "refused a request to %s larger than BRIDGE_MAX_BODY_BYTES (%s bytes), topic %s",
        clip(request.path),
        request.app[SETTINGS].bridge_max_body_bytes,
        clip(request.headers.get("X-WC-Webhook-Topic")),
    )

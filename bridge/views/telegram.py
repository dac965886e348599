"""Telegram updates by webhook: the route Telegram posts to when long polling is off."""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram import Update

from bridge.keys import BOT, REFUSALS, SETTINGS
from bridge.refusals import clip

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


async def receive_update(request: web.Request) -> web.Response:
    """Check Telegram's secret token, then hand the update to the bot."""
    expected = request.app[SETTINGS].telegram_webhook_secret
    given = request.headers.get(SECRET_HEADER, "")
    if expected is None or not hmac.compare_digest(
        given.encode(), expected.get_secret_value().encode()
    ):
        request.app[REFUSALS].warning(
            "telegram secret",
            "refused a Telegram update without the right secret token from %s",
            request.remote,
        )
        return web.json_response({"error": "wrong secret token"}, status=403)
    runner = request.app[BOT]
    if not runner.ready.is_set():
        # Telegram retries what it could not deliver.
        return web.json_response({"error": "the bot is starting"}, status=503)
    try:
        data = json.loads(await request.read())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return web.json_response({"error": "not JSON"}, status=400)
    # Only Telegram knows the secret, but a body that is not an update must still get a
    # clear 400, never a 500 with a traceback.
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        return web.json_response(
            {"error": "not a Telegram update: expected an object with an update_id"}, status=400
        )
    try:
        update = Update.de_json(data, runner.application.bot)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        log.warning("could not read a Telegram update: %s", clip(str(exc), 200))
        return web.json_response({"error": "not a Telegram update this bot can read"}, status=400)
    await runner.application.update_queue.put(update)
    return web.json_response({"ok": True})

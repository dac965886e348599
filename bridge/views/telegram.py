"""Telegram updates by webhook: the route Telegram posts to when long polling is off."""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram import Update

from bridge.keys import BOT, SETTINGS

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


async def receive_update(request: web.Request) -> web.Response:
    """Check Telegram's secret token, then hand the update to the bot."""
    expected = request.app[SETTINGS].telegram_webhook_secret
    given = request.headers.get(SECRET_HEADER, "")
    if expected is None or not hmac.compare_digest(
        given.encode(), expected.get_secret_value().encode()
    ):
        log.warning(
            "refused a Telegram update without the right secret token from %s", request.remote
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
    update = Update.de_json(data, runner.application.bot)
    await runner.application.update_queue.put(update)
    return web.json_response({"ok": True})

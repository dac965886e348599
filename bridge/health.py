"""Health endpoint for container orchestrators and uptime checks."""

from __future__ import annotations

from aiohttp import web

from bridge.keys import BOT, STORE
from bridge.queue.store import StoreError


async def healthz(request: web.Request) -> web.Response:
    """200 when the database takes writes and the bot runs; else 503 with the reason."""
    checks: dict[str, str] = {}
    try:
        await request.app[STORE].ping()
        checks["database"] = "ok"
    except StoreError as exc:
        checks["database"] = f"failing: {exc}"
    bot = request.app[BOT]
    checks["telegram"] = "ok" if bot.ready.is_set() else (bot.problem or "starting")
    healthy = all(value == "ok" for value in checks.values())
    return web.json_response(
        {"status": "ok" if healthy else "unhealthy", **checks}, status=200 if healthy else 503
    )

"""Health and metrics endpoints, for orchestrators, uptime checks and Prometheus.

/healthz: the process is alive (200 while it answers), with what it knows in the body.
/readyz: it can do its job: the database takes writes and the bot has started. A bot
that started and then lost Telegram for a while stays ready: the queue holds the
messages, so restarting the process would not help.
"""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.exposition import generate_latest

from bridge.keys import BOT, LEADERSHIP, METRICS, STORE, WORKERS
from bridge.queue.leadership import SoleLeader
from bridge.queue.storage import DatabaseMissing, StoreError

log = logging.getLogger(__name__)


async def _checks(app: web.Application) -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        await app[STORE].ping()
        checks["database"] = "ok"
    except DatabaseMissing:
        checks["database"] = "missing"
    except StoreError as exc:
        # Status words only: these endpoints need no login. The details go to the log.
        checks["database"] = _database_word(str(exc))
        log.warning("health check: the database is failing: %s", exc)
    bot = app[BOT]
    checks["telegram"] = "ok" if bot.ready.is_set() else bot.status
    workers = app.get(WORKERS)
    if workers is not None:
        down = workers.problems()
        checks["workers"] = ", ".join(f"{n} {w}" for n, w in sorted(down.items())) or "ok"
    return checks


def _database_word(error: str) -> str:
    """SQLite's error as one word: what the owner has to fix, without the error's text."""
    text = error.lower()
    for needle, word in _DATABASE_WORDS:
        if needle in text:
            return word
    return "failing"


_DATABASE_WORDS = (
    ("full", "full"),
    ("locked", "locked"),
    ("readonly", "unwritable"),
    ("read-only", "unwritable"),
    ("unable to open", "unwritable"),
)


def _role(app: web.Application) -> dict[str, str]:
    """With several replicas: whether this one leads (its name, a host's, is for /status
    and the log only). A follower is as ready as the leader: it takes webhooks, and
    leads if the leader goes."""
    leadership = app.get(LEADERSHIP)
    if leadership is None or isinstance(leadership, SoleLeader):
        return {}
    return {"role": "leader" if leadership.leading else "follower"}


async def healthz(request: web.Request) -> web.Response:
    """200 while the process answers; the body says what is wrong, if anything."""
    checks = await _checks(request.app)
    healthy = all(value == "ok" for value in checks.values())
    return web.json_response(
        {"status": "ok" if healthy else "degraded", **checks, **_role(request.app)}
    )


async def readyz(request: web.Request) -> web.Response:
    """200 when the database takes writes and the bot has started; else 503 with why."""
    checks = await _checks(request.app)
    ready = all(value == "ok" for value in checks.values())
    return web.json_response(
        {"status": "ready" if ready else "not ready", **checks, **_role(request.app)},
        status=200 if ready else 503,
    )


async def metrics_endpoint(request: web.Request) -> web.Response:
    """Prometheus scrape endpoint."""
    # Figures in memory only: the queue's gauges are refreshed in the background
    # (bridge.observability), so scrapers never wait on the database, nor make intake wait.
    return web.Response(
        body=generate_latest(request.app[METRICS].registry),
        headers={"Content-Type": CONTENT_TYPE_LATEST},
    )

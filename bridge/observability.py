"""Metrics off the intake path: gauges refreshed in the background, and an optional
listener of their own for /metrics (and a copy of /healthz and /readyz).

A scrape only formats figures already in memory. Counting the queue takes a query on
the database thread, the one that commits webhooks, so it runs once per
BRIDGE_METRICS_REFRESH_SECONDS whatever the number of scrapers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bridge.config import ConfigError
from bridge.keys import BOT, LEADERSHIP, METRICS, SETTINGS, STORE
from bridge.metrics import Metrics
from bridge.queue.leadership import Leadership
from bridge.queue.storage import Storage, StoreError
from bridge.views.health import healthz, metrics_endpoint, readyz

log = logging.getLogger(__name__)


async def refresh_gauges(
    store: Storage, metrics: Metrics, leadership: Leadership | None = None
) -> None:
    """Set the queue's gauges from one count of the database, and the replicas'."""
    stats = await store.stats()
    metrics.queue_depth.set(stats.events_waiting + stats.pending + stats.sending)
    metrics.dead_letter_count.set(stats.dead)
    if leadership is not None:
        metrics.replicas.set(len(await leadership.replicas()))


async def refresh_forever(
    store: Storage, metrics: Metrics, interval: float, leadership: Leadership | None = None
) -> None:
    while True:
        try:
            await refresh_gauges(store, metrics, leadership)
        except StoreError as exc:
            # The health endpoints report the database; the gauges keep their last value.
            log.debug("could not count the queue for the metrics: %s", exc)
        await asyncio.sleep(interval)


async def gauges_ctx(app: web.Application) -> AsyncIterator[None]:
    """The gauges' refresher, for as long as the database is open."""
    task = asyncio.create_task(
        refresh_forever(
            app[STORE],
            app[METRICS],
            app[SETTINGS].bridge_metrics_refresh_seconds,
            app[LEADERSHIP],
        ),
        name="metrics",
    )
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def metrics_listener_ctx(app: web.Application) -> AsyncIterator[None]:
    """With BRIDGE_METRICS_PORT, serve /metrics, /healthz and /readyz there too."""
    settings = app[SETTINGS]
    if settings.bridge_metrics_port is None:
        yield
        return
    side = web.Application()
    side[SETTINGS], side[METRICS] = settings, app[METRICS]
    side[STORE], side[BOT], side[LEADERSHIP] = app[STORE], app[BOT], app[LEADERSHIP]
    side.router.add_get("/metrics", metrics_endpoint)
    side.router.add_get("/healthz", healthz)
    side.router.add_get("/readyz", readyz)
    runner = web.AppRunner(side, handle_signals=False, access_log=None)
    await runner.setup()
    host = settings.bridge_metrics_host or settings.bridge_host
    site = web.TCPSite(runner, host, settings.bridge_metrics_port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(
            [
                f"cannot listen on {host}:{settings.bridge_metrics_port} ({exc}); "
                "set BRIDGE_METRICS_HOST/BRIDGE_METRICS_PORT"
            ]
        ) from None
    log.info("metrics and health at http://%s:%s/metrics", host, settings.bridge_metrics_port)
    yield
    await runner.cleanup()

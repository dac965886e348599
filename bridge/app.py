"""The application factory: one aiohttp app owns every resource of the bridge.

Resources are acquired in cleanup contexts in dependency order (store, chats, bot,
worker) and released in reverse: the worker stops sending before the bot closes, and
the bot before the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from yarl import URL

from bridge import wiring
from bridge.bot.access import Access
from bridge.bot.commands import COMMANDS, StaffCommands
from bridge.bot.order_actions import OrderActions
from bridge.bot.order_commands import OrderCommands
from bridge.bot.report_commands import ReportCommands
from bridge.bot.runner import BotRunner, build_application
from bridge.clock import Clock, ScheduleClock
from bridge.config import Settings
from bridge.config_routes import load_routes
from bridge.config_stores import load_stores
from bridge.guard import request_guard, server_options
from bridge.keys import (
    BOT,
    CHATS,
    CLOCK,
    LIFECYCLE,
    METRICS,
    RECOVERY,
    REFUSALS,
    RENDERER,
    ROUTES,
    SECRETS,
    SETTINGS,
    SETUP,
    STORE,
    STORES,
    WORKERS,
)
from bridge.lifecycle import Lifecycle
from bridge.metrics import Metrics
from bridge.observability import gauges_ctx, metrics_listener_ctx
from bridge.queue.postgres import failure as postgres
from bridge.queue.retention import prune_forever
from bridge.queue.storage import Storage
from bridge.queue.store import Store
from bridge.recovery.board import RecoveryBoard
from bridge.recovery.reconciler import Reconciler
from bridge.redact import Secrets
from bridge.refusals import RefusalLog
from bridge.reports.summary import summaries_forever
from bridge.routing.chats import Chats
from bridge.routing.digests import Digests
from bridge.routing.router import Router
from bridge.send.alerts import ChatAlerts
from bridge.send.ratelimit import RateLimiter
from bridge.send.sender import Sender
from bridge.setup_check.findings import SetupReport
from bridge.setup_check.runner import check_at_start, status_lines
from bridge.supervisor import Supervisor
from bridge.views import webhook as handler
from bridge.views.health import healthz, metrics_endpoint, readyz
from bridge.views.telegram import receive_update

log = logging.getLogger(__name__)

#: the default store's path, and each store's; both spellings of each are served
WEBHOOK_PATHS = ("/webhook", "/webhook/", "/webhook/{store}", "/webhook/{store}/")


def create_app(
    settings: Settings,
    lifecycle: Lifecycle | None = None,
    *,
    clock: Clock | None = None,
    secrets: Secrets | None = None,
) -> web.Application:
    """Build the bridge. Templates, stores and routes are read here, so a broken one fails
    at once. `clock` is the machine's unless given: tests move it, or step its wall time
    back (the store and the workers see it through a ScheduleClock, never backward).
    `secrets` is what the log handlers mask (`setup_logging`); the app adds every secret
    it reads to it.

    Raises TemplateProblem or ConfigError (from the BRIDGE_CONFIG file).
    """
    app = web.Application(
        client_max_size=settings.bridge_max_body_bytes,
        handler_args=server_options(
            header_timeout=settings.bridge_header_timeout_seconds,
            body_timeout=settings.bridge_body_timeout_seconds,
        ),
        middlewares=[request_guard],
    )
    app[SETTINGS] = settings
    app[CLOCK] = ScheduleClock(clock)
    interval = settings.bridge_refusal_log_interval_seconds
    app[REFUSALS] = RefusalLog(
        logging.getLogger("bridge.refusals"), interval, clock=app[CLOCK].monotonic
    )
    app[LIFECYCLE] = lifecycle or Lifecycle()
    app[METRICS] = Metrics()
    stores = load_stores(settings)
    app[STORES] = stores
    # Every secret this bridge holds is masked in its logs from here on.
    app[SECRETS] = secrets or Secrets()
    wiring.mask_secrets(app[SECRETS], settings, stores)
    keyed = tuple(link.name for link in wiring.reconcile_links(stores))
    # Orders of a store with a REST API key carry status buttons (docs/order-actions.md).
    renderer = wiring.renderer(settings, stores.urls(), action_stores=keyed)
    renderer.compile_all()
    app[RENDERER] = renderer
    app[ROUTES] = load_routes(settings, stores.names)
    app[RECOVERY] = RecoveryBoard(keyed, tuple(n for n in stores.names if n not in keyed))
    app[SETUP] = SetupReport()
    app.cleanup_ctx.extend([store_ctx, chats_ctx, bot_ctx, worker_ctx, setup_check_ctx])
    app.cleanup_ctx.extend([gauges_ctx, metrics_listener_ctx])
    for path in WEBHOOK_PATHS:
        # A redirect would count as delivered and lose the event; an unknown store gets 404.
        app.router.add_post(path, handler.receive)
        app.router.add_get(path, handler.explain)
    if settings.telegram_webhook_url:
        app.router.add_post(URL(settings.telegram_webhook_url).path, receive_update)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if settings.bridge_metrics_port is None:
        app.router.add_get("/metrics", metrics_endpoint)
    return app


async def store_ctx(app: web.Application) -> AsyncIterator[None]:
    """PostgreSQL when BRIDGE_DATABASE_URL is set (several replicas), else SQLite."""
    settings = app[SETTINGS]
    url = settings.database_url
    store: Storage
    if url is not None:
        store = await postgres.open_store(url, clock=app[CLOCK])
    else:
        store = await Store.open(
            settings.database_path,
            settings.bridge_db_synchronous,
            settings.bridge_db_busy_timeout_seconds,
            clock=app[CLOCK],
        )
    app[STORE] = store
    yield
    await store.close()


async def chats_ctx(app: web.Application) -> AsyncIterator[None]:
    app[CHATS] = await Chats.open(app[STORE], app[ROUTES], app[CLOCK])
    yield


def _language_of(app: web.Application, chat_id: int) -> str | None:
    target = app[CHATS].routes.target_of(chat_id)
    return target.language if target else None


async def bot_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    application, requests = build_application(wiring.telegram_connection(settings))
    staff = StaffCommands(
        settings.telegram_admin_ids,
        app[STORE],
        app[LIFECYCLE],
        app[CHATS],
        clock=app[CLOCK],
        recovery=app[RECOVERY],
        setup=functools.partial(status_lines, app[SETUP]),
    )
    staff.register(application)
    session = aiohttp.ClientSession()
    actions = OrderActions(
        app[STORE],
        Access(settings.telegram_admin_ids, app[CHATS]),
        app[RENDERER],
        wiring.order_clients(session, app[STORES], settings.bridge_order_rest_timeout_seconds),
        wiring.action_options(settings),
        target_of=lambda chat_id: app[CHATS].routes.target_of(chat_id),
        clock=app[CLOCK],
    )
    actions.register(application)
    OrderCommands(
        app[STORE],
        Access(settings.telegram_admin_ids, app[CHATS]),
        actions,
        app[RENDERER],
        clock=app[CLOCK],
    ).register(application)
    ReportCommands(
        app[STORE],
        Access(settings.telegram_admin_ids, app[CHATS]),
        app[RENDERER],
        readers=settings.telegram_admin_ids | wiring.action_options(settings).staff,
        language_of=lambda chat_id: _language_of(app, chat_id),
        stores=app[STORES].names,
        zone=settings.timezone,
        clock=app[CLOCK],
    ).register(application)
    runner = BotRunner(
        application,
        requests,
        COMMANDS,
        settings.bridge_poll_timeout_seconds,
        retry=(settings.bridge_retry_base_seconds, settings.bridge_retry_max_seconds),
        webhook=wiring.webhook_mode(settings),
        reach=wiring.reach(settings),
        menus=wiring.menus(app[RENDERER]),
    )
    app[BOT] = runner
    runner.start()
    yield
    await runner.stop()
    await session.close()


async def setup_check_ctx(app: web.Application) -> AsyncIterator[None]:
    """The setup check, once, in the background: intake and sending never wait for it."""
    settings, runner = app[SETTINGS], app[BOT]
    targets = wiring.setup_targets(settings, app[STORES], app[ROUTES])
    check = check_at_start(
        runner.ready, runner.bot, targets, wiring.reach(settings), app[SETUP], app[CLOCK]
    )
    task = asyncio.create_task(check, name="setup-check")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def worker_ctx(app: web.Application) -> AsyncIterator[None]:
    settings, store = app[SETTINGS], app[STORE]
    recovered = await store.recover_in_flight()
    if recovered:
        log.warning(
            "%d message(s) were being sent when the bridge stopped; sending again", recovered
        )
    chats = app[CHATS]
    policy = wiring.digest_policy(settings)
    clock = app[CLOCK]
    # Nothing stored is due later than it was when stored, even after a clock step back.
    clock.raise_floor(await store.latest_time())
    digests = Digests(store, policy, clock) if policy is not None else None
    # While a burst arrives, route twice as fast as Telegram can take messages: the
    # sender never waits, and intake keeps the CPU and the database thread.
    busy_pace = 2.0 * settings.bridge_rate_overall_per_second
    router = Router(store, chats, app[RENDERER], digests, clock=clock, busy_pace=busy_pace)
    alerts = ChatAlerts(store, settings.telegram_alert_chat_id, clock)
    await alerts.load()
    sender = Sender(
        store,
        app[BOT],
        policy=wiring.retry_policy(settings),
        limiter=RateLimiter(wiring.limits(settings)),
        concurrency=settings.bridge_send_concurrency,
        alerts=alerts,
        metrics=app[METRICS],
        secrets=app[SECRETS],
        gate=chats,
        clock=clock,
    )
    retention = wiring.retention(settings)
    workers = Supervisor(
        first_pause=settings.bridge_retry_base_seconds,
        longest_pause=min(60.0, settings.bridge_retry_max_seconds),
    )
    app[WORKERS] = workers
    workers.start("router", router.run)
    workers.start("digests", router.flush_digests_forever)
    workers.start("sender", sender.run)
    workers.start("pruner", functools.partial(prune_forever, store, retention, clock))
    if any(route.target.summary_at for route in chats.routes.routes):
        summaries = functools.partial(
            summaries_forever,
            store,
            lambda: chats.routes,
            app[RENDERER],
            settings.timezone,
            interval=settings.bridge_summary_check_seconds,
            stores=app[STORES].names,
            clock=clock,
        )
        workers.start("summaries", summaries)
    # Gap filling: only stores with a REST API key; BRIDGE_RECONCILE_INTERVAL_SECONDS=0 is off.
    links = wiring.reconcile_links(app[STORES], app[ROUTES])
    if links and settings.bridge_reconcile_interval_seconds > 0:
        reconciler = Reconciler(
            store,
            links,
            wiring.reconcile_options(settings),
            board=app[RECOVERY],
            metrics=app[METRICS],
            clock=clock,
        )
        workers.start("reconciler", reconciler.run)
    yield
    await sender.stop(settings.bridge_shutdown_grace_seconds)
    await workers.stop()

"""The application factory: one aiohttp app owns every resource of the bridge.

Resources are acquired in cleanup contexts in dependency order (store, leadership,
chats, bot, worker) and released in reverse: the worker stops sending before the bot
closes, the bot before the leadership is released, and that before the database.
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
from bridge.bot.once import UpdatesOnce
from bridge.bot.order_actions import OrderActions
from bridge.bot.order_commands import OrderCommands
from bridge.bot.report_commands import ReportCommands
from bridge.bot.runner import BotRunner, build_application
from bridge.clock import Clock, ScheduleClock
from bridge.config import Settings
from bridge.config_routes import load_routes
from bridge.config_stores import load_stores
from bridge.duty import Duty
from bridge.guard import guarded, server_options
from bridge.keys import (
    BOT,
    CHATS,
    CLOCK,
    LEADERSHIP,
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
from bridge.queue.leadership import Leadership, SoleLeader
from bridge.queue.postgres import failure as postgres
from bridge.queue.storage import Storage, StoreError
from bridge.queue.store import Store
from bridge.recovery.board import RecoveryBoard
from bridge.redact import Secrets
from bridge.refusals import RefusalLog
from bridge.routing.chats import Chats
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
        # No middleware: each route is wrapped in the guard instead (bridge/guard.py).
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
    app.cleanup_ctx.extend([store_ctx, leadership_ctx, chats_ctx, bot_ctx, worker_ctx])
    app.cleanup_ctx.append(setup_check_ctx)
    app.cleanup_ctx.extend([gauges_ctx, metrics_listener_ctx])
    for path in WEBHOOK_PATHS:
        # A redirect would count as delivered and lose the event; an unknown store gets 404.
        app.router.add_post(path, guarded(handler.receive))
        app.router.add_get(path, guarded(handler.explain))
    if settings.telegram_webhook_url:
        app.router.add_post(URL(settings.telegram_webhook_url).path, guarded(receive_update))
    app.router.add_get("/healthz", guarded(healthz))
    app.router.add_get("/readyz", guarded(readyz))
    if settings.bridge_metrics_port is None:
        app.router.add_get("/metrics", guarded(metrics_endpoint))
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
    # First: an update Telegram gives again (a new leader, a restart) is not applied twice.
    UpdatesOnce(app[STORE]).register(application)
    staff = StaffCommands(
        settings.telegram_admin_ids,
        app[STORE],
        app[LIFECYCLE],
        app[CHATS],
        clock=app[CLOCK],
        recovery=app[RECOVERY],
        setup=functools.partial(status_lines, app[SETUP]),
        # A sole bridge on SQLite has no replicas to show.
        leadership=None if isinstance(app[LEADERSHIP], SoleLeader) else app[LEADERSHIP],
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


async def leadership_ctx(app: web.Application) -> AsyncIterator[None]:
    """Which replica leads: on SQLite this one, at once; on PostgreSQL one elected there."""
    settings = app[SETTINGS]
    url = settings.database_url
    leadership: Leadership
    if url is None:
        leadership = SoleLeader(settings.replica_name, clock=app[CLOCK])
    else:
        from bridge.queue.postgres.leader import PgLeader  # asyncpg only when it is used

        leadership = PgLeader(
            url,
            app[STORE],  # type: ignore[arg-type]  # a PgStore: it has an epoch
            replica=settings.replica_name,
            clock=app[CLOCK],
            poll_seconds=settings.bridge_leader_poll_seconds,
            heartbeat_seconds=settings.bridge_leader_heartbeat_seconds,
            timeout_seconds=settings.bridge_leader_timeout_seconds,
        )
    app[LEADERSHIP] = leadership
    leadership.start()
    yield
    await leadership.close()


async def worker_ctx(app: web.Application) -> AsyncIterator[None]:
    """The leader's work (bridge.duty), for each term this replica leads."""
    settings = app[SETTINGS]
    workers = Supervisor(
        first_pause=settings.bridge_retry_base_seconds,
        longest_pause=min(60.0, settings.bridge_retry_max_seconds),
    )
    app[WORKERS] = workers
    duty = Duty(app, workers)
    leadership = app[LEADERSHIP]
    if leadership.leading:
        # SQLite: the workers start with the app, as a single bridge's always have.
        await duty.begin(await leadership.acquire())
    tasks = [asyncio.create_task(duty.run(), name="duty")]
    if not isinstance(leadership, SoleLeader):
        # Staff may mute a chat through any replica (webhook mode) or through an earlier
        # leader, and a leader records chat moves: every replica reads them again, so the
        # leader skips what they mute, and every replica answers a moved chat's commands.
        tasks.append(asyncio.create_task(_reload_chats(app[CHATS]), name="chats"))
    yield
    for task in tasks[1:]:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await duty.stop(tasks[0], settings.bridge_shutdown_grace_seconds)


#: how often replicas sharing a database read the mutes and chat moves again
CHATS_RELOAD_SECONDS = 5.0


async def _reload_chats(chats: Chats) -> None:
    while True:
        await asyncio.sleep(CHATS_RELOAD_SECONDS)
        try:
            await chats.reload()
        except StoreError as exc:
            log.debug("could not read the mutes and chat moves again: %s", exc)

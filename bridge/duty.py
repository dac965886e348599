"""The leader's duty: the work that must not run twice, for as long as a term lasts.

Routing, digests, sending, pruning, summaries, reconciliation and the bot's long polling
run on the replica that leads (bridge.queue.leadership), start when it wins and stop the
moment it loses: claiming and sending at once (a send cut short is sent again by the
next leader, as after a crash), then the other workers and the poller. On SQLite the one
process leads from the start, so the bridge starts its workers as it always has.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from aiohttp import web

from bridge import wiring
from bridge.keys import (
    BOT,
    CHATS,
    CLOCK,
    LEADERSHIP,
    METRICS,
    RECOVERY,
    RENDERER,
    ROUTES,
    SECRETS,
    SETTINGS,
    STORE,
    STORES,
)
from bridge.queue.leadership import SoleLeader
from bridge.queue.retention import prune_forever
from bridge.queue.storage import StoreError
from bridge.recovery.reconciler import Reconciler
from bridge.reports.summary import summaries_forever
from bridge.routing.digests import Digests
from bridge.routing.router import Router
from bridge.send.alerts import ChatAlerts
from bridge.send.ratelimit import RateLimiter
from bridge.send.sender import Sender
from bridge.supervisor import Supervisor

log = logging.getLogger(__name__)


class Duty:
    """Starts the leader's workers for each term and stops them when it ends."""

    def __init__(self, app: web.Application, workers: Supervisor) -> None:
        self._app = app
        self._workers = workers
        self._sender: Sender | None = None
        self._leading = False
        self._closing = False

    async def run(self) -> None:
        """Lead whenever this replica may, until cancelled."""
        leadership = self._app[LEADERSHIP]
        settings = self._app[SETTINGS]
        while not self._closing:
            if not self._leading:
                epoch = await leadership.acquire()
                try:
                    await self.begin(epoch)
                except StoreError as exc:
                    log.error("could not start leading, retrying: %s", exc)
                    await self._retry(settings.bridge_retry_base_seconds)
                    continue
                except Exception:
                    # A bug must not leave the replica unable to lead for good.
                    log.critical("could not start leading; retrying", exc_info=True)
                    await self._retry(settings.bridge_retry_base_seconds)
                    continue
            await leadership.lost.wait()
            await self.end(grace=0)

    async def stop(self, task: asyncio.Task[None], grace: float) -> None:
        """End `task` (running `run()`) and the term, giving sends in flight `grace` seconds.

        Cancelled again until it ends: a term ending at that moment may be awaiting a
        task of its own, and such an await can absorb one cancellation.
        """
        self._closing = True
        while not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=1.0)
        await self.end(grace)

    async def _retry(self, pause: float) -> None:
        await self.end(grace=0)
        await asyncio.sleep(pause)

    async def begin(self, epoch: int) -> None:
        """Start the term's workers: sends in flight under an earlier term go again."""
        app, settings = self._app, self._app[SETTINGS]
        store, clock, chats = app[STORE], app[CLOCK], app[CHATS]
        self._leading = True
        app[METRICS].leader.set(1)
        app[BOT].lead()  # before the first await: a sole bridge polls as soon as it starts
        recovered = await store.recover_in_flight()
        if recovered:
            log.warning(
                "%d message(s) were being sent when the bridge stopped; sending again", recovered
            )
        if not isinstance(app[LEADERSHIP], SoleLeader):
            # Mutes and chat moves recorded meanwhile by another replica (an earlier
            # leader): a chat that moved is never sent to at its dead id.
            await chats.reload()
        # Nothing stored is due later than it was when stored, even after a clock step back.
        clock.raise_floor(await store.latest_time())
        policy = wiring.digest_policy(settings)
        digests = Digests(store, policy, clock) if policy is not None else None
        # While a burst arrives, route twice as fast as Telegram can take messages: the
        # sender never waits, and intake keeps the CPU and the database thread.
        busy_pace = 2.0 * settings.bridge_rate_overall_per_second
        router = Router(store, chats, app[RENDERER], digests, clock=clock, busy_pace=busy_pace)
        alerts = ChatAlerts(store, settings.telegram_alert_chat_id, clock)
        await alerts.load()
        self._sender = sender = Sender(
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
        workers = self._workers
        workers.start("router", router.run)
        workers.start("digests", router.flush_digests_forever)
        workers.start("sender", sender.run)
        retention = wiring.retention(settings)
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

    async def end(self, grace: float) -> None:
        """Stop the term's work: sending first, giving sends in flight `grace` seconds."""
        if not self._leading:
            return
        self._leading = False
        app = self._app
        sender, self._sender = self._sender, None
        if sender is not None:
            await sender.stop(grace)
        await self._workers.stop()
        await app[BOT].follow(timeout=max(grace, app[SETTINGS].bridge_leader_timeout_seconds))
        app[METRICS].leader.set(0)

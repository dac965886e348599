"""The reconciler: fills the gaps WooCommerce leaves in its webhooks, and keeps them alive.

WooCommerce never retries a delivery, disables a webhook after repeated failures and
coalesces order.updated, so some orders and status changes never arrive. For each store
with a REST API key, a pass lists the orders saved since the store's watermark (with an
overlap, one page at a time, oldest first) and stores each state the bridge has not seen
as an event marked recovered: the router then treats it like a delivery (routes, filters,
mutes, digests, templates) and says in one line that it was recovered. The same pass
lists the store's webhooks and sets this bridge's disabled ones active again.

A failing REST API is logged once per outage, retried with backoff, and never touches
intake or sending.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import aiohttp

from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.metrics import Metrics
from bridge.queue.models import IncomingEvent, OutgoingMessage, SeenOrder
from bridge.queue.storage import Storage, StoreError
from bridge.recovery import watchdog
from bridge.recovery.board import RecoveryBoard
from bridge.recovery.passes import PassResult, Progress, gmt, parse_gmt
from bridge.routing.router import IGNORED_ORDER_STATUSES
from bridge.woo.rest import WooApiError, WooClient

log = logging.getLogger(__name__)

NOTICE_TOPIC = "bridge.webhooks"
#: the longest pause between passes while a store's REST API keeps failing
_LONGEST_BACKOFF = 3600.0


@dataclass(frozen=True)
class StoreLink:
    """One store the reconciler asks: its REST API key, and where it delivers to us."""

    name: str
    store_url: str
    consumer_key: str
    consumer_secret: str
    #: the store's delivery path here (/webhook or /webhook/<name>)
    path: str
    #: the topics the routes expect from this store
    expected_topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReconcileOptions:
    interval: float = 300.0
    #: the address WooCommerce delivers to; None: the watchdog is off
    public_url: str | None = None
    reactivate: bool = True
    alert_chat_id: int | None = None
    #: how far back each pass starts before the watermark: 1-second dates, rows that move
    overlap: float = 120.0
    timeout: float = 30.0


def recovered_event(
    store: str, order: Mapping[str, object], seen: SeenOrder | None, now: float
) -> IncomingEvent | None:
    """The event to store for `order`, or None when the bridge has seen its state (through
    a webhook or an earlier recovery), seen a newer one, or it is never news."""
    order_id, status = order.get("id"), order.get("status")
    modified = order.get("date_modified_gmt") or ""
    if not isinstance(status, str) or status in IGNORED_ORDER_STATUSES:
        return None
    if isinstance(order_id, bool) or not isinstance(order_id, int | str):
        return None
    modified = modified if isinstance(modified, str) else ""
    if seen is not None and (seen.status == status or modified < seen.modified):
        return None
    identity = f"recovered\0{store}\0{order_id}\0{modified}\0{status}".encode()
    return IncomingEvent(
        store=store,
        topic="order.created" if seen is None else "order.updated",
        body=json.dumps(order, separators=(",", ":")).encode(),
        # One event per recovered state, however many passes see it before it is routed.
        body_key=hashlib.sha256(identity).hexdigest(),
        received_at=now,
        recovered=True,
    )


@dataclass
class _Outage:
    #: the failure being reported (one log line per outage), None while all is well
    key: str | None = None
    failures: int = 0
    reported: set[str] = field(default_factory=set)


class Reconciler:
    """One pass per store at start-up and every interval, until cancelled."""

    def __init__(
        self,
        store: Storage,
        links: tuple[StoreLink, ...],
        options: ReconcileOptions,
        *,
        board: RecoveryBoard | None = None,
        metrics: Metrics | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._store = store
        self._links = links
        self._options = options
        self.board = board or RecoveryBoard(tuple(link.name for link in links))
        self._metrics = metrics
        self._clock = clock
        self._state = {link.name: _Outage() for link in links}

    async def run(self) -> None:
        if not self._links or self._options.interval <= 0:
            return
        async with aiohttp.ClientSession() as session:
            due = dict.fromkeys((link.name for link in self._links), 0.0)
            while True:
                for link in self._links:
                    if due[link.name] <= self._clock.monotonic():
                        result = await self.reconcile(session, link)
                        due[link.name] = self._clock.monotonic() + self._pause(link, result)
                wait = min(due.values()) - self._clock.monotonic()
                await asyncio.sleep(max(0.01, wait))

    def _pause(self, link: StoreLink, result: PassResult) -> float:
        failures = self._state[link.name].failures
        interval = self._options.interval
        if not failures:
            return interval
        pause: float = min(interval * 2 ** (failures - 1), max(interval, _LONGEST_BACKOFF))
        return pause

    async def reconcile(
        self,
        session: aiohttp.ClientSession,
        link: StoreLink,
        *,
        since: str | None = None,
        progress: Progress | None = None,
    ) -> PassResult:
        """One pass over `link`'s store: orders, then webhooks. Never raises a REST or a
        store failure: it is logged (once per outage) and kept in the result."""
        result = PassResult(link.name)
        client = WooClient(
            session,
            link.store_url,
            link.consumer_key,
            link.consumer_secret,
            timeout=self._options.timeout,
        )
        try:
            await self._orders(client, link, result, since, progress)
            if self._options.public_url:
                await self._webhooks(client, link)
        except (WooApiError, StoreError) as exc:
            result.error = str(exc)
        self._finish(link, result)
        return result

    async def _orders(
        self,
        client: WooClient,
        link: StoreLink,
        result: PassResult,
        since: str | None,
        progress: Progress | None,
    ) -> None:
        now = self._clock.time()
        before = gmt(now)
        watermark = await self._store.watermark(link.name)
        if since is None and watermark is None:
            # A store's first start: its past is not news; no flood of old orders. One empty
            # listing still proves the key, so that a wrong one shows at once.
            async for _ in client.orders_modified(before, before, per_page=1):
                pass
            await self._store.save_watermark(link.name, before)
            result.first_start = True
            return
        after = since or gmt(parse_gmt(watermark or before) - self._options.overlap)
        async for page in client.orders_modified(after, before):
            result.pages += 1
            result.orders += len(page)
            result.recovered += await self._recover_page(link.name, page, now)
            if progress is not None:
                progress(result.pages, result.orders, result.recovered)
        if since is None or (watermark or "") < before:
            await self._store.save_watermark(link.name, before)

    async def _recover_page(self, store: str, page: list[dict[str, object]], now: float) -> int:
        """Store each order of `page` the bridge has not seen as a recovered event; returns
        how many were new. One lookup and one commit per page, not per order."""
        ids = [str(order.get("id")) for order in page]
        seen = await self._store.seen_orders(store, ids)
        events = [
            event
            for order in page
            if (event := recovered_event(store, order, seen.get(str(order.get("id"))), now))
        ]
        # Accepted together, they are committed as one transaction (the store's group commit).
        accepted = await asyncio.gather(*(self._store.accept(event) for event in events))
        new = sum(not a.duplicate for a in accepted)
        if new and self._metrics is not None:
            self._metrics.recovered.labels(store=store).inc(new)
        return new

    async def _webhooks(self, client: WooClient, link: StoreLink) -> None:
        assert self._options.public_url is not None
        url = self._options.public_url + link.path
        hooks = watchdog.ours(await client.list_webhooks(), url)
        findings: list[watchdog.Finding] = []
        for index, hook in enumerate(hooks):
            if hook.status == "disabled":
                reactivated = False
                if self._options.reactivate:
                    hooks[index] = await client.set_webhook_status(hook, "active")
                    reactivated = hooks[index].delivers
                text = watchdog.disabled_text(link.name, hook, reactivated)
                # Reactivated, it is active at the next pass: a new disabling is news again.
                findings.append(watchdog.Finding(f"disabled:{hook.id}", text))
            elif hook.status == "paused":
                findings.append(
                    watchdog.Finding(f"paused:{hook.id}", watchdog.paused_text(link.name, hook))
                )
        for topic in watchdog.missing_topics(hooks, link.expected_topics):
            text = watchdog.missing_text(link.name, topic)
            findings.append(watchdog.Finding(f"missing:{topic}", text))
        board = self.board.of(link.name)
        board.webhooks = {}
        for hook in hooks:
            board.webhooks[hook.status] = board.webhooks.get(hook.status, 0) + 1
        board.webhook_problems = [f.text for f in findings]
        if self._metrics is not None:
            for status in ("active", "paused", "disabled"):
                count = board.webhooks.get(status, 0)
                self._metrics.webhooks_by_status.labels(store=link.name, status=status).set(count)
        await self._report(link.name, findings)

    async def _report(self, store: str, findings: list[watchdog.Finding]) -> None:
        """Tell the admins each finding once; one that cleared may be told again later."""
        state = self._state[store]
        current = {f.key for f in findings}
        for finding in findings:
            if finding.key in state.reported:
                continue
            log.warning("%s", finding.text)
            if self._options.alert_chat_id is not None:
                await self._notice(finding.text)
        state.reported = current

    async def _notice(self, text: str) -> None:
        now = self._clock.time()
        body = json.dumps({"text": text, "at": now}).encode()
        key = hashlib.sha256(b"notice\0" + body).hexdigest()
        assert self._options.alert_chat_id is not None
        await self._store.queue_notice(
            IncomingEvent("bridge", NOTICE_TOPIC, body, key, now),
            OutgoingMessage(
                chat_id=self._options.alert_chat_id,
                topic=NOTICE_TOPIC,
                text="⚠️ " + _escape(text),
            ),
        )

    def _finish(self, link: StoreLink, result: PassResult) -> None:
        state = self._state[link.name]
        board = self.board.of(link.name)
        board.last_pass = self._clock.time()
        board.last_result = result.describe()
        board.passes += 1
        outcome = "failed" if result.error else "ok"
        if self._metrics is not None:
            self._metrics.reconcile_passes.labels(store=link.name, result=outcome).inc()
        if result.error is None:
            if state.key is not None:
                log.warning("store %s: its REST API answers again; gaps are filled", link.name)
            state.key, state.failures = None, 0
            if result.recovered:
                log.warning(
                    "store %s: %d event(s) WooCommerce did not deliver were recovered",
                    link.name,
                    result.recovered,
                )
            return
        state.failures += 1
        if state.key != result.error:
            state.key = result.error
            log.error(
                "store %s: gap filling through the REST API failed: %s. Intake and sending go "
                "on; the bridge tries again later (backing off while it fails)",
                link.name,
                result.error,
            )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

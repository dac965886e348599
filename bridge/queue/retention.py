"""Keep the database bounded: finished messages and their events are deleted after a while."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.queue.storage import Storage, StoreError

log = logging.getLogger(__name__)

DAY = 86400.0


@dataclass(frozen=True)
class Retention:
    """How long rows are kept once nothing is left to do with them."""

    #: sent and skipped messages, and events whose messages are all gone
    finished_days: float = 7.0
    #: dead letters, so that staff can still replay them after a long weekend
    dead_days: float = 30.0
    #: the orders ledger sales reports read, by when each order was placed
    ledger_days: float = 400.0
    #: how often to prune
    interval_seconds: float = 3600.0


async def prune_forever(store: Storage, retention: Retention, clock: Clock = SYSTEM_CLOCK) -> None:
    """Prune now and then every `interval_seconds`, until cancelled."""
    while True:
        now = clock.time()
        try:
            messages, events = await store.prune(
                finished_before=now - retention.finished_days * DAY,
                dead_before=now - retention.dead_days * DAY,
            )
        except StoreError as exc:
            log.error("could not prune old rows: %s", exc)
        else:
            if messages or events:
                log.info("pruned %d old message(s) and %d old event(s)", messages, events)
        try:
            orders = await store.prune_ledger(now - retention.ledger_days * DAY)
        except StoreError as exc:
            log.error("could not prune the orders ledger: %s", exc)
        else:
            if orders:
                log.info("pruned %d order(s) older than the report retention", orders)
        await asyncio.sleep(retention.interval_seconds)

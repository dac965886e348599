"""What gap filling keeps in the PostgreSQL store: each store's watermark, and what /status
tells of its deliveries (the last webhook, the events recovered lately)."""

from __future__ import annotations

from collections.abc import Sequence

from bridge.queue.models import IncomingEvent, OutgoingMessage, SeenOrder, StoreActivity
from bridge.queue.postgres import sql
from bridge.queue.postgres.base import PgBase


class RecoveryMemory(PgBase):
    """The store's operations for the reconciler."""

    async def watermark(self, store: str) -> str | None:
        """The date_modified_gmt up to which `store`'s orders were compared, if any."""
        value = await self._fetchval(sql.WATERMARK, store)
        return None if value is None else str(value)

    async def seen_orders(self, store: str, order_ids: Sequence[str]) -> dict[str, SeenOrder]:
        """What the bridge last saw of each of these orders (one query for a page of them)."""
        rows = await self._fetch(sql.SEEN_ORDERS, store, list(order_ids))
        return {str(r[0]): SeenOrder(r[1], r[2], bool(r[3])) for r in rows}

    async def save_watermark(self, store: str, watermark: str) -> None:
        await self._execute(sql.SAVE_WATERMARK, store, watermark, self._clock.time())

    async def store_activity(self, store: str, since: float) -> StoreActivity:
        """The last webhook of `store`, and how many events were recovered since `since`."""
        last = await self._fetchval(sql.LAST_WEBHOOK, store)
        count = await self._fetchval(sql.RECOVERED_SINCE, store, since)
        return StoreActivity(float(last) if last is not None else None, int(count))

    async def queue_notice(self, event: IncomingEvent, message: OutgoingMessage) -> None:
        """Queue a message the bridge writes itself (a report to the admins), with its event."""
        async with self._transaction() as conn:
            event_id = await self._insert_routed_event(conn, event)
            await self._insert_messages(conn, event_id, [message], self._clock.time())
        self.messages_waiting.set()

"""What gap filling keeps in the SQLite store: each store's watermark, and what /status
tells of its deliveries (the last webhook, the events recovered lately)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bridge.queue import sql
from bridge.queue.models import IncomingEvent, OutgoingMessage, SeenOrder, StoreActivity
from bridge.queue.sqlite_base import SQLiteBase


class RecoveryMemory(SQLiteBase):
    """The store's operations for the reconciler."""

    async def watermark(self, store: str) -> str | None:
        """The date_modified_gmt up to which `store`'s orders were compared, if any."""
        rows = await self._run(self._query, sql.WATERMARK, (store,))
        return str(rows[0][0]) if rows else None

    async def seen_orders(self, store: str, order_ids: Sequence[str]) -> dict[str, SeenOrder]:
        """What the bridge last saw of each of these orders (one query for a page of them)."""
        rows = await self._run(self._query, sql.SEEN_ORDERS, (store, json.dumps(list(order_ids))))
        return {str(r[0]): SeenOrder(r[1], r[2], bool(r[3])) for r in rows}

    async def save_watermark(self, store: str, watermark: str) -> None:
        await self._run(self._execute, sql.SAVE_WATERMARK, (store, watermark, self._clock.time()))

    async def store_activity(self, store: str, since: float) -> StoreActivity:
        """The last webhook of `store`, and how many events were recovered since `since`."""
        return await self._run(self._store_activity, store, since)

    def _store_activity(self, store: str, since: float) -> StoreActivity:
        (last,) = self._conn.execute(sql.LAST_WEBHOOK, (store,)).fetchone()
        (count,) = self._conn.execute(sql.RECOVERED_SINCE, (store, since)).fetchone()
        return StoreActivity(float(last) if last is not None else None, int(count))

    async def queue_notice(self, event: IncomingEvent, message: OutgoingMessage) -> None:
        """Queue a message the bridge writes itself (a report to the admins), with its event."""
        await self._in_transaction(self._queue_notice, event, message)
        self.messages_waiting.set()

    def _queue_notice(self, event: IncomingEvent, message: OutgoingMessage) -> None:
        row = self._conn.execute(
            sql.INSERT_ROUTED_EVENT,
            (event.store, event.topic, event.body_key, event.body, event.received_at),
        ).fetchone()
        self._insert_messages(row[0], [message], self._clock.time())

"""What routing remembers between events, in the PostgreSQL store: order statuses,
digests held back, mutes, chats that moved, and chats that refuse messages."""

from __future__ import annotations

import json
from collections.abc import Iterable

from bridge.queue.models import (
    Digest,
    DigestItem,
    IncomingEvent,
    LedgerRow,
    MuteRecord,
    OrderState,
    OutgoingMessage,
    SeenOrder,
    StockLevel,
    StockState,
)
from bridge.queue.postgres import sql
from bridge.queue.postgres.base import Conn, PgBase, affected

# A key cannot hold NULL usefully; 0 is "no forum topic" (real thread ids start at 2).
_NO_THREAD = 0


class RoutingMemory(PgBase):
    """The store's operations on what routing and the staff commands remember."""

    # --- order states -------------------------------------------------------------------

    async def order_status(self, store: str, order_id: str) -> tuple[str, str] | None:
        """The last status seen for an order, and the date_modified that showed it."""
        rows = await self._fetch(sql.ORDER_STATUS, store, order_id)
        return (rows[0][0], rows[0][1]) if rows else None

    async def seen_order(self, store: str, order_id: str) -> SeenOrder | None:
        """The last status seen for an order, its date, and whether a recovery showed it."""
        rows = await self._fetch(sql.SEEN_ORDER, store, order_id)
        return SeenOrder(rows[0][0], rows[0][1], bool(rows[0][2])) if rows else None

    async def remember_order_status(self, state: OrderState, event_id: int) -> None:
        """Store `state` as the order's last known status, unless a newer one is known."""
        async with self._transaction() as conn:
            await self._remember_order_status(conn, state, event_id)

    async def _remember_order_status(self, conn: Conn, state: OrderState, event_id: int) -> None:
        await conn.execute(sql.REMEMBER_ORDER_STATUS, *order_status_args(state, event_id))

    # --- orders ledger ------------------------------------------------------------------

    async def record_ledger(self, row: LedgerRow) -> None:
        """Store an order's row in the ledger (backfill), unless a newer state is known."""
        async with self._transaction() as conn:
            await self._record_ledger(conn, row)

    async def _record_ledger(self, conn: Conn, row: LedgerRow) -> None:
        await conn.execute(sql.RECORD_LEDGER, *ledger_args(row))

    async def ledger_rows(
        self, since: float, until: float, store: str | None = None
    ) -> list[LedgerRow]:
        """Orders placed in [since, until), of one store or all, oldest first."""
        rows = await self._fetch(sql.LEDGER_ROWS, since, until, store)
        return [
            LedgerRow(
                s,
                o,
                status,
                currency,
                total,
                refunded,
                tuple((str(n), int(q), str(t)) for n, q, t in json.loads(items)),
                customer,
                created,
                modified,
            )
            for s, o, status, currency, total, refunded, items, customer, created, modified in rows
        ]

    async def known_customers(
        self, before: float, store: str | None = None
    ) -> set[tuple[str, str]]:
        """(store, customer) of every customer with an order placed before `before`."""
        rows = await self._fetch(sql.KNOWN_CUSTOMERS, before, store)
        return {(r[0], r[1]) for r in rows}

    async def ledger_start(self, store: str | None = None) -> float | None:
        """When the ledger's oldest order was placed (None: the ledger is empty)."""
        value = await self._fetchval(sql.LEDGER_START, store)
        return None if value is None else float(value)

    async def prune_ledger(self, before: float) -> int:
        """Delete ledger rows of orders placed before `before`; how many went. The marks of
        summaries sent go after a week (they only guard their own day)."""
        now = self._clock.time()
        async with self._transaction() as conn:
            await conn.execute(sql.PRUNE_SUMMARIES, now - 7 * 86400)
            return affected(await conn.execute(sql.PRUNE_LEDGER, before))

    async def summary_sent(self, key: str) -> bool:
        """Whether the scheduled summary `key` was already queued."""
        return bool(await self._fetch(sql.SUMMARY_SENT, key))

    async def queue_summary(self, key: str, event: IncomingEvent, message: OutgoingMessage) -> bool:
        """Queue a scheduled summary once: False (nothing queued) if `key` already was.

        A transaction-level advisory lock on the key serialises two replicas racing for
        it: the second waits, then finds the key taken."""
        now = self._clock.time()
        async with self._transaction() as conn:
            await conn.execute(sql.LOCK_KEY, key)
            if await conn.fetchval(sql.SUMMARY_SENT, key):
                return False
            event_id = await self._insert_routed_event(conn, event)
            await conn.execute(sql.RECORD_SUMMARY, key, event_id, now)
            await self._insert_messages(conn, event_id, [message], now)
        self.messages_waiting.set()
        return True

    # --- stock levels -------------------------------------------------------------------

    async def seen_stock(self, store: str, product_id: str) -> StockLevel | None:
        """The last stock status and quantity seen for a product or variation."""
        rows = await self._fetch(sql.SEEN_STOCK, store, product_id)
        return StockLevel(rows[0][0], rows[0][1], rows[0][2]) if rows else None

    async def _remember_stock(self, conn: Conn, state: StockState, event_id: int) -> None:
        await conn.execute(sql.REMEMBER_STOCK, *stock_args(state, event_id))

    # --- digests ------------------------------------------------------------------------

    async def _hold_digest_items(self, conn: Conn, items: Iterable[DigestItem], now: float) -> None:
        rows = [
            (i.chat_id, i.thread_id, i.topic, i.silent, i.language, i.title, i.event_id, now)
            for i in items
        ]
        if rows:
            await conn.executemany(sql.HOLD_DIGEST_ITEM, rows)

    async def due_digests(
        self, *, quiet_since: float, started_before: float, titles: int
    ) -> list[Digest]:
        """Bursts with no item since `quiet_since`, or begun before `started_before`, with
        the first `titles` titles of each."""
        digests = []
        async with self._transaction() as conn:
            buckets = await conn.fetch(sql.DUE_DIGESTS, quiet_since, started_before)
            for chat, thread, topic, silent, language, count, first, last, event_id, ids in buckets:
                names = await conn.fetch(sql.DIGEST_TITLES, chat, thread, topic, titles)
                digests.append(
                    Digest(
                        chat_id=chat,
                        thread_id=thread,
                        topic=topic,
                        silent=bool(silent),
                        language=language,
                        count=count,
                        titles=tuple(t[0] for t in names),
                        first_at=first,
                        last_at=last,
                        last_event_id=event_id,
                        item_ids=tuple(sorted(ids)),
                    )
                )
        return digests

    async def commit_digest(self, digest: Digest, text: str) -> None:
        """Queue the digest's message and drop its items, in one transaction."""
        message = OutgoingMessage(
            chat_id=digest.chat_id,
            thread_id=digest.thread_id,
            topic=digest.topic,
            text=text,
            silent=digest.silent,
        )
        async with self._transaction() as conn:
            await self._insert_messages(conn, digest.last_event_id, [message], self._clock.time())
            await conn.execute(sql.DELETE_DIGEST_ITEMS, list(digest.item_ids))
        self.messages_waiting.set()

    # --- mutes and chats that moved -----------------------------------------------------

    async def mutes(self) -> list[MuteRecord]:
        """Every mute still in force, oldest first (ended ones are deleted)."""
        async with self._transaction() as conn:
            await conn.execute(sql.DROP_ENDED_MUTES, self._clock.time())
            rows = await conn.fetch(sql.MUTES)
        return [
            MuteRecord(chat, None if thread == _NO_THREAD else thread, pattern, until, by)
            for chat, thread, pattern, until, by in rows
        ]

    async def save_mute(self, mute: MuteRecord) -> None:
        """Add a mute, replacing one of the same pattern in the same place."""
        m, now = mute, self._clock.time()
        async with self._transaction() as conn:
            await conn.execute(sql.DROP_ENDED_MUTES, now)
            await conn.execute(
                sql.SAVE_MUTE,
                m.chat_id,
                m.thread_id or _NO_THREAD,
                m.pattern,
                m.until,
                m.muted_by,
                now,
            )

    async def delete_mutes(self, mutes: Iterable[MuteRecord]) -> None:
        rows = [(m.chat_id, m.thread_id or _NO_THREAD, m.pattern) for m in mutes]
        if not rows:
            return
        async with self._transaction() as conn:
            await conn.executemany(sql.DELETE_MUTE, rows)

    async def chat_moves(self) -> dict[int, int]:
        """Groups that became supergroups: old id to new id."""
        return {int(r[0]): int(r[1]) for r in await self._fetch(sql.CHAT_MOVES)}

    async def record_chat_move(self, old_chat_id: int, new_chat_id: int) -> None:
        """Remember that a chat moved, and move its mutes along, in one transaction."""
        async with self._transaction() as conn:
            await conn.execute(sql.RECORD_CHAT_MOVE, old_chat_id, new_chat_id, self._clock.time())
            await conn.execute(sql.MOVE_MUTES, new_chat_id, old_chat_id)
            await conn.execute(sql.DELETE_CHAT_MUTES, old_chat_id)

    # --- alerts -------------------------------------------------------------------------

    async def failed_chats(self) -> list[int]:
        """Chats known to refuse messages."""
        return [int(row[0]) for row in await self._fetch(sql.FAILED_CHATS)]

    async def forget_failed_chat(self, chat_id: int) -> None:
        await self._execute(sql.FORGET_FAILED_CHAT, chat_id)

    async def record_failed_chat(
        self,
        chat_id: int,
        error: str,
        now: float,
        alert: tuple[IncomingEvent, OutgoingMessage] | None = None,
    ) -> None:
        """Remember that a chat refuses messages; queue the alert event and its message."""
        async with self._transaction() as conn:
            await conn.execute(sql.RECORD_FAILED_CHAT, chat_id, error, now)
            if alert is not None:
                event, message = alert
                event_id = await self._insert_routed_event(conn, event)
                await self._insert_messages(conn, event_id, [message], now)
        if alert is not None:
            self.messages_waiting.set()


# The arguments of the statements routing commits, apart from the connection that runs them.


def order_status_args(state: OrderState, event_id: int) -> tuple[object, ...]:
    """sql.REMEMBER_ORDER_STATUS's arguments."""
    return (state.store, state.order_id, state.status, state.modified, event_id, state.recovered)


def stock_args(state: StockState, event_id: int) -> tuple[object, ...]:
    """sql.REMEMBER_STOCK's arguments."""
    level = state.level
    return (state.store, state.product_id, level.status, level.quantity, level.modified, event_id)


def ledger_args(row: LedgerRow) -> tuple[object, ...]:
    """sql.RECORD_LEDGER's arguments."""
    items = json.dumps([list(item) for item in row.items], ensure_ascii=False)
    return (
        row.store,
        row.order_id,
        row.status,
        row.currency,
        row.total,
        row.refunded,
        items,
        row.customer,
        row.created_at,
        row.modified,
    )

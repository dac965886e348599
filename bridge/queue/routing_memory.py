"""What routing remembers between events, in the SQLite store: order statuses, digests
held back, mutes, chats that moved, and chats that refuse messages."""

from __future__ import annotations

import json
from collections.abc import Iterable

from bridge.queue import sql
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
from bridge.queue.sqlite_base import SQLiteBase

# SQLite keys cannot hold NULL usefully; 0 is "no forum topic" (real thread ids start at 2).
_NO_THREAD = 0


class RoutingMemory(SQLiteBase):
    """The store's operations on what routing and the staff commands remember."""

    # --- order states -------------------------------------------------------------------

    async def order_status(self, store: str, order_id: str) -> tuple[str, str] | None:
        """The last status seen for an order, and the date_modified that showed it."""
        rows = await self._run(self._query, sql.ORDER_STATUS, (store, order_id))
        return (rows[0][0], rows[0][1]) if rows else None

    async def seen_order(self, store: str, order_id: str) -> SeenOrder | None:
        """The last status seen for an order, its date, and whether a recovery showed it."""
        rows = await self._run(self._query, sql.SEEN_ORDER, (store, order_id))
        return SeenOrder(rows[0][0], rows[0][1], bool(rows[0][2])) if rows else None

    async def remember_order_status(self, state: OrderState, event_id: int) -> None:
        """Store `state` as the order's last known status, unless a newer one is known."""
        await self._in_transaction(self._remember_order_status, state, event_id)

    def _remember_order_status(self, state: OrderState, event_id: int) -> None:
        self._conn.execute(
            sql.REMEMBER_ORDER_STATUS,
            (
                state.store,
                state.order_id,
                state.status,
                state.modified,
                event_id,
                int(state.recovered),
            ),
        )

    # --- orders ledger ------------------------------------------------------------------

    async def record_ledger(self, row: LedgerRow) -> None:
        """Store an order's row in the ledger (backfill), unless a newer state is known."""
        await self._in_transaction(self._record_ledger, row)

    def _record_ledger(self, row: LedgerRow) -> None:
        items = json.dumps([list(item) for item in row.items], ensure_ascii=False)
        self._conn.execute(
            sql.RECORD_LEDGER,
            (
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
            ),
        )

    async def ledger_rows(
        self, since: float, until: float, store: str | None = None
    ) -> list[LedgerRow]:
        """Orders placed in [since, until), of one store or all, oldest first."""
        rows = await self._run(self._query, sql.LEDGER_ROWS, (since, until, store, store))
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
        rows = await self._run(self._query, sql.KNOWN_CUSTOMERS, (before, store, store))
        return {(r[0], r[1]) for r in rows}

    async def ledger_start(self, store: str | None = None) -> float | None:
        """When the ledger's oldest order was placed (None: the ledger is empty)."""
        rows = await self._run(self._query, sql.LEDGER_START, (store, store))
        return None if rows[0][0] is None else float(rows[0][0])

    async def prune_ledger(self, before: float) -> int:
        """Delete ledger rows of orders placed before `before`; how many went. The marks of
        summaries sent go after a week (they only guard their own day)."""
        return await self._in_transaction(self._prune_ledger, before, self._clock.time())

    def _prune_ledger(self, before: float, now: float) -> int:
        self._conn.execute(sql.PRUNE_SUMMARIES, (now - 7 * 86400,))
        return int(self._conn.execute(sql.PRUNE_LEDGER, (before,)).rowcount)

    async def summary_sent(self, key: str) -> bool:
        """Whether the scheduled summary `key` was already queued."""
        return bool(await self._run(self._query, sql.SUMMARY_SENT, (key,)))

    async def queue_summary(self, key: str, event: IncomingEvent, message: OutgoingMessage) -> bool:
        """Queue a scheduled summary once: False (nothing queued) if `key` already was."""
        queued = await self._in_transaction(self._queue_summary, key, event, message)
        if queued:
            self.messages_waiting.set()
        return queued

    def _queue_summary(self, key: str, event: IncomingEvent, message: OutgoingMessage) -> bool:
        if self._conn.execute(sql.SUMMARY_SENT, (key,)).fetchone():
            return False
        now = self._clock.time()
        event_id = self._conn.execute(
            sql.INSERT_ROUTED_EVENT,
            (event.store, event.topic, event.body_key, event.body, event.received_at),
        ).fetchone()[0]
        self._insert_messages(event_id, [message], now)
        self._conn.execute(sql.RECORD_SUMMARY, (key, event_id, now))
        return True

    # --- stock levels -------------------------------------------------------------------

    async def seen_stock(self, store: str, product_id: str) -> StockLevel | None:
        """The last stock status and quantity seen for a product or variation."""
        rows = await self._run(self._query, sql.SEEN_STOCK, (store, product_id))
        return StockLevel(rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def _remember_stock(self, state: StockState, event_id: int) -> None:
        level = state.level
        self._conn.execute(
            sql.REMEMBER_STOCK,
            (state.store, state.product_id, level.status, level.quantity, level.modified, event_id),
        )

    # --- digests ------------------------------------------------------------------------

    def _hold_digest_items(self, items: Iterable[DigestItem], now: float) -> None:
        self._conn.executemany(
            sql.HOLD_DIGEST_ITEM,
            [
                (
                    i.chat_id,
                    i.thread_id,
                    i.topic,
                    int(i.silent),
                    i.language,
                    i.title,
                    i.event_id,
                    now,
                )
                for i in items
            ],
        )

    async def due_digests(
        self, *, quiet_since: float, started_before: float, titles: int
    ) -> list[Digest]:
        """Bursts with no item since `quiet_since`, or begun before `started_before`, with
        the first `titles` titles of each."""
        return await self._in_transaction(self._due_digests, quiet_since, started_before, titles)

    def _due_digests(self, quiet_since: float, started_before: float, limit: int) -> list[Digest]:
        buckets = self._conn.execute(sql.DUE_DIGESTS, (quiet_since, started_before)).fetchall()
        digests = []
        for chat, thread, topic, silent, language, count, first, last, event_id, ids in buckets:
            titles = self._conn.execute(sql.DIGEST_TITLES, (chat, thread, topic, limit))
            digests.append(
                Digest(
                    chat_id=chat,
                    thread_id=thread,
                    topic=topic,
                    silent=bool(silent),
                    language=language,
                    count=count,
                    titles=tuple(t[0] for t in titles.fetchall()),
                    first_at=first,
                    last_at=last,
                    last_event_id=event_id,
                    item_ids=tuple(sorted(json.loads(ids))),
                )
            )
        return digests

    async def commit_digest(self, digest: Digest, text: str) -> None:
        """Queue the digest's message and drop its items, in one transaction."""
        await self._in_transaction(self._commit_digest, digest, text, self._clock.time())
        self.messages_waiting.set()

    def _commit_digest(self, digest: Digest, text: str, now: float) -> None:
        message = OutgoingMessage(
            chat_id=digest.chat_id,
            thread_id=digest.thread_id,
            topic=digest.topic,
            text=text,
            silent=digest.silent,
        )
        self._insert_messages(digest.last_event_id, [message], now)
        self._conn.executemany(sql.DELETE_DIGEST_ITEM, [(i,) for i in digest.item_ids])

    # --- mutes and chats that moved -----------------------------------------------------

    async def mutes(self) -> list[MuteRecord]:
        """Every mute still in force, oldest first (ended ones are deleted)."""
        return await self._in_transaction(self._mutes, self._clock.time())

    def _mutes(self, now: float) -> list[MuteRecord]:
        self._conn.execute(sql.DROP_ENDED_MUTES, (now,))
        rows = self._conn.execute(sql.MUTES).fetchall()
        return [
            MuteRecord(chat, None if thread == _NO_THREAD else thread, pattern, until, by)
            for chat, thread, pattern, until, by in rows
        ]

    async def save_mute(self, mute: MuteRecord) -> None:
        """Add a mute, replacing one of the same pattern in the same place."""
        await self._in_transaction(self._save_mute, mute, self._clock.time())

    def _save_mute(self, m: MuteRecord, now: float) -> None:
        self._conn.execute(sql.DROP_ENDED_MUTES, (now,))
        self._conn.execute(
            sql.SAVE_MUTE,
            (m.chat_id, m.thread_id or _NO_THREAD, m.pattern, m.until, m.muted_by, now),
        )

    async def delete_mutes(self, mutes: Iterable[MuteRecord]) -> None:
        rows = [(m.chat_id, m.thread_id or _NO_THREAD, m.pattern) for m in mutes]
        await self._in_transaction(self._conn.executemany, sql.DELETE_MUTE, rows)

    async def chat_moves(self) -> dict[int, int]:
        """Groups that became supergroups: old id to new id."""
        return dict(await self._run(self._query, sql.CHAT_MOVES, ()))

    async def record_chat_move(self, old_chat_id: int, new_chat_id: int) -> None:
        """Remember that a chat moved, and move its mutes along, in one transaction."""
        await self._in_transaction(
            self._record_chat_move, old_chat_id, new_chat_id, self._clock.time()
        )

    def _record_chat_move(self, old: int, new: int, now: float) -> None:
        self._conn.execute(sql.RECORD_CHAT_MOVE, (old, new, now))
        self._conn.execute(sql.MOVE_MUTES, (new, old))
        self._conn.execute(sql.DELETE_CHAT_MUTES, (old,))

    # --- alerts -------------------------------------------------------------------------

    async def failed_chats(self) -> list[int]:
        """Chats known to refuse messages."""
        return [row[0] for row in await self._run(self._query, sql.FAILED_CHATS, ())]

    async def forget_failed_chat(self, chat_id: int) -> None:
        await self._run(self._execute, sql.FORGET_FAILED_CHAT, (chat_id,))

    async def record_failed_chat(
        self,
        chat_id: int,
        error: str,
        now: float,
        alert: tuple[IncomingEvent, OutgoingMessage] | None = None,
    ) -> None:
        """Remember that a chat refuses messages; queue the alert event and its message."""
        await self._in_transaction(self._record_failed_chat, chat_id, error, now, alert)
        if alert is not None:
            self.messages_waiting.set()

    def _record_failed_chat(
        self,
        chat_id: int,
        error: str,
        now: float,
        alert: tuple[IncomingEvent, OutgoingMessage] | None,
    ) -> None:
        self._conn.execute(sql.RECORD_FAILED_CHAT, (chat_id, error, now))
        if alert is None:
            return
        event, message = alert
        event_id = self._conn.execute(
            sql.INSERT_ROUTED_EVENT,
            (event.store, event.topic, event.body_key, event.body, event.received_at),
        ).fetchone()[0]
        self._insert_messages(event_id, [message], now)

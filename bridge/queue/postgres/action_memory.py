"""What the PostgreSQL store keeps for staff acting on orders from Telegram: which order a
sent message shows, every chat's copy of an order's messages, and the audit of actions."""

from __future__ import annotations

from bridge.queue.models import OrderAction, OrderCard, OrderCopy
from bridge.queue.postgres import sql
from bridge.queue.postgres.base import PgBase

#: how long a handled update's id is remembered: Telegram keeps an update 24 hours at most
UPDATE_MEMORY_SECONDS = 2 * 86400.0


class ActionMemory(PgBase):
    """The store's operations for order actions, and the Telegram updates handled."""

    async def take_update(self, update_id: int) -> bool:
        """True the first time `update_id` is taken, by any replica: the caller handles it;
        False if it was handled already (Telegram gave it again)."""
        now = self._clock.time()
        rows = await self._fetch(sql.TAKE_UPDATE, update_id, now, now - UPDATE_MEMORY_SECONDS)
        return bool(rows)

    async def card_of_message(self, chat_id: int, telegram_id: int) -> OrderCard | None:
        """The order behind the bot's message `telegram_id` in a chat, if it is about one.

        This row, not the button's data, says which order a tap acts on."""
        rows = await self._fetch(sql.CARD_OF_MESSAGE, chat_id, telegram_id)
        if not rows or rows[0][1] is None:
            return None
        store, order_id, event_id = rows[0]
        return OrderCard(str(store), str(order_id), int(event_id))

    async def save_order_card(
        self, chat_id: int, telegram_id: int, store: str, order_id: str, text: str
    ) -> None:
        """An order card the bot posted on request, so that its buttons work."""
        await self._execute(
            sql.SAVE_ORDER_CARD, chat_id, telegram_id, store, order_id, text, self._clock.time()
        )

    async def order_copies(self, store: str, order_id: str) -> list[OrderCopy]:
        """Every sent message with buttons about this order, in every chat."""
        rows = await self._fetch(sql.ORDER_COPIES, store, order_id)
        return [OrderCopy(int(r[0]), int(r[1]), str(r[2])) for r in rows]

    async def record_order_action(self, action: OrderAction) -> None:
        await self._execute(
            sql.RECORD_ORDER_ACTION,
            action.store,
            action.order_id,
            action.user_id,
            action.user_name,
            action.chat_id,
            action.action,
            action.from_status,
            action.to_status,
            action.result,
            action.at,
        )

    async def order_actions(self, limit: int = 50) -> list[OrderAction]:
        """The latest actions, newest first."""
        rows = await self._fetch(sql.ORDER_ACTIONS, limit)
        return [
            OrderAction(
                store=r[1],
                order_id=r[2],
                user_id=r[3],
                user_name=r[4],
                chat_id=r[5],
                action=r[6],
                from_status=r[7],
                to_status=r[8],
                result=r[9],
                at=r[10],
                id=r[0],
            )
            for r in rows
        ]

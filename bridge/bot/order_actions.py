"""Staff move an order to its next status with the buttons under its message.

A tap is checked every time: the chat is one a route names, the presser may act on orders,
the message is one the bridge sent about an order (that record, not the button's data,
names the order). The order's status is read from the store first; if it moved meanwhile,
nothing changes. Taps on one order run one at a time, so a double tap or two staff at once
change it once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bridge.bot.access import Access
from bridge.bot.order_words import failure_sentence, who
from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.payloads import parse_payload
from bridge.queue.models import OrderAction, OrderState
from bridge.queue.storage import Storage
from bridge.render.formatting import Formatter
from bridge.render.labels import ORDER_STATUSES
from bridge.render.links import without_links
from bridge.render.order_buttons import DEFAULT_NEXT, DESTRUCTIVE
from bridge.render.renderer import Renderer
from bridge.routing.targets import Target
from bridge.woo.rest import WooApiError, WooClient

log = logging.getLogger(__name__)

#: "os:<status shown>:<status wanted>", anchored at both ends
_DATA = re.compile(r"^os:([a-z0-9_-]{1,30}):([a-z0-9_-]{1,30})$")


@dataclass(frozen=True)
class ActionOptions:
    """Who may press, and how long a destructive tap waits for its confirmation."""

    #: TELEGRAM_ADMIN_IDS and TELEGRAM_STAFF_IDS
    staff: frozenset[int]
    confirm_seconds: float = 30.0


@dataclass(frozen=True)
class _Pending:
    """A destructive tap waiting for the same person's second tap."""

    user_id: int
    until: float


class OrderActions:
    """The status buttons' handler, bound to the store's REST clients."""

    def __init__(
        self,
        store: Storage,
        access: Access,
        renderer: Renderer,
        clients: Mapping[str, WooClient],
        options: ActionOptions,
        *,
        target_of: Callable[[int], Target | None] = lambda chat_id: None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._store = store
        self._access = access
        self._renderer = renderer
        self._clients = clients
        self._options = options
        #: the chat's route target: its language, its buttons, who may press them
        self._target_of = target_of
        self._clock = clock
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._pending: dict[tuple[int, int, str], _Pending] = {}
        self._bot: Bot | None = None

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        application.add_handler(CallbackQueryHandler(self.press, pattern=r"^os:"))

    async def press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A status button was tapped."""
        query = update.callback_query
        if query is None:
            return
        self._bot = context.bot
        message = query.message
        match = _DATA.match(query.data or "")
        fmt = self.words(message.chat.id if message is not None else 0)
        if message is None or not message.is_accessible or match is None:
            await query.answer(fmt.gettext("This button no longer works; use /order in the chat."))
            return
        if self._access.place(update) is None:
            await query.answer()
            return
        user = query.from_user
        target = self._target_of(message.chat.id)
        if not self.may_act(user.id, message.chat.id):
            refusal = fmt.gettext(
                "Sorry, only the shop's staff can change orders here. An admin can add your "
                "Telegram user id (%(user_id)s) to TELEGRAM_STAFF_IDS."
            )
            await query.answer(refusal % {"user_id": user.id}, show_alert=True)
            return
        chat_id, message_id = message.chat.id, message.message_id
        card = await self._store.card_of_message(chat_id, message_id)
        if card is None:
            await query.answer(fmt.gettext("This message is not about an order the bridge knows."))
            return
        client = self._clients.get(card.store)
        if client is None:
            await query.answer(
                fmt.gettext(
                    "The bridge has no REST API key for this store, so it cannot change orders."
                )
            )
            return
        shown, wanted = match.groups()
        if wanted not in _flow(target).get(shown, ()):
            # Only what this chat's buttons offer: hand-made data cannot reach other statuses.
            await query.answer(fmt.gettext("This chat's buttons do not offer that change."))
            return
        order_id = number = card.order_id
        if wanted in DESTRUCTIVE and not self._confirmed(chat_id, message_id, wanted, user.id):
            ask = fmt.gettext(
                "Tap “%(status)s” again within %(seconds)s s to confirm the change of order "
                "#%(number)s."
            )
            values = {
                "status": fmt.label(ORDER_STATUSES, wanted),
                "seconds": round(self._options.confirm_seconds),
                "number": number,
            }
            await query.answer(ask % values, show_alert=True)
            return
        lock = self._locks.setdefault((card.store, order_id), asyncio.Lock())
        async with lock:
            action = _Act(card.store, order_id, number, user.id, who(user), chat_id, card.event_id)
            answer = await self._act(client, action, shown, wanted, fmt)
        await query.answer(answer, show_alert=False)

    @property
    def confirm_seconds(self) -> float:
        return self._options.confirm_seconds

    def may_act(self, user_id: int, chat_id: int) -> bool:
        """Staff may act everywhere; anyone in a chat whose route says order_actions_by = "chat"."""
        target = self._target_of(chat_id)
        return user_id in self._options.staff or (target is not None and target.actions_by_chat)

    def client_for(self, store: str | None = None) -> tuple[str, WooClient] | None:
        """A store's REST client (the only one when `store` is None and there is one)."""
        if store is None and len(self._clients) == 1:
            store = next(iter(self._clients))
        client = self._clients.get(store or "")
        return None if client is None or store is None else (store, client)

    def flow_of(self, chat_id: int) -> Mapping[str, tuple[str, ...]]:
        return _flow(self._target_of(chat_id))

    def language_of(self, chat_id: int) -> str | None:
        target = self._target_of(chat_id)
        return target.language if target else None

    def words(self, chat_id: int) -> Formatter:
        """Translations and status names in the chat's language."""
        return self._renderer.formatter(self._renderer.language(self.language_of(chat_id)))

    def _confirmed(self, chat_id: int, message_id: int, wanted: str, user_id: int) -> bool:
        """Whether this tap confirms an earlier one; otherwise it starts a confirmation."""
        now = self._clock.monotonic()
        key = (chat_id, message_id, wanted)
        pending = self._pending.pop(key, None)
        if pending is not None and pending.user_id == user_id and now <= pending.until:
            return True
        # Forget confirmations that ran out, so the map stays small.
        self._pending = {k: p for k, p in self._pending.items() if p.until >= now}
        self._pending[key] = _Pending(user_id, now + self._options.confirm_seconds)
        return False

    async def _act(
        self, client: WooClient, act: _Act, shown: str, wanted: str, fmt: Formatter
    ) -> str:
        """Change the order if it still shows `shown`; the sentence that answers the tap."""
        try:
            order = await client.order(act.order_id)
        except WooApiError as exc:
            return await self._failed(act, shown, wanted, exc, fmt)
        current = str(order.get("status") or "")
        if current != shown:
            await self._audit(act, shown, wanted, f"race: the order was {current}")
            await self._refresh(act, order, None)
            already = fmt.gettext("Order #%(number)s is already %(status)s; nothing was changed.")
            return already % {"number": act.number, "status": fmt.label(ORDER_STATUSES, current)}
        try:
            saved = await client.set_order_status(act.order_id, wanted)
        except WooApiError as exc:
            return await self._failed(act, shown, wanted, exc, fmt)
        # The order.updated WooCommerce sends for this change says nothing new: remembering
        # the status now makes the router take it for a save without a status change.
        modified = saved.get("date_modified_gmt") or saved.get("date_modified") or ""
        state = OrderState(act.store, act.order_id, wanted, str(modified))
        await self._store.remember_order_status(state, act.event_id)
        await self._audit(act, shown, wanted, "done")
        try:
            await client.add_order_note(
                act.order_id,
                f"Status changed from {shown} to {wanted} by {act.user_name} "
                f"(Telegram user {act.user_id}) from Telegram.",
            )
        except WooApiError as exc:
            log.warning("order %s: status set, but the note was refused: %s", act.number, exc)
        await self._refresh(act, saved, wanted)
        done = fmt.gettext("Order #%(number)s is now %(status)s.")
        return done % {"number": act.number, "status": fmt.label(ORDER_STATUSES, wanted)}

    async def _failed(
        self, act: _Act, shown: str, wanted: str, exc: WooApiError, fmt: Formatter
    ) -> str:
        log.warning(
            "order %s: could not change its status to %s: %s",
            act.number,
            wanted,
            exc,
            extra={"chat_id": act.chat_id},
        )
        await self._audit(act, shown, wanted, f"failed: {exc.status or 'unreachable'}")
        return failure_sentence(exc, act.number, wanted, fmt)

    async def _audit(self, act: _Act, shown: str, wanted: str, result: str) -> None:
        await self._store.record_order_action(
            OrderAction(
                store=act.store,
                order_id=act.order_id,
                user_id=act.user_id,
                user_name=act.user_name,
                chat_id=act.chat_id,
                action="status",
                from_status=shown,
                to_status=wanted,
                result=result,
                at=self._clock.time(),
            )
        )

    async def _refresh(self, act: _Act, order: dict[str, object], changed_to: str | None) -> None:
        """Edit every chat's copy of the order's message to show it as it is now."""
        payload = parse_payload("order.updated", json.dumps(order).encode())
        copies = await self._store.order_copies(act.store, act.order_id)
        when = dt.datetime.fromtimestamp(self._clock.time(), self._renderer.options.timezone)
        for copy in copies:
            target = self._target_of(copy.chat_id)
            rendered = self._renderer.render(
                payload,
                act.event_id,
                target.language if target else None,
                store=act.store,
                order_next=_flow(target),
            )
            text = rendered.parts[-1] if len(rendered.parts) == 1 else copy.text
            if changed_to is not None:
                label = self.words(copy.chat_id).label(ORDER_STATUSES, changed_to)
                text += (
                    f"\n\n✅ {html.escape(label)} · {html.escape(act.user_name)} · "
                    f"{when:%Y-%m-%d %H:%M}"
                )
            await self._edit(copy.chat_id, copy.telegram_id, text, rendered.reply_markup)

    async def _edit(self, chat_id: int, message_id: int, text: str, markup: str | None) -> None:
        """Edit one copy, its buttons given again (an edit without them removes them)."""
        try:
            try:
                await self._bot_edit(chat_id, message_id, text, markup)
            except BadRequest as exc:
                if "button_url_invalid" not in exc.message.lower():
                    raise
                # As when it was sent: a link Telegram refuses goes, the status buttons stay.
                await self._bot_edit(chat_id, message_id, text, without_links(markup))
        except BadRequest as exc:
            # A double tap can leave nothing to change; Telegram says so and that is fine.
            if "not modified" not in exc.message.lower():
                log.warning("could not edit message in chat %s: %s", chat_id, exc)
        except TelegramError as exc:
            log.warning("could not edit message in chat %s: %s", chat_id, exc)

    async def _bot_edit(self, chat_id: int, message_id: int, text: str, markup: str | None) -> None:
        assert self._bot is not None
        keyboard = InlineKeyboardMarkup.de_json(json.loads(markup), None) if markup else None
        await self._bot.edit_message_text(
            text,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard,
        )


def _flow(target: Target | None) -> Mapping[str, tuple[str, ...]]:
    """The statuses a chat's buttons offer, per current status."""
    if target is None or target.order_actions is None:
        return DEFAULT_NEXT
    return dict(target.order_actions)


@dataclass(frozen=True)
class _Act:
    """One tap being handled: on which order, by whom, from where."""

    store: str
    order_id: str
    number: str
    user_id: int
    user_name: str
    chat_id: int
    event_id: int

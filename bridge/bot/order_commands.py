"""Staff handle orders by writing: a reply to an order's message becomes an order note,
/order shows an order's card with its buttons, /orders lists the latest in a status.

The same people may use them as may press the status buttons (OrderActions.may_act).
A note to the customer (/note customer ..., which WooCommerce e-mails) waits for a
confirming tap, like a cancellation.
"""

from __future__ import annotations

import html
import json
import logging
import secrets
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bridge.bot.access import Access
from bridge.bot.order_actions import OrderActions
from bridge.bot.order_words import note_failure, who
from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.payloads import parse_payload
from bridge.queue.storage import Storage
from bridge.render.formatting import Formatter
from bridge.render.labels import ORDER_STATUSES
from bridge.render.links import without_links
from bridge.render.renderer import Renderer
from bridge.woo.rest import WooApiError

log = logging.getLogger(__name__)

#: how many orders /orders lists
LISTED = 10


@dataclass(frozen=True)
class _CustomerNote:
    """A note to the customer, waiting for its author's confirming tap."""

    store: str
    order_id: str
    text: str
    user_id: int
    author: str
    until: float


class OrderCommands:
    """Notes by reply, /note customer, /order and /orders."""

    def __init__(
        self,
        store: Storage,
        access: Access,
        actions: OrderActions,
        renderer: Renderer,
        *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._store = store
        self._access = access
        self._actions = actions
        self._renderer = renderer
        self._clock = clock
        self._pending: dict[str, _CustomerNote] = {}

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        application.add_handler(CommandHandler("order", self.order))
        application.add_handler(CommandHandler("orders", self.orders))
        application.add_handler(CommandHandler("note", self.note))
        application.add_handler(CallbackQueryHandler(self.confirm_note, pattern=r"^nc:"))
        application.add_handler(
            MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND, self.reply)
        )

    async def _allowed(self, update: Update) -> tuple[Message, User] | None:
        """The message and its author, if they may act on orders in this chat."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or self._access.place(update) is None:
            return None
        if not self._actions.may_act(user.id, message.chat_id):
            refusal = self._actions.words(message.chat_id).gettext(
                "Sorry, only the shop's staff can act on orders here. An admin can add your "
                "Telegram user id (%(user_id)s) to TELEGRAM_STAFF_IDS."
            )
            await message.reply_text(refusal % {"user_id": user.id}, do_quote=False)
            return None
        return message, user

    async def reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A reply to an order's message: a private note on that order."""
        message = update.effective_message
        if message is None or message.reply_to_message is None or not message.text:
            return
        card = await self._store.card_of_message(
            message.chat_id, message.reply_to_message.message_id
        )
        if card is None:
            return  # a reply to some other message: not for the bridge
        allowed = await self._allowed(update)
        if allowed is None:
            return
        _, user = allowed
        await self._add_note(message, card.store, card.order_id, message.text, user)

    async def note(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/note <text> or /note customer <text>, in reply to an order's message."""
        message = update.effective_message
        if message is None:
            return
        replied = message.reply_to_message
        card = (
            await self._store.card_of_message(message.chat_id, replied.message_id)
            if replied is not None
            else None
        )
        if card is None:
            if self._access.place(update) is not None:
                usage = self._actions.words(message.chat_id).gettext(
                    "Reply to an order's message with /note <text> (a private note) or "
                    "/note customer <text> (e-mailed to the customer)."
                )
                await message.reply_text(usage, do_quote=False)
            return
        allowed = await self._allowed(update)
        if allowed is None:
            return
        _, user = allowed
        words = self._actions.words(message.chat_id)
        args = list(context.args or [])
        customer = bool(args) and args[0].lower() == "customer"
        text = " ".join(args[1:] if customer else args).strip()
        if not text:
            await message.reply_text(
                words.gettext("Write the note after the command: /note <text>.")
            )
            return
        if not customer:
            await self._add_note(message, card.store, card.order_id, text, user)
            return
        token = secrets.token_hex(4)
        until = self._clock.monotonic() + self._actions.confirm_seconds
        self._pending = {k: p for k, p in self._pending.items() if p.until >= until - 3600}
        self._pending[token] = _CustomerNote(
            card.store, card.order_id, text, user.id, who(user), until
        )
        label = words.gettext("✉️ Send to the customer")
        button = InlineKeyboardButton(label, callback_data=f"nc:{token}")
        prompt = words.gettext(
            "WooCommerce will e-mail this note to the customer of order #%(number)s. "
            "Tap the button within %(seconds)s s to send it."
        )
        seconds = round(self._actions.confirm_seconds)
        await message.reply_text(
            prompt % {"number": card.order_id, "seconds": seconds},
            reply_markup=InlineKeyboardMarkup([[button]]),
        )

    async def confirm_note(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The confirming tap of a customer note: only its author's, only in time."""
        query = update.callback_query
        if query is None:
            return
        chat = query.message.chat.id if query.message is not None else 0
        words = self._actions.words(chat)
        pending = self._pending.get((query.data or "")[3:])
        if pending is None or pending.user_id != query.from_user.id:
            only = words.gettext("Only the note's author can send it.")
            await query.answer(only, show_alert=True)
            return
        if self._clock.monotonic() > pending.until:
            self._pending.pop((query.data or "")[3:], None)
            late = words.gettext("Too late: send /note customer again.")
            await query.answer(late, show_alert=True)
            return
        self._pending.pop((query.data or "")[3:], None)
        found = self._actions.client_for(pending.store)
        if found is None:
            await query.answer(_no_key(words), show_alert=True)
            return
        _, client = found
        try:
            await client.add_order_note(pending.order_id, pending.text, customer=True)
        except WooApiError as exc:
            log.warning("order %s: customer note refused: %s", pending.order_id, exc)
            await query.answer(note_failure(exc, pending.order_id, words), show_alert=True)
            return
        await query.answer(words.gettext("Sent."))
        sent = words.gettext("✉️ Note e-mailed to the customer of order #%(number)s.")
        await query.edit_message_text(
            html.escape(sent % {"number": pending.order_id}), parse_mode=ParseMode.HTML
        )

    async def _add_note(
        self, message: Message, store: str, order_id: str, text: str, user: User
    ) -> None:
        words = self._actions.words(message.chat_id)
        found = self._actions.client_for(store)
        if found is None:
            await message.reply_text(_no_key(words))
            return
        _, client = found
        try:
            await client.add_order_note(order_id, f"{text}\n({who(user)}, from Telegram)")
        except WooApiError as exc:
            log.warning("order %s: note refused: %s", order_id, exc)
            await message.reply_text(note_failure(exc, order_id, words))
            return
        added = words.gettext("📝 Private note added to order #%(number)s.")
        await message.reply_text(added % {"number": order_id})

    async def order(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/order <number>: the order's card as the store has it now, with its buttons."""
        allowed = await self._allowed(update)
        if allowed is None:
            return
        message, _ = allowed
        words = self._actions.words(message.chat_id)
        args = list(context.args or [])
        if len(args) not in (1, 2) or not args[0].lstrip("#").isdigit():
            await message.reply_text(words.gettext("Which order? /order 1234"), do_quote=False)
            return
        order_id = args[0].lstrip("#")
        found = self._actions.client_for(args[1] if len(args) == 2 else None)
        if found is None:
            await message.reply_text(_no_key(words), do_quote=False)
            return
        store, client = found
        try:
            order = await client.order(order_id)
        except WooApiError as exc:
            await message.reply_text(note_failure(exc, order_id, words), do_quote=False)
            return
        chat_id = message.chat_id
        rendered = self._renderer.render(
            parse_payload("order.updated", json.dumps(order).encode()),
            0,
            self._actions.language_of(chat_id),
            store=store,
            order_next=self._actions.flow_of(chat_id),
        )
        last = len(rendered.parts) - 1
        for index, part in enumerate(rendered.parts):
            markup = rendered.reply_markup if index == last else None
            sent = await self._send_card(message, part, markup)
            if index == last:
                await self._store.save_order_card(chat_id, sent.message_id, store, order_id, part)

    async def _send_card(self, message: Message, text: str, markup: str | None) -> Message:
        keyboard = InlineKeyboardMarkup.de_json(json.loads(markup), None) if markup else None
        try:
            return await message.reply_text(
                text, parse_mode=ParseMode.HTML, reply_markup=keyboard, do_quote=False
            )
        except BadRequest:
            if keyboard is None:
                raise
            # A link Telegram refuses (a store on a private address): keep the status buttons.
            kept = without_links(markup)
            again = InlineKeyboardMarkup.de_json(json.loads(kept), None) if kept else None
            return await message.reply_text(
                text, parse_mode=ParseMode.HTML, reply_markup=again, do_quote=False
            )

    async def orders(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/orders [status]: the latest orders in a status (processing by default)."""
        allowed = await self._allowed(update)
        if allowed is None:
            return
        message, _ = allowed
        words = self._actions.words(message.chat_id)
        status = (list(context.args or []) or ["processing"])[0].lower()
        found = self._actions.client_for(None)
        if found is None:
            await message.reply_text(_no_key(words), do_quote=False)
            return
        _, client = found
        try:
            orders = await client.latest_orders(status, LISTED)
        except WooApiError as exc:
            await message.reply_text(note_failure(exc, "?", words), do_quote=False)
            return
        name = html.escape(words.label(ORDER_STATUSES, status))
        if not orders:
            none = words.gettext("No orders are %(status)s.")
            await message.reply_text(none % {"status": name}, do_quote=False)
            return
        title = words.gettext("Latest orders: %(status)s")
        lines = [f"<b>{title % {'status': name}}</b>"]
        lines += [_summary(order) for order in orders]
        lines.append("\n" + html.escape(words.gettext("Open one with /order NUMBER.")))
        await message.reply_text("\n".join(lines), parse_mode=ParseMode.HTML, do_quote=False)


def _no_key(words: Formatter) -> str:
    return words.gettext(
        "The bridge has no REST API key for this store. Add WOOCOMMERCE_CONSUMER_KEY and "
        "WOOCOMMERCE_CONSUMER_SECRET (a Read/Write key) to use order commands."
    )


def _summary(order: dict[str, object]) -> str:
    """#1234 · Jane D. · 49.90 EUR · 2026-11-29"""
    billing = order.get("billing")
    billing = billing if isinstance(billing, dict) else {}
    name = f"{billing.get('first_name', '')} {str(billing.get('last_name', ''))[:1]}".strip()
    total = f"{order.get('total', '')} {order.get('currency', '')}".strip()
    date = str(order.get("date_created") or "")[:10]
    number = order.get("number") or order.get("id")
    parts = [f"#{number}", name, total, date]
    return html.escape(" · ".join(p for p in parts if p and p != "."))

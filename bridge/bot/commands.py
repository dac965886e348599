"""Staff commands: what the bot answers in Telegram.

/start and /help work in any chat, since they are how staff find a chat's id. The
others answer only in chats that a route names (and /status also in an admin's
private chat), and speak only of the chat they are sent in.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from telegram import BotCommand, Message, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler, ContextTypes

from bridge import __version__
from bridge.bot.access import REFUSAL, Access, Place
from bridge.bot.mute_commands import MuteCommands, short_duration
from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.lifecycle import Lifecycle
from bridge.queue.leadership import Leadership
from bridge.queue.storage import Storage, StoreError
from bridge.recovery.board import RecoveryBoard
from bridge.routing.chats import Chats

COMMANDS = [
    BotCommand("start", "What this bot does, and this chat's id"),
    BotCommand("help", "What this bot does, and this chat's id"),
    BotCommand("topics", "The topics this chat receives; tap one to mute it"),
    BotCommand("mute", "Mute a topic here: /mute order.updated 2h"),
    BotCommand("unmute", "Hear a topic again: /unmute order.updated, or /unmute all"),
    BotCommand("status", "Queue depth, last message sent, dead letters"),
    BotCommand("failed", "Dead letters: how many, and the latest errors (admins)"),
    BotCommand("order", "An order's card, with its status buttons: /order 1234"),
    BotCommand("orders", "The latest orders in a status: /orders on-hold"),
    BotCommand("note", "In reply to an order: /note text, or /note customer text"),
    BotCommand("report", "Sales report and chart: /report 7d (today, week, month, 30d, a date)"),
]

#: how many of the latest dead letters /failed shows
FAILED_SHOWN = 5


class StaffCommands:
    """Handlers for the staff commands, bound to the bridge's state."""

    def __init__(
        self,
        admins: frozenset[int],
        store: Storage,
        lifecycle: Lifecycle,
        chats: Chats,
        *,
        clock: Clock = SYSTEM_CLOCK,
        recovery: RecoveryBoard | None = None,
        setup: Callable[[], list[str]] | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        self._store = store
        #: with several replicas (PostgreSQL), who shares the database and who leads
        self._leadership = leadership
        #: the start-up setup check's result, as lines for /status
        self._setup = setup
        self._recovery = recovery
        self._clock = clock
        self._lifecycle = lifecycle
        self._access = Access(admins, chats)
        self._mutes = MuteCommands(self._access, chats)

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        application.add_handler(CommandHandler(["start", "help"], self.help))
        application.add_handler(CommandHandler("status", self.status))
        application.add_handler(CommandHandler("failed", self.failed))
        self._mutes.register(application)

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Explain the bot and show the ids staff need for the configuration."""
        message = update.effective_message
        if message is None:
            return
        place = Place.of(message)
        thread = (
            f"\nThread id: <code>{place.thread_id}</code> (thread_id in a route)"
            if place.thread_id
            else ""
        )
        await message.reply_text(
            "This bot posts your WooCommerce store's events: new orders, status changes, "
            "stock and customers.\n\n"
            f"Chat id: <code>{place.chat_id}</code>{thread}\n"
            "Put the chat id in TELEGRAM_CHAT_ID, or in a route's chat_id (BRIDGE_CONFIG), "
            "to receive the events here.\n\n"
            "/topics: what this chat receives, and muting it\n"
            "/mute &lt;topic&gt; [30m|2h|1d], /unmute &lt;topic&gt; or /unmute all\n"
            "/status: the queue of this chat",
            parse_mode=ParseMode.HTML,
            do_quote=False,
        )

    def _scope(self, update: Update) -> tuple[Message, int | None, str] | None:
        """The message to answer, and what a report covers: all chats in an admin's
        private chat, else this chat (its id).

        None when there is no message or no route names the chat (the command is ignored).
        """
        message = update.effective_message
        if message is None:
            return None
        if self._access.is_admin_private_chat(update):
            return message, None, "all chats"
        place = self._access.place(update)
        return None if place is None else (message, place.chat_id, "this chat")

    async def status(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Report the queue: depth, last send, dead letters, uptime, version."""
        where = self._scope(update)
        if where is None:
            return
        message, chat_id, scope = where
        stats = await self._store.stats(chat_id)
        last = (
            f"{short_duration(self._clock.time() - stats.last_sent_at)} ago"
            if stats.last_sent_at
            else "never"
        )
        await message.reply_text(
            f"<b>woo-telegram-bridge {html.escape(__version__)}</b>\n"
            f"Queued for {scope}: {stats.pending + stats.sending}\n"
            f"Events not routed yet: {stats.events_waiting}\n"
            f"Last message sent: {last}\n"
            f"Dead letters: {stats.dead}\n"
            f"Uptime: {short_duration(self._clock.time() - self._lifecycle.started_at)}"
            # Other chats' ids and the stores' addresses are for the admins only.
            + (self._setup_status() + await self._replicas_status() if chat_id is None else "")
            + await self._stores_status(),
            parse_mode=ParseMode.HTML,
            do_quote=False,
        )

    def _setup_status(self) -> str:
        """What the setup check found at start-up, in plain words (no secret in them)."""
        if self._setup is None:
            return ""
        return "".join(f"\n{html.escape(line, quote=False)}" for line in self._setup())

    async def _replicas_status(self) -> str:
        """The replicas seen lately, and which leads (their names are hosts': admins only)."""
        if self._leadership is None:
            return ""
        try:
            replicas = await self._leadership.replicas()
        except StoreError:
            return "\n\n<b>Replicas</b>: unknown (the database is not answering)"
        now = self._clock.time()
        leader = next((r.name for r in replicas if r.leader), None)
        lines = [
            f"\n\n<b>Replicas</b>: {len(replicas)}, leader: "
            + (html.escape(leader) if leader else "none right now")
        ]
        for replica in replicas:
            here = " (this one)" if replica.name == self._leadership.replica else ""
            role = ", leading" if replica.leader else ""
            seen = short_duration(max(0.0, now - replica.seen_at))
            lines.append(f"\n{html.escape(replica.name)}{here}{role}, seen {seen} ago")
        return "".join(lines)

    async def _stores_status(self) -> str:
        """Per store with a REST API key: its last webhook, last reconcile, recoveries in
        the last 24 hours, and its webhooks' health."""
        if self._recovery is None:
            return ""
        now = self._clock.time()
        lines = [
            f"\n\n<b>Store {html.escape(name)}</b>: no REST API key, so orders WooCommerce "
            "fails to deliver are not recovered (see docs/reconciliation.md)"
            for name in self._recovery.without_key
        ]
        for name, board in self._recovery.stores.items():
            activity = await self._store.store_activity(name, now - 24 * 3600)
            webhook = (
                f"{short_duration(now - activity.last_webhook)} ago"
                if activity.last_webhook
                else "none kept"
            )
            reconciled = (
                f"{short_duration(now - board.last_pass)} ago, {board.last_result}"
                if board.last_pass is not None
                else board.last_result
            )
            hooks = ", ".join(f"{n} {s}" for s, n in sorted(board.webhooks.items())) or "unknown"
            lines.append(
                f"\n\n<b>Store {html.escape(name)}</b>\n"
                f"Last webhook: {webhook}\n"
                f"Last reconcile: {html.escape(reconciled, quote=False)}\n"
                f"Recovered in 24 h: {activity.recovered}\n"
                f"Webhooks: {html.escape(hooks)}"
                + "".join(f"\n⚠️ {html.escape(p, quote=False)}" for p in board.webhook_problems)
            )
        return "".join(lines)

    async def failed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Show admins the dead letters: how many, and the latest errors."""
        where = self._scope(update)
        if where is None:
            return
        message, chat_id, scope = where
        if not self._access.is_admin(update):
            user = update.effective_user
            await message.reply_text(REFUSAL.format(user_id=user.id if user else "?"))
            return
        total = await self._store.count_dead_letters(chat_id)
        latest = await self._store.dead_letters(FAILED_SHOWN, chat_id)
        if total == 0:
            await message.reply_text(f"No dead letters for {scope}.", do_quote=False)
            return
        now = self._clock.time()
        lines = [f"<b>{total} dead letter(s) for {scope}</b>; the latest:"]
        for letter in latest:
            error = html.escape((letter.last_error or "")[:200], quote=False)
            lines.append(
                f"• #{letter.id} {html.escape(letter.topic)}, "
                f"{short_duration(now - letter.updated_at)} ago: {error}"
            )
        lines.append("\nSend them again on the server: <code>woo-bridge replay --all</code>")
        await message.reply_text("\n".join(lines), parse_mode=ParseMode.HTML, do_quote=False)

"""Staff commands: what the bot answers in Telegram."""

from __future__ import annotations

import html
import logging
import time

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler, ContextTypes

from bridge import __version__
from bridge.config import Settings
from bridge.lifecycle import Lifecycle
from bridge.queue.store import Store

log = logging.getLogger(__name__)

COMMANDS = [
    BotCommand("start", "What this bot does, and this chat's id"),
    BotCommand("help", "What this bot does, and this chat's id"),
    BotCommand("status", "Queue depth, last message sent, dead letters"),
]


class StaffCommands:
    """Handlers for the staff commands, bound to the bridge's state."""

    def __init__(self, settings: Settings, store: Store, lifecycle: Lifecycle) -> None:
        self._settings = settings
        self._store = store
        self._lifecycle = lifecycle

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        application.add_handler(CommandHandler(["start", "help"], self.help))
        application.add_handler(CommandHandler("status", self.status))

    def _is_known(self, update: Update) -> bool:
        chat, user = update.effective_chat, update.effective_user
        return (chat is not None and chat.id == self._settings.telegram_chat_id) or (
            user is not None and user.id in self._settings.telegram_admin_ids
        )

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Explain the bot and show the ids staff need for the configuration."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        thread = (
            f"\nThread id: <code>{message.message_thread_id}</code>"
            if (message.is_topic_message and message.message_thread_id)
            else ""
        )
        await message.reply_text(
            "This bot posts your WooCommerce store's events: new orders, status changes, "
            "stock and customers.\n\n"
            f"Chat id: <code>{chat.id}</code>{thread}\n"
            "Put this id in TELEGRAM_CHAT_ID to receive the events here.",
            parse_mode=ParseMode.HTML,
            do_quote=False,
        )

    async def status(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Report the queue: depth, last send, dead letters, uptime, version."""
        message = update.effective_message
        if message is None:
            return
        if not self._is_known(update):
            log.info("ignored /status from chat %s, which no route names", update.effective_chat)
            return
        stats = await self._store.stats()
        last = f"{_ago(time.time() - stats.last_sent_at)} ago" if stats.last_sent_at else "never"
        await message.reply_text(
            f"<b>woo-telegram-bridge {html.escape(__version__)}</b>\n"
            f"Queued: {stats.pending + stats.sending + stats.events_waiting}\n"
            f"Last message sent: {last}\n"
            f"Dead letters: {stats.dead}\n"
            f"Uptime: {_ago(time.time() - self._lifecycle.started_at)}",
            parse_mode=ParseMode.HTML,
            do_quote=False,
        )


def _ago(seconds: float) -> str:
    """A short duration: the two largest units, e.g. `3h 12m`."""
    remaining = int(max(0.0, seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, remaining = divmod(remaining, size)
        if amount or (unit == "s" and not parts):
            parts.append(f"{amount}{unit}")
    return " ".join(parts[:2])

"""Telling the admins, once, that a chat stopped taking messages.

When the bot is removed from a group or a chat is deleted, every later message to it
fails the same way. Each becomes a dead letter, but the admins hear of it once (in
TELEGRAM_ALERT_CHAT_ID, or loudly in the log), and again only after the chat worked
in between.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging

from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.queue.models import IncomingEvent, OutgoingMessage
from bridge.queue.storage import Storage

log = logging.getLogger(__name__)

ALERT_TOPIC = "bridge.chat_failed"


class ChatAlerts:
    """Remembers failed chats and queues one alert per failure."""

    def __init__(
        self, store: Storage, alert_chat_id: int | None, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self._store = store
        self._clock = clock
        self._alert_chat_id = alert_chat_id
        self._failed: set[int] = set()

    async def load(self) -> None:
        self._failed = set(await self._store.failed_chats())

    async def chat_failed(self, chat_id: int, error: str) -> None:
        """Record that `chat_id` refuses messages; alert if it is news."""
        if chat_id in self._failed:
            return
        self._failed.add(chat_id)
        target = self._alert_chat_id if self._alert_chat_id != chat_id else None
        now = self._clock.time()
        alert = None if target is None else _alert(chat_id, error, target, now)
        await self._store.record_failed_chat(chat_id, error, now, alert)
        if target is None:
            log.critical(
                "chat %s refuses messages (%s): its messages are kept as dead letters. "
                "Add the bot back or fix the chat id, then run `woo-bridge replay --all`. "
                "Set TELEGRAM_ALERT_CHAT_ID to be told in Telegram.",
                chat_id,
                error,
                extra={"chat_id": chat_id},
            )
        else:
            log.error(
                "chat %s refuses messages (%s); admins alerted in %s",
                chat_id,
                error,
                target,
                extra={"chat_id": chat_id},
            )

    async def chat_ok(self, chat_id: int) -> None:
        """A message reached `chat_id`: a later failure is news again."""
        if chat_id in self._failed:
            self._failed.discard(chat_id)
            await self._store.forget_failed_chat(chat_id)


def alert_text(chat_id: int, error: str) -> str:
    return (
        f"⚠️ <b>The bridge cannot post to chat <code>{chat_id}</code></b>\n"
        f"{html.escape(error, quote=False)}\n\n"
        "Its messages are kept as dead letters. Add the bot back to the chat (or fix the "
        "chat id in the configuration), then run <code>woo-bridge replay --all</code>."
    )


def _alert(
    chat_id: int, error: str, alert_chat: int, now: float
) -> tuple[IncomingEvent, OutgoingMessage]:
    """The alert's own event and message: it travels through the queue like any message,
    durable, paced and retried."""
    body = json.dumps({"chat_id": chat_id, "error": error, "at": now}).encode()
    key = hashlib.sha256(b"alert\0" + body).hexdigest()
    event = IncomingEvent("bridge", ALERT_TOPIC, body, key, now)
    message = OutgoingMessage(
        chat_id=alert_chat, topic=ALERT_TOPIC, text=alert_text(chat_id, error)
    )
    return event, message

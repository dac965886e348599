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
import sqlite3
import time

from bridge.queue.store import Store

log = logging.getLogger(__name__)

ALERT_TOPIC = "bridge.chat_failed"


class ChatAlerts:
    """Remembers failed chats and queues one alert per failure."""

    def __init__(self, store: Store, alert_chat_id: int | None) -> None:
        self._store = store
        self._alert_chat_id = alert_chat_id
        self._failed: set[int] = set()

    async def load(self) -> None:
        self._failed = set(await self._store.call(_failed_chats))

    async def chat_failed(self, chat_id: int, error: str) -> None:
        """Record that `chat_id` refuses messages; alert if it is news."""
        if chat_id in self._failed:
            return
        self._failed.add(chat_id)
        target = self._alert_chat_id if self._alert_chat_id != chat_id else None
        await self._store.call(_record_failure, chat_id, error, target, alert_text(chat_id, error))
        if target is None:
            log.critical(
                "chat %s refuses messages (%s): its messages are kept as dead letters. "
                "Add the bot back or fix the chat id, then run `woo-bridge replay --all`. "
                "Set TELEGRAM_ALERT_CHAT_ID to be told in Telegram.",
                chat_id,
                error,
            )
        else:
            log.error("chat %s refuses messages (%s); admins alerted in %s", chat_id, error, target)
            self._store.messages_waiting.set()

    async def chat_ok(self, chat_id: int) -> None:
        """A message reached `chat_id`: a later failure is news again."""
        if chat_id in self._failed:
            self._failed.discard(chat_id)
            await self._store.call(_forget_failure, chat_id)


def alert_text(chat_id: int, error: str) -> str:
    return (
        f"⚠️ <b>The bridge cannot post to chat <code>{chat_id}</code></b>\n"
        f"{html.escape(error, quote=False)}\n\n"
        "Its messages are kept as dead letters. Add the bot back to the chat (or fix the "
        "chat id in the configuration), then run <code>woo-bridge replay --all</code>."
    )


def _failed_chats(conn: sqlite3.Connection) -> list[int]:
    return [row[0] for row in conn.execute("SELECT chat_id FROM failed_chats")]


def _forget_failure(conn: sqlite3.Connection, chat_id: int) -> None:
    conn.execute("DELETE FROM failed_chats WHERE chat_id = ?", (chat_id,))


def _record_failure(
    conn: sqlite3.Connection, chat_id: int, error: str, alert_chat: int | None, text: str
) -> None:
    now = time.time()
    conn.execute(
        "INSERT OR REPLACE INTO failed_chats (chat_id, error, failed_at) VALUES (?, ?, ?)",
        (chat_id, error, now),
    )
    if alert_chat is None:
        return
    # The alert travels through the queue like any message: durable, paced, retried.
    body = json.dumps({"chat_id": chat_id, "error": error, "at": now}).encode()
    key = hashlib.sha256(b"alert\0" + body).hexdigest()
    event_id = conn.execute(
        "INSERT INTO events (store, topic, body_key, body, received_at, state)"
        " VALUES ('bridge', ?, ?, ?, ?, 'routed') RETURNING id",
        (ALERT_TOPIC, key, body, now),
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO messages (event_id, chat_id, topic, text, run_at, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (event_id, alert_chat, ALERT_TOPIC, text, now, now, now),
    )

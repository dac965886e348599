"""The sender: takes due messages from the queue and sends them to Telegram.

Each chat's messages go one at a time in queue order; different chats go in parallel,
within Telegram's flood limits. A message leaves the queue only as sent, as a dead
letter, or skipped because its chat muted the topic. A send interrupted by a crash is
sent again after the restart: the only way a message can reach Telegram twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
from typing import Protocol

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode

from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.metrics import Metrics
from bridge.queue.models import QueuedMessage
from bridge.queue.storage import Storage, StoreError
from bridge.redact import Secrets
from bridge.render.links import without_links
from bridge.render.telegram_html import visible_text
from bridge.send.alerts import ChatAlerts
from bridge.send.backoff import RetryPolicy
from bridge.send.outcome import Action, Outcome, classify
from bridge.send.ratelimit import RateLimiter

log = logging.getLogger(__name__)

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# How long to sleep when the store cannot be read, before trying again.
_STORE_RETRY_SECONDS = 1.0
# With nothing due, look again this often: `woo-bridge replay` runs in another process.
_IDLE_SECONDS = 5.0


class TelegramBot(Protocol):
    """The bot the sender sends with (bridge.bot.runner.BotRunner)."""

    #: set once the bot can send
    ready: asyncio.Event

    @property
    def bot(self) -> Bot: ...


class SendGate(Protocol):
    """What the sender asks about chats: whether to send at all, and where a chat moved."""

    def skip_reason(self, message: QueuedMessage) -> str | None: ...

    async def chat_migrated(self, old_chat_id: int, new_chat_id: int) -> None: ...


class Sender:
    """Sends queued messages until stopped."""

    def __init__(
        self,
        store: Storage,
        bot: TelegramBot,
        *,
        policy: RetryPolicy,
        limiter: RateLimiter,
        concurrency: int,
        alerts: ChatAlerts,
        metrics: Metrics,
        secrets: Secrets,
        gate: SendGate | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        # Flood limits pace with the monotonic clock; stored schedules use `clock.time()`.
        self._store = store
        self._bot = bot
        self._policy = policy
        self._limiter = limiter
        self._concurrency = concurrency
        self._alerts = alerts
        self._metrics = metrics
        self._secrets = secrets
        self._gate = gate
        self._clock = clock
        self._in_flight: dict[asyncio.Task[None], int] = {}
        self._stopping = False

    async def run(self) -> None:
        await self._bot.ready.wait()
        while not self._stopping:
            try:
                wait = await self._dispatch_due()
            except StoreError as exc:
                log.error("cannot read the queue, retrying: %s", exc)
                wait = _STORE_RETRY_SECONDS
            if wait is None:
                continue  # dispatched something; look for more at once
            timeout = max(0.0, wait)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._store.messages_waiting.wait(), timeout)

    async def _dispatch_due(self) -> float | None:
        """Start sends for due messages; None if any started, else seconds to wait."""
        # Cleared before reading, so a change committed meanwhile wakes the next wait.
        self._store.messages_waiting.clear()
        now = self._clock.time()
        paced = self._clock.monotonic()
        blocked = self._limiter.blocked_chats(paced)
        busy = set(blocked) | set(self._in_flight.values())
        free = min(self._concurrency - len(self._in_flight), self._limiter.overall_capacity(paced))
        if free > 0:
            batch = await self._store.claim(now, free, exclude_chats=busy)
            for message in batch:
                # Checked at the last moment: a mute set after the message was queued counts.
                skip = self._gate.skip_reason(message) if self._gate is not None else None
                if skip is None:
                    self._limiter.record(message.chat_id, paced)
                task = asyncio.create_task(self._deliver(message, skip), name=f"send-{message.id}")
                self._in_flight[task] = message.chat_id
                task.add_done_callback(self._finished)
            if batch:
                return None
        if free <= 0:
            # Nothing can start before a send finishes (which wakes the loop) or the
            # overall limit lets one more through. Messages already due must not set
            # the wake-up time here: that made the loop spin while Telegram's overall
            # limit held a backlog back, at 20 ms of CPU per message sent.
            if len(self._in_flight) >= self._concurrency:
                return 60.0
            return self._limiter.overall_ready_at(paced) - paced
        waits = [ready - paced for ready in blocked.values()]
        due = await self._store.next_due(exclude_chats=busy)
        if due is not None:
            waits.append(due - now)
        return min(waits, default=_IDLE_SECONDS)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(task, None)
        self._store.messages_waiting.set()

    async def stop(self, grace: float) -> None:
        """Stop taking messages; give sends in flight `grace` seconds to finish."""
        self._stopping = True
        self._store.messages_waiting.set()
        if self._in_flight:
            log.info("waiting up to %.0f s for %d send(s) in flight", grace, len(self._in_flight))
            _, pending = await asyncio.wait(list(self._in_flight), timeout=grace)
            # Cancelled sends stay marked as sending and are retried after the restart.
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _deliver(self, message: QueuedMessage, skip: str | None = None) -> None:
        try:
            if skip is not None:
                log.info(
                    "message %d to chat %s not sent: %s",
                    message.id,
                    message.chat_id,
                    skip,
                    extra=_fields(message),
                )
                await self._store.mark_skipped(message.id, skip, self._clock.time())
                return
            started = self._clock.monotonic()
            try:
                telegram_id = await self._send(message)
            except Exception as exc:  # every failure is classified; none escapes
                outcome = classify(exc, self._secrets.scrub)
                self._metrics.sends.labels(outcome.action.value).inc()
                await self._handle_failure(message, outcome)
            else:
                now = self._clock.time()
                self._metrics.sends.labels("sent").inc()
                self._metrics.send_latency.observe(now - message.created_at)
                await self._store.mark_sent(message.id, now, telegram_id)
                if log.isEnabledFor(logging.DEBUG):  # one per message: no fields built for nothing
                    took = (self._clock.monotonic() - started) * 1000
                    log.debug(
                        "sent message %d to chat %s in %.0f ms",
                        message.id,
                        message.chat_id,
                        took,
                        extra=_fields(message, duration_ms=round(took, 1)),
                    )
                await self._alerts.chat_ok(message.chat_id)
        except StoreError as exc:
            # The row stays 'sending'; it is sent again after a restart rather than lost.
            log.error(
                "could not record the result of message %d: %s",
                message.id,
                exc,
                extra=_fields(message),
            )

    async def _send(self, message: QueuedMessage) -> int:
        """Send one message; returns Telegram's id for it (kept to edit it later)."""
        markup = (
            InlineKeyboardMarkup.de_json(json.loads(message.reply_markup), None)
            if message.reply_markup
            else None
        )
        sent = await self._bot.bot.send_message(
            chat_id=message.chat_id,
            text=message.text,
            parse_mode=ParseMode.HTML,
            message_thread_id=message.thread_id,
            # SQLite hands back 0/1; Telegram expects a boolean.
            disable_notification=bool(message.silent),
            reply_markup=markup,
            link_preview_options=_NO_PREVIEW,
        )
        return sent.message_id

    async def _handle_failure(self, message: QueuedMessage, outcome: Outcome) -> None:
        now = self._clock.time()
        store = self._store
        match outcome.action:
            case Action.WAIT:
                self._metrics.rate_limited.inc()
                log.warning(
                    "Telegram asked to wait %.1f s before sending to chat %s",
                    outcome.delay,
                    message.chat_id,
                    extra=_fields(message),
                )
                self._limiter.pause(message.chat_id, self._clock.monotonic() + outcome.delay)
                await store.retry_later(
                    message.id, now + outcome.delay, outcome.error, counts=False
                )
            case Action.DROP_BUTTONS:
                # A link Telegram will not take (a store on a private address) must not
                # take the order's status buttons with it.
                kept = without_links(message.reply_markup)
                log.warning(
                    "Telegram refused the buttons of message %d; sending it without %s",
                    message.id,
                    "their links" if kept else "them",
                    extra=_fields(message),
                )
                await store.update_text(message.id, message.text, kept)
                await store.retry_later(message.id, now, outcome.error, counts=False)
            case Action.PLAIN_TEXT:
                log.error(
                    "Telegram could not parse message %d; sending it as plain text",
                    message.id,
                    extra=_fields(message),
                )
                plain = html.escape(visible_text(message.text), quote=False)
                await store.update_text(message.id, plain, message.reply_markup)
                await store.retry_later(message.id, now, outcome.error, counts=False)
            case Action.MIGRATE if outcome.new_chat_id is not None:
                log.warning(
                    "chat %s became supergroup %s; its messages follow",
                    message.chat_id,
                    outcome.new_chat_id,
                    extra=_fields(message),
                )
                if self._gate is not None:
                    await self._gate.chat_migrated(message.chat_id, outcome.new_chat_id)
                await store.migrate_chat(message.chat_id, outcome.new_chat_id)
            case Action.RETRY if not self._policy.exhausted(
                message.attempts, now - message.created_at
            ):
                delay = self._policy.delay(message.attempts)
                log.warning(
                    "sending message %d to chat %s failed (attempt %d), retrying in %.1f s: %s",
                    message.id,
                    message.chat_id,
                    message.attempts,
                    delay,
                    outcome.error,
                    extra=_fields(message),
                )
                await store.retry_later(message.id, now + delay, outcome.error)
            case _:
                log.error(
                    "message %d to chat %s is a dead letter after %d attempt(s): %s",
                    message.id,
                    message.chat_id,
                    message.attempts,
                    outcome.error,
                    extra=_fields(message),
                )
                await store.mark_dead(message.id, outcome.error, now)
                self._metrics.dead_letters.inc()
                if outcome.chat_gone:
                    await self._alerts.chat_failed(message.chat_id, outcome.error)


def _fields(message: QueuedMessage, **more: object) -> dict[str, object]:
    """A message's structured log fields: numbers and a topic, never its text."""
    return {
        "message_id": message.id,
        "event_id": message.event_id,
        "chat_id": message.chat_id,
        "topic": message.topic,
        "attempt": message.attempts,
        **more,
    }

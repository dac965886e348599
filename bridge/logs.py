"""Logging: plain lines for people, JSON lines for log collectors.

The bridge never logs a secret, nor, at INFO, any customer data: events are named by
topic and number only.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from bridge.redact import RedactingFilter, Secrets

PLAIN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

#: The structured fields a record may carry (`log.info(..., extra={...})`), in the order
#: JSON lines show them. Names and numbers only: none of them holds a customer's data.
FIELDS = (
    "store",  # the store's name from the settings
    "topic",  # the webhook topic, e.g. order.created
    "event_id",  # the event's number in the queue
    "message_id",  # the queued Telegram message's number (not Telegram's own id)
    "chat_id",  # the Telegram chat
    "attempt",  # which try of a send this was
    "duration_ms",  # how long it took, in milliseconds
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the fields the record
    carries (see FIELDS) and the exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str, fmt: str = "plain", secrets: Secrets | None = None) -> None:
    """Log to stderr, every line passing the secret filter (give it the bridge's `secrets`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(PLAIN_FORMAT))
    # Defence in depth: libraries log URLs and errors that may carry the bot token.
    handler.addFilter(RedactingFilter(secrets or Secrets()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and Bot API URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Its one error is an answer that is not JSON (a proxy's error page), with a traceback;
    # the bridge reports that failure itself, in one line.
    logging.getLogger("telegram.request").setLevel(logging.CRITICAL)

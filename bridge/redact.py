"""Secrets out of every text the bridge writes: the last line of defence.

The bridge builds its own texts from what it knows is safe (base URLs without the
token, method names, exception class names). Libraries do not: python-telegram-bot
logs its API URL, which carries the bot token, and an httpx error may quote a URL.
So every log record passes `RedactingFilter`, which replaces each configured secret
value and any `bot<token>` path segment with a mask before the record is written.

The secrets live in one `Secrets` object per process, made by whoever starts the bridge
(`woo-bridge serve`) and handed both to the log handlers and to the app, which adds the
stores' secrets as it reads them.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from urllib.parse import quote

from pydantic import SecretStr
from yarl import URL

MASK = "****"

# A Bot API path segment: "bot" + "<digits>:<token>". Masked even for a token the
# bridge was never told about (one in a library's default URL, say).
_BOT_PATH = re.compile(r"bot(\d+):[A-Za-z0-9_-]+")
# Shorter values would mask ordinary words; Telegram and WooCommerce secrets are longer.
_SHORTEST = 4

_PROXY_VARIABLES = (
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "HTTP_PROXY",
    "http_proxy",
)


class Secrets:
    """The secret values to mask, and the masking."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, *values: str | SecretStr | None) -> None:
        """Mask these values (and their URL-encoded forms) from now on."""
        for value in values:
            text = value.get_secret_value() if isinstance(value, SecretStr) else value
            if text and len(text) >= _SHORTEST:
                self._values.add(text)
                self._values.add(quote(text, safe=""))
        if self._values:
            # Longest first, so that a secret containing another is masked whole.
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def scrub(self, text: str) -> str:
        """`text` with every added secret and every `bot<token>` segment masked."""
        text = _BOT_PATH.sub(rf"bot\1:{MASK}", text)
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return text


def environment_proxy_secrets() -> Iterable[str]:
    """The credentials of the standard proxy variables, which the HTTP client honours
    without TELEGRAM_PROXY_URL."""
    return [secret for name in _PROXY_VARIABLES for secret in url_secrets(os.environ.get(name))]


def masked_url(url: str) -> str:
    """A URL as it may be shown: its password (and a lone user name) masked."""
    parsed = URL(url)
    if parsed.password is not None:
        return str(parsed.with_password(MASK))
    if parsed.user is not None:
        return str(parsed.with_user(MASK))
    return url


def url_secrets(url: str | None) -> Iterable[str]:
    """The credentials a URL carries, to be remembered as secrets."""
    if not url:
        return ()
    parsed = URL(url)
    # A lone user name is a token to some proxies; beside a password it is just a name.
    return [value for value in (parsed.password or parsed.user,) if value]


#: the attributes every LogRecord has; any other was given with `extra=`
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message, arguments, extra string fields and exception
    text."""

    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        scrub = self._secrets.scrub
        message = record.getMessage()
        record.msg, record.args = scrub(message), None
        # Structured fields are written as they are by the JSON formatter: scrubbed too.
        for name, value in list(vars(record).items()):
            if name not in _RECORD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, scrub(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        # The formatted text replaces the exception object, whose repr is not scrubbed.
        record.exc_info = None
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True

"""How the bridge reaches Telegram, and its failures said in words that are safe to print.

A library's error text may quote the request URL, and with it the bot token; these lines
are built from the base URL, the proxy with its credentials masked, the method and the
exceptions' class names only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram.error import InvalidToken, TelegramError

# python-telegram-bot ends the text of an unexpected HTTP answer with its status: "... (407)"
_HTTP_STATUS = re.compile(r"\((\d{3})\)$")


@dataclass(frozen=True)
class Reach:
    """How the bridge reaches Telegram, in words that are safe to print."""

    #: TELEGRAM_API_BASE_URL, which never contains the token
    base_url: str
    #: TELEGRAM_PROXY_URL with its credentials masked, or None
    proxy: str | None = None

    def unreachable(self, method: str, exc: Exception) -> str:
        """One line for a network failure, built from class names only: a library's error
        text may quote the request URL, and with it the token."""
        causes = cause_names(exc)
        if self.proxy is not None:
            return (
                f"cannot reach Telegram through the proxy TELEGRAM_PROXY_URL={self.proxy} "
                f"({method}: {causes}); check that the proxy runs, accepts this host and its "
                "credentials, and can reach Telegram"
            )
        return (
            f"Telegram unreachable at {self.base_url} ({method}: {causes}); where Telegram is "
            "blocked, set TELEGRAM_PROXY_URL or point TELEGRAM_API_BASE_URL at a relay"
        )

    def rejection(self, exc: InvalidToken) -> tuple[str, str]:
        """The status word and the line for Telegram answering 401 or 404 to getMe."""
        current: BaseException | None = exc
        while current is not None:
            if isinstance(current, TelegramError) and "not found" in current.message.lower():
                return "not found", (
                    f"Telegram answered 404 Not Found at {self.base_url}: TELEGRAM_API_BASE_URL "
                    "does not serve the Bot API there, or TELEGRAM_BOT_TOKEN is malformed"
                )
            current = current.__cause__
        return "unauthorized", (
            "Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized; revoked or mistyped); get a "
            "valid one from @BotFather"
        )


def cause_names(exc: BaseException) -> str:
    """The exception's class and its causes' classes, e.g. `NetworkError < ConnectError`,
    with the HTTP status when there was one (e.g. a proxy's 407)."""
    names: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(names) < 4:
        names.append(type(current).__name__)
        current = current.__cause__
    status = _HTTP_STATUS.search(str(exc))
    return " < ".join(names) + (f", HTTP {status.group(1)}" if status else "")

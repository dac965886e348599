"""Logging what the bridge refuses, without letting anyone fill the disk with it.

Anyone who can reach the bridge can send requests, signed or not. So every value a
request carries is cut short before it is logged, and each kind of refusal is logged
at most once per interval, with the count of those left out since.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

#: how much of a value from a request (a header, a path, an id) a log line shows
LOGGED_CHARS = 64


def clip(value: str | None, limit: int = LOGGED_CHARS) -> str:
    """`value` for a log line: at most `limit` printable characters, marked when cut."""
    if value is None:
        return "-"
    shown = "".join(c if c.isprintable() else "?" for c in value[:limit])
    return shown if len(value) <= limit else f"{shown}...({len(value)} chars)"


class RefusalLog:
    """One WARNING per reason per `interval` seconds; the rest are counted, then reported.

    `reason` must come from the bridge (a fixed text, a configured store's name), never
    from the request, so the reasons stay few.
    """

    def __init__(
        self,
        logger: logging.Logger,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def warning(self, reason: str, message: str, *args: object) -> None:
        now = self._clock()
        last = self._last.get(reason)
        if last is not None and now - last < self._interval:
            self._suppressed[reason] = self._suppressed.get(reason, 0) + 1
            return
        self._last[reason] = now
        left_out = self._suppressed.pop(reason, 0)
        if left_out:
            message += " (%d more like it since the last such line, not logged)"
            args = (*args, left_out)
        self._log.warning(message, *args)

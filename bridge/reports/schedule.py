"""When scheduled summaries are due: a time of day in BRIDGE_TIMEZONE, once per day, and
optionally once a week on a chosen weekday. Plain functions; the worker is summary.py."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
#: a summary sent this long after its time says it is late (the bridge was not running)
LATE_AFTER = dt.timedelta(minutes=10)


def summary_time_problem(value: str) -> str | None:
    """Why `value` is not a time of day HH:MM, or None."""
    if _TIME.fullmatch(value.strip()):
        return None
    return f'{value!r} is not a time of day; write it as "21:00" (24-hour clock)'


def weekday_number(value: str) -> int | None:
    """0 for "monday" ... 6 for "sunday" (any case, or the first three letters)."""
    word = value.strip().lower()
    for number, name in enumerate(WEEKDAYS):
        if word in (name, name[:3]):
            return number
    return None


@dataclass(frozen=True)
class Due:
    """A summary to send now: its kind, its day (the key that sends it once), and whether
    it is late."""

    kind: str  # "daily" or "weekly"
    day: dt.date
    scheduled: dt.datetime
    late: bool


def due_summaries(at: str, weekly_on: int | None, now: dt.datetime) -> list[Due]:
    """The summaries due at `now` (aware, in the report's zone) for a time `at`.

    Only today's: a day the bridge missed entirely is not sent the day after.
    """
    match = _TIME.fullmatch(at.strip())
    if match is None:
        return []
    scheduled = now.replace(
        hour=int(match.group(1)), minute=int(match.group(2)), second=0, microsecond=0
    )
    if now < scheduled:
        return []
    late = now - scheduled > LATE_AFTER
    due = [Due("daily", now.date(), scheduled, late)]
    if weekly_on is not None and now.weekday() == weekly_on:
        due.append(Due("weekly", now.date(), scheduled, late))
    return due

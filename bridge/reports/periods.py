"""The periods a report covers, as days of BRIDGE_TIMEZONE (a day is midnight to midnight
there, whatever the server's zone), and the period of the same length before each."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

#: what /report and `woo-bridge report --period` accept, besides a date YYYY-MM-DD
PERIOD_NAMES = ("today", "yesterday", "week", "month", "7d", "30d")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class PeriodError(ValueError):
    """A period the report does not know; the message lists the choices."""


@dataclass(frozen=True)
class Period:
    """[start, end) in the report's time zone, cut into buckets (hours for one day as it
    runs, days otherwise)."""

    name: str
    start: dt.datetime
    end: dt.datetime
    hourly: bool = False

    @property
    def days(self) -> int:
        return (self.end.date() - self.start.date()).days

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        length = self.end.date() - self.start.date()
        start = _midnight(self.start.date() - length, self.start.tzinfo)
        return Period(self.name, start, self.start, self.hourly)

    def buckets(self) -> list[dt.datetime]:
        """The start of each hour (hourly) or each day of the period, in its zone."""
        zone = self.start.tzinfo
        if self.hourly:
            # Hours as wall-clock hours of the zone (a day of a clock change has 23 or 25).
            out, moment = [], self.start.astimezone(dt.UTC)
            while moment < self.end.astimezone(dt.UTC):
                out.append(moment.astimezone(zone))
                moment += dt.timedelta(hours=1)
            return out
        return [_midnight(self.start.date() + dt.timedelta(days=n), zone) for n in range(self.days)]

    def bucket_of(self, epoch: float) -> int:
        """The index of the bucket holding `epoch` (which lies in the period)."""
        moment = dt.datetime.fromtimestamp(epoch, self.start.tzinfo)
        if self.hourly:
            return int((epoch - self.start.timestamp()) // 3600)
        return (moment.date() - self.start.date()).days


def parse_period(text: str | None, now: dt.datetime) -> Period:
    """The period `text` names (default today), with `now` aware in the report's zone."""
    name = (text or "today").strip().lower()
    today = now.date()
    zone = now.tzinfo
    if name == "today":
        return Period(name, _midnight(today, zone), _midnight(today + _DAY, zone), hourly=True)
    if name == "yesterday":
        return Period(name, _midnight(today - _DAY, zone), _midnight(today, zone))
    if name == "week":  # this calendar week so far, Monday first (ISO 8601)
        monday = today - dt.timedelta(days=today.weekday())
        return Period(name, _midnight(monday, zone), _midnight(today + _DAY, zone))
    if name == "month":
        return Period(name, _midnight(today.replace(day=1), zone), _midnight(today + _DAY, zone))
    if name in ("7d", "30d"):
        days = int(name[:-1])
        start = today - dt.timedelta(days=days - 1)
        return Period(name, _midnight(start, zone), _midnight(today + _DAY, zone))
    if _DATE.fullmatch(name):
        try:
            day = dt.date.fromisoformat(name)
        except ValueError:
            raise PeriodError(f"{text!r} is not a date; write it as YYYY-MM-DD") from None
        return Period(name, _midnight(day, zone), _midnight(day + _DAY, zone), hourly=True)
    raise PeriodError(
        f"unknown period {text!r}; use one of {', '.join(PERIOD_NAMES)} or a date YYYY-MM-DD"
    )


_DAY = dt.timedelta(days=1)


def _midnight(day: dt.date, zone: dt.tzinfo | None) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), zone)

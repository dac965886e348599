"""A clock tests move forward: real time plus an offset, so that everything else still runs."""

from __future__ import annotations

import time


class ShiftedClock:
    """The real clock, `advance`d by hand: a mute of an hour ends at once, without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def time(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset


class StoppedClock(ShiftedClock):
    """The real wall clock, and a monotonic clock that only moves when `advance`d: however
    slow the machine, no time passes between two steps of a test."""

    def __init__(self) -> None:
        super().__init__()
        self._start = time.monotonic()

    def monotonic(self) -> float:
        return self._start + self.offset

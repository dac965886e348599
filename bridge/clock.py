"""Time, injectable: tests drive a clock instead of sleeping through windows.

Pacing (flood limits, digest windows, intervals) uses `monotonic()`, which never steps.
What is stored and compared across restarts (when a message is due, when a mute ends)
uses `time()` of a ScheduleClock: wall time that never runs backward while the bridge
runs, so an NTP correction or a VM resume setting the clock back does not hold messages.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Wall time for what is stored and shown; monotonic time for measuring intervals."""

    def time(self) -> float:
        """Seconds since the epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start; never goes back."""
        ...


class SystemClock:
    """The machine's clocks."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM_CLOCK = SystemClock()


class ScheduleClock:
    """A Clock whose wall time follows the given clock forward but never back.

    After a backward step it goes on from the last value at the monotonic clock's pace,
    so a message due "now" is due at once rather than an hour later. `floor` is the
    latest time already stored (the database's newest row), for a start after a step.
    """

    def __init__(self, clock: Clock | None = None, floor: float = 0.0) -> None:
        self.clock = clock or SYSTEM_CLOCK
        self._last = floor
        self._last_monotonic: float | None = None
        # The router asks from its rendering thread while the sender asks on the loop.
        self._lock = threading.Lock()

    def raise_floor(self, floor: float) -> None:
        """Never answer less than `floor` (a time already stored) from now on."""
        with self._lock:
            self._last = max(self._last, floor)

    def time(self) -> float:
        with self._lock:
            wall, monotonic = self.clock.time(), self.clock.monotonic()
            steady = self._last
            if self._last_monotonic is not None:
                steady += max(0.0, monotonic - self._last_monotonic)
            self._last = max(wall, steady)
            self._last_monotonic = monotonic
            return self._last

    def monotonic(self) -> float:
        return self.clock.monotonic()

"""When to try a failed send again."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped; give up after `max_attempts` or `max_age`.

    Attempt n waits between half and all of min(cap, base * 2**(n-1)) seconds:
    with the defaults 1-2 s, 2-4 s, 4-8 s, ... up to 2.5-5 min, for up to 3 days.
    """

    base: float = 2.0
    cap: float = 300.0
    max_attempts: int = 500
    max_age: float = 3 * 24 * 3600.0

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the `attempts`-th failed try (1 for the first)."""
        full = min(self.cap, self.base * 2.0 ** min(max(attempts - 1, 0), 62))
        # "Equal jitter": never retry at once, but spread retries of many messages apart.
        return full / 2 + (rng or random).uniform(0, full / 2)

    def exhausted(self, attempts: int, age: float) -> bool:
        return attempts >= self.max_attempts or age >= self.max_age

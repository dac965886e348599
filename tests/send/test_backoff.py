"""The retry schedule."""

from __future__ import annotations

import random

from bridge.send.backoff import RetryPolicy


def test_delay_doubles_within_jitter_and_is_capped() -> None:
    policy = RetryPolicy(base=2.0, cap=300.0)
    rng = random.Random(7)
    for attempt, full in [(1, 2.0), (2, 4.0), (3, 8.0), (8, 256.0), (9, 300.0), (60, 300.0)]:
        for _ in range(50):
            assert full / 2 <= policy.delay(attempt, rng) <= full


def test_jitter_spreads_retries() -> None:
    policy = RetryPolicy()
    rng = random.Random(1)
    assert len({round(policy.delay(5, rng), 6) for _ in range(20)}) > 10


def test_exhausted_by_attempts_or_age() -> None:
    policy = RetryPolicy(max_attempts=3, max_age=100.0)
    assert not policy.exhausted(2, 99.0)
    assert policy.exhausted(3, 0.0)
    assert policy.exhausted(1, 100.0)

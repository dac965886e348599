"""The flood limits the bridge keeps on its side."""

from __future__ import annotations

from bridge.send.ratelimit import Limits, RateLimiter


def test_one_message_per_interval_per_chat() -> None:
    limiter = RateLimiter(Limits(chat_interval=1.0))
    limiter.record(5, 100.0)
    assert limiter.blocked_chats(100.5) == {5: 101.0}
    assert limiter.blocked_chats(101.0) == {}


def test_groups_get_twenty_per_minute() -> None:
    limiter = RateLimiter(Limits(chat_interval=0.0, group_per_minute=20, minute=60.0))
    for n in range(20):
        limiter.record(-7, 100.0 + n)
    assert limiter.chat_ready_at(-7, 119.5) == 160.0
    assert limiter.chat_ready_at(-7, 160.0) == 160.0
    # A private chat has no group window.
    for n in range(30):
        limiter.record(9, 100.0 + n)
    assert limiter.chat_ready_at(9, 130.0) == 130.0


def test_overall_capacity_is_a_sliding_second() -> None:
    limiter = RateLimiter(Limits(overall_per_second=30))
    for chat in range(25):
        limiter.record(chat, 10.0)
    assert limiter.overall_capacity(10.5) == 5
    assert limiter.overall_capacity(11.0) == 30
    for chat in range(30):
        limiter.record(100 + chat, 12.0)
    assert limiter.overall_ready_at(12.2) == 13.0


def test_pause_blocks_that_chat_only() -> None:
    limiter = RateLimiter(Limits(chat_interval=0.0))
    limiter.record(1, 10.0)
    limiter.record(2, 10.0)
    limiter.pause(1, 15.0)
    assert limiter.blocked_chats(11.0) == {1: 15.0}
    assert limiter.blocked_chats(15.0) == {}

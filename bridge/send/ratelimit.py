"""Telegram's flood limits, kept on our side so that Telegram never has to answer 429.

Telegram's FAQ: about 30 messages per second overall, about one per second to one
chat, at most 20 per minute to one group. A 429's retry_after pauses just that chat.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """How many sends each window allows."""

    overall_per_second: int = 30
    chat_interval: float = 1.0
    group_per_minute: int = 20
    #: the length of the overall and group windows; tests shrink it with the limits
    second: float = 1.0
    minute: float = 60.0


class RateLimiter:
    """Sliding windows per chat and overall; answers when a chat may be sent to next."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._overall: deque[float] = deque()
        self._groups: dict[int, deque[float]] = {}
        self._last: dict[int, float] = {}
        self._paused: dict[int, float] = {}

    def record(self, chat_id: int, now: float) -> None:
        """Count a send to `chat_id` at `now`."""
        self._overall.append(now)
        self._last[chat_id] = now
        if chat_id < 0:
            self._groups.setdefault(chat_id, deque()).append(now)

    def pause(self, chat_id: int, until: float) -> None:
        """Send nothing to `chat_id` before `until` (Telegram's retry_after)."""
        self._paused[chat_id] = max(until, self._paused.get(chat_id, 0.0))

    def overall_capacity(self, now: float) -> int:
        """How many sends the overall limit allows right now."""
        _expire(self._overall, now - self._limits.second)
        return max(0, self._limits.overall_per_second - len(self._overall))

    def overall_ready_at(self, now: float) -> float:
        """When the next send to any chat is allowed."""
        window = self._limits.second
        _expire(self._overall, now - window)
        if len(self._overall) < self._limits.overall_per_second:
            return now
        return self._overall[0] + window

    def chat_ready_at(self, chat_id: int, now: float) -> float:
        """When the next send to `chat_id` is allowed."""
        ready = max(
            self._paused.get(chat_id, 0.0),
            self._last.get(chat_id, 0.0) + self._limits.chat_interval,
        )
        group = self._groups.get(chat_id)
        if group is not None:
            _expire(group, now - self._limits.minute)
            if len(group) >= self._limits.group_per_minute:
                ready = max(ready, group[0] + self._limits.minute)
        return max(ready, now)

    def blocked_chats(self, now: float) -> dict[int, float]:
        """Chats that may not be sent to at `now`, with when they may."""
        chats = set(self._last) | set(self._paused)
        blocked = {}
        for chat_id in chats:
            ready = self.chat_ready_at(chat_id, now)
            if ready > now:
                blocked[chat_id] = ready
        self._forget_idle(now)
        return blocked

    def _forget_idle(self, now: float) -> None:
        # Keep memory bounded by the chats that are active, not all chats ever seen.
        horizon = now - max(self._limits.minute, self._limits.chat_interval)
        for chat_id in [c for c, t in self._last.items() if t < horizon]:
            if self._paused.get(chat_id, 0.0) < now:
                self._last.pop(chat_id, None)
                self._groups.pop(chat_id, None)
        for chat_id in [c for c, t in self._paused.items() if t < now]:
            del self._paused[chat_id]


def _expire(window: deque[float], before: float) -> None:
    while window and window[0] <= before:
        window.popleft()

"""Digests: a burst of one topic to one chat becomes one message instead of a flood.

A CSV import of 2,000 products fires 2,000 product.updated webhooks; at Telegram's 20
messages a minute to a group that would take well over an hour. When more than
`threshold` events of one topic reach one chat within `window` seconds, the rest are
held (in the database, so a restart loses none) and sent as one digest: the topic, how
many, the first few names and what the rest were. A digest goes out once the burst has
been quiet for a while, or `window` seconds after its first held event.
"""

from __future__ import annotations

import html
import logging
from collections import defaultdict, deque
from dataclasses import dataclass

from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.payloads import Payload
from bridge.queue.models import Digest, DigestItem
from bridge.queue.storage import Storage
from bridge.routing.targets import Target
from bridge.routing.topics import matches

log = logging.getLogger(__name__)

#: how many names a digest lists before "and N more"
NAMES_SHOWN = 5

_Key = tuple[int, int | None, str]  # chat, forum topic, webhook topic


@dataclass(frozen=True)
class DigestPolicy:
    """Which topics are digested, and how eagerly."""

    #: topic patterns that may be digested; empty turns digests off
    topics: tuple[str, ...] = ("product.*", "coupon.*")
    #: events of one topic to one chat sent one by one within `window` before holding
    threshold: int = 10
    window: float = 300.0

    @property
    def quiet(self) -> float:
        """A burst with no new event for this long is over: send its digest."""
        return min(60.0, self.window / 5)

    def applies_to(self, topic: str) -> bool:
        return any(matches(topic, pattern) for pattern in self.topics)


class Digests:
    """Counts recent events per chat and topic, holds the excess, and flushes digests."""

    def __init__(self, store: Storage, policy: DigestPolicy, clock: Clock = SYSTEM_CLOCK) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy
        self._recent: dict[_Key, deque[float]] = defaultdict(deque)

    @property
    def policy(self) -> DigestPolicy:
        return self._policy

    def should_hold(self, target: Target, topic: str, now: float) -> bool:
        """Count this event for its chat and topic; True if it goes into a digest."""
        if not self._policy.applies_to(topic):
            return False
        recent = self._recent[(target.chat_id, target.thread_id, topic)]
        while recent and recent[0] <= now - self._policy.window:
            recent.popleft()
        recent.append(now)
        return len(recent) > self._policy.threshold

    async def due(self, now: float | None = None) -> list[Digest]:
        """Bursts whose digest should go out now."""
        moment = self._clock.time() if now is None else now
        return await self._store.due_digests(
            quiet_since=moment - self._policy.quiet,
            started_before=moment - self._policy.window,
            titles=NAMES_SHOWN,
        )

    async def commit(self, digest: Digest, text: str) -> None:
        """Queue the digest's message and drop its items, in one transaction."""
        await self._store.commit_digest(digest, text)


def title_of(payload: Payload) -> str:
    """A short name for an event in a digest: the product's name, the coupon's code, ..."""
    data = payload.data
    for key in ("name", "code", "number", "email", "username"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return html.unescape(value.strip())[:80]
    if payload.resource_id is not None:
        return f"#{payload.resource_id}"
    return payload.topic


def held_item(target: Target, topic: str, title: str, event_id: int) -> DigestItem:
    """What is stored of an event held back for `target`'s digest."""
    return DigestItem(
        chat_id=target.chat_id,
        thread_id=target.thread_id,
        topic=topic,
        silent=target.silent,
        language=target.language,
        title=title,
        event_id=event_id,
    )


def digest_text(digest: Digest) -> str:
    """The digest in plain English, for when digest.html cannot render it."""
    minutes = digest.minutes
    shown = ", ".join(html.escape(t, quote=False) for t in digest.titles[:NAMES_SHOWN])
    more = digest.count - min(digest.count, NAMES_SHOWN)
    rest = f" and {more:,} more" if more else ""
    return (
        f"📦 <b>{digest.count:,} more {html.escape(digest.topic)} events</b> "
        f"in about {minutes} min (a burst, sent as one message)\n"
        f"{shown}{rest}."
    )

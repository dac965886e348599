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
import json
import logging
import sqlite3
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass

from bridge.config import Settings
from bridge.payloads import Payload
from bridge.queue.store import Store
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

    @classmethod
    def from_settings(cls, settings: Settings) -> DigestPolicy | None:
        """The policy, or None when BRIDGE_DIGEST_TOPICS is empty (digests off)."""
        if not settings.bridge_digest_topics:
            return None
        return cls(
            topics=settings.bridge_digest_topics,
            threshold=settings.bridge_digest_threshold,
            window=settings.bridge_digest_window_seconds,
        )

    @property
    def quiet(self) -> float:
        """A burst with no new event for this long is over: send its digest."""
        return min(60.0, self.window / 5)

    def applies_to(self, topic: str) -> bool:
        return any(matches(topic, pattern) for pattern in self.topics)


@dataclass(frozen=True)
class HeldItem:
    """One event held back for a digest."""

    target: Target
    topic: str
    title: str
    event_id: int


@dataclass(frozen=True)
class Digest:
    """A burst ready to be sent as one message."""

    chat_id: int
    thread_id: int | None
    topic: str
    silent: bool
    language: str | None
    count: int
    titles: tuple[str, ...]
    first_at: float
    last_at: float
    last_event_id: int
    item_ids: tuple[int, ...]

    @property
    def minutes(self) -> int:
        """How long the burst lasted, in whole minutes (at least 1)."""
        return max(1, round((self.last_at - self.first_at) / 60))


class Digests:
    """Counts recent events per chat and topic, holds the excess, and flushes digests."""

    def __init__(self, store: Store, policy: DigestPolicy) -> None:
        self._store = store
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
        moment = time.time() if now is None else now
        return await self._store.call(_due_digests, moment, self._policy)

    async def commit(self, digest: Digest, text: str, now: float | None = None) -> None:
        """Queue the digest's message and drop its items, in one transaction."""
        moment = time.time() if now is None else now
        await self._store.call(_commit_digest, digest, text, moment)
        self._store.messages_waiting.set()


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


def hold_items(conn: sqlite3.Connection, items: Iterable[HeldItem], now: float) -> None:
    """Store held items (runs in the routing's transaction)."""
    conn.executemany(
        "INSERT INTO digest_items (chat_id, thread_id, topic, silent, language, title, event_id,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                i.target.chat_id,
                i.target.thread_id,
                i.topic,
                int(i.target.silent),
                i.target.language,
                i.title,
                i.event_id,
                now,
            )
            for i in items
        ],
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


def _due_digests(conn: sqlite3.Connection, now: float, policy: DigestPolicy) -> list[Digest]:
    buckets = conn.execute(
        "SELECT chat_id, thread_id, topic, MAX(silent), MAX(language), COUNT(*),"
        " MIN(created_at), MAX(created_at), MAX(event_id), json_group_array(id)"
        " FROM digest_items GROUP BY chat_id, thread_id, topic"
        " HAVING MAX(created_at) <= ? OR MIN(created_at) <= ?",
        (now - policy.quiet, now - policy.window),
    ).fetchall()
    digests = []
    for chat, thread, topic, silent, language, count, first, last, event_id, ids in buckets:
        titles = conn.execute(
            "SELECT title FROM digest_items WHERE chat_id = ? AND thread_id IS ? AND topic = ?"
            " ORDER BY id LIMIT ?",
            (chat, thread, topic, NAMES_SHOWN),
        ).fetchall()
        digests.append(
            Digest(
                chat_id=chat,
                thread_id=thread,
                topic=topic,
                silent=bool(silent),
                language=language,
                count=count,
                titles=tuple(t[0] for t in titles),
                first_at=first,
                last_at=last,
                last_event_id=event_id,
                item_ids=tuple(sorted(json.loads(ids))),
            )
        )
    return digests


def _commit_digest(conn: sqlite3.Connection, digest: Digest, text: str, now: float) -> None:
    conn.execute(
        "INSERT INTO messages (event_id, chat_id, thread_id, topic, text, silent, run_at,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            digest.last_event_id,
            digest.chat_id,
            digest.thread_id,
            digest.topic,
            text,
            int(digest.silent),
            now,
            now,
            now,
        ),
    )
    conn.executemany("DELETE FROM digest_items WHERE id = ?", [(i,) for i in digest.item_ids])

"""Which deliveries repeat a stored event, without a random index write per delivery.

A delivery repeats an event when its key (bridge.webhook.intake.body_key) is that
event's. A unique index on the events' keys used to answer this; but a key is a hash,
so every delivery's entry went to a random page of the index, and each commit of a
burst wrote one such page per event on top of the event itself: twice the WAL and
twice the database thread's time per delivery (bench/RESULTS.md, section 14).

So the keys are kept in two places:

- event_keys, a table written in bulk: the key of every event up to the newest merged,
  inserted in key order, a pass through the index with many keys per page written;
- the keys of the newer events, in memory (RecentKeys). Every intake commit first reads
  the events newer than the newest this process knows of, under the write lock: events
  another process stored meanwhile (`woo-bridge reconcile`), and the bridge's own
  notices, count like this process's own deliveries.

The store merges the newer keys into event_keys once it holds RECENT_LIMIT of them, once
intake has been quiet for MERGE_QUIET_SECONDS, and when it opens. Only what a commit
learned is kept, and only once it has committed: a key in memory is always a stored event.

A merge holds the database thread for 60-130 ms, and every delivery meanwhile waits for
it: inside a burst that is a hole of hundreds of deliveries per merge. So when the
limit's keys came in a burst (faster than BURST_RATE a second), the merge waits for the
quiet after it, up to BURST_LIMIT keys held.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from bridge.queue import sql
from bridge.queue.sqlite_base import transaction

#: newer keys held in memory before they are merged (about 2 MB), at a shop's pace
RECENT_LIMIT = 10_000
#: seconds without a new event after which the newer keys are merged
MERGE_QUIET_SECONDS = 2.0
#: new events a second, on average since the first newer key, above which intake is in
#: a burst: far above a shop's traffic, far below what a burst of deliveries reaches
BURST_RATE = 1_000.0
#: newer keys held at most during a burst (about 9 MB), whatever the traffic
BURST_LIMIT = 50_000


@dataclass
class RecentKeys:
    """The keys of the events newer than the last merge this process knows of.

    Used on the database thread only.
    """

    keys: dict[str, int] = field(default_factory=dict)
    #: the newest event id this process knows of
    newest: int = 0
    #: when the first of `keys` was learned (the store's monotonic clock)
    since: float = 0.0

    def learn(self, keys: dict[str, int], newest: int, now: float) -> None:
        """Keep what a committed transaction learned (the first event of a key wins)."""
        if not self.keys:
            self.since = now
        for key, event_id in keys.items():
            self.keys.setdefault(key, event_id)
        self.newest = max(self.newest, newest)

    def merge_due(self, limit: int, burst_limit: int, now: float) -> bool:
        """Whether `limit` keys are held and did not come in a burst, or a burst has
        filled `burst_limit`."""
        held = len(self.keys)
        if held < limit:
            return False
        return held >= burst_limit or held < BURST_RATE * (now - self.since)


@dataclass(frozen=True)
class Lookup:
    """What an intake transaction found, before it inserts."""

    #: events newer than RecentKeys.newest: stored by another process, or notices
    newer: dict[str, int]
    #: the batch's keys found in event_keys
    merged: dict[str, int]
    #: the newest event id, once the newer events are counted
    newest: int

    def event_of(self, key: str, recent: RecentKeys) -> int | None:
        """The stored event with this key, if any."""
        found = recent.keys.get(key)
        if found is None:
            found = self.newer.get(key)
        if found is None:
            found = self.merged.get(key)
        return found


def look_up(conn: sqlite3.Connection, recent: RecentKeys, keys: list[str]) -> Lookup:
    """Inside the intake transaction: the events newer than `recent`, and the merged keys
    among `keys`. One statement, one row."""
    newer_json, merged_json = conn.execute(
        sql.INTAKE_KEYS, (recent.newest, json.dumps(keys))
    ).fetchone()
    newer: dict[str, int] = json.loads(newer_json) if newer_json else {}
    merged: dict[str, int] = json.loads(merged_json) if merged_json else {}
    return Lookup(newer, merged, max(newer.values(), default=recent.newest))


def merge(conn: sqlite3.Connection) -> int:
    """Merge every event's key not in event_keys yet; returns the newest event id.

    Reads first: with nothing to merge it takes no write lock (a read-only file opens).
    """
    newest, merged = conn.execute(sql.MERGE_DUE).fetchone()
    if newest <= merged:
        return int(newest)
    with transaction(conn):
        conn.execute(sql.MERGE_KEYS)
        return int(conn.execute(sql.NEWEST_EVENT).fetchone()[0])

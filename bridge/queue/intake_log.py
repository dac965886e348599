"""How both backends describe accepted events in the log: one line, structured fields."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bridge.queue.models import Accepted, IncomingEvent

Stored = Sequence[tuple[IncomingEvent, Accepted]]


class AcceptedTally:
    """Accepted events not logged yet, as their line will tell them.

    Counted by topic and store rather than kept: a line can cover a second of a burst,
    and keeping its events kept thousands of bodies alive that long.
    """

    def __init__(self, stored: Stored = ()) -> None:
        self.count = 0
        self._first = self._last = 0
        self._kinds: Counter[tuple[str, str]] = Counter()
        self.add(stored)

    def add(self, stored: Stored) -> None:
        """Count a commit's new events (in the order of their ids)."""
        if not stored:
            return
        if not self.count:
            self._first = stored[0][1].event_id
        kinds = self._kinds
        for event, _ in stored:
            kinds[event.topic, event.store] += 1
        self.count += len(stored)
        self._last = stored[-1][1].event_id

    def line(self) -> str:
        """`accepted order.created of store shop as event #5`, or a summary of many."""
        if self.count == 1:
            ((topic, store),) = self._kinds
            return f"accepted {topic} of store {store} as event #{self._first}"
        listed = ", ".join(
            f"{count} {topic} of store {store}"
            for (topic, store), count in self._kinds.most_common()
        )
        return f"accepted {self.count} events, #{self._first} to #{self._last}: {listed}"

    def fields(self) -> dict[str, object]:
        """The structured log fields of a lone event (store, topic, event id)."""
        if self.count != 1:
            return {}
        ((topic, store),) = self._kinds
        return {"store": store, "topic": topic, "event_id": self._first}

"""How both backends describe an intake commit in the log: one line, structured fields."""

from __future__ import annotations

from collections import Counter

from bridge.queue.models import Accepted, IncomingEvent

Stored = list[tuple[IncomingEvent, Accepted]]


def commit_fields(stored: Stored) -> dict[str, object]:
    """The structured log fields of a one-event commit (store, topic, event id)."""
    if len(stored) != 1:
        return {}
    event, accepted = stored[0]
    return {"store": event.store, "topic": event.topic, "event_id": accepted.event_id}


def describe_commit(stored: Stored) -> str:
    """`accepted order.created of store shop as event #5`, or a summary of a larger commit."""
    if len(stored) == 1:
        event, accepted = stored[0]
        return f"accepted {event.topic} of store {event.store} as event #{accepted.event_id}"
    # Counted by (topic, store), formatted once per kind: a line can cover a second of
    # a burst, thousands of events.
    kinds = Counter((event.topic, event.store) for event, _ in stored)
    first, last = stored[0][1].event_id, stored[-1][1].event_id
    listed = ", ".join(
        f"{count} {topic} of store {store}" for (topic, store), count in kinds.most_common()
    )
    return f"accepted {len(stored)} events, #{first} to #{last}: {listed}"

"""The log line of accepted events: a lone event with its id, many as one summary."""

from __future__ import annotations

import sys

from bridge.queue.intake_log import AcceptedTally
from bridge.queue.models import Accepted
from tests.queue.test_store import event


def test_a_lone_event_is_told_with_its_id_and_fields() -> None:
    tally = AcceptedTally([(event(1), Accepted(7, False))])
    assert tally.line() == "accepted order.created of store default as event #7"
    assert tally.fields() == {"store": "default", "topic": "order.created", "event_id": 7}


def test_commits_add_up_to_one_summary_by_topic_and_store() -> None:
    tally = AcceptedTally()
    assert tally.count == 0
    tally.add([(event(1), Accepted(3, False)), (event(2, "order.updated"), Accepted(4, False))])
    tally.add([])
    tally.add([(event(3, "order.updated"), Accepted(5, False))])
    assert tally.count == 3
    assert tally.line() == (
        "accepted 3 events, #3 to #5: 2 order.updated of store default, "
        "1 order.created of store default"
    )
    assert tally.fields() == {}


def test_the_tally_keeps_no_event() -> None:
    """A second of a burst is thousands of bodies: none is kept until the line is written."""
    delivered = event(1)
    before = sys.getrefcount(delivered)
    tally = AcceptedTally([(delivered, Accepted(1, False))])
    assert sys.getrefcount(delivered) == before
    assert tally.count == 1

"""`woo-bridge serve` keeps what startup made out of the garbage collector's full passes."""

from __future__ import annotations

import gc

from bridge.cli.serve import freeze_startup_objects


def test_startup_objects_are_left_out_of_full_collections() -> None:
    made_at_startup = [object()]  # a container: the cyclic collector tracks it
    assert gc.is_tracked(made_at_startup)
    freeze_startup_objects()
    try:
        assert gc.get_freeze_count() > 0
        # Frozen objects are in no generation, so a full pass no longer traverses them.
        assert not any(o is made_at_startup for o in gc.get_objects(generation=2))
        made_later = [object()]
        assert any(o is made_later for o in gc.get_objects(generation=0))
    finally:
        gc.unfreeze()

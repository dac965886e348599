"""Mutes in a real database: kept across restarts, ending on time."""

from __future__ import annotations

import time

from bridge.routing.mutes import Mute, Mutes
from tests.backends import Backend


async def test_mutes_persist_and_expire(backend: Backend) -> None:
    store = await backend.open()
    mutes = Mutes(store)
    await mutes.load()
    now = time.time()
    await mutes.mute(Mute(-1, None, "order.*", None, 42))
    await mutes.mute(Mute(-1, 7, "product.updated", now + 60, 42))
    await mutes.mute(Mute(-1, None, "coupon.*", now + 0.2, 42))
    await store.close()

    store = await backend.open()
    try:
        again = Mutes(store)
        await again.load()
        assert again.muting(-1, None, "order.created") is not None
        assert again.muting(-1, 7, "order.created") is None  # another forum topic
        assert again.muting(-2, None, "order.created") is None  # another chat
        assert again.muting(-1, 7, "product.updated") is not None
        assert again.muting(-1, None, "coupon.created", now + 0.1) is not None
        assert again.muting(-1, None, "coupon.created", now + 0.3) is None
        assert [m.pattern for m in again.of(-1, None, now + 0.3)] == ["order.*"]

        await again.lift(again.of(-1, None))
        assert again.muting(-1, None, "order.created") is None
    finally:
        await store.close()


def test_a_mute_describes_itself() -> None:
    assert Mute(-1, None, "order.*", None, 1).describe() == "order.* until unmuted"
    assert Mute(-1, None, "order.*", 0.0, 1).describe() == "order.* until 1970-01-01 00:00 UTC"

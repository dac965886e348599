"""Hashing a delivery's body on the event loop without giving up the GIL.

hashlib releases the GIL while it hashes 2,048 bytes or more, and WooCommerce's orders
are a few KiB. Under a burst the database thread is waiting for the GIL: it takes it
at once, and the event loop then waits to get it back, often for much longer than
the hash took (measured in bench/RESULTS.md, section 13). Fed in slices below that
size, the hash keeps the GIL for its few microseconds.
"""

from __future__ import annotations

from typing import Protocol

#: the longest slice hashlib hashes without releasing the GIL
GIL_SLICE = 2047


class Hash(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...


def feed(digest: Hash, data: bytes) -> None:
    """`digest.update(data)`, in slices that keep the GIL."""
    if len(data) <= GIL_SLICE:
        digest.update(data)
        return
    view = memoryview(data)
    for start in range(0, len(data), GIL_SLICE):
        digest.update(view[start : start + GIL_SLICE])

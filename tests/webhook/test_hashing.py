"""Hashing a body in slices that keep the GIL gives the hash of the whole body."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from bridge.webhook.hashing import GIL_SLICE, feed


@pytest.mark.parametrize("size", [0, 1, GIL_SLICE, GIL_SLICE + 1, 2 * GIL_SLICE, 5000, 70_001])
def test_fed_in_slices_the_digest_is_the_whole_bodys(size: int) -> None:
    body = bytes(n % 251 for n in range(size))
    digest = hashlib.sha256()
    feed(digest, body)
    assert digest.hexdigest() == hashlib.sha256(body).hexdigest()
    mac = hmac.new(b"secret", digestmod=hashlib.sha256)
    feed(mac, body)
    assert mac.digest() == hmac.new(b"secret", body, hashlib.sha256).digest()


def test_slices_are_below_the_size_hashlib_releases_the_gil_at() -> None:
    # CPython's hashlib lets the GIL go for 2048 bytes or more (HASHLIB_GIL_MINSIZE).
    assert GIL_SLICE < 2048

"""WooCommerce's webhook signature: base64(HMAC-SHA256(raw body, secret))."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from collections.abc import Sequence

from bridge.webhook.hashing import feed

# WooCommerce signs with wp_specialchars_decode($secret, ENT_QUOTES): these entities in a
# stored secret are decoded before use. A secret copied from the database or the REST API
# can still carry them, so both forms are tried.
_WP_ENTITIES = re.compile(r"&(?:amp|lt|gt|quot|#0*39|#x0*27);", re.IGNORECASE)
_WP_DECODED = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"'}


def sign(body: bytes, secret: str) -> str:
    """The X-WC-Webhook-Signature value WooCommerce sends for `body`."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def wp_specialchars_decode(secret: str) -> str:
    """Decode the entities WordPress decodes in a webhook secret before signing."""
    return _WP_ENTITIES.sub(lambda m: _WP_DECODED.get(m.group(0).lower(), "'"), secret)


def matching_secret(body: bytes, signature: str | None, secrets: Sequence[str]) -> int | None:
    """The index of the first of `secrets` under which `signature` signs the raw `body`.

    None if none does. While a store's secret is being changed, deliveries may be signed
    with the new secret or the old one; both are given, the current one first.
    """
    if not signature:
        return None
    given = signature.strip().encode("ascii", "replace")
    # Compare against every candidate of every secret, without short-circuiting, in
    # constant time: how long the check takes says nothing about which secret came close.
    found = None
    for index, key in _candidates(tuple(secrets)):
        mac = key.copy()
        feed(mac, body)
        if hmac.compare_digest(base64.b64encode(mac.digest()), given) and found is None:
            found = index
    return found


@functools.lru_cache(maxsize=64)
def _candidates(secrets: tuple[str, ...]) -> tuple[tuple[int, hmac.HMAC], ...]:
    """Each secret's HMACs, with the secret's index, in order."""
    return tuple((index, key) for index, secret in enumerate(secrets) for key in _keys(secret))


@functools.lru_cache(maxsize=64)
def _keys(secret: str) -> tuple[hmac.HMAC, ...]:
    """HMACs keyed with the secret, and with what WordPress would sign with if it carries
    entities; prepared once, copied per delivery (keying costs as much as a short body)."""
    candidates = dict.fromkeys((secret, wp_specialchars_decode(secret)))
    return tuple(hmac.new(c.encode("utf-8"), digestmod=hashlib.sha256) for c in candidates)

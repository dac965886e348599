"""WooCommerce's webhook signature: base64(HMAC-SHA256(raw body, secret))."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

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


def verify(body: bytes, signature: str | None, secret: str) -> bool:
    """True if `signature` is WooCommerce's signature of the raw `body` under `secret`."""
    if not signature:
        return False
    given = signature.strip().encode("ascii", "replace")
    candidates = {secret, wp_specialchars_decode(secret)}
    # Compare against every candidate, without short-circuiting, in constant time.
    matches = [hmac.compare_digest(sign(body, key).encode("ascii"), given) for key in candidates]
    return any(matches)

"""OAuth 1.0a "one-legged" signing, the only way WooCommerce accepts an API key over plain http.

WooCommerce reads the key and secret from Basic auth or ``?consumer_key=&consumer_secret=`` only
when ``is_ssl()`` is true (``WC_REST_Authentication::authenticate``). Over http it checks an
HMAC signature of the request instead, so the secret itself never crosses the wire.
"""

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from urllib.parse import quote

from yarl import URL

SIGNATURE_METHOD = "HMAC-SHA256"


def signed_query(
    method: str,
    url: URL,
    query: Mapping[str, str],
    consumer_key: str,
    consumer_secret: str,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Return ``query`` plus the oauth_* parameters that authenticate ``method url``."""
    params = {
        **query,
        "oauth_consumer_key": consumer_key,
        # WooCommerce remembers nonces for 15 minutes and refuses one it has seen.
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": SIGNATURE_METHOD,
        "oauth_timestamp": str(int(time.time()) if timestamp is None else timestamp),
    }
    params["oauth_signature"] = signature(method, url, params, consumer_secret)
    return params


def signature(method: str, url: URL, params: Mapping[str, str], consumer_secret: str) -> str:
    """Compute the RFC 5849 signature as WooCommerce checks it (the key is ``secret&``)."""
    base_url = str(url.with_query(None).with_fragment(None))
    pairs = sorted((_encode(k), _encode(v)) for k, v in params.items() if k != "oauth_signature")
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    base_string = "&".join((method.upper(), _encode(base_url), _encode(normalized)))
    mac = hmac.new(f"{consumer_secret}&".encode(), base_string.encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def _encode(text: str) -> str:
    # RFC 3986 unreserved characters only, like PHP's rawurlencode().
    return quote(text, safe="~")

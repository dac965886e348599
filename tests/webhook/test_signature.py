"""The signature check against WooCommerce's own test vectors (PHP hash_hmac)."""

from __future__ import annotations

import hmac

import pytest

from bridge.webhook.signature import matching_secret, sign, wp_specialchars_decode
from tests.helpers import wire


def verify(body: bytes, signature: str | None, secret: str) -> bool:
    """Whether `signature` signs `body` under `secret`, as the bridge checks a delivery."""
    return matching_secret(body, signature, [secret]) == 0


VECTORS = [
    ("order", "test_secret", "Iq9Fu58gAS+bxuXiSsW+pVW5hojZ9CbXe2VAn20m8Dc="),
    ("product", "test_secret", "CXQD+va+ZbC/7LYhnQXg4nCukGO8wPpqR1q/ra9DZ2Y="),
    ("customer", "test_secret", "RuiOzlo5KAZRClFROVJnkgBPD4BI9ytAAylk5bonVvk="),
    ("coupon", "test_secret", "a85bL0v655eI9jUQ+f+Z3NdB2cFQPVYlXOXJfRxIzNc="),
    ("order", "", "1D4/0CyGrPrPQTOZS6gQ2IIt/lrA/fYzuf85ufEzc2I="),
]


@pytest.mark.parametrize(("name", "secret", "expected"), VECTORS)
def test_sign_matches_php(name: str, secret: str, expected: str) -> None:
    assert sign(wire(name), secret) == expected


@pytest.mark.parametrize(("name", "secret", "expected"), VECTORS)
def test_verify_accepts_the_vectors(name: str, secret: str, expected: str) -> None:
    assert verify(wire(name), expected, secret)


def test_verify_refuses_another_secret() -> None:
    assert not verify(wire("order"), VECTORS[0][2], "other")


def test_verify_refuses_a_changed_body() -> None:
    assert not verify(wire("order") + b" ", VECTORS[0][2], "test_secret")


@pytest.mark.parametrize("signature", [None, "", "   ", "not base64 ☃", VECTORS[1][2]])
def test_verify_refuses_missing_and_malformed(signature: str | None) -> None:
    assert not verify(wire("order"), signature, "test_secret")


def test_secret_with_entities_matches_what_wordpress_signs_with() -> None:
    # WooCommerce signs with wp_specialchars_decode(stored secret).
    body = b'{"id":1}'
    assert verify(body, sign(body, "a&b<c>'\""), "a&amp;b&lt;c&gt;&#039;&quot;")
    assert verify(body, sign(body, "a&amp;b"), "a&amp;b")


def test_wp_specialchars_decode() -> None:
    assert wp_specialchars_decode("x&amp;y&#39;z&#x27;&QUOT;") == "x&y'z'\""
    assert wp_specialchars_decode("&ndash;") == "&ndash;"


def test_matching_secret_says_which_secret_signed() -> None:
    body = wire("order")
    secrets = ["new-secret", "test_secret"]
    assert matching_secret(body, VECTORS[0][2], secrets) == 1  # the previous one
    assert matching_secret(body, sign(body, "new-secret"), secrets) == 0
    assert matching_secret(body, sign(body, "other"), secrets) is None
    assert matching_secret(body, None, secrets) is None
    assert matching_secret(body, VECTORS[0][2], []) is None


def test_a_previous_secret_with_entities_matches_too() -> None:
    body = b'{"id":1}'
    assert matching_secret(body, sign(body, "a&b"), ["new", "a&amp;b"]) == 1


def test_every_secret_is_compared_even_when_the_first_matches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Stopping at the first match would let the time taken tell which secret is in use.
    compared: list[bytes] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        compared.append(a)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    body = wire("order")
    assert matching_secret(body, sign(body, "current"), ["current", "a&amp;b"]) == 0
    # "current", then both forms of the previous secret ("a&amp;b" and "a&b").
    assert len(compared) == 3

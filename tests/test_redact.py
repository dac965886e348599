"""The log filter masks every configured secret and any bot<token> path segment, in the
message, its arguments and the exception text, in both log formats."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from bridge.logs import setup_logging
from bridge.redact import Secrets, masked_url

TOKEN = "98765:AAH-redact_TOKEN-xyz12345"
SECRET = "whsec/with+odd=chars-0042"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_bot_path_segment_is_masked_even_for_a_token_never_configured() -> None:
    text = "Set Bot API URL: https://api.telegram.org/bot4242:UNKNOWN-token_9/getMe"
    assert Secrets().scrub(text) == "Set Bot API URL: https://api.telegram.org/bot4242:****/getMe"


def test_remembered_secrets_are_masked_also_url_encoded() -> None:
    secrets = Secrets()
    secrets.add(SECRET)
    assert secrets.scrub(f"a {SECRET} b") == "a **** b"
    assert secrets.scrub("a whsec%2Fwith%2Bodd%3Dchars-0042 b") == "a **** b"


def test_a_secret_containing_another_is_masked_whole_and_short_values_are_not() -> None:
    secrets = Secrets()
    secrets.add("abcd", "abcd-efgh-ijkl", "xyz", None)
    assert secrets.scrub("abcd-efgh-ijkl abcd xyz") == "**** **** xyz"


def test_a_proxy_url_shows_its_host_and_masks_its_credentials() -> None:
    assert masked_url("socks5h://shop:pa55@proxy:1080") == "socks5h://shop:****@proxy:1080"
    assert masked_url("http://tokenonly@proxy:3128") == "http://****@proxy:3128"
    assert masked_url("http://proxy:3128") == "http://proxy:3128"


@pytest.mark.parametrize("fmt", ["plain", "json"])
@pytest.mark.usefixtures("restore_logging")
def test_every_part_of_a_record_is_scrubbed(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    secrets = Secrets()
    secrets.add(TOKEN)
    setup_logging("DEBUG", fmt, secrets)
    log = logging.getLogger("telegram.ext.ExtBot")
    log.debug("Set Bot API URL: http://127.0.0.1:1/bot%s", TOKEN)
    try:
        raise RuntimeError(f"connect to http://127.0.0.1:1/bot{TOKEN}/getMe failed")
    except RuntimeError:
        log.warning("failed with %s", TOKEN, exc_info=True)
    written = capsys.readouterr().err
    assert "redact_TOKEN" not in written
    assert "bot98765:****" in written
    assert "Traceback" in written  # the exception is kept, scrubbed
    if fmt == "json":
        assert [json.loads(line)["logger"] for line in written.splitlines()[:1]] == [
            "telegram.ext.ExtBot"
        ]

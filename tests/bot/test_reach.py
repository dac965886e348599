"""The bridge's own texts about Telegram's failures are built from safe parts: with the log
filter out of the way, they still hold no token; health answers words, never texts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestClient
from telegram.error import InvalidToken, NetworkError

from bridge.bot.reach import Reach
from bridge.config import Settings
from bridge.keys import BOT
from bridge.redact import Secrets
from bridge.send.outcome import classify
from tests.helpers import eventually, free_port

TOKEN = "31337:AAH-reach_TOKEN-never-shown"


def _network_error() -> NetworkError:
    # What python-telegram-bot raises: its text quotes httpx's, which may quote the URL.
    try:
        try:
            raise OSError(f"cannot connect to http://127.0.0.1:1/bot{TOKEN}/getMe")
        except OSError as cause:
            raise NetworkError(f"httpx.ConnectError: {cause}") from cause
    except NetworkError as exc:
        return exc


def test_an_unreachable_line_holds_no_library_text() -> None:
    line = Reach("http://127.0.0.1:1").unreachable("getMe", _network_error())
    assert line.startswith("Telegram unreachable at http://127.0.0.1:1 (getMe: NetworkError < ")
    assert "reach_TOKEN" not in line


def test_a_proxy_line_names_the_setting_with_credentials_masked() -> None:
    reach = Reach("https://api.telegram.org", "socks5h://shop:****@proxy:1080")
    line = reach.unreachable("getUpdates", _network_error())
    assert "TELEGRAM_PROXY_URL=socks5h://shop:****@proxy:1080 (getUpdates" in line
    assert "reach_TOKEN" not in line


def test_a_rejected_token_is_named_without_quoting_it() -> None:
    try:
        try:
            raise InvalidToken("Unauthorized")
        except InvalidToken as cause:
            # python-telegram-bot's own wording when getMe is refused
            raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.") from cause
    except InvalidToken as exc:
        word, line = Reach("https://api.telegram.org").rejection(exc)
    assert word == "unauthorized"
    assert "TELEGRAM_BOT_TOKEN" in line
    assert "reach_TOKEN" not in line


def test_a_failed_send_keeps_no_token_in_its_error() -> None:
    """The error is stored with the message and printed by `woo-bridge dead-letters`."""
    assert "reach_TOKEN" not in classify(_network_error(), Secrets().scrub).error


async def test_health_answers_words_while_telegram_is_unreachable(
    make_settings: Callable[..., Settings],
    start_bridge: Callable[..., Awaitable[TestClient]],
) -> None:
    base = f"http://127.0.0.1:{free_port()}"
    client = await start_bridge(make_settings(telegram_api_base_url=base))
    await eventually(lambda: client.server.app[BOT].status == "unreachable")
    async with client.get("/healthz") as health:
        assert await health.json() == {
            "status": "degraded",
            "database": "ok",
            "telegram": "unreachable",
            "workers": "ok",
        }
    async with client.get("/readyz") as ready:
        assert ready.status == 503
        assert await ready.json() == {
            "status": "not ready",
            "database": "ok",
            "telegram": "unreachable",
            "workers": "ok",
        }

"""TELEGRAM_PROXY_URL: every Bot API call, long polling included, goes through the proxy;
a proxy that refuses is one readable line, and webhooks are still taken meanwhile."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient

from bridge.config import Settings
from bridge.keys import BOT
from tests.fakes.telegram import FakeTelegram
from tests.helpers import CHAT_ID, bot_ready, deliver, eventually, free_port, replies, wire
from tests.proxies import running_proxy

PASSWORD = "proxy-PASS-w0rd-7731"
STAFF_CHAT = -100777


@pytest.mark.parametrize(
    ("kind", "scheme"), [("connect", "http"), ("socks5", "socks5"), ("socks5", "socks5h")]
)
async def test_every_bot_api_call_goes_through_the_proxy(
    kind: str,
    scheme: str,
    make_settings: Callable[..., Settings],
    start_bridge: Callable[..., Awaitable[TestClient]],
    fake_telegram: FakeTelegram,
) -> None:
    async with running_proxy(kind, "shop", PASSWORD) as proxy:
        client = await start_bridge(make_settings(telegram_proxy_url=proxy.url(scheme)))
        await bot_ready(client)
        response = await deliver(client, "order.created", wire("order"))
        assert response.status == 200
        await fake_telegram.wait_for_messages(1)
        # A staff command arrives by long polling and is answered: both clients use the proxy.
        fake_telegram.send_command("/start", chat_id=STAFF_CHAT, user_id=7)
        await replies(fake_telegram, STAFF_CHAT, 1)
        assert {"getMe", "sendMessage", "getUpdates"} <= proxy.methods
        assert proxy.refused == 0
        await client.close()


@pytest.mark.parametrize("refusal", ["closed port", "wrong password"])
async def test_a_refusing_proxy_is_one_readable_line_and_intake_goes_on(
    refusal: str,
    make_settings: Callable[..., Settings],
    start_bridge: Callable[..., Awaitable[TestClient]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    async with running_proxy("connect", "shop", "another-password") as proxy:
        port = free_port() if refusal == "closed port" else proxy.port
        url = f"http://shop:{PASSWORD}@127.0.0.1:{port}"
        client = await start_bridge(make_settings(telegram_proxy_url=url))
        await eventually(lambda: client.server.app[BOT].status == "unreachable")
        response = await deliver(client, "order.created", wire("order"))
        assert response.status == 200
        async with client.get("/healthz") as health:
            assert (await health.json())["telegram"] == "unreachable"
        async with client.get("/readyz") as ready:
            assert ready.status == 503
        if refusal == "wrong password":
            assert proxy.refused >= 1
        await client.close()
    lines = [r.getMessage() for r in caplog.records if "TELEGRAM_PROXY_URL" in r.getMessage()]
    assert lines, caplog.text
    assert lines[0].startswith(
        f"cannot reach Telegram through the proxy TELEGRAM_PROXY_URL=http://shop:****@127.0.0.1:{port}"
    )
    assert "\n" not in lines[0]
    assert PASSWORD not in caplog.text


def test_check_shows_the_proxy_with_its_credentials_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bridge.cli import main

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abcdefghij")
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "whsec-0123456789")
    monkeypatch.setenv("TELEGRAM_PROXY_URL", f"socks5h://shop:{PASSWORD}@proxy.example:1080")
    monkeypatch.setenv("TELEGRAM_CHAT_ID", str(CHAT_ID))
    main(["check"])
    out = capsys.readouterr()
    assert "socks5h://shop:****@proxy.example:1080  (env)" in out.out
    assert PASSWORD not in out.out + out.err


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (f"ftp://shop:{PASSWORD}@proxy:21", "must start with one of http://, https://, socks5://"),
        (f"socks5://shop:{PASSWORD}@proxy", "must name the proxy's host and port"),
    ],
)
def test_a_wrong_proxy_url_is_refused_without_echoing_it(
    value: str, problem: str, make_settings: Callable[..., Settings]
) -> None:
    from bridge.config import ConfigError, load_settings

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TELEGRAM_BOT_TOKEN", "123:abcdefghij")
        patch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "whsec-0123456789")
        patch.setenv("TELEGRAM_PROXY_URL", value)
        with pytest.raises(ConfigError) as caught:
            load_settings(env_file=None)
    assert caught.value.problems[0].startswith(f"TELEGRAM_PROXY_URL: {problem}")
    assert PASSWORD not in str(caught.value)

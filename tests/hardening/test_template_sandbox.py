"""Templates run in Jinja2's sandbox: a template in BRIDGE_TEMPLATES_DIR cannot read the
environment (the bot token) nor run commands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from bridge.app import create_app
from bridge.config import Settings
from bridge.render.templates import TemplateProblem
from tests.fakes.telegram import FakeTelegram
from tests.helpers import deliver, eventually, wire

StartBridge = Callable[..., Awaitable[TestClient]]

ESCAPE = '{{ cycler.__init__.__globals__.os.environ.get("TELEGRAM_BOT_TOKEN") }}'
# The same escape through the attr filter: no attribute in the source, so only the
# sandbox can stop it when the template runs.
ESCAPE_BY_FILTER = (
    '{{ (cycler|attr("__init__")|attr("__globals__"))["os"].popen("echo ran > ran.txt").read() }}'
)


def templates(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "order.created.html").write_text(text, encoding="utf-8")
    return folder


def test_a_template_reading_python_internals_stops_the_start_with_its_line(
    make_settings: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(bridge_templates_dir=templates(tmp_path, f"Order\n{ESCAPE}"))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", settings.telegram_bot_token.get_secret_value())
    with pytest.raises(TemplateProblem) as caught:
        create_app(settings)
    assert "order.created.html, line 2: templates may not read '__init__'" in str(caught.value)
    assert settings.telegram_bot_token.get_secret_value() not in str(caught.value)


async def test_an_escape_the_start_cannot_see_fails_when_run_and_the_order_still_goes_out(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = templates(tmp_path, f"Order {ESCAPE_BY_FILTER}")
    client = await start_bridge(make_settings(bridge_templates_dir=folder))
    await deliver(client, "order.created", wire("order"))
    await eventually(lambda: len(fake_telegram.sent) == 1)
    assert "New order #727" in fake_telegram.sent[0].text  # the built-in template
    assert not (tmp_path / "ran.txt").exists()
    assert "template order.created.html failed" in caplog.text
    assert "no attribute '__globals__'" in caplog.text  # the sandbox hid it

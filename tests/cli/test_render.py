"""`woo-bridge render`: the message a payload becomes, as Telegram receives it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.payloads import parse_payload
from bridge.render.renderer import Renderer, RenderOptions
from bridge.render.telegram_html import MAX_MESSAGE_LENGTH, validate
from tests.helpers import PAYLOADS

ROOT = Path(__file__).resolve().parents[2]
ORDER = PAYLOADS / "order.json"


@pytest.fixture(autouse=True)
def _no_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout


def test_prints_the_html_telegram_receives(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--topic", "order.created", "--payload", str(ORDER)]) == 0
    out = capsys.readouterr()
    expected = Renderer().render(parse_payload("order.created", ORDER.read_bytes()), 1)
    assert out.out == expected.parts[0] + "\n"
    assert "rendered with order.created.html in en" in out.err


def test_language_and_buttons(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WOOCOMMERCE_STORE_URL", "https://shop.example.com")
    monkeypatch.setenv("WOOCOMMERCE_ORDER_ADMIN_URLS", "hpos")
    argv = ["render", "--topic", "order.created", "--payload", str(ORDER), "--language", "vi"]
    assert main(argv) == 0
    text, buttons = capsys.readouterr().out.split("--- buttons ---\n")
    assert text.startswith("🛒 <b>Đơn hàng mới #727</b> · Đang xử lý\n")
    validate(text, max_length=MAX_MESSAGE_LENGTH)
    assert buttons == (
        "[Mở trong trang quản trị] "
        "https://shop.example.com/wp-admin/admin.php?page=wc-orders&action=edit&id=727\n"
    )


def test_reads_the_payload_from_stdin_and_prints_visible_text(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    body = b'{"code":"woocommerce_rest_cannot_view","message":"No & no","data":{"status":401}}'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(body)))
    argv = ["render", "--topic", "product.updated", "--payload", "-", "--text"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("⚠️ WooCommerce sent an error instead of the data (product.updated)\n")
    assert "No & no woocommerce_rest_cannot_view (HTTP 401)" in out  # as shown, not as HTML


def test_a_long_message_prints_each_part(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The built-in templates shorten the note; a shop's may print it whole.
    (tmp_path / "order.created.html").write_text(
        "🛒 <b>New order #{{ order.number }}</b>\n{{ payload.customer_note }}", encoding="utf-8"
    )
    monkeypatch.setenv("BRIDGE_TEMPLATES_DIR", str(tmp_path))
    order = json.loads(ORDER.read_text()) | {"customer_note": "Call <first> & knock.\n" * 500}
    payload = tmp_path / "long.json"
    payload.write_text(json.dumps(order))
    assert main(["render", "--topic", "order.created", "--payload", str(payload)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("--- message 1 of 3 ---\n🛒 <b>New order #727</b>")
    parts = out.split("--- message ")[1:]
    assert [p.split(" ---\n")[0] for p in parts] == ["1 of 3", "2 of 3", "3 of 3"]
    for part in parts:
        validate(part.split(" ---\n", 1)[1].rstrip("\n"), max_length=MAX_MESSAGE_LENGTH)


def test_a_custom_topic_renders_with_a_note(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--topic", "order.create", "--payload", str(ORDER)]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("🔔 <b>order.create</b> #727")
    assert "rendered with default.html" in out.err
    assert "'order.create' is not a webhook topic" in out.err


@pytest.mark.parametrize(
    ("argv", "env", "status", "message"),
    [
        (["--payload", "missing.json"], {}, 1, "cannot read the payload missing.json"),
        (["--payload", str(ORDER), "--language", "xx"], {}, 2, "--language: 'xx' is not a"),
        (["--payload", str(ORDER)], {"BRIDGE_TIMEZONE": "Nowhere"}, 2, "BRIDGE_TIMEZONE: "),
    ],
)
def test_problems_are_explained(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    env: dict[str, str],
    status: int,
    message: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["render", "--topic", "order.created", *argv]) == status
    assert message in capsys.readouterr().err


def test_a_broken_template_is_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    templates = tmp_path / "mine"
    templates.mkdir()
    (templates / "order.created.html").write_text("{{ order.number | shout }}")
    monkeypatch.setenv("BRIDGE_TEMPLATES_DIR", str(templates))
    assert main(["render", "--topic", "order.created", "--payload", str(ORDER)]) == 2
    err = capsys.readouterr().err
    assert f"{templates / 'order.created.html'}, line 1" in err
    assert "shout" in err


def test_works_on_a_fresh_checkout_without_bot_settings(tmp_path: Path) -> None:
    argv = ["render", "--topic", "order.created", "--payload", str(ORDER), "--language", "pt_BR"]
    result = subprocess.run(
        [sys.executable, "-m", "bridge", *argv],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("🛒 <b>Novo pedido #727</b> · Processando")
    payload = parse_payload("order.created", ORDER.read_bytes())
    expected = Renderer(RenderOptions(language="pt_BR")).render(payload, 1)
    assert result.stdout == expected.parts[0] + "\n"

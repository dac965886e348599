"""`woo-bridge check`: actionable findings about the settings and every template."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.cli import main
from bridge.cli.check import CHECKS, Context, Level, check_renders, run_checks

TOKEN = "123456:SECRET-TOKEN-VALUE"


@pytest.fixture(autouse=True)
def _valid_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("WOOCOMMERCE_STORE_URL", "https://shop.example.com")


def overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    for name, source in files.items():
        (folder / name).write_text(source, encoding="utf-8")
    monkeypatch.setenv("BRIDGE_TEMPLATES_DIR", str(folder))
    return folder


def lines(out: str, level: str) -> list[str]:
    return [line.split(None, 1)[1] for line in out.splitlines() if line.startswith(level + " ")]


def test_a_good_configuration_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert lines(out, "error") == []
    assert lines(out, "warning") == []
    assert "the settings are valid" in lines(out, "ok")
    # 22 templates x 3 languages, each from a sample payload.
    assert "69 renders of sample payloads are valid Telegram HTML" in lines(out, "ok")
    assert out.endswith("0 error(s), 0 warning(s)\n")


def test_a_bad_setting_is_an_error_and_the_templates_are_still_checked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WOOCOMMERCE_WEBHOOK_SECRET")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "oops-SECRET-TOKEN-VALUE")
    assert main(["check"]) == 2
    out = capsys.readouterr().out
    assert lines(out, "error") == [
        "TELEGRAM_BOT_TOKEN: does not look like a bot token (expected 123456:ABC-...); "
        "ask @BotFather",
        "WOOCOMMERCE_WEBHOOK_SECRET: is required but not set",
    ]
    assert "SECRET-TOKEN-VALUE" not in out
    assert any("templates compile" in line for line in lines(out, "ok"))


def test_a_template_that_does_not_compile_is_named_with_its_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = overrides(monkeypatch, tmp_path, **{"order.created.html": "ok\n{% if %}"})
    assert main(["check"]) == 2
    [error] = lines(capsys.readouterr().out, "error")
    assert error.startswith(f"{folder / 'order.created.html'}, line 2: ")


def test_a_template_that_fails_at_run_time_is_named_with_line_and_language(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = 'Order {{ order.number }}\n{% if language == "vi" %}{{ order.nmber }}{% endif %}'
    folder = overrides(monkeypatch, tmp_path, **{"order.created.html": source})
    assert main(["check"]) == 2
    [error] = lines(capsys.readouterr().out, "error")
    assert error.startswith(f"{folder / 'order.created.html'}, line 2 (vi): UndefinedError")
    assert "nmber" in error


def test_a_template_rendering_html_telegram_refuses_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    overrides(monkeypatch, tmp_path, **{"coupon.updated.html": "<p>{{ coupon.code }}</p>"})
    findings = check_renders(Context.load())
    assert {f.level for f in findings} == {Level.ERROR}
    assert len(findings) == 3  # once per language
    assert all("unsupported tag <p>" in f.text for f in findings)


@pytest.mark.parametrize(
    ("env", "warning"),
    [
        ({"WOOCOMMERCE_STORE_URL": ""}, 'WOOCOMMERCE_STORE_URL is not set: messages have no "Open'),
        (
            {"WOOCOMMERCE_STORE_URL": "http://localhost:8080"},
            "WOOCOMMERCE_STORE_URL: Telegram refuses buttons that link to localhost",
        ),
        ({"BRIDGE_LANGUAGE": "fr"}, "BRIDGE_LANGUAGE=fr: no translation exists"),
    ],
)
def test_what_works_but_not_as_intended_is_a_warning(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    warning: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["check"]) == 0
    [found] = lines(capsys.readouterr().out, "warning")
    assert found.startswith(warning)


def test_a_template_no_topic_would_use_is_a_warning(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = overrides(
        monkeypatch,
        tmp_path,
        **{
            "order.crated.html": "x",
            "order.created.html": "ok",
            "action.woocommerce_payment_complete.html": "paid",
            "_mine.html": "{% macro m() %}m{% endmacro %}",
        },
    )
    assert main(["check"]) == 0
    [warning] = lines(capsys.readouterr().out, "warning")
    assert warning.startswith(f"{folder / 'order.crated.html'}: no topic is called 'order.crated'")


def test_each_check_runs_on_its_own() -> None:
    context = Context(settings_problems=["X: broken"])
    findings = run_checks(context)
    assert findings[0].level is Level.ERROR
    assert len(CHECKS) == 6
    assert {f.level for f in findings[1:]} <= {Level.OK, Level.WARNING}

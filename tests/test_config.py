"""Settings: names, parsing, and errors that never show a secret."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bridge.config import ConfigError, load_message_settings, load_settings

TOKEN = "123456:SECRET-TOKEN-VALUE"


def test_reads_the_documented_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("TELEGRAM_CHAT_ID", "-100200")
    monkeypatch.setenv("TELEGRAM_ADMIN_IDS", "1, 2,3")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://localhost:8081/")
    monkeypatch.setenv("BRIDGE_DATA_DIR", "/tmp/x")
    monkeypatch.setenv("BRIDGE_PORT", "8443")
    settings = load_settings(env_file=None)
    assert settings.telegram_chat_id == -100200
    assert settings.telegram_admin_ids == frozenset({1, 2, 3})
    assert settings.telegram_api_base_url == "http://localhost:8081"
    assert settings.bridge_port == 8443
    assert settings.database_path == Path("/tmp/x/bridge.sqlite3")
    assert settings.bridge_host == "0.0.0.0"  # noqa: S104


def test_env_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nWOOCOMMERCE_WEBHOOK_SECRET=abc\n")
    assert load_settings(env_file=env).woocommerce_webhook_secret.get_secret_value() == "abc"


def test_missing_settings_are_named_one_per_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    assert caught.value.problems == [
        "TELEGRAM_BOT_TOKEN: is required but not set",
        "WOOCOMMERCE_WEBHOOK_SECRET: is required but not set",
    ]


def test_errors_never_echo_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "not-a-token-SECRETVALUE")
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "hunter2-SECRETVALUE")
    monkeypatch.setenv("BRIDGE_PORT", "eighty")
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    text = str(caught.value)
    assert "SECRETVALUE" not in text
    assert "TELEGRAM_BOT_TOKEN: does not look like a bot token" in text
    assert "BRIDGE_PORT:" in text


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("WOOCOMMERCE_WEBHOOK_SECRET", "", "WOOCOMMERCE_WEBHOOK_SECRET: is empty"),
        ("TELEGRAM_ADMIN_IDS", "alice,bob", "TELEGRAM_ADMIN_IDS: expected comma-separated"),
        ("TELEGRAM_API_BASE_URL", "api.telegram.org", "TELEGRAM_API_BASE_URL: must start with"),
        ("BRIDGE_LANGUAGE", "klingon", "BRIDGE_LANGUAGE: 'klingon' is not a language code; use"),
        ("BRIDGE_TIMEZONE", "Mars/Base", "BRIDGE_TIMEZONE: 'Mars/Base' is not a time zone; use"),
        ("BRIDGE_TEMPLATES_DIR", "/no/such/folder", "BRIDGE_TEMPLATES_DIR: /no/such/folder is not"),
        ("WOOCOMMERCE_STORE_URL", "shop.example.com", "WOOCOMMERCE_STORE_URL: the store URL is"),
        ("WOOCOMMERCE_ORDER_ADMIN_URLS", "new", "WOOCOMMERCE_ORDER_ADMIN_URLS: Input should be"),
        ("WOOCOMMERCE_CURRENCY", "dollars", "WOOCOMMERCE_CURRENCY: 'dollars' is not a currency"),
    ],
)
def test_invalid_values_say_what_to_do(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "abc")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems


def test_serve_refuses_to_start_without_secret(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "serve"],
        cwd=tmp_path,
        env={"TELEGRAM_BOT_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "WOOCOMMERCE_WEBHOOK_SECRET: is required but not set" in result.stderr
    assert TOKEN not in result.stderr + result.stdout


def test_message_settings_are_read_and_normalised(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BRIDGE_LANGUAGE", "pt-br")
    monkeypatch.setenv("BRIDGE_TIMEZONE", "America/Sao_Paulo")
    monkeypatch.setenv("BRIDGE_TEMPLATES_DIR", str(tmp_path))
    monkeypatch.setenv("WOOCOMMERCE_STORE_URL", "https://shop.example.com/loja/")
    monkeypatch.setenv("WOOCOMMERCE_ORDER_ADMIN_URLS", "hpos")
    monkeypatch.setenv("WOOCOMMERCE_CURRENCY", " brl ")
    # The message settings alone need neither the bot token nor the webhook secret.
    settings = load_message_settings(env_file=None)
    assert settings.bridge_language == "pt_BR"
    assert settings.timezone.key == "America/Sao_Paulo"
    assert settings.bridge_templates_dir == tmp_path
    assert settings.woocommerce_store_url == "https://shop.example.com/loja"
    assert settings.woocommerce_order_admin_urls == "hpos"
    assert settings.woocommerce_currency == "BRL"


def test_message_settings_have_working_defaults() -> None:
    settings = load_message_settings(env_file=None)
    assert settings.bridge_language == "en"
    assert settings.bridge_timezone == "UTC"
    assert settings.woocommerce_store_url is None
    assert settings.woocommerce_order_admin_urls == "classic"
    assert settings.woocommerce_currency is None


def test_docker_secrets_are_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "telegram_bot_token").write_text(TOKEN + "\n")
    (secrets / "WOOCOMMERCE_WEBHOOK_SECRET").write_text("from-docker")
    monkeypatch.setenv("BRIDGE_SECRETS_DIR", str(secrets))
    settings = load_settings(env_file=None)
    assert settings.telegram_bot_token.get_secret_value() == TOKEN
    assert settings.woocommerce_webhook_secret.get_secret_value() == "from-docker"
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "from-env")
    assert load_settings(env_file=None).woocommerce_webhook_secret.get_secret_value() == "from-env"

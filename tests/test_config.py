"""Settings: names, parsing, and errors that never show a secret."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bridge.config import (
    ConfigError,
    load_message_settings,
    load_settings,
    load_storage_settings,
    setting_origins,
)

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


# --- the BRIDGE_CONFIG file's [settings], and the precedence of every source ----------------

#: each source, highest first, with the BRIDGE_LANGUAGE it gives in the precedence tests
LEVELS = {"env": "vi", ".env": "pt_BR", "secret": "fr", "file": "de"}


def give(level: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Set BRIDGE_LANGUAGE in one source."""
    value = LEVELS[level]
    if level == "env":
        monkeypatch.setenv("BRIDGE_LANGUAGE", value)
    elif level == ".env":
        (tmp_path / ".env").write_text(f"BRIDGE_LANGUAGE={value}\n")
    elif level == "secret":
        (tmp_path / "secrets" / "bridge_language").write_text(value)
    else:
        (tmp_path / "bridge.toml").write_text(f'[settings]\nbridge_language = "{value}"\n')


@pytest.fixture
def sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every source present and empty; returns the .env path."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "abc")
    (tmp_path / "secrets").mkdir()
    monkeypatch.setenv("BRIDGE_SECRETS_DIR", str(tmp_path / "secrets"))
    (tmp_path / "bridge.toml").write_text("")
    monkeypatch.setenv("BRIDGE_CONFIG", str(tmp_path / "bridge.toml"))
    return tmp_path / ".env"


@pytest.mark.parametrize(
    ("higher", "lower"), [("env", ".env"), (".env", "secret"), ("secret", "file")]
)
def test_each_source_wins_over_the_next(
    sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, higher: str, lower: str
) -> None:
    give(lower, tmp_path, monkeypatch)
    assert load_settings(env_file=sources).bridge_language == LEVELS[lower]
    give(higher, tmp_path, monkeypatch)
    assert load_settings(env_file=sources).bridge_language == LEVELS[higher]
    assert setting_origins(env_file=sources)["bridge_language"] == higher


def test_the_file_wins_over_the_default(
    sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings(env_file=sources).bridge_language == "en"
    assert setting_origins(env_file=sources)["bridge_language"] == "default"
    give("file", tmp_path, monkeypatch)
    assert load_settings(env_file=sources).bridge_language == "de"
    assert setting_origins(env_file=sources)["bridge_language"] == "file"


def test_bridge_config_may_come_from_dot_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text(
        "[settings]\nTELEGRAM_BOT_TOKEN = '123456:FROM-FILE'\nwoocommerce_webhook_secret = 'x'\n"
        "BRIDGE_PORT = 9000\ntelegram_admin_ids = [1, 2]\nbridge_digest_topics = ['order.*']\n"
    )
    env = tmp_path / ".env"
    env.write_text(f"BRIDGE_CONFIG={config}\n")
    settings = load_settings(env_file=env)
    assert settings.bridge_config == config
    assert settings.bridge_port == 9000
    assert settings.telegram_admin_ids == frozenset({1, 2})
    assert settings.bridge_digest_topics == ("order.*",)
    assert settings.telegram_bot_token.get_secret_value() == "123456:FROM-FILE"
    origins = setting_origins(env_file=env)
    assert (origins["bridge_config"], origins["bridge_port"]) == (".env", "file")


def test_the_commands_that_need_only_some_settings_read_the_file_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text(f'[settings]\nbridge_language = "vi"\nbridge_data_dir = "{tmp_path}"\n')
    monkeypatch.setenv("BRIDGE_CONFIG", str(config))
    assert load_message_settings(env_file=None).bridge_language == "vi"  # woo-bridge render
    assert load_storage_settings(env_file=None).bridge_data_dir == tmp_path  # dead-letters


def test_a_value_from_the_file_is_checked_like_any_other(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text('[settings]\nbridge_port = "eighty"\n')
    monkeypatch.setenv("BRIDGE_CONFIG", str(config))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "abc")
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    assert [p.split(":")[0] for p in caught.value.problems] == ["BRIDGE_PORT"]


# --- the webhook secret: required without [[stores]], and its previous value --------------


def test_the_webhook_secret_is_optional_when_the_file_defines_stores(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    config = tmp_path / "bridge.toml"
    monkeypatch.setenv("BRIDGE_CONFIG", str(config))
    config.write_text('[[stores]]\nname = "br"\nsecret = "s"\n')
    assert load_settings(env_file=None).woocommerce_webhook_secret is None
    # A file with no store leaves it required, with the usual line.
    config.write_text('[settings]\nbridge_language = "vi"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    assert caught.value.problems == ["WOOCOMMERCE_WEBHOOK_SECRET: is required but not set"]


def test_a_previous_secret_needs_the_current_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    config = tmp_path / "bridge.toml"
    config.write_text('[[stores]]\nname = "br"\nsecret = "s"\n')
    monkeypatch.setenv("BRIDGE_CONFIG", str(config))
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_PREVIOUS_SECRET", "old-SECRETVALUE")
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    [problem] = caught.value.problems
    assert problem.startswith(
        "WOOCOMMERCE_WEBHOOK_PREVIOUS_SECRET: is set but WOOCOMMERCE_WEBHOOK_SECRET is not"
    )
    assert "SECRETVALUE" not in problem
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "new")
    assert load_settings(env_file=None).woocommerce_webhook_previous_secret is not None
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_PREVIOUS_SECRET", "")  # rotation over
    assert load_settings(env_file=None).woocommerce_webhook_previous_secret is None


def test_serve_refuses_an_unknown_key_in_the_file(tmp_path: Path) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text('[settings]\nbridge_langauge = "vi"\n')
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "serve"],
        cwd=tmp_path,
        env={
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "WOOCOMMERCE_WEBHOOK_SECRET": "abc",
            "BRIDGE_CONFIG": str(config),
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(Path(__file__).parents[1]),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert (
        f"  {config}: [settings] bridge_langauge: is not a setting (did you mean bridge_language?)"
        in result.stderr
    )

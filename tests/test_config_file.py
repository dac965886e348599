"""The BRIDGE_CONFIG file itself: what it may hold, and how it says what is wrong."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bridge.app import create_app
from bridge.config import ConfigError, load_message_settings, load_settings, load_storage_settings
from tests.helpers import doc_block


def test_only_the_three_tables_are_known(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text('[setting]\nbridge_language = "vi"\n')
    monkeypatch.setenv("BRIDGE_CONFIG", str(config))
    with pytest.raises(ConfigError) as caught:
        load_message_settings(env_file=None)
    assert caught.value.problems == [
        f"{config}: setting: is not a known key; the file holds a [settings] table, [[stores]] "
        "and [[routes]] tables only"
    ]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            'bridge_log_levl = "DEBUG"',
            "[settings] bridge_log_levl: is not a setting (did you mean bridge_log_level?); the "
            "keys are the variables of the configuration table (docs/configuration.md), e.g. "
            'bridge_log_level = "DEBUG"; correct or remove it',
        ),
        ('colour = "red"', "[settings] colour: is not a setting; the keys are"),
        (
            'bridge_config = "other.toml"',
            "[settings] bridge_config: BRIDGE_CONFIG names this file, so the file cannot set it; "
            "set it in the environment or in .env",
        ),
        (
            "bridge_port = 1\nBRIDGE_PORT = 2",
            "[settings] BRIDGE_PORT: is given twice (names are case-insensitive); keep one",
        ),
    ],
)
def test_a_key_that_is_no_setting_is_refused_with_file_key_and_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, table: str, expected: str
) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text(f"[settings]\n{table}\n")
    monkeypatch.setenv("BRIDGE_CONFIG", str(config))
    for load in (load_settings, load_message_settings, load_storage_settings):
        with pytest.raises(ConfigError) as caught:
            load(env_file=None)
        [problem] = caught.value.problems
        assert problem.startswith(f"{config}: {expected}")


def test_a_settings_key_that_is_not_a_table_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text('settings = "debug"\n')
    monkeypatch.setenv("BRIDGE_CONFIG", str(config))
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    assert caught.value.problems == [
        f"{config}: settings: write it as one [settings] table of name = value lines"
    ]


def test_the_readme_example_sets_what_it_says(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "bridge.toml"
    config.write_text(doc_block("docs/configuration.md", "## The configuration file", "toml"))
    monkeypatch.setenv("BRIDGE_CONFIG", str(config))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:ABC")
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "abc")
    settings = load_settings(env_file=None)
    assert (settings.bridge_language, settings.bridge_timezone) == ("vi", "Asia/Ho_Chi_Minh")
    assert settings.telegram_admin_ids == frozenset({12345, 67890})
    monkeypatch.setenv("BRIDGE_LANGUAGE", "pt_BR")  # the environment wins over the file
    assert load_settings(env_file=None).bridge_language == "pt_BR"


def test_the_file_is_parsed_once_per_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings, stores and routes all read the file; its TOML is parsed once."""
    config = tmp_path / "bridge.toml"
    config.write_text(
        '[settings]\nbridge_language = "vi"\n\n'
        '[[stores]]\nname = "shop-parsed-once"\nsecret = "s"\n\n'
        '[[routes]]\nchat_id = -1001\ntopics = ["order.*"]\n'
    )
    monkeypatch.setenv("BRIDGE_CONFIG", str(config))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("BRIDGE_DATA_DIR", str(tmp_path / "data"))
    parses: list[str] = []
    loads = tomllib.loads

    def counting(text: str) -> dict[str, object]:
        parses.append(text)
        return loads(text)

    monkeypatch.setattr(tomllib, "loads", counting)
    settings = load_settings(env_file=None)
    create_app(settings)
    assert settings.bridge_language == "vi"
    assert len(parses) == 1

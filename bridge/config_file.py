"""The BRIDGE_CONFIG file: one TOML file with a [settings] table, [[stores]] and [[routes]].

Its [settings] are the lowest source of settings (below the environment, .env and Docker
secrets); the stores and routes are read by bridge.config_stores and bridge.config_routes.
"""

from __future__ import annotations

import copy
import difflib
import functools
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource


class ConfigError(Exception):
    """The configuration cannot be used; `problems` holds one actionable line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


#: the tables a BRIDGE_CONFIG file may hold
FILE_TABLES = ("settings", "stores", "routes")
#: where a setting's value can come from, highest precedence first
ORIGINS = ("env", ".env", "secret", "file", "default")


def read_config_file(path: Path) -> dict[str, Any]:
    """The BRIDGE_CONFIG file, parsed; raises ConfigError saying what to fix.

    The settings, the stores and the routes each ask for the file, while it is parsed
    once per content: the parse is cached by the text, so an edited file is read anew.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [f"BRIDGE_CONFIG: cannot read {path} ({exc.strerror or exc}); check the path"]
        ) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: is not UTF-8 text; save it as UTF-8"]) from None
    # A copy: the cached parse must stay as the file says, whatever a caller does.
    return copy.deepcopy(_parse(path, text))


@functools.lru_cache(maxsize=4)
def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: is not valid TOML: {exc}"]) from None
    unknown = [key for key in data if key not in FILE_TABLES]
    if unknown:
        raise ConfigError(
            [
                f"{path}: {key}: is not a known key; the file holds a [settings] table, "
                "[[stores]] and [[routes]] tables only"
                for key in unknown
            ]
        )
    return data


def defines_stores(path: Path | None) -> bool:
    """Whether the BRIDGE_CONFIG file has [[stores]] (its mistakes are reported elsewhere)."""
    if path is None:
        return False
    try:
        stores = read_config_file(path).get("stores")
    except ConfigError:
        return False
    return isinstance(stores, list) and bool(stores)


def settings_table(path: Path, known: Collection[str]) -> dict[str, Any]:
    """The [settings] table of the BRIDGE_CONFIG file, keyed by field name.

    Its keys are the variables' names, in any case. An unknown key is refused rather than
    ignored: a misspelt setting would otherwise silently keep its default.
    """
    table = read_config_file(path).get("settings", {})
    if not isinstance(table, dict):
        raise ConfigError(
            [f"{path}: settings: write it as one [settings] table of name = value lines"]
        )
    names = list(known)
    values: dict[str, Any] = {}
    problems = []
    for key, value in table.items():
        name = key.lower()
        where = f"{path}: [settings] {key}"
        if name == "bridge_config":
            problems.append(
                f"{where}: BRIDGE_CONFIG names this file, so the file cannot set it; set it "
                "in the environment or in .env"
            )
        elif name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(
                f"{where}: is not a setting{hint}; the keys are the variables of the "
                "configuration table (docs/configuration.md), e.g. "
                'bridge_log_level = "DEBUG"; correct or remove it'
            )
        elif name in values:
            problems.append(f"{where}: is given twice (names are case-insensitive); keep one")
        else:
            values[name] = value
    if problems:
        raise ConfigError(problems)
    return values


class FileSettingsSource(PydanticBaseSettingsSource):
    """The [settings] table of the BRIDGE_CONFIG file: below every other source."""

    def __init__(
        self, settings_cls: type[BaseSettings], path: Path | None, known: Collection[str]
    ) -> None:
        """`known` are the names of every setting, `settings_cls` may read only some."""
        super().__init__(settings_cls)
        self._values = {} if path is None else settings_table(path, known)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        fields = self.settings_cls.model_fields
        return {name: value for name, value in self._values.items() if name in fields}

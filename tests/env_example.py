"""Writes .env.example from the Settings model: every variable, with its default.

    python -m tests.env_example > .env.example

tests/test_packaging.py fails when the file and the model part ways.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from bridge.config import Settings

#: what every setup must set, here or as Docker secrets (an empty line here would hide the secret)
REQUIRED = ("telegram_bot_token", "woocommerce_webhook_secret", "telegram_chat_id")

HEADER = """\
# woo-telegram-bridge: every setting, with its default. Copy it to .env and set the
# first three; docs/configuration.md says what each one does. Every line
# is commented: the value shown is the default (none shown: unset), so a copy of this
# file changes nothing until a line is uncommented, not even the image's own
# BRIDGE_DATA_DIR=/data.
# Generated from the Settings model: python -m tests.env_example > .env.example
"""

FOOTER = """
# Read from the environment only, never from this file: where Docker secrets are looked
# for (files named like the variables above).
# BRIDGE_SECRETS_DIR=/run/secrets
"""


def env_value(value: Any) -> str:
    """A default as the bridge reads it back from a variable."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, frozenset):
        return ",".join(sorted(map(str, value)))
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def render() -> str:
    """The content of .env.example."""
    fields = Settings.model_fields
    lines = [HEADER, "# Required: uncomment and set, or give them as Docker secrets"]
    lines += [f"# {name.upper()}=" for name in REQUIRED]
    lines += ["", "# Optional, with their defaults"]
    for name, field in fields.items():
        if name in REQUIRED:
            continue
        default = field.get_default(call_default_factory=True)
        shown = "" if default is None else env_value(default)
        lines.append(f"# {name.upper()}={shown}")
    return "\n".join(lines) + "\n" + FOOTER


if __name__ == "__main__":
    print(render(), end="")

"""A Docker secret file the bridge cannot read: one line naming it and exit status 2, from
`check` and from `serve`, never a traceback; also when the variable is set as well."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import free_port

TOKEN = "55123:AAH-secret-file-TOKEN-8812"


# Root reads every file; without these two capabilities it is refused like anyone else.
_AS_ROOT_WITHOUT_OVERRIDE = [
    "setpriv",
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
]


def _unreadable(path: Path, how: str) -> list[str]:
    """Make `path` a secret file that cannot be read; returns the command's prefix."""
    if how == "not UTF-8":
        path.write_bytes(b"\xff\xfe" + TOKEN.encode())
        return []
    path.write_text(TOKEN)
    path.chmod(0)
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv, which could drop the right to read all")
    return _AS_ROOT_WITHOUT_OVERRIDE


@pytest.mark.parametrize("command", ["check", "serve"])
@pytest.mark.parametrize("how", ["not readable", "not UTF-8"])
def test_an_unreadable_secret_file_is_one_line_and_exit_2(
    command: str, how: str, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    token_file = secrets / "telegram_bot_token"
    prefix = _unreadable(token_file, how)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "BRIDGE_SECRETS_DIR": str(secrets),
        # Set in the environment as well, which wins: the file still must not crash the start.
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "WOOCOMMERCE_WEBHOOK_SECRET": "whsec-0123456789",
        "BRIDGE_DATA_DIR": str(tmp_path / "data"),
        "BRIDGE_HOST": "127.0.0.1",
        "BRIDGE_PORT": str(free_port()),
    }
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "bridge", command],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if str(token_file) in line]
    assert len(lines) == 1, output
    assert (
        lines[0]
        .strip()
        .removeprefix("error")
        .strip()
        .startswith(f"TELEGRAM_BOT_TOKEN (Docker secret {token_file}): ")
    )
    assert TOKEN.split(":")[1] not in output

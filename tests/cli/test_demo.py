"""`woo-bridge demo`, run as a newcomer would: no settings, no network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", "demo", *args],
        env={"PATH": os.environ.get("PATH", ""), "BRIDGE_SECRETS_DIR": "/nonexistent"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_demo_shows_each_chat_its_messages(tmp_path: Path) -> None:
    result = demo(tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "200  ping" in out
    assert "duplicate" in out
    assert "401  order.created" in out
    assert "── Telegram chat “Orders” (-1001): 2 message(s) ──" in out
    assert "── Telegram chat “Stock” (-1002): 1 message(s) ──" in out
    assert "── Telegram chat “Admins” (-1003): 3 message(s) ──" in out
    assert "New order #727" in out
    assert "Order #727: Processing → Completed" in out
    assert "[ Open in admin ] → https://shop.example.com/wp-admin/post.php?post=727" in out
    assert "6 messages in 3 chats" in out
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_the_demo_speaks_the_chosen_language(tmp_path: Path) -> None:
    result = demo(tmp_path, "--language", "pt_BR", "--html")
    assert result.returncode == 0, result.stderr
    assert "<b>Novo pedido #727</b>" in result.stdout

"""Real storage faults: a full disk, a read-only data directory. Nothing is acknowledged
that was not stored, and /healthz says what is wrong. (A locked database is in
test_handler.py.)

The faults are made with a small tmpfs, which needs root; elsewhere these tests skip.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from bridge.config import Settings
from tests.helpers import deliver, free_port, wire

StartBridge = Callable[..., object]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB filesystem of its own, unmounted afterwards."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("needs permission to mount a tmpfs (run as root)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(directory: Path) -> None:
    """Take every free byte of the filesystem `directory` is on."""
    with (directory / "filler").open("wb") as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError:
            pass


def large_order(n: int) -> bytes:
    # Large enough that the write-ahead log has to grow to take it.
    return (
        wire("order")
        .replace(b'"id":727', b'"id":%d' % n)
        .replace(b'"customer_note":""', b'"customer_note":"' + b"x" * 200_000 + b'"')
    )


async def test_full_disk_answers_503_and_health_says_so(
    start_bridge: StartBridge, make_settings: Callable[..., Settings], small_disk: Path
) -> None:
    client: TestClient = await start_bridge(make_settings(bridge_data_dir=small_disk))  # type: ignore[assignment]
    assert (await deliver(client, "order.created", large_order(1))).status == 200
    fill(small_disk)
    response = await deliver(client, "order.created", large_order(2))
    assert response.status == 503
    health = await client.get("/healthz")
    assert health.status == 200  # alive
    assert "full" in (await health.json())["database"]
    assert (await client.get("/readyz")).status == 503
    (small_disk / "filler").unlink()
    assert (await deliver(client, "order.created", large_order(2))).status == 200
    assert (await client.get("/readyz")).status == 200


def test_read_only_data_directory_stops_the_start_with_a_clear_message(small_disk: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "serve"],
        env={
            "PATH": "/usr/bin:/bin",
            "TELEGRAM_BOT_TOKEN": "123456:ABC",
            "WOOCOMMERCE_WEBHOOK_SECRET": "s",
            "BRIDGE_DATA_DIR": str(small_disk / "data"),
            "BRIDGE_PORT": str(free_port()),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "BRIDGE_DATA_DIR" in result.stderr
    assert "Read-only file system" in result.stderr

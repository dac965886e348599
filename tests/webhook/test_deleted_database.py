"""The database file deleted (or replaced) under a running bridge: nothing more is
acknowledged into a file that no longer exists, and the health endpoints say so."""

from __future__ import annotations

import shutil
from pathlib import Path

from aiohttp.test_utils import TestClient

from bridge.keys import SETTINGS
from tests.fakes.telegram import FakeTelegram
from tests.helpers import deliver, numbered_order, order_numbers


def database_files(client: TestClient) -> list[Path]:
    path: Path = client.server.app[SETTINGS].database_path
    return [path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm")]


async def assert_refused_and_reported(client: TestClient) -> None:
    response = await deliver(client, "order.created", numbered_order(2))
    assert response.status == 503
    health = await client.get("/healthz")
    assert health.status == 200  # alive
    assert (await health.json())["database"] == "missing"
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["database"] == "missing"


async def test_a_deleted_database_answers_503_and_health_says_missing(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    assert (await deliver(bridge, "order.created", numbered_order(1))).status == 200
    await fake_telegram.wait_for_messages(1)
    for path in database_files(bridge):
        path.unlink(missing_ok=True)
    await assert_refused_and_reported(bridge)
    assert order_numbers(fake_telegram.sent) == [1]


async def test_a_file_put_back_in_its_place_is_not_the_one_opened(
    bridge: TestClient, tmp_path: Path
) -> None:
    assert (await deliver(bridge, "order.created", numbered_order(1))).status == 200
    main = database_files(bridge)[0]
    shutil.copy(main, tmp_path / "copy")
    main.unlink()
    shutil.copy(tmp_path / "copy", main)  # e.g. a backup restored while the bridge runs
    await assert_refused_and_reported(bridge)

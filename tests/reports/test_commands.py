"""`woo-bridge backfill` fills the ledger from the REST API; `woo-bridge report` prints the
report and writes its chart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bridge.cli import main
from tests.fakes.woocommerce import FakeStore
from tests.recovery.conftest import gmt, shop_order
from tests.recovery.test_reconcile_command import environment as environment


async def test_backfill_then_report_with_a_chart(
    environment: Path,
    fake_shop: FakeStore,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_shop.put_order(shop_order(21, "completed", modified=gmt(3 * 86400)))
    fake_shop.put_order(shop_order(22, "processing", modified=gmt(3600)))
    fake_shop.put_order(shop_order(23, "cancelled", modified=gmt(1800)))
    fake_shop.put_order(shop_order(24, "completed", modified=gmt(100 * 86400)))  # too old

    status = await asyncio.to_thread(main, ["backfill", "--days", "90"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "default: 3 order(s) written to the orders ledger" in out
    assert fake_shop.consumer_secret not in out + err

    chart = tmp_path / "report.png"
    status = await asyncio.to_thread(main, ["report", "--period", "7d", "--output", str(chart)])
    out, err = capsys.readouterr()
    assert status == 0, err
    # the sample order: 29.35 USD; two paid, one cancelled apart
    assert "Orders: 2" in out
    assert "Revenue: $58.70" in out
    assert "Left out: Cancelled 1" in out
    assert "New customers: 1" in out  # the same guest e-mail on every order
    assert "1. Woo Single #1 · 4" in out
    assert "1. Ship Your Idea – Color: Black, Size: M Test · $24.00" in out
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


async def test_report_names_a_bad_period_and_store(
    environment: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await asyncio.to_thread(main, ["report", "--period", "fortnight"]) == 2
    assert "unknown period 'fortnight'" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["report", "--store", "nope"]) == 2
    assert "no store is named 'nope' (stores: default)" in capsys.readouterr().err

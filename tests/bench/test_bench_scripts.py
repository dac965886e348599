"""Each benchmark still runs: a tiny size of every script, as a real subprocess.

The figures themselves are not asserted (timing is measured by hand, see bench/);
only that each script finishes and prints them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.postgres import TEST_PASSWORD, PostgresServer

REPO = Path(__file__).resolve().parents[2]


def run_bench(module: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Machine: " in result.stdout
    return result.stdout


@pytest.mark.parametrize(
    ("module", "args", "figures"),
    [
        (
            "ingest",
            ["--requests", "60", "--rounds", "2", "--rate", "200", "--rate-requests", "20"],
            [
                "requests/s, 32 concurrent",
                "p99 ms at 200/s",
                "server CPU per delivery at 200/s",
                "acknowledged / committed",
            ],
        ),
        ("end_to_end", ["--events", "20", "--rate", "100"], ["p50 ms, webhook to Telegram"]),
        ("store", ["--events", "50", "--rounds", "2"], ["| 2 | ", "CPU per event, µs"]),
        (
            "drain",
            ["--size", "12", "--chats", "6"],
            [
                "drain time s",
                "token buckets allow s",
                "documented limits allow s",
                "| 429 answers | 0 |",
            ],
        ),
        (
            "memory",
            ["--events", "40", "--rounds", "2", "--idle-seconds", "0"],
            ["RSS idle MiB", "RSS after 40 events MiB"],
        ),
        ("startup", ["--runs", "1"], ["launch to /healthz 200 s"]),
        (
            "scrape",
            ["--queued", "20", "--requests", "20", "--rate", "100", "--scrapers", "2"],
            ["webhook p99 ms", "scrape p50 ms"],
        ),
        (
            "reconcile",
            ["--orders", "150"],
            ["REST calls", "first pass: 150 orders new", "| 2 | 150 |", "listing alone"],
        ),
        ("report", ["--orders", "300", "--rounds", "1"], ["30-day report ms", "chart PNG bytes"]),
        (
            "free_text",
            ["--notes", "1", "--probes", "5", "--note-bytes", "20000"],
            ["20,000-byte note, built-in templates", "small deliveries while 1 orders"],
        ),
    ],
)
def test_benchmark_runs_and_prints_its_figures(
    module: str, args: list[str], figures: list[str]
) -> None:
    output = run_bench(module, *args)
    for figure in figures:
        assert figure in output, figure


@pytest.mark.parametrize(
    ("module", "args", "figures"),
    [
        ("drain", ["--size", "12", "--chats", "6"], ["PostgreSQL", "| 429 answers | 0 |"]),
        (
            "failover",
            ["--runs", "1", "--seconds", "1.5", "--rate", "10", "--poll", "0.2"],
            ["| 1 | ", "Acknowledged deliveries lost: 0."],
        ),
    ],
)
def test_benchmark_runs_on_postgres(
    module: str, args: list[str], figures: list[str], postgres_server: PostgresServer
) -> None:
    # ingest and end_to_end pass the same option the same way; these two use PostgreSQL most.
    output = run_bench(module, *args, "--database-url", postgres_server.admin_url)
    for figure in figures:
        assert figure in output, figure
    assert TEST_PASSWORD not in output


def test_compare_runs_a_checkout_beside_the_durable_receiver() -> None:
    out = run_bench("compare", str(REPO), "--requests", "60", "--rounds", "1")
    assert "round 1, bridge 1: " in out
    assert "round 1, durable: " in out
    assert "bridge 1: " in out.split("medians:")[1]
    assert not (REPO / "durable.log").exists()  # logs stay in the run's own directory

"""`woo-bridge dead-letters`: list the messages that will not be sent unless replayed."""

from __future__ import annotations

import argparse
import asyncio
import time

from bridge.cli.common import EXIT_CONFIG, open_store_or_report
from bridge.queue.models import DeadLetter

NAME = "dead-letters"
HELP = "list dead letters (messages that failed for good), newest first"
DESCRIPTION = """List dead letters: messages that failed for good, newest first.

Each line shows the message's id (for `woo-bridge replay --id`), its chat, topic,
tries, how long ago it failed and the last error. Reads BRIDGE_DATA_DIR's queue."""
EPILOG = """\
examples:
  woo-bridge dead-letters
  woo-bridge dead-letters --limit 10
  docker exec woo-bridge woo-bridge dead-letters
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=50, help="how many to show (default 50)")


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_list(args.limit))


async def _list(limit: int) -> int:
    store = await open_store_or_report()
    if store is None:
        return EXIT_CONFIG
    try:
        letters = await store.dead_letters(limit)
    finally:
        await store.close()
    if not letters:
        print("No dead letters.")
        return 0
    print(f"{'id':>6}  {'chat':>15}  {'topic':<24} {'tries':>5}  {'failed':>9}  last error")
    for letter in letters:
        print(format_line(letter, time.time()))
    print("\nSend them again with: woo-bridge replay --id ID  (or --all)")
    return 0


def format_line(letter: DeadLetter, now: float) -> str:
    age = now - letter.updated_at
    when = f"{age / 3600:.1f}h ago" if age >= 3600 else f"{age / 60:.0f}m ago"
    error = (letter.last_error or "").replace("\n", " ")[:80]
    return (
        f"{letter.id:>6}  {letter.chat_id:>15}  {letter.topic:<24} {letter.attempts:>5}"
        f"  {when:>9}  {error}"
    )

"""`woo-bridge replay`: queue dead letters again."""

from __future__ import annotations

import argparse
import asyncio

from bridge.cli.common import EXIT_CONFIG, open_store_or_report

NAME = "replay"
HELP = "queue dead letters again: --id N (repeatable) or --all"
DESCRIPTION = """Queue dead letters again; a running bridge sends them within seconds.

Takes the ids `woo-bridge dead-letters` shows, or --all. Exits 1 if an id given is not
a dead letter."""
EPILOG = """\
examples:
  woo-bridge replay --id 42
  woo-bridge replay --id 42 --id 43
  woo-bridge replay --all
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--id",
        type=int,
        action="append",
        dest="ids",
        metavar="N",
        help="a dead letter's id, from `woo-bridge dead-letters`",
    )
    which.add_argument("--all", action="store_true", help="every dead letter")


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_replay(None if args.all else args.ids))


async def _replay(ids: list[int] | None) -> int:
    store = await open_store_or_report()
    if store is None:
        return EXIT_CONFIG
    try:
        count = await store.replay(ids)
    finally:
        await store.close()
    if ids is not None and count < len(set(ids)):
        print(
            f"Queued {count} of {len(set(ids))}; the others are not dead letters "
            "(see `woo-bridge dead-letters`)."
        )
        return 1
    print(f"Queued {count} message(s) again; a running bridge sends them within seconds.")
    return 0

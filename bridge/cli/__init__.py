"""The `woo-bridge` command: one module per subcommand, listed in COMMANDS."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from types import ModuleType

from bridge import __version__
from bridge.cli import (
    actions,
    backfill,
    check,
    dead_letters,
    demo,
    migrate,
    reconcile,
    render,
    replay,
    report,
    serve,
    woo,
)

#: each module has NAME, HELP (one line), DESCRIPTION and EPILOG (its examples),
#: add_arguments(parser) and run(args) -> exit status
COMMANDS: tuple[ModuleType, ...] = (
    serve,
    check,
    render,
    dead_letters,
    replay,
    woo,
    reconcile,
    backfill,
    report,
    actions,
    migrate,
    demo,
)
DEFAULT_COMMAND = "serve"
EPILOG = """\
examples:
  woo-bridge demo              see what chats receive, no token needed
  woo-bridge check             check the settings and templates
  woo-bridge                   serve (the default)
  woo-bridge COMMAND --help    a command's description and examples
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run a `woo-bridge` command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="woo-bridge",
        description="Relay WooCommerce webhooks to Telegram chats.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        sub = subparsers.add_parser(
            module.NAME,
            help=module.HELP,
            description=module.DESCRIPTION,
            epilog=module.EPILOG,
            # keeps the examples' line breaks and indentation
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
    args = parser.parse_args(argv)
    if args.command is None:  # plain `woo-bridge` serves, as in the container
        args = parser.parse_args([DEFAULT_COMMAND])
    command = next(m for m in COMMANDS if args.command == m.NAME)
    status: int = command.run(args)
    return status

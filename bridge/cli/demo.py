"""`woo-bridge demo`: see the bridge work in seconds, with no token and no network."""

from __future__ import annotations

import argparse

from bridge.demo.run import main
from bridge.logs import setup_logging
from bridge.render.i18n import BUILTIN_LANGUAGES

NAME = "demo"
HELP = "run the bridge against a local stand-in for Telegram and show what chats receive"
DESCRIPTION = """See the bridge work in seconds, with no token and no network.

Runs the real bridge against a local stand-in for Telegram, delivers sample webhooks
and prints what each chat receives."""
EPILOG = """\
examples:
  woo-bridge demo
  woo-bridge demo --language de
  woo-bridge demo --html
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--language", default="en", choices=BUILTIN_LANGUAGES, help="messages' language"
    )
    parser.add_argument(
        "--html", action="store_true", help="show the Telegram HTML instead of the text"
    )


def run(args: argparse.Namespace) -> int:
    setup_logging("ERROR")  # the demo's refused delivery is on purpose
    return main(args.language, args.html)

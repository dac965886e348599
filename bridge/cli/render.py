"""`woo-bridge render`: print the message a payload becomes, exactly as Telegram receives it.

Only the message settings are read (templates, language, time zone, store URL), so it runs
on a fresh checkout without a bot token or a webhook secret.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from bridge import wiring
from bridge.cli.common import EXIT_CONFIG
from bridge.config import ConfigError, load_message_settings
from bridge.payloads import parse_payload
from bridge.render.i18n import BUILTIN_LANGUAGES, normalize_language
from bridge.render.telegram_html import visible_text
from bridge.render.templates import TemplateProblem
from bridge.woo.validate import topic_problem

NAME = "render"
HELP = "print the Telegram message a WooCommerce payload becomes"
DESCRIPTION = """Print the Telegram message a WooCommerce payload becomes, exactly as sent.

Reads only the message settings (templates, language, time zone, store URL), so it
runs without a bot token or a webhook secret."""
EPILOG = """\
examples:
  woo-bridge render --topic order.created --payload order.json
  woo-bridge render --topic order.created --payload order.json --text --language de
  curl -s ... | woo-bridge render --topic product.updated --payload -
"""
#: exit status when the payload cannot be read
EXIT_INPUT = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--topic", required=True, help="the webhook topic, e.g. order.created")
    parser.add_argument(
        "--payload",
        required=True,
        metavar="FILE",
        help="the webhook body (JSON) in a file, or - to read it from standard input",
    )
    parser.add_argument(
        "--language",
        help=f"the chat's language ({', '.join(BUILTIN_LANGUAGES)}); default BRIDGE_LANGUAGE",
    )
    parser.add_argument(
        "--text",
        action="store_true",
        help="print what the chat shows (tags removed) instead of the HTML sent to Telegram",
    )


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_message_settings()
        language = normalize_language(args.language) if args.language else None
    except ConfigError as exc:
        return _fail(exc.problems, EXIT_CONFIG)
    except ValueError as exc:
        return _fail([f"--language: {exc}"], EXIT_CONFIG)
    renderer = wiring.renderer(settings)
    try:
        renderer.compile_all()
    except TemplateProblem as exc:
        return _fail(exc.problems, EXIT_CONFIG)
    try:
        body = sys.stdin.buffer.read() if args.payload == "-" else Path(args.payload).read_bytes()
    except OSError as exc:
        return _fail([f"cannot read the payload {args.payload}: {exc.strerror or exc}"], EXIT_INPUT)
    payload = parse_payload(args.topic, body)
    rendered = renderer.render(payload, event_id=1, language=language, now=dt.datetime.now(dt.UTC))
    problem = topic_problem(args.topic)
    note = f"; note: {problem}" if problem else ""
    print(
        f"rendered with {rendered.template or 'no template'} in {rendered.language}{note}",
        file=sys.stderr,
    )
    _print_message(rendered.parts, rendered.reply_markup, as_text=args.text)
    return 0


def _print_message(parts: tuple[str, ...], reply_markup: str | None, *, as_text: bool) -> None:
    for number, part in enumerate(parts, start=1):
        if len(parts) > 1:
            print(f"--- message {number} of {len(parts)} ---")
        print(visible_text(part) if as_text else part)
    if reply_markup:
        print("--- buttons ---")
        for row in json.loads(reply_markup)["inline_keyboard"]:
            print("  ".join(f"[{button['text']}] {button['url']}" for button in row))


def _fail(problems: list[str], status: int) -> int:
    print("woo-bridge render cannot run; fix these:", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return status

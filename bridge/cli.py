"""The `woo-bridge` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence

from aiohttp import web

from bridge import __version__
from bridge.app import create_app
from bridge.config import ConfigError, Settings, load_settings
from bridge.lifecycle import Lifecycle
from bridge.render.renderer import TemplateProblem

log = logging.getLogger("bridge")

EXIT_CONFIG = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run a `woo-bridge` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    command = args.command or "serve"
    commands = {"serve": _serve}
    return commands[command]()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="woo-bridge",
        description="Relay WooCommerce webhooks to Telegram chats.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("serve", help="run the webhook server and the Telegram bot (default)")
    return parser


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs every request URL at INFO, and Bot API URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def _load() -> Settings | None:
    try:
        return load_settings()
    except ConfigError as exc:
        print("woo-bridge cannot start; fix these settings:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return None


def _serve() -> int:
    settings = _load()
    if settings is None:
        return EXIT_CONFIG
    setup_logging(settings.bridge_log_level)
    try:
        return asyncio.run(serve(settings))
    except TemplateProblem as exc:
        log.critical("a template cannot be used: %s", exc)
        return EXIT_CONFIG


async def serve(settings: Settings) -> int:
    """Run until SIGTERM or SIGINT; a second signal exits at once (the queue is on disk)."""
    lifecycle = Lifecycle()
    app = create_app(settings, lifecycle)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.bridge_host, settings.bridge_port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        log.critical(
            "cannot listen on %s:%s (%s); set BRIDGE_HOST/BRIDGE_PORT",
            settings.bridge_host,
            settings.bridge_port,
            exc,
        )
        return EXIT_CONFIG
    log.info(
        "woo-bridge %s listening on http://%s:%s/webhook",
        __version__,
        settings.bridge_host,
        settings.bridge_port,
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, _on_signal, lifecycle)
    await lifecycle.stop_requested.wait()
    log.info("shutting down: finishing sends in flight")
    await runner.cleanup()
    log.info("stopped")
    return 0


def _on_signal(lifecycle: Lifecycle) -> None:
    if lifecycle.stop_requested.is_set():
        # Everything accepted is already committed; in-flight sends are retried on start.
        log.warning("second signal: exiting at once")
        os._exit(130)
    lifecycle.stop_requested.set()

"""`woo-bridge serve`: the webhook server and the Telegram bot, until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal

from aiohttp import web

from bridge import __version__
from bridge.app import create_app
from bridge.cli.common import EXIT_CONFIG, report_problems, settings_or_report
from bridge.config import ConfigError, Settings
from bridge.keys import REFUSALS, STORES
from bridge.lifecycle import Lifecycle
from bridge.listen import BoundedSite, ensure_descriptors
from bridge.logs import setup_logging
from bridge.queue.postgres.failure import DatabaseUnreachable
from bridge.queue.store import StoreError
from bridge.redact import Secrets
from bridge.render.templates import TemplateProblem

log = logging.getLogger("bridge")

NAME = "serve"
HELP = "run the webhook server and the Telegram bot (the default)"
DESCRIPTION = """Run the webhook server and the Telegram bot until SIGTERM or SIGINT.

Every setting comes from the environment, a .env file, Docker secrets or the
BRIDGE_CONFIG file; `serve` takes no arguments and is what a bare `woo-bridge` runs."""
EPILOG = """\
examples:
  woo-bridge serve
  TELEGRAM_BOT_TOKEN=... WOOCOMMERCE_WEBHOOK_SECRET=... TELEGRAM_CHAT_ID=-100123 woo-bridge
  BRIDGE_LOG_FORMAT=json BRIDGE_PORT=8080 woo-bridge serve
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`serve` takes no arguments: everything comes from the settings."""


def run(args: argparse.Namespace) -> int:
    settings = settings_or_report()
    if settings is None:
        return EXIT_CONFIG
    # One set of secrets for the log handlers and the app, which fills it as it reads them.
    secrets = Secrets()
    setup_logging(settings.bridge_log_level, settings.bridge_log_format, secrets)
    try:
        return asyncio.run(serve(settings, secrets))
    except TemplateProblem as exc:
        for problem in exc.problems:
            log.critical("cannot use the templates: %s", problem)
        return EXIT_CONFIG
    except ConfigError as exc:
        report_problems(exc)
        return EXIT_CONFIG
    except DatabaseUnreachable as exc:
        # Already in safe words: the server's place without the password, why, what to do.
        log.critical("%s", exc)
        return EXIT_CONFIG
    except StoreError as exc:
        log.critical(
            "%s; BRIDGE_DATA_DIR (%s) must be a writable directory on a local disk",
            exc,
            settings.bridge_data_dir,
        )
        return EXIT_CONFIG


async def serve(settings: Settings, secrets: Secrets | None = None) -> int:
    """Run until SIGTERM or SIGINT; a second signal exits at once (the queue is on disk)."""
    lifecycle = Lifecycle()
    app = create_app(settings, lifecycle, secrets=secrets)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    ensure_descriptors(settings.bridge_max_connections)
    site = BoundedSite(
        runner,
        settings.bridge_host,
        settings.bridge_port,
        settings.bridge_max_connections,
        app[REFUSALS],
    )
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
        "woo-bridge %s listening on http://%s:%s; WooCommerce delivers to %s",
        __version__,
        settings.bridge_host,
        settings.bridge_port,
        ", ".join(f"{store.path} (store {store.name})" for store in app[STORES]),
    )
    freeze_startup_objects()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, _on_signal, lifecycle)
    await lifecycle.stop_requested.wait()
    log.info("shutting down: finishing sends in flight")
    await runner.cleanup()
    log.info("stopped")
    return 0


def freeze_startup_objects() -> None:
    """Keep what startup made (modules, templates, settings, the app) out of the garbage
    collector's full passes, which traverse every object there is: in a serving bridge
    each took 60-80 ms, a stall of every request in flight (bench/RESULTS.md, section 11).
    Objects made later are collected as before."""
    gc.collect()
    gc.freeze()


def _on_signal(lifecycle: Lifecycle) -> None:
    if lifecycle.stop_requested.is_set():
        # Everything accepted is already committed; in-flight sends are retried on start.
        log.warning("second signal: exiting at once")
        os._exit(130)
    lifecycle.stop_requested.set()

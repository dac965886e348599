"""What every subcommand shares: loading settings with readable errors, and logging."""

from __future__ import annotations

import logging
import sys

from bridge.config import ConfigError, Settings, load_settings

#: the exit status for a configuration a shop owner has to fix
EXIT_CONFIG = 2


def settings_or_report() -> Settings | None:
    """Load the settings, or print one line per problem to stderr and return None."""
    try:
        return load_settings()
    except ConfigError as exc:
        report_problems(exc)
        return None


def report_problems(exc: ConfigError) -> None:
    """Print a configuration's problems to stderr, one line each."""
    print("woo-bridge cannot start; fix these settings:", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs every request URL at INFO, and Bot API URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

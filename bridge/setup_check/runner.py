"""Run the whole setup check: from `woo-bridge check --online`, or once in the background at
start-up (never blocking intake), logging each problem once and keeping the result for /status.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
from telegram import Bot

from bridge.bot.reach import Reach
from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.setup_check.findings import Finding, Level, SetupReport
from bridge.setup_check.store_check import StoreAccess, check_store
from bridge.setup_check.telegram_check import Place, check_telegram

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SetupTargets:
    """What the configuration says the bridge talks to."""

    places: tuple[Place, ...]
    stores: tuple[StoreAccess, ...] = ()


async def run_check(
    bot: Bot, targets: SetupTargets, reach: Reach, *, send_test: bool = False
) -> list[Finding]:
    """Every finding, Telegram's first, then each store's."""
    findings = await check_telegram(bot, targets.places, reach, send_test=send_test)
    if targets.stores:
        async with aiohttp.ClientSession() as session:
            for store in targets.stores:
                findings += await check_store(session, store)
    return findings


async def check_at_start(
    ready: asyncio.Event,
    bot: Bot,
    targets: SetupTargets,
    reach: Reach,
    report: SetupReport,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """Once the bot is up, check the setup; each problem is logged once, the result kept."""
    await ready.wait()
    try:
        findings = await run_check(bot, targets, reach)
    except Exception as exc:
        # A check must never take the bridge down; say that it could not finish.
        log.error("the setup check could not finish (%s)", type(exc).__name__)
        findings = [
            Finding(Level.WARNING, f"the setup check could not finish ({type(exc).__name__})")
        ]
    report.findings = findings
    report.finished_at = clock.time()
    for finding in report.problems:
        log.warning("setup check: %s", finding.text)
    if not report.problems:
        log.info("setup check: all is well (%d checks)", len(findings))


def status_lines(report: SetupReport) -> list[str]:
    """The report as /status shows it: plain text lines."""
    if report.finished_at is None:
        return ["Setup check: not finished yet"]
    problems = report.problems
    if not problems:
        return [f"Setup check: all is well ({len(report.findings)} checks)"]
    return [f"Setup check: {len(problems)} problem(s)"] + [
        f"{'❌' if f.level is Level.ERROR else '⚠️'} {f.text}" for f in problems
    ]

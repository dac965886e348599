"""The scheduled sales summaries: at each route's summary_at, the day's report (and on its
weekday, the week's) is queued to the chat like any message, once per day.

"Once" is a row per chat, thread, kind and day written in the same transaction as the
message, so a restart never sends it twice; a bridge that was down at that time sends it
when it comes back the same day, saying it is late.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import html
import json
import logging
from collections.abc import Callable, Sequence

from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.queue.models import IncomingEvent, OutgoingMessage
from bridge.queue.storage import Storage, StoreError
from bridge.render.renderer import Renderer
from bridge.reports.build import build_report
from bridge.reports.periods import parse_period
from bridge.reports.schedule import Due, due_summaries
from bridge.reports.text import report_text
from bridge.routing.targets import Routes, Target

log = logging.getLogger(__name__)

SUMMARY_TOPIC = "report.summary"


async def send_due_summaries(
    store: Storage,
    routes: Routes,
    renderer: Renderer,
    zone: dt.tzinfo,
    now: float,
    stores: Sequence[str] = (),
) -> int:
    """Queue every summary due at `now` and not queued yet; how many were queued."""
    local = dt.datetime.fromtimestamp(now, zone)
    queued = 0
    for target in _scheduled(routes):
        assert target.summary_at is not None
        for due in due_summaries(target.summary_at, target.weekly_summary_on, local):
            key = f"{target.chat_id}:{target.thread_id or 0}:{due.kind}:{due.day.isoformat()}"
            if await store.summary_sent(key):
                continue
            text = await _summary_text(store, target, due, renderer, local, stores)
            body = json.dumps({"summary": key}).encode()
            event = IncomingEvent(
                "bridge", SUMMARY_TOPIC, body, hashlib.sha256(body).hexdigest(), now
            )
            message = OutgoingMessage(
                chat_id=target.chat_id,
                topic=SUMMARY_TOPIC,
                text=text,
                thread_id=target.thread_id,
                silent=target.silent,
            )
            if await store.queue_summary(key, event, message):
                queued += 1
                log.info("queued the %s sales summary", due.kind, extra={"chat_id": target.chat_id})
    return queued


async def summaries_forever(
    store: Storage,
    routes: Callable[[], Routes],
    renderer: Renderer,
    zone: dt.tzinfo,
    *,
    interval: float = 30.0,
    stores: Sequence[str] = (),
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """Look at the clock every `interval` seconds and queue what is due, until cancelled."""
    while True:
        try:
            await send_due_summaries(store, routes(), renderer, zone, clock.time(), stores)
        except StoreError as exc:
            log.error("could not queue the sales summaries: %s", exc)
        await asyncio.sleep(interval)


def _scheduled(routes: Routes) -> list[Target]:
    """Each chat and thread with a summary time, once (the first route naming it wins)."""
    seen: set[tuple[int, int | None]] = set()
    targets = []
    for route in routes.routes:
        target = route.target
        if target.summary_at is None or (target.chat_id, target.thread_id) in seen:
            continue
        seen.add((target.chat_id, target.thread_id))
        targets.append(target)
    return targets


async def _summary_text(
    store: Storage,
    target: Target,
    due: Due,
    renderer: Renderer,
    local: dt.datetime,
    stores: Sequence[str],
) -> str:
    fmt = renderer.formatter(renderer.language(target.language))
    if due.kind == "weekly":
        period, heading = parse_period("7d", local), fmt.gettext("🗓 Weekly summary")
    else:
        period, heading = parse_period("today", local), fmt.gettext("🗓 Daily summary")
    report = await build_report(store, period, stores=stores)
    text = report_text(report, fmt, summary=heading)
    if due.late:
        late = fmt.gettext("Sent late: the bridge was not running at %(time)s.")
        text += "\n\n<i>" + html.escape(late % {"time": due.scheduled.strftime("%H:%M")}) + "</i>"
    return text

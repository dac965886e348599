"""Drain: a backlog of queued messages to many chats, through Telegram's flood limits.

    python -m bench.drain [--size 10000] [--chats 50] [--private]
                          [--postgres | --database-url URL]

The queue is filled before the bridge starts (as after an outage), then the bridge
(`woo-bridge serve`, Telegram's limits in its default settings) sends it to a
stand-in Telegram that enforces the same limits with 429s. The drain time, from the
first message to the last, is set against the shortest the stand-in's limits allow.
With `--postgres` (or `--database-url`) the queue is in PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from bench.common import (
    bridge_settings,
    free_port,
    header,
    profiled,
    start_bridge,
    telegram_server,
    telegram_stats,
    verdict,
    wait_for_sent,
    workdir,
)
from bench.load import FIRST_NUMBER, order_bodies
from bench.postgres import add_arguments, database, describe
from bridge.queue.models import EventState, OutgoingMessage, Routing
from bridge.queue.postgres.store import PgStore
from bridge.queue.storage import Storage
from bridge.queue.store import Store
from bridge.send.ratelimit import Limits
from bridge.webhook.intake import incoming_event
from tests.fakes.telegram import FloodLimits

TARGET_SHARE = 0.95


def chat_ids(chats: int, private: bool) -> list[int]:
    # Negative ids are groups, which Telegram also limits to 20 messages a minute.
    return [7000 + i for i in range(chats)] if private else [-1001000 - i for i in range(chats)]


async def open_store(sqlite: Path, url: str | None) -> Storage:
    if url is None:
        return await Store.open(sqlite, "NORMAL")
    return await PgStore.open(url)


async def fill(sqlite: Path, url: str | None, size: int, chats: list[int]) -> None:
    """Queue `size` messages, spread round-robin over `chats`, the way the router does."""
    store = await open_store(sqlite, url)
    try:
        headers = {"X-WC-Webhook-Topic": "order.created"}
        for start in range(0, size, 500):
            bodies = order_bodies(min(500, size - start), start=FIRST_NUMBER + start)
            events = [incoming_event("default", headers, b, time.time()) for b in bodies]
            accepted = await asyncio.gather(*(store.accept(e) for e in events))
            for offset, result in enumerate(accepted):
                number = FIRST_NUMBER + start + offset
                message = OutgoingMessage(
                    chat_id=chats[(start + offset) % len(chats)],
                    topic="order.created",
                    text=f"🛒 <b>New order</b>\n<b>Order #{number}</b> · processing",
                )
                routing = Routing(result.event_id, EventState.ROUTED, (message,))
                await store.commit_routing(routing)
    finally:
        await store.close()


def shortest_drain(per_chat: Counter[int], limits: FloodLimits) -> float:
    """The least time from first to last message that the stand-in's buckets allow."""
    total = sum(per_chat.values())
    bounds = [(total - limits.overall_per_second) * limits.second / limits.overall_per_second]
    for chat_id, count in per_chat.items():
        bounds.append((count - limits.chat_burst) * limits.chat_interval)
        if chat_id < 0:
            per_message = limits.group_window / limits.group_per_window
            bounds.append((count - limits.group_per_window) * per_message)
    return max(0.0, *bounds)


def shortest_by_windows(per_chat: Counter[int], limits: Limits) -> float:
    """The least time from first to last message under Telegram's limits as documented
    and as the bridge keeps them: sliding windows of 30 a second overall, one a second
    per chat, and 20 in any minute per group."""
    total = sum(per_chat.values())
    rate = limits.overall_per_second / limits.second
    bounds = [(total - limits.overall_per_second) / rate]
    for chat_id, count in per_chat.items():
        if chat_id < 0:
            cycles, rest = divmod(count - 1, limits.group_per_minute)
            bounds.append(cycles * limits.minute + rest * limits.chat_interval)
        else:
            bounds.append((count - 1) * limits.chat_interval)
    groups = {c: n for c, n in per_chat.items() if c < 0}
    if groups:
        # Every group's last minute starts at the earliest a whole number of minutes
        # in; the messages all groups still have left then share the overall limit.
        cycles = max((n - 1) // limits.group_per_minute for n in groups.values())
        last = sum(
            n - cycles * limits.group_per_minute
            for n in groups.values()
            if (n - 1) // limits.group_per_minute == cycles
        )
        bounds.append(cycles * limits.minute + (last - limits.overall_per_second) / rate)
    return max(0.0, *bounds)


def in_order(sent: list[list[int | float | None]]) -> bool:
    """Every chat received its messages in queue order."""
    last: dict[int, int] = defaultdict(int)
    for chat_id, _, number in sent:
        assert isinstance(chat_id, int)
        assert isinstance(number, int)
        if number < last[chat_id]:
            return False
        last[chat_id] = number
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="messages to queue")
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--private", action="store_true", help="private chats, not groups")
    parser.add_argument("--profile", type=Path, help="write a py-spy profile of the bridge here")
    add_arguments(parser)
    args = parser.parse_args()
    chats = chat_ids(args.chats, args.private)
    per_chat = Counter(chats[i % len(chats)] for i in range(args.size))
    shortest = shortest_drain(per_chat, FloodLimits())
    documented = shortest_by_windows(per_chat, Limits())
    with (
        workdir() as work,
        database(args) as database_url,
        telegram_server(work, flood=True) as telegram,
    ):
        asyncio.run(fill(work / "data" / "bridge.sqlite3", database_url, args.size, chats))
        database_name = describe(database_url)
        port = free_port()
        bridge = start_bridge(
            work,
            bridge_settings(
                work, port, telegram, telegram_chat_id=chats[0], bridge_database_url=database_url
            ),
        )
        try:
            cpu = bridge.cpu_seconds()
            with profiled(bridge, args.profile):
                asyncio.run(wait_for_sent(telegram, args.size, 120.0 + 3 * shortest))
            cpu = bridge.cpu_seconds() - cpu
        finally:
            bridge.stop()
        stats = telegram_stats(telegram)
    sent = stats["sent"]
    drain = sent[-1][1] - sent[0][1]
    share = shortest / drain if drain > 0 else 1.0
    share_documented = documented / drain if drain > 0 else 1.0
    kind = "private chats" if args.private else "groups"
    header("Drain")
    print(f"{args.size} queued messages to {args.chats} {kind}, Telegram's flood limits.\n")
    print(f"The bridge's database: {database_name}.\n")
    print("| figure | bridge | target |")
    print("| --- | --- | --- |")
    print(f"| drain time s, first to last message | {drain:.1f} | |")
    print(f"| shortest the stand-in's token buckets allow s | {shortest:.1f} | |")
    print(
        f"| share of the rate the stand-in allows | {share:.3f} | >= {TARGET_SHARE} "
        f"({verdict(share >= TARGET_SHARE)}) |"
    )
    print(f"| shortest Telegram's documented limits allow s | {documented:.1f} | |")
    print(
        f"| share of the rate the documented limits allow | {share_documented:.3f} "
        f"| >= {TARGET_SHARE} ({verdict(share_documented >= TARGET_SHARE)}) |"
    )
    print(f"| bridge CPU per message ms | {cpu / args.size * 1000:.2f} | |")
    print(f"| 429 answers | {stats['flood_429s']} | 0 ({verdict(stats['flood_429s'] == 0)}) |")
    print(f"| every chat in queue order | {in_order(sent)} | yes |")
    return 0 if in_order(sent) else 1


if __name__ == "__main__":
    sys.exit(main())

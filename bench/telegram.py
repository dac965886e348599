"""Serve the stand-in Telegram (tests/fakes/telegram.py) in a process of its own.

    python -m bench.telegram --port 8081 [--flood]

`--flood` enforces Telegram's flood limits (FloodLimits' defaults are Telegram's real
values). Besides the Bot API it answers two routes for the benchmarks:
`/bench/count` (how many messages it accepted) and `/bench/stats?since=N` (those
messages from index N on: chat, time, the order number in the text; their message ids
in `ids`; and its 429s).
"""

from __future__ import annotations

import argparse
import re

from aiohttp import web

from tests.fakes.telegram import FakeTelegram, FloodLimits

_NUMBER = re.compile(r"#(\d+)")


def build(fake: FakeTelegram) -> web.Application:
    app = fake.app()

    async def count(request: web.Request) -> web.Response:
        return web.json_response({"sent": len(fake.sent), "flood_429s": fake.flood_429s})

    async def stats(request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        sent = [
            [m.chat_id, m.at, int(found.group(1)) if (found := _NUMBER.search(m.text)) else None]
            for m in fake.sent[since:]
        ]
        ids = [m.message_id for m in fake.sent[since:]]
        return web.json_response({"sent": sent, "ids": ids, "flood_429s": fake.flood_429s})

    app.router.add_get("/bench/count", count)
    app.router.add_get("/bench/stats", stats)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", default="123456:BENCH-TOKEN")
    parser.add_argument("--flood", action="store_true", help="enforce Telegram's flood limits")
    args = parser.parse_args()
    fake = FakeTelegram(args.token, limits=FloodLimits() if args.flood else None)
    web.run_app(
        build(fake),
        host="127.0.0.1",
        port=args.port,
        print=None,
        access_log=None,
        # Long polls are still open when the benchmark ends; nothing to wait for.
        shutdown_timeout=0.5,
    )


if __name__ == "__main__":
    main()

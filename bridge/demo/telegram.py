"""The demo's stand-in for the Telegram Bot API: just enough for the bridge to run.

It answers the calls the bridge makes on start (getMe, deleteWebhook, setMyCommands),
long-polls getUpdates with nothing, and keeps every sendMessage to show it. It judges
nothing: the tests have a strict fake of their own (tests/fakes/telegram.py).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

_JSON_FIELDS = {"reply_markup", "link_preview_options", "commands", "allowed_updates"}


@dataclass(frozen=True)
class SentMessage:
    """A message the stand-in received."""

    chat_id: int
    text: str
    silent: bool
    reply_markup: dict[str, Any] | None


class DemoTelegram:
    """The stand-in's state; `app()` serves it."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.sent: list[SentMessage] = []
        self._ids = itertools.count(1)
        self._sent_changed = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        return app

    async def wait_for_messages(self, count: int, timeout: float) -> None:
        """Wait until at least `count` messages arrived."""
        async with asyncio.timeout(timeout):
            while len(self.sent) < count:
                self._sent_changed.clear()
                await self._sent_changed.wait()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _answer({"ok": False, "error_code": 401, "description": "Unauthorized"})
        method, params = request.match_info["method"], await _params(request)
        if method == "getMe":
            bot_id = int(self.token.split(":")[0])
            return _ok({"id": bot_id, "is_bot": True, "first_name": "Demo", "username": "demo_bot"})
        if method == "getUpdates":
            # A long poll that never brings an update: the demo sends no staff commands.
            await asyncio.sleep(min(float(params.get("timeout") or 0), 1.0))
            return _ok([])
        if method == "sendMessage":
            return _ok(self._keep(params))
        return _ok(True)

    def _keep(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message = SentMessage(
            chat_id=chat_id,
            text=str(params.get("text", "")),
            silent=str(params.get("disable_notification")).lower() == "true",
            reply_markup=params.get("reply_markup"),
        )
        self.sent.append(message)
        self._sent_changed.set()
        chat = {"id": chat_id, "type": "group" if chat_id < 0 else "private"}
        return {"message_id": next(self._ids), "date": int(time.time()), "chat": chat}


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        data = await request.json()
        return dict(data) if isinstance(data, dict) else {}
    form = await request.post()
    return {
        key: json.loads(value) if key in _JSON_FIELDS else value
        for key, value in form.items()
        if isinstance(value, str)
    }


def _ok(result: Any) -> web.Response:
    return _answer({"ok": True, "result": result})


def _answer(body: dict[str, Any]) -> web.Response:
    return web.json_response(body, status=body.get("error_code", 200))

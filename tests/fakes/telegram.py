"""A local stand-in for the Telegram Bot API, for the tests and the benchmarks.

It answers the methods the bridge uses the way Telegram does, including when things
go wrong: it refuses HTML Telegram would refuse (by its own rules, in
telegram_html.py, not the bridge's), empty and over-long texts and local button
URLs, enforces the flood limits with 429 and retry_after, and can be told to fail
(400, 403, 429, 5xx, migrate) or hang.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from tests.fakes.telegram_html import Unparsable, shown_text, utf16_length

_JSON_FIELDS = {"reply_markup", "link_preview_options", "commands", "allowed_updates", "scope"}


@dataclass
class FakeChat:
    """A chat as getChat shows it, and the bot's membership in it (getChatMember)."""

    type: str = "group"
    title: str = "Shop staff"
    is_forum: bool = False
    #: the bot's ChatMember: "member", "administrator" (with its rights), "restricted"
    #: (with can_send_messages), "left" or "kicked"
    member: dict[str, Any] = field(default_factory=lambda: {"status": "member"})
    #: forum topics that exist (message_thread_id); others answer "message thread not found"
    threads: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class Reply:
    """A scripted answer to the next call of a method."""

    status: int = 200
    description: str = ""
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None
    #: never answer; the client times out
    hang: bool = False


@dataclass(frozen=True)
class SentMessage:
    """A message the stub accepted."""

    message_id: int
    chat_id: int
    text: str
    thread_id: int | None
    parse_mode: str | None
    silent: bool
    reply_markup: dict[str, Any] | None
    at: float


@dataclass(frozen=True)
class SentFile:
    """A file uploaded in a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class SentPhoto:
    """A picture the bot sent with sendPhoto."""

    chat_id: int
    thread_id: int | None
    data: bytes
    caption: str


#: the Bot API's limits for sendPhoto: 10 MB uploaded, a caption of at most 1024 characters,
#: width + height at most 10000, and a side at most 20 times the other
PHOTO_MAX_BYTES = 10 * 1024 * 1024
CAPTION_MAX = 1024


@dataclass
class FloodLimits:
    """Token buckets like Telegram's limits: bursts are tolerated, floods get 429."""

    chat_interval: float = 1.0
    chat_burst: int = 3
    group_per_window: int = 20
    group_window: float = 60.0
    overall_per_second: int = 30
    second: float = 1.0


@dataclass
class _Bucket:
    capacity: float
    rate: float  # tokens per second
    tokens: float = field(init=False)
    stamp: float = field(init=False, default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.capacity

    def take(self, now: float) -> float:
        """Take a token; returns 0, or the seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class FakeTelegram:
    """State and behaviour of the stub; `app()` serves it."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        limits: FloodLimits | None = None,
        username: str = "shop_bridge_bot",
    ) -> None:
        self.token = token
        self.username = username
        self.limits = limits
        self.sent: list[SentMessage] = []
        self.photos: list[SentPhoto] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.commands: list[dict[str, Any]] = []
        #: the command menu per language_code ("" for the default one)
        self.menus: dict[str, list[dict[str, Any]]] = {}
        self.callback_answers: list[dict[str, Any]] = []
        self.edits: list[dict[str, Any]] = []
        #: what each sent message shows now, edits included: (chat id, message id) -> its
        #: text and keyboard
        self.shown: dict[tuple[int, int], tuple[str, Any]] = {}
        #: what setWebhook was last called with, None after deleteWebhook
        self.webhook: dict[str, Any] | None = None
        #: 429s the stub answered because a flood limit was broken
        self.flood_429s = 0
        #: getUpdates calls being answered now, and the most there ever were at once:
        #: Telegram answers 409 Conflict to a second poller, so only one bot may poll
        self.polls_in_flight = 0
        self.most_polls_at_once = 0
        #: seconds every sendMessage takes, like a slow network
        self.send_delay = 0.0
        #: chats that answer 403 (the bot was removed) and chats that do not exist
        self.forbidden_chats: set[int] = set()
        self.missing_chats: set[int] = set()
        #: chats getChat describes; others look like a plain group (or a private chat)
        self.chats: dict[int, FakeChat] = {}
        #: groups that became supergroups: old id to new id (Telegram answers 400 with
        #: migrate_to_chat_id to anything sent to the old one)
        self.migrated_chats: dict[int, int] = {}
        self._scripted: dict[str, deque[Reply]] = {}
        self._outage: Reply | None = None
        self._updates: list[dict[str, Any]] = []
        #: every update queued by push_update, in order, with its update_id
        self.pushed: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._sent_changed = asyncio.Event()
        self._buckets: dict[tuple[str, int], _Bucket] = {}

    # --- scripting ----------------------------------------------------------------------

    def script(self, method: str, *replies: Reply) -> None:
        """Answer the next calls of `method` with `replies`, in order."""
        self._scripted.setdefault(method, deque()).extend(replies)

    def outage(self, reply: Reply | None) -> None:
        """Answer every call with `reply` until called again with None."""
        self._outage = reply

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue a raw update for getUpdates; its update_id is assigned here."""
        numbered = {"update_id": next(self._update_ids), **update}
        self.pushed.append(numbered)
        self._updates.append(numbered)
        self._new_update.set()

    def give_again(self, update: dict[str, Any]) -> None:
        """Queue an update already given, with its update_id: Telegram gives again an
        update that no getUpdates confirmed (its poller died first)."""
        self._updates.append(update)
        self._new_update.set()

    def send_command(
        self,
        text: str,
        *,
        chat_id: int,
        user_id: int,
        chat_type: str = "group",
        thread_id: int | None = None,
        reply_to: SentMessage | None = None,
    ) -> None:
        """Deliver a message from a user, e.g. `/mute order.*`, optionally a reply to one of
        the bot's messages (which privacy mode lets the bot see)."""
        entities = []
        if text.startswith("/"):
            entities.append({"type": "bot_command", "offset": 0, "length": len(text.split()[0])})
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type, "title": "Shop staff"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Staff"},
            "text": text,
            "entities": entities,
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        if reply_to is not None:
            text_now, _ = self.shown.get((reply_to.chat_id, reply_to.message_id), ("", None))
            message["reply_to_message"] = {
                "message_id": reply_to.message_id,
                "date": int(reply_to.at),
                "chat": _chat(reply_to.chat_id, reply_to.thread_id),
                "from": {"id": int(self.token.split(":")[0]), "is_bot": True, "first_name": "Bot"},
                "text": text_now or reply_to.text,
            }
        self.push_update({"message": message})

    def press_button(self, message: SentMessage, data: str, *, user_id: int) -> str:
        """A user taps the inline button with `data` under `message`; returns the query id."""
        query_id = f"cq{next(self._update_ids)}"
        shown: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(message.at),
            "chat": _chat(message.chat_id, message.thread_id),
            "from": {"id": int(self.token.split(":")[0]), "is_bot": True, "first_name": "Bot"},
            "text": message.text,
        }
        text, markup = self.shown.get((message.chat_id, message.message_id), (None, None))
        if text is not None:
            shown["text"] = text
            markup = markup if isinstance(markup, dict | None) else json.loads(markup)
            if markup is not None:
                shown["reply_markup"] = markup
        if message.thread_id is not None:
            shown["message_thread_id"] = message.thread_id
            shown["is_topic_message"] = True
        self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": {"id": user_id, "is_bot": False, "first_name": "Staff"},
                    "chat_instance": str(message.chat_id),
                    "message": shown,
                    "data": data,
                }
            }
        )
        return query_id

    async def wait_for_messages(self, count: int, timeout: float = 10.0) -> list[SentMessage]:
        """Wait until at least `count` messages were accepted; returns them all."""
        async with asyncio.timeout(timeout):
            while len(self.sent) < count:
                self._sent_changed.clear()
                await self._sent_changed.wait()
        return list(self.sent)

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        return [m for m in self.sent if m.chat_id == chat_id]

    # --- serving ------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await _params(request)
        self.calls.append((method, params))
        reply = self._outage or self._next_scripted(method)
        if reply is not None:
            return await self._answer_scripted(reply)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        result = await handler(params)
        return result if isinstance(result, web.Response) else _ok(result)

    def _next_scripted(self, method: str) -> Reply | None:
        queue = self._scripted.get(method)
        return queue.popleft() if queue else None

    async def _answer_scripted(self, reply: Reply) -> web.Response:
        if reply.hang:
            await asyncio.sleep(3600)
        parameters: dict[str, int] = {}
        if reply.retry_after is not None:
            parameters["retry_after"] = reply.retry_after
        if reply.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = reply.migrate_to_chat_id
        return _error(reply.status, reply.description or "scripted failure", parameters)

    # --- methods ------------------------------------------------------------------------

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return {
            "id": int(self.token.split(":")[0]),
            "is_bot": True,
            "first_name": "Shop bridge",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        code = str(params.get("language_code") or "")
        if code and not (len(code) == 2 and code.isalpha() and code.islower()):
            return _error(400, "Bad Request: invalid language code specified")  # ISO 639-1
        commands = list(params.get("commands") or [])
        self.menus[code] = commands
        if not code:
            self.commands = commands
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = params
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        if len(str(params.get("text", ""))) > 200:
            return _error(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers.append(params)
        return True

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        chat_id, text = int(params["chat_id"]), str(params.get("text", ""))
        markup = params.get("reply_markup")
        problem = self._refusal(chat_id, text, params.get("parse_mode"), markup)
        if problem is not None:
            return problem
        return self._edit(params, text, markup)

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        key = (int(params["chat_id"]), int(params["message_id"]))
        text = self.shown[key][0] if key in self.shown else ""
        return self._edit(params, text, params.get("reply_markup"))

    def _edit(self, params: dict[str, Any], text: str, markup: Any) -> Any:
        """Telegram's rules for edits: only the bot's own messages, and only real changes.
        Without reply_markup an edit removes the keyboard."""
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.shown:
            return _error(400, "Bad Request: message to edit not found")
        if problem := _button_data_problem(markup):
            return problem
        if self.shown[key] == (text, markup):
            return _error(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        self.shown[key] = (text, markup)
        self.edits.append(params)
        message = {
            "message_id": key[1],
            "date": int(time.time()),
            "chat": _chat(key[0], None),
            "text": text,
        }
        if markup is not None:
            message["reply_markup"] = markup
        return message

    async def _m_getChat(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        refused = self._chat_refusal(chat_id)
        if refused is not None:
            return refused
        chat = self.chats.get(chat_id)
        shown = _chat(chat_id, None)
        if chat is not None:
            shown = {"id": chat_id, "type": chat.type, "title": chat.title}
            if chat.is_forum:
                shown["is_forum"] = True
        # getChat answers a ChatFullInfo, which always has these fields.
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        full = {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}
        return {**shown, **full}

    async def _m_getChatMember(self, params: dict[str, Any]) -> Any:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        refused = self._chat_refusal(chat_id)
        if refused is not None:
            return refused
        chat = self.chats.get(chat_id, FakeChat())
        user = {"id": user_id, "is_bot": True, "first_name": "Shop bridge"}
        member = {"status": "member", **chat.member, "user": user}
        # Each kind of ChatMember has its required fields (Bot API: ChatMember*).
        for name in _MEMBER_FIELDS.get(str(member["status"]), ()):
            member.setdefault(name, name not in _FALSE_BY_DEFAULT)
        if member["status"] in ("restricted", "kicked"):
            member.setdefault("until_date", 0)
        return member

    def _chat_refusal(self, chat_id: int) -> web.Response | None:
        """What Telegram answers about a chat the bot cannot reach."""
        if chat_id in self.migrated_chats:
            new = self.migrated_chats[chat_id]
            return _error(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": new},
            )
        if chat_id in self.forbidden_chats:
            return _error(403, "Forbidden: bot was kicked from the group chat")
        if chat_id in self.missing_chats:
            return _error(400, "Bad Request: chat not found")
        return None

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        self.polls_in_flight += 1
        self.most_polls_at_once = max(self.most_polls_at_once, self.polls_in_flight)
        try:
            return await self._poll(params)
        finally:
            self.polls_in_flight -= 1

    async def _poll(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            self._new_update.clear()
            timeout = float(params.get("timeout") or 0)
            if timeout > 0:
                try:
                    async with asyncio.timeout(timeout):
                        await self._new_update.wait()
                except TimeoutError:
                    pass
        return list(self._updates)

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        text = str(params.get("text", ""))
        parse_mode = params.get("parse_mode")
        problem = self._refusal(chat_id, text, parse_mode, params.get("reply_markup"))
        if problem is not None:
            return problem
        flood = self._flood_wait(chat_id)
        if flood:
            self.flood_429s += 1
            wait = max(1, round(flood + 0.5))
            return _error(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        thread = params.get("message_thread_id")
        chat = self.chats.get(chat_id)
        if thread is not None and chat is not None and int(thread) not in chat.threads:
            return _error(400, "Bad Request: message thread not found")
        message = SentMessage(
            message_id=next(self._message_ids),
            chat_id=chat_id,
            text=text,
            thread_id=int(thread) if thread is not None else None,
            parse_mode=parse_mode,
            silent=str(params.get("disable_notification")).lower() == "true",
            reply_markup=params.get("reply_markup"),
            at=time.time(),
        )
        self.sent.append(message)
        self.shown[(chat_id, message.message_id)] = (text, message.reply_markup)
        self._sent_changed.set()
        return {
            "message_id": message.message_id,
            "date": int(message.at),
            "chat": {"id": chat_id, "type": "group" if chat_id < 0 else "private"},
            "text": text,
        }

    async def _m_sendPhoto(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        photo = params.get("photo")
        caption = str(params.get("caption", ""))
        if not isinstance(photo, SentFile):
            # A file_id or URL would be fetched by Telegram; the bridge always uploads.
            return _error(400, "Bad Request: there is no photo in the request")
        problem = _photo_problem(photo.data)
        if problem is not None:
            return _error(400, f"Bad Request: {problem}")
        if len(caption) > CAPTION_MAX:
            return _error(400, "Bad Request: message caption is too long")
        refusal = self._chat_refusal(chat_id)
        if refusal is not None:
            return refusal
        thread = params.get("message_thread_id")
        self.photos.append(
            SentPhoto(chat_id, int(thread) if thread is not None else None, photo.data, caption)
        )
        self._sent_changed.set()
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "group" if chat_id < 0 else "private"},
            "photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 800, "height": 400}],
            "caption": caption,
        }

    def _refusal(
        self, chat_id: int, text: str, parse_mode: object, markup: object
    ) -> web.Response | None:
        refused = self._chat_refusal(chat_id)
        if refused is not None:
            return refused
        shown = text
        if parse_mode == "HTML":
            try:
                shown = shown_text(text)
            except Unparsable as exc:
                return _error(400, f"Bad Request: can't parse entities: {exc}")
        length = utf16_length(shown)
        if not shown.strip():
            return _error(400, "Bad Request: message text is empty")
        if length > 4096:
            return _error(400, "Bad Request: message is too long")
        if problem := _button_data_problem(markup):
            return problem
        for url in _button_urls(markup):
            host = urlsplit(url).hostname or ""
            if "." not in host or host.startswith(("localhost", "127.")):
                return _error(400, "Bad Request: BUTTON_URL_INVALID")
        return None

    def _flood_wait(self, chat_id: int) -> float:
        limits = self.limits
        if limits is None:
            return 0.0
        now = time.monotonic()
        buckets = [
            self._bucket(
                ("all", 0), limits.overall_per_second, limits.overall_per_second / limits.second
            ),
            self._bucket(("chat", chat_id), limits.chat_burst, 1 / limits.chat_interval),
        ]
        if chat_id < 0:
            buckets.append(
                self._bucket(
                    ("group", chat_id),
                    limits.group_per_window,
                    limits.group_per_window / limits.group_window,
                )
            )
        return max(bucket.take(now) for bucket in buckets)

    def _bucket(self, key: tuple[str, int], capacity: float, rate: float) -> _Bucket:
        if key not in self._buckets:
            self._buckets[key] = _Bucket(capacity, rate)
        return self._buckets[key]


_ADMIN_RIGHTS = (
    "can_be_edited",
    "is_anonymous",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)
_MEMBER_RIGHTS = (
    "is_member",
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
    "can_edit_tag",
    "can_react_to_messages",
)
#: the fields each ChatMember status must carry, filled in when a test leaves them out
_MEMBER_FIELDS = {"administrator": _ADMIN_RIGHTS, "restricted": _MEMBER_RIGHTS}
_FALSE_BY_DEFAULT = {"can_be_edited", "is_anonymous"}


def _chat(chat_id: int, thread_id: int | None) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Staff"}
    if thread_id is not None:
        return {"id": chat_id, "type": "supergroup", "title": "Shop staff", "is_forum": True}
    return {"id": chat_id, "type": "group", "title": "Shop staff"}


def _photo_problem(data: bytes) -> str | None:
    """Why Telegram would refuse an uploaded photo (PNG or JPEG), or None."""
    if len(data) > PHOTO_MAX_BYTES:
        return "file is too big"
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        width, height = int.from_bytes(data[16:20]), int.from_bytes(data[20:24])
    elif data.startswith(b"\xff\xd8"):
        return None
    else:
        return "IMAGE_PROCESS_FAILED"
    if not width or not height or width + height > 10000:
        return "PHOTO_INVALID_DIMENSIONS"
    if max(width, height) > 20 * min(width, height):
        return "PHOTO_INVALID_DIMENSIONS"
    return None


def _button_data_problem(markup: object) -> web.Response | None:
    """callback_data must be 1-64 bytes of UTF-8."""
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not isinstance(markup, dict):
        return None
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            data = button.get("callback_data") if isinstance(button, dict) else None
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                return _error(400, "Bad Request: BUTTON_DATA_INVALID")
    return None


def _button_urls(markup: object) -> list[str]:
    if not isinstance(markup, dict):
        return []
    rows = markup.get("inline_keyboard") or []
    return [str(b["url"]) for row in rows for b in row if isinstance(b, dict) and "url" in b]


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        data = await request.json()
        return dict(data) if isinstance(data, dict) else {}
    form = await request.post()
    params: dict[str, Any] = {}
    for key, value in form.items():
        if isinstance(value, web.FileField):
            # An uploaded file (sendPhoto): its name, type and bytes.
            params[key] = SentFile(value.filename, value.content_type, value.file.read())
            continue
        if not isinstance(value, str):
            continue
        params[key] = json.loads(value) if key in _JSON_FIELDS else value
    return params


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, parameters: dict[str, int] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)

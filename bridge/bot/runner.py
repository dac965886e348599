"""Run python-telegram-bot's Application inside aiohttp's lifecycle.

`run_polling()` would own the event loop, so the steps it performs are done here by
hand: initialize, register commands, start, start polling; and the reverse on stop.
Telegram being unreachable at start-up must not stop webhooks from being accepted, so
start-up retries in the background while the HTTP server already runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from telegram import Bot, BotCommand, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder
from telegram.request import HTTPXRequest

from bridge.bot.reach import Reach, cause_names

log = logging.getLogger(__name__)


ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]


@dataclass(frozen=True)
class WebhookMode:
    """Telegram posts updates to `url`, proving itself with `secret_token`."""

    url: str
    secret_token: str


@dataclass(frozen=True)
class Connection:
    """How to reach the Bot API."""

    token: str = field(repr=False)  # never in a log line
    #: the Bot API's root, e.g. https://api.telegram.org
    api_base_url: str
    #: seconds for one request (a long poll gets the poll timeout on top)
    timeout: float
    #: sends at the same time, each on its own connection
    concurrency: int
    poll_timeout: int
    #: updates arrive by webhook on the bridge's own server, not by polling
    webhook: bool = False
    #: every Bot API call, long polling included, goes through this proxy; it may hold
    #: credentials, so it is never in a log line
    proxy: str | None = field(default=None, repr=False)


def build_application(connection: Connection) -> tuple[Application, list[HTTPXRequest]]:  # type: ignore[type-arg]
    """The Application, and the HTTP clients it uses (closed by the runner)."""
    timeout = connection.timeout
    # Both clients, so that long polling goes through the proxy as well as the sends.
    proxy = connection.proxy
    requests = [
        HTTPXRequest(
            connection_pool_size=connection.concurrency + 4,
            proxy=proxy,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            pool_timeout=timeout,
        ),
        HTTPXRequest(
            connection_pool_size=1,
            proxy=proxy,
            connect_timeout=timeout,
            # a long poll holds the request open for the poll timeout, plus slack
            read_timeout=connection.poll_timeout + timeout,
            write_timeout=timeout,
        ),
    ]
    root = connection.api_base_url
    builder = ApplicationBuilder()
    if connection.webhook:
        # Updates arrive on the bridge's own HTTP server; no poller.
        builder = builder.updater(None)
    application = (
        builder.token(connection.token)
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .request(requests[0])
        .get_updates_request(requests[1])
        .job_queue(None)  # the SQLite queue does the scheduling
        .build()
    )
    return application, requests


class BotRunner:
    """Starts the bot in the background and says whether it is ready."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        requests: list[HTTPXRequest],
        commands: list[BotCommand],
        poll_timeout: int,
        retry: tuple[float, float] = (1.0, 60.0),
        webhook: WebhookMode | None = None,
        *,
        reach: Reach,
        menus: Mapping[str, list[BotCommand]] | None = None,
    ) -> None:
        self.application = application
        #: how Telegram is reached, for failure lines that are safe to print
        self._reach = reach
        self._requests = requests
        self._commands = commands
        #: the menu per Telegram language code, besides the default one
        self._menus = dict(menus or {})
        self._poll_timeout = poll_timeout
        self._retry_first, self._retry_cap = retry
        self._webhook = webhook
        self._task: asyncio.Task[None] | None = None
        #: long polling is wanted only while this replica leads (bridge.queue.leadership);
        #: the lock keeps a start and a stop of the poller from crossing
        self._polling_wanted = False
        self._polling_lock = asyncio.Lock()
        self._started = False
        self._poll_task: asyncio.Task[None] | None = None
        #: set once the bot can send; the sender waits for it
        self.ready = asyncio.Event()
        #: one word for /healthz and /readyz: ok, starting, unreachable, unauthorized,
        #: not found; the details go to the log only
        self.status = "starting"

    @property
    def bot(self) -> Bot:
        """The Bot API client, for sending."""
        bot: Bot = self.application.bot
        return bot

    def start(self) -> None:
        self._task = asyncio.create_task(self._start(), name="telegram-start")

    async def _start(self) -> None:
        try:
            await self._until_done(self.application.initialize, "getMe")
        except InvalidToken as exc:
            # Its text quotes the token ("The token `...` was rejected"): never print it.
            self.status, line = self._reach.rejection(exc)
            log.critical("%s. Webhooks are still accepted and kept.", line)
            return
        try:
            await self.application.bot.set_my_commands(self._commands)
            for code, menu in self._menus.items():
                await self.application.bot.set_my_commands(menu, language_code=code)
        except TelegramError as exc:
            log.warning("could not register the command menu with Telegram: %s", cause_names(exc))
        await self.application.start()
        if self._webhook is not None:
            webhook = self._webhook
            await self._until_done(
                functools.partial(
                    self.application.bot.set_webhook,
                    webhook.url,
                    secret_token=webhook.secret_token,
                    allowed_updates=ALLOWED_UPDATES,
                ),
                "setWebhook",
            )
        else:
            async with self._polling_lock:
                self._started = True
                # A leader from the start (always, on SQLite) polls before it is ready,
                # as a single bridge always has.
                if self._polling_wanted:
                    await self._start_polling()
        self.status = "ok"
        self.ready.set()
        log.info("Telegram bot @%s is running", self.application.bot.username)

    async def _start_polling(self) -> None:
        updater = self.application.updater
        if updater is not None and not updater.running:
            await updater.start_polling(
                timeout=self._poll_timeout,
                allowed_updates=ALLOWED_UPDATES,
                error_callback=self._polling_error,
            )

    def lead(self) -> None:
        """Poll for updates (unless they come by webhook): this replica leads. Telegram
        lets one poller per bot at a time."""
        self._polling_wanted = True
        if self._webhook is None and (self._poll_task is None or self._poll_task.done()):
            self._poll_task = asyncio.create_task(self._poll_when_started(), name="telegram-poll")

    async def _poll_when_started(self) -> None:
        async with self._polling_lock:
            if not (self._started and self._polling_wanted):
                return  # start-up polls once it gets there, if still wanted
            try:
                await self._until_done(self._start_polling, "getUpdates")
            except TelegramError as exc:
                log.error("could not poll Telegram for updates: %s", cause_names(exc))

    async def follow(self, timeout: float) -> None:
        """Stop polling (another replica leads), waiting at most `timeout` seconds."""
        self._polling_wanted = False
        if self._poll_task is not None and not self._poll_task.done():
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
        updater = self.application.updater
        if updater is None:
            return
        try:
            async with asyncio.timeout(timeout), self._polling_lock:
                if updater.running:
                    await updater.stop()
        except TimeoutError:
            log.warning("long polling did not stop within %.0f s", timeout)
        except TelegramError as exc:
            log.warning("stopping long polling: %s", cause_names(exc))

    async def _until_done(self, call: Callable[[], Awaitable[object]], method: str) -> None:
        """Await `call()` until Telegram answers, backing off; other errors propagate."""
        delay = self._retry_first
        while True:
            try:
                await call()
                return
            except (NetworkError, RetryAfter) as exc:
                self.status = "unreachable"
                line = self._reach.unreachable(method, exc)
                log.warning("%s; retrying in %.1f s", line, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_cap)

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._poll_task is not None and not self._poll_task.done():
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        # shutdown() closes the HTTP clients only if initialize() succeeded.
        await app.shutdown()
        for request in self._requests:
            await request.shutdown()

    def _polling_error(self, exc: TelegramError) -> None:
        # Must not be a coroutine function (python-telegram-bot calls it synchronously).
        if isinstance(exc, Conflict):
            log.error("another process polls this bot's updates; run one bridge per bot token")
        else:
            log.warning("%s; polling again", self._reach.unreachable("getUpdates", exc))

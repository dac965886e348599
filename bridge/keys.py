"""Typed keys for what the aiohttp application holds, declared in one place."""

from __future__ import annotations

from aiohttp import web

from bridge.bot.runner import BotRunner
from bridge.clock import ScheduleClock
from bridge.config import Settings
from bridge.config_stores import Stores
from bridge.lifecycle import Lifecycle
from bridge.metrics import Metrics
from bridge.queue.leadership import Leadership
from bridge.queue.storage import Storage
from bridge.recovery.board import RecoveryBoard
from bridge.redact import Secrets
from bridge.refusals import RefusalLog
from bridge.render.renderer import Renderer
from bridge.routing.chats import Chats
from bridge.routing.targets import Routes
from bridge.setup_check.findings import SetupReport
from bridge.supervisor import Supervisor

SETTINGS = web.AppKey("settings", Settings)
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
#: the queue's storage, typed by its protocol: the views need no particular backend
STORE: web.AppKey[Storage] = web.AppKey("store")
#: whether this replica leads (SQLite: always), and the replicas sharing the database
LEADERSHIP: web.AppKey[Leadership] = web.AppKey("leadership")
RENDERER = web.AppKey("renderer", Renderer)
BOT = web.AppKey("bot", BotRunner)
METRICS = web.AppKey("metrics", Metrics)
#: the routes read at start-up; Chats keeps them pointing at chats' current ids
ROUTES = web.AppKey("routes", Routes)
CHATS = web.AppKey("chats", Chats)
#: the WooCommerce stores, each at its own delivery path
STORES = web.AppKey("stores", Stores)
#: refusals are logged once per reason per interval (docs/operations.md)
REFUSALS = web.AppKey("refusals", RefusalLog)
#: the worker tasks (router, digests, sender, pruner); /readyz asks it which are down
WORKERS = web.AppKey("workers", Supervisor)
#: the clock of the store and the workers: wall time that never runs backward for what is
#: stored, monotonic time for pacing; it wraps the clock tests inject and move
CLOCK = web.AppKey("clock", ScheduleClock)
#: the secrets masked in every log line and stored send error
SECRETS = web.AppKey("secrets", Secrets)
#: what gap filling last found for each store with a REST API key (for /status)
RECOVERY = web.AppKey("recovery", RecoveryBoard)
#: what the setup check found at start-up (for /status)
SETUP = web.AppKey("setup", SetupReport)

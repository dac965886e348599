"""Typed keys for what the aiohttp application holds, declared in one place."""

from __future__ import annotations

from aiohttp import web

from bridge.bot.runner import BotRunner
from bridge.clock import ScheduleClock
from bridge.config import Settings
from bridge.lifecycle import Lifecycle
from bridge.metrics import Metrics
from bridge.queue.store import Store
from bridge.refusals import RefusalLog
from bridge.render.renderer import Renderer
from bridge.routing.chats import Chats
from bridge.routing.targets import Routes
from bridge.supervisor import Supervisor
from bridge.webhook.stores import Stores

SETTINGS = web.AppKey("settings", Settings)
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
STORE = web.AppKey("store", Store)
RENDERER = web.AppKey("renderer", Renderer)
BOT = web.AppKey("bot", BotRunner)
METRICS = web.AppKey("metrics", Metrics)
#: the routes read at start-up; Chats keeps them pointing at chats' current ids
ROUTES = web.AppKey("routes", Routes)
CHATS = web.AppKey("chats", Chats)
#: the WooCommerce stores, each at its own delivery path
STORES = web.AppKey("stores", Stores)
#: refusals are logged once per reason per interval (README "Security")
REFUSALS = web.AppKey("refusals", RefusalLog)
#: the worker tasks (router, digests, sender, pruner); /readyz asks it which are down
WORKERS = web.AppKey("workers", Supervisor)
#: the clock of stored schedules and pacing; tests inject one whose wall time they step
CLOCK = web.AppKey("clock", ScheduleClock)

"""Typed keys for what the aiohttp application holds, declared in one place."""

from __future__ import annotations

from aiohttp import web

from bridge.bot.runner import BotRunner
from bridge.clock import Clock
from bridge.config import Settings
from bridge.config_stores import Stores
from bridge.lifecycle import Lifecycle
from bridge.metrics import Metrics
from bridge.queue.storage import Storage
from bridge.render.renderer import Renderer
from bridge.routing.chats import Chats
from bridge.routing.targets import Routes

SETTINGS = web.AppKey("settings", Settings)
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
#: the queue's storage, typed by its protocol: the views need no particular backend
STORE: web.AppKey[Storage] = web.AppKey("store")
#: wall and monotonic time for the store and the workers; tests inject one they move
CLOCK = web.AppKey("clock", Clock)
RENDERER = web.AppKey("renderer", Renderer)
BOT = web.AppKey("bot", BotRunner)
METRICS = web.AppKey("metrics", Metrics)
#: the routes read at start-up; Chats keeps them pointing at chats' current ids
ROUTES = web.AppKey("routes", Routes)
CHATS = web.AppKey("chats", Chats)
#: the WooCommerce stores, each at its own delivery path
STORES = web.AppKey("stores", Stores)

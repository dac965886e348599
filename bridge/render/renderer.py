"""Turn a payload into Telegram messages with the topic's Jinja2 template.

A message is never lost to a template: a template that fails at run time, or renders
something Telegram would refuse, is replaced by the built-in template for the topic, then
by the default template, and by a fixed text if need be. Free text (notes, names,
addresses, descriptions) is shortened in the views first; a long order then loses the end
of its item list ("… and 12 more items") so that it fits one message; anything else too
long for one message is split into parts, at most MAX_PARTS of them.

Over 300 lines because the fallbacks above are one chain; the template context
(views.py), formatting and Telegram HTML live in modules of their own.
"""

from __future__ import annotations

import datetime as dt
import gettext
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from html import escape
from pathlib import Path
from typing import Any

import jinja2
from babel import Locale
from yarl import URL

from bridge.payloads import Payload, PayloadKind
from bridge.queue.models import DEFAULT_STORE
from bridge.render.formatting import Formatter
from bridge.render.i18n import (
    BUILTIN_LANGUAGES,
    DEFAULT_LANGUAGE,
    LOCALE_DIR,
    CatalogueProblem,
    catalogue_codes,
    load_translations,
    normalize_language,
)
from bridge.render.links import OrderAdminUrls, admin_url, keyboard
from bridge.render.order_buttons import DEFAULT_NEXT, status_rows, with_rows
from bridge.render.stock_view import NO_STOCK, stock_view
from bridge.render.telegram_html import MAX_MESSAGE_LENGTH, split_message, validate, visible_length
from bridge.render.templates import (
    TemplateProblem,
    builtin_templates_dir,
    new_environment,
    template_line,
    template_problems,
)
from bridge.render.views import template_context

log = logging.getLogger(__name__)

#: the most messages one event becomes in one chat; a longer text is cut, with a notice,
#: so that one event cannot hold a chat's queue for minutes
MAX_PARTS = 3
#: the line under an event found through the REST API; marked with gettext (a no-op here,
#: without a domain) so that pybabel extracts it into templates/locale
RECOVERED_NOTE = gettext.gettext(
    "Recovered: WooCommerce did not deliver this event; the bridge found it later."
)
#: the last part of an event cut at MAX_PARTS
CUT_NOTICE = gettext.gettext("The rest of this message (%(count)s more parts) was not sent.")
DEFAULT_TEMPLATE = "default.html"
DIGEST_TEMPLATE = "digest.html"
#: a product's stock crossing a threshold, for routes with stock_alerts
STOCK_TEMPLATE = "product.stock.html"

_KIND_TEMPLATES = {
    PayloadKind.DELETED: "deleted.html",
    PayloadKind.ACTION: "action.html",
    PayloadKind.ERROR: "rest_error.html",
    PayloadKind.UNREADABLE: "unreadable.html",
}
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")


@dataclass(frozen=True)
class Rendered:
    """A rendered event: one or more Telegram HTML texts, in sending order."""

    parts: tuple[str, ...]
    template: str
    #: JSON of an inline keyboard for the last part, or None
    reply_markup: str | None = None
    #: the language it was rendered in
    language: str = DEFAULT_LANGUAGE


@dataclass(frozen=True)
class RenderOptions:
    """What shapes every message, from the settings."""

    language: str = DEFAULT_LANGUAGE
    timezone: dt.tzinfo = dt.UTC
    #: the address for events of no particular store (`woo-bridge render`)
    store_url: URL | None = None
    order_admin_urls: OrderAdminUrls = "classic"
    currency: str | None = None
    override_dir: Path | None = None
    #: every store the bridge serves, with its address; with more than one, each message
    #: starts with its store's name
    store_urls: Mapping[str, URL | None] = field(default_factory=dict)
    #: stores whose orders get status buttons (those with a REST API key), and which
    #: statuses each status leads to
    action_stores: frozenset[str] = frozenset()
    order_next: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: DEFAULT_NEXT)

    def url_of(self, store: str | None) -> URL | None:
        """The address of `store`; a store no longer configured has none."""
        if store is None or not self.store_urls:
            return self.store_url
        return self.store_urls.get(store)

    def label_of(self, store: str | None) -> str:
        """What names `store` in its messages: "" unless the bridge serves several stores."""
        return store if store is not None and len(self.store_urls) > 1 else ""


class Renderer:
    """Renders payloads with the built-in templates, overridden file by file by the
    templates in `options.override_dir`; one Jinja2 environment per language."""

    def __init__(self, options: RenderOptions | None = None) -> None:
        self.options = options or RenderOptions()
        self._builtin = builtin_templates_dir()
        self._environments: dict[tuple[str, bool], jinja2.Environment] = {}
        self._translations: dict[tuple[str, bool], gettext.NullTranslations] = {}
        self._unknown_languages: set[str] = set()

    # --- start-up checks ----------------------------------------------------------------

    def compile_all(self) -> list[str]:
        """Compile every template and read every catalogue now, so that a broken one stops
        the start rather than an order at 3 a.m. Returns the templates' names."""
        problems: list[str] = []
        locales = [folder / LOCALE_DIR for folder in self._folders(builtin_only=False)]
        languages = (*BUILTIN_LANGUAGES, self.options.language, *sorted(catalogue_codes(locales)))
        for language in dict.fromkeys(languages):
            try:
                self._catalogue(language, builtin_only=False)
            except CatalogueProblem as exc:
                problems.append(str(exc))
        if problems:
            raise TemplateProblem(problems)
        env = self.environment()
        names = self.template_names()
        for name in names:
            problems += template_problems(env, name, set(names))
        if DEFAULT_TEMPLATE not in names:
            problems.append(f"the template {DEFAULT_TEMPLATE} is missing")
        if problems:
            raise TemplateProblem(problems)
        return names

    def template_names(self) -> list[str]:
        return sorted(n for n in self.environment().list_templates() if n.endswith(".html"))

    # --- rendering ----------------------------------------------------------------------

    def language(self, requested: str | None) -> str:
        """The language to render in: `requested` if it is one, else BRIDGE_LANGUAGE."""
        if requested is None:
            return self.options.language
        try:
            return normalize_language(requested)
        except ValueError:
            if requested not in self._unknown_languages:
                self._unknown_languages.add(requested)
                log.warning("%r is not a language; using %s", requested, self.options.language)
            return self.options.language

    def template_for(
        self, payload: Payload, *, builtin_only: bool = False, first: str | None = None
    ) -> str:
        """The most specific template that exists: `first`, the topic's own, else one for
        its shape."""
        candidates = [first] if first else []
        if payload.kind in (PayloadKind.RESOURCE, PayloadKind.DELETED, PayloadKind.ACTION):
            candidates.append(f"{payload.topic}.html")
        if payload.kind in _KIND_TEMPLATES:
            candidates.append(_KIND_TEMPLATES[payload.kind])
        candidates.append(DEFAULT_TEMPLATE)
        env = self.environment(builtin_only=builtin_only)
        return env.select_template(candidates).name or DEFAULT_TEMPLATE

    def render(
        self,
        payload: Payload,
        event_id: int,
        language: str | None = None,
        status_change: Mapping[str, object] | None = None,
        *,
        now: dt.datetime | None = None,
        store: str | None = None,
        recovered: bool = False,
        stock: Mapping[str, object] | None = None,
        order_next: Mapping[str, tuple[str, ...]] | None = None,
    ) -> Rendered:
        """Render `payload` (an event of `store`) into message parts; never raises.

        A `recovered` event (found through the REST API) says so in one line above it; with
        `stock` (a crossing, see views.stock_view) it is a stock message. `order_next`: the
        statuses an order's buttons offer (None: the bridge's default)."""
        code = self.language(language)
        try:
            context, markup = self._context(
                payload, event_id, code, now, status_change, store, order_next
            )
            if stock is not None:
                context["stock"] = stock_view(stock, payload.data, self.formatter(code))
        except Exception:
            # Views are built to accept any payload; should one still fail, the event must
            # reach the chat all the same.
            log.exception("cannot prepare event #%d (%s) for its template", event_id, payload.topic)
            return Rendered((last_resort_text(payload.topic, event_id),), "", None, code)
        label = self.options.label_of(store)
        doubt = payload.topic_doubt()
        warning = f"The topic {payload.topic} is doubtful: {doubt}." if doubt else ""
        catalogue = self._catalogue(code, builtin_only=False)
        note = catalogue.gettext(RECOVERED_NOTE) if recovered else ""
        first = STOCK_TEMPLATE if stock is not None else None
        for builtin_only, name in self._attempts(payload, first):
            try:
                env = self.environment(code, builtin_only)
                parts = self._render_parts(env, name, context, label, warning, note, catalogue)
            except Exception as exc:
                # A template is code the shop may have written: whatever it raises, the
                # event must still reach the chat.
                where = template_line(exc) or name
                log.error(
                    "template %s failed for event #%d (%s) at %s: %s; using the next fallback",
                    f"{name} (built-in)" if builtin_only else name,
                    event_id,
                    payload.topic,
                    where,
                    exc,
                )
                continue
            return Rendered(parts, name, markup, code)
        return Rendered((last_resort_text(payload.topic, event_id),), "", markup, code)

    def render_with(
        self,
        name: str,
        payload: Payload,
        event_id: int = 1,
        language: str | None = None,
        *,
        now: dt.datetime | None = None,
    ) -> Rendered:
        """Render with the template `name` alone, raising whatever goes wrong (for checks)."""
        code = self.language(language)
        context, markup = self._context(payload, event_id, code, now)
        parts = self._render_parts(self.environment(code), name, context)
        return Rendered(parts, name, markup, code)

    def render_digest(
        self,
        *,
        topic: str,
        count: int,
        names: Sequence[str],
        minutes: int,
        language: str | None = None,
    ) -> str:
        """A burst's digest message (digest.html); raises if the template fails."""
        code = self.language(language)
        context = {
            "topic": topic,
            "count": count,
            "names": list(names),
            "more": max(0, count - len(names)),
            "minutes": minutes,
        }
        return _render_text(self.environment(code), DIGEST_TEMPLATE, context)

    def _attempts(self, payload: Payload, first: str | None = None) -> list[tuple[bool, str]]:
        """Which template to try, in order, each with whether to leave the overrides out."""
        attempts = [(False, self.template_for(payload, first=first))]
        if self.options.override_dir is not None:
            attempts.append((True, self.template_for(payload, builtin_only=True, first=first)))
        attempts.append((True, DEFAULT_TEMPLATE))
        # Without overrides both flags name the same environment.
        if self.options.override_dir is None:
            attempts = [(True, name) for _, name in attempts]
        return list(dict.fromkeys(attempts))

    def _context(
        self,
        payload: Payload,
        event_id: int,
        code: str,
        now: dt.datetime | None,
        status_change: Mapping[str, object] | None = None,
        store: str | None = None,
        order_next: Mapping[str, tuple[str, ...]] | None = None,
    ) -> tuple[dict[str, Any], str | None]:
        fmt = replace(self.formatter(code), now=now or dt.datetime.now(dt.UTC))
        store_url = self.options.url_of(store)
        url = admin_url(payload, store_url, self.options.order_admin_urls)
        deleted = payload.kind is PayloadKind.DELETED or payload.event == "deleted"
        label = fmt.gettext("Open the trash") if deleted else fmt.gettext("Open in admin")
        context = template_context(
            payload,
            event_id,
            fmt,
            language=code,
            admin_url=url,
            status_change=status_change,
            store=store or "",
        )
        context["stock"] = dict(NO_STOCK)
        markup = keyboard([(label, url)])
        if self._has_actions(payload, store):
            flow = self.options.order_next if order_next is None else order_next
            markup = with_rows(markup, status_rows(payload.status, fmt, flow))
        return context, markup

    def _has_actions(self, payload: Payload, store: str | None) -> bool:
        """Whether this is an order that staff can move on from its message."""
        return (
            payload.kind is PayloadKind.RESOURCE
            and payload.resource == "order"
            and payload.event != "deleted"
            and (store or DEFAULT_STORE) in self.options.action_stores
        )

    def _render_parts(
        self,
        env: jinja2.Environment,
        name: str,
        context: dict[str, Any],
        label: str = "",
        warning: str = "",
        note: str = "",
        catalogue: gettext.NullTranslations | None = None,
    ) -> tuple[str, ...]:
        parts = split_message(self._fit(env, name, context, label, warning, note))
        if len(parts) <= MAX_PARTS:
            return tuple(parts)
        left_out = len(parts) - (MAX_PARTS - 1)
        cut = (catalogue or gettext.NullTranslations()).gettext(CUT_NOTICE)
        notice = f"✂️ <i>{escape(cut % {'count': left_out})}</i>"
        return (*parts[: MAX_PARTS - 1], notice)

    def _fit(
        self,
        env: jinja2.Environment,
        name: str,
        context: dict[str, Any],
        label: str,
        warning: str = "",
        note: str = "",
    ) -> str:
        """Render; if an order is too long for one message, show fewer of its items."""
        text = _render_text(env, name, context, label, warning, note)
        items = context["order"]["line_items"]
        if visible_length(text) <= MAX_MESSAGE_LENGTH or len(items) < 2:
            return text

        def shown(count: int) -> str:
            order = {**context["order"], "line_items": items[:count]}
            order["more_items"] = len(items) - count
            return _render_text(env, name, {**context, "order": order}, label, warning, note)

        best = shown(0)
        if visible_length(best) > MAX_MESSAGE_LENGTH:
            return best  # long without any item; split_message cuts it into parts
        low, high = 0, len(items) - 1  # the most items that fit is in [low, high]
        while low < high:
            middle = (low + high + 1) // 2
            candidate = shown(middle)
            if visible_length(candidate) <= MAX_MESSAGE_LENGTH:
                low, best = middle, candidate
            else:
                high = middle - 1
        return best

    # --- environments -------------------------------------------------------------------

    def environment(
        self, language: str | None = None, builtin_only: bool = False
    ) -> jinja2.Environment:
        """The Jinja2 environment for `language`; with `builtin_only`, without the overrides."""
        code = language or self.options.language
        key = (code, builtin_only or self.options.override_dir is None)
        if key not in self._environments:
            self._environments[key] = self._new_environment(*key)
        return self._environments[key]

    def formatter(self, language: str) -> Formatter:
        """Money, dates and names for `language`, in BRIDGE_TIMEZONE."""
        return Formatter(
            locale=Locale.parse(language),
            timezone=self.options.timezone,
            translations=self._catalogue(language, builtin_only=False),
            store_currency=self.options.currency,
        )

    def _folders(self, builtin_only: bool) -> list[Path]:
        if builtin_only or self.options.override_dir is None:
            return [self._builtin]
        return [self.options.override_dir, self._builtin]

    def _catalogue(self, language: str, builtin_only: bool) -> gettext.NullTranslations:
        key = (language, builtin_only or self.options.override_dir is None)
        if key not in self._translations:
            folders = [folder / LOCALE_DIR for folder in self._folders(key[1])]
            self._translations[key] = load_translations(language, folders)
        return self._translations[key]

    def _new_environment(self, language: str, builtin_only: bool) -> jinja2.Environment:
        return new_environment(
            self._folders(builtin_only),
            self._catalogue(language, builtin_only),
            self.formatter(language),
        )


def _render_text(
    env: jinja2.Environment,
    name: str,
    context: dict[str, Any],
    label: str = "",
    warning: str = "",
    note: str = "",
) -> str:
    text = env.get_template(name).render(context)
    text = _BLANK_LINES.sub("\n\n", text).strip()
    if not text:
        raise ValueError("the template rendered nothing")
    if note:
        text = f"{text}\n↻ <i>{escape(note)}</i>"
    if warning:
        # Above whatever template: the reader must not take the topic at its word.
        text = f"⚠️ <i>{escape(warning)}</i>\n{text}"
    if label:
        # Several stores share the chats: the first line says which one the event is from.
        text = f"[{escape(label)}] {text}"
    validate(text)
    return text


def last_resort_text(topic: str, event_id: int) -> str:
    """What is sent when no template can render an event, so that staff still hear of it."""
    return escape(f"Event #{event_id}: {topic} (the templates could not render it)")

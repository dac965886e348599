"""Turn a payload into Telegram messages with the topic's Jinja2 template.

A message is never lost to a template: a template that fails at run time, or renders
something Telegram would refuse, is replaced by the default template, and that by a
fixed text if need be. Output longer than one Telegram message is split into parts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path

import jinja2

from bridge.payloads import Payload, PayloadKind
from bridge.render.telegram_html import TelegramHTMLError, split_message, validate
from bridge.render.views import template_context

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE = "default.html"

_KIND_TEMPLATES = {
    PayloadKind.DELETED: "deleted.html",
    PayloadKind.ACTION: "action.html",
    PayloadKind.ERROR: "rest_error.html",
    PayloadKind.UNREADABLE: "unreadable.html",
}
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")


class TemplateProblem(Exception):
    """A template cannot be loaded or compiled; the message names the file and line."""


@dataclass(frozen=True)
class Rendered:
    """A rendered event: one or more Telegram HTML texts, in sending order."""

    parts: tuple[str, ...]
    template: str
    #: JSON of an inline keyboard for the last part, or None
    reply_markup: str | None = None


def builtin_templates_dir() -> Path:
    """The templates shipped with the bridge."""
    packaged = Path(__file__).resolve().parent.parent / "templates"  # inside a wheel
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"  # a source checkout


class Renderer:
    """Renders payloads with the built-in templates, overridden file by file by `override_dir`."""

    def __init__(self, override_dir: Path | None = None) -> None:
        loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(builtin_templates_dir())]
        if override_dir is not None:
            loaders.insert(0, jinja2.FileSystemLoader(override_dir))
        self._env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=True,  # every payload value is escaped for Telegram HTML
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    def compile_all(self) -> list[str]:
        """Compile every template now, so a broken one stops the start, not an order at 3 a.m."""
        names = sorted(n for n in self._env.list_templates() if n.endswith(".html"))
        for name in names:
            try:
                self._env.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateProblem(
                    f"{exc.filename or name}, line {exc.lineno}: {exc.message}"
                ) from None
        if DEFAULT_TEMPLATE not in names:
            raise TemplateProblem(f"the template {DEFAULT_TEMPLATE} is missing")
        return names

    def template_for(self, payload: Payload) -> str:
        """The most specific template that exists: the topic's own, else one for its shape."""
        candidates = []
        if payload.kind in (PayloadKind.RESOURCE, PayloadKind.DELETED, PayloadKind.ACTION):
            candidates.append(f"{payload.topic}.html")
        if payload.kind in _KIND_TEMPLATES:
            candidates.append(_KIND_TEMPLATES[payload.kind])
        candidates.append(DEFAULT_TEMPLATE)
        return self._env.select_template(candidates).name or DEFAULT_TEMPLATE

    def render(
        self,
        payload: Payload,
        event_id: int,
        language: str | None = None,
        status_change: Mapping[str, object] | None = None,
    ) -> Rendered:
        """Render `payload` into message parts; never raises."""
        context = template_context(payload, event_id, status_change)
        name = self.template_for(payload)
        for candidate in dict.fromkeys((name, DEFAULT_TEMPLATE)):
            try:
                text = self._render_one(candidate, context)
            except (jinja2.TemplateError, TelegramHTMLError, ValueError, TypeError) as exc:
                log.error(
                    "template %s failed for event #%d (%s): %s; using the next fallback",
                    candidate,
                    event_id,
                    payload.topic,
                    exc,
                )
                continue
            return Rendered(tuple(split_message(text)), candidate)
        return Rendered((last_resort_text(payload.topic, event_id),), "")

    def _render_one(self, name: str, context: dict[str, object]) -> str:
        text = self._env.get_template(name).render(context)
        text = _BLANK_LINES.sub("\n\n", text).strip()
        if not text:
            raise ValueError("the template rendered nothing")
        validate(text)
        return text


def last_resort_text(topic: str, event_id: int) -> str:
    """What is sent when no template can render an event, so that staff still hear of it."""
    return escape(f"Event #{event_id}: {topic} (the templates could not render it)")

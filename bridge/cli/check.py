"""`woo-bridge check`: is the configuration usable, and does every template render?

Each check is independent and reports what it found, so that a wrong setting does not hide a
broken template. Every problem says what to do. The exit status is non-zero when any finding
is an error; warnings name what works but probably not as intended.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from yarl import URL

from bridge.cli.common import EXIT_CONFIG
from bridge.config import (
    ConfigError,
    MessageSettings,
    Settings,
    load_message_settings,
    load_settings,
)
from bridge.render.i18n import BUILTIN_LANGUAGES, LOCALE_DIR, candidates, catalogue_codes
from bridge.render.renderer import DIGEST_TEMPLATE, Renderer, RenderOptions
from bridge.render.samples import sample_for
from bridge.render.templates import TemplateProblem, builtin_templates_dir, template_line
from bridge.woo.validate import topic_problem

NAME = "check"
HELP = "check the configuration and every template, then exit"


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    level: Level
    text: str


@dataclass
class Context:
    """What the checks look at; loaded once, each part may be missing."""

    settings: Settings | None = None
    settings_problems: list[str] = field(default_factory=list)
    #: the message settings alone, which load even when the bot's settings do not
    messages: MessageSettings | None = None

    @classmethod
    def load(cls) -> Context:
        context = cls()
        try:
            context.settings = load_settings()
        except ConfigError as exc:
            context.settings_problems = exc.problems
        # A problem here is reported by check_settings; the template checks then use defaults.
        with contextlib.suppress(ConfigError):
            context.messages = load_message_settings()
        return context

    def renderer(self) -> Renderer:
        if self.messages is None:
            return Renderer(RenderOptions())
        return Renderer.from_settings(self.messages)


Check = Callable[[Context], list[Finding]]


def check_settings(context: Context) -> list[Finding]:
    """Every setting parses and every required one is set."""
    if context.settings_problems:
        return [Finding(Level.ERROR, problem) for problem in context.settings_problems]
    return [Finding(Level.OK, "the settings are valid")]


def check_templates(context: Context) -> list[Finding]:
    """Every template compiles, and names only filters, tests and templates that exist."""
    try:
        names = context.renderer().compile_all()
    except TemplateProblem as exc:
        return [Finding(Level.ERROR, problem) for problem in exc.problems]
    return [Finding(Level.OK, f"{len(names)} templates compile")]


#: what digest.html is checked with: a burst of product updates
SAMPLE_DIGEST: dict[str, Any] = {
    "topic": "product.updated",
    "count": 37,
    "names": ["Premium Quality", "Ship Your Idea", "Woo Single #1"],
    "minutes": 4,
}


def check_renders(context: Context) -> list[Finding]:
    """Every template renders a sample payload, in every language, into HTML Telegram takes."""
    renderer = context.renderer()
    try:
        names = renderer.compile_all()
    except TemplateProblem:
        return []  # check_templates reports it
    languages = list(dict.fromkeys((*BUILTIN_LANGUAGES, renderer.options.language)))
    findings = []
    count = 0
    for name in (n for n in names if not n.startswith("_")):
        for language in languages:
            count += 1
            try:
                if name == DIGEST_TEMPLATE:
                    renderer.render_digest(**SAMPLE_DIGEST, language=language)
                else:
                    renderer.render_with(name, sample_for(name), language=language)
            except Exception as exc:
                # Whatever the template raises is what staff need to see, with its line.
                where = template_line(exc) or name
                findings.append(
                    Finding(Level.ERROR, f"{where} ({language}): {type(exc).__name__}: {exc}")
                )
    if not findings:
        findings.append(
            Finding(Level.OK, f"{count} renders of sample payloads are valid Telegram HTML")
        )
    return findings


def check_overrides(context: Context) -> list[Finding]:
    """Templates in BRIDGE_TEMPLATES_DIR that nothing would ever use."""
    folder = context.messages.bridge_templates_dir if context.messages else None
    if folder is None:
        return []
    builtin = {path.name for path in builtin_templates_dir().glob("*.html")}
    findings = []
    for path in sorted(folder.glob("*.html")):
        name = path.name
        topic = name.removesuffix(".html")
        if name in builtin or name.startswith("_") or topic_problem(topic) is None:
            continue
        findings.append(
            Finding(
                Level.WARNING,
                f"{path}: no topic is called {topic!r} and no built-in template has this "
                f"name, so it is never used; {topic_problem(topic)}",
            )
        )
    return findings


def check_links(context: Context) -> list[Finding]:
    """The "Open in admin" button: present, and a link Telegram accepts."""
    if context.messages is None:
        return []
    url = context.messages.woocommerce_store_url
    if url is None:
        return [
            Finding(
                Level.WARNING,
                'WOOCOMMERCE_STORE_URL is not set: messages have no "Open in admin" button; '
                "set it to the store's address, e.g. https://shop.example.com",
            )
        ]
    host = URL(url).host or ""
    if "." not in host or host.startswith(("localhost", "127.")):
        return [
            Finding(
                Level.WARNING,
                f"WOOCOMMERCE_STORE_URL: Telegram refuses buttons that link to {host}; "
                "messages are sent without them. Use the store's public address",
            )
        ]
    return [Finding(Level.OK, f"buttons link to {url}")]


def check_language(context: Context) -> list[Finding]:
    """A language without a catalogue works, in English; say so."""
    if context.messages is None:
        return []
    language = context.messages.bridge_language
    folders = [builtin_templates_dir() / LOCALE_DIR]
    if context.messages.bridge_templates_dir is not None:
        folders.insert(0, context.messages.bridge_templates_dir / LOCALE_DIR)
    available = catalogue_codes(folders) | {"en"}
    if not set(candidates(language, available)) & available:
        return [
            Finding(
                Level.WARNING,
                f"BRIDGE_LANGUAGE={language}: no translation exists, so messages are in "
                f"English (with {language} money and dates); built in: "
                f"{', '.join(BUILTIN_LANGUAGES)}",
            )
        ]
    return [Finding(Level.OK, f"messages are in {language}")]


#: run in this order; each reports on its own
CHECKS: tuple[Check, ...] = (
    check_settings,
    check_templates,
    check_renders,
    check_overrides,
    check_links,
    check_language,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`check` reads the same settings as `serve` and takes no arguments."""


def run(args: argparse.Namespace) -> int:
    findings = run_checks(Context.load())
    width = max(len(level) for level in Level)
    for finding in findings:
        print(f"{finding.level:<{width}}  {finding.text}")
    errors = sum(f.level is Level.ERROR for f in findings)
    warnings = sum(f.level is Level.WARNING for f in findings)
    print(f"{errors} error(s), {warnings} warning(s)")
    return EXIT_CONFIG if errors else 0


def run_checks(context: Context, checks: tuple[Check, ...] = CHECKS) -> list[Finding]:
    return [finding for check in checks for finding in check(context)]

"""Loading and checking templates: the Jinja2 environment, and the problems that must stop
the start rather than an event.

Jinja2 reports a syntax error when it compiles a template, but an unknown filter or test
inside an {% if %} block, or an import of a template that does not exist, only when that
line runs; template_problems() finds those too, with the file and line.

Templates run in Jinja2's sandbox: a template reads the payload, and cannot reach Python
internals (`cycler.__init__.__globals__.os`) to read the environment or run commands.
"""

from __future__ import annotations

import datetime as dt
import gettext
from collections.abc import Callable
from pathlib import Path

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

from bridge.render.formatting import Formatter, parse_moment

_REFERENCES = (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)


class TemplateProblem(Exception):
    """Templates or catalogues cannot be used; each problem names the file and line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def builtin_templates_dir() -> Path:
    """The templates shipped with the bridge (with their catalogues in locale/)."""
    packaged = Path(__file__).resolve().parent.parent / "templates"  # inside a wheel
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"  # a source checkout


def template_line(exc: BaseException) -> str:
    """Where in a template `exc` happened (`/path/order.created.html, line 4`), or ""."""
    where = ""
    tb = exc.__traceback__
    while tb is not None:
        # Jinja2 rewrites tracebacks so that template frames carry the template's file and line.
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".html"):
            where = f"{filename}, line {tb.tb_lineno}"
        tb = tb.tb_next
    return where


def new_environment(
    folders: list[Path], translations: gettext.NullTranslations, fmt: Formatter
) -> jinja2.Environment:
    """An environment loading from `folders` (earlier ones win), in one language."""
    env = SandboxedEnvironment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(folder) for folder in folders]),
        autoescape=True,  # every payload value is escaped for Telegram HTML
        undefined=jinja2.StrictUndefined,  # a typo fails loudly, and falls back
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        extensions=["jinja2.ext.i18n"],
    )
    # A {% trans %} block spread over lines is one phrase, as `pybabel extract` reads it.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(_filters(fmt))
    return env


def _filters(fmt: Formatter) -> dict[str, Callable[..., str]]:
    """Filters for values taken from `payload` directly: `{{ payload.total | money(...) }}`."""

    def moment(value: object, gmt: bool) -> dt.datetime | None:
        return parse_moment(value, dt.UTC if gmt else fmt.timezone)

    return {
        "money": fmt.money,
        "number": fmt.number,
        "datetime": lambda value, gmt=False: fmt.datetime(moment(value, gmt)),
        "date": lambda value, gmt=False: fmt.date(moment(value, gmt)),
    }


def template_problems(env: jinja2.Environment, name: str, names: set[str]) -> list[str]:
    """Compile `name`, and find what Jinja2 only reports when the line runs: filters and tests
    that do not exist inside {% if %} blocks, and imports of templates that do not exist."""
    assert env.loader is not None
    try:
        source, filename, _ = env.loader.get_source(env, name)
        tree = env.parse(source, name, filename)
        env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        return [f"{exc.filename or name}, line {exc.lineno}: {exc.message}"]
    where = filename or name
    problems = [
        f"{where}, line {node.lineno}: there is no filter named {node.name!r}"
        for node in tree.find_all(nodes.Filter)
        if node.name not in env.filters
    ]
    problems += [
        f"{where}, line {node.lineno}: there is no test named {node.name!r}"
        for node in tree.find_all(nodes.Test)
        if node.name not in env.tests
    ]
    problems += [
        f"{where}, line {node.lineno}: templates may not read {name!r}: they run in a "
        "sandbox that keeps Python internals out of reach"
        for node in tree.find_all(nodes.Getattr)
        if (name := node.attr).startswith("__")
    ]
    for node in tree.find_all(_REFERENCES):
        target = getattr(node, "template", None)
        if isinstance(target, nodes.Const) and target.value not in names:
            problems.append(f"{where}, line {node.lineno}: there is no template {target.value!r}")
    return problems

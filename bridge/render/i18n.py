"""Languages of the messages: gettext catalogues read at start-up, English as the fallback.

Why gettext catalogues rather than a folder of templates per language: a template holds the
layout once and marks its phrases with {% trans %} or _(); each language is one .po file that
translators edit with the usual tools (Poedit, Weblate) and that `pybabel update` keeps in step
with the templates. Per-language folders would copy every layout three times and let the copies
drift. The .po files are read directly through Babel, so there is no compile step to forget:
what is in the repository is what runs.
"""

from __future__ import annotations

import gettext
import io
import re
from collections.abc import Iterable
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.support import Translations

#: the languages whose catalogues ship with the bridge; English is the templates' own text
BUILTIN_LANGUAGES = ("en", "vi", "pt_BR")
DEFAULT_LANGUAGE = "en"
DOMAIN = "messages"
#: where catalogues live below a templates folder: locale/<language>/LC_MESSAGES/messages.po
LOCALE_DIR = "locale"

_CODE = re.compile(r"([A-Za-z]{2,3})(?:[-_]([A-Za-z]{4}))?(?:[-_]([A-Za-z]{2}|[0-9]{3}))?")


class CatalogueProblem(Exception):
    """A .po file cannot be read; the message names the file and line."""


def normalize_language(value: str) -> str:
    """`pt-BR`, `pt_br` and `pt_BR` all become `pt_BR`; raises ValueError for non-languages."""
    match = _CODE.fullmatch(value.strip())
    if match is None:
        raise ValueError(_unknown(value))
    language, script, territory = match.groups()
    code = "_".join(
        p
        for p in (language.lower(), script and script.title(), territory and territory.upper())
        if p
    )
    try:
        Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        raise ValueError(_unknown(value)) from None
    return code


def _unknown(value: str) -> str:
    return (
        f"{value!r} is not a language code; use one of {', '.join(BUILTIN_LANGUAGES)} "
        "(or another code such as fr or es_MX: its money and dates are formatted for it, "
        "its text stays English unless you add a catalogue)"
    )


def candidates(language: str, available: Iterable[str]) -> list[str]:
    """Catalogues to try for `language`, best first.

    The exact code, then the bare language, then another variant of that language: a reader
    of pt_PT is better served by Brazilian Portuguese than by English.
    """
    base = language.split("_")[0]
    ordered = [language, base]
    ordered += sorted(code for code in available if code.split("_")[0] == base)
    return list(dict.fromkeys(ordered))


def catalogue_codes(folders: Iterable[Path]) -> set[str]:
    """The languages that have a catalogue in any of `folders` (each a locale/ folder)."""
    return {
        po.parent.parent.name
        for folder in folders
        if folder.is_dir()
        for po in folder.glob(f"*/LC_MESSAGES/{DOMAIN}.po")
    }


def load_translations(language: str, folders: list[Path]) -> gettext.NullTranslations:
    """The translations for `language` from `folders` (earlier folders win, phrase by phrase).

    A phrase no catalogue translates comes out as written in the template, i.e. in English.
    """
    chain: list[gettext.NullTranslations] = []
    for code in candidates(language, catalogue_codes(folders)):
        for folder in folders:
            po = folder / code / "LC_MESSAGES" / f"{DOMAIN}.po"
            if po.is_file():
                chain.append(read_catalogue(po))
    if not chain:
        return gettext.NullTranslations()
    first = chain[0]
    for fallback in chain[1:]:
        first.add_fallback(fallback)
    return first


def read_catalogue(path: Path) -> Translations:
    """Read a .po file into translations; fuzzy entries are left out, as gettext does."""
    try:
        with path.open("rb") as handle:
            catalog = read_po(handle, abort_invalid=True)
    except (PoFileError, OSError, UnicodeDecodeError) as exc:
        raise CatalogueProblem(f"{path}: {exc}") from None
    # A translation that drops or misspells a placeholder (%(number)s) would fail on the first
    # message that uses it; refuse it now.
    problems = [
        f"{path}, line {message.lineno}: {error}"
        for message, errors in catalog.check()
        for error in errors
    ]
    if problems:
        raise CatalogueProblem("; ".join(problems))
    # Babel's Translations reads the binary .mo format; build it in memory from the .po.
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)

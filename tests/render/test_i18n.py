"""Languages: codes, catalogues kept complete, and English where a translation is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bridge.render.i18n import (
    CatalogueProblem,
    candidates,
    load_translations,
    normalize_language,
    read_catalogue,
)
from bridge.render.templates import builtin_templates_dir

ROOT = Path(__file__).resolve().parents[2]
LOCALE = builtin_templates_dir() / "locale"
TRANSLATED = ("vi", "pt_BR")
UPDATE = (
    "pybabel extract -F babel.cfg --no-location --sort-output -o templates/locale/messages.pot . "
    "&& pybabel update -i templates/locale/messages.pot -d templates/locale"
)


def extracted() -> set[str | tuple[str, ...]]:
    """The phrases the templates and the code mark for translation (as babel.cfg says)."""
    found: set[str | tuple[str, ...]] = set()
    for folder, method, options in (
        ("bridge", "python", {}),
        ("templates", "jinja2.ext:babel_extract", {"trimmed": "true"}),
    ):
        pattern = "**.py" if method == "python" else "**.html"
        for _, _, message, _, _ in extract_from_dir(
            ROOT / folder, [(pattern, method)], {pattern: options}
        ):
            found.add(message if isinstance(message, str) else tuple(message))
    return found


def catalogue(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("en", "en"), ("vi", "vi"), ("pt_BR", "pt_BR"), ("pt-br", "pt_BR"), (" VI_vn ", "vi_VN")],
)
def test_language_codes_are_normalised(value: str, expected: str) -> None:
    assert normalize_language(value) == expected


@pytest.mark.parametrize("value", ["", "english", "xx", "pt_BR.UTF-8", "../vi"])
def test_non_languages_are_refused_with_the_choices(value: str) -> None:
    with pytest.raises(ValueError, match="en, vi, pt_BR"):
        normalize_language(value)


def test_the_template_of_catalogues_lists_every_phrase_in_use() -> None:
    pot = ids(catalogue(LOCALE / "messages.pot"))
    assert extracted() == pot, f"messages.pot is out of date; run: {UPDATE}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_phrase_is_translated(language: str) -> None:
    catalog = catalogue(LOCALE / language / "LC_MESSAGES" / "messages.po")
    assert ids(catalog) == ids(catalogue(LOCALE / "messages.pot")), f"run: {UPDATE}"
    for message in catalog:
        if not message.id:
            continue
        strings = [message.string] if isinstance(message.string, str) else message.string
        assert all(strings), f"{language}: no translation for {message.id!r}"
        assert not message.fuzzy, f"{language}: {message.id!r} is marked fuzzy"
    # Placeholders such as %(number)s must survive translation.
    problems = [(m.id, errors) for m, errors in catalog.check() if errors]
    assert problems == []


def test_language_fallbacks_end_in_english() -> None:
    assert candidates("pt_BR", {"vi", "pt_BR"}) == ["pt_BR", "pt"]
    # Brazilian Portuguese reads better to a pt_PT reader than English does.
    assert candidates("pt_PT", {"vi", "pt_BR"}) == ["pt_PT", "pt", "pt_BR"]
    assert load_translations("fr", [LOCALE]).gettext("New product") == "New product"
    assert load_translations("pt", [LOCALE]).gettext("New product") == "Novo produto"
    assert load_translations("vi_VN", [LOCALE]).gettext("New product") == "Sản phẩm mới"


def test_a_partial_catalogue_falls_back_phrase_by_phrase(tmp_path: Path) -> None:
    ours = tmp_path / "vi" / "LC_MESSAGES"
    ours.mkdir(parents=True)
    (ours / "messages.po").write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "New product"\nmsgstr "Hàng mới về"\n',
        encoding="utf-8",
    )
    translations = load_translations("vi", [tmp_path, LOCALE])
    assert translations.gettext("New product") == "Hàng mới về"  # the shop's own wording
    assert translations.gettext("New customer") == "Khách hàng mới"  # the built-in catalogue
    assert translations.gettext("No such phrase") == "No such phrase"  # English


@pytest.mark.parametrize(
    "content",
    [
        'garbage\nmsgid "New product"\nmsgstr "Novo"\n',
        'msgid "New order #%(number)s"\nmsgstr "Pedido #%(numero)s"\n',
    ],
)
def test_a_broken_catalogue_names_its_file(tmp_path: Path, content: str) -> None:
    broken = tmp_path / "messages.po"
    broken.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogueProblem, match=str(broken)):
        read_catalogue(broken)

"""Tests for bridge.render.store_text: store HTML flattened to text."""

from __future__ import annotations

import json
from pathlib import Path

from bridge.render.store_text import strip_to_text

FIXTURES = Path(__file__).parent.parent / "fixtures" / "payloads"
PRICE_HTML = (
    '<span class="woocommerce-Price-amount amount"><bdi>'
    '<span class="woocommerce-Price-currencySymbol">&#36;</span>21.99</bdi></span>'
)
# wc_format_sale_price() since WooCommerce 8: struck-out price, then screen-reader repeats.
SALE_PRICE_HTML = (
    '<del aria-hidden="true">' + PRICE_HTML + "</del> "
    '<span class="screen-reader-text">Original price was: &#036;21.99.</span>'
    '<ins aria-hidden="true">' + PRICE_HTML.replace("21.99", "19.99") + "</ins>"
    '<span class="screen-reader-text">Current price is: &#036;19.99.</span>'
)


# --- strip_to_text -------------------------------------------------------------------------------


def test_strip_price_html() -> None:
    assert strip_to_text(PRICE_HTML) == "$21.99"


def test_strip_sale_price_html_skips_screen_reader_repeats() -> None:
    assert strip_to_text(SALE_PRICE_HTML) == "$21.99 $19.99"


def test_strip_fixture_product_description() -> None:
    product = json.loads((FIXTURES / "product.json").read_text(encoding="utf-8"))
    text = strip_to_text(product["description"])
    assert text.startswith("Pellentesque habitant morbi")
    assert text.endswith("placerat eleifend leo.")
    assert "<" not in text
    assert "\n" not in text


def test_strip_paragraphs_and_breaks() -> None:
    html = "<p>First &ndash; one</p>\n<p>Second<br />\nline<br><br><br><br>after</p><p>Last</p>"
    assert strip_to_text(html) == "First \N{EN DASH} one\n\nSecond\nline\n\nafter\n\nLast"


def test_strip_lists_and_divs_give_one_line_each() -> None:
    html = "<ul>\n<li>One</li>\n<li>Two</li>\n</ul><div>Three</div><div>Four</div>"
    assert strip_to_text(html) == "One\nTwo\nThree\nFour"


def test_strip_keeps_table_cells_apart() -> None:
    html = "<table><tr><th>Size</th><td>XL</td></tr><tr><th>Colour</th><td>Red</td></tr></table>"
    assert strip_to_text(html) == "Size XL\nColour Red"


def test_strip_drops_script_and_style_content() -> None:
    html = "<p>Hi</p><script>if (a < b && c) { x = '</p>'; }</script>"
    html += "<style>p { color: red; }</style>there"
    assert strip_to_text(html) == "Hi\n\nthere"


def test_strip_decodes_all_entities_and_does_not_escape() -> None:
    html = "Fish &amp; Chips &lt;3 &ndash; &hellip; &euro;5 &#8220;q&#x201D; &lt;b&gt;"
    quoted = "\N{LEFT DOUBLE QUOTATION MARK}q\N{RIGHT DOUBLE QUOTATION MARK}"
    expected = f"Fish & Chips <3 \N{EN DASH} \N{HORIZONTAL ELLIPSIS} €5 {quoted} <b>"
    assert strip_to_text(html) == expected


def test_strip_collapses_whitespace_and_blank_lines() -> None:
    assert strip_to_text("  lots\t of   <b>space</b>  ") == "lots of space"
    assert strip_to_text("one\ntwo\n\n\n\n\nthree") == "one\ntwo\n\nthree"
    assert strip_to_text("<div>a</div>\n\n\n\n<div>b</div>") == "a\n\nb"


def test_strip_survives_unclosed_tags_inside_hidden_elements() -> None:
    html = '<span class="screen-reader-text"><p>hidden</span> shown'
    assert strip_to_text(html) == "shown"

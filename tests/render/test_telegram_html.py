"""Tests for bridge.render.telegram_html."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from bridge.render.telegram_html import (
    MAX_MESSAGE_LENGTH,
    TelegramHTMLError,
    split_message,
    validate,
    visible_length,
    visible_text,
)


def assert_valid_split(html: str, parts: list[str], limit: int) -> None:
    """Each part validates and fits; together they show the original text, give or take the
    whitespace consumed at the cuts and the blank lines trimmed at the ends of parts."""
    assert parts
    for part in parts:
        validate(part, max_length=limit)
        assert visible_length(part) <= limit
    pattern = r"\s*" + r"\s*".join(re.escape(visible_text(part)) for part in parts) + r"\s*"
    assert re.fullmatch(pattern, visible_text(html)), "parts do not cover the original text"


# --- validate -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        "<b>bold</b>, <strong>bold</strong>",
        "<i>italic</i>, <em>italic</em>",
        "<u>underline</u>, <ins>underline</ins>",
        "<s>strike</s>, <strike>strike</strike>, <del>strike</del>",
        '<span class="tg-spoiler">spoiler</span>, <tg-spoiler>spoiler</tg-spoiler>',
        '<b>bold <i>italic bold <s>italic bold strike <span class="tg-spoiler">spoiler</span></s>'
        " <u>underline italic bold</u></i> bold</b>",
        '<a href="http://www.example.com/">inline URL</a>',
        '<a href="tg://user?id=123456789">inline mention</a>',
        "<a href='https://shop.example/?p=1&amp;lang=en'>single quotes, escaped &amp;</a>",
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
        "<code>inline fixed-width code</code>",
        "<pre>pre-formatted fixed-width code block</pre>",
        '<pre><code class="language-python">print("&lt;b&gt;")</code></pre>',
        "<blockquote>Block quotation started\nBlock quotation continued</blockquote>",
        "<blockquote expandable>Expandable block quotation</blockquote>",
        "&lt; &gt; &amp; &quot; &#123; &#x1F600; &#x26;",
        "<B>tag names are case-insensitive</b>",
        "quotes \"double\" and 'single' need no escaping",
        '<b >spaces</b > <a  href = "https://x.example" >inside tags</a>',
    ],
)
def test_validate_accepts_every_allowed_form(html: str) -> None:
    validate(html)


@pytest.mark.parametrize(
    ("html", "problem", "position"),
    [
        ("<p>paragraph</p>", "unsupported tag <p>", 0),
        ("line<br>break", "unsupported tag <br>", 4),
        ('x<b class="big">y</b>', "attribute 'class' is not allowed in <b>", 1),
        ('<a title="t" href="https://x.example">y</a>', "attribute 'title'", 0),
        ("<span>x</span>", "<span> needs a class attribute", 0),
        ('<span class="spoiler">x</span>', 'class="tg-spoiler"', 0),
        ("<a>x</a>", "<a> needs a href attribute", 0),
        ('<a href=" ">x</a>', "non-empty href", 0),
        ("<a href=https://x.example>x</a>", "unescaped '<'", 0),
        ('<a href="https://x.example/?a=1&b=2">x</a>', "unescaped '<', '>' or '&' in attribute", 0),
        ('<tg-emoji emoji-id="thumbs">👍</tg-emoji>', "emoji-id", 0),
        ('<code class="language-python">x</code>', "only allowed directly inside <pre>", 0),
        ('<pre><code class="python">x</code></pre>', 'must be "language-<name>"', 5),
        ("<b>never closed", "<b> is never closed", 0),
        ("closed</b>", "</b> without a start tag", 6),
        ("<b><i>crossed</b></i>", "</b> closes <i> (opened at offset 3)", 13),
        ('<b>x</b class="y">', "end tag </b> has attributes", 4),
        ("<b/>x", "unescaped '<'", 0),
        ("1 < 2", "unescaped '<' (write &lt;)", 2),
        ("2 > 1", "unescaped '>' (write &gt;)", 2),
        ("Fish & Chips", "unescaped '&' (write &amp;)", 5),
        ("&amp no semicolon", "unescaped '&'", 0),
        ("&#X41; upper-case x", "unescaped '&'", 0),
        ("&#12345678; too many digits", "unescaped '&'", 0),
        ("a&nbsp;b", "unsupported entity &nbsp;", 1),
        ("10 &ndash; 20", "unsupported entity &ndash;", 3),
        ("&#0;", "unsupported entity &#0;", 0),
        ("&#xD83D;&#xDE00;", "unsupported entity &#xD83D;", 0),
        ("&#x110000;", "unsupported entity &#x110000;", 0),
        ("", "no visible text", 0),
        (" \n\t ", "no visible text", 0),
        ("<b> </b>\n<i></i>", "no visible text", 0),
    ],
)
def test_validate_rejects(html: str, problem: str, position: int) -> None:
    with pytest.raises(TelegramHTMLError) as caught:
        validate(html)
    assert problem in str(caught.value)
    assert caught.value.position == position
    assert f"offset {position}" in str(caught.value)


def test_error_names_line_and_column() -> None:
    with pytest.raises(TelegramHTMLError, match=r"line 2, column 5 \(offset 7\)") as caught:
        validate("ok\nbad & text")
    assert (caught.value.line, caught.value.column) == (2, 5)
    assert isinstance(caught.value, ValueError)


def test_validate_checks_length_only_when_asked() -> None:
    # The renderer validates a whole rendered text before split_message cuts it to size.
    validate("x" * 10_000)
    with pytest.raises(TelegramHTMLError, match="more than 10"):
        validate("x" * 11, max_length=10)


def test_validate_counts_length_in_utf16_after_entities() -> None:
    limit = MAX_MESSAGE_LENGTH
    validate("a" * limit, max_length=limit)
    validate("&amp;" * limit, max_length=limit)
    validate("<b>" + "😀" * (limit // 2) + "</b>", max_length=limit)
    with pytest.raises(TelegramHTMLError, match="4098 UTF-16 code units") as caught:
        validate("<b>" + "😀" * (limit // 2 + 1) + "</b>", max_length=limit)
    assert caught.value.position == 3 + limit // 2  # offset of the emoji past the limit


# --- visible_text, visible_length -------------------------------------------------------------


def test_visible_text_drops_tags_and_decodes_entities() -> None:
    html = '<b>Tom &amp; Jerry</b> &lt;3 <a href="https://x.example">&quot;link&quot;</a> &#x1F600;'
    assert visible_text(html) == 'Tom & Jerry <3 "link" 😀'


@pytest.mark.parametrize(
    ("html", "length"),
    [
        ("&amp;&lt;&gt;&quot;", 4),
        ("<b>abc</b>", 3),
        ("😀", 2),
        ("&#x1F600;", 2),
        ("&#128512;", 2),
        ("é", 1),
        ("👍🏽", 4),
        ("Ω&#937;", 2),
    ],
)
def test_visible_length_counts_utf16_code_units(html: str, length: int) -> None:
    assert visible_length(html) == length


def test_visible_text_never_raises_and_keeps_what_telegram_could_not_parse() -> None:
    assert visible_text("<b>1 < 2 & <p>ok</p></b>") == "1 < 2 & <p>ok</p>"
    assert visible_text("<b>unclosed &nbsp;") == "unclosed &nbsp;"
    assert visible_text("<i>A &amp; B</i>") == "A & B"


# --- split_message -------------------------------------------------------------------------------


def test_split_returns_text_that_fits_unchanged() -> None:
    html = "\n<b>Order &amp; more</b>\n\n"
    assert split_message(html) == [html]
    assert split_message("&amp;" * 10, limit=10) == ["&amp;" * 10]


def test_split_rejects_invalid_html_and_tiny_limits() -> None:
    with pytest.raises(TelegramHTMLError):
        split_message("<p>" + "x" * 5000 + "</p>")
    with pytest.raises(ValueError, match="at least 2"):
        split_message("abc", limit=1)


def test_split_300_lines_at_line_boundaries_with_bold_across_cuts() -> None:
    lines = [
        f"{n:03d}. Organic Hand-Picked Extra Virgin Olive Oil &amp; Herbs, Family Size #{n}"
        " \N{MULTIPLICATION SIGN} 2"
        for n in range(300)
    ]
    # <b> spans seven lines at a time, so most cuts fall inside it.
    html = "\n".join(
        f"<b>{line}" if n % 7 == 0 else f"{line}</b>" if n % 7 == 6 else line
        for n, line in enumerate(lines)
    )
    html += "</b>" if len(lines) % 7 else ""
    parts = split_message(html)
    assert len(parts) > 1
    assert_valid_split(html, parts, MAX_MESSAGE_LENGTH)
    shown_lines = [visible_text(line) for line in lines]
    assert [line for p in parts for line in visible_text(p).split("\n")] == shown_lines
    for part, following in itertools.pairwise(parts):
        # Greedy: the next line would not have fitted in this part.
        next_line = visible_text(following).split("\n")[0]
        assert visible_length(part) + 1 + len(next_line) > MAX_MESSAGE_LENGTH
    reopened = [p for p in parts[1:] if p.startswith("<b>")]
    assert reopened, "no cut fell inside <b>, the test does not test re-opening"


def test_split_one_enormous_line_at_spaces() -> None:
    words = [f"word{n}" + "x" * (n % 13) for n in range(4000)]
    html = "<i>" + " ".join(words) + "</i>"
    parts = split_message(html, limit=1000)
    assert_valid_split(html, parts, 1000)
    assert [w for p in parts for w in visible_text(p).split(" ")] == words
    assert all(p.startswith("<i>") and p.endswith("</i>") for p in parts)


def test_split_a_line_without_spaces_inside_words_but_never_inside_entities() -> None:
    html = "<code>" + "&lt;x&gt;" * 3000 + "</code>"
    parts = split_message(html, limit=1001)
    assert_valid_split(html, parts, 1001)
    assert [visible_length(p) for p in parts] == [1001] * 8 + [9000 - 8 * 1001]


def test_split_prefers_last_newline_then_last_space() -> None:
    assert split_message("aa bb\ncc dd ee", limit=10) == ["aa bb", "cc dd ee"]
    assert split_message("aaa bbb ccc", limit=7) == ["aaa bbb", "ccc"]
    assert split_message("abcdefghij", limit=4) == ["abcd", "efgh", "ij"]


def test_split_trims_blank_lines_and_makes_no_empty_parts() -> None:
    html = "a" * 10 + "\n" * 40 + " " * 30 + "\n\n" + "b" * 10 + "\n\n\n"
    assert split_message(html, limit=12) == ["a" * 10, "b" * 10]


def test_split_keeps_indentation_of_the_first_line_of_a_part() -> None:
    html = "<pre>" + "def f():\n    return 1\n" * 3 + "</pre>"
    parts = split_message(html, limit=30)
    assert_valid_split(html, parts, 30)
    assert visible_text(parts[1]).startswith("    return 1")


def test_split_drops_elements_left_empty_by_a_cut() -> None:
    parts = split_message("aaaa<b>\nbbbb</b>", limit=4)
    assert parts == ["aaaa", "<b>bbbb</b>"]


def test_split_with_emoji_never_splits_a_surrogate_pair_or_a_modified_emoji() -> None:
    html = "😀" * 3000
    parts = split_message(html)
    assert_valid_split(html, parts, MAX_MESSAGE_LENGTH)
    assert [visible_length(p) for p in parts] == [4096, 1904]
    assert split_message("😀😀😀", limit=5) == ["😀😀", "😀"]
    assert split_message("&#x1F600;" * 3, limit=5) == ["&#x1F600;" * 2, "&#x1F600;"]
    skin = "👍🏽" * 10  # thumbs up + skin tone modifier, 4 UTF-16 units per symbol
    assert split_message(skin, limit=10) == ["👍🏽👍🏽"] * 5
    family = "👨\u200d👩\u200d👧" * 4
    assert split_message(family, limit=9) == ["👨\u200d👩\u200d👧"] * 4


def test_split_reopens_blockquote_and_pre_code_with_their_attributes() -> None:
    quote = "\n".join(
        f"Customer note line {n}: please leave the parcel at the door" for n in range(40)
    )
    code = "\n".join(f"print({n})" for n in range(40))
    html = (
        f"<b>Order 1234</b>\n<blockquote expandable>{quote}</blockquote>\n"
        f'<pre><code class="language-python">{code}</code></pre>'
    )
    parts = split_message(html, limit=300)
    assert_valid_split(html, parts, 300)
    quoted = [p for p in parts if "Customer note" in p]
    assert len(quoted) > 2
    assert all(p.count("<blockquote expandable>") == p.count("</blockquote>") == 1 for p in quoted)
    coded = [p for p in parts if "print(" in p]
    assert len(coded) > 1
    opener = '<pre><code class="language-python">'
    assert all(opener in p and p.endswith("</code></pre>") for p in coded)


WORDS = [
    "apple",
    "Tom &amp; Jerry",
    "&lt;3",
    "😀",
    "&#x1F600;",
    "naïve",
    "e\u0301",
    "👍🏽",
    "x" * 40,
    "&quot;quoted&quot;",
    "&#233;t&#233;",
    "Ω",
]
SIMPLE_TAGS = ["b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "tg-spoiler"]
ATTRIBUTE_TAGS = [
    '<span class="tg-spoiler">',
    '<a href="https://shop.example/p?id=1&amp;x=&quot;2&quot;">',
    "<blockquote>",
    "<blockquote expandable>",
]


def random_text(rng: random.Random) -> str:
    return "".join(
        rng.choice(WORDS) + rng.choice([" ", " ", "\n", "\n\n", "", "  "])
        for _ in range(rng.randint(1, 8))
    )


def random_html(rng: random.Random, depth: int = 0) -> str:
    pieces = []
    for _ in range(rng.randint(1, 5)):
        roll = rng.random()
        if depth >= 3 or roll < 0.4:
            pieces.append(random_text(rng))
        elif roll < 0.55:
            pieces.append(f"<code>{random_text(rng)}</code>")
        elif roll < 0.65:
            pieces.append(f'<pre><code class="language-py">{random_text(rng)}</code></pre>')
        elif roll < 0.7:
            pieces.append(f"<pre>{random_text(rng)}</pre>")
        elif roll < 0.75:
            pieces.append('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>')
        elif roll < 0.85:
            opener = rng.choice(ATTRIBUTE_TAGS)
            name = opener[1:].split()[0].rstrip(">")
            pieces.append(f"{opener}{random_html(rng, depth + 1)}</{name}>")
        else:
            tag = rng.choice(SIMPLE_TAGS)
            pieces.append(f"<{tag}>{random_html(rng, depth + 1)}</{tag}>")
    return "".join(pieces)


def test_split_random_valid_html() -> None:
    rng = random.Random(20240611)
    split_any = 0
    for _ in range(300):
        html = "\n".join(random_html(rng) for _ in range(rng.randint(1, 8)))
        validate(html)  # the generator itself must produce valid HTML
        limit = rng.choice([2, 3, 5, 17, 40, 80, 200, 1000])
        parts = split_message(html, limit)
        assert_valid_split(html, parts, limit)
        if visible_length(html) <= limit:
            assert parts == [html]
        split_any += len(parts) > 1
    assert split_any > 150

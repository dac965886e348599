"""The fake Bot API's own HTML rules: what Telegram refuses, it refuses."""

from __future__ import annotations

import pytest

from tests.fakes.telegram_html import Unparsable, shown_text, utf16_length


@pytest.mark.parametrize(
    ("html", "shown"),
    [
        ('<b>T &amp; J</b> &lt;3 <a href="https://x.example/?a&amp;b">a</a>', "T & J <3 a"),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1"),
        ('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>', "st"),
        ("<blockquote expandable>q</blockquote> &#x1F600; &#128512; &quot;", 'q 😀 😀 "'),
    ],
)
def test_accepts_what_the_bot_api_documents(html: str, shown: str) -> None:
    assert shown_text(html) == shown


@pytest.mark.parametrize(
    "html",
    [
        "<p>paragraph</p>",  # not a Telegram tag
        "<br>",
        "1 & 2",  # a bare ampersand
        "1 < 2",
        "2 > 1",
        "&nbsp;",  # a named entity Telegram does not know
        "<b>never closed",
        "<b><i>crossed</b></i>",
        "</b>",
        '<a href="">empty link</a>',
        "<a>no href</a>",
        '<span class="other">x</span>',
        '<code class="language-py">outside pre</code>',
        '<b class="x">attribute</b>',
        '<a href="https://x.example/?a=1&b=2">bare ampersand in a link</a>',
    ],
)
def test_refuses_what_telegram_refuses(html: str) -> None:
    with pytest.raises(Unparsable):
        shown_text(html)


def test_length_is_counted_in_utf16_code_units() -> None:
    assert utf16_length(shown_text("<b>😀é</b>&#x1F600;")) == 5

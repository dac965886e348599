"""Store HTML (descriptions, price_html) flattened to plain text for the templates."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements that start and end on their own line; 2 means a paragraph (a blank line around it).
_BLOCKS = dict.fromkeys(("p", "h1", "h2", "h3", "h4", "h5", "h6", "table"), 2)
_BLOCKS |= dict.fromkeys(("div", "li", "ul", "ol", "tr", "blockquote", "pre"), 1)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # decodes every entity, as html.unescape does
        self.out: list[str] = []
        self._breaks = 0  # line breaks owed before the next text
        self._open: list[tuple[str, bool]] = []  # (tag, hides its content)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._breaks += 1
            return
        if tag in ("td", "th") and self.out:
            self.out.append(" ")  # keep table cells apart; line ends are stripped later
        # WooCommerce repeats sale prices for screen readers ("Original price was: …").
        hidden = "screen-reader-text" in (dict(attrs).get("class") or "").split()
        self._open.append((tag, hidden or tag in ("script", "style")))
        self._breaks = max(self._breaks, _BLOCKS.get(tag, 0))

    def handle_endtag(self, tag: str) -> None:
        # Close up to the matching start tag, as browsers do, so that an unclosed <p> inside
        # a hidden element cannot hide the rest of the text.
        names = [name for name, _ in self._open]
        if tag in names:
            del self._open[len(names) - 1 - names[::-1].index(tag) :]
        self._breaks = max(self._breaks, _BLOCKS.get(tag, 0))

    def handle_data(self, data: str) -> None:
        if any(hidden for _, hidden in self._open):
            return
        # wpautop shows a newline in post content as a line break and a blank line as a new
        # paragraph, and the REST API's edit context returns content without <p> or <br>.
        for k, chunk in enumerate(re.split(r"([ \t\r\f\v]*\n[ \t\r\f\v\n]*)", data)):
            if k % 2:
                self._breaks = max(self._breaks, min(chunk.count("\n"), 2))
            elif chunk.strip():
                self.out.append("\n" * min(self._breaks, 2) if self.out else "")
                self.out.append(chunk)
                self._breaks = 0
            elif chunk and not self._breaks:
                self.out.append(" ")


def strip_to_text(html_fragment: str) -> str:
    """Flatten store HTML (descriptions, price_html) to plain text; the caller escapes it.

    Tags go, and with them the content of script, style and screen-reader-only elements; <br>
    and block ends become line breaks; all entities are decoded; runs of spaces collapse, and
    blank lines to at most one.
    """
    parser = _TextExtractor()
    parser.feed(html_fragment)
    parser.close()
    lines = "".join(parser.out).split("\n")
    return "\n".join(re.sub(r"[ \t\r\f\v]+", " ", line).strip(" ") for line in lines).strip()

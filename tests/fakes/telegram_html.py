"""The fake Bot API's own judgement of HTML parse mode, written from the Bot API's rules.

Deliberately independent of bridge.render.telegram_html: if the bridge's checker had a
bug, the fake must still refuse what Telegram refuses, so that the bug shows end to end.
The rules (core.telegram.org/bots/api#html-style): only the listed tags, properly nested
and closed; every `<`, `>` and `&` outside a tag or entity escaped; the named entities
&lt; &gt; &amp; &quot; and numeric ones. Length is what shows, in UTF-16 code units.
"""

from __future__ import annotations

import re

#: tag -> the attributes it may carry, and which of them it must
_TAGS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    **{
        name: (frozenset(), frozenset())
        for name in ("b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "tg-spoiler")
    },
    "pre": (frozenset(), frozenset()),
    "a": (frozenset({"href"}), frozenset({"href"})),
    "span": (frozenset({"class"}), frozenset({"class"})),
    "tg-emoji": (frozenset({"emoji-id"}), frozenset({"emoji-id"})),
    "code": (frozenset({"class"}), frozenset()),
    "blockquote": (frozenset({"expandable"}), frozenset()),
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG = re.compile(
    r"""<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[^\s=>"']+(?:=(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*>"""
)
_ATTRIBUTE = re.compile(r"""([A-Za-z-]+)(?:=(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_ENTITY = re.compile(r"&(#[0-9]+|#x[0-9A-Fa-f]+|[A-Za-z]+);")
_BARE_AMPERSAND = re.compile(r"&(?!#[0-9]+;|#x[0-9A-Fa-f]+;|[A-Za-z]+;)")


class Unparsable(ValueError):
    """What Telegram answers as "Bad Request: can't parse entities: ..."."""


def shown_text(html: str) -> str:
    """The text a reader sees for `html`; raises Unparsable where Telegram would refuse it."""
    shown: list[str] = []
    open_tags: list[str] = []
    i = 0
    while i < len(html):
        char = html[i]
        if char == "<":
            i = _tag(html, i, open_tags)
        elif char == "&":
            entity = _ENTITY.match(html, i)
            if entity is None:
                raise Unparsable(f"can't find end of the entity starting at byte offset {i}")
            shown.append(_decode(entity.group(1), i))
            i = entity.end()
        elif char == ">":
            raise Unparsable(f"unescaped '>' at offset {i}")
        else:
            shown.append(char)
            i += 1
    if open_tags:
        raise Unparsable(f"can't find end tag corresponding to start tag {open_tags[-1]}")
    return "".join(shown)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _tag(html: str, at: int, open_tags: list[str]) -> int:
    """Check the tag at `at` against what is open; returns where the tag ends."""
    found = _TAG.match(html, at)
    if found is None:
        raise Unparsable(f"unsupported start tag at offset {at}")
    closing, name, attributes = found.group(1) == "/", found.group(2).lower(), found.group(3)
    if name not in _TAGS:
        raise Unparsable(f'unsupported start tag "{name}" at offset {at}')
    if closing:
        if attributes.strip() or not open_tags or open_tags[-1] != name:
            raise Unparsable(f'unmatched end tag at offset {at}, expected "</{open_tags[-1:]}>"')
        open_tags.pop()
    else:
        _check_attributes(name, attributes, open_tags[-1] if open_tags else None, at)
        open_tags.append(name)
    return found.end()


def _check_attributes(name: str, raw: str, parent: str | None, at: int) -> None:
    allowed, required = _TAGS[name]
    values: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(raw):
        key = match.group(1).lower()
        value = next((g for g in match.groups()[1:] if g is not None), "")
        if key not in allowed:
            raise Unparsable(f'unsupported attribute "{key}" of tag "{name}" at offset {at}')
        if "<" in value or ">" in value or _BARE_AMPERSAND.search(value):
            raise Unparsable(f'unescaped character in attribute "{key}" at offset {at}')
        values[key] = _ENTITY.sub(lambda e: _decode(e.group(1), at), value)
    if not required <= values.keys():
        raise Unparsable(f'tag "{name}" must have attribute {sorted(required)} at offset {at}')
    if name == "a" and not values["href"].strip():
        raise Unparsable(f"empty link at offset {at}")
    if name == "span" and values["class"] != "tg-spoiler":
        raise Unparsable(f'tag "span" must have class "tg-spoiler" at offset {at}')
    if name == "tg-emoji" and not values["emoji-id"].isdigit():
        raise Unparsable(f"invalid custom emoji identifier at offset {at}")
    in_pre = parent == "pre" and values.get("class", "").startswith("language-")
    if name == "code" and "class" in values and not in_pre:
        raise Unparsable(f'a code class must be "language-…", inside pre, at offset {at}')


def _decode(body: str, at: int) -> str:
    if not body.startswith("#"):
        if body not in _NAMED:
            raise Unparsable(f'unsupported entity "&{body};" at offset {at}')
        return _NAMED[body]
    number = int(body[2:], 16) if body[1] in "xX" else int(body[1:])
    if not 0 < number < 0x110000 or 0xD800 <= number < 0xE000:
        raise Unparsable(f"invalid character reference at offset {at}")
    return chr(number)

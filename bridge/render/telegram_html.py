"""Check, measure and split text for Telegram's HTML parse mode.

The rules are the Bot API's ("HTML style"), checked against tdlib's ``parse_html``, the parser
that accepts or refuses a message. Where Telegram is more lenient than its documentation (a bare
``&`` or ``>``, unknown attributes) we follow the documentation, so that nothing we send relies
on leniency. Positions in errors are character offsets into the checked string.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import NamedTuple

MAX_MESSAGE_LENGTH = 4096

# Numeric entities: tdlib reads at most 7 decimal or 6 hex digits, with a lower-case x.
_TOKEN_RE = re.compile(
    r"""(?P<tag><(?P<close>/?)(?P<name>[a-zA-Z][a-zA-Z0-9-]*)
            (?P<attrs>(?:\s+[^\s=<>"'/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'))?)*)\s*>)
      | (?P<entity>&(?:\#[0-9]{1,7}|\#x[0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]*);)
      | [<>&]""",
    re.VERBOSE,
)
_ATTR_RE = re.compile(r"""([^\s=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'))?""")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ESCAPES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
# tag -> (required attribute, optional attribute); any other attribute is refused.
_ATTRIBUTES = {
    "a": ("href", ""),
    "span": ("class", ""),
    "tg-emoji": ("emoji-id", ""),
    "code": ("", "class"),
    "blockquote": ("", "expandable"),
}
_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "tg-spoiler", "pre"}
_TAGS |= set(_ATTRIBUTES)


class TelegramHTMLError(ValueError):
    """Telegram would refuse this text in HTML parse mode."""

    def __init__(self, problem: str, position: int, source: str = "") -> None:
        self.problem, self.position = problem, position
        self.line = source.count("\n", 0, position) + 1
        self.column = position - source.rfind("\n", 0, position)
        super().__init__(f"{problem} at line {self.line}, column {self.column} (offset {position})")


class _Tok(NamedTuple):
    pos: int
    raw: str
    text: str  # what Telegram shows for this token; "" for a tag
    tag: str = ""  # lower-case name of a supported tag
    closing: bool = False
    attrs: str = ""
    problem: str = ""  # why Telegram would refuse this token


def _decode_entity(raw: str) -> str:
    body = raw[1:-1]
    if not body.startswith("#"):
        return _NAMED_ENTITIES.get(body, "")
    code = int(body[2:], 16) if body[1] == "x" else int(body[1:])
    # tdlib refuses 0, U+10FFFF and up, and surrogates (invalid UTF-8 once decoded).
    return chr(code) if 0 < code < 0x10FFFF and not 0xD800 <= code <= 0xDFFF else ""


def _tokenize(source: str) -> Iterator[_Tok]:
    """Tags, entities and text; what Telegram cannot parse comes out literally, with a problem."""
    pos = 0
    for m in _TOKEN_RE.finditer(source):
        if m.start() > pos:
            yield _Tok(pos, source[pos : m.start()], source[pos : m.start()])
        raw, pos, name = m[0], m.end(), (m["name"] or "").lower()
        if name in _TAGS:
            yield _Tok(m.start(), raw, "", name, bool(m["close"]), m["attrs"])
        elif name:
            yield _Tok(m.start(), raw, raw, problem=f"unsupported tag <{m['name']}>")
        elif m["entity"]:
            char = _decode_entity(raw)
            problem = "" if char else f"unsupported entity {raw} (only &lt; &gt; &amp; &quot; &#N;)"
            yield _Tok(m.start(), raw, char or raw, problem=problem)
        else:
            yield _Tok(m.start(), raw, raw, problem=f"unescaped {raw!r} (write {_ESCAPES[raw]})")
    if pos < len(source):
        yield _Tok(pos, source[pos:], source[pos:])


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _attribute_problem(tok: _Tok, parent: str) -> str:
    required, optional = _ATTRIBUTES.get(tok.tag, ("", ""))
    values: dict[str, str] = {}
    for m in _ATTR_RE.finditer(tok.attrs):
        name, raw = m[1], m[2] if m[2] is not None else m[3]
        if name not in (required, optional):
            return f"attribute {name!r} is not allowed in <{tok.tag}>"
        parts = list(_tokenize(raw or ""))
        if any(p.problem or p.tag for p in parts):
            return f"unescaped '<', '>' or '&' in attribute {name!r} of <{tok.tag}>"
        values[name] = "".join(p.text for p in parts)
    value = values.get(required or optional, "")
    if required and required not in values:
        return f"<{tok.tag}> needs a {required} attribute"
    if tok.tag == "a" and not value.strip():
        return "<a> needs a non-empty href"
    if tok.tag == "span" and value != "tg-spoiler":
        return '<span> is only allowed as <span class="tg-spoiler">'
    if tok.tag == "tg-emoji" and not (
        value.isascii() and value.isdigit() and 0 < int(value) < 2**63
    ):
        return f"emoji-id must be a custom emoji id (a positive number), not {value!r}"
    if tok.tag == "code" and "class" in values and parent != "pre":
        return '<code class="…"> is only allowed directly inside <pre>'
    if tok.tag == "code" and "class" in values and not re.fullmatch(r"language-\S+", value):
        return f'<code> class must be "language-<name>", not {value!r}'
    return ""


def validate(html: str, *, max_length: int | None = None) -> None:
    """Raise TelegramHTMLError if Telegram would refuse ``html`` as a message text.

    Length is only checked when ``max_length`` is given (e.g. MAX_MESSAGE_LENGTH for a text that
    is sent as is), so that a long text can be validated before split_message.
    """
    stack: list[_Tok] = []
    width, overflow_at, shows_something = 0, -1, False
    for tok in _tokenize(html):
        if tok.problem:
            raise TelegramHTMLError(tok.problem, tok.pos, html)
        width += _utf16_len(tok.text)
        shows_something = shows_something or bool(tok.text.strip())
        if max_length is not None and width > max_length and overflow_at < 0:
            room, k = max_length - (width - _utf16_len(tok.text)), 0
            while room >= _utf16_len(tok.text[k]):
                room, k = room - _utf16_len(tok.text[k]), k + 1
            overflow_at = tok.pos + k  # an entity is a single character, so k is 0 there
        if not tok.tag:
            continue
        problem = ""
        if not tok.closing:
            problem = _attribute_problem(tok, stack[-1].tag if stack else "")
            stack.append(tok)
        elif tok.attrs.strip():
            problem = f"end tag </{tok.tag}> has attributes"
        elif not stack:
            problem = f"end tag </{tok.tag}> without a start tag"
        elif stack[-1].tag != tok.tag:
            problem = f"</{tok.tag}> closes <{stack[-1].tag}> (opened at offset {stack[-1].pos})"
        else:
            stack.pop()
        if problem:
            raise TelegramHTMLError(problem, tok.pos, html)
    if stack:
        raise TelegramHTMLError(f"<{stack[-1].tag}> is never closed", stack[-1].pos, html)
    if not shows_something:
        raise TelegramHTMLError("no visible text (Telegram refuses empty messages)", 0, html)
    if overflow_at >= 0:
        problem = f"visible text is {width} UTF-16 code units, more than {max_length}"
        raise TelegramHTMLError(problem, overflow_at, html)


def visible_text(html: str) -> str:
    """The text Telegram shows for ``html``: tags removed, entities decoded.

    Never raises: what Telegram could not parse (a stray ``<``, an unknown tag) is kept as written.
    """
    return "".join(tok.text for tok in _tokenize(html))


def visible_length(html: str) -> int:
    """Length of the visible text as Telegram counts it, in UTF-16 code units."""
    return _utf16_len(visible_text(html))


def _glued(left: str, right: str) -> bool:
    """Whether a cut between two characters would break one visible symbol (emoji, accent)."""
    return bool(left and right) and (
        "\u200d" in (left, right)
        or unicodedata.category(right) in ("Mn", "Mc", "Me")
        or "\U0001f3fb" <= right <= "\U0001f3ff"  # skin tone
        or "\U000e0020" <= right <= "\U000e007f"  # subdivision flag tags
    )


def _find_cut(atoms: list[_Tok], start: int, limit: int) -> tuple[int, int]:
    """End of the part that starts at ``start``, and the start of the next one."""
    newline = space = -1
    used = 0
    for i in range(start, len(atoms)):
        # A whitespace cut consumes the character, so the one that overflows may be the cut.
        if atoms[i].text == "\n":
            newline = i
        elif atoms[i].text in (" ", "\t"):
            space = i
        used += _utf16_len(atoms[i].text)
        if used > limit:
            break
    else:
        return len(atoms), len(atoms)
    if max(newline, space) >= 0:
        cut = newline if newline >= 0 else space
        return cut, cut + 1
    cut = next((c for c in range(i, start, -1) if not _glued(atoms[c - 1].text, atoms[c].text)), i)
    return cut, cut


def _atoms(html: str) -> list[_Tok]:
    """Tokens cut down to at most one visible character each, so no cut lands inside one."""
    atoms: list[_Tok] = []
    for tok in _tokenize(html):
        if tok.tag or tok.raw != tok.text:  # a tag or an entity
            atoms.append(tok)
        else:
            atoms.extend(_Tok(tok.pos + k, char, char) for k, char in enumerate(tok.text))
    return atoms


def _render(opened: list[_Tok], body: list[_Tok]) -> tuple[str, list[_Tok]]:
    """One part as HTML ("" if it shows nothing), and the tags still open after it."""
    stack = list(opened)
    for tok in body:
        if tok.tag and tok.closing:
            stack.pop()
        elif tok.tag:
            stack.append(tok)
    solid = [i for i, tok in enumerate(body) if tok.text.strip()]
    if not solid:
        return "", stack
    # Trim blank lines at both ends, but keep the indentation of the first line (for <pre>).
    head = max((i for i in range(solid[0]) if body[i].text == "\n"), default=-1)
    tail = next((i for i in range(solid[-1], len(body)) if body[i].text == "\n"), len(body))
    kept = [tok for i, tok in enumerate(body) if not tok.text or head < i < tail]
    closers = [_Tok(-1, f"</{t.tag}>", "", t.tag, closing=True) for t in reversed(stack)]
    out: list[_Tok] = []
    for tok in [*opened, *kept, *closers]:
        if tok.closing and out and out[-1].tag and not out[-1].closing:
            out.pop()  # an element the cut left empty: drop it rather than send <b></b>
        else:
            out.append(tok)
    return "".join(tok.raw for tok in out), stack


def split_message(html: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Split valid Telegram HTML into parts that each validate and show at most ``limit`` units.

    Cuts go at the last newline that fits, else the last space, else between characters; tags
    open across a cut are closed and re-opened. Raises TelegramHTMLError for invalid ``html``.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2 (a character outside the BMP takes 2 units)")
    validate(html)
    if visible_length(html) <= limit:
        return [html]
    atoms = _atoms(html)
    parts: list[str] = []
    opened: list[_Tok] = []
    start = 0
    while start < len(atoms):
        end, start_next = _find_cut(atoms, start, limit)
        part, opened = _render(opened, atoms[start:end])
        if part:
            parts.append(part)
        start = start_next
    return parts

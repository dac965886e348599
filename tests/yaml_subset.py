"""The little YAML the repository's compose files use, read without a YAML library (the
bridge needs none): block mappings and lists, one-line flow lists and mappings, quoted
and plain scalars, comments. Anything else (anchors, multi-line strings, tags) is refused,
so a compose file that grows beyond it fails the test instead of being misread."""

from __future__ import annotations

import json
import re
from typing import Any

_KEY = re.compile(r"^([A-Za-z0-9_.-]+):(?:\s+(.*))?$")


def loads(text: str) -> Any:
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw).rstrip()
        if not line.strip():
            continue
        if "\t" in line[: len(line) - len(line.lstrip())]:
            raise ValueError(f"line {number}: tab in indentation")
        if re.search(r"(^|\s)[&*!|>]\S*", line.split(":", 1)[-1]) and not _quoted(line):
            raise ValueError(f"line {number}: unsupported YAML: {line.strip()}")
        lines.append((len(line) - len(line.lstrip()), line.strip(), number))
    value, rest = _block(lines, 0)
    if rest:
        raise ValueError(f"line {rest[0][2]}: unexpected indentation")
    return value


def _quoted(line: str) -> bool:
    value = line.split(":", 1)[-1].strip()
    return value.startswith(("'", '"', "["))


def _strip_comment(line: str) -> str:
    quote = None
    for i, ch in enumerate(line):
        if ch in "'\"" and quote in (None, ch):
            quote = None if quote else ch
        elif ch == "#" and quote is None and (i == 0 or line[i - 1] == " "):
            return line[:i]
    return line


def _block(lines: list[tuple[int, str, int]], indent: int) -> tuple[Any, list[Any]]:
    if lines[0][1].startswith("- "):
        items: list[Any] = []
        while lines and lines[0][0] == indent and lines[0][1].startswith("- "):
            _, text, _ = lines.pop(0)
            items.append(_scalar(text[2:].strip()))
        return items, lines
    mapping: dict[str, Any] = {}
    while lines and lines[0][0] == indent:
        _, text, number = lines.pop(0)
        match = _KEY.match(text)
        if not match:
            raise ValueError(f"line {number}: expected `key: value`: {text}")
        key, value = match.group(1), match.group(2)
        if key in mapping:
            raise ValueError(f"line {number}: {key} given twice")
        if value is None:
            if lines and lines[0][0] > indent:
                mapping[key], lines = _block(lines, lines[0][0])
            elif lines and lines[0][0] == indent and lines[0][1].startswith("- "):
                mapping[key], lines = _block(lines, indent)
            else:
                mapping[key] = None
        else:
            mapping[key] = _scalar(value)
    return mapping, lines


def _scalar(text: str) -> Any:
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        return [_scalar(part.strip()) for part in _split(inner)] if inner else []
    if text.startswith("{") and text.endswith("}"):
        inner = text[1:-1].strip()
        pairs = [part.split(":", 1) for part in _split(inner)] if inner else []
        return {k.strip(): _scalar(v.strip()) for k, v in pairs}
    if text.startswith('"'):
        return json.loads(text)
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return {"true": True, "false": False, "null": None, "~": None}.get(text, text)


def _split(text: str) -> list[str]:
    """Split a flow collection's inside at its top-level commas."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if ch in "'\"" and quote in (None, ch):
            quote = None if quote else ch
        elif quote is None and ch in "[{":
            depth += 1
        elif quote is None and ch in "]}":
            depth -= 1
        elif quote is None and depth == 0 and ch == ",":
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts

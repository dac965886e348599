"""The report's chart as a PNG, drawn with the standard library alone (zlib, struct).

Why no plotting library: matplotlib costs ~40 MB installed and about a second to import,
and Pillow is one more compiled dependency; a bar chart of at most 31 days needs neither.
The picture is rectangles, dots and a 3x5 pixel font for its numbers, written as a
palette PNG (a few kilobytes). It has an opaque background of its own, mid-grey blue
bars and orange dots, so it reads the same in Telegram's light and dark themes.
Drawing takes milliseconds; callers still run it off the event loop (asyncio.to_thread).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from decimal import Decimal

WIDTH, HEIGHT = 800, 400
_PAD_LEFT, _PAD_RIGHT, _PAD_TOP, _PAD_BOTTOM = 70, 50, 40, 40
_SCALE = 3  # each font pixel is 3x3 image pixels

# Palette: background, grid, text, bars (revenue), dots (orders).
_PALETTE = [(0xF4, 0xF6, 0xF8), (0xD0, 0xD6, 0xDD), (0x33, 0x3B, 0x45), (0x3A, 0x7B, 0xD5),
            (0xF0, 0x8A, 0x24)]  # fmt: skip
_BG, _GRID, _TEXT, _BAR, _DOT = range(5)

# 3x5 glyphs, rows top to bottom, "#" lit.
_GLYPHS = {
    "0": "####.##.##.####", "1": ".#.##..#..#.###", "2": "###..#####..###",
    "3": "###..####..####", "4": "#.##.####..#..#", "5": "####..###..####",
    "6": "####..####.####", "7": "###..#..#..#..#", "8": "####.#####.####",
    "9": "####.####..####", ".": "............#..", ",": "..........#.#..", "-": "......###......",
    " ": "...............", "/": "..#..#.#..#.#..", ":": "....#.....#....",
}  # fmt: skip
_GLYPHS.update({
    "A": ".#.#.#####.##.#", "B": "##.#.###.#.###.", "C": "####..#..#..###", "D": "##.#.##.##.###.",
    "E": "####..##.#..###", "F": "####..##.#..#..", "G": "####..#.##.####", "H": "#.##.#####.##.#",
    "I": "###.#..#..#.###", "J": "..#..#..##.####", "K": "#.##.###.#.##.#", "L": "#..#..#..#..###",
    "M": "#.########.##.#", "N": "##.#.##.##.##.#", "O": "####.##.##.####", "P": "####.#####..#..",
    "Q": "####.##.####..#", "R": "##.#.###.#.##.#", "S": "####..###..####", "T": "###.#..#..#..#.",
    "U": "#.##.##.##.####", "V": "#.##.##.##.#.#.", "W": "#.##.########.#", "X": "#.##.#.#.#.##.#",
    "Y": "#.##.#.#..#..#.", "Z": "###..#.#.#..###", "k": "#..#.###.#.##.#",
})  # fmt: skip


def chart_png(series: Sequence[tuple[Decimal, int]], labels: Sequence[str], currency: str) -> bytes:
    """Bars of revenue and dots of orders per bucket, labelled below; a PNG of 800x400."""
    pixels = bytearray([_BG]) * (WIDTH * HEIGHT)
    plot_w, plot_h = WIDTH - _PAD_LEFT - _PAD_RIGHT, HEIGHT - _PAD_TOP - _PAD_BOTTOM
    top_revenue = max((r for r, _ in series), default=Decimal()) or Decimal(1)
    top_orders = max((n for _, n in series), default=0) or 1
    for step in range(5):  # grid lines at 0, 25, 50, 75, 100 %
        y = _PAD_TOP + plot_h - plot_h * step // 4
        _rect(pixels, _PAD_LEFT, y, plot_w, 1, _GRID)
    _text(pixels, 8, _PAD_TOP - 6, _short(top_revenue), _BAR)
    _text(pixels, 8, _PAD_TOP + 14, currency.upper()[:3], _TEXT)
    _text(pixels, WIDTH - _PAD_RIGHT + 8, _PAD_TOP - 6, str(top_orders), _DOT)
    count = max(len(series), 1)
    slot = plot_w / count
    bar = max(int(slot * 0.7), 1)
    every = max(1, -(-len(labels) * 4 * 4 * _SCALE // plot_w))  # leave room between labels
    for i, (revenue, orders) in enumerate(series):
        x = _PAD_LEFT + int(i * slot + (slot - bar) / 2)
        height = int(plot_h * float(revenue / top_revenue)) if revenue > 0 else 0
        _rect(pixels, x, _PAD_TOP + plot_h - height, bar, height, _BAR)
        cy = _PAD_TOP + plot_h - plot_h * orders // top_orders
        cx = x + bar // 2
        _rect(pixels, cx - 4, cy - 4, 9, 9, _DOT)
        if i < len(labels) and i % every == 0:
            _text(
                pixels,
                cx - len(labels[i]) * 2 * _SCALE,
                HEIGHT - _PAD_BOTTOM + 12,
                labels[i],
                _TEXT,
            )
    return _png(pixels)


def _short(amount: Decimal) -> str:
    """1234567 as 1.2M, 45000 as 45k: the axis has little room."""
    value = float(amount)
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= limit:
            shown = value / limit
            return (f"{shown:.1f}" if shown < 10 else f"{shown:.0f}") + suffix
    return f"{value:.0f}"


def _rect(pixels: bytearray, x: int, y: int, w: int, h: int, colour: int) -> None:
    x0, x1 = max(x, 0), min(x + w, WIDTH)
    for row in range(max(y, 0), min(y + h, HEIGHT)):
        start = row * WIDTH
        pixels[start + x0 : start + x1] = bytes([colour]) * max(x1 - x0, 0)


def _text(pixels: bytearray, x: int, y: int, text: str, colour: int) -> None:
    for n, char in enumerate(text):
        glyph = _GLYPHS.get(char, _GLYPHS.get(char.upper(), _GLYPHS[" "]))
        for i, lit in enumerate(glyph):
            if lit == "#":
                gx, gy = x + n * 4 * _SCALE + (i % 3) * _SCALE, y + (i // 3) * _SCALE
                _rect(pixels, gx, gy, _SCALE, _SCALE, colour)


def _png(pixels: bytearray) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(pixels[y * WIDTH : (y + 1) * WIDTH]) for y in range(HEIGHT))
    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 3, 0, 0, 0)  # 8-bit palette
    palette = b"".join(bytes(c) for c in _PALETTE)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"PLTE", palette)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )

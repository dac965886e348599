"""How long rendering takes: a typical order, and an order of 300 long-named items, whose
item list is cut by trying fewer items until the message fits.

    python bench/render.py [--rounds 200]

Rendering runs in the router, one event at a time, so its cost adds to every event's way
to Telegram.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from typing import Any

from bridge.payloads import parse_payload
from bridge.render.renderer import Renderer, RenderOptions
from bridge.render.samples import resource_body

LANGUAGES = ("en", "vi", "pt_BR")


def long_order(count: int) -> bytes:
    order: dict[str, Any] = json.loads(resource_body("order"))
    item = order["line_items"][0]
    order["line_items"] = [
        item | {"id": n, "name": f"Áo dài lụa tơ tằm thêu tay 🌸 phiên bản giới hạn số {n:03d}"}
        for n in range(1, count + 1)
    ]
    return json.dumps(order).encode()


def measure(renderer: Renderer, body: bytes, rounds: int) -> tuple[float, float, int]:
    """Median and 95th percentile in milliseconds, and the number of parts."""
    payload = parse_payload("order.created", body)
    now = dt.datetime.now(dt.UTC)
    timings, parts = [], 0
    for index in range(rounds):
        started = time.perf_counter()
        rendered = renderer.render(payload, 1, LANGUAGES[index % len(LANGUAGES)], now=now)
        timings.append((time.perf_counter() - started) * 1000)
        parts = len(rendered.parts)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    renderer = Renderer(RenderOptions())
    started = time.perf_counter()
    renderer.compile_all()
    for language in LANGUAGES:
        renderer.render(parse_payload("order.created", resource_body("order")), 1, language)
    elapsed = (time.perf_counter() - started) * 1000
    print(f"start-up (compile, catalogues, 3 languages): {elapsed:.0f} ms")
    for name, body in (
        ("sample order (2 items)", resource_body("order")),
        ("order of 300 long-named items", long_order(300)),
    ):
        median, p95, parts = measure(renderer, body, rounds)
        print(f"{name}: median {median:.2f} ms, p95 {p95:.2f} ms, {parts} message(s)")


if __name__ == "__main__":
    main()

"""Draw the messages the bridge sends as a Telegram chat, and screenshot it for the README.

The texts and buttons are the real Renderer's output for the sample payloads of
`woo-bridge check` (bridge/render/samples), with the built-in templates; only the chat
around them (bubbles, header, times) is drawn here, to look like Telegram's web client.

    python tools/screenshot.py                      # docs/telegram.png, with headless Chromium
    python tools/screenshot.py --actions            # docs/order-actions.png: status buttons
    python tools/screenshot.py --report             # docs/reports.png: /report 7d and its chart
    python tools/screenshot.py --html chat.html     # only the page, to look at in a browser

Chromium comes from the distribution (`apt-get install chromium fonts-noto-color-emoji`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import html
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from yarl import URL

from bridge.payloads import parse_payload
from bridge.queue.models import LedgerRow
from bridge.queue.store import Store
from bridge.render.renderer import Renderer, RenderOptions
from bridge.render.samples import SAMPLES_DIR
from bridge.reports.message import report_message
from bridge.reports.periods import parse_period

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "docs" / "telegram.png"
ACTIONS_OUTPUT = REPO / "docs" / "order-actions.png"
REPORT_OUTPUT = REPO / "docs" / "reports.png"
WIDTH, HEIGHT = 720, 1125
# A few minutes after the sample order was placed, as in the README's own example.
NOW = dt.datetime(2017, 3, 22, 19, 31, tzinfo=dt.UTC)
ZONE = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class Bubble:
    text: str  # Telegram HTML, as sent
    buttons: list[list[str]]  # rows of labels
    time: str
    #: a picture sent with sendPhoto, as a data: URI
    image: str | None = None


#: (topic, sample, the router's status change or None, minutes before NOW it arrives)
MESSAGES = (
    ("order.created", "order", None, 3),
    ("product.updated", "product", None, 2),
    ("order.updated", "order", {"before": "processing", "after": "completed", "changed": True}, 0),
)


#: the status buttons' picture: the new order, then the same message after "Completed"
ACTION_MESSAGES = (("order.created", "order", None, 3),)
#: what the bridge adds to every copy after a tap (bridge.bot.order_actions)
ACTION_LINE = "\n\n✅ Completed · Ana (@ana_shop) · 2017-03-22 15:31"


def bubbles(actions: bool = False) -> list[Bubble]:
    """The sample messages, rendered by the bridge's own Renderer; with `actions`, an order
    with its status buttons, before and after a tap."""
    options = RenderOptions(
        store_url=URL("https://shop.example.com"),
        timezone=ZONE,
        action_stores=frozenset({"default"}) if actions else frozenset(),
    )
    renderer = Renderer(options)
    result: list[Bubble] = []
    for event_id, (topic, sample, change, ago) in enumerate(
        ACTION_MESSAGES if actions else MESSAGES, start=1
    ):
        payload = parse_payload(topic, (SAMPLES_DIR / f"{sample}.json").read_bytes())
        rendered = renderer.render(payload, event_id, status_change=change, now=NOW)
        keyboard = json.loads(rendered.reply_markup or '{"inline_keyboard": []}')
        buttons = [[button["text"] for button in row] for row in keyboard["inline_keyboard"]]
        sent = (NOW - dt.timedelta(minutes=ago)).astimezone(ZONE)
        time = f"{sent:%I:%M %p}".lstrip("0")
        result.extend(Bubble(part, buttons, time) for part in rendered.parts)
        if actions:
            data = json.loads((SAMPLES_DIR / f"{sample}.json").read_bytes())
            done = parse_payload(topic, json.dumps({**data, "status": "completed"}).encode())
            after = renderer.render(done, event_id, now=NOW)
            rows = json.loads(after.reply_markup or '{"inline_keyboard": []}')["inline_keyboard"]
            labels = [[button["text"] for button in row] for row in rows]
            result.append(Bubble(after.parts[-1] + ACTION_LINE, labels, time))
    return result


def report_bubbles() -> list[Bubble]:
    """`/report 7d` for a shop in Ho Chi Minh City: the real report's text and chart, from a
    ledger of made-up orders."""
    return asyncio.run(_report_bubbles())


async def _report_bubbles() -> list[Bubble]:
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    now = dt.datetime(2026, 11, 29, 21, 0, tzinfo=zone)
    names = ("Áo dài lụa", "Nón lá", "Khăn lụa tơ tằm", "Túi cói", "Dép tổ ong", "Quạt giấy")
    with tempfile.TemporaryDirectory() as work:
        store = await Store.open(Path(work) / "db.sqlite3")
        for n in range(140):
            day = n % 14
            created = now - dt.timedelta(days=day, hours=n % 9, minutes=n)
            status = ("completed", "processing", "cancelled", "completed", "refunded")[n % 5]
            items = ((names[n % 6], 1 + n % 3, str(180000 * (1 + n % 3))),)
            await store.record_ledger(
                LedgerRow(
                    "default", str(n), status, "VND", items[0][2], "0", items,
                    f"id:{n % 50}", created.timestamp(), "",
                )
            )  # fmt: skip
        renderer = Renderer(RenderOptions(timezone=zone))
        built = await report_message(
            store, parse_period("7d", now), renderer.formatter("en"), stores=("default",)
        )
        await store.close()
    image = "data:image/png;base64," + base64.b64encode(built.chart or b"").decode()
    return [
        Bubble(built.text, [], "9:00 PM"),
        Bubble(html.escape(built.caption), [], "9:00 PM", image),
    ]


STYLE = """
* { box-sizing: border-box; }
html, body { min-height: 100%; }
/* a flat green like Telegram's default wallpaper: a gradient would double the PNG's size */
body { margin: 0; font: 15px/1.38 "Noto Sans", "DejaVu Sans", Arial, sans-serif; color: #000;
  background: #a9c18f; }
header { display: flex; align-items: center; gap: 12px; padding: 10px 18px; background: #fff;
  border-bottom: 1px solid #dadce0; }
.avatar { width: 42px; height: 42px; border-radius: 50%; background: #5fa8e8; color: #fff;
  display: flex; align-items: center; justify-content: center; font-weight: 600; }
header b { display: block; font-size: 16px; }
header span { color: #707579; font-size: 13.5px; }
main { padding: 14px 18px 18px; display: flex; flex-direction: column; gap: 10px; }
.message { max-width: 560px; }
.bubble { background: #fff; border-radius: 14px 14px 14px 4px; padding: 7px 11px 6px;
  box-shadow: 0 1px 2px rgba(16, 35, 47, .15); white-space: pre-wrap; overflow-wrap: anywhere; }
.sender { color: #3390ec; font-weight: 600; font-size: 14px; margin-bottom: 2px; }
.time { float: right; margin: 6px 0 -4px 12px; color: #8f9ea5; font-size: 12px; }
.bubble a { color: #3390ec; text-decoration: none; }
.bubble code { font-family: "DejaVu Sans Mono", monospace; font-size: 13.5px; color: #c7254e; }
.bubble blockquote { margin: 2px 0; padding-left: 9px; border-left: 3px solid #3390ec; }
.buttons { display: flex; gap: 4px; margin-top: 4px; }
.caption { color: #fff; font-size: 13px; text-align: center; margin: 4px 0; }
.buttons div { flex: 1; text-align: center; padding: 8px; border-radius: 10px; color: #fff;
  font-weight: 600; font-size: 14px; background: #7f9a6c; }
"""


def page(messages: list[Bubble], captions: tuple[str, ...] = ()) -> str:
    """A chat of `messages` as Telegram's web client draws a group; a caption above each."""
    items = []
    for index, message in enumerate(messages):
        rows = "".join(
            '<div class="buttons">'
            + "".join(f"<div>{html.escape(b)}</div>" for b in row)
            + "</div>"
            for row in message.buttons
        )
        if index < len(captions):
            items.append(f'<div class="caption">{html.escape(captions[index])}</div>')
        picture = f'<img src="{message.image}" width="520">' if message.image else ""
        items.append(
            '<div class="message"><div class="bubble"><div class="sender">Shop bridge</div>'
            + picture
            # The message is Telegram HTML as sent; a browser draws its few tags the same way.
            + f'{message.text}<span class="time">{message.time}</span></div>'
            + rows
            + "</div>"
        )
    return (
        '<!doctype html><html><head><meta charset="utf-8"><style>'
        + STYLE
        + '</style></head><body><header><div class="avatar">OD</div><div><b>Order desk</b>'
        + "<span>3 members, 1 bot</span></div></header><main>"
        + "".join(items)
        + "</main></body></html>"
    )


def screenshot(page_file: Path, output: Path, chromium: str) -> None:
    """Take `page_file`'s picture with headless Chromium, in a profile of its own."""
    with tempfile.TemporaryDirectory() as profile:
        # The browser found on PATH, with fixed arguments: no outside input.
        subprocess.run(  # noqa: S603
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--screenshot={output}",
                f"--window-size={WIDTH},{HEIGHT}",
                page_file.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, help="write the page there and take no picture")
    parser.add_argument("--output", type=Path, help=f"default {OUTPUT} ({ACTIONS_OUTPUT})")
    parser.add_argument("--chromium", default="chromium", help="the browser's command")
    parser.add_argument("--actions", action="store_true", help="an order's status buttons")
    parser.add_argument("--report", action="store_true", help="/report 7d and its chart")
    args = parser.parse_args(argv)
    if args.output is None:
        args.output = REPORT_OUTPUT if args.report else ACTIONS_OUTPUT if args.actions else OUTPUT
    captions = ("A new order, with its status buttons", "After a tap on Completed")
    if args.report:
        text = page(report_bubbles(), ("/report 7d",))
    else:
        text = page(bubbles(args.actions), captions if args.actions else ())
    if args.html is not None:
        args.html.write_text(text, encoding="utf-8")
        return 0
    chromium = shutil.which(args.chromium)
    if chromium is None:
        print(f"{args.chromium} not found: apt-get install chromium", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as work:
        page_file = Path(work) / "chat.html"
        page_file.write_text(text, encoding="utf-8")
        screenshot(page_file, args.output.resolve(), chromium)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

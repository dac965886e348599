"""Views: every name a template uses exists, whatever the payload holds."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from babel import Locale

from bridge.payloads import Payload, PayloadKind, parse_payload
from bridge.render.formatting import Formatter
from bridge.render.views import html_text, order_view, template_context, text
from tests.helpers import PAYLOADS

FMT = Formatter(Locale.parse("en"), ZoneInfo("UTC"), now=dt.datetime(2017, 3, 23, tzinfo=dt.UTC))


def test_text_decodes_entities_and_drops_structures() -> None:
    assert text("Ship Your Idea &ndash; Black &amp; White") == "Ship Your Idea – Black & White"
    assert text(None) == text([]) == text({}) == text(False) == ""
    assert text(12) == "12"


def test_store_html_becomes_text_cut_at_a_word() -> None:
    assert html_text("<p>Soft <b>cotton</b> &amp; linen</p>") == "Soft cotton & linen"
    long = "<p>" + "word " * 100 + "</p>"
    cut = html_text(long, limit=22)
    assert cut == "word word word word…"
    assert html_text(None) == ""


def test_an_order_view_has_every_name_for_any_payload() -> None:
    full = order_view(json.loads((PAYLOADS / "order.json").read_text()), FMT)
    for odd in ({}, {"billing": [], "line_items": {"a": 1}, "shipping_lines": "x"}):
        assert set(order_view(odd, FMT)) == set(full)
    assert full["item_count"] == "3"
    assert full["created_ago"] == "5 hours ago"
    assert full["line_items"][0] == {
        "name": "Woo Single #1",
        "quantity": "2",
        "price": "$3.00",
        "total": "$6.00",
        "sku": "",
        "details": "",
    }


def test_the_context_names_the_resource_and_empties_the_others() -> None:
    body = (PAYLOADS / "product.json").read_bytes()
    context = template_context(parse_payload("product.updated", body), 3, FMT, language="en")
    assert context["product"]["name"] == "Premium Quality"
    assert context["order"]["number"] == ""
    assert context["resource_id"] == "794"
    assert context["fields"]["name"] == "Premium Quality"
    action = Payload("action.woocommerce_x", PayloadKind.ACTION, {"action": "x", "arg": {"k": 1}})
    assert template_context(action, 1, FMT)["action"]["arg_fields"] == {"k": "1"}

"""Rendering: every topic in every language, from real payloads and hostile variations of
them, into HTML Telegram accepts, never longer than one message allows."""

from __future__ import annotations

import copy
import datetime as dt
import html
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from yarl import URL

from bridge.payloads import Payload, PayloadKind, parse_payload
from bridge.render.renderer import Renderer, RenderOptions
from bridge.render.samples import SAMPLES_DIR
from bridge.render.telegram_html import MAX_MESSAGE_LENGTH, validate, visible_length, visible_text
from bridge.render.templates import TemplateProblem
from tests.helpers import PAYLOADS

NOW = dt.datetime(2017, 3, 22, 19, 31, tzinfo=dt.UTC)
LANGUAGES = ("en", "vi", "pt_BR")
TOPICS = [
    *(f"{r}.{e}" for r in ("order", "product", "coupon") for e in ("created", "updated")),
    *(f"{r}.{e}" for r in ("order", "product", "coupon") for e in ("deleted", "restored")),
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "product.published",
]
HOSTILE = "<b>Bob</b> </i> & <script>alert(1)</script> &ndash; a<b &amp; 5 > 3 &lt;i&gt; 🙂"
SHOWN_HOSTILE = html.unescape(HOSTILE)  # what staff must read: the text, not markup
NAME_KEYS = {
    "first_name",
    "last_name",
    "name",
    "code",
    "sku",
    "method_title",
    "payment_method_title",
    "customer_note",
    "city",
    "company",
    "address_1",
}


def fixture(resource: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{resource}.json").read_text())
    return data


def walk(value: Any, leaf: Callable[[str, Any], Any], key: str = "") -> Any:
    """Rebuild a payload, replacing every leaf value with leaf(key, value)."""
    if isinstance(value, dict):
        return {k: walk(v, leaf, k) for k, v in value.items()}
    if isinstance(value, list):
        return [walk(v, leaf, key) for v in value]
    return leaf(key, value)


def php_empty_objects(value: Any, top: bool = True) -> Any:
    """What PHP's json_encode makes of empty arrays: `[]` where an object was expected."""
    if isinstance(value, dict):
        if not top:
            return []
        return {k: php_empty_objects(v, top=False) for k, v in value.items()}
    if isinstance(value, list):
        return [php_empty_objects(v, top=False) for v in value]
    return value


def vietnamese(data: dict[str, Any]) -> dict[str, Any]:
    names = {"first_name": "Nguyễn Thị", "last_name": "Minh Khai 🌸", "city": "Hồ Chí Minh"}
    data = walk(data, lambda k, v: names.get(k, v))
    data = walk(data, lambda k, v: "Áo dài lụa tơ tằm 👘 – cỡ M" if k == "name" else v)
    data.update(currency="VND", total="1250000", code="GIẢMGIÁ🎉")
    return walk(data, lambda k, v: "VN" if k == "country" else v)


def portuguese(data: dict[str, Any]) -> dict[str, Any]:
    names = {"first_name": "João", "last_name": "da Conceição 🇧🇷", "city": "São Paulo"}
    data = walk(data, lambda k, v: names.get(k, v))
    data = walk(data, lambda k, v: "Camiseta Açaí – Edição Limitada ☕" if k == "name" else v)
    data.update(currency="BRL", total="1234.56", code="DESCONTO10")
    return walk(data, lambda k, v: "BR" if k == "country" else v)


def wrong_types(data: dict[str, Any]) -> dict[str, Any]:
    return data | {
        "line_items": "oops",
        "billing": "not an address",
        "status": 5,
        "total": {"amount": 1},
        "date_created": 1490210882,
        "categories": [None, 3, "x"],
        "stock_quantity": "many",
        "usage_limit": [],
        "shipping_lines": [{"method_title": ["a"]}],
    }


VARIATIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "as documented": lambda d: d,
    "vietnamese names with emoji": vietnamese,
    "portuguese names with emoji": portuguese,
    "markup in names": lambda d: walk(d, lambda k, v: HOSTILE if k in NAME_KEYS else v),
    "markup in every string": lambda d: walk(d, lambda k, v: HOSTILE if isinstance(v, str) else v),
    "empty fields": lambda d: walk(
        d, lambda k, v: "" if isinstance(v, str) else 0 if isinstance(v, int | float) else v
    ),
    "null fields": lambda d: walk(d, lambda k, v: None),
    "[] where an object is expected": php_empty_objects,
    "missing fields": lambda d: {"id": d["id"]},
    "no fields at all": lambda d: {},
    "wrong types": wrong_types,
}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    options = RenderOptions(
        store_url=URL("https://shop.example.com"), timezone=ZoneInfo("America/Sao_Paulo")
    )
    renderer = Renderer(options)
    renderer.compile_all()
    return renderer


def render(renderer: Renderer, topic: str, data: Any, language: str = "en") -> Any:
    return renderer.render(parse_payload(topic, json.dumps(data).encode()), 7, language, now=NOW)


def assert_sendable(parts: tuple[str, ...]) -> None:
    assert parts
    for part in parts:
        validate(part, max_length=MAX_MESSAGE_LENGTH)


# --- every topic, every language, every variation -----------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("topic", [*TOPICS, "action.woocommerce_add_to_cart"])
def test_every_topic_has_its_own_template(renderer: Renderer, topic: str, language: str) -> None:
    resource = topic.split(".")[0]
    data = (
        {"action": "woocommerce_add_to_cart", "arg": "a1b2"}
        if resource == "action"
        else fixture(resource)
    )
    if topic.endswith(".deleted"):
        data = {"id": data["id"]}  # what WooCommerce sends for a deletion
    rendered = render(renderer, topic, data, language)
    assert rendered.template == f"{topic}.html"
    assert rendered.language == language
    assert_sendable(rendered.parts)


@pytest.mark.parametrize("variation", VARIATIONS)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("topic", TOPICS)
def test_every_render_is_valid_telegram_html(
    renderer: Renderer,
    caplog: pytest.LogCaptureFixture,
    topic: str,
    language: str,
    variation: str,
) -> None:
    data = VARIATIONS[variation](copy.deepcopy(fixture(topic.split(".")[0])))
    status = data.get("status")
    # The router tells an order update's status change; its statuses come from payloads too.
    change = (
        {"before": HOSTILE, "after": status, "changed": True}
        if topic == "order.updated" and isinstance(status, str)
        else None
    )
    payload = parse_payload(topic, json.dumps(data).encode())
    with caplog.at_level(logging.ERROR):
        rendered = renderer.render(payload, 7, language, change, now=NOW)
    assert rendered.template == f"{topic}.html", "the built-in template failed: " + caplog.text
    assert caplog.records == []
    assert_sendable(rendered.parts)
    if variation == "markup in names" and not topic.endswith(".deleted"):
        assert SHOWN_HOSTILE in visible_text("\n".join(rendered.parts))


SHAPES = {
    "action.woocommerce_add_to_cart": [
        {"action": "woocommerce_add_to_cart", "arg": HOSTILE},
        {"action": "woocommerce_add_to_cart", "arg": {"key": HOSTILE, "quantity": 2}},
        {"action": "woocommerce_add_to_cart", "arg": None},
    ],
    "action.woocommerce_payment_complete": [
        {"action": "woocommerce_payment_complete", "arg": 727},
        {"action": HOSTILE, "arg": [1, 2, {"a": HOSTILE}]},
        {"action": "x" * 5000, "arg": "y" * 9000},
    ],
    "order.created": [
        {"code": "woocommerce_rest_cannot_view", "message": HOSTILE, "data": {"status": 401}},
        {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.", "data": []},
        {"code": HOSTILE, "message": HOSTILE},
    ],
    "booking.created": [{"id": 5, "name": HOSTILE, "note": "z" * 9000}, {"id": None}],
    "booking.deleted": [{"id": HOSTILE}, {"id": 3}],
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("topic", SHAPES)
def test_actions_errors_and_custom_topics_are_valid_too(
    renderer: Renderer, caplog: pytest.LogCaptureFixture, topic: str, language: str
) -> None:
    for data in SHAPES[topic]:
        with caplog.at_level(logging.ERROR):
            rendered = render(renderer, topic, data, language)
        assert caplog.records == []
        assert rendered.template != ""
        assert_sendable(rendered.parts)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unreadable_body_is_announced_in_every_language(
    renderer: Renderer, language: str
) -> None:
    rendered = renderer.render(parse_payload("order.created", b"<html>&</html>"), 9, language)
    assert rendered.template == "unreadable.html"
    assert_sendable(rendered.parts)
    assert "order.created" in rendered.parts[0]


# --- what the messages say ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "facts"),
    [
        (
            "en",
            ["New order #727", "Processing", "$29.35", "Direct Bank Transfer", "John Doe",
             "(555) 555-5555", "john.doe@example.com", "Woo Single #1 × 2 — $6.00",
             "Ship Your Idea – Color: Black, Size: M Test × 1 — $12.00", "Flat Rate · $10.00",
             "969 Market, San Francisco, CA, 94103, United States", "Mar 22, 2017, 4:28\u202fPM",
             "3 minutes ago"],
        ),
        (
            "vi",
            ["Đơn hàng mới #727", "Đang xử lý", "29,35\xa0US$", "Hoa Kỳ", "3 phút trước",
             "16:28 22 thg 3, 2017"],
        ),
        (
            "pt_BR",
            ["Novo pedido #727", "Processando", "US$\xa029,35", "Estados Unidos",
             "há 3 minutos", "22 de mar. de 2017 16:28"],
        ),
    ],
)  # fmt: skip
def test_an_order_shows_what_staff_act_on(
    renderer: Renderer, language: str, facts: list[str]
) -> None:
    rendered = render(renderer, "order.created", fixture("order"), language)
    text = visible_text(rendered.parts[0])
    for fact in facts:
        assert fact in text, fact
    assert "Ship Your Idea &ndash;" not in rendered.parts[0]  # entities are decoded first


@pytest.mark.parametrize(
    ("change", "language", "title"),
    [
        ({"before": "pending", "after": "processing", "changed": True}, "en",
         "Order #727: Pending payment → Processing"),
        ({"before": "on-hold", "after": "completed", "changed": True}, "vi",
         "Đơn hàng #727: Tạm giữ → Đã hoàn thành"),
        ({"before": "", "after": "processing", "changed": True}, "pt_BR",
         "Pedido #727 passou para Processando"),
        ({"before": "processing", "after": "processing", "changed": False}, "en",
         "Order #727 updated"),
        (None, "en", "Order #727 updated"),
    ],
)  # fmt: skip
def test_an_order_update_names_its_status_change(
    renderer: Renderer, change: dict[str, object] | None, language: str, title: str
) -> None:
    payload = parse_payload("order.updated", json.dumps(fixture("order")).encode())
    rendered = renderer.render(payload, 1, language, change, now=NOW)
    assert rendered.parts[0].startswith(f"🔄 <b>{title}</b>")
    assert_sendable(rendered.parts)


def test_order_money_follows_the_order_currency(renderer: Renderer) -> None:
    vnd = fixture("order") | {"currency": "VND", "total": "1250000"}
    assert "1.250.000\xa0₫" in render(renderer, "order.created", vnd, "vi").parts[0]
    brl = fixture("order") | {"currency": "BRL", "total": "1234.56"}
    assert "R$\xa01.234,56" in render(renderer, "order.created", brl, "pt_BR").parts[0]
    usd = fixture("order") | {"total": "1234.56"}
    assert "$1,234.56" in render(renderer, "order.created", usd, "en").parts[0]


def test_an_order_shows_its_note_and_item_attributes(renderer: Renderer) -> None:
    order = fixture("order") | {"customer_note": "Leave it with the <neighbour> & ring"}
    order["line_items"][1]["meta_data"] = [
        {"key": "pa_size", "value": "m", "display_key": "Size", "display_value": "<p>M</p>"},
        {"key": "_reduced_stock", "value": "1", "display_key": "_reduced_stock"},
    ]
    text = visible_text(render(renderer, "order.created", order).parts[0])
    assert "Leave it with the <neighbour> & ring" in text
    assert "(Size: M) × 1" in text
    assert "_reduced_stock" not in text


def test_a_product_shows_prices_stock_and_its_page(renderer: Renderer) -> None:
    product = fixture("product") | {
        "sku": "PQ-19",
        "regular_price": "21.99",
        "sale_price": "19.99",
        "on_sale": True,
        "stock_quantity": 12,
    }
    options = RenderOptions(currency="USD")
    html_text = (
        Renderer(options)
        .render(parse_payload("product.updated", json.dumps(product).encode()), 1, "en")
        .parts[0]
    )
    assert "<s>$21.99</s> <b>$19.99</b>" in html_text
    assert "PQ-19" in html_text
    assert "In stock (12)" in html_text
    assert '<a href="https://example.com/product/premium-quality-19/">View in the store</a>' in (
        html_text
    )
    assert "Pellentesque habitant" in html_text  # the short description, as text
    assert "<p>" not in html_text


def test_a_product_without_a_store_currency_shows_the_store_price_text(
    renderer: Renderer,
) -> None:
    text = render(renderer, "product.created", fixture("product")).parts[0]
    assert "💲 <b>$21.99</b>" in text  # from price_html, reduced to text


def test_a_customer_and_a_coupon_show_their_facts(renderer: Renderer) -> None:
    customer = visible_text(
        render(renderer, "customer.created", fixture("customer") | {"orders_count": 3}).parts[0]
    )
    for fact in ("New customer: John Doe", "john.doe@example.com", "San Francisco, United States",
                 "Orders: 3"):  # fmt: skip
        assert fact in customer
    coupon = fixture("coupon") | {"date_expires_gmt": "2025-01-05T03:00:00", "usage_limit": 100}
    text = visible_text(render(renderer, "coupon.created", coupon, "pt_BR").parts[0])
    for fact in ("Novo cupom: 10off", "10%", "Desconto percentual", "Expira em 5 de jan. de 2025",
                 "Usos: 0 / 100"):  # fmt: skip
        assert fact in text


def test_deletions_say_what_was_deleted_and_offer_the_trash(renderer: Renderer) -> None:
    rendered = render(renderer, "product.deleted", {"id": 794}, "vi")
    assert "Sản phẩm #794 đã được chuyển vào thùng rác" in rendered.parts[0]
    assert json.loads(rendered.reply_markup or "") == {
        "inline_keyboard": [
            [
                {
                    "text": "Mở thùng rác",
                    "url": "https://shop.example.com/wp-admin/edit.php"
                    "?post_status=trash&post_type=product",
                }
            ]
        ]
    }
    assert render(renderer, "customer.deleted", {"id": 25}).reply_markup is None


def test_a_rest_error_explains_the_cause_and_the_fix(renderer: Renderer) -> None:
    error = {
        "code": "woocommerce_rest_cannot_view",
        "message": "Sorry, you cannot view this resource.",
        "data": {"status": 401},
    }
    text = visible_text(render(renderer, "order.updated", error).parts[0])
    assert "lacks permission" in text
    assert "Shop manager" in text
    assert "WooCommerce › Settings › Advanced › Webhooks" in text
    assert "order.updated" in text


@pytest.mark.parametrize(
    ("language", "label"),
    [("en", "Open in admin"), ("vi", "Mở trong trang quản trị"), ("pt_BR", "Abrir no painel")],
)
def test_the_admin_button_is_in_the_chat_language(
    renderer: Renderer, language: str, label: str
) -> None:
    markup = json.loads(render(renderer, "order.created", fixture("order"), language).reply_markup)
    [[button]] = markup["inline_keyboard"]
    assert button == {
        "text": label,
        "url": "https://shop.example.com/wp-admin/post.php?post=727&action=edit",
    }


def test_without_a_store_url_there_is_no_button() -> None:
    rendered = Renderer().render(
        parse_payload("order.created", (PAYLOADS / "order.json").read_bytes()), 1
    )
    assert rendered.reply_markup is None


def test_a_chat_language_is_normalised_and_an_unknown_one_falls_back(
    renderer: Renderer, caplog: pytest.LogCaptureFixture
) -> None:
    assert render(renderer, "order.created", fixture("order"), "pt-BR").language == "pt_BR"
    with caplog.at_level(logging.WARNING):
        rendered = render(renderer, "order.created", fixture("order"), "klingon")
    assert rendered.language == "en"
    assert "'klingon' is not a language" in caplog.text


def test_a_language_without_catalogue_gets_english_text_and_its_own_formats() -> None:
    rendered = Renderer(RenderOptions(language="fr")).render(
        parse_payload("order.created", (PAYLOADS / "order.json").read_bytes()), 1, now=NOW
    )
    text = visible_text(rendered.parts[0])
    assert "New order #727" in text
    assert "29,35\xa0$US" in text
    assert "États-Unis" in text


# --- length ---------------------------------------------------------------------------------


def long_order(count: int) -> dict[str, Any]:
    order = fixture("order")
    item = order["line_items"][0]
    order["line_items"] = [
        item
        | {
            "id": n,
            # Emoji count twice in Telegram's UTF-16 units: the limit must be counted that way.
            "name": f"Áo dài lụa tơ tằm thêu tay 🌸🎋 phiên bản giới hạn mùa xuân số {n:03d} "
            + "– màu đỏ son, cổ tròn, tay lỡ, kèm khăn choàng",
        }
        for n in range(1, count + 1)
    ]
    return order


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_order_of_300_long_items_fits_one_message(renderer: Renderer, language: str) -> None:
    rendered = render(renderer, "order.created", long_order(300), language)
    assert len(rendered.parts) == 1
    [text] = rendered.parts
    validate(text, max_length=MAX_MESSAGE_LENGTH)
    shown = len(re.findall(r"^• ", visible_text(text), flags=re.MULTILINE))
    more = {"en": r"… and (\d+) more items", "vi": r"… và (\d+) mặt hàng khác",
            "pt_BR": r"… e mais (\d+) itens"}[language]  # fmt: skip
    match = re.search(more, text)
    assert match, text[-300:]
    assert shown + int(match[1]) == 300
    # As many items as fit: one more line would not.
    assert visible_length(text) > MAX_MESSAGE_LENGTH - 160
    assert "🕒" in text  # what follows the list is still there
    assert "phiên bản giới hạn mùa xuân số 001" in text


def test_a_short_order_lists_every_item(renderer: Renderer) -> None:
    text = render(renderer, "order.created", long_order(5)).parts[0]
    assert len(re.findall(r"^• ", text, flags=re.MULTILINE)) == 5
    assert "more item" not in text


def test_text_too_long_for_one_message_is_split_into_valid_parts(tmp_path: Path) -> None:
    # The built-in templates show short values; a shop's template may print anything.
    source = "🛒 <b>New order #{{ order.number }}</b>\n<i>{{ payload.customer_note }}</i>"
    renderer = shop_renderer(tmp_path, **{"order.created.html": source})
    order = long_order(3) | {"customer_note": "<Please> & call first.\n" * 300}
    rendered = render(renderer, "order.created", order)
    assert len(rendered.parts) == 2
    assert_sendable(rendered.parts)
    assert rendered.parts[0].startswith("🛒 <b>New order #727</b>")
    assert all(part.count("<i>") == part.count("</i>") for part in rendered.parts)


# --- the shop's own templates ---------------------------------------------------------------


def shop_renderer(folder: Path, **files: str) -> Renderer:
    for name, source in files.items():
        (folder / name).write_text(source, encoding="utf-8")
    return Renderer(RenderOptions(override_dir=folder))


def test_a_shop_template_replaces_the_built_in_one_file_by_file(tmp_path: Path) -> None:
    renderer = shop_renderer(tmp_path, **{"order.created.html": "Order {{ order.number }}!"})
    renderer.compile_all()
    assert render(renderer, "order.created", fixture("order")).parts == ("Order 727!",)
    assert "Order #727 updated" in render(renderer, "order.updated", fixture("order")).parts[0]


def test_a_shop_template_can_use_translations_and_filters(tmp_path: Path) -> None:
    source = '{{ _("New product") }}: {{ payload.price | money("BRL") }}'
    renderer = shop_renderer(tmp_path, **{"product.created.html": source})
    renderer.compile_all()
    rendered = render(renderer, "product.created", fixture("product"), "pt_BR")
    assert rendered.parts == ("Novo produto: R$\xa021,99",)


def test_a_failing_shop_template_falls_back_to_the_built_in_one_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    renderer = shop_renderer(
        tmp_path, **{"order.created.html": "Order\n{{ order.number }}\n{{ order.nmber.upper() }}"}
    )
    renderer.compile_all()
    with caplog.at_level(logging.ERROR):
        rendered = render(renderer, "order.created", fixture("order"))
    assert rendered.template == "order.created.html"
    assert rendered.parts[0].startswith("🛒 <b>New order #727</b>")
    assert f"{tmp_path / 'order.created.html'}, line 3" in caplog.text
    assert "nmber" in caplog.text


def test_a_shop_template_rendering_refused_html_falls_back(tmp_path: Path) -> None:
    renderer = shop_renderer(tmp_path, **{"order.created.html": "<p>{{ order.number }}</p>"})
    rendered = render(renderer, "order.created", fixture("order"))
    assert rendered.parts[0].startswith("🛒 <b>New order #727</b>")


def test_nothing_renders_means_a_fixed_notice(tmp_path: Path) -> None:
    renderer = shop_renderer(tmp_path, **{"default.html": "{{ 1 / 0 }}"})
    # A custom topic has only default.html; the built-in default still works.
    assert "booking.created" in render(renderer, "booking.created", {"id": 4}).parts[0]


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("{% if order.total %}\n{{ order.total }\n{% endif %}", "line 2: unexpected '}'"),
        (
            "line one\n{% if order.note %}\n{{ order.note | shout }}\n{% endif %}",
            "line 3: there is no filter named 'shout'",
        ),
        ("{% if order.total is money %}x{% endif %}", "line 1: there is no test named 'money'"),
        (
            '\n{% from "_ordr.html" import order_details %}',
            "line 2: there is no template '_ordr.html'",
        ),
    ],
)
def test_a_broken_shop_template_stops_the_start_with_file_and_line(
    tmp_path: Path, source: str, problem: str
) -> None:
    renderer = shop_renderer(tmp_path, **{"order.created.html": source})
    with pytest.raises(TemplateProblem) as caught:
        renderer.compile_all()
    assert caught.value.problems == [f"{tmp_path / 'order.created.html'}, {problem}"]


def test_a_shop_catalogue_changes_wording_and_the_built_in_one_fills_gaps(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "locale" / "vi" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(
        'msgid "New product"\nmsgstr "Hàng mới về"\n', encoding="utf-8"
    )
    renderer = Renderer(RenderOptions(override_dir=tmp_path))
    renderer.compile_all()
    text = render(renderer, "product.created", fixture("product"), "vi").parts[0]
    assert text.startswith("🆕 <b>Hàng mới về</b>: Premium Quality")
    assert "📦 Còn hàng" in text


def test_a_product_link_is_only_ever_a_web_address(renderer: Renderer) -> None:
    product = fixture("product") | {"permalink": "javascript:alert(1)"}
    assert "<a " not in render(renderer, "product.created", product).parts[0]


def test_a_broken_shop_catalogue_stops_the_start(tmp_path: Path) -> None:
    folder = tmp_path / "locale" / "vi" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(
        'msgid "New order #%(number)s"\nmsgstr "Đơn #%(so)s"\n', encoding="utf-8"
    )
    with pytest.raises(TemplateProblem, match=r"messages\.po, line 1: unknown named placeholder"):
        Renderer(RenderOptions(override_dir=tmp_path)).compile_all()


def test_payload_kinds_choose_their_templates(renderer: Renderer) -> None:
    cases = [
        (Payload("booking.deleted", PayloadKind.DELETED, {"id": 1}), "deleted.html"),
        (Payload("action.wc_custom", PayloadKind.ACTION, {"action": "wc_custom"}), "action.html"),
        (Payload("order.created", PayloadKind.ERROR, {"code": "x"}), "rest_error.html"),
        (Payload("order.created", PayloadKind.UNREADABLE, problem="?"), "unreadable.html"),
        (Payload("booking.created", PayloadKind.RESOURCE, {"id": 1}), "default.html"),
    ]
    for payload, template in cases:
        assert renderer.template_for(payload) == template


def test_the_readme_shows_a_real_rendered_order() -> None:
    """The docs' example is what the bridge sends for the sample order, three minutes on."""
    doc = Path(__file__).resolve().parents[2] / "docs" / "messages.md"
    example = (
        doc.read_text(encoding="utf-8")
        .split("# Messages and templates", 1)[1]
        .split("```text\n", 1)[1]
    )
    example = example.split("```", 1)[0]
    options = RenderOptions(
        store_url=URL("https://shop.example.com"), timezone=ZoneInfo("America/New_York")
    )
    payload = parse_payload("order.created", (SAMPLES_DIR / "order.json").read_bytes())
    rendered = Renderer(options).render(payload, 1, now=NOW)
    [[button]] = json.loads(rendered.reply_markup or "")["inline_keyboard"]
    shown = visible_text(rendered.parts[0]).replace("\u202f", " ")
    assert example == f"{shown}\n[ {button['text']} ]\n"


# --- several stores -------------------------------------------------------------------------


def two_stores() -> Renderer:
    return Renderer(
        RenderOptions(
            store_url=URL("https://default.example.com"),
            store_urls={"shop-vn": URL("https://shop.example.vn"), "shop-br": None},
        )
    )


def render_store(renderer: Renderer, store: str | None, data: Any | None = None) -> Any:
    payload = parse_payload("order.created", json.dumps(data or fixture("order")).encode())
    return renderer.render(payload, 7, now=NOW, store=store)


def test_each_store_links_to_its_own_admin_and_names_itself() -> None:
    renderer = two_stores()
    vn = render_store(renderer, "shop-vn")
    assert vn.parts[0].startswith("[shop-vn] 🛒 ")
    [[button]] = json.loads(vn.reply_markup)["inline_keyboard"]
    assert button["url"] == "https://shop.example.vn/wp-admin/post.php?post=727&action=edit"
    br = render_store(renderer, "shop-br")
    assert br.parts[0].startswith("[shop-br] 🛒 ")
    assert br.reply_markup is None  # shop-br has no store_url; never another store's link


def test_a_store_no_longer_configured_gets_no_link() -> None:
    rendered = render_store(two_stores(), "closed-shop")
    assert rendered.reply_markup is None
    assert rendered.parts[0].startswith("[closed-shop] ")


def test_a_single_store_adds_no_name() -> None:
    renderer = Renderer(RenderOptions(store_urls={"default": URL("https://shop.example.com")}))
    rendered = render_store(renderer, "default")
    assert rendered.parts[0].startswith("🛒 ")
    [[button]] = json.loads(rendered.reply_markup)["inline_keyboard"]
    assert button["url"].startswith("https://shop.example.com/wp-admin/")
    # Without a store (woo-bridge render), the options' own store URL is used.
    alone = Renderer(RenderOptions(store_url=URL("https://x.example.com")))
    assert "https://x.example.com/wp-admin/" in render_store(alone, None).reply_markup


def test_the_store_name_counts_toward_the_length_of_a_message() -> None:
    renderer = two_stores()
    renderer.compile_all()
    rendered = render_store(renderer, "shop-vn", long_order(300))
    [text] = rendered.parts
    assert text.startswith("[shop-vn] ")
    validate(text, max_length=MAX_MESSAGE_LENGTH)


def test_templates_receive_the_store_name(tmp_path: Path) -> None:
    (tmp_path / "order.created.html").write_text("Order from {{ store }}")
    renderer = Renderer(RenderOptions(override_dir=tmp_path, store_urls={"shop-vn": None}))
    assert render_store(renderer, "shop-vn").parts == ("Order from shop-vn",)

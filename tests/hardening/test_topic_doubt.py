"""WooCommerce signs the body, not the topic header: a body that does not fit its topic
is sent with a warning instead of being taken at the header's word."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.fakes.telegram import FakeTelegram
from tests.helpers import db_rows, deliver, eventually, order_body, wire

WARNING = "⚠️ <i>The topic"


async def sent_for(client: TestClient, fake: FakeTelegram, topic: str, body: bytes) -> str:
    before = len(fake.sent)
    assert (await deliver(client, topic, body)).status == 200
    await eventually(lambda: len(fake.sent) == before + 1)
    return fake.sent[-1].text


async def test_a_full_order_under_a_deletion_topic_is_flagged(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    text = await sent_for(bridge, fake_telegram, "order.deleted", order_body(saved=1))
    assert text.startswith(
        "⚠️ <i>The topic order.deleted is doubtful: WooCommerce sends only the id for a"
        " deletion, but this body is a full order.</i>\n"
    )
    [(note,)] = db_rows(bridge, "SELECT note FROM events")
    assert note.startswith("doubtful topic: WooCommerce sends only the id")


async def test_a_body_of_another_resource_is_flagged(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    text = await sent_for(bridge, fake_telegram, "product.updated", order_body(saved=2))
    assert "The topic product.updated is doubtful: the body is an order, not a product." in text
    text = await sent_for(bridge, fake_telegram, "order.restored", b'{"id":727}')
    assert "WooCommerce sends the full order here, but this body has only its id" in text


async def test_bodies_as_woocommerce_sends_them_carry_no_warning(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    for topic, body in [
        ("order.deleted", b'{"id":727}'),
        ("order.restored", wire("order")),
        ("product.updated", wire("product")),
        ("coupon.created", wire("coupon")),
        ("customer.updated", wire("customer")),
    ]:
        assert WARNING not in await sent_for(bridge, fake_telegram, topic, body)

"""Notes by reply, /note customer with its confirmation, /order and /orders, end to end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestClient

from bridge.bot.commands import COMMANDS
from bridge.bot.menu import DESCRIPTIONS
from tests.actions.conftest import STAFF, STRANGER, order_message
from tests.actions.test_status_buttons import with_actions
from tests.fakes.clock import ShiftedClock
from tests.fakes.telegram import FakeTelegram, SentMessage
from tests.fakes.woocommerce import FakeStore
from tests.helpers import ORDERS_CHAT, button_data, eventually, write_routes
from tests.helpers import replies as all_replies
from tests.recovery.conftest import gmt, shop_order

OpenShop = Callable[..., Awaitable[TestClient]]


async def replies(fake: FakeTelegram, chat_id: int, count: int) -> list[SentMessage]:
    """The bot's answers in `chat_id`, new-order messages (🛒) left out, once there are `count`."""

    def answers() -> list[SentMessage]:
        return [m for m in fake.messages_to(chat_id) if not m.text.startswith("🛒")]

    await all_replies(fake, chat_id, 0)
    await eventually(lambda: len(answers()) >= count)
    return answers()


async def test_a_reply_to_an_order_message_becomes_a_private_note(
    open_shop: OpenShop, fake_shop: FakeStore, fake_telegram: FakeTelegram
) -> None:
    bridge = await open_shop()
    _, [group, _] = await order_message(bridge, fake_shop, fake_telegram)

    fake_telegram.send_command(
        "Customer called: leave it at the door", chat_id=ORDERS_CHAT, user_id=STAFF, reply_to=group
    )

    [answer] = await replies(fake_telegram, ORDERS_CHAT, 1)
    assert answer.text == "📝 Private note added to order #1001."
    [note] = fake_shop.notes[1001]
    assert note["note"].startswith("Customer called: leave it at the door")
    assert "Staff" in note["note"]
    assert note["customer_note"] is False
    assert bridge is not None


async def test_someone_not_on_the_staff_cannot_add_notes(
    open_shop: OpenShop, fake_shop: FakeStore, fake_telegram: FakeTelegram
) -> None:
    bridge = await open_shop()
    _, [group, _] = await order_message(bridge, fake_shop, fake_telegram)

    fake_telegram.send_command("hello", chat_id=ORDERS_CHAT, user_id=STRANGER, reply_to=group)

    [answer] = await replies(fake_telegram, ORDERS_CHAT, 1)
    assert str(STRANGER) in answer.text
    assert fake_shop.notes == {}
    assert bridge is not None


async def test_a_customer_note_waits_for_its_authors_confirmation(
    open_shop: OpenShop, fake_shop: FakeStore, fake_telegram: FakeTelegram
) -> None:
    clock = ShiftedClock()
    bridge = await open_shop(clock=clock, bridge_order_confirm_seconds=30)
    _, [group, _] = await order_message(bridge, fake_shop, fake_telegram)

    fake_telegram.send_command(
        "/note customer Your parcel left today", chat_id=ORDERS_CHAT, user_id=STAFF, reply_to=group
    )
    [prompt] = await replies(fake_telegram, ORDERS_CHAT, 1)
    assert "e-mail this note to the customer of order #1001" in prompt.text
    assert fake_shop.notes == {}
    send = button_data(prompt, "Send to the customer")

    fake_telegram.press_button(prompt, send, user_id=42)  # not its author
    await eventually(lambda: len(fake_telegram.callback_answers) == 1)
    assert fake_shop.notes == {}
    clock.advance(31)
    fake_telegram.press_button(prompt, send, user_id=STAFF)  # too late
    await eventually(lambda: len(fake_telegram.callback_answers) == 2)
    assert "Too late" in fake_telegram.callback_answers[1]["text"]
    assert fake_shop.notes == {}

    fake_telegram.send_command(
        "/note customer Your parcel left today", chat_id=ORDERS_CHAT, user_id=STAFF, reply_to=group
    )
    [_, again] = await replies(fake_telegram, ORDERS_CHAT, 2)
    fake_telegram.press_button(again, button_data(again, "Send to the customer"), user_id=STAFF)
    await eventually(lambda: 1001 in fake_shop.notes)
    [note] = fake_shop.notes[1001]
    assert note == {"id": 1, "note": "Your parcel left today", "customer_note": True}
    assert bridge is not None


async def test_order_shows_the_current_card_with_working_buttons(
    open_shop: OpenShop, fake_shop: FakeStore, fake_telegram: FakeTelegram
) -> None:
    bridge = await open_shop()
    fake_shop.put_order(shop_order(1500, "on-hold", modified=gmt(60)))

    fake_telegram.send_command("/order 1500", chat_id=ORDERS_CHAT, user_id=STAFF)

    [card] = await replies(fake_telegram, ORDERS_CHAT, 1)
    assert "1500" in card.text
    assert "On hold" in card.text
    fake_telegram.press_button(card, button_data(card, "Processing"), user_id=STAFF)
    await eventually(lambda: len(fake_telegram.callback_answers) == 1)
    assert fake_telegram.callback_answers[0]["text"] == "Order #1500 is now Processing."
    assert fake_shop.orders[1500]["status"] == "processing"
    await eventually(lambda: len(fake_telegram.edits) == 1)
    assert bridge is not None


async def test_orders_lists_the_latest_in_a_status(
    open_shop: OpenShop, fake_shop: FakeStore, fake_telegram: FakeTelegram
) -> None:
    bridge = await open_shop()
    for number in range(2001, 2014):
        fake_shop.put_order(shop_order(number, "processing", modified=gmt(100 - number % 100)))
    fake_shop.put_order(shop_order(2100, "on-hold"))

    fake_telegram.send_command("/orders", chat_id=ORDERS_CHAT, user_id=STAFF)
    [listing] = await replies(fake_telegram, ORDERS_CHAT, 1)
    lines = [line for line in listing.text.splitlines() if line.startswith("#")]
    assert len(lines) == 10
    assert "#2100" not in listing.text
    assert "/order NUMBER" in listing.text

    fake_telegram.send_command("/orders on-hold", chat_id=ORDERS_CHAT, user_id=STAFF)
    [_, held] = await replies(fake_telegram, ORDERS_CHAT, 2)
    assert "#2100" in held.text
    assert "On hold" in held.text
    assert bridge is not None


async def test_the_command_menu_is_registered_in_each_language(
    open_shop: OpenShop, fake_telegram: FakeTelegram
) -> None:
    await open_shop()
    await eventually(lambda: {"", "vi", "pt"} <= set(fake_telegram.menus))

    english = {c["command"]: c["description"] for c in fake_telegram.menus[""]}
    for code in ("vi", "pt"):
        menu = {c["command"]: c["description"] for c in fake_telegram.menus[code]}
        assert menu.keys() == english.keys()
        assert {"order", "orders", "note"} <= menu.keys()
        assert all(menu[name] != english[name] for name in menu)  # every one translated
    assert fake_telegram.menus["vi"][0]["description"] == "Bot này làm gì, và ID của nhóm này"


def test_every_menu_description_is_marked_for_translation() -> None:
    assert {c.description for c in COMMANDS} <= set(DESCRIPTIONS)


async def test_replies_speak_the_chats_language(
    open_shop: OpenShop, fake_shop: FakeStore, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    routes = write_routes(tmp_path, with_actions('language = "pt_BR"'))
    bridge = await open_shop(bridge_config=routes)
    _, [group, _] = await order_message(bridge, fake_shop, fake_telegram)

    fake_telegram.send_command("Embalado", chat_id=ORDERS_CHAT, user_id=STAFF, reply_to=group)
    fake_telegram.send_command("/orders", chat_id=ORDERS_CHAT, user_id=STAFF)

    [noted, listing] = await replies(fake_telegram, ORDERS_CHAT, 2)
    assert noted.text == "📝 Nota privada adicionada ao pedido #1001."
    assert listing.text.startswith("<b>Pedidos mais recentes: Processando</b>")
    assert "Abra um com /order NÚMERO." in listing.text

"""The setup check against the fake Bot API and the fake REST store: every finding."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from telegram import Bot

from bridge.bot.reach import Reach
from bridge.recovery.watchdog import WATCHED_TOPICS
from bridge.setup_check.findings import Finding, Level
from bridge.setup_check.runner import SetupTargets, run_check
from bridge.setup_check.store_check import StoreAccess, check_store
from bridge.setup_check.telegram_check import Place, check_telegram
from tests.fakes.telegram import FakeChat, FakeTelegram
from tests.fakes.woocommerce import FakeStore

PUBLIC = "https://bridge.example.com/webhook"
GROUP, FORUM, CHANNEL = -1001, -1002, -1003


@pytest.fixture
async def bot(telegram: tuple[FakeTelegram, TestServer]) -> AsyncIterator[Bot]:
    fake, server = telegram
    client = Bot(fake.token, base_url=f"{str(server.make_url('')).rstrip('/')}/bot")
    yield client
    await client.shutdown()


@pytest.fixture
def reach(telegram: tuple[FakeTelegram, TestServer]) -> Reach:
    return Reach(str(telegram[1].make_url("")).rstrip("/"))


def access(shop: tuple[FakeStore, TestServer], **changes: Any) -> StoreAccess:
    store, server = shop
    values: dict[str, Any] = {
        "name": "default",
        "store_url": str(server.make_url("")).rstrip("/"),
        "consumer_key": store.consumer_key,
        "consumer_secret": store.consumer_secret,
        "delivery_url": PUBLIC,
        "expected_topics": WATCHED_TOPICS,
    }
    values.update(changes)
    return StoreAccess(**values)


def at(level: Level, findings: Sequence[Finding]) -> list[str]:
    return [f.text for f in findings if f.level is level]


def place(chat_id: int, thread_id: int | None = None) -> Place:
    return Place(chat_id, thread_id, 'route "staff"')


# --- Telegram ---------------------------------------------------------------------------


async def test_all_is_well_with_a_good_token_and_a_group(
    bot: Bot, reach: Reach, fake_telegram: FakeTelegram
) -> None:
    findings = await check_telegram(bot, [place(GROUP)], reach)
    assert at(Level.ERROR, findings) == at(Level.WARNING, findings) == []
    assert at(Level.OK, findings) == [
        "TELEGRAM_BOT_TOKEN works: the bot is @shop_bridge_bot",
        f'chat {GROUP} "Shop staff" (route "staff"): the bot can post (group)',
    ]
    assert fake_telegram.sent == []  # nothing is posted without --send-test


async def test_a_wrong_token_is_one_clear_line(
    telegram: tuple[FakeTelegram, TestServer], reach: Reach
) -> None:
    server = telegram[1]
    wrong = Bot("999:WRONG-TOKEN-VALUE", base_url=f"{str(server.make_url('')).rstrip('/')}/bot")
    findings = await check_telegram(wrong, [place(GROUP)], reach)
    assert len(findings) == 1
    assert findings[0].level is Level.ERROR
    assert "rejected TELEGRAM_BOT_TOKEN" in findings[0].text
    assert "WRONG-TOKEN" not in findings[0].text


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda f: f.missing_chats.add(GROUP), "Telegram knows no such chat for this bot"),
        (lambda f: f.forbidden_chats.add(GROUP), "the bot was removed from the chat"),
        (
            lambda f: f.migrated_chats.update({GROUP: -1009}),
            "became the supergroup -1009: set chat_id = -1009",
        ),
        (
            lambda f: f.chats.update({GROUP: FakeChat(member={"status": "left"})}),
            "the bot is not a member (left)",
        ),
        (
            lambda f: f.chats.update({GROUP: FakeChat(member={"status": "kicked"})}),
            "the bot is not a member (kicked)",
        ),
        (
            lambda f: f.chats.update(
                {
                    GROUP: FakeChat(
                        type="supergroup",
                        member={"status": "restricted", "can_send_messages": False},
                    )
                }
            ),
            "the bot is restricted and may not send messages",
        ),
        (
            lambda f: f.chats.update(
                {GROUP: FakeChat(type="channel", member={"status": "member"})}
            ),
            'is a channel: make the bot an administrator with "Post messages"',
        ),
    ],
)
async def test_each_chat_problem_says_what_to_do(
    bot: Bot, reach: Reach, fake_telegram: FakeTelegram, setup: Any, expected: str
) -> None:
    setup(fake_telegram)
    findings = await check_telegram(bot, [place(GROUP)], reach)
    [problem] = at(Level.ERROR, findings)
    assert f"chat {GROUP}" in problem
    assert expected in problem


async def test_a_channel_admin_that_may_post_passes(
    bot: Bot, reach: Reach, fake_telegram: FakeTelegram
) -> None:
    admin = {"status": "administrator", "can_post_messages": True}
    fake_telegram.chats[CHANNEL] = FakeChat(type="channel", title="News", member=admin)
    findings = await check_telegram(bot, [place(CHANNEL)], reach)
    assert at(Level.ERROR, findings) == []
    assert f'chat {CHANNEL} "News" (route "staff"): the bot can post (channel)' in findings[-1].text


async def test_forum_topics(bot: Bot, reach: Reach, fake_telegram: FakeTelegram) -> None:
    fake_telegram.chats[FORUM] = FakeChat(type="supergroup", is_forum=True, threads={7})
    # A topic in a group without topics is a mistake anyone can see.
    findings = await check_telegram(bot, [place(GROUP, 7)], reach)
    assert "is not a forum, so it has no topic 7: remove thread_id" in at(Level.ERROR, findings)[0]
    # Whether a topic exists, only a message can tell.
    findings = await check_telegram(bot, [place(FORUM, 7)], reach)
    assert "run woo-bridge check --online --send-test" in at(Level.WARNING, findings)[0]
    findings = await check_telegram(bot, [place(FORUM, 7), place(FORUM, 8)], reach, send_test=True)
    assert any(f.endswith("topic 7: test message sent") for f in at(Level.OK, findings))
    [missing] = at(Level.ERROR, findings)
    assert "topic 8 does not exist; send /start in the topic" in missing
    [sent] = fake_telegram.sent
    assert (sent.chat_id, sent.thread_id, sent.silent) == (FORUM, 7, True)
    assert 'this chat receives route "staff"' in sent.text


async def test_send_test_posts_once_to_each_chat(
    bot: Bot, reach: Reach, fake_telegram: FakeTelegram
) -> None:
    places = [place(GROUP), Place(-1005, None, "TELEGRAM_ALERT_CHAT_ID")]
    findings = await check_telegram(bot, places, reach, send_test=True)
    assert at(Level.ERROR, findings) == []
    assert [m.chat_id for m in fake_telegram.sent] == [GROUP, -1005]


async def test_telegram_unreachable_is_one_line(reach: Reach, unused_tcp_port: int) -> None:
    away = Bot("1:T", base_url=f"http://127.0.0.1:{unused_tcp_port}/bot")
    try:
        findings = await check_telegram(away, [place(GROUP)], reach)
    finally:
        await away.shutdown()
    [finding] = findings
    assert finding.level is Level.ERROR
    assert "Telegram unreachable" in finding.text


# --- the store ----------------------------------------------------------------------------


async def store_findings(store: StoreAccess) -> list[Finding]:
    async with aiohttp.ClientSession() as session:
        return await check_store(session, store)


async def test_a_store_that_is_well(shop: tuple[FakeStore, TestServer]) -> None:
    fake = shop[0]
    for topic in WATCHED_TOPICS:
        fake.add_webhook(topic, PUBLIC)
    fake.add_webhook("order.created", "https://elsewhere.example/hook", status="disabled")
    findings = await store_findings(access(shop))
    assert at(Level.ERROR, findings) == at(Level.WARNING, findings) == []
    oks = "\n".join(at(Level.OK, findings))
    assert "the REST API key works" in oks
    assert "the REST API key may read and write" in oks
    assert f"active webhooks deliver here: {', '.join(sorted(WATCHED_TOPICS))}" in oks
    assert "WooCommerce 9.4.2" in oks
    assert fake.webhooks[len(WATCHED_TOPICS) + 1].status == "disabled"  # not ours: untouched
    assert all(w.status == "active" for w in list(fake.webhooks.values())[:5])


async def test_a_refused_key(shop: tuple[FakeStore, TestServer]) -> None:
    findings = await store_findings(access(shop, consumer_secret="cs_" + "0" * 40))
    [problem] = findings
    assert problem.level is Level.ERROR
    assert "the REST API key was refused" in problem.text
    assert "WooCommerce > Settings > Advanced > REST API" in problem.text
    assert "cs_000" not in problem.text


async def test_a_read_only_key(shop: tuple[FakeStore, TestServer]) -> None:
    fake = shop[0]
    fake.permissions = "read"
    for topic in WATCHED_TOPICS:
        fake.add_webhook(topic, PUBLIC)
    findings = await store_findings(access(shop))
    [warning] = at(Level.WARNING, findings)
    assert "Read only" in warning
    assert "give the key Read/Write" in warning
    assert fake.webhooks[1].status == "active"


async def test_webhooks_disabled_paused_and_missing(shop: tuple[FakeStore, TestServer]) -> None:
    fake = shop[0]
    fake.add_webhook("order.created", PUBLIC, status="disabled")
    fake.add_webhook("order.updated", PUBLIC + "/", status="paused")
    fake.add_webhook("product.updated", PUBLIC)
    findings = await store_findings(
        access(shop, expected_topics=("order.created", "order.updated", "product.updated"))
    )
    errors = at(Level.ERROR, findings)
    assert any(
        "webhook #1 (order.created) is disabled" in e and "set it Active" in e for e in errors
    )
    assert any("expect order.created, but no active webhook delivers it" in e for e in errors)
    assert any("expect order.updated" in e for e in errors)
    [paused] = at(Level.WARNING, findings)
    assert "webhook #2 (order.updated) is paused" in paused
    assert any("active webhooks deliver here: product.updated" in f for f in at(Level.OK, findings))


async def test_no_webhook_at_all_and_no_public_url(shop: tuple[FakeStore, TestServer]) -> None:
    findings = await store_findings(access(shop, expected_topics=()))
    assert any("no webhook delivers to" in e for e in at(Level.ERROR, findings))
    findings = await store_findings(access(shop, delivery_url=None))
    assert any("BRIDGE_PUBLIC_URL is not set" in w for w in at(Level.WARNING, findings))


async def test_a_store_behind_a_firewall(shop: tuple[FakeStore, TestServer]) -> None:
    shop[0].fail_status, shop[0].fail_html = 403, True
    [problem] = await store_findings(access(shop))
    assert problem.level is Level.ERROR
    assert "HTML page" in problem.text


async def test_run_check_asks_telegram_then_each_store(
    bot: Bot, reach: Reach, shop: tuple[FakeStore, TestServer]
) -> None:
    for topic in WATCHED_TOPICS:
        shop[0].add_webhook(topic, PUBLIC)
    targets = SetupTargets((place(GROUP),), (access(shop),))
    findings = await run_check(bot, targets, reach)
    assert findings[0].text.startswith("TELEGRAM_BOT_TOKEN works")
    assert "WooCommerce 9.4.2" in findings[-1].text
    assert all(f.level is Level.OK for f in findings)

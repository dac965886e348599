"""JSON log lines of the running bridge carry structured fields, never a customer's data,
and the secret filter scrubs those fields too."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bridge.logs import FIELDS, setup_logging
from bridge.redact import Secrets
from tests.fakes.telegram import FakeTelegram, Reply
from tests.helpers import CHAT_ID, deliver, eventually, wire

# What the order sample holds about its customer: none of it may reach a log line.
CUSTOMER_DATA = ("John", "Doe", "john.doe@example.com", "969 Market", "555-5555", "94103")


@pytest.fixture
def json_logs() -> Iterator[list[dict[str, Any]]]:
    """Where `_read` puts the JSON log lines; the logging set up by `_json_logging` undone."""
    root, own = logging.getLogger(), logging.getLogger("bridge")
    handlers, level, own_level = root.handlers[:], root.level, own.level
    lines: list[dict[str, Any]] = []
    yield lines
    root.handlers[:] = handlers
    root.setLevel(level)
    own.setLevel(own_level)


def _json_logging(secrets: Secrets | None = None) -> None:
    """JSON lines as `serve` sets them up, the bridge's own at DEBUG, libraries' at INFO.

    Called in the test itself: the handler writes to the stderr pytest captures there.
    """
    setup_logging("INFO", "json", secrets)
    logging.getLogger("bridge").setLevel(logging.DEBUG)


def _read(capsys: pytest.CaptureFixture[str], lines: list[dict[str, Any]]) -> str:
    written = capsys.readouterr().err
    # every line is one JSON object, whoever wrote it
    lines.extend(json.loads(line) for line in written.splitlines())
    return written


async def test_a_relayed_order_logs_its_fields_and_no_customer_data(
    bridge: TestClient,
    fake_telegram: FakeTelegram,
    json_logs: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _json_logging()
    fake_telegram.script("sendMessage", Reply(status=502, description="Bad Gateway"))
    response = await deliver(bridge, "order.created", wire("order"))
    event_id = (await response.json())["event"]
    await fake_telegram.wait_for_messages(1)

    def sent_logged() -> bool:
        _read(capsys, json_logs)
        return any(line.get("duration_ms") is not None for line in json_logs)

    await eventually(sent_logged)
    written = json.dumps(json_logs, ensure_ascii=False)
    for fact in CUSTOMER_DATA:
        assert fact not in written

    [accepted] = [line for line in json_logs if line["message"].startswith("accepted ")]
    assert accepted["store"] == "default"
    assert accepted["topic"] == "order.created"
    assert accepted["event_id"] == event_id

    [retry] = [line for line in json_logs if "retrying in" in line["message"]]
    assert retry["level"] == "WARNING"
    message_id = retry["message_id"]
    assert isinstance(message_id, int)
    assert (retry["chat_id"], retry["attempt"], retry["event_id"], retry["topic"]) == (
        CHAT_ID,
        1,
        event_id,
        "order.created",
    )

    [sent] = [line for line in json_logs if line.get("duration_ms") is not None]
    assert sent["logger"] == "bridge.send.sender"
    assert (sent["message_id"], sent["chat_id"], sent["attempt"]) == (message_id, CHAT_ID, 2)
    assert isinstance(sent["duration_ms"], float)
    assert sent["duration_ms"] >= 0
    # the fields come in one order, after the message
    keys = list(sent)
    assert keys[:4] == ["time", "level", "logger", "message"]
    assert keys[4:] == [name for name in FIELDS if name in sent]


async def test_a_repeated_delivery_logs_its_store_topic_and_event(
    bridge: TestClient,
    fake_telegram: FakeTelegram,
    json_logs: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _json_logging()
    first = await deliver(bridge, "order.created", wire("order"))
    again = await deliver(bridge, "order.created", wire("order"))
    assert (await again.json())["status"] == "duplicate"
    _read(capsys, json_logs)
    [repeat] = [line for line in json_logs if "nothing new" in line["message"]]
    assert (repeat["store"], repeat["topic"], repeat["event_id"]) == (
        "default",
        "order.created",
        (await first.json())["event"],
    )


def test_string_fields_are_scrubbed_of_secrets(
    json_logs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "field-secret-0042-xyz"
    secrets = Secrets()
    secrets.add(secret)
    _json_logging(secrets)
    logging.getLogger("bridge.test").warning(
        "a record with fields",
        extra={"store": f"shop {secret}", "topic": "bot123:ABC-def/getMe", "chat_id": 7},
    )
    written = _read(capsys, json_logs)
    assert secret not in written
    [line] = json_logs
    assert line["store"] == "shop ****"
    assert line["topic"] == "bot123:****/getMe"
    assert line["chat_id"] == 7


def test_plain_lines_stay_as_they_were(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        setup_logging("INFO", "plain")
        logging.getLogger("bridge.test").info("sent it", extra={"chat_id": 7})
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    [line] = capsys.readouterr().err.splitlines()
    assert line.endswith("INFO    bridge.test: sent it")

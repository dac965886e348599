"""Money, numbers, dates and names for the reader's language, with Babel."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from babel import Locale

from bridge.render.formatting import Formatter, parse_moment, to_decimal
from bridge.render.labels import ORDER_STATUSES

NBSP = "\xa0"
NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def fmt(language: str = "en", zone: str = "UTC", currency: str | None = None) -> Formatter:
    return Formatter(Locale.parse(language), ZoneInfo(zone), store_currency=currency, now=NOW)


@pytest.mark.parametrize(
    ("language", "amount", "currency", "expected"),
    [
        ("vi", "1250000", "VND", f"1.250.000{NBSP}₫"),
        ("vi", "1250000.40", "VND", f"1.250.000{NBSP}₫"),  # VND has no minor unit
        ("pt_BR", "1234.56", "BRL", f"R${NBSP}1.234,56"),
        ("en", "1234.56", "USD", "$1,234.56"),
        ("en", "29.35", "usd", "$29.35"),
        ("en", 3, "USD", "$3.00"),  # line item prices are JSON numbers
        ("en", 12.5, "USD", "$12.50"),
        ("vi", "29.35", "USD", f"29,35{NBSP}US$"),
        ("pt_BR", "1250000", "VND", f"₫{NBSP}1.250.000"),
    ],
)
def test_money_follows_currency_and_language(
    language: str, amount: object, currency: str, expected: str
) -> None:
    assert fmt(language).money(amount, currency) == expected


def test_amounts_are_read_as_decimals_not_floats() -> None:
    # As a float 2.675 is 2.67499999…; the store meant 2.675, which rounds half-even to 2.68.
    assert fmt().money("2.675", "USD") == "$2.68"
    assert to_decimal("0.1") + to_decimal("0.2") == to_decimal("0.3")  # type: ignore[operator]


@pytest.mark.parametrize("value", [None, "", "abc", "NaN", "Infinity", [], {}, True])
def test_anything_but_a_finite_number_is_not_an_amount(value: object) -> None:
    assert to_decimal(value) is None


def test_money_without_a_number_shows_what_the_store_sent() -> None:
    assert fmt().money("free", "USD") == "free"
    assert fmt().money(None, "USD") == ""
    assert fmt().money(["1"], "USD") == ""


def test_money_without_a_currency_uses_the_store_currency_or_the_number_alone() -> None:
    assert fmt("vi", currency="VND").money("1250000") == f"1.250.000{NBSP}₫"
    assert fmt("pt_BR").money("1234.5") == "1.234,50"
    assert fmt("en").money("100.00") == "100"
    assert fmt("en").money("5", "not a code") == "5 NOT A CODE"


def test_numbers_and_percentages_follow_the_language() -> None:
    assert fmt("vi").number(1250) == "1.250"
    assert fmt("en").number("x") == ""
    assert fmt("pt_BR").percent("12.5") == "12,5%"
    assert fmt("en").percent("10.00") == "10%"


def test_payload_dates_prefer_gmt_and_show_in_the_configured_zone() -> None:
    data = {"date_created": "2017-03-22T16:28:02", "date_created_gmt": "2017-03-22T19:28:02"}
    saigon = fmt("vi", "Asia/Ho_Chi_Minh")
    moment = saigon.moment(data, "date_created")
    assert moment == dt.datetime(2017, 3, 22, 19, 28, 2, tzinfo=dt.UTC)
    assert saigon.datetime(moment) == "02:28 23 thg 3, 2017"  # UTC+7, the next day
    assert fmt("en").datetime(moment) == "Mar 22, 2017, 7:28\u202fPM"
    assert fmt("pt_BR", "America/Sao_Paulo").datetime(moment) == "22 de mar. de 2017 16:28"


def test_a_date_without_gmt_is_store_local_time() -> None:
    saigon = fmt("en", "Asia/Ho_Chi_Minh")
    moment = saigon.moment({"date_created": "2024-05-01T09:00:00"}, "date_created")
    assert moment == dt.datetime(2024, 5, 1, 2, 0, tzinfo=dt.UTC)
    assert saigon.datetime(moment) == "May 1, 2024, 9:00\u202fAM"


@pytest.mark.parametrize("value", [None, "", "yesterday", 1700000000, "2017-13-45T00:00:00"])
def test_unreadable_dates_show_nothing(value: object) -> None:
    assert parse_moment(value, dt.UTC) is None
    assert fmt().datetime(fmt().moment({"date_created": value}, "date_created")) == ""


@pytest.mark.parametrize(
    ("language", "age", "expected"),
    [
        ("en", dt.timedelta(minutes=3), "3 minutes ago"),
        ("vi", dt.timedelta(minutes=3), "3 phút trước"),
        ("pt_BR", dt.timedelta(hours=5), "há 5 horas"),
        ("en", dt.timedelta(seconds=20), "just now"),
        ("en", dt.timedelta(hours=-2), ""),  # a clock is wrong somewhere
    ],
)
def test_how_long_ago(language: str, age: dt.timedelta, expected: str) -> None:
    assert fmt(language).ago(NOW - age) == expected


def test_countries_and_statuses_have_names() -> None:
    assert fmt("vi").country("VN") == "Việt Nam"
    assert fmt("pt_BR").country("us") == "Estados Unidos"
    assert fmt("en").country("XX") == "XX"
    assert fmt("en").label(ORDER_STATUSES, "on-hold") == "On hold"
    assert fmt("en").label(ORDER_STATUSES, "wc-ready-to-ship") == "Ready to ship"
    assert fmt("en").label(ORDER_STATUSES, None) == ""

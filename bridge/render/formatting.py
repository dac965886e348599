"""Money, numbers, dates and names for one language and time zone, with Babel.

WooCommerce sends amounts as strings ("29.35") and some as JSON numbers; they are read as
Decimal, never float, so that 0.1 + 0.2 stays 0.3 and a total prints as the store computed it.
"""

from __future__ import annotations

import datetime as dt
import gettext
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import Locale
from babel.dates import format_date, format_time, format_timedelta
from babel.numbers import format_currency, format_decimal, format_percent

from bridge.render.labels import readable

_JUST_NOW = dt.timedelta(minutes=1)
_CURRENCY = re.compile("[A-Z]{3}")  # ISO 4217


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def to_decimal(value: object) -> Decimal | None:
    """An amount or quantity as Decimal; None for anything that is not a finite number."""
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        # str() first: Decimal(0.1) would carry float noise, Decimal("0.1") does not.
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_moment(text: object, zone: dt.tzinfo) -> dt.datetime | None:
    """A WooCommerce date (`2017-03-22T16:28:02`, no offset) read as a time in `zone`."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


@dataclass(frozen=True)
class Formatter:
    """Formats values for one reader: their language, the shop's time zone and currency."""

    locale: Locale
    timezone: dt.tzinfo
    translations: gettext.NullTranslations = field(default_factory=gettext.NullTranslations)
    #: the shop's currency (WOOCOMMERCE_CURRENCY), for products and coupons, which carry none
    store_currency: str | None = None
    #: the moment "ago" is counted from
    now: dt.datetime = field(default_factory=_utc_now)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def label(self, table: Mapping[str, str], code: object) -> str:
        """The translated name of a WooCommerce code, or the code made readable."""
        if not isinstance(code, str) or not code:
            return ""
        return self.gettext(table[code]) if code in table else readable(code)

    def money(self, value: object, currency: object = None) -> str:
        """`29.35` as `$29.35`, `R$ 29,35` or `29,35 US$`; VND without decimals.

        Without a currency (neither given nor WOOCOMMERCE_CURRENCY) the number alone is shown.
        """
        amount = to_decimal(value)
        if amount is None:
            return value.strip() if isinstance(value, str) else ""
        code = currency if isinstance(currency, str) and currency.strip() else self.store_currency
        code = code.strip().upper() if code else ""
        if _CURRENCY.fullmatch(code):
            return format_currency(amount, code, locale=self.locale)
        pattern = "#,##0" if amount == amount.to_integral_value() else "#,##0.00"
        number = format_decimal(amount, format=pattern, locale=self.locale)
        return f"{number} {code}" if code else number

    def number(self, value: object) -> str:
        """A count or quantity, grouped for the language (`1.250` in vi); "" if not a number."""
        amount = to_decimal(value)
        return "" if amount is None else format_decimal(amount, locale=self.locale)

    def percent(self, value: object) -> str:
        """`10.00` (a coupon's percentage) as `10%`."""
        amount = to_decimal(value)
        if amount is None:
            return ""
        # The language's pattern has no decimals; a 12.5% coupon must not show as 12%.
        return format_percent(amount / 100, locale=self.locale, decimal_quantization=False)

    def moment(self, data: Mapping[str, Any], name: str) -> dt.datetime | None:
        """The date `name` of a payload: `<name>_gmt` when present (UTC), else `<name>`, which
        WooCommerce gives in the store's time zone, taken to be BRIDGE_TIMEZONE."""
        return parse_moment(data.get(f"{name}_gmt"), dt.UTC) or parse_moment(
            data.get(name), self.timezone
        )

    def datetime(self, moment: dt.datetime | None) -> str:
        """Date and time without seconds in BRIDGE_TIMEZONE: `Mar 22, 2017, 7:28 PM`."""
        if moment is None:
            return ""
        local = moment.astimezone(self.timezone)
        date = format_date(local, "medium", locale=self.locale)
        time = format_time(local, "short", locale=self.locale)
        # The language's own way of joining a date and a time ("{1}, {0}" in English).
        glue = str(self.locale.datetime_formats["medium"]).replace("'", "")
        return glue.replace("{1}", date).replace("{0}", time)

    def date(self, moment: dt.datetime | None) -> str:
        """The date alone, in BRIDGE_TIMEZONE: `Jan 5, 2025`."""
        if moment is None:
            return ""
        return format_date(moment.astimezone(self.timezone), "medium", locale=self.locale)

    def ago(self, moment: dt.datetime | None) -> str:
        """How long ago `moment` was: `3 minutes ago`, `há 3 minutos`, `3 phút trước`."""
        if moment is None:
            return ""
        age = self.now - moment
        if age < -_JUST_NOW:
            return ""  # in the future: a clock is wrong somewhere, and "in 3 hours" would mislead
        if age < _JUST_NOW:
            return self.gettext("just now")
        return format_timedelta(-age, add_direction=True, locale=self.locale)

    def country(self, code: object) -> str:
        """A country's name in the reader's language: `US` -> `Hoa Kỳ` in vi."""
        if not isinstance(code, str) or not code.strip():
            return ""
        return str(self.locale.territories.get(code.strip().upper(), code.strip()))

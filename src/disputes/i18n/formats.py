"""Times and money as each language writes them (Babel's CLDR data): ``¥80.00`` in zh-CN."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from babel.dates import format_datetime
from babel.numbers import format_currency
from babel.units import format_unit

from disputes.i18n.language import locale_name

_PATTERNS = {"en": "d MMM y, HH:mm zzz", "zh-CN": "y年M月d日 HH:mm zzz"}


def money(amount: Decimal | str, currency: str, language: str) -> str:
    """``amount`` of ``currency`` in the language's currency format (``¥80.00``, ``CN¥80.00`` in en)."""
    return format_currency(Decimal(amount), currency, locale=locale_name(language))


def moment(at: datetime, language: str, zone: tzinfo) -> str:
    """A time for people, in the policy's time zone (``22 Nov 2026, 17:00 GMT+8``)."""
    return format_datetime(at.astimezone(zone), _PATTERNS[language], locale=locale_name(language))


def duration_words(window: timedelta, language: str) -> str:
    """``48 hours``, ``7天``: whole days from three days up, else hours, minutes or seconds (Babel's units)."""
    seconds = int(window.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and (unit != "day" or seconds >= 3 * size):
            return format_unit(seconds // size, f"duration-{unit}", locale=locale_name(language))
    return format_unit(seconds, "duration-second", locale=locale_name(language))

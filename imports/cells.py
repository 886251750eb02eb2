"""Reading one cell as its column's type, exactly: amounts, dates, whole numbers, rates, text.

Every parser takes whatever the reader produced (text from CSV; str, int, float, bool, date or
datetime from a workbook) and returns the value or raises `CellError` with a message saying
what to write instead. Nothing else may escape: the fuzz tests feed them arbitrary values.

Excel keeps numbers as binary doubles, so a numeric cell is converted through its shortest
exact text (`repr`, e.g. 150000.0 → "150000.0", 1500.5 → "1500.5") and then checked like
typed text: a fractional riel (1500.5) is refused, never rounded.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from imports.problems import CellError
from ledger.money import Currency, Money, MoneyError, get_currency

__all__ = [
    "as_amount",
    "as_choice",
    "as_date",
    "as_rate",
    "as_text",
    "as_whole",
    "shown",
]

_KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
MAX_TEXT = 200
_WHOLE_LIMIT = 10.0**15  # amounts from here up are refused as far too large
# Control characters other than tab, line feed and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def shown(value: Any) -> str:
    """The value as it is reported back to the officer."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _number_text(value: Any) -> str | Decimal:
    """A workbook number as exact decimal; text is returned as typed."""
    if isinstance(value, bool):
        raise CellError(f"{value} is TRUE/FALSE, not a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CellError(f"{value} is not a number")
        return Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, (date, datetime)):
        raise CellError(f"{shown(value)} is a date, not a number")
    if isinstance(value, str):
        return value
    raise CellError(f"{value!r} is not a number")


@lru_cache(maxsize=4096)
def _whole(units: int, currency: Currency) -> Money:
    """A whole amount; Money is immutable and a file repeats its amounts, so one object each."""
    return Money.from_minor(units * 10 ** currency.digits, currency)


def as_amount(value: Any, currency: Currency | str) -> Money:
    """An exact, non-negative amount in `currency`: 150000, 150,000, '150 000 ៛', ១៥០,០០០."""
    cur = get_currency(currency)
    if value.__class__ is float and value.is_integer() and 0 < value < _WHOLE_LIMIT:
        # The common workbook cell, a whole number: exactly what the general path below
        # gives for it (a double below 2**53 is a whole number exactly), without the text.
        return _whole(int(value), cur)
    raw = _number_text(value)
    try:
        if isinstance(raw, Decimal):
            if not raw.is_finite():
                raise CellError(f"{shown(value)} is not a number")
            money = Money.parse(raw.normalize() if raw == raw.to_integral() else raw, cur)
        else:
            money = Money.parse(raw, cur)
    except MoneyError as exc:
        raise CellError(str(exc)) from exc
    except (InvalidOperation, OverflowError, ValueError, TypeError) as exc:
        raise CellError(f"{shown(value)!r} is not an amount") from exc
    if money.amount < 0:
        raise CellError(f"{shown(value)} is negative; amounts are written without a minus sign")
    if money.amount >= Decimal(10) ** 15:
        raise CellError(f"{shown(value)} is far too large for an amount")
    return money


def as_whole(value: Any, *, minimum: int = 0, maximum: int = 10**6) -> int:
    """A whole number between `minimum` and `maximum` (Khmer digits welcome)."""
    raw = _number_text(value)
    try:
        text = raw if isinstance(raw, Decimal) else raw.translate(_KHMER_DIGITS).strip()
        number = Decimal(text)
    except (InvalidOperation, ValueError) as exc:
        raise CellError(f"{shown(value)!r} is not a whole number") from exc
    if not number.is_finite() or number != number.to_integral_value():
        raise CellError(f"{shown(value)} is not a whole number")
    if not minimum <= number <= maximum:
        raise CellError(f"{shown(value)} must be between {minimum} and {maximum}")
    return int(number)


def as_rate(value: Any) -> Decimal:
    """A percentage of zero or more, e.g. 1, 1.5 or '1.5 %'."""
    raw = _number_text(value)
    try:
        text = raw if isinstance(raw, Decimal) else raw.translate(_KHMER_DIGITS).strip()
        if isinstance(text, str):
            text = text.rstrip("%").strip()
        rate = Decimal(text)
    except (InvalidOperation, ValueError) as exc:
        raise CellError(f"{shown(value)!r} is not a percentage") from exc
    if not rate.is_finite() or rate < 0 or rate > 1000:
        raise CellError(f"{shown(value)} is not a percentage between 0 and 1000")
    if rate != rate.quantize(Decimal("0.000001")):
        raise CellError(f"{shown(value)} has more than 6 decimal places")
    return rate.normalize() if rate == rate.to_integral() else rate


def _valid_date(year: int, month: int, day: int, value: Any) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise CellError(f"{shown(value)} is not a date that exists ({exc})") from exc


def as_date(value: Any) -> date:
    """A date: a date cell, 2008-03-15, or the Cambodian day-first 15/03/2008."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (bool, int, float)):
        raise CellError(f"{shown(value)} is a number, not a date: format the cell as a date or "
                        "write 2008-03-15 or 15/03/2008")
    if not isinstance(value, str):
        raise CellError(f"{value!r} is not a date")
    text = value.translate(_KHMER_DIGITS).strip()
    if (m := _ISO.match(text)) is not None:
        return _valid_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), value)
    if (m := _DMY.match(text)) is not None:
        return _valid_date(int(m.group(3)), int(m.group(2)), int(m.group(1)), value)
    raise CellError(f"{value!r} is not a date: write 2008-03-15 or 15/03/2008 (day/month/year "
                    "with a four-digit year)")


def has_control(text: str) -> bool:
    """Whether text holds a control character `as_text` refuses."""
    return _CONTROL.search(text) is not None


def as_text(value: Any, *, max_length: int = MAX_TEXT) -> str:
    """Text as typed (Khmer welcome), stripped; a number cell becomes its digits."""
    if value.__class__ is str:  # most cells: `shown` of text is the text itself
        text = value
    elif isinstance(value, bool):
        raise CellError(f"{value} is TRUE/FALSE, not text")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise CellError(f"{value} is not text")
        text = shown(value)
    elif isinstance(value, (str, int, date)):
        text = shown(value)
    else:
        raise CellError(f"{value!r} is not text")
    text = text.strip()
    if _CONTROL.search(text):
        raise CellError(f"{text!r} holds control characters")
    if len(text) > max_length:
        raise CellError(f"is {len(text)} characters long; at most {max_length}")
    return text


def as_choice(value: Any, choices: tuple[str, ...]) -> str:
    """One of `choices`, matched case-insensitively."""
    text = as_text(value).lower()
    for choice in choices:
        if text == choice.lower():
            return choice
    raise CellError(f"{shown(value)!r} is not one of: {', '.join(choices)}")

"""Turn command-line text into domain values, raising `CliError` that names the option."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar

from ledger.money import Currency, MoneyError, get_currency, parse_amount
from tui.commands.errors import CliError

E = TypeVar("E", bound=StrEnum)


def currency(option: str, text: str) -> Currency:
    """A known currency code."""
    try:
        return get_currency(text)
    except MoneyError as exc:
        raise CliError(option, str(exc)) from exc


def amount(option: str, text: str, cur: Currency, *, positive: bool = True) -> Decimal:
    """An exact amount in `cur`; fractional riel and non-numbers are refused."""
    try:
        value = parse_amount(text, cur)
    except MoneyError as exc:
        raise CliError(option, str(exc)) from exc
    if positive and value <= 0:
        raise CliError(option, f"{text!r} must be more than zero")
    if value < 0:
        raise CliError(option, f"{text!r} cannot be negative")
    return value


def rate(option: str, text: str) -> Decimal:
    """A non-negative percentage such as `1` or `1.5`."""
    try:
        value = Decimal(text.strip().rstrip("%").strip())
    except InvalidOperation as exc:
        raise CliError(option, f"{text!r} is not a number") from exc
    if not value.is_finite() or value < 0:
        raise CliError(option, f"{text!r} must be a percentage of zero or more")
    return value


def whole(option: str, text: str, *, minimum: int) -> int:
    """A whole number at least `minimum`."""
    try:
        value = int(text.strip())
    except ValueError as exc:
        raise CliError(option, f"{text!r} is not a whole number") from exc
    if value < minimum:
        raise CliError(option, f"must be at least {minimum}, not {value}")
    return value


def iso_date(option: str, text: str) -> date:
    """A date written YYYY-MM-DD."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise CliError(option, f"{text!r} is not a date (YYYY-MM-DD)") from exc


def choice(option: str, text: str, kind: type[E]) -> E:
    """One of an enumeration's values, refusing others with the list of valid ones."""
    try:
        return kind(text.strip().lower())
    except ValueError as exc:
        valid = ", ".join(m.value for m in kind)
        raise CliError(option, f"{text!r} is not one of: {valid}") from exc
